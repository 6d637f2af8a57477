/*
 * unique.h - 128-bit hashing of keys and an open-addressing set of key hashes (private to
 * src/validate), for unique: true columns, frame-level unique sets and unique_values_eq.
 *
 * The set stores only the 16-byte hash of a key and the line where it was first seen: memory is
 * 24 bytes per slot, the table at most 3/4 full, whatever the key length. Two distinct keys share
 * a hash with probability about 2^-127 per pair, which is negligible next to any real data error.
 */
#ifndef ASTRO_VALIDATE_UNIQUE_H
#define ASTRO_VALIDATE_UNIQUE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

struct vhash {
    uint64_t lo;
    uint64_t hi;
};

/* Hashes n bytes (seed picks an independent function). Never returns the all-zero hash. */
struct vhash vh_hash(const void *p, size_t n, uint64_t seed);

struct vset_slot {
    uint64_t lo;
    uint64_t hi;
    uint64_t line;
};

struct vset {
    struct vset_slot *slots; /* cap slots, all-zero hash = empty */
    size_t cap;              /* 0 or a power of two */
    size_t count;
};

/* Adds h (first seen at line). Returns 0 when h is new, 1 when it was already present (then
 * *first_line is the line stored with it), or AE_NOMEM (the set is unchanged). */
int vset_add(struct vset *s, struct vhash h, uint64_t line, uint64_t *first_line) ASTRO_WUR;

/* Makes room for extra more keys without growing (so slot addresses stay put and callers may
 * prefetch them with vset_slot_for). AE_NOMEM on failure. */
int vset_reserve(struct vset *s, size_t extra) ASTRO_WUR;

/* The first slot probed for h (for __builtin_prefetch); NULL when the set has no table. */
static inline const void *vset_slot_for(const struct vset *s, struct vhash h)
{
    return s->cap ? (const void *)&s->slots[(size_t)h.lo & (s->cap - 1)] : NULL;
}

/* For a pre-pass over the whole file: records h at line, keeping the LAST line of each key and
 * marking a key seen more than once with VSET_DUP in its stored line. AE_NOMEM on failure. */
#define VSET_DUP (UINT64_C(1) << 63)
int vset_note_last(struct vset *s, struct vhash h, uint64_t line) ASTRO_WUR;

/* 1 and *line (with its VSET_DUP bit) when h is present, 0 otherwise. */
int vset_get(const struct vset *s, struct vhash h, uint64_t *line);

/* 1 when h is present, 0 otherwise. */
int vset_has(const struct vset *s, struct vhash h);

void vset_release(struct vset *s);

#endif
