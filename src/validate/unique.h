/*
 * unique.h - keys and the compact key set behind uniqueness (private to src/validate), for
 * unique: true columns and frame-level unique sets, and the spill of keys to disk when the key
 * sets would not fit in the memory limit.
 *
 * A key is a struct vkey: 64 well-mixed bits (h) and 32 more bits (g). A value that fits in 8
 * bytes (ints, dates, timestamps, bools, floats, decimal(p <= 18)) is an exact key: h is a
 * bijective mix of its bytes and g is 0, so two values share a key only when they are equal. Any
 * other key (strings, decimal(p > 18), several columns) is a 96-bit fingerprint of its bytes: two
 * distinct keys collide with probability 2^-96 per pair (about 6e-14 for 10^8 distinct keys),
 * which then reports a false duplicate, never a missed one.
 *
 * struct kset stores keys in KSET_PARTS partitions chosen by the top KSET_PBITS bits of h (so those
 * bits are not stored), each an open-addressing table (linear probing, any capacity: the slot is a
 * fixed-point multiply of h, never a modulo) of fixed-width packed entries: the remaining 54 bits
 * of h, 32 bits of g for fingerprints, and a 34-bit tag (the line where the key was first seen,
 * times 2, plus a flag). An exact entry is 11 bytes, a fingerprint entry 15 bytes; a table sized
 * from kset_hint is at most 7/8 full, so an int64 key costs about 12.6-13.5 bytes and a string
 * key about 17-18, whatever its length; a table that outgrows its hint grows by 1.5x. Nothing is
 * allocated per key. Lines must be below 2^33 (KSET_MAX_LINE).
 *
 * A tagless set (kset_init_tagless) stores no line: its entries are the key bits and one occupied
 * bit, 7 bytes an exact key (about 8 a key at 7/8 load) and 11 a fingerprint (about 12.6). It
 * only answers whether a key is new, for a check that gives up at the first repeated key
 * (validate.c: validator_keys_optimistic). An all-zero entry is empty in both kinds: a tagged
 * entry's tag is at least 2 (line x2), a tagless entry's occupied bit is 1.
 */
#ifndef ASTRO_VALIDATE_UNIQUE_H
#define ASTRO_VALIDATE_UNIQUE_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vkey {
    uint64_t h;  /* mixed key or the fingerprint's first 64 bits */
    uint32_t g;  /* 0 for exact keys, else 32 more fingerprint bits */
    uint32_t ok; /* 0: no key (a null member), the other fields mean nothing */
};

/* Hashes n bytes (seed picks an independent function) into a 96-bit fingerprint key. */
struct vkey vkey_hash(const void *p, size_t n, uint64_t seed);
/* The exact key of a value of at most 8 bytes, given as its 64-bit pattern. */
struct vkey vkey_exact(uint64_t bits);

#define KSET_PBITS 10
#define KSET_PARTS (1u << KSET_PBITS)
#define KSET_MAX_LINE ((UINT64_C(1) << 33) - 1)

struct kset_part {
    unsigned char *e; /* cap entries of the set's width; tag 0 = empty */
    uint32_t cap;
    uint32_t count;
    bool in_arena; /* e lies in the set's arena (not freed on its own) */
};

struct kset {
    struct kset_part *parts; /* KSET_PARTS, allocated on first use (or kset_prepare) */
    size_t width;            /* 11 (exact) or 15 (fingerprint); tagless: 7 or 11 */
    uint8_t kbits;           /* key bits of an entry: 54 (exact) or 86 (fingerprint) */
    uint8_t tbits;           /* tag bits after them: 34, or 1 in a tagless set */
    uint64_t hint;           /* keys expected (kset_hint), 0 = unknown */
    void *arena; /* with a hint: one mapping holding every partition's first table, in huge
                    pages where the kernel allows (random probes then miss the TLB less) */
    size_t arena_len;
    uint64_t cap_bytes;   /* kset_cap: 0 = none */
    uint64_t table_bytes; /* the tables' bytes, the arena's included (atomic: see kset_cap) */
};

/* An empty set of exact keys (fingerprint false) or fingerprint keys. Allocates nothing. */
void kset_init(struct kset *s, bool fingerprint);
/* The same, tagless: no line is stored. kset_add then says 1 (present) with *first_line 0 and
 * kset_get *line 0, *dup false; kset_note_last and kset_track refuse it (AE_INTERNAL). Everything
 * else (kset_hint, kset_cap, kset_prefetch, the partitions' concurrency) is the same.
 * kset_release keeps the kind. */
