/*
 * unique.c - keys, the compact key set and the spill of keys to disk (see unique.h).
 *
 * The hash runs two 64-bit lanes over the key, 8 bytes at a time; each step folds the 128-bit
 * product of the lane (xor the word) and an odd constant (high ^ low), which spreads every input
 * bit over the whole lane. The lanes use different seeds and constants and are finished with a
 * 64-bit avalanche. Not meant to resist an adversary: a bad key only costs a false duplicate
 * report, never memory safety. Exact keys use the murmur3 finaliser, a bijection of 64 bits.
 *
 * Entries are packed little-endian into an unsigned __int128 and copied in and out with memcpy
 * (width bytes out, 16 bytes in: each table has 16 bytes of slack at its end), so nothing is
 * ever read through a cast pointer.
 */
#include "validate/unique.h"
#include "util/fs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "unique.c packs entries for a little-endian host"
#endif

#define K1 UINT64_C(0x9fb21c651e98df25)
#define K2 UINT64_C(0xc13fa9a902a6328f)
#define K3 UINT64_C(0x2d358dccaa6c78a5)
#define K4 UINT64_C(0x8bb84b93962eacc9)

static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t avalanche(uint64_t x)
{
    x ^= x >> 31;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

struct vkey vkey_hash(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t a = seed ^ K3;
    uint64_t b = (seed + K4) ^ K1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = load_le64(s + i);
        a = fold_mul(a ^ w, K1);
        b = fold_mul(b ^ w, K2) + w;
    }
    /* The tail (0..7 bytes) with the length in the top byte, so "a" and "a\0" differ. */
    uint64_t w = (uint64_t)(n & 0xff) << 56;
    for (size_t k = 0; i + k < n; k++) {
        w |= (uint64_t)s[i + k] << (8 * k);
    }
    a = fold_mul(a ^ w, K1);
    b = fold_mul(b ^ w ^ (uint64_t)n, K2);
    struct vkey k;
    k.h = avalanche(a ^ (b >> 29));
    k.g = (uint32_t)(avalanche(b + K3) >> 32);
    k.ok = 1;
    return k;
}

struct vkey vkey_exact(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    struct vkey k = {x, 0, 1};
    return k;
}

/* ---- the in-memory set ------------------------------------------------------------------- */

#define LOW_BITS (64 - KSET_PBITS)
#define LOW_MASK ((UINT64_C(1) << LOW_BITS) - 1)
#define TAG_BITS 34
#define SLACK 16

typedef unsigned __int128 u128;

static inline u128 entry_load(const unsigned char *p)
{
    u128 x;
    memcpy(&x, p, sizeof(x));
    return x;
}

/* The entry of key k with tag: the key bits (54 bits of h, then g's 32 for fingerprints), then
 * the tag (34 bits, or 1 in a tagless set, where the tag is always 1: kset_init_tagless). */
static inline u128 entry_make(const struct kset *s, struct vkey k, uint64_t tag)
{
    u128 x = k.h & LOW_MASK;
    if (s->kbits != LOW_BITS) {
        x |= (u128)k.g << LOW_BITS;
    }
    return x | (u128)tag << s->kbits;
}

/* The tag of an entry: 0 for an empty one. */
static inline uint64_t entry_tag(const struct kset *s, u128 x)
{
    return (uint64_t)(x >> s->kbits) & ((UINT64_C(1) << s->tbits) - 1);
}

/* The key bits of an entry (everything but the tag), comparable with entry_make(k, 0). */
static inline u128 entry_key(const struct kset *s, u128 x)
{
    return x & (((u128)1 << s->kbits) - 1);
}

static inline uint32_t slot_of(uint64_t h, uint32_t cap)
{
    return (uint32_t)(((u128)(h << KSET_PBITS) * cap) >> 64);
}

/* Bytes of an entry: the key bits and the tag bits, rounded up to whole bytes. */
static size_t width_of(bool fingerprint, bool tagless)
{
    unsigned bits = (fingerprint ? LOW_BITS + 32 : LOW_BITS) + (tagless ? 1 : TAG_BITS);
    return (bits + 7) / 8;
}

