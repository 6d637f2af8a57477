/*
 * encode.h - Parquet value encodings used by the writer (Encodings.md).
 *
 * The RLE / bit-packed hybrid encoder follows PARQUET.md §1.5: a run of 8 or more equal values
 * becomes an RLE run, other values are bit-packed in full groups of 8 only (at most 63 groups per
 * run, so the run header is one byte), and a tail of fewer than 8 values is written as short RLE
 * runs, so no group is ever padded and no run is ever empty. All encoders append to a struct buf
 * (borrowed) and return 0 or AE_NOMEM.
 */
#ifndef ASTRO_PARQUET_ENCODE_H
#define ASTRO_PARQUET_ENCODE_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Bits needed to hold max (0 for 0). */
int pq_bit_width(uint64_t max);

/* Hybrid encoding of n values of bit width bw (1..32), each < 2^bw. No length prefix. */
int pq_rle_encode_u32(struct buf *out, const uint32_t *v, size_t n, int bw) ASTRO_WUR;

/* Hybrid encoding of n definition levels (0 or 1) with bit width 1. No length prefix. */
int pq_rle_encode_levels(struct buf *out, const uint8_t *v, size_t n) ASTRO_WUR;

/* PLAIN BOOLEAN: one bit per value, LSB first, last byte zero-padded. v holds 0/1 bytes. */
int pq_plain_bool(struct buf *out, const uint8_t *v, size_t n) ASTRO_WUR;

/* Little-endian stores (explicit, so no host-order assumption leaks into the format). */
static inline void pq_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void pq_put_u64le(uint8_t *p, uint64_t v)
{
    pq_put_u32le(p, (uint32_t)v);
    pq_put_u32le(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t pq_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t pq_get_u64le(const uint8_t *p)
{
    return (uint64_t)pq_get_u32le(p) | ((uint64_t)pq_get_u32le(p + 4) << 32);
}

/* Minimal FIXED_LEN_BYTE_ARRAY width for a decimal of precision p (1..38): the smallest n with
 * 2^(8n-1) - 1 >= 10^p - 1 (LogicalTypes.md, DECIMAL). */
int pq_decimal_flba_width(int precision);

/* Writes v as n big-endian two's-complement bytes (n <= 16). */
void pq_put_i128be(uint8_t *p, __int128 v, int n);

#endif
