/*
 * decode.h - value decodings and page decompression for the Parquet reader (Encodings.md,
 * Compression.md), all bounds-checked against their input because the input is a file we do
 * not trust.
 *
 * The RLE / bit-packed hybrid decoder is a stream: it decodes as many values as asked and keeps
 * its place, so a page of millions of levels or indices needs no array of that size. A
 * pq_decompressor keeps its codec contexts across pages, like the writer's pq_compressor.
 */
#ifndef ASTRO_PARQUET_DECODE_H
#define ASTRO_PARQUET_DECODE_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* Hybrid RLE / bit-packed decoder state (Encodings.md "Run Length Encoding / Bit-Packing
 * Hybrid"). Borrows the bytes. */
struct pq_rle {
    const uint8_t *p;    /* next run header */
    const uint8_t *end;  /* end of the encoded data */
    int bw;              /* bit width 0..32 */
    uint32_t left;       /* values left in the current run */
    bool packed;         /* current run is bit-packed */
    uint32_t value;      /* RLE run value */
    const uint8_t *bits; /* bit-packed run data */
    uint64_t bitpos;     /* next bit inside bits */
};

/* Starts decoding n bytes at p with bit width bw (0..32; AE_FORMAT otherwise). */
int pq_rle_init(struct pq_rle *r, const void *p, size_t n, int bw) ASTRO_WUR;

/* Decodes exactly n values into out. AE_FORMAT when the data ends first or is corrupt. */
int pq_rle_get(struct pq_rle *r, uint32_t *out, size_t n) ASTRO_WUR;

/* Decodes exactly n values that must each be 0 or 1 (definition levels of a flat column, booleans)
 * into out as bytes; *ones gets the number of 1s. AE_FORMAT on a larger value or short data. */
int pq_rle_get_u8(struct pq_rle *r, uint8_t *out, size_t n, size_t *ones) ASTRO_WUR;

/* DELTA_BINARY_PACKED decoder state (Encodings.md "Delta Encoding"): a header (block size,
 * miniblocks per block, value count, first value), then blocks of a zigzag min delta, one bit
 * width byte per miniblock, and the bit-packed miniblocks. Values are produced in wrapping 64-bit
 * arithmetic, as the spec requires (INT32 callers truncate). Borrows the bytes. */
struct pq_delta {
    const uint8_t *p, *end;
    uint64_t per_mini;  /* values per miniblock */
    uint32_t nminis;    /* miniblocks per block */
    uint64_t total;     /* values in the stream */
    uint64_t done;      /* values produced */
    uint64_t last;      /* last value produced */
    uint64_t min_delta; /* current block's min delta */
    const uint8_t *widths;
    uint32_t mini;      /* next miniblock of the current block */
    uint64_t mini_left; /* values left in the current miniblock */
    const uint8_t *bits;
    uint64_t bitpos;
    int bw;
};

/* Reads the header at p[0..n). AE_FORMAT on a malformed header. */
int pq_delta_init(struct pq_delta *d, const void *p, size_t n) ASTRO_WUR;

/* Produces exactly n values. AE_FORMAT when the stream ends first or is corrupt. */
int pq_delta_get(struct pq_delta *d, int64_t *out, size_t n) ASTRO_WUR;

/* Walks the remaining blocks without decoding values (O(miniblocks), no allocation) and marks
 * the stream consumed, so that pq_delta_end() gives the bytes after it. AE_FORMAT if short. */
int pq_delta_skip(struct pq_delta *d) ASTRO_WUR;

/* Where the bytes after the stream start, once all d->total values were produced (the last
 * miniblock used is whole; unused ones take no bytes). */
const uint8_t *pq_delta_end(const struct pq_delta *d);

/* True when p[0..n) is valid UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF). */
bool pq_utf8_valid(const uint8_t *p, size_t n);

/* Big-endian two's-complement integer of n bytes (1..16) as __int128; n == 0 gives 0. */
__int128 pq_get_i128be(const uint8_t *p, size_t n);

/* Page decompression. codec is the parquet.thrift CompressionCodec value. */
struct pq_decompressor {
    void *zstd; /* ZSTD_DCtx *, owned */
    z_stream z;
    bool z_ready;
};

void pq_decompressor_init(struct pq_decompressor *d);

/* Makes d->z ready for a new gzip page (created on first use, reset after), reading gzip and
 * zlib members (windowBits 32 + 15). AE_NOMEM; AE_INTERNAL. */
int pq_decompressor_gzip(struct pq_decompressor *d, struct err *e) ASTRO_WUR;

/* Creates d->zstd on first use. AE_NOMEM. */
int pq_decompressor_zstd(struct pq_decompressor *d, struct err *e) ASTRO_WUR;

/* Decompresses src[0..n) into dst (replacing its contents), which must come out at exactly
 * expect bytes (the page header's uncompressed size). AE_FORMAT for corrupt data, a size
 * mismatch, or a codec we do not read (named in the message); AE_NOMEM. */
int pq_decompress(struct pq_decompressor *d, int codec, const void *src, size_t n, size_t expect,
                  struct buf *dst, struct err *e) ASTRO_WUR;

/* Name of a parquet.thrift CompressionCodec value ("SNAPPY", "LZ4_RAW", ...). */
const char *pq_codec_name(int codec);

/* True for the codecs pq_decompress reads. */
bool pq_codec_supported(int codec);

void pq_decompressor_release(struct pq_decompressor *d);

#endif
