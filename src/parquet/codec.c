/*
 * codec.c - ZSTD, SNAPPY (raw block) and GZIP (RFC 1952) page compression, and codec names.
 */
#include "parquet/codec.h"
#include "util/dl.h"

#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zstd.h>

/* libsnappy (C++, with libstdc++) is loaded when astro first writes snappy pages, not linked:
 * snappy pages are read by astro's own decoder (dstream.c), so a run that writes no snappy loads
 * neither (about 1.5 MiB of resident memory). */
#define LSN_SONAME "libsnappy.so.1"
static struct {
    __typeof__(snappy_compress) *compress;
    __typeof__(snappy_max_compressed_length) *max_compressed_length;
} lsn;
static const struct dl_sym lsn_syms[] = {
    {"snappy_compress", &lsn.compress},
    {"snappy_max_compressed_length", &lsn.max_compressed_length},
};
static struct dl_lib lsn_lib = DL_LIB(LSN_SONAME, lsn_syms);

int pq_codec_parse(const char *s, enum pq_codec *out, struct err *e)
{
    static const struct {
        const char *name;
        enum pq_codec codec;
    } names[] = {{"zstd", PQ_CODEC_ZSTD},
                 {"snappy", PQ_CODEC_SNAPPY},
                 {"gzip", PQ_CODEC_GZIP},
                 {"none", PQ_CODEC_NONE},
                 {"uncompressed", PQ_CODEC_NONE}};
    for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].codec;
            return 0;
        }
    }
    return err_set(e, AE_CONFIG,
                   "unknown Parquet compression '%s': expected zstd, snappy, gzip or none",
                   s ? s : "");
}

int pq_compressor_init(struct pq_compressor *c, enum pq_codec codec, int level, struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->codec = codec;
    switch (codec) {
    case PQ_CODEC_NONE:
        return 0;
    case PQ_CODEC_SNAPPY:
        if (dl_ready(&lsn_lib) != NULL) {
            return err_set(e, AE_IO,
                           "cannot load the snappy library for snappy pages (Debian package "
                           "libsnappy1v5): %s",
                           dl_ready(&lsn_lib));
        }
        return 0;
    case PQ_CODEC_ZSTD:
        c->level = level ? level : 3;
        if (c->level < ZSTD_minCLevel() || c->level > ZSTD_maxCLevel()) {
            return err_set(e, AE_CONFIG, "zstd level %d is out of range %d..%d", c->level,
                           ZSTD_minCLevel(), ZSTD_maxCLevel());
        }
        c->zstd = ZSTD_createCCtx();
        if (c->zstd == NULL) {
            return err_set(e, AE_NOMEM, "out of memory creating a zstd context");
        }
        return 0;
    case PQ_CODEC_GZIP:
        c->level = level ? level : 6;
        if (c->level < 1 || c->level > 9) {
            return err_set(e, AE_CONFIG, "gzip level %d is out of range 1..9", c->level);
        }
        /* windowBits 15 + 16 selects the gzip (RFC 1952) wrapper, as Compression.md requires. */
        if (deflateInit2(&c->z, c->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            return err_set(e, AE_NOMEM, "cannot initialise zlib for gzip pages");
        }
        c->z_ready = true;
        return 0;
    }
    return err_set(e, AE_CONFIG, "unsupported Parquet codec %d", (int)codec);
}

static int gzip_page(struct pq_compressor *c, const void *src, size_t n, struct buf *dst,
                     struct err *e)
{
    if (n > UINT32_MAX) {
        return err_set(e, AE_INTERNAL, "page of %zu bytes is too large for gzip", n);
    }
    if (deflateReset(&c->z) != Z_OK) {
        return err_set(e, AE_INTERNAL, "zlib deflateReset failed");
    }
    uLong bound = deflateBound(&c->z, (uLong)n);
    if (buf_reserve(dst, bound) != 0) {
        return err_set(e, AE_NOMEM, "out of memory compressing a page");
    }
    c->z.next_in = (Bytef *)(uintptr_t)src;
    c->z.avail_in = (uInt)n;
    c->z.next_out = (Bytef *)dst->data;
    c->z.avail_out = (uInt)bound;
    int rc = deflate(&c->z, Z_FINISH);
    if (rc != Z_STREAM_END) {
        return err_set(e, AE_INTERNAL, "zlib deflate failed (%d)", rc);
    }
    dst->len = bound - c->z.avail_out;
    dst->data[dst->len] = '\0';
    return 0;
}

int pq_compress(struct pq_compressor *c, const void *src, size_t n, struct buf *dst, struct err *e)
{
    buf_reset(dst);
    switch (c->codec) {
    case PQ_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(n);
        if (buf_reserve(dst, bound) != 0) {
            return err_set(e, AE_NOMEM, "out of memory compressing a page");
        }
        size_t r = ZSTD_compressCCtx(c->zstd, dst->data, bound, src, n, c->level);
        if (ZSTD_isError(r)) {
            return err_set(e, AE_INTERNAL, "zstd compression failed: %s", ZSTD_getErrorName(r));
        }
        dst->len = r;
        dst->data[r] = '\0';
        return 0;
    }
    case PQ_CODEC_SNAPPY: {
        size_t bound = lsn.max_compressed_length(n);
        if (buf_reserve(dst, bound) != 0) {
            return err_set(e, AE_NOMEM, "out of memory compressing a page");
        }
        size_t outlen = bound;
        if (lsn.compress(src, n, dst->data, &outlen) != SNAPPY_OK) {
            return err_set(e, AE_INTERNAL, "snappy compression failed");
        }
        dst->len = outlen;
        dst->data[outlen] = '\0';
        return 0;
    }
    case PQ_CODEC_GZIP:
        return gzip_page(c, src, n, dst, e);
    case PQ_CODEC_NONE:
        break;
    }
    return err_set(e, AE_INTERNAL, "pq_compress called for codec %d", (int)c->codec);
}

void pq_compressor_release(struct pq_compressor *c)
{
    if (c->zstd != NULL) {
        ZSTD_freeCCtx(c->zstd);
        c->zstd = NULL;
    }
    if (c->z_ready) {
        deflateEnd(&c->z);
        c->z_ready = false;
    }
}
