/*
 * cfg_yaml.h - private helpers of src/config: a libyaml document with its file name, typed reads
 * of scalar nodes, mapping walks that reject unknown and duplicate keys, and error messages of the
 * form "file:line:col: key.path: what was expected".
 *
 * libyaml marks are 0-based; every message and struct cfg_loc here is 1-based. A plain scalar is
 * resolved as YAML 1.2 core would (null, true/false, numbers); a quoted or block scalar is always a
 * string, so `nullable: "true"` is refused instead of silently read as a bool. Only code in
 * src/config includes this header.
 */
#ifndef ASTRO_CONFIG_CFG_YAML_H
#define ASTRO_CONFIG_CFG_YAML_H

#include "config/config.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* Key paths longer than this are truncated in messages (never overflowed). */
#define CFG_PATH_MAX 512

struct cfg_doc {
    yaml_document_t doc;
    bool loaded;
    const char *file; /* name used in messages and struct cfg_loc; borrowed, must outlive doc */
    struct err *e;    /* where errors go; borrowed */
};

/* Reads and parses the file at path. file is the name for messages (borrowed). Fails with AE_IO
 * naming path when it cannot be read, AE_CONFIG for a YAML syntax error or an empty document. */
int cfg_doc_load(struct cfg_doc *d, const char *path, const char *file, struct err *e) ASTRO_WUR;

/* Frees the document; safe on a zeroed or already released struct. */
void cfg_doc_release(struct cfg_doc *d);

yaml_node_t *cfg_root(struct cfg_doc *d);
yaml_node_t *cfg_node(struct cfg_doc *d, int id);

/* Records AE_CONFIG "file:line:col: path: message" at node n (path may be "" or NULL). */
int cfg_fail(struct cfg_doc *d, const yaml_node_t *n, const char *path, const char *fmt, ...)
    ASTRO_PRINTF(4, 5);

/* child = parent + "." + key, or key alone at the top. Truncates silently. */
void cfg_path_key(char *out, size_t n, const char *parent, const char *key);
/* child = parent + "[i]". */
void cfg_path_index(char *out, size_t n, const char *parent, size_t i);

/* Fills loc for node n (path copied). Fails only with AE_NOMEM. */
int cfg_loc_set(struct cfg_doc *d, struct cfg_loc *loc, const yaml_node_t *n,
                const char *path) ASTRO_WUR;
void cfg_loc_release(struct cfg_loc *loc);

/* "a mapping", "a list", "a string"... for messages. */
const char *cfg_kind(const yaml_node_t *n);
/* Scalar text (NUL-terminated by libyaml); "" for non-scalars. */
const char *cfg_text(const yaml_node_t *n);
bool cfg_is_null(const yaml_node_t *n);
bool cfg_is_plain(const yaml_node_t *n);

/* Typed reads. Each fails with a message at n naming path and what was expected. */
int cfg_str(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool allow_null,
            char **out) ASTRO_WUR;
int cfg_bool(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool *out) ASTRO_WUR;
int cfg_int(struct cfg_doc *d, const yaml_node_t *n, const char *path, int64_t *out) ASTRO_WUR;
int cfg_double(struct cfg_doc *d, const yaml_node_t *n, const char *path, double *out) ASTRO_WUR;
/* A number's digit group separator (decimal false: one of , . space ' _) or decimal mark (decimal
 * true: . or ,), one character. */
int cfg_num_sep(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool decimal,
                char *out) ASTRO_WUR;
/* A list of strings (a single scalar is refused). With as_written, every item is kept as its text
 * (a plain `null` item is the string "null"): used for null markers, where the user means the
 * spelling. Without it, null items are errors. */
int cfg_str_list(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool as_written,
                 char ***out, size_t *nout) ASTRO_WUR;

/* Fails unless n is a mapping whose keys are distinct scalars. kind_what names the expected thing
 * for the message ("a mapping of column names to column options"). */
int cfg_expect_map(struct cfg_doc *d, const yaml_node_t *n, const char *path,
                   const char *what) ASTRO_WUR;
int cfg_expect_seq(struct cfg_doc *d, const yaml_node_t *n, const char *path,
                   const char *what) ASTRO_WUR;

/* Reports key node k (of a mapping at path) as unknown, suggesting the nearest of the NULL-ended
 * list known (Levenshtein distance <= 2 or a prefix match), else listing them. */
int cfg_unknown_key(struct cfg_doc *d, const yaml_node_t *k, const char *path,
                    const char *const *known);

/* The nearest name in known (NULL-ended) to s, or NULL when none is close enough. */
const char *cfg_suggest(const char *s, const char *const *known);

/* True when s is one of the NULL-ended list. */
bool cfg_in(const char *s, const char *const *list);

/* Frees a list of n strings and the list itself. */
void cfg_free_strv(char **v, size_t n);

/* Returns arr grown (realloc) so that index n is valid, new elements zeroed, *cap updated; or NULL
 * on allocation failure, arr then being unchanged and still owned by the caller. */
void *cfg_grow(void *arr, size_t n, size_t *cap, size_t elem);

/* Reads the Pandera DataFrameSchema mapping n (at key path path) into s, which must be zeroed.
 * s->file must already be set when the schema has a file of its own. On failure s may hold a
 * partial result: release it with schema_release(). Lives in schema.c. */
int cfg_parse_schema(struct cfg_doc *d, const yaml_node_t *n, const char *path,
                     struct schema *s) ASTRO_WUR;

#endif
