/*
 * config.c - astro.yaml to struct config (the shape is DESIGN.md "astro.yaml (shape)").
 *
 * The whole file is checked before anything runs: every mapping's keys are known (else the nearest
 * key is suggested), every value has the YAML type its key needs, required keys are present, and
 * names that refer to each other (steps -> ingest_files, targets) resolve. The first problem is
 * reported as "file:line:col: key.path: what was expected". Schemas, inline or in a schema_file,
 * are read by schema.c.
 */
#include "config/cfg_yaml.h"
#include "util/buf.h"

#include <fnmatch.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int nomem(struct cfg_doc *d)
{
    return err_set(d->e, AE_NOMEM, "out of memory");
}

/* Checks that m is a mapping of known keys only and fills vals[i] with the value node of known[i]
 * (NULL when absent). A YAML null value counts as absent, as Pandera and PyYAML users expect
 * (`column_names: null`). */
static int get_keys(struct cfg_doc *d, const yaml_node_t *m, const char *path, const char *what,
                    const char *const *known, const yaml_node_t **vals)
{
    int rc = cfg_expect_map(d, m, path, what);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; known[i] != NULL; i++) {
        vals[i] = NULL;
    }
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = cfg_node(d, pr->key);
        size_t i = 0;
        while (known[i] != NULL && strcmp(known[i], cfg_text(k)) != 0) {
            i++;
        }
        if (known[i] == NULL) {
            return cfg_unknown_key(d, k, path, known);
        }
        yaml_node_t *v = cfg_node(d, pr->value);
        vals[i] = cfg_is_null(v) ? NULL : v;
    }
    return 0;
}

static int missing(struct cfg_doc *d, const yaml_node_t *m, const char *path, const char *key)
{
    return cfg_fail(d, m, path, "missing required key '%s'", key);
}

/* Names that become file names and identifiers: ^[A-Za-z0-9][A-Za-z0-9._-]*$ */
static bool name_ok(const char *s)
{
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
            return false;
        }
    }
    return s[0] != '\0';
}

static int parse_name(struct cfg_doc *d, const yaml_node_t *v, const char *p, char **out)
{
    int rc = cfg_str(d, v, p, false, out);
    if (rc == 0 && !name_ok(*out)) {
        rc = cfg_fail(d, v, p,
                      "'%s' is not a valid name (expected a letter or digit, then letters, "
                      "digits, '.', '_' or '-')",
                      *out);
    }
    return rc;
}

/* One of the NULL-ended words; returns its index in *idx. */
static int parse_enum(struct cfg_doc *d, const yaml_node_t *v, const char *p,
                      const char *const *words, const char *expected, size_t *idx)
{
    if (v->type != YAML_SCALAR_NODE) {
        return cfg_fail(d, v, p, "expected %s, got %s", expected, cfg_kind(v));
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(cfg_text(v), words[i]) == 0) {
            *idx = i;
            return 0;
        }
    }
    const char *s = cfg_suggest(cfg_text(v), words);
    if (s != NULL) {
        return cfg_fail(d, v, p, "expected %s, got '%s' (did you mean '%s'?)", expected,
                        cfg_text(v), s);
    }
    return cfg_fail(d, v, p, "expected %s, got '%s'", expected, cfg_text(v));
}

/* How ${VAR} values are pasted: as text (a sqlite path), or into a libpq connection string,
 * where a value must stay one value whatever it holds (a password "x dbname=postgres" must not
 * choose the database). */
enum expand_mode { EXPAND_TEXT, EXPAND_DSN };

/* Where a keyword=value connection string (libpq's conninfo) is at, to paste a value safely. */
enum dsn_state {
    DSN_KEY,         /* outside a value: keywords, '=', blanks between pairs */
    DSN_VALUE_START, /* after '=' (and blanks): the value has not started */
    DSN_UNQUOTED,    /* inside a value written without quotes and without variables */
    DSN_QUOTED,      /* inside a value written in single quotes */
    DSN_AUTOQUOTED,  /* inside a value without quotes that holds a variable: astro quotes it */
};

struct dsn_paste {
    enum expand_mode mode;
    bool uri;            /* the dsn is a postgresql:// URI: values are percent-encoded */
    enum dsn_state st;   /* conninfo form */
    bool escape_pending; /* the last literal was a backslash: the next one is taken as is */
};

