/*
 * fuzz_csv.c - libFuzzer entry point for the CSV reader. Built by the fuzz build
 * (cmake -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh: 10 s in
 * scripts/test, longer with scripts/fuzz [SECONDS]; seeds in tests/fuzz/seeds/csv.
 *
 * The first input byte picks the dialect and encoding, the second the chunk size and rows per
 * call; the rest is the file. Besides memory errors it checks the reader's own invariants: a
 * tiny-chunk read gives exactly the records of a whole-buffer read (values, flags, lines, raw),
 * line numbers never decrease, every field lies inside its record, and the byte count and sha256
 * cover the whole input.
 */
#include "input/csv.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends a self-delimiting description of rows to a growing malloc'd string. */
static void describe(char **out, size_t *len, const struct record_block *rows)
{
    for (size_t i = 0; i < rows->nrows; i++) {
        size_t need = 64 + rows->raw_len[i];
        for (uint32_t f = rows->row_first[i]; f < rows->row_first[i + 1]; f++) {
            need += 16 + rows->fields[f].len;
        }
        char *p = realloc(*out, *len + need);
        if (p == NULL) {
            abort();
        }
        *out = p;
        *len += (size_t)sprintf(p + *len, "%llu/%u/%u:", (unsigned long long)rows->line[i],
                                rows->row_flags[i], rows->raw_len[i]);
        memcpy(p + *len, rows->raw[i], rows->raw_len[i]);
        *len += rows->raw_len[i];
        for (uint32_t f = rows->row_first[i]; f < rows->row_first[i + 1]; f++) {
            const struct record_field *fd = &rows->fields[f];
            *len += (size_t)sprintf(p + *len, "|%u/%u:", fd->flags, fd->len);
            memcpy(p + *len, fd->p, fd->len);
            *len += fd->len;
        }
        p[(*len)++] = '\n';
    }
}

static char *run(const uint8_t *d, size_t n, const struct csv_options *o, size_t chunk,
                 size_t max_rows, size_t *len, int *rc_out)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || (n > 0 && write(fd, d, n) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0) {
        abort();
    }
    struct source *src = NULL;
    struct csv_reader *r = NULL;
    struct record_block rows = {0};
    struct err e = {0};
    char *out = NULL;
    *len = 0;
    int rc = source_open(&src, fd, "fuzz.csv", &e);
    if (rc == 0) {
        rc = csv_reader_open(&r, src, o, &e);
    }
    if (rc == 0) {
        csv_reader_set_chunk_size(r, chunk);
        csv_reader_set_max_record(r, 1000);
        uint64_t last_line = 0;
        for (;;) {
            rc = csv_reader_next(r, &rows, max_rows, &e);
            if (rc != 0 || rows.nrows == 0) {
                break;
            }
            for (size_t i = 0; i < rows.nrows; i++) {
                if (rows.line[i] <= last_line || rows.row_first[i] > rows.row_first[i + 1]) {
                    abort();
                }
                last_line = rows.line[i];
            }
            describe(&out, len, &rows);
        }
        if (rc == 0) {
            unsigned char a[32], b[32];
            source_sha256(src, a);
            SHA256(d, n, b);
            if (memcmp(a, b, 32) != 0 || source_bytes(src) != n) {
                abort();
            }
        }
    }
    record_block_release(&rows);
    csv_reader_free(r);
    source_free(src);
    close(fd);
    *rc_out = rc;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    static const char *const encodings[] = {NULL, "windows-1252", "UTF-16", "latin1"};
    static const char delims[] = {',', ';', '\t', '|'};
    uint8_t a = data[0], b = data[1];
    struct csv_options o = {encodings[a & 3], delims[(a >> 2) & 3], (a & 16) ? '\0' : '"',
                            (a & 32) ? '\\' : '\0'};
    size_t chunk = 1 + (b & 15), max_rows = 1 + (b >> 4);
    size_t n1, n2;
    int rc1, rc2;
    char *whole = run(data + 2, size - 2, &o, 1 << 16, 100000, &n1, &rc1);
    char *tiny = run(data + 2, size - 2, &o, chunk, max_rows, &n2, &rc2);
    /* With the same record limit both see the same records (an error may come at a different
     * call, so only compare successful runs). */
    if (rc1 == 0 && rc2 == 0 && (n1 != n2 || (n1 > 0 && memcmp(whole, tiny, n1) != 0))) {
        abort();
    }
    if ((rc1 == 0) != (rc2 == 0)) {
        abort();
    }
    free(whole);
    free(tiny);
    return 0;
}
