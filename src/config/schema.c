/*
 * schema.c - Pandera DataFrameSchema YAML to struct schema.
 *
 * Pandera has written checks in three shapes over its versions, and users also write our list
 * shape; all four end up as the same struct check_spec:
 *   (1) pandera/io (older to_yaml): `checks: {check_name: value}`, value a scalar, a list, or a
 *       mapping of named arguments (which may hold an `options:` mapping);
 *   (2) pandera/io (newer to_yaml): `checks: [{value: ..., options: {check_name: ...,
 *       raise_warning: ..., ignore_na: ...}}]`, named arguments beside `options`;
 *   (3) pandera/io/_flat_checks.py: `check_name: value` directly under the column, next to dtype;
 *   (4) ours: `checks: [{greater_than: 0}, {isin: [a, b]}]`, so a check may appear twice.
 * Frame keys Pandera writes but that carry nothing for astro (schema_type, version, index, dtype,
 * checks, metadata) are accepted when null or empty and refused otherwise, so that a schema never
 * means less here than it did in Pandera without the user being told.
 */
#include "config/cfg_yaml.h"

#include <stdlib.h>
#include <string.h>

/* Check names: canonical name, Pandera alias, named arguments Pandera's Check methods take. */
struct check_def {
    const char *name;
    const char *alias;
    const char *args[5];
};

static const struct check_def check_defs[] = {
    {"equal_to", "eq", {"value", NULL}},
    {"not_equal_to", "ne", {"value", NULL}},
    {"greater_than", "gt", {"min_value", NULL}},
    {"greater_than_or_equal_to", "ge", {"min_value", NULL}},
    {"less_than", "lt", {"max_value", NULL}},
    {"less_than_or_equal_to", "le", {"max_value", NULL}},
    {"in_range", "between", {"min_value", "max_value", "include_min", "include_max", NULL}},
    {"isin", NULL, {"allowed_values", NULL}},
    {"notin", NULL, {"forbidden_values", NULL}},
    {"str_matches", NULL, {"pattern", NULL}},
    {"str_contains", NULL, {"pattern", NULL}},
    {"str_startswith", NULL, {"string", NULL}},
    {"str_endswith", NULL, {"string", NULL}},
    {"str_length", NULL, {"min_value", "max_value", "exact_value", NULL}},
    {"unique_values_eq", NULL, {"values", NULL}},
    {"email", NULL, {NULL}},
};
#define N_CHECK_DEFS (sizeof(check_defs) / sizeof(check_defs[0]))

/* Every check name and alias, NULL-ended, for suggestions. */
static const char *const check_names[] = {"equal_to",
                                          "eq",
                                          "not_equal_to",
                                          "ne",
                                          "greater_than",
                                          "gt",
                                          "greater_than_or_equal_to",
                                          "ge",
                                          "less_than",
                                          "lt",
                                          "less_than_or_equal_to",
                                          "le",
                                          "in_range",
                                          "between",
                                          "isin",
                                          "notin",
                                          "str_matches",
                                          "str_contains",
                                          "str_startswith",
                                          "str_endswith",
                                          "str_length",
                                          "unique_values_eq",
                                          "email",
                                          NULL};

/* Check.options keys as pandera/io writes them; name, title, description, n_failure_cases and
 * check_name carry nothing for us (check_name is read where the newer form needs it). */
static const char *const option_keys[] = {"check_name", "ignore_na",   "raise_warning",
                                          "error",      "name",        "n_failure_cases",
                                          "title",      "description", NULL};

static const char *const frame_keys[] = {"columns",
                                         "strict",
                                         "ordered",
                                         "coerce",
                                         "unique",
                                         "report_duplicates",
                                         "unique_column_names",
                                         "add_missing_columns",
                                         "name",
                                         "title",
                                         "description",
                                         "schema_type",
                                         "version",
                                         "index",
                                         "dtype",
                                         "checks",
                                         "metadata",
                                         "dataframe_library",
                                         "drop_invalid_rows",
                                         "api",
                                         NULL};

static const char *const column_keys[] = {"dtype",
                                          "nullable",
                                          "unique",
                                          "required",
                                          "coerce",
                                          "regex",
                                          "title",
                                          "description",
                                          "default",
                                          "checks",
                                          "name",
                                          "format",
                                          "century_pivot",
                                          "thousands",
                                          "decimal",
                                          "null_values",
                                          "true_values",
                                          "false_values",
                                          "path",
                                          "report_duplicates",
                                          "drop_invalid_rows",
                                          "allow_duplicates",
                                          NULL};

/* Keys of an index block (one entry of `index:`, as Pandera writes it). */
static const char *const index_keys[] = {
    "dtype",  "nullable", "checks",      "name", "unique", "allow_duplicates",
    "coerce", "title",    "description", NULL};

static const char *const report_dup_values[] = {"all", "exclude_first", "exclude_last", NULL};

static const struct check_def *find_check(const char *s)
{
    for (size_t i = 0; i < N_CHECK_DEFS; i++) {
        if (strcmp(s, check_defs[i].name) == 0 ||
            (check_defs[i].alias != NULL && strcmp(s, check_defs[i].alias) == 0)) {
            return &check_defs[i];
        }
    }
    return NULL;
}

static int nomem(struct cfg_doc *d)
{
    return err_set(d->e, AE_NOMEM, "out of memory");
}