static bool dsn_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* True when the unquoted value starting at in (up to the next unescaped blank) holds a ${. */
static bool dsn_value_has_var(const char *in)
{
    for (size_t j = 0; in[j] != '\0' && !dsn_blank(in[j]); j++) {
        if (in[j] == '\\' && in[j + 1] != '\0') {
            j++;
        } else if (in[j] == '$' && in[j + 1] == '$') {
            j++;
        } else if (in[j] == '$' && in[j + 1] == '{') {
            return true;
        }
    }
    return false;
}

/* Appends one literal character of the template (rest: the template from it on). */
static int paste_literal(struct dsn_paste *ps, struct buf *b, char c, const char *rest)
{
    if (ps->mode == EXPAND_TEXT || ps->uri) {
        return buf_putc(b, c);
    }
    if (ps->escape_pending) {
        ps->escape_pending = false;
        return buf_putc(b, c);
    }
    switch (ps->st) {
    case DSN_KEY:
        ps->st = c == '=' ? DSN_VALUE_START : DSN_KEY;
        return buf_putc(b, c);
    case DSN_VALUE_START:
        if (dsn_blank(c)) {
            return buf_putc(b, c);
        }
        if (c == '\'') {
            ps->st = DSN_QUOTED;
            return buf_putc(b, c);
        }
        if (!dsn_value_has_var(rest)) {
            ps->st = DSN_UNQUOTED;
            ps->escape_pending = c == '\\';
            return buf_putc(b, c);
        }
        ps->st = DSN_AUTOQUOTED;
        if (buf_putc(b, '\'') != 0) {
            return AE_NOMEM;
        }
        return paste_literal(ps, b, c, rest);
    case DSN_UNQUOTED:
        ps->escape_pending = c == '\\';
        ps->st = dsn_blank(c) ? DSN_KEY : DSN_UNQUOTED;
        return buf_putc(b, c);
    case DSN_QUOTED:
        ps->escape_pending = c == '\\';
        ps->st = c == '\'' ? DSN_KEY : DSN_QUOTED;
        return buf_putc(b, c);
    case DSN_AUTOQUOTED:
        if (dsn_blank(c)) {
            ps->st = DSN_KEY;
            return buf_putc(b, '\'') != 0 ? AE_NOMEM : buf_putc(b, c);
        }
        ps->escape_pending = c == '\\';
        /* A quote was literal in the unquoted value; inside astro's quotes it is escaped. */
        return c == '\'' ? buf_puts(b, "\\'") : buf_putc(b, c);
    }
    return buf_putc(b, c);
}

/* Appends the value of a variable. In a dsn a variable that stands where a value goes becomes
 * exactly that value: inside single quotes with ' and \ escaped by a backslash (libpq's rules for
 * keyword=value strings), or percent-encoded in a URI; a variable outside any value (such as
 * dsn: "${ASTRO_PG_DSN}") holds whole keyword=value pairs or a URI and is pasted as it is. */
static int paste_value(struct dsn_paste *ps, struct buf *b, const char *val)
{
    static const char hex[] = "0123456789ABCDEF";
    if (ps->mode == EXPAND_TEXT) {
        return buf_puts(b, val);
    }
    int rc = 0;
    if (ps->uri) {
        for (const unsigned char *u = (const unsigned char *)val; *u != '\0' && rc == 0; u++) {
            bool plain = (*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
                         (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' || *u == '_' ||
                         *u == '~';
            char enc[3] = {'%', hex[*u >> 4], hex[*u & 15]};
            rc = plain ? buf_putc(b, (char)*u) : buf_append(b, enc, 3);
        }
        return rc;
    }
    switch (ps->st) {
    case DSN_KEY:
        /* A variable that starts the dsn with a URI ("${BASE}?sslmode=...") makes it a URI. */
        if (b->len == 0 && (strncmp(val, "postgresql://", 13) == 0 ||
                            strncmp(val, "postgres://", 11) == 0)) {
            ps->uri = true;
        }
        return buf_puts(b, val);
    case DSN_VALUE_START:
        ps->st = DSN_AUTOQUOTED;
        rc = buf_putc(b, '\'');
        break;
    case DSN_UNQUOTED:
    case DSN_QUOTED:
    case DSN_AUTOQUOTED: break;
    }
    for (const char *c = val; *c != '\0' && rc == 0; c++) {
        bool esc = *c == '\'' || *c == '\\' || (ps->st == DSN_UNQUOTED && dsn_blank(*c));
        rc = esc ? buf_putc(b, '\\') : 0;
        rc = rc ? rc : buf_putc(b, *c);
    }
    return rc;
}

/* Resolves a schema_file relative to the directory of astro.yaml. */
static char *resolve(const char *dir, const char *rel)
{
    if (rel[0] == '/' || strcmp(dir, ".") == 0) {
        return strdup(rel);
    }
    size_t n = strlen(dir) + 1 + strlen(rel) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        snprintf(p, n, "%s/%s", dir, rel);
    }
    return p;
}

/* ${VAR} expansion (targets' dsn and path) of the template in: *out (malloc'd) receives the text.
 * $$ is a literal $ so that passwords holding "${" can still be written; a $ before anything else
 * stays. In a dsn (EXPAND_DSN) each value is pasted as one value: see paste_value. A variable
 * that is not set pastes nothing and its name goes to unset (the first one only; unset[0] stays
 * '\0' when every variable is set), so that the whole template is still checked. Returns 0,
 * EXPAND_SYNTAX with why filled (a '${' without '}', a bad name), or AE_NOMEM. */
enum { EXPAND_SYNTAX = 1 };
static int expand_template(const char *in, enum expand_mode mode, char **out, char *why,
                           size_t nwhy, char unset[256])
{
    struct buf b = BUF_INIT;
    struct dsn_paste ps = {mode, false, DSN_KEY, false};
    ps.uri = strncmp(in, "postgresql://", 13) == 0 || strncmp(in, "postgres://", 11) == 0;
    int rc = 0;
    *out = NULL;
    unset[0] = '\0';
    for (size_t i = 0; in[i] != '\0' && rc == 0; i++) {
        if (in[i] != '$' || (in[i + 1] != '$' && in[i + 1] != '{')) {
            rc = paste_literal(&ps, &b, in[i], in + i) != 0 ? AE_NOMEM : 0;
            continue;
        }
        if (in[i + 1] == '$') {
            rc = paste_literal(&ps, &b, '$', in + i) != 0 ? AE_NOMEM : 0;
            i++;
            continue;
        }
        const char *name = in + i + 2;
        size_t n = strcspn(name, "}");
        if (name[n] != '}') {
            snprintf(why, nwhy, "'${' without a closing '}' (write $$ for a literal $)");
            rc = EXPAND_SYNTAX;
            break;
        }
        bool ok = n > 0 && !(name[0] >= '0' && name[0] <= '9');
        for (size_t j = 0; j < n && ok; j++) {
            char c = name[j];
            ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_';
        }
        if (!ok) {
            snprintf(why, nwhy, "'${%.*s}' is not a valid environment variable name", (int)n,
                     name);
            rc = EXPAND_SYNTAX;
            break;
        }
        if (n >= 256) {
            snprintf(why, nwhy, "environment variable name too long");
            rc = EXPAND_SYNTAX;
            break;
        }
        char var[256];
        memcpy(var, name, n);
        var[n] = '\0';
        const char *val = getenv(var);
        if (val == NULL && unset[0] == '\0') {
            memcpy(unset, var, n + 1);
        }
        rc = paste_value(&ps, &b, val != NULL ? val : "") != 0 ? AE_NOMEM : 0;
        i += n + 2;
    }
    if (rc == 0 && ps.st == DSN_AUTOQUOTED && !ps.uri && mode == EXPAND_DSN) {
        /* A value ending in a lone backslash (which libpq drops) must not escape the quote. */
        rc = (ps.escape_pending ? buf_puts(&b, "\\'") : buf_putc(&b, '\'')) != 0 ? AE_NOMEM : 0;
    }
    if (rc == 0 && (*out = buf_detach(&b, NULL)) == NULL) {
        rc = AE_NOMEM;
    }
    buf_release(&b);
    return rc;
}

/* Checks the ${VAR} syntax of a target's dsn or path at load time. Whether the variables are set
 * is checked only where the target is used (config_target_expand): validate, ingest, runs and
 * status never need it. */
static int check_template(struct cfg_doc *d, const yaml_node_t *v, const char *p, const char *in,
                          enum expand_mode mode)
{
    char why[300];
    char unset[256];
    char *out = NULL;
    int rc = expand_template(in, mode, &out, why, sizeof(why), unset);
    free(out);
    if (rc == EXPAND_SYNTAX) {
        return cfg_fail(d, v, p, "%s", why);
    }
    return rc != 0 ? nomem(d) : 0;
}

int config_target_expand(const struct target_spec *t, struct target_spec *out, struct err *e)
{
    *out = *t;
    out->dsn = NULL;
    out->path = NULL;
    const char *tmpl[2] = {t->dsn, t->path};
    char **dst[2] = {&out->dsn, &out->path};
    const struct cfg_loc *loc[2] = {&t->dsn_loc, &t->path_loc};
    for (int k = 0; k < 2; k++) {
        if (tmpl[k] == NULL) {
            continue;
        }
        char why[768];
        char unset[256];
        int rc = expand_template(tmpl[k], k == 0 ? EXPAND_DSN : EXPAND_TEXT, dst[k], why,
                                 sizeof(why), unset);
        if (rc == 0 && unset[0] != '\0') {
            snprintf(why, sizeof(why),
                     "environment variable '%.255s' is not set (target '%.200s' needs it "
                     "here: set it, or write $$ for a literal $)",
                     unset, t->name != NULL ? t->name : "");
            rc = EXPAND_SYNTAX;
        }
        if (rc == 0 && k == 1 && (*dst[k])[0] == '\0') {
            snprintf(why, sizeof(why), "expected a file path, got an empty string");
            rc = EXPAND_SYNTAX;
        }
        if (rc == 0 && k == 1 && t->dir != NULL && (*dst[k])[0] != '/') {
            /* Like schema_file, a relative database path means: next to astro.yaml. */
            char *full = resolve(t->dir, *dst[k]);
            free(*dst[k]);
            *dst[k] = full;
            rc = full == NULL ? AE_NOMEM : 0;
        }
        if (rc != 0) {
            config_target_expanded_release(out);
            if (rc != EXPAND_SYNTAX) {
                return err_set(e, AE_NOMEM, "out of memory");
            }
            if (loc[k]->path == NULL) {
                return err_set(e, AE_CONFIG, "target '%s': %s", t->name ? t->name : "", why);
            }
            return err_set(e, AE_CONFIG, "%s:%u:%u: %s: %s", loc[k]->file ? loc[k]->file : "",
                           (unsigned)loc[k]->line, (unsigned)loc[k]->col, loc[k]->path, why);
        }
    }
    return 0;
}

void config_target_expanded_release(struct target_spec *t)
{
    free(t->dsn);
    free(t->path);
    t->dsn = NULL;
    t->path = NULL;
}

/* delimiter, quote, escape: one ASCII character; "\t" (the escape or the two characters) and
 * "tab" mean a tab, because a literal tab is invisible and easy to lose in an editor. */
static int parse_char(struct cfg_doc *d, const yaml_node_t *v, const char *p, char *out)
{
    if (v->type != YAML_SCALAR_NODE) {
        return cfg_fail(d, v, p, "expected one character, got %s", cfg_kind(v));
    }
    const char *s = cfg_text(v);
    if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0 || strcmp(s, "\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (v->data.scalar.length != 1 || s[0] == '\n' || s[0] == '\r' || (unsigned char)s[0] >= 0x80) {
        return cfg_fail(d, v, p, "expected one character (\"\\t\" or tab for a tab), got '%s'", s);
    }
    *out = s[0];
    return 0;
}

static int load_schema_file(struct config *c, struct cfg_doc *d, struct ingest_spec *in,
                            const yaml_node_t *v, const char *p)
{
    char *full = resolve(c->dir, in->schema_file);
    if (full == NULL) {
        return nomem(d);
    }
    int rc = config_load_schema_file(full, &in->schema, d->e);
    /* Say where the file was named when it could not be read (missing, not a regular file, an
     * I/O error); a content error already names the schema file ("full:line:col: ..."). */
    size_t n = strlen(full);
    if (rc != 0 && rc != AE_NOMEM && !(strncmp(d->e->msg, full, n) == 0 && d->e->msg[n] == ':')) {
        err_prefix(d->e, "%s:%zu:%zu: %s", d->file, v->start_mark.line + 1,
                   v->start_mark.column + 1, p);
    }
    free(full);
    return rc;
}

enum {
    IN_NAME,
    IN_SOURCE,
    IN_FORMAT,
    IN_ENCODING,
    IN_HAS_HEADER,
    IN_COLUMN_NAMES,
    IN_DELIMITER,
    IN_QUOTE,
    IN_ESCAPE,
    IN_SHEET,
    IN_NULL_VALUES,
    IN_MAX_BAD_ROWS,
    IN_MAX_BAD_FRACTION,
    IN_MAX_FAILURE_CASES,
    IN_MAX_RECORD_LINES,
    IN_ALLOW_SYMLINKS_OUTSIDE,
    IN_THOUSANDS,
    IN_DECIMAL,
    IN_MIN_ROWS,
    IN_ROW_COUNT_DROP,
    IN_SCHEMA,
    IN_SCHEMA_FILE,
    IN_N
};

static const char *const ingest_keys[] = {"name",
                                          "source_pattern",
                                          "format",
                                          "encoding",
                                          "has_header",
                                          "column_names",
                                          "delimiter",
                                          "quote",
                                          "escape",
                                          "sheet",
                                          "null_values",
                                          "max_bad_rows",
                                          "max_bad_row_fraction",
                                          "max_failure_cases",
                                          "max_record_lines",
                                          "allow_symlinks_outside",
                                          "thousands",
                                          "decimal",
                                          "min_rows",
                                          "row_count_drop",
                                          "schema",
                                          "schema_file",
                                          NULL};

static bool iconv_knows(const char *enc)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1) {
        return false;
    }
    iconv_close(cd);
    return true;
}

