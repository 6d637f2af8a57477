/*
 * common.c - what every load target shares (load_int.h): the option checks that turn a
 * struct load_opts into a struct load_plan, the state every open load keeps (struct load_state),
 * SQL-92 identifier quoting and the CREATE TABLE text. Nothing here talks to a database; the
 * targets run the text these functions build.
 */
#include "load/load_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int load_quote_ident(struct buf *b, const char *name)
{
    /* SQL-92 delimited identifiers: a double quote inside is written twice. */
    int rc = buf_putc(b, '"');
    for (const char *p = name; rc == 0 && *p != '\0'; p++) {
        rc = buf_putc(b, *p);
        if (rc == 0 && *p == '"') {
            rc = buf_putc(b, '"');
        }
    }
    if (rc == 0) {
        rc = buf_putc(b, '"');
    }
    return rc;
}

int load_quote_table(struct buf *b, const char *table)
{
    const char *dot = strchr(table, '.');
    if (dot == NULL) {
        return load_quote_ident(b, table);
    }
    size_t n = (size_t)(dot - table);
    char *schema = strndup(table, n);
    if (schema == NULL) {
        return AE_NOMEM;
    }
    int rc = load_quote_ident(b, schema);
    free(schema);
    if (rc == 0) {
        rc = buf_putc(b, '.');
    }
    if (rc == 0) {
        rc = load_quote_ident(b, dot + 1);
    }
    return rc;
}

void load_plan_release(struct load_plan *p)
{
    if (p->names != NULL) {
        for (size_t i = 0; i < p->ncols; i++) {
            free(p->names[i]);
        }
    }
    free(p->names);
    free(p->is_key);
    free(p->not_null);
    memset(p, 0, sizeof(*p));
}

int load_plan_init(struct load_plan *p, const struct load_opts *o, const struct column_desc *cols,
                   size_t ncols, const char *target, struct err *e)
{
    memset(p, 0, sizeof(*p));
    int rc = 0;
    if (o->table == NULL || o->table[0] == '\0') {
        return err_set(e, AE_CONFIG, "target \"%s\": load without a table name", target);
    }
    if (ncols == 0) {
        return err_set(e, AE_CONFIG, "target \"%s\": load into \"%s\" without columns", target,
                       o->table);
    }
    if (o->on_conflict == NULL || strcmp(o->on_conflict, "update") == 0) {
        p->conflict = LOAD_CONFLICT_UPDATE;
    } else if (strcmp(o->on_conflict, "nothing") == 0) {
        p->conflict = LOAD_CONFLICT_NOTHING;
    } else if (strcmp(o->on_conflict, "error") == 0) {
        p->conflict = LOAD_CONFLICT_ERROR;
    } else {
        return err_set(e, AE_CONFIG,
                       "target \"%s\": on_conflict \"%s\" is not one of update, nothing, error",
                       target, o->on_conflict);
    }
    if (o->mode == LOAD_UPSERT && o->nkey == 0) {
        return err_set(e, AE_CONFIG, "target \"%s\": upsert into \"%s\" needs key columns", target,
                       o->table);
    }
    p->names = calloc(ncols, sizeof(*p->names));
    p->is_key = calloc(ncols, sizeof(*p->is_key));
    p->not_null = calloc(ncols, sizeof(*p->not_null));
    if (p->names == NULL || p->is_key == NULL || p->not_null == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    p->ncols = ncols;
    for (size_t r = 0; r < o->nrenames; r++) {
        bool found = false;
        for (size_t i = 0; i < ncols && !found; i++) {
            found = strcmp(cols[i].name, o->renames[2 * r]) == 0;
        }
        if (!found) {
            rc = err_set(e, AE_CONFIG, "target \"%s\": rename of \"%s\": no such column in dataset",
                         target, o->renames[2 * r]);
            goto fail;
        }
    }
    for (size_t i = 0; i < ncols; i++) {
        const char *name = cols[i].name;
        for (size_t r = 0; r < o->nrenames; r++) {
            if (strcmp(o->renames[2 * r], cols[i].name) == 0) {
                name = o->renames[2 * r + 1];
            }
        }
        if (name == NULL || name[0] == '\0') {
            rc =
                err_set(e, AE_CONFIG, "target \"%s\": column %zu has an empty name", target, i + 1);
            goto fail;
        }
        p->names[i] = strdup(name);
        if (p->names[i] == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->names[j], name) == 0) {
                rc = err_set(e, AE_CONFIG, "target \"%s\": column \"%s\" appears twice in \"%s\"",
                             target, name, o->table);
                goto fail;
            }
        }
    }
    if (o->mode == LOAD_UPSERT) {
        for (size_t k = 0; k < o->nkey; k++) {
            bool found = false;
            for (size_t i = 0; i < ncols; i++) {
                if (strcmp(p->names[i], o->key[k]) == 0) {
                    p->is_key[i] = true;
                    found = true;
                }
            }
            if (!found) {
                rc = err_set(e, AE_CONFIG,
                             "target \"%s\": key column \"%s\" is not a column of the load into "
                             "\"%s\"",
                             target, o->key[k], o->table);
                goto fail;
            }
        }
    }
    for (size_t i = 0; i < ncols; i++) {
        p->nvalue += p->is_key[i] ? 0 : 1;
        p->not_null[i] = p->is_key[i] || !cols[i].nullable;
    }
    return 0;
fail:
    load_plan_release(p);
    return rc;
}