static void check_release(struct check_spec *c)
{
    for (size_t i = 0; i < c->nargs; i++) {
        struct cfg_arg *a = &c->args[i];
        free(a->key);
        free(a->value);
        cfg_free_strv(a->items, a->nitems);
        cfg_loc_release(&a->loc);
    }
    free(c->args);
    free(c->name);
    free(c->error);
    cfg_loc_release(&c->loc);
}

static void column_release(struct column_spec *c)
{
    free(c->name);
    free(c->dtype_text);
    free(c->title);
    free(c->description);
    free(c->format);
    cfg_free_strv(c->formats, c->nformats);
    free(c->path);
    free(c->default_value);
    cfg_free_strv(c->null_values, c->n_null_values);
    cfg_free_strv(c->true_values, c->n_true_values);
    cfg_free_strv(c->false_values, c->n_false_values);
    for (size_t i = 0; i < c->nchecks; i++) {
        check_release(&c->checks[i]);
    }
    free(c->checks);
    cfg_loc_release(&c->loc);
}

void schema_release(struct schema *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->ncols; i++) {
        column_release(&s->cols[i]);
    }
    free(s->cols);
    for (size_t i = 0; i < s->nunique; i++) {
        for (size_t j = 0; s->unique_sets[i] != NULL && s->unique_sets[i][j] != NULL; j++) {
            free(s->unique_sets[i][j]);
        }
        free(s->unique_sets[i]);
    }
    free(s->unique_sets);
    free(s->report_duplicates);
    free(s->name);
    free(s->title);
    free(s->description);
    if (s->index != NULL) {
        column_release(s->index);
        free(s->index);
    }
    if (s->extra != NULL) {
        column_release(s->extra);
        free(s->extra);
    }
    free(s->file);
    cfg_loc_release(&s->loc);
    memset(s, 0, sizeof(*s));
}

/* ---- checks ---- */

