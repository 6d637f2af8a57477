/*
 * test_pq_snappy.c - the streaming raw snappy decoder (src/parquet/dstream.h) against libsnappy.
 *
 * Data of every shape libsnappy's compressor turns into different elements (random bytes: long
 * literals; runs of one byte: overlapping copies with offset 1; short periods: offset < length;
 * repeated 50 KiB blocks: long copies; sizes on the 64 KiB block boundaries; empty) is
 * compressed with snappy_compress and decoded with pq_snappy_decode fed in pieces of every size
 * from 1 byte up (each piece in a buffer of its own exact size, so that AddressSanitizer catches
 * a read past it) into an output buffer that slides, keeping PQ_SNAPPY_HISTORY bytes, as the
 * reader's does; the result must be byte-identical to snappy_uncompress. Hand-built streams
 * check what must be refused (truncated, offset 0, offset past the output, a length past the
 * declared total, a bad preamble, data after the end) and the PQ_STREAM_FAR report of a copy
 * that reaches further back than the history kept. The pq_dstream tests run zstd, gzip and
 * plain pages through the same sliding buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/dstream.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

enum shape { SH_RANDOM, SH_RUN, SH_PERIOD, SH_BLOCKS, SH_TEXT, SH_MIXED };

/* n bytes of the given shape (malloc'd, at least 1 byte). */
static uint8_t *gen(enum shape sh, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        switch (sh) {
        case SH_RANDOM: p[i] = (uint8_t)next_rand(); break;
        case SH_RUN: p[i] = 'a'; break;
        case SH_PERIOD: p[i] = (uint8_t)("abc"[i % 3]); break;
        case SH_BLOCKS:
            /* a random block of 50000 bytes, repeated: copies 50000 bytes back */
            p[i] = i < 50000 ? (uint8_t)next_rand() : p[i - 50000];
            break;
        case SH_TEXT: {
            /* e-mail-like strings with their PLAIN length prefixes */
            static const char *const names[] = {"mateo", "nguyen", "olivia", "smith", "li.wu"};
            p[i] = i % 37 < 4 ? (uint8_t)(i % 37) : (uint8_t)names[(i / 37) % 5][i % 5];
            if (i % 37 == 20) {
                p[i] = (uint8_t)('0' + next_rand() % 10);
            }
            break;
        }
        case SH_MIXED:
            /* stretches of random bytes and of repeats, so literals and copies alternate */
            p[i] = (i / 300) % 2 ? (uint8_t)next_rand() : (uint8_t)(i % 7);
            break;
        }
    }
    return p;
}

static uint8_t *sn_compress(const uint8_t *src, size_t n, size_t *clen)
{
    size_t cap = snappy_max_compressed_length(n);
    uint8_t *c = malloc(cap);
    assert_non_null(c);
    *clen = cap;
    assert_int_equal(snappy_compress((const char *)src, n, (char *)c, clen), SNAPPY_OK);
    return c;
}

/* Decodes comp[0..clen) fed chunk bytes at a time (each piece copied to a buffer of its exact
 * size) into a buffer of PQ_SNAPPY_HISTORY + ostep bytes that slides, keeping the last
 * `keep` bytes, and appends the output to *res (malloc'd, *rlen bytes). Returns the decoder's
 * code, or AE_FORMAT when the input ends before the stream is complete. */
