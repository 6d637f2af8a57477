/*
 * engine.c - the streaming core of one file: read, validate, hand valid rows to the caller's
 * sink, and decide the verdict with the spec's thresholds (engine.h).
 *
 * The file goes through a small pool of threads (ingest_file_opts.threads; the calling thread is
 * one of them) sharing a ring of blocks, each a record_block that owns its text, a batch and the
 * block's pending failure cases. Every thread loops over three kinds of task, in this order of
 * priority:
 *   commit   the next block in file order, once validated: uniqueness, fail-fast, counts and the
 *            emission of its failure cases (validator_commit), then sink_write. One at a time.
 *   read     the next records into a free block (input_read: read, sha256, decompress, decode,
 *            split). One at a time: the reader is sequential.
 *   validate a block read but not validated: input_complete (the JSON readers parse their
 *            records here), then validator_run_local, on the thread's own clone of the
 *            validator. Any number at once.
 * The two sequential stages go first so that they never wait for the parallel one; validation
 * fills the gaps. All shared state is under one mutex; a block is touched by one thread at a time
 * (its state says which task holds it), so the data needs no lock. A thread about to refill a
 * block's arrays first zeroes them in bulk (record_block_claim, batch_claim): they were last used
 * on another core, and refilling them with scattered writes then paid a cache-line transfer per
 * line, which made reading 2x slower at 2 threads on the benchmark machine (bench/README.md).
 * With one thread the same loop runs on the caller with a single block: read, validate, commit,
 * in turn. Memory is bounded by the number of blocks (2 per thread + 2) times a block (at most
 * FC_BLOCK_ROWS records, about FC_BLOCK_BYTES of text and BATCH_MAX_CELLS cells), plus
 * what the sink holds; a very wide file runs on fewer threads (fc_threads).
 */
#include "ingest/engine.h"

#include "ingest/match.h"
#include "input/input.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Records and text per block the pool aims at: small blocks keep memory low (2N+2 of them are in
 * flight with N threads), and even 512 KiB is milliseconds of work, far more than a task switch
 * costs. Halved from 8192 records and 1 MiB: -7 to -23 MiB of peak RSS at 2 threads on the
 * benchmark's files for no measurable CPU (bench/README.md, "Smaller blocks"). */
#define FC_BLOCK_ROWS 4096
#define FC_BLOCK_BYTES ((size_t)512 << 10)
#define FC_FIRST_ROWS 512

/* B_VALID: validated, its keys waiting for the probes of every partition group (unique). */
enum fc_state { B_FREE, B_BUSY, B_READ, B_VALID, B_DONE };

struct fc_block {
    struct record_block rows;
    struct batch batch;
    struct vblock *vb;
    size_t first;   /* the first data record (1 in the block holding the header) */
    uint64_t seq;   /* position in the file, from 0 */
    uint64_t bytes; /* source bytes read once the block was complete (progress) */
    enum fc_state state;
    size_t groups_done; /* B_VALID: partition groups that have probed its keys */
};

/* The state shared by the threads working on one file. */
struct fc_pool {
    const struct ingest_file_opts *o;
    struct input *in;
    struct validator *v;
    struct validator **clones; /* one per thread; NULL with one thread (v validates) */
    struct sink *s;            /* NULL: no output, or no longer any */
    struct ingest_file_result *res;
    bool tolerant;
    size_t block_rows;
    struct fc_block *blocks;
    size_t nblocks;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool reading, committing, eof, stop;
    uint64_t next_seq;   /* of the next block read */
    uint64_t commit_seq; /* of the next block to commit */
    size_t ngroups;      /* partition groups of the unique probes (0: probed in the commit) */
    uint64_t *group_seq; /* per group: the block it probes next (file order) */
    bool *group_busy;
    int rc;
    struct err err;
    bool bad_input;           /* the reader refused the data (AE_FORMAT): the file fails */
    struct err bad_input_err; /* why, with the line */
};

struct fc_thread {
    struct fc_pool *p;
    size_t index;
};

static struct fc_block *fc_find(struct fc_pool *p, enum fc_state st, bool lowest, uint64_t seq)
{
    struct fc_block *best = NULL;
    for (size_t i = 0; i < p->nblocks; i++) {
        struct fc_block *b = &p->blocks[i];
        if (b->state != st) {
            continue;
        }
        if (!lowest) {
            if (st != B_DONE || b->seq == seq) {
                return b;
            }
        } else if (best == NULL || b->seq < best->seq) {
            best = b;
        }
    }
    return best;
}

/* Under the lock: the first error stops every thread. */
static void fc_fail(struct fc_pool *p, int rc, const struct err *e)
{
    if (p->rc == 0) {
        p->rc = rc;
        p->err = *e;
    }
    p->stop = true;
}

/* The commit of one block, in file order (see the top of the file). */
static int fc_commit(struct fc_pool *p, struct fc_block *b, struct err *e)
{
    struct ingest_file_result *res = p->res;
    int rc = validator_commit(p->v, b->vb, &b->rows, b->first, &b->batch, e);
    if (rc != 0) {
        return rc;
    }
    struct validate_counts counts;
    validator_counts(p->v, &counts);
    /* With a tolerance of 0 (the default) the first failure decides the file, and a broken
     * record decides it whatever the tolerance; an output that can no longer be kept is not
     * written at all. */
    if (p->s != NULL && counts.failure_cases > 0 && (!p->tolerant || counts.broken_records)) {
        p->s = NULL; /* the caller aborts it after the verdict */
    }
    if (p->s != NULL && b->batch.nrows > 0) {
        rc = sink_write(p->s, &b->batch, e);
        if (rc != 0) {
            return rc;
        }
    }
    if (p->o->progress != NULL) {
        struct ingest_progress pr = {.name = p->o->spec->name,
                                     .size = res->size,
                                     .bytes = b->bytes,
                                     .rows = counts.rows_read,
                                     .failures = counts.failure_cases};
        p->o->progress(p->o->progress_ctx, &pr);
    }
    if (validator_stopped(p->v)) {
        res->stopped = true;
    }
    return 0;
}

