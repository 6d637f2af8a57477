/*
 * fuzz_snappy.c - libFuzzer entry point for the streaming raw snappy decoder (pq_snappy_decode,
 * src/parquet/dstream.h), with libsnappy as the oracle. Built by the fuzz build (cmake
 * -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh, which writes its seeds
 * at test time with libsnappy's compressor (python3 is not needed: this target compresses its own
 * seeds, see mode 1).
 *
 * The first input byte picks the piece size the stream is fed in (1..256 bytes), the second the
 * output step (1..4081 bytes) and whether the rest is a snappy stream as is (bit 0 of the third
 * byte clear) or text this target compresses with snappy_compress first (set). The decoder keeps
 * only 4 KiB of history, as the reader keeps 64 KiB. Checks besides memory errors: when
 * libsnappy decodes the stream, the decoder gives exactly its bytes, or reports PQ_STREAM_FAR
 * (a copy beyond the history); when libsnappy refuses it, the decoder refuses it too, or reports
 * PQ_STREAM_FAR before it knows. Declared lengths above 1 MiB are skipped.
 */
#include "parquet/dstream.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HIST 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    size_t chunk = (size_t)data[0] + 1, ostep = (size_t)data[1] * 16 + 1;
    bool make = data[2] & 1;
    data += 3;
    size -= 3;
    char *made = NULL;
    if (make) {
        size_t cap = snappy_max_compressed_length(size);
        made = malloc(cap);
        if (made == NULL || snappy_compress((const char *)data, size, made, &cap) != SNAPPY_OK) {
            abort();
        }
        data = (const uint8_t *)made;
        size = cap;
    }
    size_t ulen = 0;
    if (snappy_uncompressed_length((const char *)data, size, &ulen) == SNAPPY_OK &&
        ulen > ((size_t)1 << 20)) {
        free(made);
        return 0;
    }
    char *want = malloc(ulen ? ulen : 1);
    size_t wlen = ulen;
    bool ok = want != NULL && snappy_uncompress((const char *)data, size, want, &wlen) == SNAPPY_OK;

    struct pq_snappy s;
    pq_snappy_init(&s);
    uint8_t *w = malloc(HIST + ostep), *got = malloc(ulen ? ulen : 1);
    size_t op = 0, ip = 0, glen = 0;
    int rc = 0;
    for (;;) {
        if (op == HIST + ostep) {
            memmove(w, w + op - HIST, HIST);
            op = HIST;
        }
        size_t n = size - ip < chunk ? size - ip : chunk, used = 0, before = op;
        /* each piece in a buffer of its own size, so that a read past it is caught */
        uint8_t *piece = malloc(n ? n : 1);
        memcpy(piece, data + ip, n);
        rc = pq_snappy_decode(&s, piece, n, &used, w, &op, HIST + ostep);
        free(piece);
        if (used > n || op < before) {
            abort();
        }
        if (glen + (op - before) > ulen) {
            abort(); /* more than the preamble declared */
        }
        memcpy(got + glen, w + before, op - before);
        glen += op - before;
        ip += used;
        if (rc != 0 || (used == 0 && op == before && op < HIST + ostep)) {
            break;
        }
    }
    if (rc == 0 && !pq_snappy_done(&s)) {
        rc = AE_FORMAT;
    }
    if (rc != PQ_STREAM_FAR) {
        if (ok && (rc != 0 || glen != wlen || memcmp(got, want, wlen) != 0)) {
            abort(); /* libsnappy decodes it, we do not, or differently */
        }
        if (!ok && rc == 0) {
            abort(); /* libsnappy refuses it, we accept it */
        }
    }
    free(got);
    free(w);
    free(want);
    free(made);
    return 0;
}
