/*
 * sink.h - where validated batches go, behind one interface. A sink never decides what is valid:
 * it writes the rows a batch marks row_ok and nothing else.
 *
 * Lifecycle: open -> write* -> commit (the output becomes visible, durably) or abort (nothing is
 * left behind). A sink that failed a write must be aborted.
 */
#ifndef ASTRO_SINK_SINK_H
#define ASTRO_SINK_SINK_H

#include "batch/batch.h"
#include "parquet/pq.h"
#include "util/fs.h"

struct sink_ops {
    int (*write)(void *impl, const struct batch *b, struct err *e);
    int (*commit)(void *impl, uint64_t *bytes, struct err *e); /* frees impl */
    void (*abort)(void *impl);                                 /* frees impl */
};

struct sink {
    const struct sink_ops *ops;
    void *impl;
};

int sink_write(struct sink *s, const struct batch *b, struct err *e) ASTRO_WUR;
int sink_commit(struct sink *s, uint64_t *bytes, struct err *e) ASTRO_WUR;
void sink_abort(struct sink *s);

/* A Parquet file at path: written to a temporary name in the same folder, fsynced and renamed on
 * commit. cols and o are copied. */
int sink_parquet_open(struct sink *s, const char *path, const struct column_desc *cols,
                      size_t ncols, const struct pq_options *o, struct err *e) ASTRO_WUR;

/* Adds footer key-value metadata to an open Parquet sink. */
int sink_parquet_add_kv(struct sink *s, const char *key, const char *value,
                        struct err *e) ASTRO_WUR;

#endif