/* Under the lock: a block whose keys a free partition group can probe next (each group takes the
 * blocks in file order), with *g the group. */
static struct fc_block *fc_group_task(struct fc_pool *p, size_t *g)
{
    for (size_t k = 0; k < p->ngroups; k++) {
        if (p->group_busy[k]) {
            continue;
        }
        for (size_t i = 0; i < p->nblocks; i++) {
            struct fc_block *b = &p->blocks[i];
            if (b->state == B_VALID && b->seq == p->group_seq[k]) {
                *g = k;
                return b;
            }
        }
    }
    return NULL;
}

static void fc_work(struct fc_pool *p, size_t index)
{
    struct validator *mine = p->clones != NULL ? p->clones[index] : p->v;
    struct err e;
    err_clear(&e);
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct fc_block *b;
        size_t g = 0;
        int rc = 0;
        if (!p->committing && (b = fc_find(p, B_DONE, false, p->commit_seq)) != NULL) {
            p->committing = true;
            pthread_mutex_unlock(&p->mu);
            rc = fc_commit(p, b, &e);
            pthread_mutex_lock(&p->mu);
            p->committing = false;
            p->commit_seq++;
            b->state = B_FREE;
            if (rc != 0) {
                fc_fail(p, rc, &e);
            } else if (p->res->stopped) {
                p->stop = true; /* fail-fast: nothing after this block counts */
            }
        } else if (!p->reading && !p->eof && (b = fc_find(p, B_FREE, false, 0)) != NULL) {
            p->reading = true;
            b->state = B_BUSY;
            pthread_mutex_unlock(&p->mu);
            if (p->clones != NULL) {
                record_block_claim(&b->rows); /* last filled and read on other cores */
            }
            if (p->o->interrupted != NULL) {
                rc = p->o->interrupted(p->o->interrupt_ctx, &e); /* a stop request (a signal) */
            }
            if (rc == 0) {
                rc = input_read(p->in, &b->rows, p->block_rows, &e);
            }
            uint64_t bytes = input_bytes(p->in);
            pthread_mutex_lock(&p->mu);
            p->reading = false;
            if (rc == AE_FORMAT) {
                /* Bad data, not a broken environment (a record over the size limit): what was
                 * read before it is still committed, and ingest_file_run reports it. */
                b->state = B_FREE;
                p->eof = true;
                p->bad_input = true;
                p->bad_input_err = e;
                err_clear(&e);
            } else if (rc != 0) {
                b->state = B_FREE;
                fc_fail(p, rc, &e);
            } else if (b->rows.nrows == 0) {
                b->state = B_FREE;
                p->eof = true;
            } else {
                b->first = 0;
                b->bytes = bytes;
                b->seq = p->next_seq++;
                b->state = B_READ;
            }
        } else if ((b = fc_group_task(p, &g)) != NULL) {
            p->group_busy[g] = true;
            pthread_mutex_unlock(&p->mu);
            rc = validator_unique_group(p->v, b->vb, &b->rows, b->first, g, &e);
            pthread_mutex_lock(&p->mu);
            p->group_busy[g] = false;
            p->group_seq[g]++;
            if (++b->groups_done == p->ngroups) {
                b->state = B_DONE;
            }
            if (rc != 0) {
                fc_fail(p, rc, &e);
            }
        } else if ((b = fc_find(p, B_READ, true, 0)) != NULL) {
            b->state = B_BUSY;
            pthread_mutex_unlock(&p->mu);
            if (p->clones != NULL) {
                batch_claim(&b->batch); /* last committed on another core, perhaps */
            } else {
                batch_reset(&b->batch);
            }
            /* A reader that splits its work parses here, in parallel (input_complete). */
            rc = input_complete(p->in, &b->rows, &e);
            if (rc == 0) {
                rc = validator_run_local(mine, &b->rows, b->first, &b->batch, b->vb, &e);
            }
            pthread_mutex_lock(&p->mu);
            b->state = p->ngroups > 0 ? B_VALID : B_DONE;
            b->groups_done = 0;
            if (rc != 0) {
                fc_fail(p, rc, &e);
            }
        } else if (p->eof && p->commit_seq == p->next_seq) {
            break; /* every block read has been committed */
        } else {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        pthread_cond_broadcast(&p->cv);
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *fc_thread_main(void *arg)
{
    struct fc_thread *t = arg;
    fc_work(t->p, t->index);
    return NULL;
}

/* Records per block: FC_BLOCK_ROWS, fewer for records so long that the block would hold much
 * more than FC_BLOCK_BYTES of text (judged on the first block), and fewer for files so wide that
 * a block would hold more than BATCH_MAX_CELLS cells (batch.h): every block's batch and fields
 * then stay a few MiB, whatever the column count. The same at every thread count, so that the
 * Parquet file (whose row groups end at batch boundaries) is the same too. */
static size_t fc_block_rows(const struct record_block *rows, size_t ncols)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < rows->nrows; i++) {
        bytes += rows->raw_len[i] + 1;
    }
    uint64_t avg = rows->nrows ? bytes / rows->nrows : 1;
    uint64_t n = FC_BLOCK_BYTES / (avg ? avg : 1);
    n = n < 256 ? 256 : n;
    return batch_rows_for(ncols, n < FC_BLOCK_ROWS ? (size_t)n : FC_BLOCK_ROWS);
}

