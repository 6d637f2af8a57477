/*
 * load.c - the registry of load targets: the one place that maps a target's kind to its
 * implementation (struct load_target_ops), and the calls that go through it. The switch has no
 * default, so -Wswitch names this place when a new enum target_kind value has no target yet.
 */
#include "load/load.h"
#include "load/load_int.h"

#include <stddef.h>

const struct load_target_ops *load_target_ops_for(enum target_kind kind)
{
    switch (kind) {
    case TARGET_POSTGRES: return &load_target_postgres;
    case TARGET_SQLITE: return &load_target_sqlite;
    }
    return NULL;
}

/* The ops of t, or AE_INTERNAL: a target_spec's kind comes from the config parser, which only
 * sets enumerators, so another value is a bug. */
static int ops_of(const struct target_spec *t, const struct load_target_ops **ops, struct err *e)
{
    *ops = load_target_ops_for(t->kind);
    if (*ops == NULL) {
        return err_set(e, AE_INTERNAL, "target \"%s\": unknown kind %d",
                       t->name != NULL ? t->name : "", (int)t->kind);
    }
    return 0;
}

/* Every call below expands the target's ${VAR} here, where the target is used, so that a
 * command that never reaches a target needs none of its variables (config_target_expand). */

int load_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
              const struct column_desc *cols, size_t ncols, struct err *e)
{
    const struct load_target_ops *ops = NULL;
    struct target_spec x;
    s->ops = NULL;
    s->impl = NULL;
    int rc = ops_of(t, &ops, e);
    if (rc == 0 && (rc = config_target_expand(t, &x, e)) == 0) {
        rc = ops->open(s, &x, o, cols, ncols, e);
        config_target_expanded_release(&x);
    }
    return rc;
}

int load_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                      const char *table, bool *done, struct err *e)
{
    const struct load_target_ops *ops = NULL;
    struct target_spec x;
    *done = false;
    int rc = ops_of(t, &ops, e);
    if (rc == 0 && (rc = config_target_expand(t, &x, e)) == 0) {
        rc = ops->checkpointed(&x, dataset, sha256, table, done, e);
        config_target_expanded_release(&x);
    }
    return rc;
}

int load_exec_sql(const struct target_spec *t, const char *sql, struct log *log, struct err *e)
{
    const struct load_target_ops *ops = NULL;
    struct target_spec x;
    int rc = ops_of(t, &ops, e);
    if (rc == 0 && (rc = config_target_expand(t, &x, e)) == 0) {
        rc = ops->exec_sql(&x, sql, log, e);
        config_target_expanded_release(&x);
    }
    return rc;
}

int load_record_file(const struct target_spec *t, const struct load_file_record *r,
                     struct err *e)
{
    const struct load_target_ops *ops = NULL;
    struct target_spec x;
    int rc = ops_of(t, &ops, e);
    if (rc == 0 && (rc = config_target_expand(t, &x, e)) == 0) {
        rc = ops->record_file(&x, r, e);
        config_target_expanded_release(&x);
    }
    return rc;
}

int load_claim(const struct target_spec *t, const char *key, struct load_claim **out,
               struct err *e)
{
    const struct load_target_ops *ops = NULL;
    struct target_spec x;
    *out = NULL;
    int rc = ops_of(t, &ops, e);
    if (rc == 0 && (rc = config_target_expand(t, &x, e)) == 0) {
        rc = ops->claim(&x, key, out, e);
        config_target_expanded_release(&x);
    }
    return rc;
}
