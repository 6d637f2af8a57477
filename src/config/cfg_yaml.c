/*
 * cfg_yaml.c - libyaml document loading, typed scalar reads and key checks for src/config.
 *
 * Invariants: every failure leaves an AE_* code and a complete message in d->e; nothing here keeps
 * pointers into the document after cfg_doc_release() except through copies it made (struct
 * cfg_loc copies its path; its file pointer is borrowed from the caller's owner).
 */
#include "config/cfg_yaml.h"

#include "util/fs.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cfg_doc_load(struct cfg_doc *d, const char *path, const char *file, struct err *e)
{
    memset(d, 0, sizeof(*d));
    d->file = file;
    d->e = e;
    yaml_parser_t parser;
    int rc = 0;
    /* Only a regular file: a directory would give libyaml's vague input error, and a FIFO would
     * block forever. A file that does not exist is a usage error (exit 2), like a bad key; one
     * that exists but cannot be read is the environment's. */
    FILE *fp = NULL;
    rc = fs_fopen_regular(path, &fp, e);
    if (rc == AE_IO && access(path, F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        return err_set(e, AE_CONFIG, "cannot read '%s': %s", path, strerror(errno));
    }
    if (rc != 0) {
        return rc;
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        return err_set(e, AE_NOMEM, "out of memory initialising the YAML parser");
    }
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, &d->doc)) {
        if (parser.error == YAML_MEMORY_ERROR) {
            rc = err_set(e, AE_NOMEM, "%s: out of memory while parsing YAML", file);
        } else if (parser.error == YAML_READER_ERROR) {
            /* Reader errors (bad encoding) carry a byte offset, not a line. */
            rc = err_set(e, AE_CONFIG, "%s: YAML read error: %s (at byte %zu)", file,
                         parser.problem ? parser.problem : "unknown", parser.problem_offset);
        } else if (parser.context != NULL) {
            rc = err_set(e, AE_CONFIG,
                         "%s:%zu:%zu: YAML syntax error: %s (%s at line %zu, column %zu)", file,
                         parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "unknown", parser.context,
                         parser.context_mark.line + 1, parser.context_mark.column + 1);
        } else {
            rc = err_set(e, AE_CONFIG, "%s:%zu:%zu: YAML syntax error: %s", file,
                         parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "unknown");
        }
        goto out;
    }
    d->loaded = true;
    if (yaml_document_get_root_node(&d->doc) == NULL) {
        rc = err_set(e, AE_CONFIG, "%s: the file is empty (expected a YAML mapping)", file);
        goto out;
    }
    /* A "\0" or "\x00" escape in a double-quoted scalar puts a NUL byte inside the value, and
     * every C string made of it would end there without a word (a column name, a pattern, a
     * null marker). Refused where it is written. */
    for (const yaml_node_t *n = d->doc.nodes.start; n < d->doc.nodes.top; n++) {
        if (n->type == YAML_SCALAR_NODE &&
            memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL) {
            rc = err_set(e, AE_CONFIG,
                         "%s:%zu:%zu: this value holds a NUL byte (a \\0 or \\x00 escape), "
                         "which no name, pattern or value may hold: remove it",
                         file, n->start_mark.line + 1, n->start_mark.column + 1);
            goto out;
        }
    }
    /* A second document ("---") would be silently ignored by a one-document reader; say so. */
    yaml_document_t next;
    if (!yaml_parser_load(&parser, &next)) {
        rc = err_set(e, AE_CONFIG, "%s:%zu:%zu: YAML syntax error: %s", file,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "unknown");
        goto out;
    }
    yaml_node_t *extra = yaml_document_get_root_node(&next);
    if (extra != NULL) {
        rc = err_set(e, AE_CONFIG,
                     "%s:%zu:%zu: a second YAML document starts here (expected one document)", file,
                     next.start_mark.line + 1, next.start_mark.column + 1);
    }
    yaml_document_delete(&next);