void kset_init_tagless(struct kset *s, bool fingerprint);

/* Bytes a set of n keys takes when sized by kset_hint(n) (for the memory plan); tagless for a set
 * made by kset_init_tagless. */
uint64_t kset_bytes_for(bool fingerprint, bool tagless, uint64_t n);

/* Expects about n keys in all: each partition is sized once for its share (with room for the
 * spread of a random split), so the tables need not grow. Call before the first add. */
void kset_hint(struct kset *s, uint64_t n);

/* What kset_add returns when the set's cap (kset_cap) forbids the table growth the key needs. */
#define KSET_FULL 3

/* Caps the bytes of the set's tables (0 = no cap, the default): an add whose partition would
 * have to grow past it returns KSET_FULL, the set unchanged. The running total is updated
 * atomically, so threads owning disjoint partitions may still add at the same time. */
void kset_cap(struct kset *s, uint64_t bytes);

/* Adds key k (ok != 0) first seen at line (1..KSET_MAX_LINE). Returns 0 when k is new, 1 when it
 * was already present (then *first_line is the line stored with it; 0 in a tagless set),
 * KSET_FULL, or AE_NOMEM (the set is unchanged), or AE_INTERNAL for a line out of range. */
int kset_add(struct kset *s, struct vkey k, uint64_t line, uint64_t *first_line) ASTRO_WUR;

/* For a pre-pass over the whole file: records k at line, keeping the LAST line of each key and
 * marking a key seen more than once. AE_NOMEM or AE_INTERNAL as kset_add. */
int kset_note_last(struct kset *s, struct vkey k, uint64_t line) ASTRO_WUR;

/* For a pass that lists every repeated key (struct kdups): records k first seen at line
 * (1..KSET_MAX_LINE). Returns 0 when k is new; 1 when k was seen once before (*out = that line), and
 * from now on k is tracked by id (0..KSET_MAX_LINE - 1); 2 when k is already tracked (*out = its
 * id). AE_NOMEM or AE_INTERNAL as kset_add. */
int kset_track(struct kset *s, struct vkey k, uint64_t line, uint64_t id, uint64_t *out) ASTRO_WUR;

/* 1 when k is present (then *line and *dup are what kset_note_last recorded, or the first line
 * and false for kset_add), 0 otherwise. */
int kset_get(const struct kset *s, struct vkey k, uint64_t *line, bool *dup);

/* Prefetches the first entry probed for k (nothing when its partition has no table yet). */
void kset_prefetch(const struct kset *s, struct vkey k);

/* The partition of k (0..KSET_PARTS-1). Calls on keys of different partitions touch disjoint
 * memory, so once kset_prepare succeeded, threads that own disjoint sets of partitions may add
 * and look up keys at the same time without a lock (validate.c: validator_unique_group). */
static inline size_t kset_part_of(struct vkey k)
{
    return (size_t)(k.h >> (64 - KSET_PBITS));
}
/* Allocates the partition table (and the arena of a hinted set). AE_NOMEM. */
int kset_prepare(struct kset *s) ASTRO_WUR;

/* Keys held, and bytes of the entry tables (not thread-safe against concurrent adds). */
uint64_t kset_count(const struct kset *s);
uint64_t kset_bytes(const struct kset *s);

void kset_release(struct kset *s);

/* Grows the array p of elem-byte items (capacity *cap) to hold at least need, doubling: returns
 * the array (p itself when it is big enough), or NULL with p and *cap unchanged (still owned by
 * the caller). */
void *kgrow(void *p, size_t *cap, size_t need, size_t elem) ASTRO_WUR;

/* report_duplicates' choice of failing occurrences, for struct kdups and struct kspill. */
enum kspill_mode {
    KSPILL_FIRST, /* every occurrence but the first fails (status 0, aux = first line) */
    KSPILL_ALL,   /* every occurrence fails: the first with status 1 and aux = the last line,
                     the others status 0 and aux = the first line */
    KSPILL_LAST   /* every occurrence but the last fails: status 2, aux = the last line */
};

