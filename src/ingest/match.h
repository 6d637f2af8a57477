/*
 * match.h - checks that a source folder holds exactly the expected files.
 *
 * Each ingest spec's source_pattern (fnmatch glob, matched against file names) must match exactly
 * one file; every entry of the folder must be matched by exactly one spec; subdirectories and
 * other non-regular entries are not allowed. Hidden entries count like any other: a stray
 * ".file.csv.part" means an upload is still going on, which is exactly what must be refused.
 * A symbolic link to a regular file counts as that file when it resolves inside the source folder
 * (its real path), or anywhere when its spec sets allow_symlinks_outside; otherwise it is a
 * problem ("link outside the source folder"), so that a link planted in a drop zone cannot make
 * astro copy /etc/shadow into its output. Names in problem lines are in their printable form
 * (buf_put_escaped: control characters and bytes that are not UTF-8 as \n, \xHH).
 *
 * Two kinds of entries are not data: those matching one of the config's ignore_patterns
 * (README.txt, _SUCCESS ...) are left out of the check altogether, and a checksum side file
 * NAME.md5 or NAME.sha256 (ingest/checksum.h) beside a data file NAME of a spec belongs to that
 * file (source_file.checksums) instead of being extra. The side file is recognised first, so an
 * ignore pattern such as "*.md5" does not turn its verification off.
 */
#ifndef ASTRO_INGEST_MATCH_H
#define ASTRO_INGEST_MATCH_H

#include "config/config.h"
#include "ingest/checksum.h"
#include "util/buf.h"

/* The most checksum side files one data file may have (NAME.md5 and NAME.sha256). */
#define SOURCE_MAX_CHECKSUMS 2

struct source_file {
    const struct ingest_spec *spec; /* borrowed from the config */
    char *path;                     /* dir/name, owned */
    /* dir/NAME.md5, dir/NAME.sha256 found beside it (owned), with their algorithms */
    char *checksum_paths[SOURCE_MAX_CHECKSUMS];
    enum checksum_algo checksum_algos[SOURCE_MAX_CHECKSUMS];
    size_t nchecksums;
};

/* On success *out holds c->ningest entries in spec order. When the folder does not hold exactly
 * the expected files, returns AE_DATA and appends one line per problem to problems ("missing: ...",
 * "ambiguous: ...", "extra: ...", "not a regular file: ..."), every problem listed, not only the
 * first. A folder that cannot be read gives AE_IO. */
int source_match(const struct config *c, const char *dir, struct source_file **out,
                 struct buf *problems, struct err *e) ASTRO_WUR;

void source_files_free(struct source_file *files, size_t n);

/* True when real (a resolved absolute path) lies inside the folder dir (absolute, resolved). */
bool source_path_inside(const char *dir, const char *real);

#endif
