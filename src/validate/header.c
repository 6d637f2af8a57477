/*
 * header.c - matching a file's header against the schema's columns.
 *
 * Names match exactly (case-sensitive). Exact schema names are matched first; `regex: true`
 * columns then claim the remaining names their pattern matches from the start (re.match), in
 * file order. A name that appears twice is a "dataframe_column_labels_unique" failure and only
 * its first occurrence is used. Names left over are "column_in_schema" failures under strict:
 * true, kept as nullable str columns under strict: false, dropped under strict: filter (Pandera's
 * DataFrameSchema(strict=...)).
 * With ordered: true, a declared column found before a column the schema declares ahead of it is
 * a "column_ordered" failure. Output order: schema order (a regex column expands to its matches in
 * file order), then kept undeclared columns in file order.
 */
#include "validate/vinternal.h"

#include <stdlib.h>
#include <string.h>

static int header_fail(struct validator *v, const char *column, const char *check,
                       const char *message, struct err *e)
{
    struct failure f = {0};
    f.line = v->header_line;
    f.column = column;
    f.check = check;
    f.message = message;
    v->header_failed = true;
    return vemit(v, &f, e);
}

/* VCK_PASS when the pattern of regex column vc matches name from its start (re.match), VCK_FAIL
 * when it does not (a name that is not UTF-8 included: check_name reports it), VCK_LIMIT when PCRE2
 * gave up. */
static int regex_name_match(struct vcolumn *vc, const char *name)
{
    int rc =
        pcre2_match(vc->name_re, (PCRE2_SPTR)name, strlen(name), 0, 0, vc->name_md, vc->name_mctx);
    if (rc >= 0) {
        return VCK_PASS;
    }
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                   rc == PCRE2_ERROR_HEAPLIMIT
               ? VCK_LIMIT
               : VCK_FAIL;
}

/* Fills the null-marker fields of o from the spec and column spec (may be NULL). */
static void set_markers(struct vout *o, const struct ingest_spec *spec,
                        const struct column_spec *cs)
{
    o->nv_spec = spec->null_values;
    o->n_nv_spec = spec->null_values ? spec->n_null_values : 0;
    o->nv_col = cs ? cs->null_values : NULL;
    o->n_nv_col = (cs && cs->null_values) ? cs->n_null_values : 0;
    o->nv_lens = 0;
    for (size_t k = 0; k < o->n_nv_spec + o->n_nv_col; k++) {
        const char *m = k < o->n_nv_spec ? o->nv_spec[k] : o->nv_col[k - o->n_nv_spec];
        if (m != NULL) {
            size_t len = strlen(m);
            o->nv_lens |= UINT64_C(1) << (len < 63 ? len : 63);
        }
    }
}

