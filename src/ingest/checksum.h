/*
 * checksum.h - checksum side files of a delivery.
 *
 * A delivery may hold NAME.md5 or NAME.sha256 beside a data file NAME, written by md5sum or
 * sha256sum ("HEX  NAME", "HEX *NAME", or the HEX alone) or by their --tag form
 * ("MD5 (NAME) = HEX", "SHA256 (NAME) = HEX"). The folder check takes such a file as a side file
 * of NAME (not an extra file), and the engine verifies the digest of the delivered bytes against
 * it in the same pass that reads them (ingest_file_opts.checksums): a mismatch, or a side file
 * that holds no usable checksum, fails the data file (check "checksum").
 */
#ifndef ASTRO_INGEST_CHECKSUM_H
#define ASTRO_INGEST_CHECKSUM_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>

enum checksum_algo { CHECKSUM_MD5, CHECKSUM_SHA256 };

/* What a side file says of its data file. */
struct checksum {
    enum checksum_algo algo;
    char file[256];    /* the side file's name, for messages */
    char hex[65];      /* the expected digest in lowercase hex; "" when problem is set */
    char problem[512]; /* why the side file cannot be used, or "" */
};

/* "md5" or "sha256". */
const char *checksum_algo_name(enum checksum_algo a);

/* True when name ends with ".md5" or ".sha256" after at least one byte: *algo is the algorithm
 * and *base_len the length of the data file's name before the suffix. */
bool checksum_side_name(const char *name, enum checksum_algo *algo, size_t *base_len);

/* Reads the side file at path (named file_name, at most 64 KiB of text) for the data file
 * data_name into c. The line naming data_name is used (its name compared without folders); a
 * file of one checksum line is used whatever name it gives. A side file holding no such line,
 * or one whose digest is not algo's length in hex, is a problem of the delivery, not an error:
 * c->problem says what is wrong and 0 is returned. Fails with AE_IO (cannot be read, not a
 * regular file, over 64 KiB). */
int checksum_read(const char *path, const char *file_name, const char *data_name,
                  enum checksum_algo algo, struct checksum *c, struct err *e) ASTRO_WUR;

/* The checksum side files beside the data file at path (path.md5, path.sha256: regular files,
 * not links), read into out (*n of them, at most 2) as checksum_read does. AE_IO, AE_NOMEM. */
int checksum_find(const char *path, struct checksum out[2], size_t *n, struct err *e) ASTRO_WUR;

#endif