/* iconv is what the CSV reader converts with, so it is the judge of a name; like the reader
 * (src/csv), also accept the Python spellings ("latin_1", "latin-1", "utf_16") by mapping '_' to
 * '-' and "latin-" to "latin". */
static bool encoding_known(const char *enc)
{
    if (iconv_knows(enc)) {
        return true;
    }
    char alt[64];
    size_t n = strlen(enc);
    if (n >= sizeof(alt)) {
        return false;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = enc[i] == '_' ? '-' : enc[i];
        if (ch == '-' && j == 5 && strncasecmp(alt, "latin", 5) == 0) {
            continue;
        }
        alt[j++] = ch;
    }
    alt[j] = '\0';
    return iconv_knows(alt);
}

static bool ends_with(const char *s, size_t n, const char *ext)
{
    size_t k = strlen(ext);
    return n > k && strncasecmp(s + n - k, ext, k) == 0;
}

enum input_format config_format_of_name(const char *name)
{
    /* The compression extensions the source knows (input/source.h): compression is found by
     * magic bytes, so they only need removing here. */
    static const char *const zext[] = {".gz", ".zst", ".zstd", ".bz2", ".xz"};
    size_t n = strlen(name);
    while (n > 0 && name[n - 1] == '*') {
        n--; /* a pattern such as "orders*.ndjson*" (compressed or not) */
    }
    for (size_t i = 0; i < sizeof(zext) / sizeof(zext[0]); i++) {
        if (ends_with(name, n, zext[i])) {
            n -= strlen(zext[i]);
            break;
        }
    }
    if (ends_with(name, n, ".ndjson") || ends_with(name, n, ".jsonl")) {
        return INPUT_NDJSON;
    }
    if (ends_with(name, n, ".json")) {
        return INPUT_JSON;
    }
    if (ends_with(name, n, ".xlsx")) {
        return INPUT_XLSX;
    }
    if (ends_with(name, n, ".parquet")) {
        return INPUT_PARQUET;
    }
    return INPUT_CSV;
}

const char *config_format_name(enum input_format f)
{
    switch (f) {
    case INPUT_CSV: return "csv";
    case INPUT_NDJSON: return "ndjson";
    case INPUT_JSON: return "json";
    case INPUT_XLSX: return "xlsx";
    case INPUT_PARQUET: return "parquet";
    }
    return "csv";
}

/* The JSON formats take their columns from the schema, by key: no header row, no CSV dialect,
 * UTF-8 text (RFC 8259), and no regex columns (keys are looked up, never enumerated). */
static int check_json_spec(struct cfg_doc *d, const struct ingest_spec *in,
                           const yaml_node_t *const *v, const char *path)
{
    char p[CFG_PATH_MAX];
    static const struct {
        int idx;
        const char *key;
    } unused[] = {{IN_HAS_HEADER, "has_header"},
                  {IN_COLUMN_NAMES, "column_names"},
                  {IN_DELIMITER, "delimiter"},
                  {IN_QUOTE, "quote"},
                  {IN_ESCAPE, "escape"}};
    const char *fmt = config_format_name(in->format);
    static const struct {
        int idx;
        const char *key;
    } numeric[] = {{IN_THOUSANDS, "thousands"}, {IN_DECIMAL, "decimal"}};
    for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
        if (v[numeric[i].idx] != NULL) {
            cfg_path_key(p, sizeof(p), path, numeric[i].key);
            return cfg_fail(d, v[numeric[i].idx], p,
                            "%s is not used with format %s (its numbers are typed: no "
                            "separators)",
                            numeric[i].key, fmt);
        }
    }
    for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
        if (v[unused[i].idx] != NULL) {
            cfg_path_key(p, sizeof(p), path, unused[i].key);
            return cfg_fail(d, v[unused[i].idx], p,
                            "%s is not used with format %s (%s)", unused[i].key, fmt,
                            in->format == INPUT_PARQUET
                                ? "the columns are the file's own, named in its schema"
                                : "the columns are the schema's, read by key");
        }
    }
    if (v[IN_ENCODING] != NULL && strcasecmp(in->encoding, "utf-8") != 0 &&
        strcasecmp(in->encoding, "utf8") != 0) {
        cfg_path_key(p, sizeof(p), path, "encoding");
        return cfg_fail(d, v[IN_ENCODING], p, "format %s is read as UTF-8 (%s), not %s", fmt,
                        in->format == INPUT_PARQUET ? "its strings are UTF-8" : "RFC 8259",
                        in->encoding);
    }
    return 0;
}

/* After the schema: the JSON formats cannot enumerate keys for regex columns, and their numbers,
 * like Parquet's, are typed (no separators to configure); path: is checked per format. */
static int check_json_schema(const struct ingest_spec *in, struct err *e)
{
    bool by_key = in->format == INPUT_NDJSON || in->format == INPUT_JSON;
    bool typed = by_key || in->format == INPUT_PARQUET;
    for (size_t k = 0; typed && k < in->schema.ncols; k++) {
        const struct column_spec *cs = &in->schema.cols[k];
        if (cs->thousands != 0 || cs->decimal != 0) {
            return err_set(e, AE_CONFIG,
                           "%s:%u:%u: %s: thousands and decimal are not used with format %s "
                           "(its numbers are typed: no separators)",
                           cs->loc.file, cs->loc.line, cs->loc.col, cs->loc.path,
                           config_format_name(in->format));
        }
        if (cs->regex && by_key) {
            return err_set(e, AE_CONFIG,
                           "%s:%u:%u: %s: regex columns are not supported with format %s (name "
                           "each key)",
                           cs->loc.file, cs->loc.line, cs->loc.col, cs->loc.path,
                           config_format_name(in->format));
        }
    }
    /* path: names where a column's value is: a key path (JSON formats) or a column of the file
     * (Parquet: flat columns only). Nowhere else does it mean anything, so it is refused
     * rather than ignored. */
    for (size_t k = 0; k < in->schema.ncols; k++) {
        const struct column_spec *cs = &in->schema.cols[k];
        if (cs->path == NULL || by_key) {
            continue;
        }
        if (in->format != INPUT_PARQUET) {
            return err_set(e, AE_CONFIG,
                           "%s:%u:%u: %s: path is only used with formats ndjson, json and parquet "
                           "(a %s column is found by its header name)",
                           cs->loc.file, cs->loc.line, cs->loc.col, cs->loc.path,
                           config_format_name(in->format));
        }
        if (strchr(cs->path, '.') != NULL) {
            return err_set(e, AE_CONFIG,
                           "%s:%u:%u: %s: path '%s' is a dotted path, but format parquet reads "
                           "flat columns only: path names one column of the file (nested "
                           "columns are not read)",
                           cs->loc.file, cs->loc.line, cs->loc.col, cs->loc.path, cs->path);
        }
        if (cs->regex) {
            return err_set(e, AE_CONFIG,
                           "%s:%u:%u: %s: a regex column matches names; it takes no path",
                           cs->loc.file, cs->loc.line, cs->loc.col, cs->loc.path);
        }
        for (size_t j = 0; j < k; j++) {
            const char *pj = in->schema.cols[j].path;
            if (pj != NULL && strcmp(pj, cs->path) == 0) {
                return err_set(e, AE_CONFIG,
                               "%s:%u:%u: %s: path '%s' is also the path of column '%s': a "
                               "file column is read by one schema column",
                               cs->loc.file, cs->loc.line, cs->loc.col, cs->loc.path, cs->path,
                               in->schema.cols[j].name);
            }
        }
    }
    return 0;
}

/* A workbook (format xlsx) is XML, so UTF-8 by definition, and has no CSV dialect; sheet names its
 * worksheet and is only used with it. */
