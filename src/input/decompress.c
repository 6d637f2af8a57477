/*
 * decompress.c - the four codecs of delivered files and their registry (decompress.h), each a
 * thin streaming wrapper over Debian's library: zlib (gzip, RFC 1952), libzstd, libbz2, liblzma.
 *
 * Every step function keeps the contract of dcodec_ops.step: with finish, consuming all input
 * without output ends in DC_END (the last member was complete) or DC_ERROR (it was not), so the
 * source's read loop always terminates. Members: gzip and bzip2 decoders stop at the end of each
 * member and are reset when more input follows; zstd and xz (LZMA_CONCATENATED) go on by
 * themselves.
 */
#include "input/decompress.h"

#include <bzlib.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

enum dcodec dcodec_sniff(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        return DCODEC_GZIP;
    }
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
        return DCODEC_ZSTD;
    }
    if (n >= 6 && memcmp(p,
                         "\xfd"
                         "7zXZ\0",
                         6) == 0) {
        return DCODEC_XZ;
    }
    /* bzip2: "BZh", the block size '1'..'9', then a block (pi) or end-of-stream (sqrt pi) magic. */
    if (n >= 10 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9' &&
        (memcmp(p + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
         memcmp(p + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0)) {
        return DCODEC_BZIP2;
    }
    return DCODEC_NONE;
}

static const struct {
    const char *ext;
    enum dcodec c;
} exts[] = {{".gz", DCODEC_GZIP},
            {".zst", DCODEC_ZSTD},
            {".zstd", DCODEC_ZSTD},
            {".bz2", DCODEC_BZIP2},
            {".xz", DCODEC_XZ}};

static size_t ext_index(const char *name, bool *found)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t k = strlen(exts[i].ext);
        if (n > k && strcasecmp(name + n - k, exts[i].ext) == 0) {
            *found = true;
            return i;
        }
    }
    *found = false;
    return 0;
}

enum dcodec dcodec_by_name(const char *name)
{
    bool found;
    size_t i = ext_index(name, &found);
    return found ? exts[i].c : DCODEC_NONE;
}

size_t dcodec_ext_len(const char *name)
{
    bool found;
    size_t i = ext_index(name, &found);
    return found ? strlen(exts[i].ext) : 0;
}

/* ---- gzip ------------------------------------------------------------------------------- */

struct gz_state {
    z_stream z;
    bool between; /* a member just ended: more input starts the next one */
};

static void *gz_init(void)
{
    struct gz_state *g = calloc(1, sizeof(*g));
    /* 16 + MAX_WBITS: gzip wrapper only (RFC 1952), with its CRC-32 and length checked. */
    if (g != NULL && inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
        free(g);
        g = NULL;
    }
    return g;
}

static int gz_step(void *st, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
                   bool finish, char *why, size_t n)
{
    struct gz_state *g = st;
    z_stream *z = &g->z;
    /* zlib counts in uInt: feed at most 1 GiB per call. */
    uInt ain = *in_len > (1u << 30) ? (1u << 30) : (uInt)*in_len;
    uInt aout = *out_len > (1u << 30) ? (1u << 30) : (uInt)*out_len;
    if (g->between && ain > 0) {
        if (inflateReset(z) != Z_OK) {
            snprintf(why, n, "cannot restart the gzip decoder");
            return DC_ERROR;
        }
        g->between = false;
    }
    if (g->between) {
        return finish ? DC_END : DC_OK;
    }
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = ain;
    z->next_out = out;
    z->avail_out = aout;
    int zr = inflate(z, Z_NO_FLUSH);
    *in_len -= ain - z->avail_in;
    *out_len -= aout - z->avail_out;
    bool progress = z->avail_in != ain || z->avail_out != aout;
    if (zr == Z_STREAM_END) {
        g->between = true;
        return (finish && *in_len == 0 && !progress) ? DC_END : DC_OK;
    }
    if (zr == Z_OK || (zr == Z_BUF_ERROR && (progress || !finish || *in_len > 0))) {
        if (!progress && finish && *in_len == 0) {
            snprintf(why, n, "the gzip data ends before its last member is complete (truncated)");
            return DC_ERROR;
        }
        return DC_OK;
    }
    if (zr == Z_BUF_ERROR) {
        snprintf(why, n, "the gzip data ends before its last member is complete (truncated)");
    } else if (zr == Z_MEM_ERROR) {
        snprintf(why, n, "out of memory in the gzip decoder");
    } else {
        snprintf(why, n, "corrupt gzip data (%s)", z->msg != NULL ? z->msg : "zlib error");
    }
    return DC_ERROR;
}

