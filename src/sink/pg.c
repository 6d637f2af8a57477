/*
 * pg.c - the PostgreSQL load sink (work in progress: not implemented yet).
 */
#include "sink/load.h"

int sink_pg_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                 const struct pq_column *cols, size_t ncols, struct err *e)
{
    (void)o;
    (void)cols;
    (void)ncols;
    s->ops = NULL;
    s->impl = NULL;
    return err_set(e, AE_INTERNAL, "target \"%s\": PostgreSQL loads are not implemented yet",
                   t->name != NULL ? t->name : "postgres");
}

int load_pg_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                         const char *table, bool *done, struct err *e)
{
    (void)dataset;
    (void)sha256;
    (void)table;
    *done = false;
    return err_set(e, AE_INTERNAL, "target \"%s\": PostgreSQL loads are not implemented yet",
                   t->name != NULL ? t->name : "postgres");
}

const char *load_pg_type(struct dtype_info t, char *buf, size_t n)
{
    (void)t;
    if (n > 0) {
        buf[0] = '\0';
    }
    return buf;
}