out:
    yaml_parser_delete(&parser);
    fclose(fp);
    return rc;
}

void cfg_doc_release(struct cfg_doc *d)
{
    if (d->loaded) {
        yaml_document_delete(&d->doc);
        d->loaded = false;
    }
}

yaml_node_t *cfg_root(struct cfg_doc *d)
{
    return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

yaml_node_t *cfg_node(struct cfg_doc *d, int id)
{
    return yaml_document_get_node(&d->doc, id);
}

int cfg_fail(struct cfg_doc *d, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char msg[sizeof(d->e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t line = n ? n->start_mark.line + 1 : 0;
    size_t col = n ? n->start_mark.column + 1 : 0;
    if (path != NULL && path[0] != '\0') {
        return err_set(d->e, AE_CONFIG, "%s:%zu:%zu: %s: %s", d->file, line, col, path, msg);
    }
    return err_set(d->e, AE_CONFIG, "%s:%zu:%zu: %s", d->file, line, col, msg);
}

void cfg_path_key(char *out, size_t n, const char *parent, const char *key)
{
    if (parent == NULL || parent[0] == '\0') {
        snprintf(out, n, "%s", key);
    } else {
        snprintf(out, n, "%s.%s", parent, key);
    }
}

void cfg_path_index(char *out, size_t n, const char *parent, size_t i)
{
    snprintf(out, n, "%s[%zu]", parent ? parent : "", i);
}

int cfg_loc_set(struct cfg_doc *d, struct cfg_loc *loc, const yaml_node_t *n, const char *path)
{
    char *p = strdup(path ? path : "");
    if (p == NULL) {
        return err_set(d->e, AE_NOMEM, "out of memory");
    }
    free(loc->path);
    loc->file = d->file;
    loc->line = (uint32_t)(n->start_mark.line + 1);
    loc->col = (uint32_t)(n->start_mark.column + 1);
    loc->path = p;
    return 0;
}

void cfg_loc_release(struct cfg_loc *loc)
{
    free(loc->path);
    loc->path = NULL;
}

const char *cfg_kind(const yaml_node_t *n)
{
    if (n == NULL) {
        return "nothing";
    }
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE:
        if (cfg_is_null(n)) {
            return "null";
        }
        return cfg_is_plain(n) ? "a scalar" : "a quoted string";
    default: return "nothing";
    }
}

const char *cfg_text(const yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE) {
        return "";
    }
    return (const char *)n->data.scalar.value;
}

bool cfg_is_plain(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE &&
           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

bool cfg_is_null(const yaml_node_t *n)
{
    /* YAML 1.2 core schema: null, Null, NULL, ~ and the empty plain scalar. */
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    return cfg_is_plain(n) && cfg_in(cfg_text(n), nulls);
}

bool cfg_in(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

int cfg_str(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool allow_null, char **out)
{
    *out = NULL;
    if (n->type != YAML_SCALAR_NODE) {
        return cfg_fail(d, n, path, "expected a string, got %s", cfg_kind(n));
    }
    if (cfg_is_null(n)) {
        if (allow_null) {
            return 0;
        }
        return cfg_fail(d, n, path, "expected a string, got null");
    }
    /* libyaml keeps NUL bytes written as "\0" escapes; a C string would silently cut them. */
    if (strlen(cfg_text(n)) != n->data.scalar.length) {
        return cfg_fail(d, n, path, "strings may not contain NUL characters");
    }
    *out = strdup(cfg_text(n));
    if (*out == NULL) {
        return err_set(d->e, AE_NOMEM, "out of memory");
    }
    return 0;
}

int cfg_num_sep(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool decimal, char *out)
{
    const char *allowed = decimal ? ".," : ",. '_";
    const char *s = cfg_text(n);
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length != 1 ||
        strchr(allowed, s[0]) == NULL) {
        return cfg_fail(d, n, path, "expected %s, got %s%s%s",
                        decimal ? "\".\" or \",\"" : "one of \",\" \".\" \" \" \"'\" \"_\"",
                        n->type == YAML_SCALAR_NODE ? "'" : "",
                        n->type == YAML_SCALAR_NODE ? s : cfg_kind(n),
                        n->type == YAML_SCALAR_NODE ? "'" : "");
    }
    *out = s[0];
    return 0;
}

int cfg_bool(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", NULL};
    static const char *const no[] = {"false", "False", "FALSE", NULL};
    if (n->type != YAML_SCALAR_NODE) {
        return cfg_fail(d, n, path, "expected true or false, got %s", cfg_kind(n));
    }
    if (!cfg_is_plain(n)) {
        return cfg_fail(d, n, path,
                        "expected true or false, got the string \"%s\" (write it without quotes)",
                        cfg_text(n));
    }
    if (cfg_in(cfg_text(n), yes)) {
        *out = true;
        return 0;
    }
    if (cfg_in(cfg_text(n), no)) {
        *out = false;
        return 0;
    }
    return cfg_fail(d, n, path, "expected true or false, got '%s'", cfg_text(n));
}

int cfg_int(struct cfg_doc *d, const yaml_node_t *n, const char *path, int64_t *out)
{
    if (n->type != YAML_SCALAR_NODE || cfg_is_null(n)) {
        return cfg_fail(d, n, path, "expected an integer, got %s", cfg_kind(n));
    }
    if (!cfg_is_plain(n)) {
        return cfg_fail(d, n, path,
                        "expected an integer, got the string \"%s\" (write it without quotes)",
                        cfg_text(n));
    }
    const char *s = cfg_text(n);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || s[0] == ' ') {
        return cfg_fail(d, n, path, "expected an integer, got '%s'", s);
    }
    if (errno == ERANGE) {
        return cfg_fail(d, n, path, "integer '%s' is out of range", s);
    }
    *out = (int64_t)v;
    return 0;
}

int cfg_double(struct cfg_doc *d, const yaml_node_t *n, const char *path, double *out)
{
    if (n->type != YAML_SCALAR_NODE || cfg_is_null(n)) {
        return cfg_fail(d, n, path, "expected a number, got %s", cfg_kind(n));
    }
    if (!cfg_is_plain(n)) {
        return cfg_fail(d, n, path,
                        "expected a number, got the string \"%s\" (write it without quotes)",
                        cfg_text(n));
    }
    const char *s = cfg_text(n);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || errno == ERANGE) {
        return cfg_fail(d, n, path, "expected a number, got '%s'", s);
    }
    *out = v;
    return 0;
}