static int parse_sheet(struct cfg_doc *d, struct ingest_spec *in, const yaml_node_t *const *v,
                       const char *path)
{
    char p[CFG_PATH_MAX];
    cfg_path_key(p, sizeof(p), path, "sheet");
    if (in->format != INPUT_XLSX) {
        return v[IN_SHEET] != NULL
                   ? cfg_fail(d, v[IN_SHEET], p, "sheet is only used with format xlsx (this entry "
                              "is read as %s)", config_format_name(in->format))
                   : 0;
    }
    static const struct {
        int idx;
        const char *key;
    } unused[] = {{IN_DELIMITER, "delimiter"}, {IN_QUOTE, "quote"}, {IN_ESCAPE, "escape"}};
    for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
        if (v[unused[i].idx] != NULL) {
            cfg_path_key(p, sizeof(p), path, unused[i].key);
            return cfg_fail(d, v[unused[i].idx], p,
                            "%s is not used with format xlsx (a workbook holds cells)",
                            unused[i].key);
        }
    }
    if (v[IN_ENCODING] != NULL && strcasecmp(in->encoding, "utf-8") != 0 &&
        strcasecmp(in->encoding, "utf8") != 0) {
        cfg_path_key(p, sizeof(p), path, "encoding");
        return cfg_fail(d, v[IN_ENCODING], p, "format xlsx is read as its XML says (UTF-8), not %s",
                        in->encoding);
    }
    if (v[IN_SHEET] == NULL) {
        return 0;
    }
    int rc = cfg_str(d, v[IN_SHEET], p, false, &in->sheet);
    if (rc == 0 && in->sheet[0] == '\0') {
        rc = cfg_fail(d, v[IN_SHEET], p, "expected a worksheet name, got an empty string");
    }
    return rc;
}

static int parse_ingest(struct config *c, struct cfg_doc *d, struct ingest_spec *in,
                        const yaml_node_t *m, const char *path)
{
    const yaml_node_t *v[IN_N + 1];
    char p[CFG_PATH_MAX];
    in->has_header = true;
    in->delimiter = ',';
    in->quote = '"';
    in->escape = '\0';
    in->max_bad_rows = -1;
    in->max_failure_cases = -1;
    in->max_record_lines = CONFIG_MAX_RECORD_LINES;
    in->max_bad_row_fraction = -1.0;
    int rc = cfg_loc_set(d, &in->loc, m, path);
    if (rc != 0) {
        return rc;
    }
    rc = get_keys(d, m, path, "a mapping describing one input file", ingest_keys, v);
    if (rc != 0) {
        return rc;
    }
#define P(key) cfg_path_key(p, sizeof(p), path, (key))
    if (v[IN_NAME] == NULL) {
        return missing(d, m, path, "name");
    }
    P("name");
    if ((rc = parse_name(d, v[IN_NAME], p, &in->name)) != 0) {
        return rc;
    }
    if (v[IN_SOURCE] == NULL) {
        return missing(d, m, path, "source_pattern");
    }
    P("source_pattern");
    if ((rc = cfg_str(d, v[IN_SOURCE], p, false, &in->source_pattern)) != 0) {
        return rc;
    }
    if (in->source_pattern[0] == '\0') {
        return cfg_fail(d, v[IN_SOURCE], p, "expected a glob pattern, got an empty string");
    }
    P("format");
    in->format = config_format_of_name(in->source_pattern);
    if (v[IN_FORMAT] != NULL) {
        const char *f = cfg_text(v[IN_FORMAT]);
        if (strcmp(f, "csv") == 0) {
            in->format = INPUT_CSV;
        } else if (strcmp(f, "ndjson") == 0) {
            in->format = INPUT_NDJSON;
        } else if (strcmp(f, "json") == 0) {
            in->format = INPUT_JSON;
        } else if (strcmp(f, "xlsx") == 0) {
            in->format = INPUT_XLSX;
        } else if (strcmp(f, "parquet") == 0) {
            in->format = INPUT_PARQUET;
        } else {
            return cfg_fail(d, v[IN_FORMAT], p,
                            "format '%s' is not supported (expected csv, ndjson, json, xlsx or "
                            "parquet)",
                            f);
        }
    }
    P("encoding");
    if (v[IN_ENCODING] != NULL) {
        if ((rc = cfg_str(d, v[IN_ENCODING], p, false, &in->encoding)) != 0) {
            return rc;
        }
        if (!encoding_known(in->encoding)) {
            return cfg_fail(d, v[IN_ENCODING], p,
                            "encoding '%s' is not known (expected a name iconv knows, such as "
                            "utf-8, windows-1252 or latin1)",
                            in->encoding);
        }
    } else if ((in->encoding = strdup("utf-8")) == NULL) {
        return nomem(d);
    }
    if ((in->format == INPUT_NDJSON || in->format == INPUT_JSON || in->format == INPUT_PARQUET) &&
        (rc = check_json_spec(d, in, v, path)) != 0) {
        return rc;
    }
    if ((rc = parse_sheet(d, in, v, path)) != 0) {
        return rc;
    }
    P("has_header");
    if (v[IN_HAS_HEADER] != NULL && (rc = cfg_bool(d, v[IN_HAS_HEADER], p, &in->has_header))) {
        return rc;
    }
    P("column_names");
    if (v[IN_COLUMN_NAMES] != NULL) {
        if (in->has_header) {
            return cfg_fail(d, v[IN_COLUMN_NAMES], p,
                            "column_names is only used with has_header: false (the header "
                            "names the columns)");
        }
        rc = cfg_str_list(d, v[IN_COLUMN_NAMES], p, false, &in->column_names, &in->ncolumn_names);
        if (rc != 0) {
            return rc;
        }
        for (size_t i = 0; i < in->ncolumn_names; i++) {
            for (size_t j = 0; j < i; j++) {
                if (strcmp(in->column_names[i], in->column_names[j]) == 0) {
                    char ip[CFG_PATH_MAX];
                    cfg_path_index(ip, sizeof(ip), p, i);
                    return cfg_fail(d,
                                    cfg_node(d, v[IN_COLUMN_NAMES]->data.sequence.items.start[i]),
                                    ip, "duplicate column name '%s' (also column_names[%zu])",
                                    in->column_names[i], j);
                }
            }
        }
        if (in->ncolumn_names == 0) {
            return cfg_fail(d, v[IN_COLUMN_NAMES], p, "expected at least one column name");
        }
    } else if (!in->has_header && in->format != INPUT_NDJSON && in->format != INPUT_JSON) {
        return cfg_fail(d, m, path,
                        "has_header is false, so column_names is required (the list of column "
                        "names in file order)");
    }
    struct {
        int idx;
        const char *key;
        char *dst;
    } chars[] = {{IN_DELIMITER, "delimiter", &in->delimiter},
                 {IN_QUOTE, "quote", &in->quote},
                 {IN_ESCAPE, "escape", &in->escape}};
    for (size_t i = 0; i < 3; i++) {
        P(chars[i].key);
        if (v[chars[i].idx] != NULL && (rc = parse_char(d, v[chars[i].idx], p, chars[i].dst))) {
            return rc;
        }
    }
    if (in->delimiter == in->quote || in->delimiter == in->escape) {
        P("delimiter");
        return cfg_fail(d, v[IN_DELIMITER] ? v[IN_DELIMITER] : m, p,
                        "the delimiter must differ from the quote and escape characters");
    }
    P("null_values");
    if (v[IN_NULL_VALUES] != NULL &&
        (rc = cfg_str_list(d, v[IN_NULL_VALUES], p, true, &in->null_values, &in->n_null_values))) {
        return rc;
    }
    P("max_bad_rows");
    if (v[IN_MAX_BAD_ROWS] != NULL) {
        if ((rc = cfg_int(d, v[IN_MAX_BAD_ROWS], p, &in->max_bad_rows)) != 0) {
            return rc;
        }
        if (in->max_bad_rows < 0) {
            return cfg_fail(d, v[IN_MAX_BAD_ROWS], p, "expected an integer >= 0, got %s",
                            cfg_text(v[IN_MAX_BAD_ROWS]));
        }
    }
    P("max_failure_cases");
    if (v[IN_MAX_FAILURE_CASES] != NULL) {
        if ((rc = cfg_int(d, v[IN_MAX_FAILURE_CASES], p, &in->max_failure_cases)) != 0) {
            return rc;
        }
        if (in->max_failure_cases < 1) {
            return cfg_fail(d, v[IN_MAX_FAILURE_CASES], p, "expected an integer >= 1, got %s",
                            cfg_text(v[IN_MAX_FAILURE_CASES]));
        }
    }
    P("max_record_lines");
    if (v[IN_MAX_RECORD_LINES] != NULL) {
        if ((rc = cfg_int(d, v[IN_MAX_RECORD_LINES], p, &in->max_record_lines)) != 0) {
            return rc;
        }
        if (in->max_record_lines < 1) {
            return cfg_fail(d, v[IN_MAX_RECORD_LINES], p, "expected an integer >= 1, got %s",
                            cfg_text(v[IN_MAX_RECORD_LINES]));
        }
    }
    P("allow_symlinks_outside");
    if (v[IN_ALLOW_SYMLINKS_OUTSIDE] != NULL &&
        (rc = cfg_bool(d, v[IN_ALLOW_SYMLINKS_OUTSIDE], p, &in->allow_symlinks_outside)) != 0) {
        return rc;
    }
    P("max_bad_row_fraction");
    if (v[IN_MAX_BAD_FRACTION] != NULL) {
        if ((rc = cfg_double(d, v[IN_MAX_BAD_FRACTION], p, &in->max_bad_row_fraction)) != 0) {
            return rc;
        }
        if (!(in->max_bad_row_fraction >= 0.0 && in->max_bad_row_fraction <= 1.0)) {
            return cfg_fail(d, v[IN_MAX_BAD_FRACTION], p,
                            "expected a number between 0 and 1, got %s",
                            cfg_text(v[IN_MAX_BAD_FRACTION]));
        }
    }
    P("thousands");
    if (v[IN_THOUSANDS] != NULL &&
        (rc = cfg_num_sep(d, v[IN_THOUSANDS], p, false, &in->thousands)) != 0) {
        return rc;
    }
    P("decimal");
    if (v[IN_DECIMAL] != NULL && (rc = cfg_num_sep(d, v[IN_DECIMAL], p, true, &in->decimal)) != 0) {
        return rc;
    }
    if (in->thousands != 0 && in->thousands == (in->decimal != 0 ? in->decimal : '.')) {
        P("thousands");
        return cfg_fail(d, v[IN_THOUSANDS], p,
                        "the thousands separator '%c' is also the decimal mark (set decimal: "
                        "\"%c\")",
                        in->thousands, in->thousands == '.' ? ',' : '.');
    }
    P("min_rows");
    if (v[IN_MIN_ROWS] != NULL) {
        if ((rc = cfg_int(d, v[IN_MIN_ROWS], p, &in->min_rows)) != 0) {
            return rc;
        }
        if (in->min_rows < 0) {
            return cfg_fail(d, v[IN_MIN_ROWS], p, "expected an integer >= 0, got %s",
                            cfg_text(v[IN_MIN_ROWS]));
        }
    }
    P("row_count_drop");
    if (v[IN_ROW_COUNT_DROP] != NULL) {
        static const char *const drop_words[] = {"warn", "fail", "off", NULL};
        size_t idx = 0;
        if ((rc = parse_enum(d, v[IN_ROW_COUNT_DROP], p, drop_words, "warn, fail or off", &idx))) {
            return rc;
        }
        in->row_count_drop = (enum row_drop_mode)idx;
    }
    if (v[IN_SCHEMA] != NULL && v[IN_SCHEMA_FILE] != NULL) {
        P("schema_file");
        return cfg_fail(d, v[IN_SCHEMA_FILE], p, "give either schema or schema_file, not both");
    }
    if (v[IN_SCHEMA] != NULL) {
        P("schema");
        rc = cfg_parse_schema(d, v[IN_SCHEMA], p, &in->schema);
        return rc != 0 ? rc : check_json_schema(in, d->e);
    }
    if (v[IN_SCHEMA_FILE] != NULL) {
        P("schema_file");
        if ((rc = cfg_str(d, v[IN_SCHEMA_FILE], p, false, &in->schema_file)) != 0) {
            return rc;
        }
        rc = load_schema_file(c, d, in, v[IN_SCHEMA_FILE], p);
        return rc != 0 ? rc : check_json_schema(in, d->e);
    }
#undef P
    return cfg_fail(d, m, path, "missing required key 'schema' or 'schema_file'");
}

