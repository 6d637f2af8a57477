/*
 * source.h - the bytes of a delivered file: every format reader reads through a source, which
 * hashes (sha256) and counts every byte it reads from the file, as delivered. The hash and size in
 * manifests and checkpoints are therefore those of the file as it was delivered, whatever a
 * reader later does with the bytes.
 *
 * Compressed files: the first bytes decide (input/decompress.h: gzip, zstd, bzip2, xz by their
 * magic bytes, whatever the name). A compressed file is decompressed on the way out, streamed, so
 * source_read hands out the plain text while source_bytes and source_sha256 still describe the
 * delivered (compressed) bytes. A name ending in a compression extension (.gz, .zst, .zstd, .bz2,
 * .xz) whose bytes are not of that codec is refused. Corrupt or truncated compressed data makes
 * source_read fail with AE_FORMAT (source_decode_failed then says so): bad data of the file, never
 * an environment error.
 * A source reads a descriptor it borrows; it never seeks, so a pipe works too.
 */
#ifndef ASTRO_INPUT_SOURCE_H
#define ASTRO_INPUT_SOURCE_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source;

/* Starts a source on fd (borrowed: not closed by the source). name is used in messages (copied).
 * Fails with AE_NOMEM or AE_INTERNAL (the hash cannot start). */
int source_open(struct source **out, int fd, const char *name, struct err *e) ASTRO_WUR;

/* Reads up to want (>= 1) bytes of plain text into dst; *got is 0 at end of file. Retries on
 * EINTR. Fails with AE_IO (naming the file and the system's reason; a failure leaves the counts as
 * they were) or AE_FORMAT for compressed data that is corrupt or truncated (sticky: every later
 * call fails the same way). */
int source_read(struct source *s, void *dst, size_t want, size_t *got, struct err *e) ASTRO_WUR;

/* True once source_read failed because the compressed data is corrupt or truncated. */
bool source_decode_failed(const struct source *s);

/* The codec the file is compressed with ("gzip", "zstd", "bzip2", "xz"), NULL for a plain file or
 * before the first read. */
const char *source_codec(const struct source *s);

/* Bytes of the delivered file read so far. */
uint64_t source_bytes(const struct source *s);

/* sha256 of the delivered bytes read so far (of the whole file once source_read has returned 0).
 * May be asked at any time; reading can go on after. */
void source_sha256(const struct source *s, unsigned char out[32]);

/* Stops hashing from now on, for a second reading of a file whose hash another source takes (the
 * key pre-pass, ingest/engine.c): sha256 (and md5) then describe only the bytes read before. */
void source_skip_hash(struct source *s);

/* Also computes the md5 of the delivered bytes (for a checksum side file, ingest/checksum.h).
 * Call before the first source_read (AE_INTERNAL otherwise); AE_NOMEM. */
int source_add_md5(struct source *s, struct err *e) ASTRO_WUR;

/* md5 of the delivered bytes read so far, as source_sha256; false (out zeroed) when
 * source_add_md5 was not called. */
bool source_md5(const struct source *s, unsigned char out[16]);

/* The descriptor the source reads (borrowed), for a reader that needs random access (xlsx: a
 * zip's directory is at its end; Parquet reads its footer first). Such a reader reads it with
 * pread, which moves no offset, and reads the source to its end too, so that the hash and size
 * describe the whole file. */
int source_fd(const struct source *s);

/* The name given to source_open. */
const char *source_name(const struct source *s);

void source_free(struct source *s);

#endif
