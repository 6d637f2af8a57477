/*
 * fuzz_json.c - libFuzzer entry point for the NDJSON and JSON readers (input/json.c), driven as
 * the engine drives them: input_open_with on a memfd, input_next until the end. Built by the fuzz
 * build (cmake -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh; seeds in
 * tests/fuzz/seeds/json.
 *
 * The first input byte picks the format (bit 0: NDJSON or a JSON array), the schema's columns
 * (bits 1-2: flat keys, dotted paths, one key) and the rows per call of the second read (bits
 * 3-7); the rest is the file. Besides memory errors it checks the readers' invariants: reading one
 * row per call or many gives the same records (fields, flags, lines) and the same verdict, lines
 * never decrease, every readable record has one field per schema column and every field lies
 * inside the block, the byte count and sha256 cover the whole input, and json_list_keys (astro
 * schema infer) ends in keys or an error, never a crash; and the whole input parsed as one record
 * by astro's JSON parser and by jansson alone (json_parse_one) gives the same fields.
 */
#include "batch/records.h"
#include "input/input.h"
#include "input/json.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mem_fd(const uint8_t *d, size_t n)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || (n > 0 && write(fd, d, n) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0) {
        abort();
    }
    return fd;
}

/* Appends a self-delimiting description of rows to a growing malloc'd string. */
static void describe(char **out, size_t *len, const struct record_block *rows, size_t ncols)
{
    for (size_t i = 0; i < rows->nrows; i++) {
        uint32_t first = rows->row_first[i], end = rows->row_first[i + 1];
        if (first > end || end > rows->nfields) {
            abort();
        }
        if (!(rows->row_flags[i] & REC_R_UNREADABLE) && end - first != ncols) {
            abort();
        }
        size_t need = 64;
        for (uint32_t f = first; f < end; f++) {
            need += 16 + rows->fields[f].len;
        }
        char *p = realloc(*out, *len + need);
        if (p == NULL) {
            abort();
        }
        *out = p;
        *len += (size_t)sprintf(p + *len, "%llu/%u:", (unsigned long long)rows->line[i],
                                rows->row_flags[i]);
        for (uint32_t f = first; f < end; f++) {
            const struct record_field *fd = &rows->fields[f];
            *len += (size_t)sprintf(p + *len, "|%u/%u:", fd->flags, fd->len);
            if (fd->len > 0) {
                memcpy(p + *len, fd->p, fd->len);
            }
            *len += fd->len;
        }
        p[(*len)++] = '\n';
    }
}

static char *run(const uint8_t *d, size_t n, const struct input_ops *ops,
                 const struct ingest_spec *spec, size_t max_rows, size_t *len, int *rc_out)
{
    int fd = mem_fd(d, n);
    struct input in = {0};
    struct record_block rows = {0};
    struct err e = {0};
    char *out = NULL;
    *len = 0;
    int rc = input_open_with(&in, ops, fd, "fuzz.json", spec, &e);
    if (rc == 0) {
        const char *const *names;
        size_t nnames;
        if (!input_field_names(&in, &names, &nnames) || nnames != spec->schema.ncols) {
            abort();
        }
        uint64_t last_line = 0;
        for (;;) {
            rc = input_next(&in, &rows, max_rows, &e);
            if (rc != 0 || rows.nrows == 0) {
                break;
            }
            for (size_t i = 0; i < rows.nrows; i++) {
                if (rows.line[i] < last_line) {
                    abort();
                }
                last_line = rows.line[i];
            }
            describe(&out, len, &rows, spec->schema.ncols);
        }
        if (rc == 0) {
            unsigned char a[32], b[32];
            input_sha256(&in, a);
            SHA256(d, n, b);
            if (memcmp(a, b, 32) != 0 || input_bytes(&in) != n) {
                abort();
            }
        } else if (rc != AE_FORMAT) {
            abort();
        }
    }
    record_block_release(&rows);
    input_close(&in);
    close(fd);
    *rc_out = rc;
    return out;
}

static void list_keys(const uint8_t *d, size_t n, enum input_format f)
{
    int fd = mem_fd(d, n);
    struct source *src = NULL;
    struct err e = {0};
    char **keys = NULL;
    size_t nkeys = 0;
    if (source_open(&src, fd, "fuzz.json", &e) == 0) {
        int rc = json_list_keys(src, f, 0, &keys, &nkeys, &e);
        if (rc == 0) {
            for (size_t i = 0; i < nkeys; i++) {
                if (keys[i] == NULL) {
                    abort();
                }
                free(keys[i]);
            }
            free(keys);
        } else if (rc != AE_FORMAT || keys != NULL) {
            abort();
        }
    }
    source_free(src);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t a = data[0];
    enum input_format f = (a & 1) ? INPUT_JSON : INPUT_NDJSON;
    const struct input_ops *ops = (a & 1) ? &input_json_ops : &input_ndjson_ops;
    struct column_spec cols[3];
    memset(cols, 0, sizeof(cols));
    cols[0].name = "a";
    cols[1].name = "b";
    cols[2].name = "c";
    size_t ncols = 3;
    switch ((a >> 1) & 3) {
    case 1:
        cols[1].path = "b.c";
        cols[2].path = "b.c.d";
        break;
    case 2: ncols = 1; break;
    default: break;
    }
    struct ingest_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.format = f;
    spec.schema.cols = cols;
    spec.schema.ncols = ncols;
    size_t max_rows = 1 + (a >> 3);
    size_t n1, n2;
    int rc1, rc2;
    char *whole = run(data + 1, size - 1, ops, &spec, 100000, &n1, &rc1);
    char *small = run(data + 1, size - 1, ops, &spec, max_rows, &n2, &rc2);
    /* A failure may come at a different call, so only successful reads are compared. */
    if (rc1 == 0 && rc2 == 0 && (n1 != n2 || (n1 > 0 && memcmp(whole, small, n1) != 0))) {
        abort();
    }
    if ((rc1 == 0) != (rc2 == 0)) {
        abort();
    }
    free(whole);
    free(small);
    list_keys(data + 1, size - 1, f);
    /* The whole input as one record: astro's parser and jansson alone give the same fields. */
    struct record_block fast = {0}, ref = {0};
    struct err e = {0};
    if (json_parse_one(&spec, f == INPUT_JSON, false, (const char *)data + 1, size - 1, &fast,
                       &e) != 0 ||
        json_parse_one(&spec, f == INPUT_JSON, true, (const char *)data + 1, size - 1, &ref, &e) !=
            0) {
        abort();
    }
    size_t nf, nr;
    char *df = NULL, *dr = NULL;
    nf = nr = 0;
    describe(&df, &nf, &fast, ncols);
    describe(&dr, &nr, &ref, ncols);
    if (nf != nr || memcmp(df, dr, nf) != 0) {
        abort();
    }
    free(df);
    free(dr);
    record_block_release(&fast);
    record_block_release(&ref);
    return 0;
}