static int parse_ingest_files(struct config *c, struct cfg_doc *d, const yaml_node_t *seq)
{
    const char *path = "ingest_files";
    int rc = cfg_expect_seq(d, seq, path, "a list of input files");
    if (rc != 0) {
        return rc;
    }
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0) {
        return cfg_fail(d, seq, path, "expected at least one input file");
    }
    c->ingest = calloc(n, sizeof(*c->ingest));
    if (c->ingest == NULL) {
        return nomem(d);
    }
    for (size_t i = 0; i < n; i++) {
        char p[CFG_PATH_MAX];
        cfg_path_index(p, sizeof(p), path, i);
        c->ningest = i + 1;
        const yaml_node_t *m = cfg_node(d, seq->data.sequence.items.start[i]);
        if ((rc = parse_ingest(c, d, &c->ingest[i], m, p)) != 0) {
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->ingest[j].name, c->ingest[i].name) == 0) {
                char np[CFG_PATH_MAX];
                cfg_path_key(np, sizeof(np), p, "name");
                return err_set(
                    d->e, AE_CONFIG, "%s:%u:%u: %s: duplicate name '%s' (also ingest_files[%zu])",
                    d->file, c->ingest[i].loc.line, c->ingest[i].loc.col, np, c->ingest[i].name, j);
            }
        }
    }
    return 0;
}

enum { TG_KIND, TG_DSN, TG_PATH, TG_N };
static const char *const target_keys[] = {"kind", "dsn", "path", NULL};
static const char *const target_kinds[] = {"postgres", "sqlite", NULL};

static int parse_targets(struct config *c, struct cfg_doc *d, const yaml_node_t *m)
{
    const char *path = "targets";
    int rc = cfg_expect_map(d, m, path, "a mapping of target names to targets");
    if (rc != 0) {
        return rc;
    }
    size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    c->targets = calloc(n ? n : 1, sizeof(*c->targets));
    if (c->targets == NULL) {
        return nomem(d);
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = cfg_node(d, m->data.mapping.pairs.start[i].key);
        const yaml_node_t *tm = cfg_node(d, m->data.mapping.pairs.start[i].value);
        struct target_spec *t = &c->targets[i];
        c->ntargets = i + 1;
        char tp[CFG_PATH_MAX];
        char p[CFG_PATH_MAX];
        cfg_path_key(tp, sizeof(tp), path, cfg_text(k));
        if ((rc = parse_name(d, k, path, &t->name)) != 0 ||
            (rc = cfg_loc_set(d, &t->loc, k, tp)) != 0) {
            return rc;
        }
        const yaml_node_t *v[TG_N + 1];
        if ((rc = get_keys(d, tm, tp, "a mapping {kind, dsn, path}", target_keys, v)) != 0) {
            return rc;
        }
        if (v[TG_KIND] == NULL) {
            return missing(d, tm, tp, "kind");
        }
        size_t kind = 0;
        cfg_path_key(p, sizeof(p), tp, "kind");
        if ((rc = parse_enum(d, v[TG_KIND], p, target_kinds, "postgres or sqlite", &kind)) != 0) {
            return rc;
        }
        t->kind = kind == 0 ? TARGET_POSTGRES : TARGET_SQLITE;
        if (t->kind == TARGET_POSTGRES && v[TG_PATH] != NULL) {
            cfg_path_key(p, sizeof(p), tp, "path");
            return cfg_fail(d, v[TG_PATH], p, "a postgres target takes dsn, not path");
        }
        if (t->kind == TARGET_SQLITE) {
            if (v[TG_DSN] != NULL) {
                cfg_path_key(p, sizeof(p), tp, "dsn");
                return cfg_fail(d, v[TG_DSN], p, "a sqlite target takes path, not dsn");
            }
            if (v[TG_PATH] == NULL) {
                return missing(d, tm, tp, "path");
            }
        }
        /* dsn and path are kept as written: their ${VAR} are expanded where the target is used
         * (config_target_expand), so a command that never connects needs none of them. */
        t->dir = c->dir;
        if (v[TG_DSN] != NULL) {
            cfg_path_key(p, sizeof(p), tp, "dsn");
            if ((rc = cfg_str(d, v[TG_DSN], p, false, &t->dsn)) != 0 ||
                (rc = cfg_loc_set(d, &t->dsn_loc, v[TG_DSN], p)) != 0 ||
                (rc = check_template(d, v[TG_DSN], p, t->dsn, EXPAND_DSN)) != 0) {
                return rc;
            }
        }
        if (v[TG_PATH] != NULL) {
            cfg_path_key(p, sizeof(p), tp, "path");
            if ((rc = cfg_str(d, v[TG_PATH], p, false, &t->path)) != 0 ||
                (rc = cfg_loc_set(d, &t->path_loc, v[TG_PATH], p)) != 0 ||
                (rc = check_template(d, v[TG_PATH], p, t->path, EXPAND_TEXT)) != 0) {
                return rc;
            }
            if (t->path[0] == '\0') {
                return cfg_fail(d, v[TG_PATH], p, "expected a file path, got an empty string");
            }
        }
    }
    return 0;
}

