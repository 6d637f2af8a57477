/*
 * encode.c - RLE / bit-packed hybrid, PLAIN booleans and decimal byte layouts (Encodings.md,
 * LogicalTypes.md). See encode.h for the run-splitting rules and why they avoid padded groups.
 */
#include "parquet/encode.h"

#include "parquet/thrift.h"

#include <string.h>

int pq_bit_width(uint64_t max)
{
    int w = 0;
    while (max != 0) {
        w++;
        max >>= 1;
    }
    return w;
}

/* Longest RLE run we emit: Encodings.md limits run lengths to 2^31 - 1. */
#define RLE_MAX_RUN 0x7fffffffu
/* Bit-packed runs are cut at 63 groups so their header is a single byte we can patch in place. */
#define BP_MAX_GROUPS 63

/* Worst case output for n values: per 8 values one RLE run (5 header + 4 value bytes) or a
 * bit-packed group (bw bytes + a header byte per 63 groups), plus a tail of 7 short runs. */
static size_t rle_bound(size_t n, int bw)
{
    return (n / 8 + 1) * ((size_t)bw + 10) + 7 * 10 + 16;
}

struct rle_state {
    uint8_t *p;       /* write position */
    uint8_t *bp_hdr;  /* header byte of the open bit-packed run, or NULL */
    unsigned groups;  /* groups in the open bit-packed run */
    int bw;
};

static void bp_close(struct rle_state *s)
{
    if (s->bp_hdr != NULL) {
        *s->bp_hdr = (uint8_t)((s->groups << 1) | 1u);
        s->bp_hdr = NULL;
        s->groups = 0;
    }
}

static void rle_run(struct rle_state *s, uint32_t value, size_t count)
{
    bp_close(s);
    int vbytes = (s->bw + 7) / 8;
    while (count > 0) {
        size_t c = count > RLE_MAX_RUN ? RLE_MAX_RUN : count;
        s->p += tc_uleb128(s->p, (uint64_t)c << 1);
        for (int k = 0; k < vbytes; k++) {
            *s->p++ = (uint8_t)(value >> (8 * k));
        }
        count -= c;
    }
}

static void bp_group_begin(struct rle_state *s)
{
    if (s->bp_hdr == NULL) {
        s->bp_hdr = s->p++;
        s->groups = 0;
    }
}

static void bp_group_end(struct rle_state *s)
{
    if (++s->groups == BP_MAX_GROUPS) {
        bp_close(s);
    }
}

/* The same run-splitting loop for both input element types; T is the element type. */
#define RLE_BODY(T)                                                                              \
    size_t i = 0;                                                                                \
    while (i < n) {                                                                              \
        T x = v[i];                                                                              \
        size_t r = 1;                                                                            \
        while (i + r < n && v[i + r] == x) {                                                     \
            r++;                                                                                 \
        }                                                                                        \
        if (r >= 8) {                                                                            \
            rle_run(&s, (uint32_t)x, r);                                                         \
            i += r;                                                                              \
        } else if (n - i >= 8) {                                                                 \
            bp_group_begin(&s);                                                                  \
            uint64_t acc = 0;                                                                    \
            int bits = 0;                                                                        \
            for (int k = 0; k < 8; k++) {                                                        \
                acc |= (uint64_t)v[i + (size_t)k] << bits;                                       \
                bits += s.bw;                                                                    \
                while (bits >= 8) {                                                              \
                    *s.p++ = (uint8_t)acc;                                                       \
                    acc >>= 8;                                                                   \
                    bits -= 8;                                                                   \
                }                                                                                \
            }                                                                                    \
            bp_group_end(&s);                                                                    \
            i += 8;                                                                              \
        } else {                                                                                 \
            /* Tail shorter than a group: short RLE runs instead of a padded group. */          \
            rle_run(&s, (uint32_t)x, r);                                                         \
            i += r;                                                                              \
        }                                                                                        \
    }                                                                                            \
    bp_close(&s);

int pq_rle_encode_u32(struct buf *out, const uint32_t *v, size_t n, int bw)
{
    if (buf_reserve(out, rle_bound(n, bw)) != 0) {
        return AE_NOMEM;
    }
    struct rle_state s = {(uint8_t *)out->data + out->len, NULL, 0, bw};
    RLE_BODY(uint32_t)
    out->len = (size_t)(s.p - (uint8_t *)out->data);
    out->data[out->len] = '\0';
    return 0;
}

int pq_rle_encode_levels(struct buf *out, const uint8_t *v, size_t n)
{
    if (buf_reserve(out, rle_bound(n, 1)) != 0) {
        return AE_NOMEM;
    }
    struct rle_state s = {(uint8_t *)out->data + out->len, NULL, 0, 1};
    RLE_BODY(uint8_t)
    out->len = (size_t)(s.p - (uint8_t *)out->data);
    out->data[out->len] = '\0';
    return 0;
}

int pq_plain_bool(struct buf *out, const uint8_t *v, size_t n)
{
    size_t nb = (n + 7) / 8;
    if (buf_reserve(out, nb) != 0) {
        return AE_NOMEM;
    }
    uint8_t *p = (uint8_t *)out->data + out->len;
    memset(p, 0, nb);
    for (size_t i = 0; i < n; i++) {
        p[i >> 3] |= (uint8_t)((v[i] & 1u) << (i & 7));
    }
    out->len += nb;
    out->data[out->len] = '\0';
    return 0;
}

int pq_decimal_flba_width(int precision)
{
    __int128 pow10 = 1;
    for (int i = 0; i < precision; i++) {
        pow10 *= 10;
    }
    __int128 maxunscaled = pow10 - 1;
    for (int n = 1; n < 16; n++) {
        __int128 lim = ((__int128)1 << (8 * n - 1)) - 1;
        if (lim >= maxunscaled) {
            return n;
        }
    }
    return 16;
}

void pq_put_i128be(uint8_t *p, __int128 v, int n)
{
    unsigned __int128 u = (unsigned __int128)v;
    for (int k = n - 1; k >= 0; k--) {
        p[k] = (uint8_t)u;
        u >>= 8;
    }
}