/* Every thread costs two blocks and a validator clone, each with state per column (about
 * FC_COLUMN_BYTES per column and thread in all): a very wide file gets fewer threads, so that this
 * stays under FC_WIDE_BYTES (100,000 columns: one thread; 16,000: eight). */
#define FC_COLUMN_BYTES 512
#define FC_WIDE_BYTES ((size_t)64 << 20)

static size_t fc_threads(int asked, size_t ncols)
{
    size_t n = asked > 1 ? (size_t)asked : 1;
    size_t most = FC_WIDE_BYTES / FC_COLUMN_BYTES / (ncols ? ncols : 1);
    most = most ? most : 1;
    return n < most ? n : most;
}

/* Runs the pool over the file, from the block already in p->blocks[0]. */
static int fc_pool_run(struct fc_pool *p, size_t nthreads, struct err *e)
{
    pthread_t *tids = NULL;
    struct fc_thread *ts = NULL;
    size_t started = 0;
    int rc = 0;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        return err_set(e, AE_NOMEM, "cannot create a mutex");
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return err_set(e, AE_NOMEM, "cannot create a condition variable");
    }
    if (nthreads > 1) {
        tids = calloc(nthreads, sizeof(*tids));
        ts = calloc(nthreads, sizeof(*ts));
        if (tids == NULL || ts == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto out;
        }
        for (size_t t = 1; t < nthreads; t++) {
            ts[t].p = p;
            ts[t].index = t;
            int prc = pthread_create(&tids[t], NULL, fc_thread_main, &ts[t]);
            if (prc != 0) {
                /* Fewer threads still finish the file. */
                break;
            }
            started++;
        }
    }
    fc_work(p, 0);
    for (size_t t = 1; t <= started; t++) {
        pthread_join(tids[t], NULL);
    }
    if (p->rc != 0) {
        rc = p->rc;
        if (e != NULL) {
            *e = p->err;
        }
    }
out:
    free(tids);
    free(ts);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    return rc;
}

/* The number of bad rows the spec tolerates in a file of rows_read rows. */
static uint64_t allowed_bad_rows(const struct ingest_spec *spec, uint64_t rows_read)
{
    uint64_t allowed = UINT64_MAX;
    bool set = false;
    if (spec->max_bad_rows >= 0) {
        allowed = (uint64_t)spec->max_bad_rows;
        set = true;
    }
    if (spec->max_bad_row_fraction >= 0) {
        uint64_t f = (uint64_t)floor(spec->max_bad_row_fraction * (double)rows_read);
        allowed = f < allowed ? f : allowed;
        set = true;
    }
    /* drop_invalid_rows: true in the schema drops the invalid rows (reported) and passes the
     * file, as Pandera does, unless astro.yaml states a threshold of its own. */
    if (!set && spec->schema.drop_invalid_rows) {
        return UINT64_MAX;
    }
    return set ? allowed : 0;
}

/* One file between ingest_file_open and ingest_file_free. */
struct ingest_file {
    struct ingest_file_opts o;
    char *path;
    int fd;
    struct stat st0;
    struct input in;
    struct record_block rows; /* the first block, with the header; handed to the pool */
    size_t first;             /* the first data record in rows */
    struct validator *v;
    struct column_desc *cols; /* the output columns (names borrowed from v) */
    struct dtype_info *types;
    size_t ncols;
    bool header_failed;
    bool empty;               /* a header was expected and the file has no record at all */
    bool bad_input;           /* the reader refused the data (AE_FORMAT): the file fails */
    struct err bad_input_err; /* why, with the line */
    bool ran;
    bool keys_guard; /* the pre-pass was planned in memory on an estimate: prepass checks it */
};

static const struct input_ops *reader_of(const struct ingest_file *f)
{
    return f->o.reader != NULL ? f->o.reader : input_ops_for(f->o.spec->format);
}

/* Opens the file (a regular file, never waited on: fs_open_regular) and, with confine_dir, checks
 * where the descriptor really points: /proc/self/fd names the file opened, whatever links led to
 * it, so the check and the read cannot disagree. */
