/*
 * pq_read_helpers.h - shared by the Parquet reader tests (test_pq_reader_files.c,
 * test_pq_reader_sweep.c): read a whole file into a digest of every cell, and the single-byte
 * corruption sweep. Static functions with cmocka assertions: include after cmocka.h.
 */
#ifndef ASTRO_PQ_READ_HELPERS_H
#define ASTRO_PQ_READ_HELPERS_H

#include "batch/batch.h"
#include "parquet/pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct summary {
    uint64_t rows;
    uint64_t digest; /* FNV-1a 64 over every cell (see fold_batch) */
    int rc;          /* 0, or the error code of open / next */
    char msg[1024];
};

static inline void fnv(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ b[i]) * 0x100000001b3ull;
    }
}

/* Folds every cell of b into h: the valid byte, then the value in a fixed little-endian form
 * (strings as u32 length + bytes). */
static inline void fold_batch(uint64_t *h, const struct batch *b)
{
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t c = 0; c < b->ncols; c++) {
            const struct column *col = &b->cols[c];
            uint8_t v = col->valid[r];
            fnv(h, &v, 1);
            if (!v) {
                continue;
            }
            uint8_t tmp[16];
            switch (dtype_storage(col->type.id)) {
            case DS_BYTES: {
                uint32_t n = col->offs[r + 1] - col->offs[r];
                for (int k = 0; k < 4; k++) {
                    tmp[k] = (uint8_t)(n >> (8 * k));
                }
                fnv(h, tmp, 4);
                fnv(h, col->data.data + col->offs[r], n);
                break;
            }
            case DS_U8: fnv(h, &col->v.u8[r], 1); break;
            case DS_I64:
            case DS_F64: {
                uint64_t x;
                memcpy(&x,
                       col->type.id == DT_FLOAT32 || col->type.id == DT_FLOAT64
                           ? (const void *)&col->v.f64[r]
                           : (const void *)&col->v.i64[r],
                       8);
                for (int k = 0; k < 8; k++) {
                    tmp[k] = (uint8_t)(x >> (8 * k));
                }
                fnv(h, tmp, 8);
                break;
            }
            case DS_I128: {
                unsigned __int128 x = (unsigned __int128)col->v.i128[r];
                for (int k = 0; k < 16; k++) {
                    tmp[k] = (uint8_t)(x >> (8 * k));
                }
                fnv(h, tmp, 16);
                break;
            }
            }
        }
    }
}

/* Reads the whole file with batches of cap rows; with stream_min below SIZE_MAX, through
 * pq_reader_stream_tune(stream_min, history) (0, 64 KiB: every PLAIN page the reader can stream
 * is streamed). */
static inline void read_file_tuned(const char *path, size_t cap, struct summary *s,
                                   size_t stream_min, size_t history)
{
    struct err e = {0};
    struct pq_reader *r = NULL;
    memset(s, 0, sizeof(*s));
    s->digest = 0xcbf29ce484222325ull;
    s->rc = pq_reader_open(&r, path, &e);
    if (s->rc != 0) {
        snprintf(s->msg, sizeof(s->msg), "%s", e.msg);
        return;
    }
    if (stream_min != SIZE_MAX) {
        pq_reader_stream_tune(r, stream_min, history);
    }
    size_t nc = pq_reader_ncols(r);
    struct dtype_info *types = calloc(nc ? nc : 1, sizeof(*types));
    for (size_t i = 0; i < nc; i++) {
        types[i] = pq_reader_column(r, i)->type;
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, nc, cap), 0);
    for (;;) {
        s->rc = pq_reader_next(r, &b, &e);
        if (s->rc != 0) {
            snprintf(s->msg, sizeof(s->msg), "%s", e.msg);
            /* Errors are sticky. */
            assert_int_equal(pq_reader_next(r, &b, &e), s->rc);
            break;
        }
        if (b.nrows == 0) {
            break;
        }
        assert_true(b.nrows <= cap);
        fold_batch(&s->digest, &b);
        s->rows += b.nrows;
    }
    if (s->rc == 0) {
        assert_int_equal(s->rows, pq_reader_nrows(r));
    }
    batch_release(&b);
    free(types);
    pq_reader_free(r);
}

static inline void read_file(const char *path, size_t cap, struct summary *s)
{
    read_file_tuned(path, cap, s, SIZE_MAX, 0);
}

/* Every single-byte change of a small file must be read or refused cleanly (AE_FORMAT), never
 * crash or misbehave under ASan/UBSan. */
static inline void sweep(const uint8_t *orig, size_t n, const char *dir)
{
    uint8_t *buf = malloc(n);
    char path[512];
    snprintf(path, sizeof(path), "%s/sweep.parquet", dir);
    const uint8_t xors[] = {0xff, 0x01, 0x80};
    size_t ok = 0, refused = 0;
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t k = 0; k < sizeof(xors); k++) {
            memcpy(buf, orig, n);
            buf[pos] ^= xors[k];
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(buf, 1, n, f), n);
            fclose(f);
            struct summary s;
            read_file(path, 5, &s);
            if (s.rc != 0 && s.rc != AE_FORMAT) {
                fprintf(stderr, "byte %zu ^ 0x%02x: rc %d %s\n", pos, xors[k], s.rc, s.msg);
                fail();
            }
            if (xors[k] == 0x01) {
                /* Every PLAIN page streamed: the same verdict, and the same values. */
                struct summary t;
                read_file_tuned(path, 5, &t, 0, 64u << 10);
                if ((t.rc == 0) != (s.rc == 0) || (t.rc == 0 && t.digest != s.digest) ||
                    (t.rc != 0 && t.rc != AE_FORMAT)) {
                    fprintf(stderr, "byte %zu ^ 0x01: whole pages rc %d %s; streamed rc %d %s\n",
                            pos, s.rc, s.msg, t.rc, t.msg);
                    fail();
                }
            }
            if (s.rc != 0) {
                assert_true(s.msg[0] != '\0');
                refused++;
            } else {
                ok++;
            }
        }
    }
    /* Truncations at every length. */
    for (size_t len = 0; len < n; len++) {
        FILE *f = fopen(path, "wb");
        assert_int_equal(fwrite(orig, 1, len, f), len);
        fclose(f);
        struct summary s;
        read_file(path, 5, &s);
        assert_int_equal(s.rc, AE_FORMAT);
    }
    assert_true(refused > 0 && ok > 0);
    free(buf);
}

static inline uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)len);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

#endif
