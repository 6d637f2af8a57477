/*
 * codec.h - page compression for the Parquet writer (Compression.md, PARQUET.md §1.10).
 *
 * One pq_compressor per writer: it keeps the ZSTD_CCtx and the zlib stream alive across pages so
 * no page allocates a codec context. Every page becomes exactly one self-contained unit: one zstd
 * frame with its content size, one raw snappy block, or one RFC 1952 gzip member.
 */
#ifndef ASTRO_PARQUET_CODEC_H
#define ASTRO_PARQUET_CODEC_H

#include "parquet/pq.h"

#include <zlib.h>

struct pq_compressor {
    enum pq_codec codec;
    int level;
    void *zstd; /* ZSTD_CCtx *, owned */
    z_stream z;
    bool z_ready;
};

/* Prepares a compressor; level 0 means the codec default (zstd 3, gzip 6). AE_NOMEM/AE_CONFIG. */
int pq_compressor_init(struct pq_compressor *c, enum pq_codec codec, int level,
                       struct err *e) ASTRO_WUR;

/* Replaces the contents of dst with the compressed form of src[0..n). Not for PQ_CODEC_NONE. */
int pq_compress(struct pq_compressor *c, const void *src, size_t n, struct buf *dst,
                struct err *e) ASTRO_WUR;

/* Frees the contexts; c may be zeroed memory. */
void pq_compressor_release(struct pq_compressor *c);

#endif