static int open_source(const struct ingest_file *f, int *fd, struct err *e)
{
    int rc = fs_open_regular(f->path, fd, e);
    if (rc != 0 || f->o.confine_dir == NULL) {
        return rc;
    }
    char proc[64];
    char real[PATH_MAX];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *fd);
    ssize_t n = readlink(proc, real, sizeof(real) - 1);
    if (n < 0) {
        rc = err_errno(e, errno, "cannot tell where %s leads (%s)", f->path, proc);
    } else {
        real[n] = '\0';
        if (!source_path_inside(f->o.confine_dir, real)) {
            rc = err_set(e, AE_DATA, "%s leads outside the source folder (to %s)", f->path, real);
        }
    }
    if (rc != 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Tells the reader of in (a reader with names, nnames of them) which fields v reads. */
static int select_fields(const struct validator *v, struct input *in, size_t nnames, struct err *e)
{
    bool *used = malloc((nnames ? nnames : 1) * sizeof(*used));
    if (used == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    validator_used_fields(v, used, nnames);
    int rc = input_select(in, used, nnames, e);
    free(used);
    return rc;
}

/* The key sets' memory limit of the file. */
static uint64_t key_limit(const struct ingest_file *f)
{
    return f->o.memory_limit ? f->o.memory_limit : INGEST_DEFAULT_MEMORY_LIMIT;
}

/* Where a spilled key check writes: --spill-dir, $TMPDIR, /tmp. */
static const char *spill_dir_of(const struct ingest_file *f)
{
    const char *dir = f->o.spill_dir;
    if (dir == NULL) {
        dir = getenv("TMPDIR");
    }
    if (dir == NULL || dir[0] == '\0') {
        dir = "/tmp";
    }
    return dir;
}

static int count_rows(const struct ingest_file *f, uint64_t *rows, struct err *e);

/* report_duplicates: all / exclude_last, and a key check spilled to disk (plan_keys), need every
 * key before the first verdict on a row: a first pass over the file (a second reader, the same
 * records) feeds the validator's pre-pass. Only a spec that needs it pays for reading the file
 * twice. A record the reader refuses ends the
 * pre-pass early: the main pass meets it again and reports it. With keys_guard, *over is set
 * (and the pass stops) once the key sets outgrow the memory limit. */
static int prepass_once(struct ingest_file *f, bool *over, struct err *e)
{
    const struct ingest_spec *spec = f->o.spec;
    struct input in;
    struct record_block rows;
    memset(&in, 0, sizeof(in));
    memset(&rows, 0, sizeof(rows));
    rows.binary = true; /* the validator reads its fields (records.h) */
    int fd = -1;
    int rc = open_source(f, &fd, e);
    if (rc != 0) {
        return rc;
    }
    rc = input_open_with(&in, reader_of(f), fd, f->path, spec, e);
    if (rc == 0) {
        input_skip_hash(&in); /* the main pass hashes the file: 0.1 s a 200 MB file */
    }
    const char *const *names;
    size_t nnames;
    bool named = rc == 0 && input_field_names(&in, &names, &nnames);
    size_t first = spec->has_header && !named ? 1 : 0;
    if (named) {
        rc = select_fields(f->v, &in, nnames, e);
    }
    while (rc == 0) {
        if (f->o.interrupted != NULL) {
            rc = f->o.interrupted(f->o.interrupt_ctx, e);
            if (rc != 0) {
                break;
            }
        }
        rc = input_next(&in, &rows, VALIDATE_BATCH_ROWS, e);
        if (rc == AE_FORMAT) {
            err_clear(e);
            rc = 0;
            break;
        }
        if (rc != 0 || rows.nrows == 0) {
            break;
        }
        rc = validator_prepass(f->v, &rows, first, e);
        first = 0;
        if (rc == 0 && f->keys_guard && validator_key_mem(f->v) > key_limit(f)) {
            *over = true;
            break;
        }
    }
    if (rc == 0 && !*over) {
        rc = validator_prepass_done(f->v, e);
    }
    record_block_release(&rows);
    input_close(&in);
    close(fd);
    return rc;
}

/* The pre-pass; one planned in memory on an estimate (plan_keys) that outgrows the limit starts
 * again, spilled to disk, with the rows bounded by the file's line breaks. */
static int prepass(struct ingest_file *f, struct err *e)
{
    bool over = false;
    int rc = prepass_once(f, &over, e);
    if (rc != 0 || !over) {
        return rc;
    }
    uint64_t rows = 0;
    f->keys_guard = false;
    validator_keys_reset(f->v);
    rc = count_rows(f, &rows, e);
    if (rc == 0) {
        rc = validator_plan_keys(f->v, rows, spill_dir_of(f), key_limit(f), e);
    }
    over = false;
    return rc != 0 ? rc : prepass_once(f, &over, e);
}

/* An upper bound on the file's data rows: its line breaks, plus one for a last line without. */
static int count_rows(const struct ingest_file *f, uint64_t *rows, struct err *e)
{
    enum { CHUNK = 1 << 20 };
    char *buf = malloc(CHUNK);
    if (buf == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    uint64_t n = 1;
    off_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = pread(f->fd, buf, CHUNK, off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = err_errno(e, errno, "cannot read %s", f->path);
            break;
        }
        if (r == 0) {
            break;
        }
        const char *q = buf, *end = buf + r;
        while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
            n++;
            q++;
        }
        off += r;
    }
    free(buf);
    *rows = n;
    return rc;
}

/* Plans the key sets within the memory limit (engine.h, "Keys"): in memory, sized once, when a
 * bound on the rows shows they fit; on disk otherwise. The cheap bounds come first: the average
 * record of the first block (an estimate), the size over the shortest possible record (a bound);
 * when those two disagree, a check whose every key set is held by the pre-pass alone is planned
 * in memory on the estimate and the pre-pass watches its real memory (prepass: it spills when the
 * keys outgrow the limit), and any other has its line breaks counted first. A reader that knows
 * its rows (Parquet) gives them exactly. */
static int plan_keys(struct ingest_file *f, struct err *e)
{
    uint64_t limit = key_limit(f);
    uint64_t size = (uint64_t)f->st0.st_size;
    if (validator_key_bytes(f->v, 0) == 0 || validator_stopped(f->v)) {
        return 0;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < f->rows.nrows; i++) {
        bytes += f->rows.raw_len[i] + 1;
    }
    uint64_t avg = f->rows.nrows ? bytes / f->rows.nrows : 1;
    uint64_t est = size / (avg ? avg : 1) + 1;
    /* A record takes at least a byte per field (its delimiters and line break). */
    uint64_t shortest = f->o.spec->has_header && f->rows.nrows > 0
                            ? (uint64_t)(f->rows.row_first[1] - f->rows.row_first[0])
                            : validator_out_ncols(f->v);
    uint64_t hard = size / (shortest ? shortest : 1) + 1;
    uint64_t rows = 0;
    bool spill = false;
    /* No pre-pass (ingest_file_opts): the sets are capped at the limit instead, and a file whose
     * keys outgrow it runs again with the pre-pass, which spills them. */
    bool optimistic =
        f->o.keys_optimistic && !f->o.fail_fast && validator_prepass_decides_all(f->v);
    if (optimistic) {
        /* The sizes below are then those of the bet's tagless sets (validator_key_bytes). */
        validator_keys_optimistic(f->v, limit);
    }
    uint64_t known = input_row_count(&f->in);
    if (known != UINT64_MAX) {
        /* The reader knows the rows (a Parquet footer): no estimate from the bytes, which say
         * nothing about the rows of a compressed columnar file. */
        rows = known;
        spill = validator_key_bytes(f->v, rows) / 10 * 11 > limit;
    } else if (validator_key_bytes(f->v, est) > limit) {
        spill = true;
        rows = est + est / 4;
    } else if (validator_key_bytes(f->v, hard) / 2 * 3 <= limit) {
        rows = est; /* the sets may grow past it, by 1.5x at most, and still fit */
    } else if (validator_prepass_decides_all(f->v)) {
        rows = est; /* no line count: the pre-pass, or the sets' cap, checks the real memory */
        f->keys_guard = !optimistic;
    } else {
        int rc = count_rows(f, &rows, e);
        if (rc != 0) {
            return rc;
        }
        spill = validator_key_bytes(f->v, rows) / 10 * 11 > limit;
    }
    if (optimistic && spill) {
        validator_keys_reset(f->v); /* spilled: the pre-pass's tagged sets, no bet */
    }
    return validator_plan_keys(f->v, rows, spill ? spill_dir_of(f) : NULL, limit, e);
}

/* Records a file-level failure case (no row) through the failure sink. */
static int file_failure(const struct ingest_file *f, uint64_t line, const char *check,
                        const char *message, struct err *e)
{
    struct failure fl = {.line = line, .check = check, .message = message};
    int rc = f->o.fs.emit(f->o.fs.ctx, &fl, e);
    return rc == 0 ? 0 : err_prefix(e, "cannot record a failure case of %s", f->path);
}

/* The output columns, from the validator. */
static int build_columns(struct ingest_file *f, struct err *e)
{
    size_t n = validator_out_ncols(f->v);
    f->cols = calloc(n ? n : 1, sizeof(*f->cols));
    f->types = calloc(n ? n : 1, sizeof(*f->types));
    if (f->cols == NULL || f->types == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t c = 0; c < n; c++) {
        f->types[c] = validator_out_type(f->v, c);
        f->cols[c].name = validator_out_name(f->v, c);
        f->cols[c].type = f->types[c];
        f->cols[c].nullable = validator_out_nullable(f->v, c);
    }
    f->ncols = n;
    return 0;
}

int ingest_file_open(struct ingest_file **out, const struct ingest_file_opts *o, struct err *e)
{
    const struct ingest_spec *spec = o->spec;
    *out = NULL;
    struct ingest_file *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    f->o = *o;
    f->fd = -1;
    f->path = strdup(o->path);
    if (f->path == NULL) {
        ingest_file_free(f);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    f->o.path = f->path;
    int rc = 0;
    rc = open_source(f, &f->fd, e);
    if (rc != 0) {
        goto fail;
    }
    if (fstat(f->fd, &f->st0) != 0) {
        rc = err_errno(e, errno, "cannot stat %s", f->path);
        goto fail;
    }
    rc = input_open_with(&f->in, reader_of(f), f->fd, f->path, spec, e);
    for (size_t k = 0; rc == 0 && k < o->nchecksums; k++) {
        if (o->checksums[k].algo == CHECKSUM_MD5 && o->checksums[k].problem[0] == '\0') {
            rc = source_add_md5(f->in.src, e);
        }
    }
    const char *const *hdr = NULL;
    size_t nhdr = 0;
    bool named = rc == 0 && input_field_names(&f->in, &hdr, &nhdr);
    if (named) {
        /* A reader without a header row (input.h): its names are the header, on no line. The
         * validator comes first, so that the reader reads only the fields it uses. */
        rc = validator_new_named(&f->v, spec, hdr, input_field_name_flags(&f->in), nhdr, &o->fs, e);
        rc = rc ? rc : select_fields(f->v, &f->in, nhdr, e);
    }
    if (rc == 0) {
        /* A small first block: it sizes the others (fc_block_rows), and its arrays should not
         * hold 8192 records of a wide file for the rest of the run. */
        /* Read, not completed: the pool completes it with the other blocks (input_read). A
         * reader with a header record has no complete op, so the header's fields are here. */
        f->rows.binary = true; /* the validator reads its fields (records.h) */
        rc = input_read(&f->in, &f->rows, FC_FIRST_ROWS, e);
        if (rc == AE_FORMAT) {
            /* A record the reader refuses within the first rows: bad data (see fc_work). */
            f->bad_input = true;
            f->bad_input_err = *e;
            err_clear(e);
            rc = 0;
        }
    }
    if (rc != 0) {
        goto fail;
    }
    if (named) {
        /* The validator is built. */
    } else if (spec->has_header) {
        if (f->rows.nrows == 0) {
            /* Nothing to validate: the verdict is decided by ingest_file_run. */
            f->header_failed = true;
            f->empty = !f->bad_input;
            *out = f;
            return 0;
        }
        /* The header record itself, with its fields' flags: names are checked like values. */
        rc = validator_new_from_record(&f->v, spec, &f->rows, 0, &o->fs, e);
        f->first = 1;
    } else {
        rc = validator_new(&f->v, spec, (const char *const *)spec->column_names,
                           spec->ncolumn_names, 0, &o->fs, e);
    }
    if (rc != 0) {
        goto fail;
    }
    f->header_failed = validator_header_failed(f->v);
    validator_set_fail_fast(f->v, o->fail_fast);
    rc = plan_keys(f, e);
    if (rc != 0) {
        goto fail;
    }
    if (validator_wants_prepass(f->v) && !validator_stopped(f->v)) {
        rc = prepass(f, e);
        if (rc != 0) {
            goto fail;
        }
    }
    rc = build_columns(f, e);
    if (rc != 0) {
        goto fail;
    }
    *out = f;
    return 0;
fail:
    ingest_file_free(f);
    return rc;
}

uint64_t ingest_file_size(const struct ingest_file *f)
{
    return (uint64_t)f->st0.st_size;
}

size_t ingest_file_columns(const struct ingest_file *f, const struct column_desc **cols)
{
    *cols = f->cols;
    return f->ncols;
}

bool ingest_file_can_pass(const struct ingest_file *f)
{
    return f->v != NULL && !f->header_failed && !f->bad_input;
}

/* Streams every block of the file through the pool; fills the counts of res. */
static int stream(struct ingest_file *f, struct sink *s, struct ingest_file_result *res,
                  uint64_t *frame_failures, uint64_t *broken, struct err *e)
{
    const struct ingest_spec *spec = f->o.spec;
    struct fc_pool pool;
    memset(&pool, 0, sizeof(pool));
    size_t nthreads = fc_threads(f->o.threads, f->ncols);
    int rc = 0;
    res->stopped = validator_stopped(f->v); /* fail_fast and a header failure */
    pool.o = &f->o;
    pool.in = &f->in;
    pool.v = f->v;
    pool.s = ingest_file_can_pass(f) ? s : NULL;
    pool.res = res;
    /* A tolerance of 0 (the default) lets the first failure decide the file (see fc_commit). */
    pool.tolerant = spec->max_bad_rows > 0 || spec->max_bad_row_fraction > 0 ||
                    (spec->schema.drop_invalid_rows && spec->max_bad_rows < 0 &&
                     spec->max_bad_row_fraction < 0) ||
                    spec->schema.drop_columns;
    pool.block_rows = fc_block_rows(&f->rows, f->ncols);
    pool.nblocks = nthreads > 1 ? 2 * nthreads + 2 : 1;
    /* The first block was read before the others were sized: its batch must hold it too. */
    size_t cap = f->rows.nrows > pool.block_rows ? f->rows.nrows : pool.block_rows;
    pool.blocks = calloc(pool.nblocks, sizeof(*pool.blocks));
    if (pool.blocks == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < pool.nblocks; i++) {
        pool.blocks[i].rows.binary = true; /* the validator reads its fields (records.h) */
        if (batch_init(&pool.blocks[i].batch, f->types, f->ncols, cap) != 0 ||
            vblock_new(&pool.blocks[i].vb) != 0) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto out;
        }
    }
    if (nthreads > 1) {
        pool.clones = calloc(nthreads, sizeof(*pool.clones));
        if (pool.clones == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto out;
        }
        for (size_t t = 0; t < nthreads; t++) {
            rc = validator_clone(&pool.clones[t], f->v, e);
            if (rc != 0) {
                goto out;
            }
        }
    }
    if (nthreads > 1) {
        /* The key probes leave the sequential commit: one group of hash partitions per thread
         * (validate.h: validator_unique_groups). */
        rc = validator_unique_groups(f->v, nthreads, e);
        if (rc < 0) {
            goto out;
        }
        pool.ngroups = (size_t)rc;
        rc = 0;
        pool.group_seq = calloc(pool.ngroups ? pool.ngroups : 1, sizeof(*pool.group_seq));
        pool.group_busy = calloc(pool.ngroups ? pool.ngroups : 1, sizeof(*pool.group_busy));
        if (pool.group_seq == NULL || pool.group_busy == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < pool.nblocks && pool.ngroups > 0; i++) {
            if (vblock_set_groups(pool.blocks[i].vb, pool.ngroups) != 0) {
                rc = err_set(e, AE_NOMEM, "out of memory");
                goto out;
            }
        }
    }
    /* The block read with the header is the first one. */
    pool.blocks[0].rows = f->rows;
    memset(&f->rows, 0, sizeof(f->rows));
    pool.blocks[0].first = f->first;
    pool.blocks[0].seq = 0;
    pool.blocks[0].bytes = input_bytes(&f->in);
    pool.blocks[0].state = B_READ;
    pool.next_seq = 1;
    pool.eof = f->bad_input;
    if (!res->stopped) {
        rc = fc_pool_run(&pool, nthreads, e);
        if (rc != 0) {
            goto out;
        }
        for (size_t t = 0; pool.clones != NULL && t < nthreads; t++) {
            rc = validator_absorb(f->v, pool.clones[t], e);
            if (rc != 0) {
                goto out;
            }
        }
    }
    if (pool.bad_input) {
        f->bad_input = true;
        f->bad_input_err = pool.bad_input_err;
    }
    struct validate_counts counts;
    validator_counts(f->v, &counts);
    uint64_t before_finish = counts.failure_cases;
    if (!res->stopped) {
        rc = validator_finish(f->v, e);
        if (rc != 0) {
            goto out;
        }
    }
    validator_counts(f->v, &counts);
    *frame_failures = counts.failure_cases - before_finish;
    *broken = counts.broken_records;
    res->rows_read = counts.rows_read;
    res->rows_valid = counts.rows_valid;
    res->rows_invalid = counts.rows_invalid;
    res->rows_droppable = counts.rows_droppable;
    res->failures = counts.failure_cases;
    res->warnings = counts.warnings;
out:
    for (size_t i = 0; pool.blocks != NULL && i < pool.nblocks; i++) {
        record_block_release(&pool.blocks[i].rows);
        batch_release(&pool.blocks[i].batch);
        vblock_free(pool.blocks[i].vb);
    }
    free(pool.blocks);
    free(pool.group_seq);
    free(pool.group_busy);
    for (size_t t = 0; pool.clones != NULL && t < nthreads; t++) {
        validator_free(pool.clones[t]);
    }
    free(pool.clones);
    return rc;
}

/* The reason of a failed file, when no earlier step gave one. */
static void failure_reason(const struct ingest_file *f, struct ingest_file_result *res,
                           uint64_t frame_failures, uint64_t broken)
{
    if (f->header_failed) {
        snprintf(res->reason, sizeof(res->reason), "the header does not match the schema");
    } else if (broken > 0) {
        snprintf(res->reason, sizeof(res->reason),
                 "%llu record(s) with broken quoting (an unbalanced quote swallowed line breaks, "
                 "so rows may be lost): the file fails whatever its bad-row threshold",
                 (unsigned long long)broken);
    } else if (frame_failures > 0) {
        snprintf(res->reason, sizeof(res->reason),
                 "%llu frame-level failure case(s) (checks on the whole column)",
                 (unsigned long long)frame_failures);
    } else {
        snprintf(res->reason, sizeof(res->reason), "%llu failure case(s) in %llu of %llu rows%s",
                 (unsigned long long)res->failures, (unsigned long long)res->rows_invalid,
                 (unsigned long long)res->rows_read,
                 res->allowed_bad_rows > 0 ? " (over the bad-row threshold)" : "");
    }
}

/* The checksum side files against the digests of the bytes read (engine.h). Sets *bad when
 * one does not match. */
static int verify_checksums(const struct ingest_file *f, struct ingest_file_result *res, bool *bad,
                            struct err *e)
{
    for (size_t k = 0; k < f->o.nchecksums; k++) {
        const struct checksum *c = &f->o.checksums[k];
        char msg[1024];
        char got[65] = "";
        if (c->problem[0] != '\0') {
            snprintf(msg, sizeof(msg), "%s", c->problem);
        } else {
            unsigned char md[32];
            if (c->algo == CHECKSUM_MD5) {
                (void)source_md5(f->in.src, md);
                fs_hex(md, 16, got);
            } else {
                memcpy(got, res->sha256, sizeof(got));
            }
            if (strcmp(got, c->hex) == 0) {
                continue;
            }
            snprintf(msg, sizeof(msg),
                     "the file does not match its checksum file %s: its %s is %s, the checksum "
                     "file says %s (the file is incomplete or corrupt, or the checksum is stale)",
                     c->file, checksum_algo_name(c->algo), got, c->hex);
        }
        *bad = true;
        res->failures++;
        if (res->reason[0] == '\0') {
            snprintf(res->reason, sizeof(res->reason), "%.500s", msg);
        }
        int rc = file_failure(f, 0, "checksum", msg, e);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* The row-count expectations (engine.h, ingest_file_opts.prev_rows): a file cut at a record
 * boundary parses cleanly, so only its row count can tell. Sets *too_few when the file fails. */
static int row_counts(const struct ingest_file *f, struct ingest_file_result *res, bool *too_few,
                      struct err *e)
{
    const struct ingest_spec *spec = f->o.spec;
    char msg[1024];
    uint64_t n = res->rows_read;
    if (spec->min_rows > 0 && n < (uint64_t)spec->min_rows) {
        snprintf(msg, sizeof(msg),
                 "%llu data row(s), fewer than min_rows: %lld: the file may be cut short",
                 (unsigned long long)n, (long long)spec->min_rows);
        *too_few = true;
        res->failures++;
        if (res->reason[0] == '\0') {
            snprintf(res->reason, sizeof(res->reason), "%.500s", msg);
        }
        return file_failure(f, 0, "min_rows", msg, e);
    }
    /* Under half: a delivery that shrinks that much is more often cut short than real. */
    uint64_t prev = f->o.prev_rows;
    if (spec->row_count_drop == ROW_DROP_OFF || prev == 0 || n >= prev - prev / 2) {
        return 0;
    }
    bool fail = spec->row_count_drop == ROW_DROP_FAIL;
    char run[48] = "";
    if (f->o.prev_run != NULL) {
        snprintf(run, sizeof(run), " (run %.20s)", f->o.prev_run);
    }
    snprintf(msg, sizeof(msg),
             "%llu data row(s), fewer than half of the %llu of the last delivery of '%s' that "
             "passed%s: the file may be cut short%s",
             (unsigned long long)n, (unsigned long long)prev, spec->name, run,
             fail ? " (row_count_drop: fail; set warn or off to accept it)"
                  : " (a warning: row_count_drop: fail makes it a failure)");
    struct failure fl = {.check = "row_count_drop", .message = msg, .warning = !fail};
    int rc = f->o.fs.emit(f->o.fs.ctx, &fl, e);
    if (rc != 0) {
        return err_prefix(e, "cannot record a failure case of %s", f->path);
    }
    if (fail) {
        *too_few = true;
        res->failures++;
        if (res->reason[0] == '\0') {
            snprintf(res->reason, sizeof(res->reason), "%.500s", msg);
        }
    } else {
        res->warnings++;
        snprintf(res->notice, sizeof(res->notice), "%.500s", msg);
    }
    return 0;
}

int ingest_file_run(struct ingest_file *f, struct sink *s, struct ingest_file_result *res,
                    struct err *e)
{
    int rc = 0;
    uint64_t frame_failures = 0;
    uint64_t broken = 0;
    memset(res, 0, sizeof(*res));
    if (f->ran) {
        return err_set(e, AE_INTERNAL, "ingest_file_run: %s was already run", f->path);
    }
    f->ran = true;
    res->size = (uint64_t)f->st0.st_size;
    res->keys_spilled = f->v != NULL && validator_spilled(f->v);
    if (f->empty) {
        snprintf(res->reason, sizeof(res->reason),
                 "%s is empty: expected a header row naming the columns", f->path);
        res->failures++;
        rc = file_failure(f, 1, "header", res->reason, e);
    } else if (f->v != NULL) {
        rc = stream(f, s, res, &frame_failures, &broken, e);
        if (rc == 0 && validator_keys_retry(f->v)) {
            res->keys_retry = true; /* no verdict: the caller runs the file again */
            return 0;
        }
    }
    if (rc != 0) {
        return rc;
    }
    if (f->o.progress != NULL) {
        struct ingest_progress pr = {.name = f->o.spec->name,
                                     .size = res->size,
                                     .bytes = input_bytes(&f->in),
                                     .rows = res->rows_read,
                                     .failures = res->failures,
                                     .done = true};
        f->o.progress(f->o.progress_ctx, &pr);
    }
    unsigned char md[32];
    input_sha256(&f->in, md);
    fs_hex(md, 32, res->sha256);
    /* The source must not change under us: a file still being written is not ingested. */
    struct stat st1;
    if (fstat(f->fd, &st1) != 0) {
        return err_errno(e, errno, "cannot stat %s", f->path);
    }
    const struct stat *st0 = &f->st0;
    bool changed = st1.st_size != st0->st_size || st1.st_mtim.tv_sec != st0->st_mtim.tv_sec ||
                   st1.st_mtim.tv_nsec != st0->st_mtim.tv_nsec ||
                   (!res->stopped && !f->header_failed && !f->bad_input &&
                    input_bytes(&f->in) != (uint64_t)st0->st_size);
    if (f->bad_input) {
        /* The reader refused the data (a record over its size limit, broken JSON structure,
         * corrupt or truncated compressed data): a data failure of the file, reported like any
         * other, never an environment error a scheduler would retry. */
        res->failures++;
        snprintf(res->reason, sizeof(res->reason), "%.500s", f->bad_input_err.msg);
        rc = file_failure(f, input_position(&f->in), input_refusal_check(&f->in), res->reason, e);
        if (rc != 0) {
            return rc;
        }
    }
    res->changed = changed;
    if (changed) {
        res->failures++;
        snprintf(res->reason, sizeof(res->reason),
                 "%s changed while it was being read (size %lld -> %lld bytes): it is probably "
                 "still being written; ingest it again once it is complete",
                 f->path, (long long)st0->st_size, (long long)st1.st_size);
        rc = file_failure(f, 0, "file_unchanged", res->reason, e);
        if (rc != 0) {
            return rc;
        }
    }
    bool too_few = false;
    bool bad_sum = false;
    if (!f->header_failed && !f->bad_input && !changed && !res->stopped) {
        rc = verify_checksums(f, res, &bad_sum, e);
        if (rc == 0) {
            rc = row_counts(f, res, &too_few, e);
        }
        if (rc != 0) {
            return rc;
        }
    }
    res->allowed_bad_rows = allowed_bad_rows(f->o.spec, res->rows_read);
    /* Every failure belongs to the header, the file, the frame or a row; only rows can be left
     * out, and only within the tolerance. A fail-fast stop leaves the verdict at "failed". */
    res->ok = !f->header_failed && !changed && !f->bad_input && !too_few && !bad_sum &&
              frame_failures == 0 && broken == 0 && !res->stopped &&
              res->rows_invalid - res->rows_droppable <= res->allowed_bad_rows;
    if (!res->ok && res->reason[0] == '\0') {
        failure_reason(f, res, frame_failures, broken);
    }
    return 0;
}

void ingest_file_free(struct ingest_file *f)
{
    if (f == NULL) {
        return;
    }
    validator_free(f->v);
    input_close(&f->in);
    record_block_release(&f->rows);
    free(f->cols);
    free(f->types);
    if (f->fd >= 0) {
        close(f->fd);
    }
    free(f->path);
    free(f);
}
