/*
 * async.c - a sink that writes through another sink on a worker thread.
 *
 * Two slots: the caller fills a free slot (a copy of its batch) while the worker writes the other.
 * All shared state is under one mutex; the batches themselves are touched by one side at a time
 * (the caller while a slot is FREE, the worker while it is FULL), so the copies need no lock.
 * Copying a batch costs far less than encoding and compressing it.
 */
#include "sink/sink.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ASYNC_SLOTS 2

struct async_sink {
    struct sink inner;
    struct batch slot[ASYNC_SLOTS];
    bool full[ASYNC_SLOTS];
    size_t next_fill;  /* caller's next slot */
    size_t next_write; /* worker's next slot */
    bool stop;         /* no more batches will come */
    bool discard;      /* abort: drop what is queued */
    int rc;            /* first worker error */
    struct err werr;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* any state change */
    pthread_t thread;
    bool started;
};

static void *worker(void *arg)
{
    struct async_sink *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->full[a->next_write] && !a->stop) {
            pthread_cond_wait(&a->cv, &a->mu);
        }
        if (!a->full[a->next_write] || a->discard) {
            break; /* stopped with nothing left, or aborted */
        }
        size_t i = a->next_write;
        pthread_mutex_unlock(&a->mu);
        int rc = 0;
        struct err e;
        err_clear(&e);
        if (a->rc == 0) { /* after an error, slots are only emptied */
            rc = sink_write(&a->inner, &a->slot[i], &e);
        }
        pthread_mutex_lock(&a->mu);
        if (rc != 0 && a->rc == 0) {
            a->rc = rc;
            a->werr = e;
        }
        a->full[i] = false;
        a->next_write = (i + 1) % ASYNC_SLOTS;
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static int worker_error(struct async_sink *a, struct err *e)
{
    if (a->rc != 0 && e != NULL) {
        *e = a->werr;
    }
    return a->rc;
}

static int async_write(void *impl, const struct batch *b, struct err *e)
{
    struct async_sink *a = impl;
    pthread_mutex_lock(&a->mu);
    while (a->full[a->next_fill] && a->rc == 0) {
        pthread_cond_wait(&a->cv, &a->mu);
    }
    int rc = worker_error(a, e);
    size_t i = a->next_fill;
    pthread_mutex_unlock(&a->mu);
    if (rc != 0) {
        return rc;
    }
    rc = batch_copy(&a->slot[i], b);
    if (rc != 0) {
        return err_set(e, rc, "cannot copy a batch for the writer thread");
    }
    pthread_mutex_lock(&a->mu);
    a->full[i] = true;
    a->next_fill = (i + 1) % ASYNC_SLOTS;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

static void async_stop(struct async_sink *a, bool discard)
{
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    a->discard = discard;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->started) {
        pthread_join(a->thread, NULL);
        a->started = false;
    }
}

static void async_free(struct async_sink *a)
{
    for (size_t i = 0; i < ASYNC_SLOTS; i++) {
        batch_release(&a->slot[i]);
    }
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

static void async_abort(void *impl)
{
    struct async_sink *a = impl;
    async_stop(a, true);
    sink_abort(&a->inner);
    async_free(a);
}

static int async_commit(void *impl, uint64_t *bytes, struct err *e)
{
    struct async_sink *a = impl;
    async_stop(a, false); /* the worker writes every queued slot before it ends */
    int rc = worker_error(a, e);
    if (rc != 0) {
        sink_abort(&a->inner);
    } else {
        rc = sink_commit(&a->inner, bytes, e);
    }
    async_free(a);
    return rc;
}

static const struct sink_ops async_ops = {async_write, async_commit, async_abort};

int sink_async_open(struct sink *s, struct sink *inner, const struct dtype_info *types,
                    size_t ncols, size_t cap, struct err *e)
{
    s->ops = &async_ops;
    s->impl = NULL;
    struct async_sink *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        sink_abort(inner);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    a->inner = *inner;
    inner->impl = NULL;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    int rc = 0;
    for (size_t i = 0; i < ASYNC_SLOTS && rc == 0; i++) {
        rc = batch_init(&a->slot[i], types, ncols, cap);
    }
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else if (pthread_create(&a->thread, NULL, worker, a) != 0) {
        rc = err_set(e, AE_NOMEM, "cannot start the writer thread");
    } else {
        a->started = true;
    }
    if (rc != 0) {
        sink_abort(&a->inner);
        async_free(a);
        return rc;
    }
    s->impl = a;
    return 0;
}

int sink_async_drain(struct sink *s, struct err *e)
{
    struct async_sink *a = s->impl;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < ASYNC_SLOTS && a->rc == 0;) {
        if (a->full[i]) {
            pthread_cond_wait(&a->cv, &a->mu);
            i = 0;
        } else {
            i++;
        }
    }
    int rc = worker_error(a, e);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

struct sink *sink_async_inner(struct sink *s)
{
    struct async_sink *a = s->impl;
    return &a->inner;
}