static void set_init(struct kset *s, bool fingerprint, bool tagless)
{
    memset(s, 0, sizeof(*s));
    s->width = width_of(fingerprint, tagless);
    s->kbits = (uint8_t)(fingerprint ? LOW_BITS + 32 : LOW_BITS);
    s->tbits = (uint8_t)(tagless ? 1 : TAG_BITS);
}

void kset_init(struct kset *s, bool fingerprint)
{
    set_init(s, fingerprint, false);
}

void kset_init_tagless(struct kset *s, bool fingerprint)
{
    set_init(s, fingerprint, true);
}

/* Entries for m keys: m plus two standard deviations of a random split, at most 7/8 full. */
static uint64_t part_cap_for(uint64_t m)
{
    uint64_t want = m + (uint64_t)(2.0 * sqrt((double)m)) + 8;
    return want + want / 7;
}

uint64_t kset_bytes_for(bool fingerprint, bool tagless, uint64_t n)
{
    uint64_t m = n / KSET_PARTS;
    return (uint64_t)KSET_PARTS * (part_cap_for(m) * width_of(fingerprint, tagless) + SLACK);
}

void kset_hint(struct kset *s, uint64_t n)
{
    s->hint = n;
}

void kset_cap(struct kset *s, uint64_t bytes)
{
    s->cap_bytes = bytes;
}

static int part_grow(struct kset *s, struct kset_part *pt, uint64_t ncap)
{
    if (ncap > UINT32_MAX - 1) {
        return AE_NOMEM;
    }
    size_t w = s->width;
    uint64_t nbytes = ncap * w + SLACK;
    uint64_t total = __atomic_add_fetch(&s->table_bytes, nbytes, __ATOMIC_RELAXED);
    if (s->cap_bytes != 0 && total > s->cap_bytes) {
        __atomic_sub_fetch(&s->table_bytes, nbytes, __ATOMIC_RELAXED);
        return KSET_FULL;
    }
    unsigned char *ne = calloc(1, (size_t)nbytes);
    if (ne == NULL) {
        __atomic_sub_fetch(&s->table_bytes, nbytes, __ATOMIC_RELAXED);
        return AE_NOMEM;
    }
    size_t pidx = (size_t)(pt - s->parts);
    for (uint32_t i = 0; i < pt->cap; i++) {
        u128 x = entry_load(pt->e + (size_t)i * w);
        if (entry_tag(s, x) == 0) {
            continue;
        }
        uint64_t h = ((uint64_t)pidx << LOW_BITS) | ((uint64_t)x & LOW_MASK);
        uint32_t j = slot_of(h, (uint32_t)ncap);
        while (entry_tag(s, entry_load(ne + (size_t)j * w)) != 0) {
            j = j + 1 == ncap ? 0 : j + 1;
        }
        memcpy(ne + (size_t)j * w, &x, w);
    }
    if (!pt->in_arena && pt->e != NULL) {
        free(pt->e);
        __atomic_sub_fetch(&s->table_bytes, (uint64_t)pt->cap * w + SLACK, __ATOMIC_RELAXED);
    }
    pt->e = ne;
    pt->cap = (uint32_t)ncap;
    pt->in_arena = false;
    return 0;
}

/* With a hint of millions of keys, every partition's table comes from one zeroed mapping,
 * advised into huge pages: each probe is a random access, and with 4 KiB pages nearly every one
 * also missed the TLB. Small sets, and a failed mapping, use one allocation per partition. */
static void arena_setup(struct kset *s)
{
    uint64_t cap = part_cap_for(s->hint / KSET_PARTS);
    uint64_t per = cap * s->width + SLACK;
    uint64_t len = per * KSET_PARTS;
    if (s->hint < ((uint64_t)1 << 18) || cap > UINT32_MAX - 1 || len > SIZE_MAX / 2) {
        return;
    }
    void *m = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        return;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(m, (size_t)len, MADV_HUGEPAGE);
#endif
    s->arena = m;
    s->arena_len = (size_t)len;
    __atomic_add_fetch(&s->table_bytes, len, __ATOMIC_RELAXED);
    for (size_t i = 0; i < KSET_PARTS; i++) {
        s->parts[i].e = (unsigned char *)m + i * per;
        s->parts[i].cap = (uint32_t)cap;
        s->parts[i].in_arena = true;
    }
}