void cfg_free_strv(char **v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

int cfg_str_list(struct cfg_doc *d, const yaml_node_t *n, const char *path, bool as_written,
                 char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        return cfg_fail(d, n, path, "expected a list of strings, got %s", cfg_kind(n));
    }
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **v = calloc(cnt ? cnt : 1, sizeof(*v));
    if (v == NULL) {
        return err_set(d->e, AE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = cfg_node(d, n->data.sequence.items.start[i]);
        char p[CFG_PATH_MAX];
        cfg_path_index(p, sizeof(p), path, i);
        int rc = 0;
        if (as_written && it->type == YAML_SCALAR_NODE) {
            /* Keep the spelling: `null_values: [NULL, -]` means the text NULL, not YAML null. */
            if (strlen(cfg_text(it)) != it->data.scalar.length) {
                rc = cfg_fail(d, it, p, "strings may not contain NUL characters");
            } else {
                v[i] = strdup(cfg_text(it));
                rc = v[i] ? 0 : err_set(d->e, AE_NOMEM, "out of memory");
            }
        } else {
            rc = cfg_str(d, it, p, false, &v[i]);
        }
        if (rc != 0) {
            cfg_free_strv(v, cnt);
            return rc;
        }
    }
    *out = v;
    *nout = cnt;
    return 0;
}

int cfg_expect_map(struct cfg_doc *d, const yaml_node_t *n, const char *path, const char *what)
{
    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(d, n, path, "expected %s, got %s", what, cfg_kind(n));
    }
    yaml_node_pair_t *a = n->data.mapping.pairs.start;
    yaml_node_pair_t *end = n->data.mapping.pairs.top;
    for (; a < end; a++) {
        yaml_node_t *k = cfg_node(d, a->key);
        if (k->type != YAML_SCALAR_NODE) {
            return cfg_fail(d, k, path, "keys must be strings, got %s", cfg_kind(k));
        }
        /* Quadratic, but mappings in a configuration are small; a hash would be overkill. */
        for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a; b++) {
            yaml_node_t *kb = cfg_node(d, b->key);
            if (strcmp(cfg_text(kb), cfg_text(k)) == 0) {
                return cfg_fail(d, k, path, "duplicate key '%s' (first given at line %zu)",
                                cfg_text(k), kb->start_mark.line + 1);
            }
        }
    }
    return 0;
}