static int stream(const uint8_t *comp, size_t clen, size_t chunk, size_t ostep, size_t keep,
                  uint8_t **res, size_t *rlen)
{
    struct pq_snappy s;
    pq_snappy_init(&s);
    size_t cap = keep + ostep;
    uint8_t *w = malloc(cap);
    assert_non_null(w);
    size_t op = 0, ip = 0, plen = 0, pused = 0, rcap = 1024;
    uint8_t *piece = NULL;
    *res = malloc(rcap);
    *rlen = 0;
    int rc = 0;
    for (;;) {
        if (pused == plen && ip < clen) {
            plen = clen - ip < chunk ? clen - ip : chunk;
            free(piece);
            piece = malloc(plen);
            assert_non_null(piece);
            memcpy(piece, comp + ip, plen);
            ip += plen;
            pused = 0;
        }
        if (op == cap) {
            memmove(w, w + op - keep, keep);
            op = keep;
        }
        size_t used = 0, before = op;
        static const uint8_t none[1] = {0};
        const uint8_t *in = piece != NULL ? piece + pused : none;
        rc = pq_snappy_decode(&s, in, plen - pused, &used, w, &op, cap);
        assert_true(used <= plen - pused);
        assert_true(op >= before && op <= cap);
        while (*rlen + (op - before) > rcap) {
            rcap *= 2;
            *res = realloc(*res, rcap);
            assert_non_null(*res);
        }
        memcpy(*res + *rlen, w + before, op - before);
        *rlen += op - before;
        pused += used;
        if (rc != 0) {
            break;
        }
        if (used == 0 && op == before && op < cap) {
            /* No progress with room to write: only once every byte was fed. */
            assert_true(pused == plen && ip == clen);
            break;
        }
    }
    if (rc == 0 && !pq_snappy_done(&s)) {
        rc = AE_FORMAT;
    }
    free(piece);
    free(w);
    return rc;
}

static void check_roundtrip(const uint8_t *src, size_t n, size_t chunk, size_t ostep)
{
    size_t clen, rlen;
    uint8_t *comp = sn_compress(src, n, &clen), *res;
    size_t ulen = 0;
    assert_int_equal(snappy_uncompressed_length((const char *)comp, clen, &ulen), SNAPPY_OK);
    assert_int_equal(ulen, n);
    int rc = stream(comp, clen, chunk, ostep, PQ_SNAPPY_HISTORY, &res, &rlen);
    if (rc != 0 || rlen != n || (n > 0 && memcmp(res, src, n) != 0)) {
        fail_msg("n=%zu chunk=%zu ostep=%zu: rc=%d, %zu bytes out", n, chunk, ostep, rc, rlen);
    }
    free(res);
    free(comp);
}

/* Every piece size from 1 byte to the whole stream on small inputs. */
static void test_every_chunk_size(void **state)
{
    (void)state;
    static const enum shape shapes[] = {SH_RANDOM, SH_RUN, SH_PERIOD, SH_TEXT, SH_MIXED};
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        uint8_t *src = gen(shapes[k], 3000);
        size_t clen;
        uint8_t *comp = sn_compress(src, 3000, &clen);
        free(comp);
        for (size_t chunk = 1; chunk <= clen + 1; chunk++) {
            check_roundtrip(src, 3000, chunk, chunk % 3 == 0 ? 7 : 4096);
        }
        free(src);
    }
}

/* Larger inputs across the 64 KiB block boundaries, with pieces of sizes around them. */
static void test_shapes_and_boundaries(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 60, 61, 65535, 65536, 65537, 131072, 200000, 1 << 20};
    static const size_t chunks[] = {1, 2, 3, 5, 64, 1000, 65535, 65536, 65537, 1u << 30};
    static const enum shape shapes[] = {SH_RANDOM, SH_RUN, SH_PERIOD, SH_BLOCKS, SH_TEXT, SH_MIXED};
    for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++) {
        for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
            uint8_t *src = gen(shapes[k], sizes[a]);
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                if (sizes[a] >= 131072 && chunks[c] < 5) {
                    continue; /* covered at the smaller sizes; keeps the test fast */
                }
                check_roundtrip(src, sizes[a], chunks[c], 128u << 10);
                if (c % 3 == 0 && sizes[a] <= 200000) {
                    check_roundtrip(src, sizes[a], chunks[c], 100); /* slides often */
                }
            }
            free(src);
        }
    }
}

/* A stream built by hand: preamble total, then the given element bytes. */
static int decode_whole(const uint8_t *comp, size_t n, uint8_t *out, size_t cap, size_t *op)
{
    struct pq_snappy s;
    pq_snappy_init(&s);
    size_t used = 0;
    *op = 0;
    int rc = pq_snappy_decode(&s, comp, n, &used, out, op, cap);
    if (rc == 0 && !pq_snappy_done(&s)) {
        rc = AE_FORMAT;
    }
    return rc;
}