const struct target_spec *config_find_target(const struct config *c, const char *name)
{
    for (size_t i = 0; c != NULL && i < c->ntargets; i++) {
        if (strcmp(c->targets[i].name, name) == 0) {
            return &c->targets[i];
        }
    }
    return NULL;
}

/* A reference to a target by name: it must exist. */
static int parse_target_ref(const struct config *c, struct cfg_doc *d, const yaml_node_t *v,
                            const char *p, char **out)
{
    int rc = cfg_str(d, v, p, false, out);
    if (rc == 0 && config_find_target(c, *out) == NULL) {
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < c->ntargets && n < 63; i++) {
            names[n++] = c->targets[i].name;
        }
        names[n] = NULL;
        const char *s = cfg_suggest(*out, names);
        if (s != NULL) {
            return cfg_fail(d, v, p, "no target named '%s' in targets (did you mean '%s'?)", *out,
                            s);
        }
        return cfg_fail(d, v, p, "no target named '%s' in targets", *out);
    }
    return rc;
}

enum {
    LD_DATASET,
    LD_TARGET,
    LD_TABLE,
    LD_MODE,
    LD_KEY,
    LD_CREATE,
    LD_ON_CONFLICT,
    LD_RENAME,
    LD_N
};
static const char *const load_keys[] = {"dataset", "target",      "table",  "mode", "key",
                                        "create",  "on_conflict", "rename", NULL};

/* rename: {dataset column: table column, ...} into pairs. */
static int parse_renames(struct cfg_doc *d, struct step_spec *s, const yaml_node_t *m,
                         const char *path)
{
    int rc = cfg_expect_map(d, m, path, "a mapping of dataset column names to table column names");
    if (rc != 0) {
        return rc;
    }
    size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    s->renames = calloc(2 * n + 1, sizeof(*s->renames));
    if (s->renames == NULL) {
        return nomem(d);
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_pair_t *pr = &m->data.mapping.pairs.start[i];
        const yaml_node_t *k = cfg_node(d, pr->key);
        char p[CFG_PATH_MAX];
        if ((rc = cfg_str(d, k, path, false, &s->renames[2 * i])) != 0) {
            return rc;
        }
        s->nrenames = i + 1; /* so that a failure below frees what was read */
        cfg_path_key(p, sizeof(p), path, s->renames[2 * i]);
        if ((rc = cfg_str(d, cfg_node(d, pr->value), p, false, &s->renames[2 * i + 1])) != 0) {
            return rc;
        }
    }
    return 0;
}

/* The table column a dataset column becomes (itself unless renamed). */
static const char *renamed(const struct step_spec *s, const char *col)
{
    for (size_t i = 0; i < s->nrenames; i++) {
        if (s->renames[2 * i] != NULL && strcmp(s->renames[2 * i], col) == 0) {
            return s->renames[2 * i + 1] ? s->renames[2 * i + 1] : col;
        }
    }
    return col;
}
static const char *const load_modes[] = {"append", "upsert", "replace", NULL};
static const char *const on_conflicts[] = {"update", "nothing", "error", NULL};

/* A load mapping (a load step's, or one of watch.loads) into s; default_target (or NULL) stands
 * for a missing target. */
static int parse_load(const struct config *c, struct cfg_doc *d, struct step_spec *s,
                      const yaml_node_t *m, const char *path, const char *default_target)
{
    const yaml_node_t *v[LD_N + 1];
    char p[CFG_PATH_MAX];
    int rc =
        get_keys(d, m, path, "a mapping {dataset, target, table, mode, key, create}", load_keys, v);
    if (rc != 0) {
        return rc;
    }
    if (v[LD_DATASET] == NULL) {
        return missing(d, m, path, "dataset");
    }
    cfg_path_key(p, sizeof(p), path, "dataset");
    if ((rc = cfg_str(d, v[LD_DATASET], p, false, &s->dataset)) != 0) {
        return rc;
    }
    if (config_find_ingest(c, s->dataset) == NULL) {
        return cfg_fail(d, v[LD_DATASET], p, "no ingest_files entry is named '%s'", s->dataset);
    }
    if (v[LD_TARGET] == NULL && default_target == NULL) {
        return missing(d, m, path, "target");
    }
    cfg_path_key(p, sizeof(p), path, "target");
    if (v[LD_TARGET] == NULL) {
        s->target = strdup(default_target);
        if (s->target == NULL) {
            return nomem(d);
        }
    } else if ((rc = parse_target_ref(c, d, v[LD_TARGET], p, &s->target)) != 0) {
        return rc;
    }
    cfg_path_key(p, sizeof(p), path, "table");
    if (v[LD_TABLE] != NULL) {
        rc = cfg_str(d, v[LD_TABLE], p, false, &s->table);
    } else {
        s->table = strdup(s->dataset);
        rc = s->table ? 0 : nomem(d);
    }
    if (rc != 0) {
        return rc;
    }
    s->mode = LOAD_APPEND;
    if (v[LD_MODE] != NULL) {
        size_t idx = 0;
        cfg_path_key(p, sizeof(p), path, "mode");
        rc = parse_enum(d, v[LD_MODE], p, load_modes, "append, upsert or replace", &idx);
        if (rc != 0) {
            return rc;
        }
        s->mode = idx == 0 ? LOAD_APPEND : idx == 1 ? LOAD_UPSERT : LOAD_REPLACE;
    }
    cfg_path_key(p, sizeof(p), path, "rename");
    if (v[LD_RENAME] != NULL && (rc = parse_renames(d, s, v[LD_RENAME], p)) != 0) {
        return rc;
    }
    cfg_path_key(p, sizeof(p), path, "key");
    if (v[LD_KEY] != NULL && (rc = cfg_str_list(d, v[LD_KEY], p, false, &s->key, &s->nkey))) {
        return rc;
    }
    /* Key columns must exist in the loaded file. With strict true or filter (and no regex
     * column) the schema lists every column, so a misspelt key can be caught here. */
    const struct schema *sch = &config_find_ingest(c, s->dataset)->schema;
    bool closed = sch->strict != STRICT_FALSE;
    for (size_t i = 0; i < sch->ncols && closed; i++) {
        closed = !sch->cols[i].regex;
    }
    for (size_t i = 0; i < s->nkey && closed; i++) {
        bool found = false;
        for (size_t j = 0; j < sch->ncols && !found; j++) {
            /* key names the table's columns, after renames */
            found = strcmp(renamed(s, sch->cols[j].name), s->key[i]) == 0;
        }
        if (!found) {
            char kp[CFG_PATH_MAX];
            cfg_path_index(kp, sizeof(kp), p, i);
            return cfg_fail(d, cfg_node(d, v[LD_KEY]->data.sequence.items.start[i]), kp,
                            "column '%s' is not in the schema of '%s'%s", s->key[i], s->dataset,
                            s->nrenames > 0 ? " (after rename)" : "");
        }
    }
    if (s->mode == LOAD_UPSERT && s->nkey == 0) {
        return cfg_fail(d, v[LD_MODE], path, "mode upsert needs key (the list of key columns)");
    }
    cfg_path_key(p, sizeof(p), path, "create");
    if (v[LD_CREATE] != NULL && (rc = cfg_bool(d, v[LD_CREATE], p, &s->create))) {
        return rc;
    }
    size_t oc = 0;
    cfg_path_key(p, sizeof(p), path, "on_conflict");
    if (v[LD_ON_CONFLICT] != NULL &&
        (rc = parse_enum(d, v[LD_ON_CONFLICT], p, on_conflicts, "update, nothing or error", &oc))) {
        return rc;
    }
    s->on_conflict = strdup(on_conflicts[oc]);
    return s->on_conflict ? 0 : nomem(d);
}

/* statements: a list of SQL statements, each ended by a ';' where it has none (on a line of its
 * own, so that a trailing -- comment cannot swallow it), joined into the one text the step runs
 * in one transaction. An empty list or an item without SQL is refused. */
static int parse_statement_list(struct cfg_doc *d, const yaml_node_t *n, const char *p,
                                char **out)
{
    char **items = NULL;
    size_t nitems = 0;
    struct buf b = BUF_INIT;
    int rc = cfg_str_list(d, n, p, true, &items, &nitems);
    if (rc != 0) {
        return rc;
    }
    if (nitems == 0) {
        rc = cfg_fail(d, n, p, "expected at least one SQL statement, got an empty list");
        goto out;
    }
    for (size_t i = 0; i < nitems && rc == 0; i++) {
        const char *sql = items[i] != NULL ? items[i] : "";
        size_t len = strlen(sql);
        while (len > 0 && strchr(" \t\r\n;", sql[len - 1]) != NULL) {
            len--;
        }
        if (len == 0) {
            char ip[CFG_PATH_MAX];
            cfg_path_index(ip, sizeof(ip), p, i);
            rc = cfg_fail(d, cfg_node(d, n->data.sequence.items.start[i]), ip,
                          "expected an SQL statement, got '%s'", sql);
            goto out;
        }
        if (buf_append(&b, sql, len) != 0 || buf_puts(&b, "\n;\n") != 0) {
            rc = nomem(d);
        }
    }
    if (rc == 0 && (*out = buf_detach(&b, NULL)) == NULL) {
        rc = nomem(d);
    }
out:
    buf_release(&b);
    cfg_free_strv(items, nitems);
    return rc;
}

