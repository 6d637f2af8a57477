/*
 * dstream.h - streaming page decompression for the Parquet reader: a page is decompressed a
 * piece at a time into a buffer the caller owns and slides, so that neither the compressed nor
 * the decompressed page is ever held whole (reader.c, "Large PLAIN pages").
 *
 * pq_snappy is a streaming decoder of the raw snappy format (snappy's format_description.txt:
 * a varint length, then literal and copy elements), written here because libsnappy has no
 * streaming API. Its copies read the output already produced, from the caller's buffer: the
 * caller keeps at least the last PQ_SNAPPY_HISTORY bytes produced in front of the write
 * position (every known writer compresses in blocks of at most 64 KiB, so no copy reaches
 * further); a copy that does reach further is reported (PQ_STREAM_FAR) and the caller falls back
 * to decompressing the page whole. pq_dstream wraps it, zstd's ZSTD_decompressStream, zlib's
 * inflate and plain copying behind one step function.
 *
 * Nothing here trusts the input: every length is checked against the declared size and every
 * copy against the output present; the output never passes the caller's capacity.
 */
#ifndef ASTRO_PARQUET_DSTREAM_H
#define ASTRO_PARQUET_DSTREAM_H

#include "parquet/decode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returned (> 0) by pq_snappy_decode and pq_dstream_step when a copy reaches back further than
 * the output the caller kept, but not before the start of the stream, or when a zstd frame asks
 * for a window larger than twice the page: a valid stream this decoder will not finish with the
 * memory it has (the caller decompresses the page whole). */
#define PQ_STREAM_FAR 1

/* How much output a snappy caller keeps in front of the write position. */
#define PQ_SNAPPY_HISTORY (64u << 10)

/* Raw snappy decoder state. Zero-initialise with pq_snappy_init. */
struct pq_snappy {
    uint64_t total;    /* the uncompressed length the preamble declares */
    uint64_t produced; /* bytes produced so far */
    int state;         /* where the decoder stands: preamble, tag, literal or copy */
    int len_shift;     /* preamble varint: bits read so far */
    uint8_t tag[5];    /* a tag and its extra bytes, when they arrive in pieces */
    uint8_t tag_have, tag_need;
    uint64_t left;   /* literal or copy bytes still to produce */
    uint64_t offset; /* copy offset */
};

void pq_snappy_init(struct pq_snappy *s);

/* Decodes in[0..n) into out[*op..cap). out[0..*op) must hold the last *op bytes produced (the
 * history copies may read). Consumes input until it is used up or the output is full; *used
 * gets the input bytes consumed and *op advances past the bytes written. Returns 0; AE_FORMAT
 * for a corrupt stream (a bad preamble, an offset of 0 or beyond the output so far, a length
 * past the declared total, data after the declared total); PQ_STREAM_FAR when a copy reaches
 * before out[0] (nothing of that copy is written; call again with more history). */
int pq_snappy_decode(struct pq_snappy *s, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                     size_t *op, size_t cap) ASTRO_WUR;

/* True once the preamble was read (s->total is known). */
bool pq_snappy_has_total(const struct pq_snappy *s);

/* True when the stream is complete: its declared length produced, and no element begun. */
bool pq_snappy_done(const struct pq_snappy *s);

/* The window a zstd frame starting at p[0..n) needs to be decompressed as a stream (RFC 8878
 * §3.1.1.1: Window_Size, or Frame_Content_Size when that is smaller or the frame is a single
 * segment), from its header; SIZE_MAX when p does not hold a whole frame header. */
size_t pq_zstd_window(const uint8_t *p, size_t n);

/* One page's streaming decompression; contexts are created on first use and freed by
 * pq_dstream_end / pq_dstream_release. */
struct pq_dstream {
    int codec;       /* parquet.thrift CompressionCodec: 0, 1 (SNAPPY), 2 (GZIP), 6 (ZSTD) */
    size_t total;    /* the uncompressed size the page header declares */
    size_t produced; /* bytes written to the caller so far */
    struct pq_snappy sn;
    struct pq_decompressor ctx; /* its own zstd and zlib contexts: several pages stream at once */
    size_t zret;                /* last ZSTD_decompressStream result: 0 when a frame is complete */
    bool z_end;                 /* the last gzip member ended and no input followed it yet */
};

void pq_dstream_init(struct pq_dstream *d);

/* True for the codecs pq_dstream reads (UNCOMPRESSED, SNAPPY, GZIP, ZSTD). */
bool pq_dstream_codec(int codec);

/* Starts a page of codec that must decompress to exactly total bytes. AE_NOMEM; AE_INTERNAL for
 * a codec pq_dstream_codec refuses. */
int pq_dstream_start(struct pq_dstream *d, int codec, size_t total, struct err *e) ASTRO_WUR;

/* Feeds the compressed bytes in[0..n) (the next ones of the page) and writes decompressed bytes
 * to out[*op..cap), never more than the page's total; out[0..*op) holds the latest output, as
 * for pq_snappy_decode. *used gets the input consumed (all of it unless the output filled up).
 * Returns 0; PQ_STREAM_FAR (see above); AE_FORMAT for corrupt data or more data
 * than the page declares; AE_NOMEM. */
int pq_dstream_step(struct pq_dstream *d, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                    size_t *op, size_t cap, struct err *e) ASTRO_WUR;

/* Called once every compressed byte of the page was fed: AE_FORMAT unless exactly the declared
 * total came out and the codec's stream ended there. Frees the codec context either way. */
int pq_dstream_end(struct pq_dstream *d, struct err *e) ASTRO_WUR;

/* Frees the contexts; d may be zeroed memory. */
void pq_dstream_release(struct pq_dstream *d);

#endif
