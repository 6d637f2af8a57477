/*
 * fuzz_pq_reader.c - libFuzzer entry point for the Parquet reader. Built by the fuzz build
 * (cmake -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh: 10 s in
 * scripts/test, longer with scripts/fuzz [SECONDS]. Its seeds are written at test time by
 * pqgen and by the npm writers of tests/oracle (pqwriters.mjs seeds); for a longer run the
 * parquet-testing files make good extra seeds when you have them:
 *   build-fuzz/fuzz_pq_reader -max_len=65536 build-fuzz/fuzz-corpus/pq_reader \
 *       ../shared/parquet-testing/data
 *
 * The input is the whole file (the first byte also picks the batch size). The reader opens it
 * through a memfd. Besides memory errors it checks the reader's own promises: failures are
 * AE_FORMAT (or AE_NOMEM for a claimed size too large to allocate) with a message; a successful
 * read returns exactly pq_reader_nrows() rows; every batch keeps the batch.h invariants (offsets
 * start at 0 and never decrease, null cells are empty) and every string is valid UTF-8.
 */
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
        close(fd);
        return 0;
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
    close(fd);
    return 0;
}
