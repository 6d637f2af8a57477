/*
 * sink.c - the generic sink calls and the Parquet file sink.
 */
#include "sink/sink.h"

#include "sink/linemap.h"

#include <stdlib.h>

int sink_write(struct sink *s, const struct batch *b, struct err *e)
{
    return s->ops->write(s->impl, b, e);
}

int sink_commit(struct sink *s, uint64_t *bytes, struct err *e)
{
    int rc = s->ops->commit(s->impl, bytes, e);
    s->impl = NULL;
    return rc;
}

void sink_abort(struct sink *s)
{
    if (s->ops != NULL && s->impl != NULL) {
        s->ops->abort(s->impl);
    }
    s->impl = NULL;
}

struct parquet_sink {
    struct atomic_file file;
    struct pq_writer *w;
    struct line_map lines; /* source line of each row written (linemap.h) */
};

/* The writer knows a descriptor, not a name: an I/O error gets the file's name here. */
static int parquet_io_error(const struct parquet_sink *p, int rc, struct err *e)
{
    if (rc == AE_IO) {
        err_prefix(e, "%s", p->file.tmp_path);
    }
    return rc;
}

static int parquet_write(void *impl, const struct batch *b, struct err *e)
{
    struct parquet_sink *p = impl;
    int rc = parquet_io_error(p, pq_writer_write(p->w, b, e), e);
    return rc != 0 ? rc : line_map_add(&p->lines, b, e);
}

static void parquet_abort(void *impl)
{
    struct parquet_sink *p = impl;
    line_map_release(&p->lines);
    pq_writer_free(p->w);
    atomic_file_abort(&p->file);
    free(p);
}

static int parquet_commit(void *impl, uint64_t *bytes, struct err *e)
{
    struct parquet_sink *p = impl;
    char *lines = NULL;
    int rc = line_map_text(&p->lines, &lines, e);
    rc = rc != 0 ? rc : pq_writer_add_kv(p->w, LINE_MAP_KEY, lines, e);
    free(lines);
    rc = rc != 0 ? rc : pq_writer_close(p->w, bytes, e);
    if (rc != 0) {
        parquet_io_error(p, rc, e);
        parquet_abort(p);
        return rc;
    }
    pq_writer_free(p->w);
    p->w = NULL;
    line_map_release(&p->lines);
    rc = atomic_file_commit(&p->file, e); /* aborts the temp file itself on failure */
    free(p);
    return rc;
}

static const struct sink_ops parquet_ops = {parquet_write, parquet_commit, parquet_abort};

int sink_parquet_open(struct sink *s, const char *path, const struct column_desc *cols,
                      size_t ncols, const struct pq_options *o, struct err *e)
{
    s->ops = &parquet_ops;
    s->impl = NULL;
    struct parquet_sink *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    line_map_init(&p->lines);
    int rc = atomic_file_open(&p->file, path, e);
    if (rc != 0) {
        free(p);
        return rc;
    }
    rc = pq_writer_open(&p->w, p->file.fd, cols, ncols, o, e);
    if (rc != 0) {
        atomic_file_abort(&p->file);
        free(p);
        return rc;
    }
    s->impl = p;
    return 0;
}

int sink_parquet_add_kv(struct sink *s, const char *key, const char *value, struct err *e)
{
    struct parquet_sink *p = s->impl;
    return pq_writer_add_kv(p->w, key, value, e);
}