/* True when a schema column claims name (exactly, or by its pattern). */
static bool declared(struct validator *v, const char *name)
{
    for (size_t k = 0; k < v->nvcols; k++) {
        struct vcolumn *vc = &v->vcols[k];
        if (vc->spec->regex ? regex_name_match(vc, name) == VCK_PASS
                            : strcmp(vc->spec->name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* The compiled rule of one more undeclared column (the schema's frame dtype and checks: config.h,
 * struct schema's extra), or NULL in *out when the schema has none: such a column is kept as str.
 * AE_NOMEM, or AE_CONFIG from vcol_compile (validate_schema_check found it first). */
static int extra_column(struct validator *v, size_t nheader, struct vcolumn **out, struct err *e)
{
    *out = NULL;
    const struct column_spec *x = v->spec->schema.extra;
    if (x == NULL) {
        return 0;
    }
    if (v->xvcs == NULL) {
        v->xvcs = calloc(nheader ? nheader : 1, sizeof(*v->xvcs));
        if (v->xvcs == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    int rc = vcol_compile(&v->xvcs[v->nxvcs], x, v->c_locale, v->spec->thousands,
                          v->spec->decimal, e);
    if (rc != 0) {
        return rc;
    }
    *out = &v->xvcs[v->nxvcs++];
    return 0;
}

static int add_out(struct validator *v, const char *name, size_t field, struct vcolumn *vc,
                   struct err *e)
{
    struct vout *o = &v->outs[v->nout];
    memset(o, 0, sizeof(*o));
    o->name = strdup(name);
    if (o->name == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    o->field = field;
    o->vc = vc;
    if (field == VOUT_MISSING && vc != NULL && vc->spec->default_value != NULL) {
        o->missing.p = vc->spec->default_value;
        o->missing.len = (uint32_t)strlen(vc->spec->default_value);
    } else {
        o->missing.p = "";
        o->missing.len = 0;
    }
    if (vc != NULL) {
        o->pc = vc->pc;
        o->nullable = vc->spec->nullable;
        o->unique = vc->spec->unique;
    } else {
        o->pc.type.id = DT_STR;
        o->pc.c_locale = v->c_locale;
        o->nullable = true;
    }
    o->st = dtype_storage(o->pc.type.id);
    set_markers(o, v->spec, vc ? vc->spec : NULL);
    o->binok = vc != NULL && o->nv_lens == 0 && o->pc.nfmt == 0 && o->pc.thousands == 0 &&
               o->pc.decimal == 0 && o->pc.true_values == NULL && o->pc.false_values == NULL &&
               o->pc.tz == NULL;
    o->dec_lim = 1;
    for (unsigned k = 0; o->pc.type.id == DT_DECIMAL && k < o->pc.type.precision; k++) {
        o->dec_lim *= 10;
    }
    v->nout++;
    return 0;
}

/* A name that reaches the output becomes a column of Parquet files and database tables: it is
 * checked like a value, and against what those accept (validate.h). */
static int check_name(struct validator *v, size_t i, const char *name, struct err *e)
{
    char msg[1024];
    char q[160];
    uint8_t flags = v->header_flags != NULL ? v->header_flags[i] : 0;
    size_t len = strlen(name);
    const char *check = "column_name";
    if (flags & REC_F_NUL) {
        snprintf(msg, sizeof(msg),
                 "the name of column %zu holds a NUL byte (after %s): no Parquet reader or "
                 "database takes it as a column name",
                 i + 1, vp_quote(q, sizeof(q), name, len, 120));
    } else if ((flags & REC_F_BAD_ENCODING) || !vp_utf8_valid(name, len)) {
        check = "encoding";
        snprintf(msg, sizeof(msg), "the name of column %zu, %s, is not valid %s", i + 1,
                 vp_quote(q, sizeof(q), name, len, 120),
                 v->spec->encoding ? v->spec->encoding : "utf-8");
    } else if (len == 0) {
        snprintf(msg, sizeof(msg),
                 "column %zu has an empty name: Parquet files and database tables need a name "
                 "for every column (name it in the file, or drop it with strict: filter)",
                 i + 1);
    } else if (len > VALIDATE_MAX_NAME_BYTES) {
        snprintf(msg, sizeof(msg),
                 "the name of column %zu, %s, is %zu bytes long, more than %d: PostgreSQL cuts "
                 "names to %d bytes, so a load would create or look for another column (shorten "
                 "it in the file, or drop it with strict: filter)",
                 i + 1, vp_quote(q, sizeof(q), name, len, 120), len, VALIDATE_MAX_NAME_BYTES,
                 VALIDATE_MAX_NAME_BYTES);
    } else {
        return 0;
    }
    return header_fail(v, name, check, msg, e);
}

struct name_pos {
    const char *name;
    size_t i;
};

static int cmp_name_pos(const void *a, const void *b)
{
    const struct name_pos *x = a;
    const struct name_pos *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

/* (*out)[i] = the position of the first name equal to header[i] (i itself for a first
 * occurrence). Sorting keeps a header of 100,000 names to milliseconds, where comparing every
 * pair took minutes. */
static int first_occurrences(const char *const *header, size_t n, size_t **out, struct err *e)
{
    struct name_pos *np = malloc((n ? n : 1) * sizeof(*np));
    *out = malloc((n ? n : 1) * sizeof(**out));
    if (np == NULL || *out == NULL) {
        free(np);
        return err_set(e, AE_NOMEM, "out of memory reading the header");
    }
    for (size_t i = 0; i < n; i++) {
        np[i].name = header[i];
        np[i].i = i;
    }
    qsort(np, n, sizeof(*np), cmp_name_pos);
    for (size_t k = 0; k < n; k++) {
        size_t first =
            k > 0 && strcmp(np[k].name, np[k - 1].name) == 0 ? (*out)[np[k - 1].i] : np[k].i;
        (*out)[np[k].i] = first;
    }
    free(np);
    return 0;
}

int vheader_map(struct validator *v, const char *const *header, size_t nheader, struct err *e)
{
    const struct schema *s = &v->spec->schema;
    char msg[1024];
    int rc = 0;
    if (nheader > VALIDATE_MAX_COLUMNS) {
        /* Nothing is mapped: the file fails, and its rows are only counted. */
        snprintf(msg, sizeof(msg),
                 "the header has %zu columns, more than astro's limit of %d (memory is bounded "
                 "per column and per thread; split the file into narrower ones)",
                 nheader, VALIDATE_MAX_COLUMNS);
        v->outs = calloc(1, sizeof(*v->outs));
        return v->outs == NULL ? err_set(e, AE_NOMEM, "out of memory reading the header")
                               : header_fail(v, NULL, "column_count", msg, e);
    }
    size_t *firstof = NULL;
    uint8_t *dup = calloc(nheader ? nheader : 1, 1);
    uint8_t *claimed = calloc(nheader ? nheader : 1, 1);
    size_t *pos = malloc((s->ncols ? s->ncols : 1) * sizeof(*pos)); /* exact columns: index */
    v->outs = calloc(nheader + s->ncols + 1, sizeof(*v->outs));
    if (dup == NULL || claimed == NULL || pos == NULL || v->outs == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory reading the header");
        goto out;
    }
    rc = first_occurrences(header, nheader, &firstof, e);
    if (rc != 0) {
        goto out;
    }
    for (size_t i = 0; i < nheader; i++) {
        size_t j = firstof[i];
        if (j == i) {
            continue;
        }
        dup[i] = 1;
        /* Parquet needs unique names, so a repeated name that would reach the output fails
         * whatever unique_column_names says; with unique_column_names: false (Pandera's
         * default) an undeclared name that strict: filter drops anyway may repeat. */
        if (!s->unique_column_names && s->strict == STRICT_FILTER && !declared(v, header[i])) {
            continue;
        }
        snprintf(msg, sizeof(msg),
                 "column '%s' appears more than once in the header (positions %zu and %zu); "
                 "only the first is used",
                 header[i], j + 1, i + 1);
        rc = header_fail(v, header[i], "dataframe_column_labels_unique", msg, e);
        if (rc != 0) {
            goto out;
        }
    }
    for (size_t k = 0; k < v->nvcols; k++) {
        pos[k] = SIZE_MAX;
        if (v->vcols[k].spec->regex) {
            continue;
        }
        for (size_t i = 0; i < nheader; i++) {
            if (!dup[i] && !claimed[i] && strcmp(header[i], v->vcols[k].spec->name) == 0) {
                pos[k] = i;
                claimed[i] = 1;
                break;
            }
        }
    }
    size_t maxpos = 0;
    const char *maxname = NULL;
    for (size_t k = 0; k < v->nvcols; k++) {
        struct vcolumn *vc = &v->vcols[k];
        size_t first = SIZE_MAX;
        if (vc->spec->regex) {
            for (size_t i = 0; i < nheader; i++) {
                int m = dup[i] || claimed[i] ? VCK_FAIL : regex_name_match(vc, header[i]);
                if (m == VCK_LIMIT) {
                    /* No answer is not "no match": the header fails, naming the pattern. */
                    snprintf(msg, sizeof(msg),
                             "the column pattern '%s' hit PCRE2's match limit on the name of "
                             "column %zu: astro cannot tell whether it matches; simplify the "
                             "pattern",
                             vc->spec->name, i + 1);
                    rc = header_fail(v, header[i], "column_pattern", msg, e);
                    if (rc != 0) {
                        goto out;
                    }
                }
                if (m == VCK_PASS) {
                    claimed[i] = 1;
                    if (first == SIZE_MAX) {
                        first = i;
                    }
                    rc = add_out(v, header[i], i, vc, e);
                    if (rc != 0) {
                        goto out;
                    }
                }
            }
        } else if (pos[k] != SIZE_MAX) {
            first = pos[k];
            rc = add_out(v, header[first], first, vc, e);
            if (rc != 0) {
                goto out;
            }
        }
        if (first == SIZE_MAX && s->add_missing_columns && !vc->spec->regex &&
            (vc->spec->nullable || vc->has_default)) {
            /* Pandera's add_missing_columns: the column is added, every value its default (or
             * null); it takes no part in the ordered check. */
            rc = add_out(v, vc->spec->name, VOUT_MISSING, vc, e);
            if (rc != 0) {
                goto out;
            }
            continue;
        }
        if (first == SIZE_MAX) {
            if (vc->spec->required && s->add_missing_columns && !vc->spec->regex) {
                snprintf(msg, sizeof(msg),
                         "required column '%s' is not in the file (add_missing_columns cannot "
                         "add it: it is not nullable and has no default)",
                         vc->spec->name);
                rc = header_fail(v, vc->spec->name, "column_in_dataframe", msg, e);
                if (rc != 0) {
                    goto out;
                }
            } else if (vc->spec->required) {
                /* Pandera's names: no_regex_column_match('<pattern>') or column_in_dataframe. */
                char check[320];
                snprintf(check, sizeof(check), "column_in_dataframe");
                if (vc->spec->regex) {
                    snprintf(msg, sizeof(msg),
                             "no column of the file matches the required pattern '%s'",
                             vc->spec->name);
                    snprintf(check, sizeof(check), "no_regex_column_match('%.280s')",
                             vc->spec->name);
                } else if (vc->spec->path != NULL) {
                    /* Parquet: path: names the file's column (config.c). */
                    snprintf(msg, sizeof(msg),
                             "required column '%s' is not in the file (it is read from the "
                             "file's column '%.200s', its path:)",
                             vc->spec->name, vc->spec->path);
                } else {
                    snprintf(msg, sizeof(msg), "required column '%s' is not in the file",
                             vc->spec->name);
                }
                rc = header_fail(v, vc->spec->name, check, msg, e);
                if (rc != 0) {
                    goto out;
                }
            }
            continue;
        }
        if (s->ordered && maxname != NULL && first < maxpos) {
            snprintf(msg, sizeof(msg),
                     "column '%s' is at position %zu, before '%s' (position %zu), but the schema "
                     "is ordered and declares it after",
                     header[first], first + 1, maxname, maxpos + 1);
            rc = header_fail(v, header[first], "column_ordered", msg, e);
            if (rc != 0) {
                goto out;
            }
        }
        if (maxname == NULL || first > maxpos) {
            maxpos = first;
            maxname = header[first];
        }
    }
    for (size_t i = 0; i < nheader; i++) {
        if (dup[i] || claimed[i]) {
            continue;
        }
        if (s->strict == STRICT_TRUE) {
            snprintf(msg, sizeof(msg),
                     "column '%s' is not in the schema (strict: true allows only declared "
                     "columns)",
                     header[i]);
            rc = header_fail(v, header[i], "column_in_schema", msg, e);
        } else if (s->strict == STRICT_FALSE) {
            struct vcolumn *xvc = NULL;
            rc = extra_column(v, nheader, &xvc, e);
            rc = rc ? rc : add_out(v, header[i], i, xvc, e);
        }
        if (rc != 0) {
            goto out;
        }
    }
    for (size_t c = 0; c < v->nout && rc == 0; c++) {
        if (v->outs[c].field != VOUT_MISSING) {
            rc = check_name(v, v->outs[c].field, header[v->outs[c].field], e);
        }
    }
out:
    free(firstof);
    free(dup);
    free(claimed);
    free(pos);
    return rc;
}