static void expect_refused(const uint8_t *comp, size_t n, const char *what)
{
    uint8_t *in = malloc(n ? n : 1), out[256];
    memcpy(in, comp, n);
    size_t op = 0, len = sizeof(out);
    int rc = decode_whole(in, n, out, sizeof(out), &op);
    if (rc != AE_FORMAT) {
        fail_msg("%s: decoder returned %d", what, rc);
    }
    /* libsnappy refuses it too (the cases are invalid streams, not quirks of ours). */
    if (snappy_uncompress((const char *)in, n, (char *)out, &len) == SNAPPY_OK) {
        fail_msg("%s: libsnappy accepts it", what);
    }
    /* and so does the streaming path one byte at a time */
    uint8_t *res = NULL;
    size_t rlen = 0;
    assert_int_equal(stream(in, n, 1, 16, 64, &res, &rlen), AE_FORMAT);
    free(res);
    free(in);
}

static void test_corrupt(void **state)
{
    (void)state;
    /* "abcd" then copy(offset 4, length 4): a valid stream of 8 bytes. */
    static const uint8_t ok[] = {8, 3 << 2, 'a', 'b', 'c', 'd', 0x01 | (0 << 2), 4};
    uint8_t out[64];
    size_t op;
    assert_int_equal(decode_whole(ok, sizeof(ok), out, sizeof(out), &op), 0);
    assert_int_equal(op, 8);
    assert_memory_equal(out, "abcdabcd", 8);
    /* Truncated: every proper prefix. */
    for (size_t n = 0; n < sizeof(ok); n++) {
        char what[32];
        snprintf(what, sizeof(what), "prefix of %zu bytes", n);
        expect_refused(ok, n, what);
    }
    static const uint8_t off0[] = {8, 3 << 2, 'a', 'b', 'c', 'd', 0x01, 0};
    expect_refused(off0, sizeof(off0), "offset 0");
    static const uint8_t off5[] = {8, 3 << 2, 'a', 'b', 'c', 'd', 0x01, 5};
    expect_refused(off5, sizeof(off5), "offset beyond the output");
    static const uint8_t off4b[] = {8, 3 << 2, 'a', 'b', 'c', 'd', 0x03 | (3 << 2), 9, 0, 0, 0};
    expect_refused(off4b, sizeof(off4b), "4-byte offset beyond the output");
    static const uint8_t litlong[] = {3, 3 << 2, 'a', 'b', 'c', 'd'};
    expect_refused(litlong, sizeof(litlong), "literal longer than the total");
    static const uint8_t copylong[] = {6, 3 << 2, 'a', 'b', 'c', 'd', 0x01, 4};
    expect_refused(copylong, sizeof(copylong), "copy longer than the total");
    /* A literal whose 4-byte length (len - 1 = 0xffffffff) passes any total. */
    static const uint8_t lit4[] = {8, 63 << 2, 0xff, 0xff, 0xff, 0xff, 'a'};
    expect_refused(lit4, sizeof(lit4), "literal length overflow");
    static const uint8_t pre6[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0};
    expect_refused(pre6, sizeof(pre6), "preamble of 6 bytes");
    static const uint8_t pre33[] = {0xff, 0xff, 0xff, 0xff, 0x1f, 0};
    expect_refused(pre33, sizeof(pre33), "preamble above 2^32 - 1");
    static const uint8_t trail[] = {4, 3 << 2, 'a', 'b', 'c', 'd', 0};
    expect_refused(trail, sizeof(trail), "data after the declared length");
    static const uint8_t short_total[] = {9, 3 << 2, 'a', 'b', 'c', 'd', 0x01, 4};
    expect_refused(short_total, sizeof(short_total), "fewer bytes than the total");
}

/* A copy reaching 70000 bytes back: valid (libsnappy decodes it), but beyond a 64 KiB history
 * the streaming decoder reports PQ_STREAM_FAR instead of reading outside its buffer. */
