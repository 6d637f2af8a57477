/*
 * fuzz_decompress.c - libFuzzer entry point for the decompression layer (input/decompress.c)
 * under struct source, read as every format reader reads it: source_read until the end. Built by
 * the fuzz build (cmake -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh;
 * its seeds are plain-text files in tests/fuzz/seeds/decompress plus gzip, zstd, bzip2 and xz
 * files run.sh writes at test time with the command-line tools.
 *
 * The first input byte picks the mode. Bits 0-1 == 0: the rest is the delivered file as is (the
 * fuzzer mutates real compressed streams). Otherwise the rest is plain text that this target
 * compresses with the codec of bits 2-3 (gzip, zstd, bzip2, xz), then, by bits 0-1, leaves whole
 * (1), truncates (2) or corrupts (3, one byte xor'd) at the position the second and third bytes
 * give. Checks besides memory errors:
 *   - reads of a few bytes give exactly the output and verdict of large reads;
 *   - a failure is AE_FORMAT with source_decode_failed, never another error;
 *   - after a successful read the byte count and sha256 are those of the delivered bytes;
 *   - a whole stream decodes to the text that was compressed, with the codec's name;
 *   - a stream cut anywhere after its magic bytes fails (never a silent end of file).
 * Decoded output is capped at 1 MiB per read (a small input can expand a lot); a capped read is
 * compared only up to the cap.
 */
#include "input/decompress.h"
#include "input/source.h"

#include <bzlib.h>
#include <lzma.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP ((size_t)1 << 20)

struct outcome {
    int rc;
    bool capped;
    bool decode_failed;
    uint8_t *out;
    size_t len;
    const char *codec;
};

static void decode(const uint8_t *d, size_t n, size_t want, struct outcome *o)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || (n > 0 && write(fd, d, n) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0) {
        abort();
    }
    memset(o, 0, sizeof(*o));
    o->out = malloc(OUT_CAP);
    if (o->out == NULL) {
        abort();
    }
    struct source *s = NULL;
    struct err e = {0};
    o->rc = source_open(&s, fd, "fuzz.bin", &e);
    while (o->rc == 0) {
        if (o->len == OUT_CAP) {
            o->capped = true;
            break;
        }
        size_t w = want < OUT_CAP - o->len ? want : OUT_CAP - o->len, got = 0;
        o->rc = source_read(s, o->out + o->len, w, &got, &e);
        if (o->rc == 0 && got == 0) {
            break;
        }
        if (got > w) {
            abort();
        }
        o->len += got;
    }
    if (s != NULL) {
        o->decode_failed = source_decode_failed(s);
        o->codec = source_codec(s);
        if (o->rc == 0 && !o->capped) {
            unsigned char a[32], b[32];
            source_sha256(s, a);
            SHA256(d, n, b);
            if (memcmp(a, b, 32) != 0 || source_bytes(s) != n) {
                abort();
            }
        }
        if (o->rc != 0 && (o->rc != AE_FORMAT || !o->decode_failed)) {
            abort();
        }
    }
    source_free(s);
    close(fd);
}

/* The text compressed with codec c (1 gzip, 2 zstd, 3 bzip2, 4 xz); malloc'd, *zn bytes. */
static uint8_t *compress_with(enum dcodec c, const uint8_t *p, size_t n, size_t *zn)
{
    size_t cap = n + n / 2 + 1024;
    uint8_t *z = malloc(cap);
    if (z == NULL) {
        abort();
    }
    switch (c) {
    case DCODEC_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            abort();
        }
        zs.next_in = (Bytef *)(uintptr_t)p;
        zs.avail_in = (uInt)n;
        zs.next_out = z;
        zs.avail_out = (uInt)cap;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
            abort();
        }
        *zn = cap - zs.avail_out;
        deflateEnd(&zs);
        break;
    }
    case DCODEC_ZSTD: {
        size_t r = ZSTD_compress(z, cap, p, n, 3);
        if (ZSTD_isError(r)) {
            abort();
        }
        *zn = r;
        break;
    }
    case DCODEC_BZIP2: {
        unsigned int dl = (unsigned int)cap;
        if (BZ2_bzBuffToBuffCompress((char *)z, &dl, (char *)(uintptr_t)p, (unsigned)n, 1, 0, 0) !=
            BZ_OK) {
            abort();
        }
        *zn = dl;
        break;
    }
    case DCODEC_XZ: {
        size_t pos = 0;
        if (lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, p, n, z, &pos, cap) != LZMA_OK) {
            abort();
        }
        *zn = pos;
        break;
    }
    case DCODEC_NONE: abort();
    }
    return z;
}

static void compare(const struct outcome *a, const struct outcome *b)
{
    if (a->rc != b->rc || a->decode_failed != b->decode_failed) {
        abort();
    }
    if (a->rc == 0) {
        size_t n = a->len < b->len ? a->len : b->len;
        if ((!a->capped && !b->capped && a->len != b->len) || memcmp(a->out, b->out, n) != 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    unsigned mode = data[0] & 3;
    enum dcodec c = (enum dcodec)(1 + ((data[0] >> 2) & 3));
    size_t want = 1 + (data[0] >> 4);
    size_t pos = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *text = data + 3;
    size_t tn = size - 3;
    uint8_t *file = (uint8_t *)(uintptr_t)text;
    size_t fn = tn;
    if (mode != 0) {
        file = compress_with(c, text, tn, &fn);
        if (mode == 2 && fn <= 17) {
            mode = 1; /* too short to cut after the magic bytes: checked whole */
        } else if (mode == 2) {
            fn = 16 + pos % (fn - 16); /* cut after the magic bytes, before the end */
        } else if (mode == 3) {
            file[pos % fn] ^= (uint8_t)(1 + (data[0] >> 4));
        }
    }
    struct outcome big, small;
    decode(file, fn, 65536, &big);
    decode(file, fn, want, &small);
    compare(&big, &small);
    if (mode == 1) {
        const char *name = dcodec_ops_for(c)->name;
        if (big.rc != 0 || big.len != tn || (tn > 0 && memcmp(big.out, text, tn) != 0) ||
            big.codec == NULL || strcmp(big.codec, name) != 0) {
            abort();
        }
    } else if (mode == 2 && big.rc != AE_FORMAT) {
        abort();
    }
    free(big.out);
    free(small.out);
    if (file != text) {
        free(file);
    }
    return 0;
}