/* Appends an argument built from node v. key NULL means the positional value. */
static int add_arg(struct cfg_doc *d, struct check_spec *c, size_t *cap, const char *key,
                   const yaml_node_t *v, const char *path)
{
    if (v->type == YAML_MAPPING_NODE) {
        return cfg_fail(d, v, path, "expected a value or a list of values, got a mapping");
    }
    void *p = cfg_grow(c->args, c->nargs, cap, sizeof(*c->args));
    if (p == NULL) {
        return nomem(d);
    }
    c->args = p;
    struct cfg_arg *a = &c->args[c->nargs++];
    if (cfg_loc_set(d, &a->loc, v, path) != 0) {
        return AE_NOMEM;
    }
    if (key != NULL && (a->key = strdup(key)) == NULL) {
        return nomem(d);
    }
    if (v->type == YAML_SCALAR_NODE) {
        if (cfg_is_null(v)) {
            a->is_null = true;
            return 0;
        }
        return cfg_str(d, v, path, false, &a->value);
    }
    /* A list: isin, notin, unique_values_eq. Items must be scalars; a null item stays NULL. */
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    a->is_list = true;
    a->items = calloc(cnt ? cnt : 1, sizeof(*a->items));
    if (a->items == NULL) {
        return nomem(d);
    }
    a->nitems = cnt;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = cfg_node(d, v->data.sequence.items.start[i]);
        char ip[CFG_PATH_MAX];
        cfg_path_index(ip, sizeof(ip), path, i);
        if (it->type != YAML_SCALAR_NODE) {
            return cfg_fail(d, it, ip, "expected a value, got %s", cfg_kind(it));
        }
        int rc = cfg_str(d, it, ip, true, &a->items[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* One option of Check (ignore_na, raise_warning, error; the rest carry nothing for us). */
static int set_option(struct cfg_doc *d, struct check_spec *c, const yaml_node_t *k,
                      const yaml_node_t *v, const char *path)
{
    const char *key = cfg_text(k);
    char p[CFG_PATH_MAX];
    cfg_path_key(p, sizeof(p), path, key);
    if (strcmp(key, "ignore_na") == 0) {
        return cfg_bool(d, v, p, &c->ignore_na);
    }
    if (strcmp(key, "raise_warning") == 0) {
        return cfg_bool(d, v, p, &c->raise_warning);
    }
    if (strcmp(key, "error") == 0) {
        free(c->error);
        return cfg_str(d, v, p, true, &c->error);
    }
    if (strcmp(key, "check_name") == 0) {
        /* Must agree with the name the check was found under (it is the name in the newer form,
         * where this function is called after it was read). */
        const struct check_def *def = v->type == YAML_SCALAR_NODE ? find_check(cfg_text(v)) : NULL;
        if (def == NULL || strcmp(def->name, c->name) != 0) {
            return cfg_fail(d, v, p, "check_name '%s' does not match the check '%s'", cfg_text(v),
                            c->name);
        }
        return 0;
    }
    if (strcmp(key, "n_failure_cases") == 0) {
        c->has_n_failure_cases = false;
        if (cfg_is_null(v)) {
            return 0;
        }
        int rc = cfg_int(d, v, p, &c->n_failure_cases);
        if (rc == 0 && c->n_failure_cases < 0) {
            rc = cfg_fail(d, v, p, "n_failure_cases must be 0 or more (or null: no cap)");
        }
        c->has_n_failure_cases = rc == 0;
        return rc;
    }
    /* name, title, description: labels Pandera keeps for reports; ours name checks canonically. */
    char *ignored = NULL;
    int rc = cfg_str(d, v, p, true, &ignored);
    free(ignored);
    return rc;
}

/* The mapping m holds a check's named arguments, options, and possibly `value` (the positional
 * argument of the newer form) and `options:`. */
static int check_args_map(struct cfg_doc *d, struct check_spec *c, const struct check_def *def,
                          const yaml_node_t *m, const char *path)
{
    size_t cap = c->nargs;
    int rc = cfg_expect_map(d, m, path, "a mapping of check arguments");
    if (rc != 0) {
        return rc;
    }
    /* Known keys for suggestions: this check's arguments, value, options, option keys. */
    const char *known[24];
    size_t nk = 0;
    for (size_t i = 0; def->args[i] != NULL; i++) {
        known[nk++] = def->args[i];
    }
    known[nk++] = "value";
    known[nk++] = "options";
    for (size_t i = 0; option_keys[i] != NULL; i++) {
        known[nk++] = option_keys[i];
    }
    known[nk] = NULL;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = cfg_node(d, pr->key);
        yaml_node_t *v = cfg_node(d, pr->value);
        const char *key = cfg_text(k);
        char p[CFG_PATH_MAX];
        cfg_path_key(p, sizeof(p), path, key);
        if (strcmp(key, "value") == 0) {
            rc = add_arg(d, c, &cap, NULL, v, path);
        } else if (cfg_in(key, def->args)) {
            rc = add_arg(d, c, &cap, key, v, p);
        } else if (strcmp(key, "options") == 0) {
            if (cfg_is_null(v)) {
                continue;
            }
            rc = cfg_expect_map(d, v, p, "a mapping of check options");
            for (yaml_node_pair_t *o = v->data.mapping.pairs.start;
                 rc == 0 && o < v->data.mapping.pairs.top; o++) {
                yaml_node_t *ok = cfg_node(d, o->key);
                if (!cfg_in(cfg_text(ok), option_keys)) {
                    rc = cfg_unknown_key(d, ok, p, option_keys);
                } else {
                    rc = set_option(d, c, ok, cfg_node(d, o->value), p);
                }
            }
        } else if (cfg_in(key, option_keys)) {
            rc = set_option(d, c, k, v, path);
        } else {
            rc = cfg_unknown_key(d, k, path, known);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Starts a check called by name node nk (aliases resolved) at path. */
static int new_check(struct cfg_doc *d, struct column_spec *col, size_t *cap, const yaml_node_t *nk,
                     const char *path, const char *parent_path, const struct check_def **def_out,
                     struct check_spec **out)
{
    const struct check_def *def = NULL;
    if (nk->type == YAML_SCALAR_NODE) {
        def = find_check(cfg_text(nk));
    }
    if (def == NULL) {
        const char *s = cfg_suggest(cfg_text(nk), check_names);
        if (s != NULL) {
            return cfg_fail(d, nk, parent_path, "unknown check '%s' (did you mean '%s'?)",
                            cfg_text(nk), s);
        }
        return cfg_fail(d, nk, parent_path,
                        "unknown check '%s' (expected one of: equal_to, not_equal_to, "
                        "greater_than, greater_than_or_equal_to, less_than, "
                        "less_than_or_equal_to, in_range, isin, notin, str_matches, "
                        "str_contains, str_startswith, str_endswith, str_length, "
                        "unique_values_eq, email)",
                        cfg_text(nk));
    }
    void *p = cfg_grow(col->checks, col->nchecks, cap, sizeof(*col->checks));
    if (p == NULL) {
        return nomem(d);
    }
    col->checks = p;
    struct check_spec *c = &col->checks[col->nchecks++];
    c->ignore_na = true;
    c->raise_warning = false;
    if ((c->name = strdup(def->name)) == NULL) {
        return nomem(d);
    }
    if (cfg_loc_set(d, &c->loc, nk, path) != 0) {
        return AE_NOMEM;
    }
    *def_out = def;
    *out = c;
    return 0;
}

/* `name: value` as in the older dict form, the flat form and our list form. */
static int check_from_pair(struct cfg_doc *d, struct column_spec *col, size_t *cap,
                           const yaml_node_t *k, const yaml_node_t *v, const char *parent_path)
{
    char p[CFG_PATH_MAX];
    cfg_path_key(p, sizeof(p), parent_path, cfg_text(k));
    const struct check_def *def = NULL;
    struct check_spec *c = NULL;
    int rc = new_check(d, col, cap, k, p, parent_path, &def, &c);
    if (rc != 0 || c == NULL) {
        return rc != 0 ? rc : AE_INTERNAL;
    }
    if (cfg_is_null(v)) {
        return 0; /* a check without arguments, e.g. `email:` */
    }
    if (def->args[0] == NULL && v->type != YAML_MAPPING_NODE) {
        /* `email: true` reads naturally; any other value would be an argument it cannot use. */
        if (cfg_is_plain(v) && strcmp(cfg_text(v), "true") == 0) {
            return 0;
        }
        return cfg_fail(d, v, p, "%s takes no argument (write %s: true)", def->name, def->name);
    }
    if (v->type == YAML_MAPPING_NODE) {
        return check_args_map(d, c, def, v, p);
    }
    size_t acap = 0;
    return add_arg(d, c, &acap, NULL, v, p);
}

/* One item of a `checks:` list: the newer Pandera form or ours. */
static int check_from_item(struct cfg_doc *d, struct column_spec *col, size_t *cap,
                           const yaml_node_t *it, const char *ip)
{
    int rc = cfg_expect_map(d, it, ip, "a check ({check_name: value} or {value:, options:})");
    if (rc != 0) {
        return rc;
    }
    const yaml_node_t *opts = NULL;
    for (yaml_node_pair_t *pr = it->data.mapping.pairs.start; pr < it->data.mapping.pairs.top;
         pr++) {
        if (strcmp(cfg_text(cfg_node(d, pr->key)), "options") == 0) {
            opts = cfg_node(d, pr->value);
        }
    }
    if (opts == NULL) {
        size_t n = (size_t)(it->data.mapping.pairs.top - it->data.mapping.pairs.start);
        if (n != 1) {
            return cfg_fail(d, it, ip,
                            "expected one check per list item ({check_name: value}), got %zu keys",
                            n);
        }
        yaml_node_pair_t *pr = it->data.mapping.pairs.start;
        return check_from_pair(d, col, cap, cfg_node(d, pr->key), cfg_node(d, pr->value), ip);
    }
    /* Newer Pandera form: the name is options.check_name. */
    char op[CFG_PATH_MAX];
    cfg_path_key(op, sizeof(op), ip, "options");
    rc = cfg_expect_map(d, opts, op, "a mapping of check options");
    if (rc != 0) {
        return rc;
    }
    const yaml_node_t *name = NULL;
    for (yaml_node_pair_t *pr = opts->data.mapping.pairs.start; pr < opts->data.mapping.pairs.top;
         pr++) {
        if (strcmp(cfg_text(cfg_node(d, pr->key)), "check_name") == 0) {
            name = cfg_node(d, pr->value);
        }
    }
    if (name == NULL) {
        return cfg_fail(d, opts, op, "missing key 'check_name'");
    }
    char p[CFG_PATH_MAX];
    cfg_path_key(p, sizeof(p), ip, cfg_text(name));
    const struct check_def *def = NULL;
    struct check_spec *c = NULL;
    char np[CFG_PATH_MAX];
    cfg_path_key(np, sizeof(np), op, "check_name");
    rc = new_check(d, col, cap, name, p, np, &def, &c);
    if (rc != 0 || c == NULL) {
        return rc != 0 ? rc : AE_INTERNAL;
    }
    /* Arguments and options are reported where they are written: beside `options`. */
    return check_args_map(d, c, def, it, ip);
}

static int parse_checks(struct cfg_doc *d, struct column_spec *col, size_t *cap,
                        const yaml_node_t *v, const char *path)
{
    if (cfg_is_null(v)) {
        return 0;
    }
    if (v->type == YAML_MAPPING_NODE) {
        int rc = cfg_expect_map(d, v, path, "a mapping of checks");
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
             rc == 0 && pr < v->data.mapping.pairs.top; pr++) {
            rc = check_from_pair(d, col, cap, cfg_node(d, pr->key), cfg_node(d, pr->value), path);
        }
        return rc;
    }
    if (v->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        for (size_t i = 0; i < n; i++) {
            char ip[CFG_PATH_MAX];
            cfg_path_index(ip, sizeof(ip), path, i);
            int rc = check_from_item(d, col, cap, cfg_node(d, v->data.sequence.items.start[i]), ip);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }
    return cfg_fail(d, v, path, "expected a mapping or a list of checks, got %s", cfg_kind(v));
}

/* ---- columns ---- */

static int parse_dtype(struct cfg_doc *d, struct column_spec *col, const yaml_node_t *v,
                       const char *p)
{
    free(col->dtype_text);
    col->dtype_text = NULL;
    int rc = cfg_str(d, v, p, true, &col->dtype_text);
    if (rc != 0) {
        return rc;
    }
    if (col->dtype_text == NULL) {
        /* dtype: null is Pandera's "any type"; from a text file that is a string. */
        col->dtype_text = strdup("str");
        return col->dtype_text ? 0 : nomem(d);
    }
    struct err de = {0};
    if (dtype_parse(col->dtype_text, &col->type, &de) != 0) {
        /* dtype_parse names the dtype as "dtype 'x' ..."; the key path already says dtype. */
        const char *m = de.msg;
        if (strncmp(m, "dtype '", 7) == 0) {
            m += 6;
        }
        return cfg_fail(d, v, p, "%s", m);
    }
    return 0;
}

static int parse_column(struct cfg_doc *d, struct column_spec *col, const yaml_node_t *k,
                        const yaml_node_t *m, const char *path, bool frame_coerce, bool *drop)
{
    col->required = true;
    col->coerce = frame_coerce;
    col->type.id = DT_STR;
    if ((col->name = strdup(cfg_text(k))) == NULL) {
        return nomem(d);
    }
    if (cfg_loc_set(d, &col->loc, k, path) != 0) {
        return AE_NOMEM;
    }
    if ((col->dtype_text = strdup("str")) == NULL) {
        return nomem(d);
    }
    if (cfg_is_null(m)) {
        return 0; /* `Name:` alone: every option at its default */
    }
    int rc = cfg_expect_map(d, m, path, "a mapping of column options");
    if (rc != 0) {
        return rc;
    }
    /* Column keys plus check names, for suggestions. */
    const char *known[64];
    size_t nk = 0;
    for (size_t i = 0; column_keys[i] != NULL; i++) {
        known[nk++] = column_keys[i];
    }
    for (size_t i = 0; check_names[i] != NULL; i++) {
        known[nk++] = check_names[i];
    }
    known[nk] = NULL;
    size_t cap = 0;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *kk = cfg_node(d, pr->key);
        yaml_node_t *v = cfg_node(d, pr->value);
        const char *key = cfg_text(kk);
        char p[CFG_PATH_MAX];
        cfg_path_key(p, sizeof(p), path, key);
        if (strcmp(key, "dtype") == 0) {
            rc = parse_dtype(d, col, v, p);
        } else if (strcmp(key, "nullable") == 0) {
            rc = cfg_bool(d, v, p, &col->nullable);
        } else if (strcmp(key, "unique") == 0) {
            rc = cfg_bool(d, v, p, &col->unique);
        } else if (strcmp(key, "required") == 0) {
            rc = cfg_bool(d, v, p, &col->required);
        } else if (strcmp(key, "coerce") == 0) {
            rc = cfg_bool(d, v, p, &col->coerce);
        } else if (strcmp(key, "regex") == 0) {
            rc = cfg_bool(d, v, p, &col->regex);
        } else if (strcmp(key, "title") == 0) {
            rc = cfg_str(d, v, p, true, &col->title);
        } else if (strcmp(key, "description") == 0) {
            rc = cfg_str(d, v, p, true, &col->description);
        } else if (strcmp(key, "format") == 0 && v->type == YAML_SEQUENCE_NODE) {
            /* Several formats: tried in order, the first that parses wins (validate). */
            rc = cfg_str_list(d, v, p, false, &col->formats, &col->nformats);
            if (rc == 0 && col->nformats == 0) {
                rc = cfg_fail(d, v, p, "expected at least one format");
            }
            if (rc == 0 && (col->format = strdup(col->formats[0])) == NULL) {
                rc = nomem(d);
            }
        } else if (strcmp(key, "format") == 0) {
            rc = cfg_str(d, v, p, true, &col->format);
        } else if (strcmp(key, "thousands") == 0) {
            rc = cfg_num_sep(d, v, p, false, &col->thousands);
        } else if (strcmp(key, "decimal") == 0) {
            rc = cfg_num_sep(d, v, p, true, &col->decimal);
        } else if (strcmp(key, "century_pivot") == 0) {
            int64_t pivot = 0;
            rc = cfg_int(d, v, p, &pivot);
            if (rc == 0 && (pivot < 0 || pivot > 100)) {
                rc = cfg_fail(d, v, p,
                              "century_pivot must be 0 to 100 (two-digit years below it are "
                              "20yy, the others 19yy)");
            }
            col->has_century_pivot = rc == 0;
            col->century_pivot = (int)pivot;
        } else if (strcmp(key, "path") == 0) {
            rc = cfg_str(d, v, p, false, &col->path);
            if (rc == 0 && (col->path[0] == '\0' || col->path[0] == '.' ||
                            col->path[strlen(col->path) - 1] == '.' || strstr(col->path, ".."))) {
                rc = cfg_fail(d, v, p,
                              "expected a dotted path of JSON keys such as customer.email, got "
                              "'%s'",
                              col->path);
            }
        } else if (strcmp(key, "default") == 0) {
            rc = cfg_str(d, v, p, true, &col->default_value);
        } else if (strcmp(key, "null_values") == 0) {
            rc = cfg_str_list(d, v, p, true, &col->null_values, &col->n_null_values);
        } else if (strcmp(key, "true_values") == 0) {
            rc = cfg_str_list(d, v, p, true, &col->true_values, &col->n_true_values);
        } else if (strcmp(key, "false_values") == 0) {
            rc = cfg_str_list(d, v, p, true, &col->false_values, &col->n_false_values);
        } else if (strcmp(key, "checks") == 0) {
            rc = parse_checks(d, col, &cap, v, p);
        } else if (strcmp(key, "name") == 0) {
            /* Pandera repeats the column key as name; anything else would be a rename. */
            if (!cfg_is_null(v) &&
                (v->type != YAML_SCALAR_NODE || strcmp(cfg_text(v), col->name))) {
                rc = cfg_fail(d, v, p, "name '%s' differs from the column key '%s'", cfg_text(v),
                              col->name);
            }
        } else if (strcmp(key, "report_duplicates") == 0) {
            if (!cfg_is_null(v) && strcmp(cfg_text(v), "all") != 0) {
                rc = cfg_fail(d, v, p,
                              "'%s' is not supported for a column (only 'all': every duplicate "
                              "row is reported)",
                              cfg_text(v));
            }
        } else if (strcmp(key, "drop_invalid_rows") == 0) {
            bool b = false;
            rc = cfg_is_null(v) ? 0 : cfg_bool(d, v, p, &b);
            col->drop_invalid_rows = b;
            *drop |= b;
        } else if (strcmp(key, "allow_duplicates") == 0) {
            /* Pandera < 0.9: the opposite of unique. */
            bool allow = true;
            rc = cfg_is_null(v) ? 0 : cfg_bool(d, v, p, &allow);
            col->unique = !allow;
        } else if (find_check(key) != NULL) {
            rc = check_from_pair(d, col, &cap, kk, v, path);
        } else {
            rc = cfg_unknown_key(d, kk, path, known);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- frame ---- */

/* The index block: null, an empty list, or a list of one index entry (Pandera writes a RangeIndex
 * as `index: [{dtype: int64, checks: ..., name: null, ...}]`). astro's index is the 0-based row
 * position, so the entry must be an integer dtype (or none); a MultiIndex (several entries) is
 * refused. */
static int parse_index(struct cfg_doc *d, struct schema *s, const yaml_node_t *v, const char *p)
{
    if (cfg_is_null(v)) {
        return 0;
    }
    const yaml_node_t *m = v;
    char ip[CFG_PATH_MAX];
    snprintf(ip, sizeof(ip), "%s", p);
    if (v->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (n == 0) {
            return 0;
        }
        if (n > 1) {
            return cfg_fail(d, v, p,
                            "a MultiIndex (%zu index entries) is not supported: astro's index "
                            "is the row position",
                            n);
        }
        m = cfg_node(d, v->data.sequence.items.start[0]);
        cfg_path_index(ip, sizeof(ip), p, 0);
    }
    int rc = cfg_expect_map(d, m, ip, "a mapping of index options");
    if (rc != 0) {
        return rc;
    }
    struct column_spec *col = calloc(1, sizeof(*col));
    if (col == NULL) {
        return nomem(d);
    }
    s->index = col;
    col->type.id = DT_INT64;
    col->required = true;
    if ((col->dtype_text = strdup("int64")) == NULL) {
        return nomem(d);
    }
    if (cfg_loc_set(d, &col->loc, m, ip) != 0) {
        return AE_NOMEM;
    }
    size_t cap = 0;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *kk = cfg_node(d, pr->key);
        yaml_node_t *vv = cfg_node(d, pr->value);
        const char *key = cfg_text(kk);
        char kp[CFG_PATH_MAX];
        cfg_path_key(kp, sizeof(kp), ip, key);
        if (strcmp(key, "dtype") == 0) {
            if (!cfg_is_null(vv)) {
                rc = parse_dtype(d, col, vv, kp);
                if (rc == 0 && !(col->type.id >= DT_INT8 && col->type.id <= DT_UINT64)) {
                    rc = cfg_fail(d, vv, kp,
                                  "an index of dtype %s is not supported: astro's index is the "
                                  "row position (an integer)",
                                  col->dtype_text);
                }
            }
        } else if (strcmp(key, "checks") == 0) {
            rc = parse_checks(d, col, &cap, vv, kp);
        } else if (strcmp(key, "name") == 0) {
            rc = cfg_str(d, vv, kp, true, &col->name);
        } else if (strcmp(key, "nullable") == 0) {
            rc = cfg_bool(d, vv, kp, &col->nullable);
        } else if (strcmp(key, "unique") == 0 || strcmp(key, "allow_duplicates") == 0) {
            bool b = false; /* row positions are unique whatever it says */
            rc = cfg_is_null(vv) ? 0 : cfg_bool(d, vv, kp, &b);
        } else if (strcmp(key, "coerce") == 0) {
            rc = cfg_bool(d, vv, kp, &col->coerce);
        } else if (strcmp(key, "title") == 0) {
            rc = cfg_str(d, vv, kp, true, &col->title);
        } else if (strcmp(key, "description") == 0) {
            rc = cfg_str(d, vv, kp, true, &col->description);
        } else {
            rc = cfg_unknown_key(d, kk, ip, index_keys);
        }
        if (rc != 0) {
            return rc;
        }
    }
    /* The index's dtype types its check arguments: the row position is an int64 whatever the
     * integer width written. */
    col->type.id = DT_INT64;
    return 0;
}

/* Frame-level unique: one column name or a list of names, one set (Pandera's semantics). */
static int parse_frame_unique(struct cfg_doc *d, struct schema *s, const yaml_node_t *v,
                              const char *p)
{
    if (cfg_is_null(v)) {
        return 0;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    if (v->type == YAML_SCALAR_NODE) {
        n = 1;
        names = calloc(1, sizeof(*names));
        if (names == NULL) {
            return nomem(d);
        }
        rc = cfg_str(d, v, p, false, &names[0]);
    } else if (v->type == YAML_SEQUENCE_NODE) {
        rc = cfg_str_list(d, v, p, false, &names, &n);
        if (rc == 0 && n == 0) {
            return 0;
        }
    } else {
        return cfg_fail(d, v, p, "expected a column name or a list of column names, got %s",
                        cfg_kind(v));
    }
    if (rc != 0) {
        cfg_free_strv(names, n);
        return rc;
    }
    /* NULL-ended copy, as struct schema documents. */
    char **set = calloc(n + 1, sizeof(*set));
    s->unique_sets = calloc(1, sizeof(*s->unique_sets));
    if (set == NULL || s->unique_sets == NULL) {
        free(set);
        cfg_free_strv(names, n);
        return nomem(d);
    }
    memcpy(set, names, n * sizeof(*set));
    free(names);
    s->unique_sets[0] = set;
    s->nunique = 1;
    return 0;
}

/* Keys Pandera writes that mean nothing to astro: fine when null or empty, refused otherwise. */
static int frame_ignored(struct cfg_doc *d, const char *key, const yaml_node_t *v, const char *p)
{
    if (cfg_is_null(v)) {
        return 0;
    }
    if (strcmp(key, "version") == 0) {
        return 0; /* the Pandera version that wrote the file */
    }
    if (strcmp(key, "schema_type") == 0) {
        if (strcmp(cfg_text(v), "dataframe") == 0) {
            return 0;
        }
        return cfg_fail(d, v, p, "schema_type '%s' is not supported (expected dataframe)",
                        cfg_text(v));
    }
    if (strcmp(key, "dataframe_library") == 0) {
        if (strcmp(cfg_text(v), "pandas") == 0) {
            return 0;
        }
        return cfg_fail(d, v, p, "dataframe_library '%s' is not supported (expected pandas)",
                        cfg_text(v));
    }
    if (strcmp(key, "api") == 0) {
        /* The newest Pandera's to_yaml() names the API that wrote the file. */
        if (strcmp(cfg_text(v), "pandas") == 0) {
            return 0;
        }
        return cfg_fail(d, v, p, "api '%s' is not supported (expected pandas)", cfg_text(v));
    }
    bool empty =
        (v->type == YAML_SEQUENCE_NODE &&
         v->data.sequence.items.top == v->data.sequence.items.start) ||
        (v->type == YAML_MAPPING_NODE && v->data.mapping.pairs.top == v->data.mapping.pairs.start);
    if (empty) {
        return 0;
    }
    return cfg_fail(d, v, p, "%s is not supported (it must be null or empty)", key);
}

static bool empty_node(const yaml_node_t *v)
{
    return (v->type == YAML_SEQUENCE_NODE &&
            v->data.sequence.items.top == v->data.sequence.items.start) ||
           (v->type == YAML_MAPPING_NODE &&
            v->data.mapping.pairs.top == v->data.mapping.pairs.start);
}

/* s->extra: the rule of undeclared columns under a frame dtype (fdtype) and frame checks
 * (fchecks), either may be NULL (struct schema: extra). Pandera makes every column of a schema
 * without columns a Column(dtype), not nullable; beside declared columns an undeclared one is only
 * coerced, so a null stays a null there. */
static int frame_rules(struct cfg_doc *d, struct schema *s, const yaml_node_t *fdtype,
                       const char *fdtype_path, const yaml_node_t *fchecks,
                       const char *fchecks_path, bool has_columns)
{
    struct column_spec *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return nomem(d);
    }
    s->extra = x;
    x->coerce = s->coerce;
    x->type.id = DT_STR;
    x->nullable = fdtype == NULL || has_columns;
    x->required = false;
    if ((x->name = strdup("*")) == NULL) {
        return nomem(d);
    }
    const yaml_node_t *at = fdtype != NULL ? fdtype : fchecks;
    if (cfg_loc_set(d, &x->loc, at, fdtype != NULL ? fdtype_path : fchecks_path) != 0) {
        return AE_NOMEM;
    }
    int rc = 0;
    if (fdtype != NULL) {
        rc = parse_dtype(d, x, fdtype, fdtype_path);
    } else if ((x->dtype_text = strdup("str")) == NULL) {
        rc = nomem(d);
    }
    if (rc == 0 && fchecks != NULL) {
        size_t cap = 0;
        rc = parse_checks(d, x, &cap, fchecks, fchecks_path);
    }
    return rc;
}

int cfg_parse_schema(struct cfg_doc *d, const yaml_node_t *n, const char *path, struct schema *s)
{
    s->strict = STRICT_FALSE;
    if ((s->report_duplicates = strdup("all")) == NULL) {
        return nomem(d);
    }
    if (cfg_loc_set(d, &s->loc, n, path) != 0) {
        return AE_NOMEM;
    }
    int rc = cfg_expect_map(d, n, path, "a Pandera DataFrameSchema mapping");
    if (rc != 0) {
        return rc;
    }
    const yaml_node_t *columns = NULL;
    const yaml_node_t *unique = NULL;
    const yaml_node_t *fdtype = NULL;  /* frame-level dtype (not null) */
    const yaml_node_t *fchecks = NULL; /* frame-level checks (not null or empty) */
    char fdtype_path[CFG_PATH_MAX], fchecks_path[CFG_PATH_MAX];
    /* Frame options first: a column's coerce defaults to the frame's, wherever it is written. */
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = cfg_node(d, pr->key);
        yaml_node_t *v = cfg_node(d, pr->value);
        const char *key = cfg_text(k);
        char p[CFG_PATH_MAX];
        cfg_path_key(p, sizeof(p), path, key);
        if (strcmp(key, "columns") == 0) {
            columns = v;
        } else if (strcmp(key, "strict") == 0) {
            if (cfg_is_plain(v) && strcmp(cfg_text(v), "filter") == 0) {
                s->strict = STRICT_FILTER;
            } else {
                bool b = false;
                rc = cfg_bool(d, v, p, &b);
                if (rc != 0) {
                    return cfg_fail(d, v, p, "expected true, false or filter, got %s%s%s",
                                    v->type == YAML_SCALAR_NODE ? "'" : "",
                                    v->type == YAML_SCALAR_NODE ? cfg_text(v) : cfg_kind(v),
                                    v->type == YAML_SCALAR_NODE ? "'" : "");
                }
                s->strict = b ? STRICT_TRUE : STRICT_FALSE;
            }
        } else if (strcmp(key, "ordered") == 0) {
            rc = cfg_bool(d, v, p, &s->ordered);
        } else if (strcmp(key, "coerce") == 0) {
            rc = cfg_bool(d, v, p, &s->coerce);
        } else if (strcmp(key, "unique") == 0) {
            unique = v;
            rc = parse_frame_unique(d, s, v, p);
        } else if (strcmp(key, "report_duplicates") == 0) {
            char *r = NULL;
            rc = cfg_str(d, v, p, false, &r);
            if (rc == 0 && !cfg_in(r, report_dup_values)) {
                rc = cfg_fail(d, v, p, "expected all, exclude_first or exclude_last, got '%s'", r);
            }
            if (rc != 0) {
                free(r);
                return rc;
            }
            free(s->report_duplicates);
            s->report_duplicates = r;
            s->report_duplicates_set = true;
        } else if (strcmp(key, "unique_column_names") == 0) {
            rc = cfg_bool(d, v, p, &s->unique_column_names);
        } else if (strcmp(key, "add_missing_columns") == 0) {
            rc = cfg_bool(d, v, p, &s->add_missing_columns);
        } else if (strcmp(key, "name") == 0) {
            rc = cfg_str(d, v, p, true, &s->name);
        } else if (strcmp(key, "title") == 0) {
            rc = cfg_str(d, v, p, true, &s->title);
        } else if (strcmp(key, "description") == 0) {
            rc = cfg_str(d, v, p, true, &s->description);
        } else if (strcmp(key, "drop_invalid_rows") == 0) {
            bool b = false;
            rc = cfg_is_null(v) ? 0 : cfg_bool(d, v, p, &b);
            s->drop_invalid_rows |= b;
        } else if (strcmp(key, "index") == 0) {
            rc = parse_index(d, s, v, p);
        } else if (strcmp(key, "dtype") == 0 && !cfg_is_null(v)) {
            fdtype = v;
            snprintf(fdtype_path, sizeof(fdtype_path), "%s", p);
        } else if (strcmp(key, "checks") == 0 && !cfg_is_null(v) && !empty_node(v)) {
            fchecks = v;
            snprintf(fchecks_path, sizeof(fchecks_path), "%s", p);
        } else if (cfg_in(key, frame_keys)) {
            rc = frame_ignored(d, key, v, p);
        } else {
            rc = cfg_unknown_key(d, k, path, frame_keys);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (fdtype != NULL || fchecks != NULL) {
        bool has_columns = columns != NULL && !cfg_is_null(columns) && !empty_node(columns);
        rc = frame_rules(d, s, fdtype, fdtype_path, fchecks, fchecks_path, has_columns);
        if (rc != 0) {
            return rc;
        }
    }
    if (columns == NULL || cfg_is_null(columns)) {
        return 0; /* Pandera allows a schema without columns; strict decides what that means. */
    }
    char cp[CFG_PATH_MAX];
    cfg_path_key(cp, sizeof(cp), path, "columns");
    rc = cfg_expect_map(d, columns, cp, "a mapping of column names to column options");
    if (rc != 0) {
        return rc;
    }
    size_t ncols = (size_t)(columns->data.mapping.pairs.top - columns->data.mapping.pairs.start);
    s->cols = calloc(ncols ? ncols : 1, sizeof(*s->cols));
    if (s->cols == NULL) {
        return nomem(d);
    }
    for (size_t i = 0; i < ncols; i++) {
        yaml_node_pair_t *pr = &columns->data.mapping.pairs.start[i];
        yaml_node_t *k = cfg_node(d, pr->key);
        char p[CFG_PATH_MAX];
        cfg_path_key(p, sizeof(p), cp, cfg_text(k));
        s->ncols = i + 1;
        rc =
            parse_column(d, &s->cols[i], k, cfg_node(d, pr->value), p, s->coerce, &s->drop_columns);
        if (rc == 0 && fdtype != NULL) {
            rc = parse_dtype(d, &s->cols[i], fdtype, fdtype_path); /* overrides the column's */
        }
        if (rc == 0 && fchecks != NULL) {
            size_t cap = s->cols[i].nchecks;
            rc = parse_checks(d, &s->cols[i], &cap, fchecks, fchecks_path);
        }
        if (rc != 0) {
            return rc;
        }
    }
    /* Frame-level unique must name declared columns (unless a regex column could match) when
     * strict keeps undeclared columns out; with strict: false it may name a passed-through one. */
    for (size_t i = 0; i < s->nunique && s->strict != STRICT_FALSE; i++) {
        for (size_t j = 0; s->unique_sets[i][j] != NULL; j++) {
            bool found = false;
            for (size_t c = 0; c < s->ncols && !found; c++) {
                found = s->cols[c].regex || strcmp(s->cols[c].name, s->unique_sets[i][j]) == 0;
            }
            if (!found) {
                char up[CFG_PATH_MAX];
                cfg_path_key(up, sizeof(up), path, "unique");
                return cfg_fail(d, unique, up, "column '%s' is not in columns",
                                s->unique_sets[i][j]);
            }
        }
    }
    return 0;
}

int config_load_schema_file(const char *path, struct schema *s, struct err *e)
{
    struct cfg_doc d;
    memset(s, 0, sizeof(*s));
    memset(&d, 0, sizeof(d));
    int rc = 0;
    if ((s->file = strdup(path)) == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    rc = cfg_doc_load(&d, path, s->file, e);
    if (rc != 0) {
        goto fail;
    }
    rc = cfg_parse_schema(&d, cfg_root(&d), "", s);
    if (rc != 0) {
        goto fail;
    }
    cfg_doc_release(&d);
    return 0;
fail:
    cfg_doc_release(&d);
    schema_release(s);
    return rc;
}