static void test_far_copy(void **state)
{
    (void)state;
    size_t lit = 70000, total = lit + 10;
    uint8_t *comp = malloc(lit + 32);
    size_t n = 0;
    /* preamble */
    for (size_t v = total;; v >>= 7) {
        comp[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) {
            break;
        }
    }
    comp[n++] = 62 << 2; /* literal, 3-byte length */
    comp[n++] = (uint8_t)((lit - 1) & 0xff);
    comp[n++] = (uint8_t)(((lit - 1) >> 8) & 0xff);
    comp[n++] = (uint8_t)(((lit - 1) >> 16) & 0xff);
    for (size_t i = 0; i < lit; i++) {
        comp[n++] = (uint8_t)(i * 7 + i / 251);
    }
    comp[n++] = 0x03 | (9 << 2); /* copy 10 bytes from 70000 back */
    comp[n++] = (uint8_t)(70000 & 0xff);
    comp[n++] = (uint8_t)((70000 >> 8) & 0xff);
    comp[n++] = (uint8_t)((70000 >> 16) & 0xff);
    comp[n++] = 0;
    uint8_t *want = malloc(total);
    size_t wlen = total;
    assert_int_equal(snappy_uncompress((const char *)comp, n, (char *)want, &wlen), SNAPPY_OK);
    assert_int_equal(wlen, total);
    uint8_t *res;
    size_t rlen;
    assert_int_equal(stream(comp, n, 4096, 4096, PQ_SNAPPY_HISTORY, &res, &rlen), PQ_STREAM_FAR);
    free(res);
    /* With the whole output kept, the same decoder reads it. */
    uint8_t *out = malloc(total);
    size_t op;
    assert_int_equal(decode_whole(comp, n, out, total, &op), 0);
    assert_int_equal(op, total);
    assert_memory_equal(out, want, total);
    free(out);
    free(want);
    free(comp);
}

/* pq_dstream on zstd, gzip (two members), snappy and uncompressed pages, fed in pieces into a
 * sliding buffer; a page that decompresses to more or fewer bytes than declared is refused. */
static int dstream_run(int codec, const uint8_t *comp, size_t clen, size_t total, size_t chunk,
                       uint8_t *res)
{
    struct pq_dstream d;
    struct err e;
    pq_dstream_init(&d);
    int rc = pq_dstream_start(&d, codec, total, &e);
    if (rc != 0) {
        return rc;
    }
    size_t keep = PQ_SNAPPY_HISTORY, cap = keep + 1000, op = 0, ip = 0, got = 0;
    uint8_t *w = malloc(cap);
    while (rc == 0) {
        if (op == cap) {
            memmove(w, w + op - keep, keep);
            op = keep;
        }
        size_t n = clen - ip < chunk ? clen - ip : chunk, used = 0, before = op;
        rc = pq_dstream_step(&d, comp + ip, n, &used, w, &op, cap, &e);
        memcpy(res + got, w + before, op - before);
        got += op - before;
        ip += used;
        if (rc == 0 && used == 0 && op == before && op < cap) {
            break; /* all fed, nothing more comes */
        }
    }
    if (rc == 0) {
        rc = pq_dstream_end(&d, &e);
    }
    pq_dstream_release(&d);
    free(w);
    return rc != 0 ? rc : (got == total ? 0 : -1);
}