int cfg_expect_seq(struct cfg_doc *d, const yaml_node_t *n, const char *path, const char *what)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return cfg_fail(d, n, path, "expected %s, got %s", what, cfg_kind(n));
    }
    return 0;
}

/* Levenshtein distance with two rows; names are short, so the rows live on the stack and longer
 * names simply do not get a suggestion. */
static size_t lev(const char *a, const char *b)
{
    enum { MAXL = 64 };
    size_t la = strlen(a);
    size_t lb = strlen(b);
    if (la >= MAXL || lb >= MAXL) {
        return SIZE_MAX;
    }
    size_t prev[MAXL + 1];
    size_t cur[MAXL + 1];
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) {
                best = cur[j - 1] + 1;
            }
            if (prev[j - 1] + cost < best) {
                best = prev[j - 1] + cost;
            }
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    return prev[lb];
}

const char *cfg_suggest(const char *s, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; known[i] != NULL; i++) {
        size_t dist = lev(s, known[i]);
        if (dist < best_d) {
            best_d = dist;
            best = known[i];
        }
    }
    if (best != NULL) {
        return best;
    }
    /* A prefix either way ("max_bad" for "max_bad_rows", "quiet" for "quiet_seconds"), needing
     * at least 3 characters so that "a" does not suggest everything. */
    size_t ls = strlen(s);
    for (size_t i = 0; known[i] != NULL && ls >= 3; i++) {
        size_t lk = strlen(known[i]);
        if ((ls <= lk && strncmp(s, known[i], ls) == 0) ||
            (lk >= 3 && lk < ls && strncmp(s, known[i], lk) == 0)) {
            return known[i];
        }
    }
    return NULL;
}

int cfg_unknown_key(struct cfg_doc *d, const yaml_node_t *k, const char *path,
                    const char *const *known)
{
    const char *s = cfg_suggest(cfg_text(k), known);
    if (s != NULL) {
        return cfg_fail(d, k, path, "unknown key '%s' (did you mean '%s'?)", cfg_text(k), s);
    }
    char list[600];
    size_t pos = 0;
    list[0] = '\0';
    for (size_t i = 0; known[i] != NULL && pos < sizeof(list); i++) {
        int w = snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "", known[i]);
        if (w < 0) {
            break;
        }
        pos += (size_t)w;
    }
    return cfg_fail(d, k, path, "unknown key '%s' (expected one of: %s)", cfg_text(k), list);
}

void *cfg_grow(void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) {
        return arr;
    }
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / elem) {
        return NULL;
    }
    char *p = realloc(arr, ncap * elem);
    if (p == NULL) {
        return NULL;
    }
    memset(p + *cap * elem, 0, (ncap - *cap) * elem);
    *cap = ncap;
    return p;
}