enum { SQ_TARGET, SQ_FILE, SQ_STATEMENTS, SQ_N };
static const char *const sql_keys[] = {"target", "file", "statements", NULL};

static int parse_sql(const struct config *c, struct cfg_doc *d, struct step_spec *s,
                     const yaml_node_t *m, const char *path)
{
    const yaml_node_t *v[SQ_N + 1];
    char p[CFG_PATH_MAX];
    int rc = get_keys(d, m, path, "a mapping {target, file or statements}", sql_keys, v);
    if (rc != 0) {
        return rc;
    }
    if (v[SQ_TARGET] == NULL) {
        return missing(d, m, path, "target");
    }
    cfg_path_key(p, sizeof(p), path, "target");
    if ((rc = parse_target_ref(c, d, v[SQ_TARGET], p, &s->target)) != 0) {
        return rc;
    }
    if ((v[SQ_FILE] == NULL) == (v[SQ_STATEMENTS] == NULL)) {
        return cfg_fail(d, v[SQ_STATEMENTS] ? v[SQ_STATEMENTS] : m, path,
                        "give exactly one of file or statements");
    }
    if (v[SQ_FILE] != NULL) {
        cfg_path_key(p, sizeof(p), path, "file");
        return cfg_str(d, v[SQ_FILE], p, false, &s->sql_file);
    }
    cfg_path_key(p, sizeof(p), path, "statements");
    if (v[SQ_STATEMENTS]->type != YAML_SEQUENCE_NODE) {
        return cfg_str(d, v[SQ_STATEMENTS], p, false, &s->statements);
    }
    return parse_statement_list(d, v[SQ_STATEMENTS], p, &s->statements);
}

enum { ST_NAME, ST_LOAD, ST_SQL, ST_EXEC, ST_N };
static const char *const step_keys[] = {"name", "load", "sql", "exec", NULL};
static const char *const exec_keys[] = {"argv", NULL};

static int parse_step(const struct config *c, struct cfg_doc *d, struct step_spec *s,
                      const yaml_node_t *m, const char *path)
{
    const yaml_node_t *v[ST_N + 1];
    char p[CFG_PATH_MAX];
    int rc = cfg_loc_set(d, &s->loc, m, path);
    if (rc != 0 || (rc = get_keys(d, m, path, "a step {name, load | sql | exec}", step_keys, v))) {
        return rc;
    }
    if (v[ST_NAME] == NULL) {
        return missing(d, m, path, "name");
    }
    cfg_path_key(p, sizeof(p), path, "name");
    if ((rc = parse_name(d, v[ST_NAME], p, &s->name)) != 0) {
        return rc;
    }
    int kinds = (v[ST_LOAD] != NULL) + (v[ST_SQL] != NULL) + (v[ST_EXEC] != NULL);
    if (kinds != 1) {
        return cfg_fail(d, m, path, "a step needs exactly one of load, sql or exec (got %d)",
                        kinds);
    }
    if (v[ST_LOAD] != NULL) {
        s->kind = STEP_LOAD;
        cfg_path_key(p, sizeof(p), path, "load");
        return parse_load(c, d, s, v[ST_LOAD], p, NULL);
    }
    if (v[ST_SQL] != NULL) {
        s->kind = STEP_SQL;
        cfg_path_key(p, sizeof(p), path, "sql");
        return parse_sql(c, d, s, v[ST_SQL], p);
    }
    s->kind = STEP_EXEC;
    cfg_path_key(p, sizeof(p), path, "exec");
    const yaml_node_t *ev[2];
    if ((rc = get_keys(d, v[ST_EXEC], p, "a mapping {argv}", exec_keys, ev)) != 0) {
        return rc;
    }
    if (ev[0] == NULL) {
        return missing(d, v[ST_EXEC], p, "argv");
    }
    char ap[CFG_PATH_MAX];
    cfg_path_key(ap, sizeof(ap), p, "argv");
    if ((rc = cfg_str_list(d, ev[0], ap, false, &s->argv, &s->nargv)) != 0) {
        return rc;
    }
    if (s->nargv == 0) {
        return cfg_fail(d, ev[0], ap, "expected the command and its arguments, got an empty list");
    }
    return 0;
}

static int parse_steps(struct config *c, struct cfg_doc *d, const yaml_node_t *seq)
{
    const char *path = "steps";
    int rc = cfg_expect_seq(d, seq, path, "a list of steps");
    if (rc != 0) {
        return rc;
    }
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    c->steps = calloc(n ? n : 1, sizeof(*c->steps));
    if (c->steps == NULL) {
        return nomem(d);
    }
    for (size_t i = 0; i < n; i++) {
        char p[CFG_PATH_MAX];
        cfg_path_index(p, sizeof(p), path, i);
        c->nsteps = i + 1;
        if ((rc = parse_step(c, d, &c->steps[i], cfg_node(d, seq->data.sequence.items.start[i]),
                             p)) != 0) {
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->steps[j].name, c->steps[i].name) == 0) {
                return err_set(d->e, AE_CONFIG,
                               "%s:%u:%u: %s.name: duplicate step name '%s' (also steps[%zu])",
                               d->file, c->steps[i].loc.line, c->steps[i].loc.col, p,
                               c->steps[i].name, j);
            }
        }
    }
    return 0;
}

enum { WA_ROOT, WA_TARGET, WA_READINESS, WA_QUIET, WA_POLL, WA_LOADS, WA_ARCHIVE, WA_N };
static const char *const watch_keys[] = {"root",         "target", "readiness", "quiet_seconds",
                                         "poll_seconds", "loads",  "archive",   NULL};
static const char *const archive_words[] = {"none", "parquet", NULL};

/* watch.loads: one load mapping per dataset, as in a load step. */
static int parse_watch_loads(struct config *c, struct cfg_doc *d, const yaml_node_t *seq)
{
    const char *path = "watch.loads";
    struct watch_spec *w = &c->watch;
    int rc = cfg_expect_seq(d, seq, path, "a list of loads {dataset, target, table, mode, ...}");
    if (rc != 0) {
        return rc;
    }
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    w->loads = calloc(n ? n : 1, sizeof(*w->loads));
    if (w->loads == NULL) {
        return nomem(d);
    }
    for (size_t i = 0; i < n; i++) {
        char p[CFG_PATH_MAX];
        cfg_path_index(p, sizeof(p), path, i);
        const yaml_node_t *m = cfg_node(d, seq->data.sequence.items.start[i]);
        struct step_spec *s = &w->loads[i];
        w->nloads = i + 1;
        s->kind = STEP_LOAD;
        if ((rc = cfg_loc_set(d, &s->loc, m, p)) != 0 ||
            (rc = parse_load(c, d, s, m, p, w->target)) != 0) {
            return rc;
        }
        if ((s->name = strdup(s->dataset)) == NULL) {
            return nomem(d);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(w->loads[j].dataset, s->dataset) == 0) {
                return cfg_fail(d, m, p, "dataset '%s' is loaded twice (also %s[%zu])",
                                s->dataset, path, j);
            }
        }
    }
    return 0;
}
static const char *const readiness_words[] = {"done_marker", "stable", "rename", NULL};