int load_create_table_sql(struct buf *b, const char *table, const struct load_plan *p,
                          const struct dtype_info *types,
                          const char *(*type_name)(struct dtype_info, char *, size_t), bool pk)
{
    int rc = buf_puts(b, "CREATE TABLE IF NOT EXISTS ");
    rc = rc != 0 ? rc : load_quote_table(b, table);
    rc = rc != 0 ? rc : buf_puts(b, " (");
    for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
        char ty[32];
        rc = i > 0 ? buf_puts(b, ", ") : 0;
        rc = rc != 0 ? rc : load_quote_ident(b, p->names[i]);
        rc = rc != 0 ? rc : buf_printf(b, " %s", type_name(types[i], ty, sizeof(ty)));
        rc = rc != 0 || !p->not_null[i] ? rc : buf_puts(b, " NOT NULL");
    }
    if (rc == 0 && pk) {
        rc = buf_puts(b, ", PRIMARY KEY (");
        bool first = true;
        for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
            if (p->is_key[i]) {
                rc = first ? 0 : buf_puts(b, ", ");
                rc = rc != 0 ? rc : load_quote_ident(b, p->names[i]);
                first = false;
            }
        }
        rc = rc != 0 ? rc : buf_putc(b, ')');
    }
    return rc != 0 ? rc : buf_putc(b, ')');
}

static char *strdup0(const char *s)
{
    return strdup(s != NULL ? s : "");
}

int load_state_init(struct load_state *s, const struct target_spec *t, const char *kind,
                    const struct load_opts *o, const struct column_desc *cols, size_t ncols,
                    struct err *e)
{
    memset(s, 0, sizeof(*s));
    const char *tname = t->name != NULL ? t->name : kind;
    int rc = load_plan_init(&s->plan, o, cols, ncols, tname, e);
    if (rc != 0) {
        return rc;
    }
    s->target = strdup(tname);
    s->table = strdup(o->table);
    s->run_id = strdup0(o->run_id);
    s->dataset = strdup0(o->dataset);
    s->sha = strdup0(o->source_sha256);
    s->fingerprint = strdup0(o->schema_fingerprint);
    s->file = o->file;
    s->types = calloc(ncols, sizeof(*s->types));
    if (s->target == NULL || s->table == NULL || s->run_id == NULL || s->dataset == NULL ||
        s->sha == NULL || s->fingerprint == NULL || s->types == NULL) {
        load_state_release(s);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < ncols; i++) {
        s->types[i] = cols[i].type;
    }
    return 0;
}

void load_state_publish(const struct load_state *s)
{
    if (s->out != NULL) {
        *s->out = s->res;
    }
}

void load_state_release(struct load_state *s)
{
    load_plan_release(&s->plan);
    free(s->types);
    free(s->target);
    free(s->table);
    free(s->run_id);
    free(s->dataset);
    free(s->sha);
    free(s->fingerprint);
    memset(s, 0, sizeof(*s));
}

int load_state_take_sha(struct load_state *s, struct err *e)
{
    char *sha = strdup(s->file->sha256);
    if (sha == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    free(s->sha);
    s->sha = sha;
    return 0;
}

enum load_ckpt load_ckpt_of(const struct load_state *s, const char *stored)
{
    if (stored == NULL) {
        return LOAD_CKPT_NONE;
    }
    return strcmp(stored, s->fingerprint) == 0 ? LOAD_CKPT_SAME : LOAD_CKPT_OTHER;
}

int load_ckpt_decide(const struct load_state *s, const struct load_opts *o, enum load_ckpt state,
                     bool *skip, struct err *e)
{
    *skip = false;
    if (o->reload || state == LOAD_CKPT_NONE) {
        return 0;
    }
    if (state == LOAD_CKPT_SAME) {
        *skip = true;
        return 0;
    }
    if (o->mode != LOAD_APPEND) {
        return 0; /* replace and upsert rewrite the file's rows with their new values */
    }
    return err_set(e, AE_CONFIG,
                   "target \"%s\": %s (sha256 %.12s...) is already loaded into \"%s\" with another "
                   "schema; loading it again in mode append would add its rows a second time: "
                   "use mode replace or upsert, or delete its rows from \"%s\" and run `astro run "
                   "--reload`",
                   s->target, s->dataset, s->sha, s->table, s->table);
}

int load_column_type_err(struct err *e, const struct load_state *s, const char *kind,
                         const char *where, const char *column, const char *found,
                         struct dtype_info dt, const char *want)
{
    char dts[40];
    dtype_name(dt, dts, sizeof(dts));
    return err_set(e, AE_DB,
                   "target \"%s\" (%s%s%s): column \"%s\" of table \"%s\" is %s, but the "
                   "dataset's %s column loads as %s; the table was made for another schema: drop "
                   "it (create: true makes it again), alter the column to %s, or load into a new "
                   "table",
                   s->target, kind, where[0] != '\0' ? " " : "", where, column, s->table, found,
                   dts, want, want);
}

int load_column_unfilled_err(struct err *e, const struct load_state *s, const char *kind,
                             const char *where, const char *column)
{
    return err_set(e, AE_DB,
                   "target \"%s\" (%s%s%s): column \"%s\" of table \"%s\" is NOT NULL without a "
                   "default, and the dataset has no such column; the table was made for another "
                   "schema: drop it (create: true makes it again), alter the column, or load into "
                   "a new table",
                   s->target, kind, where[0] != '\0' ? " " : "", where, column, s->table);
}

const char *load_line_text(char *buf, size_t n, uint64_t line)
{
    if (line == 0) {
        snprintf(buf, n, "a line that is not recorded");
    } else {
        snprintf(buf, n, "line %" PRIu64, line);
    }
    return buf;
}
