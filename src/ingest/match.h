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

/* True when real (a resolved absolute path) lies inside the folder dir (absolute, resolved). */
bool source_path_inside(const char *dir, const char *real);

#endif
