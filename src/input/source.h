/*
 * source.h - the bytes of a delivered file, as delivered: every format reader reads through a
 * source, which hashes (sha256) and counts every byte it hands out. The hash and size in
 * manifests and checkpoints are therefore those of the file as it was delivered, whatever a
 * reader later does with the bytes (decoding, and decompression once it exists).
 * A source reads a descriptor it borrows; it never seeks, so a pipe works too.
 */
#ifndef ASTRO_INPUT_SOURCE_H
#define ASTRO_INPUT_SOURCE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

struct source;

/* Starts a source on fd (borrowed: not closed by the source). name is used in messages (copied).
 * Fails with AE_NOMEM or AE_INTERNAL (the hash cannot start). */
int source_open(struct source **out, int fd, const char *name, struct err *e) ASTRO_WUR;

/* Reads up to want bytes into dst; *got is 0 at end of file. Retries on EINTR. Fails with AE_IO
 * (naming the file and the system's reason); a failure leaves the counts as they were. */
int source_read(struct source *s, void *dst, size_t want, size_t *got, struct err *e) ASTRO_WUR;

/* Bytes handed out so far. */
uint64_t source_bytes(const struct source *s);

/* sha256 of the bytes handed out so far (of the whole file once source_read has returned 0).
 * May be asked at any time; reading can go on after. */
void source_sha256(const struct source *s, unsigned char out[32]);

/* The name given to source_open. */
const char *source_name(const struct source *s);

void source_free(struct source *s);

#endif
