/*
 * fuzz_pq_reader.c - libFuzzer entry point for the Parquet reader. Built by the fuzz build
 * (cmake -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh: 10 s in
 * scripts/test, longer with scripts/fuzz [SECONDS]. Its seeds are written at test time by
 * pqgen and by the npm writers of tests/oracle (pqwriters.mjs seeds); for a longer run the
 * parquet-testing files make good extra seeds when you have them:
 *   build-fuzz/fuzz_pq_reader -max_len=65536 build-fuzz/fuzz-corpus/pq_reader \
 *       ../shared/parquet-testing/data
 *
 * The input is the whole file (the first byte also picks the batch size; a file of an odd
 * size has every PLAIN page streamed: pq_reader_stream_tune). The reader opens it
 * through a memfd. Besides memory errors it checks the reader's own promises: failures are
 * AE_FORMAT (or AE_NOMEM for a claimed size too large to allocate) with a message; a successful
 * read returns exactly pq_reader_nrows() rows; every batch keeps the batch.h invariants (offsets
 * start at 0 and never decrease, null cells are empty) and every string is valid UTF-8.
 *
 * The same bytes then go through the Parquet input reader (input/parquet.c, `format: parquet`),
 * which ingest and validate use: it must open any file (bad data is reported by its first next,
 * as AE_FORMAT), hand out the rows the reader read (one field per column, each flagged
 * REC_F_PARQUET, line = row number), fail only with AE_FORMAT or AE_NOMEM, and, having read a
 * file to its end, have counted every byte of it. Half the runs (an even batch size) ask for
 * binary fields, as the engine does: each must be one storage value of its dtype, and its text
 * (dtype_format_value) is made.
 */
#include "input/input.h"
#include "parquet/decode.h"
#include "parquet/pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_batch(const struct batch *b)
{
    for (size_t c = 0; c < b->ncols; c++) {
        const struct column *col = &b->cols[c];
        if (col->offs == NULL) {
            continue;
        }
        if (col->offs[0] != 0) {
            abort();
        }
        for (size_t r = 0; r < b->nrows; r++) {
            uint32_t a = col->offs[r], z = col->offs[r + 1];
            if (z < a || z > col->data.len || (!col->valid[r] && z != a)) {
                abort();
            }
            if (z > a && !pq_utf8_valid((const uint8_t *)col->data.data + a, z - a)) {
                abort();
            }
        }
    }
    for (size_t r = 0; r < b->nrows; r++) {
        if (b->row_ok[r] != 1) {
            abort();
        }
    }
}

/* The input reader over fd (holding size bytes); rows is what pq_reader read, or UINT64_MAX
 * when it refused the file or stopped early. */
static void fuzz_input(int fd, size_t size, size_t max_rows, uint64_t rows)
{
    if (lseek(fd, 0, SEEK_SET) != 0) {
        return;
    }
    struct ingest_spec spec;
    memset(&spec, 0, sizeof(spec));
    struct input in;
    struct record_block blk = {0};
    blk.binary = max_rows % 2 == 0; /* fixed-width values as their bytes, as the engine's blocks */
    struct err e = {0};
    if (input_open_with(&in, &input_parquet_ops, fd, "fuzz.parquet", &spec, &e) != 0) {
        abort(); /* only memory or I/O errors may fail the open */
    }
    const char *const *names;
    size_t ncols = 0;
    if (!input_field_names(&in, &names, &ncols)) {
        abort();
    }
    uint64_t seen = 0;
    for (;;) {
        int rc = input_next(&in, &blk, max_rows, &e);
        if (rc != 0) {
            if ((rc != AE_FORMAT && rc != AE_NOMEM) || e.msg[0] == '\0' || rows != UINT64_MAX) {
                abort();
            }
            break;
        }
        if (blk.nrows == 0) {
            if ((rows != UINT64_MAX && seen != rows) || input_bytes(&in) != size) {
                abort();
            }
            break;
        }
        for (size_t i = 0; i < blk.nrows; i++) {
            if (blk.row_first[i + 1] - blk.row_first[i] != ncols || blk.line[i] != seen + i + 1) {
                abort();
            }
        }
        for (size_t k = 0; k < blk.nfields; k++) {
            const struct record_field *f = &blk.fields[k];
            if (!(f->flags & REC_F_PARQUET)) {
                abort();
            }
            if (f->flags & REC_F_BINARY) {
                /* Only where asked; its bytes are one storage value of a known dtype, and any
                 * value has a text (what the validator shows or parses when it cannot take it
                 * as it is). */
                const struct dtype_info t = {.id = (enum dtype)f->dt, .scale = f->scale};
                char text[DTYPE_VALUE_TEXT];
                if (!blk.binary || f->dt > DT_TIMEDELTA || f->dt == DT_STR ||
                    f->len != dtype_storage_size(dtype_storage(t.id)) ||
                    dtype_format_value(text, t, f->p) >= sizeof(text)) {
                    abort();
                }
            }
        }
        seen += blk.nrows;
        if (seen > 1000000) {
            break;
        }
    }
    record_block_release(&blk);
    input_close(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("pq", 0);
    if (fd < 0) {
        return 0;
    }
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    size_t cap = size > 0 ? 1 + data[0] % 64 : 1;
    struct err e = {0};
    struct pq_reader *r = NULL;
    int rc = pq_reader_open(&r, path, &e);
    if (rc != 0) {
        if ((rc != AE_FORMAT && rc != AE_NOMEM) || e.msg[0] == '\0' || r != NULL) {
            abort();
        }
        fuzz_input(fd, size, cap, UINT64_MAX);
        close(fd);
        return 0;
    }
    if (size % 2 == 1) {
        /* Every PLAIN page streamed, with a snappy history of 64 KiB or of 0 to 62 bytes (so
         * that copies also take the whole-page fallback): the fuzzer's small files reach
         * reader.c's "Large PLAIN pages" path too. */
        pq_reader_stream_tune(r, 0, size % 4 == 1 ? 65536 : (size / 4) % 63);
    }
    size_t nc = pq_reader_ncols(r);
    struct dtype_info *types = calloc(nc ? nc : 1, sizeof(*types));
    for (size_t i = 0; i < nc; i++) {
        types[i] = pq_reader_column(r, i)->type;
    }
    struct batch b;
    if (batch_init(&b, types, nc, cap) != 0) {
        abort();
    }
    uint64_t rows = 0;
    bool whole = false;
    for (;;) {
        rc = pq_reader_next(r, &b, &e);
        if (rc != 0) {
            if ((rc != AE_FORMAT && rc != AE_NOMEM) || e.msg[0] == '\0' || b.nrows != 0) {
                abort();
            }
            break;
        }
        if (b.nrows == 0) {
            if (rows != pq_reader_nrows(r)) {
                abort();
            }
            whole = true;
            break;
        }
        check_batch(&b);
        rows += b.nrows;
        /* Claimed row counts can be huge with tiny pages of nulls: stop early, the decoding
         * paths are what is exercised here. */
        if (rows > 1000000) {
            break;
        }
    }
    batch_release(&b);
    free(types);
    pq_reader_free(r);
    /* The input reader reads strings that are not UTF-8 too (as value failures), so it may read
     * further than pq_reader did: its row count is compared only when both read everything. */
    fuzz_input(fd, size, cap, whole ? rows : UINT64_MAX);
    close(fd);
    return 0;
}