static void gz_free(void *st)
{
    struct gz_state *g = st;
    if (g != NULL) {
        inflateEnd(&g->z);
        free(g);
    }
}

/* ---- zstd ------------------------------------------------------------------------------- */

struct zs_state {
    ZSTD_DStream *d;
    size_t last; /* the return of the last call that made progress: 0 = at a frame boundary */
};

static void *zs_init(void)
{
    struct zs_state *z = calloc(1, sizeof(*z));
    if (z == NULL) {
        return NULL;
    }
    z->last = 1; /* no frame yet: nothing is complete */
    z->d = ZSTD_createDStream();
    if (z->d == NULL || ZSTD_isError(ZSTD_initDStream(z->d))) {
        ZSTD_freeDStream(z->d);
        free(z);
        return NULL;
    }
    return z;
}

static int zs_step(void *st, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
                   bool finish, char *why, size_t n)
{
    struct zs_state *z = st;
    ZSTD_inBuffer ib = {in, *in_len, 0};
    ZSTD_outBuffer ob = {out, *out_len, 0};
    size_t r = ZSTD_decompressStream(z->d, &ob, &ib);
    if (ZSTD_isError(r)) {
        snprintf(why, n, "corrupt zstd data (%s)", ZSTD_getErrorName(r));
        return DC_ERROR;
    }
    *in_len -= ib.pos;
    *out_len -= ob.pos;
    if (ib.pos > 0 || ob.pos > 0) {
        /* A call without progress answers for the next frame, not the last one. */
        z->last = r;
    } else if (finish && *in_len == 0) {
        if (z->last == 0) {
            return DC_END;
        }
        snprintf(why, n, "the zstd data ends inside a frame (truncated)");
        return DC_ERROR;
    }
    return DC_OK;
}

static void zs_free(void *st)
{
    struct zs_state *z = st;
    if (z != NULL) {
        ZSTD_freeDStream(z->d);
        free(z);
    }
}

/* ---- bzip2 ------------------------------------------------------------------------------ */

struct bz_state {
    bz_stream s;
    bool live;    /* s is initialised */
    bool between; /* a stream just ended */
};

static void *bz_init(void)
{
    struct bz_state *b = calloc(1, sizeof(*b));
    if (b != NULL && BZ2_bzDecompressInit(&b->s, 0, 0) != BZ_OK) {
        free(b);
        return NULL;
    }
    if (b != NULL) {
        b->live = true;
    }
    return b;
}

static int bz_step(void *st, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
                   bool finish, char *why, size_t n)
{
    struct bz_state *b = st;
    unsigned ain = *in_len > (1u << 30) ? (1u << 30) : (unsigned)*in_len;
    unsigned aout = *out_len > (1u << 30) ? (1u << 30) : (unsigned)*out_len;
    if (b->between && ain > 0) {
        BZ2_bzDecompressEnd(&b->s);
        memset(&b->s, 0, sizeof(b->s));
        b->live = BZ2_bzDecompressInit(&b->s, 0, 0) == BZ_OK;
        if (!b->live) {
            snprintf(why, n, "cannot restart the bzip2 decoder");
            return DC_ERROR;
        }
        b->between = false;
    }
    if (b->between) {
        return finish ? DC_END : DC_OK;
    }
    b->s.next_in = (char *)(uintptr_t)in;
    b->s.avail_in = ain;
    b->s.next_out = (char *)out;
    b->s.avail_out = aout;
    int r = BZ2_bzDecompress(&b->s);
    *in_len -= ain - b->s.avail_in;
    *out_len -= aout - b->s.avail_out;
    bool progress = b->s.avail_in != ain || b->s.avail_out != aout;
    if (r == BZ_STREAM_END) {
        b->between = true;
        return (finish && *in_len == 0 && !progress) ? DC_END : DC_OK;
    }
    if (r == BZ_OK) {
        if (!progress && finish && *in_len == 0) {
            snprintf(why, n, "the bzip2 data ends before its last stream is complete (truncated)");
            return DC_ERROR;
        }
        return DC_OK;
    }
    snprintf(why, n, "corrupt bzip2 data (libbz2 error %d%s)", r,
             r == BZ_DATA_ERROR_MAGIC ? ": not a bzip2 stream" : "");
    return DC_ERROR;
}

