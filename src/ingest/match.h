/*
 * match.h - checks that a source folder holds exactly the expected files.
 *
 * Each ingest spec's source_pattern (fnmatch glob, matched against file names) must match exactly
 * one file; every entry of the folder must be matched by exactly one spec; subdirectories and
 * other non-regular entries are not allowed. Hidden entries count like any other: a stray
 * ".file.csv.part" means an upload is still going on, which is exactly what must be refused.
 */
#ifndef ASTRO_INGEST_MATCH_H
#define ASTRO_INGEST_MATCH_H

#include "config/config.h"
#include "util/buf.h"

struct source_file {
    const struct ingest_spec *spec; /* borrowed from the config */
    char *path;                     /* dir/name, owned */
};

/* On success *out holds c->ningest entries in spec order. When the folder does not hold exactly
 * the expected files, returns AE_DATA and appends one line per problem to problems ("missing: ...",
 * "ambiguous: ...", "extra: ...", "not a regular file: ..."), every problem listed, not only the
 * first. A folder that cannot be read gives AE_IO. */
int source_match(const struct config *c, const char *dir, struct source_file **out,
                 struct buf *problems, struct err *e) ASTRO_WUR;

void source_files_free(struct source_file *files, size_t n);

#endif
