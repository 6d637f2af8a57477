/*
 * decompress.h - streaming decompression of delivered files: gzip, zstd, bzip2 and xz, behind one
 * table of functions per codec (struct dcodec_ops) and one registry.
 *
 * The source (input/source.h) sits on top: it reads the delivered bytes (hashing and counting
 * them as delivered), recognises a codec by its magic bytes and feeds the codec, so every format
 * reader reads plain text without knowing the file was compressed. Memory is the codec's own
 * state (xz: its dictionary, at most DCODEC_XZ_MEMLIMIT) plus the caller's buffers, whatever the
 * size of the file.
 *
 * Multi-member files (several gzip members or bzip2 streams one after the other, as `cat a.gz
 * b.gz` makes; zstd frames and xz streams likewise) decode as their concatenation. Anything after
 * the last complete member that is not another member is an error, as is a file that ends inside
 * a member (truncated).
 */
#ifndef ASTRO_INPUT_DECOMPRESS_H
#define ASTRO_INPUT_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dcodec { DCODEC_NONE, DCODEC_GZIP, DCODEC_ZSTD, DCODEC_BZIP2, DCODEC_XZ };

/* The xz decoder refuses a file whose dictionary needs more memory than this (xz -9 needs 65 MiB
 * to decode). */
#define DCODEC_XZ_MEMLIMIT ((uint64_t)256 << 20)

/* What a step did. */
enum dcodec_status {
    DC_OK = 0,   /* progress (or more input needed) */
    DC_END = 1,  /* every member is complete and all input was consumed (only with finish) */
    DC_ERROR = 2 /* corrupt or truncated data: why says what */
};

struct dcodec_ops {
    const char *name; /* "gzip" */
    /* New decoder state; NULL when out of memory. */
    void *(*init)(void);
    /* Decodes from in[0..*in_len) into out[0..*out_len): on return *in_len and *out_len hold what
     * is left of each. finish: no input follows what is given. With finish, a call that consumes
     * all input and writes nothing returns DC_END or DC_ERROR, never DC_OK (the caller's loop
     * always ends). On DC_ERROR why (n bytes) says what is wrong. */
    int (*step)(void *st, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
                bool finish, char *why, size_t n);
    void (*free)(void *st);
};

/* The codec whose magic bytes start p[0..n) (n >= 6 is enough to tell), DCODEC_NONE otherwise.
 * bzip2 needs 10 bytes: "BZh" + level + a block or end-of-stream magic, so a text file that
 * happens to start with "BZh" is not taken for bzip2. */
enum dcodec dcodec_sniff(const uint8_t *p, size_t n);

/* The codec a file name's last extension names (.gz, .zst/.zstd, .bz2, .xz; case-insensitive),
 * or DCODEC_NONE. */
enum dcodec dcodec_by_name(const char *name);

/* The length of that extension (".gz" = 3), 0 for DCODEC_NONE. */
size_t dcodec_ext_len(const char *name);

/* The decoder of c, NULL for DCODEC_NONE. */
const struct dcodec_ops *dcodec_ops_for(enum dcodec c);

#endif