int kset_prepare(struct kset *s)
{
    if (s->parts == NULL) {
        s->parts = calloc(KSET_PARTS, sizeof(*s->parts));
        if (s->parts == NULL) {
            return AE_NOMEM;
        }
        arena_setup(s);
    }
    return 0;
}

uint64_t kset_count(const struct kset *s)
{
    uint64_t n = 0;
    for (size_t i = 0; s->parts != NULL && i < KSET_PARTS; i++) {
        n += s->parts[i].count;
    }
    return n;
}

uint64_t kset_bytes(const struct kset *s)
{
    uint64_t n = s->arena_len;
    for (size_t i = 0; s->parts != NULL && i < KSET_PARTS; i++) {
        const struct kset_part *pt = &s->parts[i];
        n += pt->e != NULL && !pt->in_arena ? (uint64_t)pt->cap * s->width + SLACK : 0;
    }
    return n;
}

/* The partition of k, with room for one more key. */
static int part_room(struct kset *s, struct vkey k, struct kset_part **out)
{
    if (kset_prepare(s) != 0) {
        return AE_NOMEM;
    }
    struct kset_part *pt = &s->parts[k.h >> LOW_BITS];
    if ((uint64_t)(pt->count + 1) * 8 > (uint64_t)pt->cap * 7) {
        uint64_t ncap = pt->cap ? (uint64_t)pt->cap * 3 / 2 : part_cap_for(s->hint / KSET_PARTS);
        if (ncap < 16) {
            ncap = 16;
        }
        int rc = part_grow(s, pt, ncap);
        if (rc != 0) {
            return rc;
        }
    }
    *out = pt;
    return 0;
}

/* Finds k in pt: 1 and *at = its entry, or 0 and *at = the empty entry where it would go. */
static int part_find(const struct kset *s, const struct kset_part *pt, struct vkey k,
                     unsigned char **at)
{
    size_t w = s->width;
    u128 want = entry_make(s, k, 0);
    uint32_t j = slot_of(k.h, pt->cap);
    for (;;) {
        unsigned char *p = pt->e + (size_t)j * w;
        u128 x = entry_load(p);
        if (entry_tag(s, x) == 0) {
            *at = p;
            return 0;
        }
        if (entry_key(s, x) == want) {
            *at = p;
            return 1;
        }
        j = j + 1 == pt->cap ? 0 : j + 1;
    }
}

/* The entry of k, with room for it in its partition: 1 (present) or 0 (*at is the empty entry
 * where it goes, *pt its partition), or AE_INTERNAL for a line out of range, KSET_FULL, AE_NOMEM. */
static int locate(struct kset *s, struct vkey k, uint64_t line, struct kset_part **pt,
                  unsigned char **at)
{
    if (line == 0 || line > KSET_MAX_LINE) {
        return AE_INTERNAL;
    }
    int rc = part_room(s, k, pt);
    return rc != 0 ? rc : part_find(s, *pt, k, at);
}

static int put(struct kset *s, struct vkey k, uint64_t line, bool keep_last, uint64_t *first)
{
    struct kset_part *pt = NULL;
    unsigned char *at = NULL;
    int rc = locate(s, k, line, &pt, &at);
    if (rc < 0 || rc == KSET_FULL) {
        return rc;
    }
    if (rc == 1) {
        u128 x = entry_load(at);
        if (!keep_last) {
            *first = s->tbits == 1 ? 0 : entry_tag(s, x) >> 1;
            return 1;
        }
        x = entry_make(s, k, line << 1 | 1);
        memcpy(at, &x, s->width);
        return 0;
    }
    u128 x = entry_make(s, k, s->tbits == 1 ? 1 : line << 1);
    memcpy(at, &x, s->width);
    pt->count++;
    return 0;
}

int kset_add(struct kset *s, struct vkey k, uint64_t line, uint64_t *first_line)
{
    return put(s, k, line, false, first_line);
}

int kset_note_last(struct kset *s, struct vkey k, uint64_t line)
{
    if (s->tbits == 1) {
        return AE_INTERNAL; /* a tagless set keeps no line */
    }
    uint64_t unused = 0;
    return put(s, k, line, true, &unused);
}

