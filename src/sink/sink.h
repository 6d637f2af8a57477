/*
 * sink.h - where validated batches go, behind one interface. A sink never decides what is valid:
 * it writes the rows a batch marks row_ok and nothing else.
 *
 * Lifecycle: open -> write* -> commit (the output becomes visible, durably) or abort (nothing is
 * left behind). A sink that failed a write must be aborted. Commit and abort free the sink's
 * state, whatever their outcome; the handle is then empty. This folder holds the interface and
 * the Parquet file sink; database loads are sinks too, opened by the load targets of src/load.
 * A sink's state (impl) is private to its implementation: callers reach it only through ops.
 */
#ifndef ASTRO_SINK_SINK_H
#define ASTRO_SINK_SINK_H

#include "batch/batch.h"
#include "parquet/pq.h"
#include "util/fs.h"

/* What one kind of sink does with its private state impl, which it owns from its open on. */
struct sink_ops {
    int (*write)(void *impl, const struct batch *b, struct err *e);
    int (*commit)(void *impl, uint64_t *bytes, struct err *e); /* frees impl */
    void (*abort)(void *impl);                                 /* frees impl */
};

/* An open sink: the operations of its kind and its state; impl NULL holds nothing. */
struct sink {
    const struct sink_ops *ops;
    void *impl;
};

/* Writes the rows of b (borrowed for the call) that row_ok marks. Fails with the sink's code
 * (AE_IO, AE_DB, AE_NOMEM, ...) and a message in e; the sink must then be aborted. */
int sink_write(struct sink *s, const struct batch *b, struct err *e) ASTRO_WUR;

/* Makes the output visible, durably, and frees the sink's state whatever the outcome (s then
 * holds nothing). *bytes, when bytes is not NULL, receives the bytes the sink wrote or sent (0
 * where a kind does not count them). On failure nothing of this sink's output is left behind. */
int sink_commit(struct sink *s, uint64_t *bytes, struct err *e) ASTRO_WUR;

/* Discards what the sink wrote and frees its state; a no-op when s holds nothing. */
void sink_abort(struct sink *s);

/* A Parquet file at path: written to a temporary name in the same folder, fsynced and renamed on
 * commit. cols and o are copied. The footer gets the source line of every row (key
 * "astro.source_lines", sink/linemap.h) from the batches' line[]. */
int sink_parquet_open(struct sink *s, const char *path, const struct column_desc *cols,
                      size_t ncols, const struct pq_options *o, struct err *e) ASTRO_WUR;

/* Adds footer key-value metadata to an open Parquet sink. */
int sink_parquet_add_kv(struct sink *s, const char *key, const char *value,
                        struct err *e) ASTRO_WUR;

#endif