static void bz_free(void *st)
{
    struct bz_state *b = st;
    if (b != NULL) {
        if (b->live) {
            BZ2_bzDecompressEnd(&b->s);
        }
        free(b);
    }
}

/* ---- xz --------------------------------------------------------------------------------- */

struct xz_state {
    lzma_stream s;
    bool done; /* LZMA_STREAM_END was returned: the decoder takes no further call */
};

static void *xz_init(void)
{
    struct xz_state *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return NULL;
    }
    lzma_stream init = LZMA_STREAM_INIT;
    x->s = init;
    if (lzma_stream_decoder(&x->s, DCODEC_XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK) {
        free(x);
        return NULL;
    }
    return x;
}

static int xz_step(void *st, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
                   bool finish, char *why, size_t n)
{
    struct xz_state *x = st;
    if (x->done) {
        if (*in_len > 0) {
            snprintf(why, n, "data after the end of the xz stream");
            return DC_ERROR;
        }
        return DC_END;
    }
    x->s.next_in = in;
    x->s.avail_in = *in_len;
    x->s.next_out = out;
    x->s.avail_out = *out_len;
    lzma_ret r = lzma_code(&x->s, finish ? LZMA_FINISH : LZMA_RUN);
    bool progress = x->s.avail_in != *in_len || x->s.avail_out != *out_len;
    *in_len = x->s.avail_in;
    *out_len = x->s.avail_out;
    switch (r) {
    case LZMA_OK: return DC_OK;
    case LZMA_STREAM_END: x->done = true; return progress ? DC_OK : DC_END;
    case LZMA_BUF_ERROR:
        if (!finish) {
            return DC_OK;
        }
        snprintf(why, n, "the xz data ends inside a stream (truncated)");
        return DC_ERROR;
    case LZMA_MEMLIMIT_ERROR:
        snprintf(why, n, "the xz data needs more than %llu MiB to decode",
                 (unsigned long long)(DCODEC_XZ_MEMLIMIT >> 20));
        return DC_ERROR;
    case LZMA_MEM_ERROR: snprintf(why, n, "out of memory in the xz decoder"); return DC_ERROR;
    case LZMA_FORMAT_ERROR: snprintf(why, n, "not xz data"); return DC_ERROR;
    default: snprintf(why, n, "corrupt xz data (liblzma error %d)", (int)r); return DC_ERROR;
    }
}

static void xz_free(void *st)
{
    struct xz_state *x = st;
    if (x != NULL) {
        lzma_end(&x->s);
        free(x);
    }
}

static const struct dcodec_ops gz_ops = {"gzip", gz_init, gz_step, gz_free};
static const struct dcodec_ops zs_ops = {"zstd", zs_init, zs_step, zs_free};
static const struct dcodec_ops bz_ops = {"bzip2", bz_init, bz_step, bz_free};
static const struct dcodec_ops xz_ops = {"xz", xz_init, xz_step, xz_free};

const struct dcodec_ops *dcodec_ops_for(enum dcodec c)
{
    /* No default: -Wswitch names this place when a codec is added. */
    switch (c) {
    case DCODEC_NONE: return NULL;
    case DCODEC_GZIP: return &gz_ops;
    case DCODEC_ZSTD: return &zs_ops;
    case DCODEC_BZIP2: return &bz_ops;
    case DCODEC_XZ: return &xz_ops;
    }
    return NULL;
}