int kset_track(struct kset *s, struct vkey k, uint64_t line, uint64_t id, uint64_t *out)
{
    if (id >= KSET_MAX_LINE || s->tbits == 1) {
        return AE_INTERNAL;
    }
    struct kset_part *pt = NULL;
    unsigned char *at = NULL;
    int rc = locate(s, k, line, &pt, &at);
    if (rc < 0 || rc == KSET_FULL) {
        return rc;
    }
    if (rc == 0) {
        u128 x = entry_make(s, k, line << 1);
        memcpy(at, &x, s->width);
        pt->count++;
        return 0;
    }
    uint64_t tag = entry_tag(s, entry_load(at));
    *out = tag >> 1;
    if (tag & 1) {
        return 2;
    }
    u128 x = entry_make(s, k, id << 1 | 1);
    memcpy(at, &x, s->width);
    return 1;
}

int kset_get(const struct kset *s, struct vkey k, uint64_t *line, bool *dup)
{
    if (s->parts == NULL) {
        return 0;
    }
    const struct kset_part *pt = &s->parts[k.h >> LOW_BITS];
    unsigned char *at = NULL;
    if (pt->cap == 0 || part_find(s, pt, k, &at) == 0) {
        return 0;
    }
    uint64_t tag = s->tbits == 1 ? 0 : entry_tag(s, entry_load(at));
    *line = tag >> 1;
    *dup = (tag & 1) != 0;
    return 1;
}

void kset_prefetch(const struct kset *s, struct vkey k)
{
    if (s->parts != NULL) {
        const struct kset_part *pt = &s->parts[k.h >> LOW_BITS];
        if (pt->cap != 0) {
            const unsigned char *p = pt->e + (size_t)slot_of(k.h, pt->cap) * s->width;
            /* An entry (and the 16 bytes entry_load reads) may straddle two cache lines. */
            __builtin_prefetch(p);
            __builtin_prefetch(p + 15);
        }
    }
}

void kset_release(struct kset *s)
{
    if (s->parts != NULL) {
        for (size_t i = 0; i < KSET_PARTS; i++) {
            if (!s->parts[i].in_arena) {
                free(s->parts[i].e);
            }
        }
        free(s->parts);
    }
    if (s->arena != NULL) {
        munmap(s->arena, s->arena_len);
    }
    size_t w = s->width;
    uint8_t kbits = s->kbits, tbits = s->tbits;
    memset(s, 0, sizeof(*s));
    s->width = w;
    s->kbits = kbits;
    s->tbits = tbits;
}

/* ---- every repeated key in one pass ------------------------------------------------------- */

void kdups_init(struct kdups *d, bool fingerprint)
{
    memset(d, 0, sizeof(*d));
    kset_init(&d->set, fingerprint);
}

uint64_t kdups_bytes_for(bool fingerprint, uint64_t n)
{
    return kset_bytes_for(fingerprint, false, n) + n * sizeof(struct kdup);
}

void kdups_hint(struct kdups *d, uint64_t n)
{
    kset_hint(&d->set, n);
}

/* Appends {line, aux} to the list l (n entries, capacity *cap), growing it by half: the lists
 * take at most 16 bytes a row in all, and a doubling would overshoot that by up to 2x. */
static int kdup_push(struct kdup **l, size_t *n, size_t *cap, uint64_t line, uint64_t aux)
{
    if (*n == *cap) {
        size_t ncap = *cap < 64 ? 64 : *cap + *cap / 2;
        if (ncap > SIZE_MAX / sizeof(**l)) {
            return AE_NOMEM;
        }
        struct kdup *nl = realloc(*l, ncap * sizeof(**l));
        if (nl == NULL) {
            return AE_NOMEM;
        }
        *l = nl;
        *cap = ncap;
    }
    (*l)[(*n)++] = (struct kdup){line, aux};
    return 0;
}