/*
 * struct kdups: every repeated key of one key set, found in one pass over the file (the pre-pass
 * of report_duplicates: all / exclude_last), so that the main pass looks its verdicts up by line
 * and probes nothing. kdups_put takes the keys in file order: the set keeps each key's first
 * line; a key seen again gets an entry in firsts (its first and, so far, last line) and every
 * later occurrence one in more (its line and the index of its first). kdups_finish releases the
 * set and turns both lists into verdicts sorted by line, decided by the mode exactly as the spill
 * (struct kspill) and the two-set check decide them. Memory: the set while the pass runs
 * (kset_bytes_for) plus 16 bytes for each occurrence of a repeated key, at most 16 a row
 * (kdups_bytes_for); a file without duplicates needs nothing but the set, which is gone before the
 * main pass.
 */
struct kdup {
    uint64_t line;
    uint64_t aux; /* firsts: the last line; more: the first's index, then the verdict's aux */
};

struct kdups {
    struct kset set;
    struct kdup *firsts; /* by the order their second occurrence came; sorted by kdups_finish */
    size_t nfirsts, capfirsts;
    struct kdup *more; /* in file order */
    size_t nmore, capmore;
    enum kspill_mode mode; /* set by kdups_finish */
    size_t at_first, at_more; /* kdups_verdict's cursors */
};

void kdups_init(struct kdups *d, bool fingerprint);
/* Bytes for n keys in the worst case (every key repeated). */
uint64_t kdups_bytes_for(bool fingerprint, uint64_t n);
/* Expects about n keys (kset_hint). */
void kdups_hint(struct kdups *d, uint64_t n);
/* Records k at line; lines must rise from call to call. AE_NOMEM or AE_INTERNAL (a line out of
 * range). */
int kdups_put(struct kdups *d, struct vkey k, uint64_t line) ASTRO_WUR;
/* Ends the pass: releases the set and decides the verdicts under mode. */
void kdups_finish(struct kdups *d, enum kspill_mode mode);
/* The verdict on the occurrence at line (asked in rising order of lines, after kdups_finish): 1
 * when it fails (*status and *aux as enum kspill_mode says), 0 when it passes. */
int kdups_verdict(struct kdups *d, uint64_t line, uint32_t *status, uint64_t *aux);
/* Occurrences of repeated keys found (for tests and reports). */
uint64_t kdups_count(const struct kdups *d);
/* Bytes the set and the lists take now. */
uint64_t kdups_bytes(const struct kdups *d);
void kdups_release(struct kdups *d);

/*
 * struct kspill: the keys of a whole file on disk, in hash partitions, for files whose key sets
 * would not fit in the memory limit. A pre-pass writes every key of every key set with its line
 * (kspill_put, in file order); kspill_finish then takes the partitions one at a time into a
 * struct kset (in file order within the partition, so the answers are those of the in-memory set)
 * and writes the verdict of every occurrence that fails as a run sorted by line; the main pass
 * reads the verdicts back in (line, set) order, merged across the runs (kspill_next). Memory: the
 * partition buffers (at most buf_bytes in all), then one partition's keys and set, then one small
 * buffer per run. The file is created in dir and unlinked at once, so nothing is left behind,
 * even after a crash.
 */
struct kspill_verdict {
    uint64_t line;
    uint64_t aux;
    uint32_t set;
    uint32_t status;
};

struct kspill;

/* A spill for keys of nsets sets (set i is a fingerprint set when fp[i], its failing occurrences
 * chosen by modes[i]; both arrays are copied), in a temporary file under dir, spread over nparts
 * partitions (a power of two, 16..65536) with about buf_bytes of write buffers. AE_IO (naming
 * dir) or AE_NOMEM. */
int kspill_new(struct kspill **out, const char *dir, const bool *fp, size_t nsets, size_t nparts,
               size_t buf_bytes, const enum kspill_mode *modes, struct err *e) ASTRO_WUR;
/* Records key k of set at line. AE_IO or AE_NOMEM. */
int kspill_put(struct kspill *s, uint32_t set, struct vkey k, uint64_t line,
               struct err *e) ASTRO_WUR;
/* Ends the pre-pass: finds the failing occurrences, partition by partition. AE_IO or AE_NOMEM. */
int kspill_finish(struct kspill *s, struct err *e) ASTRO_WUR;
/* The next verdict in (line, set) order: 1 and *out, or 0 when there is none left, or AE_IO. */
int kspill_peek(struct kspill *s, struct kspill_verdict *out, struct err *e) ASTRO_WUR;
/* Drops the verdict kspill_peek returned. */
void kspill_pop(struct kspill *s);
/* Keys and duplicate verdicts written, and the largest partition (for reports and tests). */
void kspill_stats(const struct kspill *s, uint64_t *keys, uint64_t *verdicts, uint64_t *max_part);
void kspill_free(struct kspill *s);

#endif