static void test_dstream_codecs(void **state)
{
    (void)state;
    size_t n = 300000;
    uint8_t *src = gen(SH_TEXT, n), *res = malloc(n + 16);
    /* zstd, at a level whose window is smaller than the data */
    size_t zcap = ZSTD_compressBound(n), zlen;
    uint8_t *z = malloc(zcap);
    zlen = ZSTD_compress(z, zcap, src, n, 1);
    assert_false(ZSTD_isError(zlen));
    /* gzip: two members, the data split between them */
    uint8_t *g = malloc(2 * compressBound(n) + 64);
    size_t glen = 0;
    for (int m = 0; m < 2; m++) {
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = src + (m ? n / 2 : 0);
        zs.avail_in = (uInt)(n / 2);
        zs.next_out = g + glen;
        zs.avail_out = (uInt)(2 * compressBound(n) + 64 - glen);
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        glen += zs.total_out;
        deflateEnd(&zs);
    }
    size_t slen;
    uint8_t *sn = sn_compress(src, n, &slen);
    static const size_t chunks[] = {1, 17, 4096, 1u << 30};
    const struct {
        int codec;
        const uint8_t *data;
        size_t len;
    } pages[] = {{6, z, zlen}, {2, g, glen}, {1, sn, slen}, {0, src, n}};
    for (size_t c = 0; c < 4; c++) {
        for (size_t k = 0; k < 4; k++) {
            memset(res, 0, n);
            assert_int_equal(
                dstream_run(pages[k].codec, pages[k].data, pages[k].len, n, chunks[c], res), 0);
            assert_memory_equal(res, src, n);
        }
    }
    /* Declared one byte more or less than the data: refused, never written past the total. */
    for (int d = -1; d <= 1; d += 2) {
        size_t t = n + (size_t)d;
        assert_int_equal(dstream_run(6, z, zlen, t, 4096, res), AE_FORMAT);
        assert_int_equal(dstream_run(2, g, glen, t, 4096, res), AE_FORMAT);
        assert_int_equal(dstream_run(1, sn, slen, t, 4096, res), AE_FORMAT);
    }
    assert_int_equal(dstream_run(0, src, n, n - 1, 4096, res), AE_FORMAT);
    /* A zstd frame without a content size asking for a 64 MiB window: not streamed (the page
     * is decompressed whole instead), so that a header cannot make the stream allocate it. */
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 26)));
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0)));
    ZSTD_outBuffer zo = {z, zcap, 0};
    ZSTD_inBuffer zi = {src, n / 2, 0};
    assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &zo, &zi, ZSTD_e_continue)));
    zi.size = n; /* the rest, without having said how much there is */
    assert_int_equal(ZSTD_compressStream2(cc, &zo, &zi, ZSTD_e_end), 0);
    ZSTD_freeCCtx(cc);
    assert_int_equal(dstream_run(6, z, zo.pos, n, 4096, res), PQ_STREAM_FAR);
    /* pq_zstd_window reads the frame headers as zstd does. */
    assert_int_equal(pq_zstd_window(z, zo.pos), (size_t)1 << 26); /* no content size */
    size_t big = 4u << 20;
    uint8_t *bsrc = gen(SH_TEXT, big), *bz = malloc(ZSTD_compressBound(big));
    size_t bzlen = ZSTD_compress(bz, ZSTD_compressBound(big), bsrc, big, 3);
    assert_false(ZSTD_isError(bzlen));
    assert_int_equal(pq_zstd_window(bz, bzlen), (size_t)2 << 20); /* level 3: 2 MiB window */
    assert_int_equal(pq_zstd_window(bz, 5), SIZE_MAX);            /* header cut */
    bzlen = ZSTD_compress(bz, ZSTD_compressBound(big), bsrc, 1000, 3);
    assert_int_equal(pq_zstd_window(bz, bzlen), 1000); /* single segment: the content size */
    bz[0] ^= 1;
    assert_int_equal(pq_zstd_window(bz, bzlen), SIZE_MAX); /* not a zstd frame */
    free(bz);
    free(bsrc);
    /* Truncated compressed data (zstd: the frame written by ZSTD_compress again). */
    zlen = ZSTD_compress(z, zcap, src, n, 1);
    assert_false(ZSTD_isError(zlen));
    assert_int_equal(dstream_run(6, z, zlen - 1, n, 4096, res), AE_FORMAT);
    assert_int_equal(dstream_run(2, g, glen - 1, n, 4096, res), AE_FORMAT);
    assert_int_equal(dstream_run(1, sn, slen - 1, n, 4096, res), AE_FORMAT);
    free(sn);
    free(g);
    free(z);
    free(res);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunk_size), cmocka_unit_test(test_shapes_and_boundaries),
        cmocka_unit_test(test_corrupt),          cmocka_unit_test(test_far_copy),
        cmocka_unit_test(test_dstream_codecs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