int kdups_put(struct kdups *d, struct vkey k, uint64_t line)
{
    uint64_t got = 0;
    int rc = kset_track(&d->set, k, line, d->nfirsts, &got);
    if (rc == 1) {
        /* the second occurrence: the key's first line gets an entry, this one points at it */
        rc = kdup_push(&d->firsts, &d->nfirsts, &d->capfirsts, got, line);
        got = d->nfirsts - 1;
        rc = rc ? rc : kdup_push(&d->more, &d->nmore, &d->capmore, line, got);
        return rc;
    }
    if (rc == 2) {
        d->firsts[got].aux = line;
        return kdup_push(&d->more, &d->nmore, &d->capmore, line, got);
    }
    return rc;
}

static int cmp_kdup(const void *a, const void *b)
{
    const struct kdup *x = a;
    const struct kdup *y = b;
    return x->line < y->line ? -1 : (x->line > y->line);
}

void kdups_finish(struct kdups *d, enum kspill_mode mode)
{
    kset_release(&d->set);
    d->mode = mode;
    size_t m = 0;
    for (size_t i = 0; i < d->nmore; i++) {
        const struct kdup *f = &d->firsts[d->more[i].aux];
        if (mode == KSPILL_LAST && d->more[i].line == f->aux) {
            continue; /* the last occurrence is kept */
        }
        d->more[m].line = d->more[i].line;
        d->more[m].aux = mode == KSPILL_LAST ? f->aux : f->line;
        m++;
    }
    d->nmore = m;
    if (mode == KSPILL_FIRST) {
        d->nfirsts = 0; /* the first occurrence is kept */
    } else if (d->nfirsts > 1) {
        qsort(d->firsts, d->nfirsts, sizeof(*d->firsts), cmp_kdup);
    }
    d->at_first = 0;
    d->at_more = 0;
}

int kdups_verdict(struct kdups *d, uint64_t line, uint32_t *status, uint64_t *aux)
{
    while (d->at_first < d->nfirsts && d->firsts[d->at_first].line < line) {
        d->at_first++;
    }
    while (d->at_more < d->nmore && d->more[d->at_more].line < line) {
        d->at_more++;
    }
    if (d->at_first < d->nfirsts && d->firsts[d->at_first].line == line) {
        *status = d->mode == KSPILL_LAST ? 2 : 1;
        *aux = d->firsts[d->at_first++].aux;
        return 1;
    }
    if (d->at_more < d->nmore && d->more[d->at_more].line == line) {
        *status = d->mode == KSPILL_LAST ? 2 : 0;
        *aux = d->more[d->at_more++].aux;
        return 1;
    }
    return 0;
}

uint64_t kdups_count(const struct kdups *d)
{
    return (uint64_t)d->nfirsts + d->nmore;
}

uint64_t kdups_bytes(const struct kdups *d)
{
    return kset_bytes(&d->set) + ((uint64_t)d->capfirsts + d->capmore) * sizeof(struct kdup);
}

void kdups_release(struct kdups *d)
{
    kset_release(&d->set);
    free(d->firsts);
    free(d->more);
    bool fp = d->set.width == 15;
    kdups_init(d, fp);
}

/* ---- the spill ----------------------------------------------------------------------------- */

/* One key on disk (host order: the file lives and dies with the process). */
struct krec {
    uint64_t h;
    uint64_t line;
    uint32_t g;
    uint32_t set;
};

struct kchunk {
    uint32_t part;
    uint32_t n;
    uint64_t off;
};

/* A sorted run of verdicts in the verdict file, and the window of it in memory. */
struct krun {
    uint64_t off;
    uint64_t n;     /* verdicts left in the file after the window */
    size_t at, len; /* the window: buf[at..len) */
    struct kspill_verdict *buf;
};

#define RUN_WINDOW 64

struct kspill {
    int fd, vfd;
    bool *fpc; /* nsets: fingerprint sets */
    size_t nsets;
    size_t nparts;
    unsigned pshift; /* 64 - log2(nparts) */
    enum kspill_mode *modes; /* nsets: each set's mode */
    struct krec *bufs; /* nparts * per */
    size_t *fill;
    size_t per;
    uint64_t end;
    struct kchunk *chunks;
    size_t nchunks, capchunks;
    uint64_t keys, verdicts, max_part;
    uint64_t vend;
    struct krun *runs;
    size_t nruns;
    size_t *heap; /* run indices, a min-heap on the head (line, set) */
    size_t nheap;
    int read_rc; /* a run that could not be read back (kspill_peek reports it) */
    struct err read_err;
};

