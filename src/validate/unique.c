/*
 * unique.c - key hashing and the hash set behind uniqueness (see unique.h).
 *
 * The hash runs two 64-bit lanes over the key, 8 bytes at a time; each step folds the 128-bit
 * product of the lane (xor the word) and an odd constant (high ^ low), which spreads every input
 * bit over the whole lane. The lanes use different seeds and constants and are finished with a
 * 64-bit avalanche, giving the two halves of the 128-bit hash. Not meant to resist an adversary:
 * a bad key only costs a false duplicate report, never memory safety.
 * The set uses linear probing on the low half (already uniformly mixed) and doubles at 3/4 load.
 */
#include "validate/unique.h"

#include <stdlib.h>
#include <string.h>

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

struct vhash vh_hash(const void *p, size_t n, uint64_t seed)
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
    struct vhash h;
    h.lo = avalanche(a ^ (b >> 29));
    h.hi = avalanche(b + K3);
    if (h.lo == 0 && h.hi == 0) {
        h.lo = 1;
    }
    return h;
}

static int grow_to(struct vset *s, size_t ncap)
{
    if (ncap > SIZE_MAX / sizeof(struct vset_slot)) {
        return AE_NOMEM;
    }
    struct vset_slot *ns = calloc(ncap, sizeof(*ns));
    if (ns == NULL) {
        return AE_NOMEM;
    }
    size_t mask = ncap - 1;
    for (size_t k = 0; k < s->cap; k++) {
        const struct vset_slot *o = &s->slots[k];
        if (o->lo == 0 && o->hi == 0) {
            continue;
        }
        size_t j = (size_t)o->lo & mask;
        while (ns[j].lo != 0 || ns[j].hi != 0) {
            j = (j + 1) & mask;
        }
        ns[j] = *o;
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
    return 0;
}

int vset_reserve(struct vset *s, size_t extra)
{
    if (extra > SIZE_MAX / 8 - s->count) {
        return AE_NOMEM;
    }
    size_t need = s->count + extra;
    size_t ncap = s->cap ? s->cap : 1024;
    while (need * 4 > ncap * 3) {
        if (ncap > SIZE_MAX / 2 / sizeof(struct vset_slot)) {
            return AE_NOMEM;
        }
        ncap *= 2;
    }
    return ncap == s->cap ? 0 : grow_to(s, ncap);
}

int vset_add(struct vset *s, struct vhash h, uint64_t line, uint64_t *first_line)
{
    if ((s->count + 1) * 4 > s->cap * 3) {
        if (grow_to(s, s->cap ? s->cap * 2 : 1024) != 0) {
            return AE_NOMEM;
        }
    }
    size_t mask = s->cap - 1;
    size_t j = (size_t)h.lo & mask;
    for (;;) {
        struct vset_slot *sl = &s->slots[j];
        if (sl->lo == h.lo && sl->hi == h.hi) {
            *first_line = sl->line;
            return 1;
        }
        if (sl->lo == 0 && sl->hi == 0) {
            sl->lo = h.lo;
            sl->hi = h.hi;
            sl->line = line;
            s->count++;
            return 0;
        }
        j = (j + 1) & mask;
    }
}

int vset_note_last(struct vset *s, struct vhash h, uint64_t line)
{
    if ((s->count + 1) * 4 > s->cap * 3) {
        if (grow_to(s, s->cap ? s->cap * 2 : 1024) != 0) {
            return AE_NOMEM;
        }
    }
    size_t mask = s->cap - 1;
    size_t j = (size_t)h.lo & mask;
    for (;;) {
        struct vset_slot *sl = &s->slots[j];
        if (sl->lo == h.lo && sl->hi == h.hi) {
            sl->line = line | VSET_DUP;
            return 0;
        }
        if (sl->lo == 0 && sl->hi == 0) {
            sl->lo = h.lo;
            sl->hi = h.hi;
            sl->line = line;
            s->count++;
            return 0;
        }
        j = (j + 1) & mask;
    }
}

int vset_get(const struct vset *s, struct vhash h, uint64_t *line)
{
    if (s->cap == 0) {
        return 0;
    }
    size_t mask = s->cap - 1;
    size_t j = (size_t)h.lo & mask;
    for (;;) {
        const struct vset_slot *sl = &s->slots[j];
        if (sl->lo == h.lo && sl->hi == h.hi) {
            *line = sl->line;
            return 1;
        }
        if (sl->lo == 0 && sl->hi == 0) {
            return 0;
        }
        j = (j + 1) & mask;
    }
}

int vset_has(const struct vset *s, struct vhash h)
{
    if (s->cap == 0) {
        return 0;
    }
    size_t mask = s->cap - 1;
    size_t j = (size_t)h.lo & mask;
    for (;;) {
        const struct vset_slot *sl = &s->slots[j];
        if (sl->lo == h.lo && sl->hi == h.hi) {
            return 1;
        }
        if (sl->lo == 0 && sl->hi == 0) {
            return 0;
        }
        j = (j + 1) & mask;
    }
}

void vset_release(struct vset *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = 0;
    s->count = 0;
}