static int parse_watch(struct config *c, struct cfg_doc *d, const yaml_node_t *m)
{
    const char *path = "watch";
    const yaml_node_t *v[WA_N + 1];
    char p[CFG_PATH_MAX];
    struct watch_spec *w = &c->watch;
    w->quiet_seconds = 5;
    w->poll_seconds = 10;
    int rc = get_keys(d, m, path, "a mapping {root, target, readiness, ...}", watch_keys, v);
    if (rc != 0) {
        return rc;
    }
    w->present = true;
    w->line = (uint32_t)m->start_mark.line + 1;
    w->col = (uint32_t)m->start_mark.column + 1;
    if (v[WA_ROOT] == NULL) {
        return missing(d, m, path, "root");
    }
    cfg_path_key(p, sizeof(p), path, "root");
    if ((rc = cfg_str(d, v[WA_ROOT], p, false, &w->root)) != 0) {
        return rc;
    }
    cfg_path_key(p, sizeof(p), path, "target");
    if (v[WA_TARGET] != NULL && (rc = parse_target_ref(c, d, v[WA_TARGET], p, &w->target))) {
        return rc;
    }
    size_t r = 1;
    cfg_path_key(p, sizeof(p), path, "readiness");
    if (v[WA_READINESS] != NULL && (rc = parse_enum(d, v[WA_READINESS], p, readiness_words,
                                                    "done_marker, stable or rename", &r))) {
        return rc;
    }
    if ((w->readiness = strdup(readiness_words[r])) == NULL) {
        return nomem(d);
    }
    cfg_path_key(p, sizeof(p), path, "quiet_seconds");
    if (v[WA_QUIET] != NULL) {
        if ((rc = cfg_int(d, v[WA_QUIET], p, &w->quiet_seconds)) != 0) {
            return rc;
        }
        if (w->quiet_seconds < 0) {
            return cfg_fail(d, v[WA_QUIET], p, "expected an integer >= 0, got %s",
                            cfg_text(v[WA_QUIET]));
        }
    }
    cfg_path_key(p, sizeof(p), path, "poll_seconds");
    if (v[WA_POLL] != NULL) {
        if ((rc = cfg_int(d, v[WA_POLL], p, &w->poll_seconds)) != 0) {
            return rc;
        }
        if (w->poll_seconds <= 0) {
            return cfg_fail(d, v[WA_POLL], p, "expected an integer > 0, got %s",
                            cfg_text(v[WA_POLL]));
        }
    }
    if (v[WA_LOADS] != NULL && (rc = parse_watch_loads(c, d, v[WA_LOADS])) != 0) {
        return rc;
    }
    size_t a = 0;
    cfg_path_key(p, sizeof(p), path, "archive");
    if (v[WA_ARCHIVE] != NULL &&
        (rc = parse_enum(d, v[WA_ARCHIVE], p, archive_words, "none or parquet", &a)) != 0) {
        return rc;
    }
    w->archive_parquet = a == 1;
    return 0;
}

enum {
    TOP_PIPELINE,
    TOP_MODE,
    TOP_THRESHOLD,
    TOP_INGEST,
    TOP_TARGETS,
    TOP_STEPS,
    TOP_WATCH,
    TOP_IGNORE,
    TOP_N
};
static const char *const top_keys[] = {"pipeline",
                                       "execution_mode",
                                       "large_file_threshold_bytes",
                                       "ingest_files",
                                       "targets",
                                       "steps",
                                       "watch",
                                       "ignore_patterns",
                                       NULL};
static const char *const exec_modes[] = {"serial", "parallel", NULL};

static int parse_top(struct config *c, struct cfg_doc *d)
{
    const yaml_node_t *root = cfg_root(d);
    const yaml_node_t *v[TOP_N + 1];
    int rc = get_keys(d, root, "", "a mapping (pipeline, ingest_files, ...)", top_keys, v);
    if (rc != 0) {
        return rc;
    }
    if (v[TOP_PIPELINE] == NULL) {
        return missing(d, root, "", "pipeline");
    }
    if ((rc = cfg_str(d, v[TOP_PIPELINE], "pipeline", false, &c->pipeline)) != 0) {
        return rc;
    }
    if (c->pipeline[0] == '\0') {
        return cfg_fail(d, v[TOP_PIPELINE], "pipeline", "expected a name, got an empty string");
    }
    c->execution_mode = EXEC_SERIAL;
    if (v[TOP_MODE] != NULL) {
        size_t idx = 0;
        rc = parse_enum(d, v[TOP_MODE], "execution_mode", exec_modes, "serial or parallel", &idx);
        if (rc != 0) {
            return rc;
        }
        c->execution_mode = idx == 0 ? EXEC_SERIAL : EXEC_PARALLEL;
    }
    c->large_file_threshold_bytes = 104857600;
    if (v[TOP_THRESHOLD] != NULL) {
        const char *p = "large_file_threshold_bytes";
        if ((rc = cfg_int(d, v[TOP_THRESHOLD], p, &c->large_file_threshold_bytes)) != 0) {
            return rc;
        }
        if (c->large_file_threshold_bytes <= 0) {
            return cfg_fail(d, v[TOP_THRESHOLD], p, "expected an integer > 0, got %s",
                            cfg_text(v[TOP_THRESHOLD]));
        }
    }
    if (v[TOP_INGEST] == NULL) {
        return missing(d, root, "", "ingest_files");
    }
    if ((rc = parse_ingest_files(c, d, v[TOP_INGEST])) != 0) {
        return rc;
    }
    if (v[TOP_TARGETS] != NULL && (rc = parse_targets(c, d, v[TOP_TARGETS])) != 0) {
        return rc;
    }
    if (v[TOP_STEPS] != NULL && (rc = parse_steps(c, d, v[TOP_STEPS])) != 0) {
        return rc;
    }
    if (v[TOP_IGNORE] != NULL &&
        (rc = cfg_str_list(d, v[TOP_IGNORE], "ignore_patterns", false, &c->ignore_patterns,
                           &c->nignore_patterns)) != 0) {
        return rc;
    }
    if (v[TOP_WATCH] != NULL && (rc = parse_watch(c, d, v[TOP_WATCH])) != 0) {
        return rc;
    }
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

int config_load(const char *path, struct config **out, struct err *e)
{
    struct cfg_doc d;
    memset(&d, 0, sizeof(d));
    *out = NULL;
    int rc = 0;
    struct config *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->path = strdup(path)) == NULL || (c->dir = dir_of(path)) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    rc = cfg_doc_load(&d, path, c->path, e);
    if (rc != 0) {
        goto fail;
    }
    rc = parse_top(c, &d);
    if (rc != 0) {
        goto fail;
    }
    cfg_doc_release(&d);
    *out = c;
    return 0;
fail:
    cfg_doc_release(&d);
    config_free(c);
    return rc;
}

static void ingest_release(struct ingest_spec *in)
{
    free(in->name);
    free(in->source_pattern);
    free(in->encoding);
    free(in->sheet);
    cfg_free_strv(in->column_names, in->ncolumn_names);
    cfg_free_strv(in->null_values, in->n_null_values);
    free(in->schema_file);
    schema_release(&in->schema);
    cfg_loc_release(&in->loc);
}

static void step_release(struct step_spec *s)
{
    free(s->name);
    free(s->dataset);
    free(s->target);
    free(s->table);
    cfg_free_strv(s->key, s->nkey);
    cfg_free_strv(s->renames, 2 * s->nrenames);
    free(s->on_conflict);
    free(s->sql_file);
    free(s->statements);
    cfg_free_strv(s->argv, s->nargv);
    cfg_loc_release(&s->loc);
}

void config_free(struct config *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->ningest; i++) {
        ingest_release(&c->ingest[i]);
    }
    free(c->ingest);
    for (size_t i = 0; i < c->ntargets; i++) {
        free(c->targets[i].name);
        free(c->targets[i].dsn);
        free(c->targets[i].path);
        cfg_loc_release(&c->targets[i].loc);
        cfg_loc_release(&c->targets[i].dsn_loc);
        cfg_loc_release(&c->targets[i].path_loc);
    }
    free(c->targets);
    for (size_t i = 0; i < c->nsteps; i++) {
        step_release(&c->steps[i]);
    }
    free(c->steps);
    free(c->watch.root);
    free(c->watch.target);
    free(c->watch.readiness);
    for (size_t i = 0; i < c->watch.nloads; i++) {
        step_release(&c->watch.loads[i]);
    }
    free(c->watch.loads);
    cfg_free_strv(c->ignore_patterns, c->nignore_patterns);
    free(c->pipeline);
    free(c->path);
    free(c->dir);
    free(c);
}

const struct ingest_spec *config_find_ingest(const struct config *c, const char *name)
{
    for (size_t i = 0; c != NULL && i < c->ningest; i++) {
        if (c->ingest[i].name != NULL && strcmp(c->ingest[i].name, name) == 0) {
            return &c->ingest[i];
        }
    }
    return NULL;
}


bool config_spec_matches(const struct ingest_spec *s, const char *file_name)
{
    return fnmatch(s->source_pattern, file_name, FNM_PERIOD) == 0;
}

bool config_ignored(const struct config *c, const char *file_name)
{
    for (size_t i = 0; c != NULL && i < c->nignore_patterns; i++) {
        if (fnmatch(c->ignore_patterns[i], file_name, FNM_PERIOD) == 0) {
            return true;
        }
    }
    return false;
}

size_t config_match_ingest(const struct config *c, const char *file_name,
                           const struct ingest_spec **first)
{
    size_t n = 0;
    *first = NULL;
    for (size_t i = 0; c != NULL && i < c->ningest; i++) {
        if (config_spec_matches(&c->ingest[i], file_name) && n++ == 0) {
            *first = &c->ingest[i];
        }
    }
    return n;
}