static int tmp_fd(const char *dir, int *fd, struct err *e)
{
    int rc = fs_tmp_unlinked(dir, "astro-keys-", fd, e);
    return rc != 0 ? err_prefix(e, "key spill") : 0;
}

int kspill_new(struct kspill **out, const char *dir, const bool *fp, size_t nsets, size_t nparts,
               size_t buf_bytes, const enum kspill_mode *modes, struct err *e)
{
    *out = NULL;
    if (nparts < 16 || nparts > 65536 || (nparts & (nparts - 1)) != 0 || nsets == 0) {
        return err_set(e, AE_INTERNAL, "kspill_new: %zu partitions, %zu sets", nparts, nsets);
    }
    struct kspill *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    s->fd = s->vfd = -1;
    s->nsets = nsets;
    s->nparts = nparts;
    unsigned bits = 0;
    while (((size_t)1 << bits) < nparts) {
        bits++;
    }
    s->pshift = 64 - bits;
    s->per = buf_bytes / nparts / sizeof(struct krec);
    if (s->per < 64) {
        s->per = 64;
    }
    s->fpc = calloc(nsets, sizeof(*s->fpc));
    s->modes = calloc(nsets, sizeof(*s->modes));
    s->fill = calloc(nparts, sizeof(*s->fill));
    s->bufs = malloc(nparts * s->per * sizeof(*s->bufs));
    if (s->fpc == NULL || s->modes == NULL || s->fill == NULL || s->bufs == NULL) {
        kspill_free(s);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    memcpy(s->fpc, fp, nsets * sizeof(*fp));
    memcpy(s->modes, modes, nsets * sizeof(*modes));
    int rc = tmp_fd(dir, &s->fd, e);
    rc = rc ? rc : tmp_fd(dir, &s->vfd, e);
    if (rc != 0) {
        kspill_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* pwrite (write) or pread the whole of [p, p + n) at off, retrying short transfers. */
static int pio_all(int fd, void *p, size_t n, uint64_t off, bool write, struct err *e)
{
    char *c = p;
    while (n > 0) {
        ssize_t k = write ? pwrite(fd, c, n, (off_t)off) : pread(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return err_errno(e, k < 0 ? errno : (write ? ENOSPC : EIO),
                             "cannot %s the key spill file", write ? "write" : "read");
        }
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

void *kgrow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return p;
    }
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem) {
            return NULL;
        }
        ncap *= 2;
    }
    void *np = realloc(p, ncap * elem);
    if (np != NULL) {
        *cap = ncap;
    }
    return np;
}

static int flush_part(struct kspill *s, size_t p, struct err *e)
{
    size_t n = s->fill[p];
    if (n == 0) {
        return 0;
    }
    struct kchunk *nc = kgrow(s->chunks, &s->capchunks, s->nchunks + 1, sizeof(*nc));
    if (nc == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    s->chunks = nc;
    size_t bytes = n * sizeof(struct krec);
    int rc = pio_all(s->fd, s->bufs + p * s->per, bytes, s->end, true, e);
    if (rc != 0) {
        return rc;
    }
    s->chunks[s->nchunks++] = (struct kchunk){(uint32_t)p, (uint32_t)n, s->end};
    s->end += bytes;
    s->fill[p] = 0;
    return 0;
}

int kspill_put(struct kspill *s, uint32_t set, struct vkey k, uint64_t line, struct err *e)
{
    size_t p = (size_t)(k.h >> s->pshift);
    struct krec *r = &s->bufs[p * s->per + s->fill[p]++];
    r->h = k.h;
    r->line = line;
    r->g = k.g;
    r->set = set;
    s->keys++;
    return s->fill[p] == s->per ? flush_part(s, p, e) : 0;
}

static int cmp_chunk(const void *a, const void *b)
{
    const struct kchunk *x = a;
    const struct kchunk *y = b;
    if (x->part != y->part) {
        return x->part < y->part ? -1 : 1;
    }
    return x->off < y->off ? -1 : (x->off > y->off);
}

static int cmp_verdict(const void *a, const void *b)
{
    const struct kspill_verdict *x = a;
    const struct kspill_verdict *y = b;
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return x->set < y->set ? -1 : (x->set > y->set);
}

struct vlist {
    struct kspill_verdict *v;
    size_t n, cap;
};

static int vlist_add(struct vlist *l, uint64_t line, uint64_t aux, uint32_t set, uint32_t status)
{
    struct kspill_verdict *nv = kgrow(l->v, &l->cap, l->n + 1, sizeof(*nv));
    if (nv == NULL) {
        return AE_NOMEM;
    }
    l->v = nv;
    l->v[l->n++] = (struct kspill_verdict){line, aux, set, status};
    return 0;
}

/* The verdicts of one partition's records (in file order), exactly as the in-memory check of
 * validate.c decides them: the same struct kset, fed in the same order. The key's h is rotated
 * so that the set's own partition bits are not the bits every key of this partition shares. */
static int judge_part(struct kspill *s, const struct krec *r, size_t n, struct vlist *out)
{
    int rc = 0;
    unsigned rot = 64 - s->pshift;
    for (size_t set = 0; set < s->nsets && rc == 0; set++) {
        struct kset first, last;
        kset_init(&first, s->fpc[set]);
        kset_init(&last, s->fpc[set]);
        uint64_t nk = 0;
        for (size_t i = 0; i < n; i++) {
            nk += r[i].set == set;
        }
        kset_hint(&first, nk);
        kset_hint(&last, nk);
        enum kspill_mode mode = s->modes[set];
        for (size_t pass = mode == KSPILL_FIRST ? 1 : 0; pass < 2 && rc == 0; pass++) {
            for (size_t i = 0; i < n && rc == 0; i++) {
                if (r[i].set != set) {
                    continue;
                }
                struct vkey k = {(r[i].h << rot) | (r[i].h >> (64 - rot)), r[i].g, 1};
                uint64_t line = r[i].line;
                if (pass == 0) {
                    rc = kset_note_last(&last, k, line);
                    continue;
                }
                uint64_t at = 0;
                bool dup = false;
                if (mode == KSPILL_LAST) {
                    if (kset_get(&last, k, &at, &dup) == 1 && dup && at != line) {
                        rc = vlist_add(out, line, at, (uint32_t)set, 2);
                    }
                    continue;
                }
                rc = kset_add(&first, k, line, &at);
                if (rc == 1) {
                    rc = vlist_add(out, line, at, (uint32_t)set, 0);
                } else if (rc == 0 && mode == KSPILL_ALL && kset_get(&last, k, &at, &dup) == 1 &&
                           dup) {
                    rc = vlist_add(out, line, at, (uint32_t)set, 1);
                }
            }
        }
        kset_release(&first);
        kset_release(&last);
    }
    return rc;
}

static bool head_less(const struct kspill *s, size_t a, size_t b)
{
    const struct krun *x = &s->runs[a];
    const struct krun *y = &s->runs[b];
    return cmp_verdict(&x->buf[x->at], &y->buf[y->at]) < 0;
}

static void sift_down(struct kspill *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < s->nheap && head_less(s, s->heap[l], s->heap[m])) {
            m = l;
        }
        if (l + 1 < s->nheap && head_less(s, s->heap[l + 1], s->heap[m])) {
            m = l + 1;
        }
        if (m == i) {
            return;
        }
        size_t t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
}

static int run_fill(struct kspill *s, struct krun *r, struct err *e)
{
    size_t n = r->n < RUN_WINDOW ? (size_t)r->n : RUN_WINDOW;
    int rc = pio_all(s->vfd, r->buf, n * sizeof(*r->buf), r->off, false, e);
    if (rc != 0) {
        return rc;
    }
    r->off += n * sizeof(*r->buf);
    r->n -= n;
    r->at = 0;
    r->len = n;
    return 0;
}

int kspill_finish(struct kspill *s, struct err *e)
{
    int rc = 0;
    for (size_t p = 0; p < s->nparts && rc == 0; p++) {
        rc = flush_part(s, p, e);
    }
    free(s->bufs);
    s->bufs = NULL;
    if (rc != 0) {
        return rc;
    }
    if (s->nchunks > 1) {
        qsort(s->chunks, s->nchunks, sizeof(*s->chunks), cmp_chunk);
    }
    struct vlist vl = {0};
    struct krec *recs = NULL;
    size_t caprecs = 0;
    struct krun *runs = calloc(s->nparts, sizeof(*runs));
    if (runs == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    s->runs = runs;
    for (size_t c = 0; c < s->nchunks && rc == 0;) {
        size_t c1 = c, n = 0;
        uint32_t part = s->chunks[c].part;
        for (; c1 < s->nchunks && s->chunks[c1].part == part; c1++) {
            n += s->chunks[c1].n;
        }
        if (n > caprecs) {
            free(recs);
            recs = malloc(n * sizeof(*recs));
            caprecs = recs != NULL ? n : 0;
            if (recs == NULL) {
                rc = err_set(e, AE_NOMEM, "out of memory reading back %zu spilled keys", n);
                break;
            }
        }
        size_t at = 0;
        for (; c < c1 && rc == 0; c++) {
            rc = pio_all(s->fd, recs + at, s->chunks[c].n * sizeof(*recs), s->chunks[c].off, false,
                         e);
            at += s->chunks[c].n;
        }
        if (n > s->max_part) {
            s->max_part = n;
        }
        vl.n = 0;
        if (rc == 0 && judge_part(s, recs, n, &vl) != 0) {
            rc = err_set(e, AE_NOMEM, "out of memory judging %zu spilled keys", n);
        }
        if (rc == 0 && vl.n > 0) {
            qsort(vl.v, vl.n, sizeof(*vl.v), cmp_verdict);
            rc = pio_all(s->vfd, vl.v, vl.n * sizeof(*vl.v), s->vend, true, e);
            s->runs[s->nruns++] = (struct krun){s->vend, vl.n, 0, 0, NULL};
            s->vend += vl.n * sizeof(*vl.v);
            s->verdicts += vl.n;
        }
    }
    free(recs);
    free(vl.v);
    free(s->chunks);
    s->chunks = NULL;
    s->nchunks = 0;
    if (rc == 0 && (s->heap = calloc(s->nruns ? s->nruns : 1, sizeof(*s->heap))) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->nruns && rc == 0; i++) {
        s->runs[i].buf = malloc(RUN_WINDOW * sizeof(*s->runs[i].buf));
        if (s->runs[i].buf == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        rc = run_fill(s, &s->runs[i], e);
        s->heap[s->nheap++] = i;
    }
    for (size_t i = s->nheap; rc == 0 && i-- > 0;) {
        sift_down(s, i);
    }
    return rc;
}

int kspill_peek(struct kspill *s, struct kspill_verdict *out, struct err *e)
{
    if (s->read_rc != 0) {
        *e = s->read_err;
        return s->read_rc;
    }
    if (s->nheap == 0) {
        return 0;
    }
    const struct krun *r = &s->runs[s->heap[0]];
    *out = r->buf[r->at];
    return 1;
}

void kspill_pop(struct kspill *s)
{
    if (s->nheap == 0) {
        return;
    }
    struct krun *r = &s->runs[s->heap[0]];
    r->at++;
    if (r->at == r->len) {
        if (r->n == 0) {
            s->heap[0] = s->heap[--s->nheap];
        } else if (s->read_rc == 0) {
            s->read_rc = run_fill(s, r, &s->read_err);
        }
    }
    sift_down(s, 0);
}

void kspill_stats(const struct kspill *s, uint64_t *keys, uint64_t *verdicts, uint64_t *max_part)
{
    *keys = s->keys;
    *verdicts = s->verdicts;
    *max_part = s->max_part;
}

void kspill_free(struct kspill *s)
{
    if (s == NULL) {
        return;
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->vfd >= 0) {
        close(s->vfd);
    }
    for (size_t i = 0; s->runs != NULL && i < s->nruns; i++) {
        free(s->runs[i].buf);
    }
    free(s->runs);
    free(s->heap);
    free(s->chunks);
    free(s->bufs);
    free(s->fill);
    free(s->fpc);
    free(s->modes);
    free(s);
}
