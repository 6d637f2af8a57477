/*
 * watch.c - the drop-zone driver (watch.h): scan incoming/, decide readiness, then for each ready
 * file, oldest first: claim, validate and load in one pass, commit, move.
 *
 * The loop: scan (readdir + lstat, never following links), process what is ready, then sleep in
 * poll() on an inotify descriptor watching incoming/ until something happens there, the next
 * pending file may have become ready, or poll_seconds pass (network file systems send no inotify
 * events). A file's state between scans lives in a small table keyed by name: what the last scan
 * saw (size, mtime), and for a file that failed for environment reasons when to try again.
 * Failure reports are written next to their destination under a hidden temporary name, then
 * renamed beside the file once it has moved.
 */
#include "watch/watch.h"

#include "ingest/engine.h"
#include "load/load.h"
#include "sink/sink.h"
#include "util/buf.h"
#include "util/dl.h"
#include "util/fs.h"
#include "validate/validate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

/* Backoff after environment errors: 2, 4, 8 ... seconds, at most this. */
#define WATCH_MAX_BACKOFF 300.0
/* Attempts after which a file that keeps failing is reported at every try as stuck. */
#define WATCH_STUCK_ATTEMPTS 5
/* Names tried for a destination already taken: NAME, NAME.1 ... NAME.999. */
#define WATCH_MAX_SUFFIX 1000

/* libsystemd is loaded under systemd only (NOTIFY_SOCKET set: Type=notify), with dlopen. Linked,
 * it and the libraries it brings (libgcrypt, liblz4, libcap) cost every run of astro, most of
 * which are no service, about 0.75 MiB of resident memory; outside systemd its notifications
 * would go nowhere. Its functions are typed by sd-daemon.h. */
#define LSD_SONAME "libsystemd.so.0"
static struct {
    __typeof__(sd_notify) *notify;
    __typeof__(sd_watchdog_enabled) *watchdog_enabled;
} lsd;
static const struct dl_sym lsd_syms[] = {
    {"sd_notify", &lsd.notify},
    {"sd_watchdog_enabled", &lsd.watchdog_enabled},
};
static struct dl_lib lsd_lib = DL_LIB(LSD_SONAME, lsd_syms);

/* Loads libsystemd when the service runs under systemd. Without it the service still runs, and
 * says that systemd will not hear from it. */
static void lsd_load(struct log *lg)
{
    if (getenv("NOTIFY_SOCKET") == NULL) {
        return;
    }
    const char *why = dl_ready(&lsd_lib);
    if (why != NULL) {
        log_msg(lg, LOG_WARN, NULL,
                "NOTIFY_SOCKET is set but %s cannot be loaded (%s): systemd is not told that "
                "the service is ready, nor fed its watchdog",
                LSD_SONAME, why);
    }
}

/* sd_notify(0, state) under systemd; nothing otherwise. */
static void lsd_notify(const char *state)
{
    if (lsd.notify != NULL) {
        lsd.notify(0, state);
    }
}

/* What the scans know of one file in incoming/. */
struct pending {
    char *name;
    off_t size;
    struct timespec mtime;
    bool seen;         /* by this scan */
    bool warned;       /* a symlink or folder was reported once */
    unsigned attempts; /* environment failures in a row */
    double next_try;   /* monotonic time before which it is not retried */
};

struct watch {
    const struct watch_opts *o;
    const struct config *cfg;
    const struct watch_spec *ws;
    struct log *log;
    char *incoming;
    char *processed;
    char *quarantine;
    struct pending *files;
    size_t nfiles;
    size_t capfiles;
    struct watch_summary *sum;
    char *state;      /* ROOT/.astro-watch.d/HOST.PID: the file being taken in (--status) */
    double watchdog;  /* systemd watchdog interval in seconds, 0 = none */
    double last_ping; /* monotonic time of the last watchdog ping */
};

/* True once the driver asked the service to stop. */
static bool stop_requested(const struct watch_opts *o)
{
    struct err e;
    return o->interrupted != NULL && o->interrupted(o->interrupt_ctx, &e) != 0;
}

/* A file ready to be taken in, as the scan saw it. */
struct ready {
    char *name;
    struct timespec mtime;
};

static double now_mono(void)
{
    return fs_monotonic();
}

static bool hidden_or_partial(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n >= 4 && strcmp(name + n - 4, ".tmp") == 0) ||
           (n >= 5 && strcmp(name + n - 5, ".part") == 0);
}

static bool is_marker(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".done") == 0;
}

static struct pending *pending_find(struct watch *w, const char *name)
{
    for (size_t i = 0; i < w->nfiles; i++) {
        if (strcmp(w->files[i].name, name) == 0) {
            return &w->files[i];
        }
    }
    return NULL;
}

static struct pending *pending_add(struct watch *w, const char *name)
{
    if (w->nfiles == w->capfiles) {
        size_t cap = w->capfiles ? 2 * w->capfiles : 16;
        struct pending *nf = realloc(w->files, cap * sizeof(*nf));
        if (nf == NULL) {
            return NULL;
        }
        w->files = nf;
        w->capfiles = cap;
    }
    struct pending *p = &w->files[w->nfiles];
    memset(p, 0, sizeof(*p));
    p->name = strdup(name);
    if (p->name == NULL) {
        return NULL;
    }
    w->nfiles++;
    return p;
}

/* Forgets the files the last scan did not see (moved, deleted). */
static void pending_prune(struct watch *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->nfiles; i++) {
        if (w->files[i].seen) {
            w->files[k++] = w->files[i];
        } else {
            free(w->files[i].name);
        }
    }
    w->nfiles = k;
}

/* Renames dir_from/name into dir_to without ever replacing a file there: NAME, then NAME.1 ...
 * *final (owned by the caller) receives the name used. */
static int move_noreplace(const char *dir_from, const char *name, const char *dir_to, char **final,
                          struct err *e)
{
    *final = NULL;
    char *from = fs_join(dir_from, name);
    if (from == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = 0;
    for (int i = 0; i < WATCH_MAX_SUFFIX; i++) {
        char cand[PATH_MAX];
        if (i == 0) {
            snprintf(cand, sizeof(cand), "%s", name);
        } else {
            snprintf(cand, sizeof(cand), "%s.%d", name, i);
        }
        char *to = fs_join(dir_to, cand);
        if (to == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        int r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
        int errnum = errno;
        free(to);
        if (r == 0) {
            *final = strdup(cand);
            rc = *final != NULL ? fs_fsync_dir(dir_to, e) : err_set(e, AE_NOMEM, "out of memory");
            if (rc == 0) {
                rc = fs_fsync_dir(dir_from, e);
            }
            break;
        }
        if (errnum != EEXIST) {
            rc = err_errno(e, errnum, "cannot move %s to %s", from, dir_to);
            break;
        }
        if (i == WATCH_MAX_SUFFIX - 1) {
            rc = err_set(e, AE_IO, "cannot move %s: %s already holds %s and %d others", from,
                         dir_to, name, WATCH_MAX_SUFFIX - 1);
        }
    }
    free(from);
    return rc;
}

/* The failure report of one file: written under a hidden name in the drop zone's quarantine/
 * (same file system as both destinations), renamed beside the file once it has moved. */
struct wreport {
    struct atomic_file af;
    FILE *fp;
    struct report *rep;
    char *tmp_target; /* the atomic file's final name: quarantine/.NAME.errors.jsonl */
};

static int wreport_open(struct watch *w, const char *name, struct wreport *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    r->af.fd = -1;
    char hidden[PATH_MAX];
    snprintf(hidden, sizeof(hidden), ".%s.errors.jsonl", name);
    r->tmp_target = fs_join(w->quarantine, hidden);
    if (r->tmp_target == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = atomic_file_open(&r->af, r->tmp_target, e);
    if (rc != 0) {
        return rc;
    }
    int fd = dup(r->af.fd);
    r->fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (r->fp == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        return err_errno(e, errno, "cannot open %s", r->af.tmp_path);
    }
    return report_new(&r->rep, r->fp, name, e);
}

/* Commits the report (when it holds a case) and moves it beside the file, final_name in dir. */
static int wreport_place(struct wreport *r, const char *dir, const char *final_name, struct err *e)
{
    bool any = report_total(r->rep) > 0;
    int rc = 0;
    if (fflush(r->fp) != 0) {
        rc = err_errno(e, errno, "cannot write %s", r->af.tmp_path);
    }
    fclose(r->fp);
    r->fp = NULL;
    if (rc != 0 || !any) {
        atomic_file_abort(&r->af);
        return rc;
    }
    rc = atomic_file_commit(&r->af, e);
    if (rc != 0) {
        return rc;
    }
    char want[PATH_MAX];
    snprintf(want, sizeof(want), "%s.errors.jsonl", final_name);
    char *to = fs_join(dir, want);
    if (to == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else if (rename(r->tmp_target, to) != 0) {
        rc = err_errno(e, errno, "cannot move the failure report to %s", to);
    }
    free(to);
    return rc;
}

static void wreport_close(struct wreport *r)
{
    if (r->fp != NULL) {
        fclose(r->fp);
    }
    atomic_file_abort(&r->af);
    report_free(r->rep);
    free(r->tmp_target);
    memset(r, 0, sizeof(*r));
    r->af.fd = -1;
}

/* Moves a file that cannot be taken in to quarantine/ with a one-case report saying why. */
static void quarantine_with_reason(struct watch *w, const char *name, const char *check,
                                   const char *why)
{
    struct err e;
    err_clear(&e);
    struct wreport r;
    char *final = NULL;
    int rc = wreport_open(w, name, &r, &e);
    if (rc == 0) {
        struct failure f = {.check = check, .message = why};
        struct failure_sink fs = report_sink(r.rep);
        rc = fs.emit(fs.ctx, &f, &e);
    }
    if (rc == 0) {
        rc = move_noreplace(w->incoming, name, w->quarantine, &final, &e);
    }
    if (rc == 0) {
        rc = wreport_place(&r, w->quarantine, final, &e);
    }
    wreport_close(&r);
    if (rc != 0) {
        log_msg(w->log, LOG_ERROR, name, "cannot quarantine (%s): %s; it stays in incoming/", why,
                e.msg);
        w->sum->deferred++;
    } else {
        struct log_field fields[] = {{"moved_to", final, 0}, {"check", check, 0}};
        log_event(w->log, LOG_WARN, name, "quarantined", fields, 2,
                  "quarantined as quarantine/%s: %s", final, why);
        w->sum->quarantined++;
    }
    free(final);
}

/* The one spec whose source_pattern matches name; *why says why there is none. */
static const struct ingest_spec *spec_for(const struct watch *w, const char *name, char *why,
                                          size_t n)
{
    const struct ingest_spec *found = NULL;
    size_t count = config_match_ingest(w->cfg, name, &found);
    if (count == 0) {
        snprintf(why, n, "the name matches no ingest_files source_pattern");
    } else if (count > 1) {
        snprintf(why, n, "the name matches %zu ingest_files source_patterns", count);
    }
    return count == 1 ? found : NULL;
}

static const struct step_spec *load_for(const struct watch *w, const char *dataset)
{
    for (size_t i = 0; i < w->ws->nloads; i++) {
        if (strcmp(w->ws->loads[i].dataset, dataset) == 0) {
            return &w->ws->loads[i];
        }
    }
    return NULL;
}

/* An environment error on a file: it stays in incoming/ and is tried again after a backoff. */
static void defer(struct watch *w, const char *name, const char *what, const struct err *e)
{
    struct pending *p = pending_find(w, name);
    double wait = 2.0;
    unsigned attempts = 1;
    if (p != NULL) {
        attempts = ++p->attempts;
        for (unsigned i = 1; i < attempts && wait < WATCH_MAX_BACKOFF; i++) {
            wait *= 2;
        }
        wait = wait > WATCH_MAX_BACKOFF ? WATCH_MAX_BACKOFF : wait;
        p->next_try = now_mono() + wait;
    }
    struct log_field fields[] = {{"attempts", NULL, attempts},
                                 {"retry_in_s", NULL, (uint64_t)wait}};
    log_event(w->log, attempts >= WATCH_STUCK_ATTEMPTS ? LOG_ERROR : LOG_WARN, name, "deferred",
              fields, 2, "%s: %s; it stays in incoming/ and is tried again in %.0f s%s", what,
              e->msg, wait, attempts >= WATCH_STUCK_ATTEMPTS ? " (keeps failing: look at it)" : "");
    w->sum->deferred++;
}

/* A checksum side file (ingest/checksum.h) of a data file a spec takes: it waits in incoming/ for
 * its data file, which verifies it and takes it along. */
static bool is_side_file(const struct config *cfg, const char *name)
{
    enum checksum_algo algo;
    size_t base_len = 0;
    if (!checksum_side_name(name, &algo, &base_len)) {
        return false;
    }
    char *base = strndup(name, base_len);
    const struct ingest_spec *first = NULL;
    bool side =
        base != NULL && !config_ignored(cfg, base) && config_match_ingest(cfg, base, &first) == 1;
    free(base);
    return side;
}

/* Moves the side files of name along with it, to dir. */
static void side_files_move(struct watch *w, const char *name, const struct checksum *sums,
                            size_t n, const char *dir)
{
    for (size_t k = 0; k < n; k++) {
        char *final = NULL;
        struct err e;
        if (move_noreplace(w->incoming, sums[k].file, dir, &final, &e) != 0) {
            log_msg(w->log, LOG_WARN, name, "cannot move its checksum file %s: %s", sums[k].file,
                    e.msg);
        }
        free(final);
    }
}

/* Consumes NAME.done after its file moved (done_marker readiness). */
static void consume_marker(struct watch *w, const char *name)
{
    if (strcmp(w->ws->readiness, "done_marker") != 0) {
        return;
    }
    char marker[PATH_MAX];
    snprintf(marker, sizeof(marker), "%s.done", name);
    char *path = fs_join(w->incoming, marker);
    if (path != NULL && unlink(path) != 0 && errno != ENOENT) {
        log_msg(w->log, LOG_WARN, name, "cannot remove its marker %s: %s", marker, strerror(errno));
    }
    free(path);
}

/* The spec as watch applies it: the spec's own thresholds, or max_bad_row_fraction 0.01. */
static struct ingest_spec watch_spec_of(const struct ingest_spec *spec)
{
    struct ingest_spec s = *spec;
    if (s.max_bad_rows < 0 && s.max_bad_row_fraction < 0 && !s.schema.drop_invalid_rows) {
        s.max_bad_row_fraction = 0.01;
    }
    return s;
}

/* Keeps the systemd watchdog fed while a long file is read (engine progress callback); at most
 * one ping a second. */
static void watch_progress(void *ctx, const struct ingest_progress *p)
{
    struct watch *w = ctx;
    (void)p;
    double now = now_mono();
    if (w->watchdog > 0 && now - w->last_ping >= 1.0) {
        lsd_notify("WATCHDOG=1");
        w->last_ping = now;
    }
}

/* Tells `astro watch --status` which file this worker takes in (name NULL: none). Advisory: a
 * failure to write it is ignored. */
static void note_current(struct watch *w, const char *name)
{
    if (w->state == NULL) {
        return;
    }
    int fd = open(w->state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return;
    }
    struct err e;
    if (name != NULL && fs_write_all(fd, name, strlen(name), w->state, &e) != 0) {
        log_msg(w->log, LOG_DEBUG, name, "%s", e.msg);
    }
    close(fd);
}

/* archive: parquet. The engine writes to one sink: a tee hands each batch to the load and to the
 * Parquet copy. The engine never commits or aborts a sink (engine.h), so the tee has only a
 * write; take_in commits or aborts the two sinks itself, the load first. */
struct tee {
    struct sink *load;
    struct sink *copy;
};

static int tee_write(void *impl, const struct batch *b, struct err *e)
{
    struct tee *t = impl;
    int rc = sink_write(t->load, b, e);
    return rc != 0 ? rc : sink_write(t->copy, b, e);
}

static int tee_commit(void *impl, uint64_t *bytes, struct err *e)
{
    (void)impl;
    (void)bytes;
    return err_set(e, AE_INTERNAL, "the archive tee is committed through its two sinks");
}

static void tee_abort(void *impl)
{
    (void)impl;
}

static const struct sink_ops tee_ops = {tee_write, tee_commit, tee_abort};

/* Opens the Parquet copy of a file under a hidden name in processed/ (renamed beside the file
 * once it has moved: archive_place). */
static int archive_open(struct watch *w, const char *name, const struct column_desc *cols,
                        size_t ncols, struct sink *s, char **hidden, struct err *e)
{
    char leaf[PATH_MAX];
    snprintf(leaf, sizeof(leaf), ".%s.parquet", name);
    *hidden = fs_join(w->processed, leaf);
    if (*hidden == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    struct pq_options po;
    pq_options_default(&po);
    po.codec = PQ_CODEC_ZSTD;
    po.level = 1;
    po.rg_bytes = 16u << 20;
    po.threads = w->o->threads;
    return sink_parquet_open(s, *hidden, cols, ncols, &po, e);
}

/* Renames the committed Parquet copy beside its file: processed/FINAL.parquet (never over
 * another file); best effort, logged. */
static void archive_place(struct watch *w, const char *name, const char *hidden, const char *final)
{
    char want[PATH_MAX];
    snprintf(want, sizeof(want), "%s.parquet", final);
    char *to = fs_join(w->processed, want);
    if (to == NULL || renameat2(AT_FDCWD, hidden, AT_FDCWD, to, RENAME_NOREPLACE) != 0) {
        log_msg(w->log, LOG_ERROR, name, "the Parquet archive stays as %s: %s", hidden,
                to == NULL ? "out of memory" : strerror(errno));
    } else {
        log_msg(w->log, LOG_INFO, name, "archived as processed/%s", want);
    }
    free(to);
}

/* Validates and loads one claimed file, then moves it. */
static void take_in(struct watch *w, const char *name, const struct ingest_spec *spec0,
                    const struct step_spec *ld, const struct target_spec *t)
{
    struct err e;
    err_clear(&e);
    double t0 = now_mono();
    struct ingest_spec spec = watch_spec_of(spec0);
    struct wreport r;
    struct ingest_file *f = NULL;
    struct sink sink = {NULL, NULL};
    bool sink_open = false;
    struct sink copy = {NULL, NULL};
    bool copy_open = false;
    char *copy_path = NULL;
    struct tee tee = {&sink, &copy};
    struct sink tee_sink = {&tee_ops, &tee};
    struct load_result lr;
    struct ingest_file_result res;
    struct load_file lf;
    char *final = NULL;
    const char *dest = NULL;
    memset(&lr, 0, sizeof(lr));
    memset(&res, 0, sizeof(res));
    memset(&lf, 0, sizeof(lf));
    struct checksum sums[2];
    size_t nsums = 0;
    char *path = fs_join(w->incoming, name);
    int rc = path != NULL ? wreport_open(w, name, &r, &e) : err_set(&e, AE_NOMEM, "out of memory");
    if (rc == 0) {
        rc = checksum_find(path, sums, &nsums, &e); /* verified while the file is read */
    }
    if (rc != 0) {
        goto env;
    }
    struct ingest_file_opts fo = {
        .spec = &spec,
        .path = path,
        .fs = report_sink(r.rep),
        .threads = w->o->threads,
        .progress = watch_progress,
        .progress_ctx = w,
        .interrupted = w->o->interrupted,
        .interrupt_ctx = w->o->interrupt_ctx,
        .checksums = sums,
        .nchecksums = nsums,
    };
    rc = ingest_file_open(&f, &fo, &e);
    if (rc != 0) {
        goto env;
    }
    lf.name = name;
    lf.size = ingest_file_size(f);
    if (ingest_file_can_pass(f)) {
        const struct column_desc *cols = NULL;
        size_t ncols = ingest_file_columns(f, &cols);
        struct load_opts lo = {
            .table = ld->table,
            .mode = ld->mode,
            .key = (const char *const *)ld->key,
            .nkey = ld->nkey,
            .create = ld->create,
            .on_conflict = ld->on_conflict,
            .run_id = "watch",
            .dataset = ld->dataset,
            .source_sha256 = NULL,
            .renames = (const char *const *)ld->renames,
            .nrenames = ld->nrenames,
            .result = &lr,
            .file = &lf,
            .log = w->log, /* the server's notices: the service's log with -v */
        };
        rc = load_open(&sink, t, &lo, cols, ncols, &e);
        if (rc != 0) {
            goto env;
        }
        sink_open = true;
        if (w->ws->archive_parquet) {
            rc = archive_open(w, name, cols, ncols, &copy, &copy_path, &e);
            if (rc != 0) {
                goto env;
            }
            copy_open = true;
        }
    }
    rc = ingest_file_run(f, copy_open ? &tee_sink : sink_open ? &sink : NULL, &res, &e);
    if (rc != 0) {
        goto env;
    }
    if (res.changed) {
        /* Still being written: back to waiting, nothing is kept. */
        if (sink_open) {
            sink_abort(&sink);
            sink_open = false;
        }
        if (copy_open) {
            sink_abort(&copy);
            copy_open = false;
        }
        log_msg(w->log, LOG_INFO, name, "changed while it was read: put back for later");
        goto out;
    }
    memcpy(lf.sha256, res.sha256, sizeof(lf.sha256));
    lf.rows_quarantined = res.rows_invalid;
    if (!res.ok) {
        if (sink_open) {
            sink_abort(&sink);
            sink_open = false;
        }
        struct load_file_record fr = {ld->dataset, ld->table, &lf, 0, "failed", res.reason};
        rc = load_record_file(t, &fr, &e);
        if (rc != 0) {
            goto env;
        }
        dest = w->quarantine;
    } else {
        sink_open = false;
        rc = sink_commit(&sink, NULL, &e);
        if (rc != 0) {
            goto env;
        }
        if (copy_open && !lr.skipped) {
            /* The load committed: from here on the archive is best effort (logged). */
            struct err e2;
            copy_open = false;
            if (sink_parquet_add_kv(&copy, "astro.source_file", name, &e2) != 0 ||
                sink_parquet_add_kv(&copy, "astro.source_sha256", res.sha256, &e2) != 0 ||
                sink_parquet_add_kv(&copy, "astro.dataset", ld->dataset, &e2) != 0) {
                sink_abort(&copy);
                log_msg(w->log, LOG_ERROR, name, "no Parquet archive: %s", e2.msg);
                free(copy_path);
                copy_path = NULL;
            } else if (sink_commit(&copy, NULL, &e2) != 0) {
                log_msg(w->log, LOG_ERROR, name, "no Parquet archive: %s", e2.msg);
                free(copy_path);
                copy_path = NULL;
            }
        }
        if (lr.skipped) {
            struct load_file_record fr = {
                ld->dataset, ld->table, &lf,
                0,           "skipped", "this content is already loaded into the table"};
            struct err e2;
            if (load_record_file(t, &fr, &e2) != 0) {
                log_msg(w->log, LOG_WARN, name, "%s", e2.msg);
            }
        }
        dest = w->processed;
    }
    rc = move_noreplace(w->incoming, name, dest, &final, &e);
    if (rc == 0) {
        rc = wreport_place(&r, dest, final, &e);
    }
    if (rc == 0 && copy_path != NULL && !copy_open && dest == w->processed) {
        archive_place(w, name, copy_path, final);
    }
    if (rc != 0) {
        /* Committed but not moved: the next pass finds the content loaded and moves it. */
        goto env;
    }
    consume_marker(w, name);
    side_files_move(w, name, sums, nsums, dest);
    double secs = now_mono() - t0;
    /* The summary line of the file: with --log-format json also its event, sha256 and counts. */
    struct log_field fields[] = {
        {"sha256", res.sha256, 0},
        {"target", t->name, 0},
        {"table", ld->table, 0},
        {"moved_to", final, 0},
        {"bytes", NULL, res.size},
        {"rows_read", NULL, res.rows_read},
        {"rows_loaded", NULL, res.ok && !lr.skipped ? lr.rows_sent : 0},
        {"rows_quarantined", NULL, res.rows_invalid},
        {"milliseconds", NULL, (uint64_t)(secs * 1000.0)},
    };
    size_t nf = sizeof(fields) / sizeof(fields[0]);
    if (!res.ok) {
        log_event(w->log, LOG_WARN, name, "quarantined", fields, nf,
                  "quarantined as quarantine/%s: %s; rows read %llu, valid %llu, invalid %llu; "
                  "every case is in quarantine/%s.errors.jsonl",
                  final, res.reason, (unsigned long long)res.rows_read,
                  (unsigned long long)res.rows_valid, (unsigned long long)res.rows_invalid, final);
        w->sum->quarantined++;
    } else if (lr.skipped) {
        log_event(w->log, LOG_INFO, name, "skipped", fields, nf,
                  "skipped: its content (sha256 %.12s...) is already loaded into %s.%s; moved to "
                  "processed/%s",
                  res.sha256, t->name, ld->table, final);
        w->sum->skipped++;
    } else {
        log_event(w->log, LOG_INFO, name, "loaded", fields, nf,
                  "loaded into %s.%s: rows read %llu, loaded %llu, quarantined %llu; %llu bytes in "
                  "%.2f s (%.0f rows/s); moved to processed/%s",
                  t->name, ld->table, (unsigned long long)res.rows_read,
                  (unsigned long long)lr.rows_sent, (unsigned long long)res.rows_invalid,
                  (unsigned long long)res.size, secs, secs > 0 ? (double)res.rows_read / secs : 0.0,
                  final);
        w->sum->loaded++;
    }
    struct pending *p = pending_find(w, name);
    if (p != NULL) {
        p->attempts = 0;
    }
    goto out;
env:
    if (sink_open) {
        sink_abort(&sink);
        sink_open = false;
    }
    if (e.code == AE_CANCELLED) {
        log_msg(w->log, LOG_INFO, name,
                "stop requested while it was read: rolled back, it stays "
                "in incoming/");
        goto out;
    }
    defer(w, name, "not taken in", &e);
out:
    if (sink_open) {
        sink_abort(&sink);
    }
    if (copy_open) {
        sink_abort(&copy);
    }
    free(copy_path);
    ingest_file_free(f);
    wreport_close(&r);
    free(final);
    free(path);
}

/* Takes in one ready file: match, claim, validate and load, move. */
static void handle(struct watch *w, const char *name)
{
    char why[256];
    const struct ingest_spec *spec = spec_for(w, name, why, sizeof(why));
    if (spec == NULL) {
        quarantine_with_reason(w, name, "source_pattern", why);
        return;
    }
    const struct step_spec *ld = load_for(w, spec->name);
    if (ld == NULL) {
        snprintf(why, sizeof(why), "dataset '%s' has no watch.loads entry", spec->name);
        quarantine_with_reason(w, name, "watch_load", why);
        return;
    }
    const struct target_spec *t = config_find_target(w->cfg, ld->target);
    struct err e;
    err_clear(&e);
    struct load_claim *claim = NULL;
    int rc = load_claim(t, name, &claim, &e);
    if (rc != 0) {
        defer(w, name, "cannot claim", &e);
        return;
    }
    if (claim == NULL) {
        log_msg(w->log, LOG_DEBUG, name, "claimed by another worker");
        return;
    }
    /* Under the claim, look again: another worker may have moved it meanwhile. */
    char *path = fs_join(w->incoming, name);
    struct stat st;
    if (path == NULL || lstat(path, &st) != 0) {
        log_msg(w->log, LOG_DEBUG, name, "gone before it was claimed");
    } else if (st.st_size == 0) {
        quarantine_with_reason(w, name, "empty_file", "the file is empty (0 bytes)");
    } else {
        note_current(w, name);
        take_in(w, name, spec, ld, t);
        note_current(w, NULL);
    }
    free(path);
    load_target_ops_for(t->kind)->release(claim);
}

static int cmp_ready(const void *a, const void *b)
{
    const struct ready *x = a;
    const struct ready *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) {
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    }
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) {
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

/* Whether the regular file name (just lstat'ed as st) is ready; *wake gets the monotonic time
 * by which a file not yet ready may become so (unchanged otherwise). */
static bool is_ready(struct watch *w, struct pending *p, const char *name, const struct stat *st,
                     double *wake)
{
    const char *mode = w->ws->readiness;
    bool same = p->size == st->st_size && p->mtime.tv_sec == st->st_mtim.tv_sec &&
                p->mtime.tv_nsec == st->st_mtim.tv_nsec;
    bool seen_before = p->mtime.tv_sec != 0 || p->mtime.tv_nsec != 0;
    p->size = st->st_size;
    p->mtime = st->st_mtim;
    if (strcmp(mode, "rename") == 0) {
        return true;
    }
    if (strcmp(mode, "done_marker") == 0) {
        char marker[PATH_MAX];
        snprintf(marker, sizeof(marker), "%s.done", name);
        char *mp = fs_join(w->incoming, marker);
        struct stat ms;
        bool ok = mp != NULL && lstat(mp, &ms) == 0 && S_ISREG(ms.st_mode);
        free(mp);
        return ok;
    }
    /* stable: unchanged for quiet_seconds and seen unchanged by two scans (--once: one scan). */
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    double age =
        (double)(rt.tv_sec - st->st_mtim.tv_sec) + (double)(rt.tv_nsec - st->st_mtim.tv_nsec) / 1e9;
    double quiet = (double)w->ws->quiet_seconds;
    if (age >= quiet && (w->o->once || (seen_before && same))) {
        return true;
    }
    double when = now_mono() + (age >= quiet ? 0.5 : quiet - age + 0.05);
    if (*wake == 0 || when < *wake) {
        *wake = when;
    }
    return false;
}

/* One scan of incoming/: the ready files, oldest first (*nready), and when to look again. */
static int scan(struct watch *w, struct ready **out, size_t *nready, double *wake, struct err *e)
{
    *out = NULL;
    *nready = 0;
    DIR *d = opendir(w->incoming);
    if (d == NULL) {
        return err_errno(e, errno, "cannot read %s", w->incoming);
    }
    for (size_t i = 0; i < w->nfiles; i++) {
        w->files[i].seen = false;
    }
    struct ready *list = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    double now = now_mono();
    struct dirent *de;
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || hidden_or_partial(name)) {
            continue;
        }
        if (strcmp(w->ws->readiness, "done_marker") == 0 && is_marker(name)) {
            continue;
        }
        /* ignore_patterns (README.txt, _SUCCESS) are left alone, and a checksum side file
         * waits for its data file. */
        if (config_ignored(w->cfg, name) || is_side_file(w->cfg, name)) {
            continue;
        }
        struct pending *p = pending_find(w, name);
        if (p == NULL && (p = pending_add(w, name)) == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        p->seen = true;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue; /* gone meanwhile */
        }
        if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
            if (!p->warned) {
                log_msg(w->log, LOG_WARN, name, "%s in incoming/ is not followed: left alone",
                        S_ISLNK(st.st_mode) ? "a symbolic link" : "a folder");
                p->warned = true;
            }
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            /* Never opened: a FIFO would block a read forever. */
            quarantine_with_reason(w, name, "regular_file",
                                   "not a regular file (a FIFO, socket or device)");
            continue;
        }
        if (p->next_try > now) {
            if (*wake == 0 || p->next_try < *wake) {
                *wake = p->next_try;
            }
            continue;
        }
        if (!is_ready(w, p, name, &st, wake)) {
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            struct ready *nl = realloc(list, nc * sizeof(*nl));
            if (nl == NULL) {
                rc = err_set(e, AE_NOMEM, "out of memory");
                break;
            }
            list = nl;
            cap = nc;
        }
        list[n].name = strdup(name);
        list[n].mtime = st.st_mtim;
        if (list[n].name == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        n++;
    }
    if (rc == 0 && errno != 0) {
        rc = err_errno(e, errno, "cannot read %s", w->incoming);
    }
    closedir(d);
    pending_prune(w);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++) {
            free(list[i].name);
        }
        free(list);
        return rc;
    }
    if (n > 1) {
        qsort(list, n, sizeof(*list), cmp_ready);
    }
    *out = list;
    *nready = n;
    return 0;
}

/* ROOT/.astro-watch.d/HOST.PID (created folder when make), or NULL when out of memory or the
 * folder cannot be made. */
static char *state_path(const char *root, bool make)
{
    char host[256];
    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    char *dir = fs_join(root, ".astro-watch.d");
    if (dir == NULL || (make && mkdir(dir, 0755) != 0 && errno != EEXIST)) {
        free(dir);
        return NULL;
    }
    char leaf[320];
    snprintf(leaf, sizeof(leaf), "%s.%ld", host, (long)getpid());
    char *p = fs_join(dir, leaf);
    free(dir);
    return p;
}

/* Creates ROOT/sub (and ROOT) when missing; *out is the path (caller frees). */
static int make_dir(const char *root, const char *sub, char **out, struct err *e)
{
    *out = fs_join(root, sub);
    if (*out == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    return fs_mkdirs(*out, e);
}

/* Checks that every load names a target, and whether all of them allow several workers. */
static int check_loads(const struct watch *w, bool *concurrent, struct err *e)
{
    *concurrent = true;
    if (w->ws->nloads == 0) {
        return err_set(e, AE_CONFIG,
                       "%s: watch: no loads: add watch.loads, one entry per dataset "
                       "({dataset, target, table, mode, ...}, as in a load step)",
                       w->cfg->path);
    }
    for (size_t i = 0; i < w->ws->nloads; i++) {
        const struct target_spec *t = config_find_target(w->cfg, w->ws->loads[i].target);
        if (t == NULL) {
            return err_set(e, AE_CONFIG, "%s: watch.loads[%zu]: target '%s' is not defined",
                           w->cfg->path, i, w->ws->loads[i].target);
        }
        /* The service loads into every target it names: a variable of one that is not set is
         * said now, naming it and the key, rather than at the first file. */
        struct target_spec x;
        int rc = config_target_expand(t, &x, e);
        config_target_expanded_release(&x);
        if (rc != 0) {
            return rc;
        }
        *concurrent = *concurrent && load_target_ops_for(t->kind)->concurrent;
    }
    return 0;
}

/* One process per drop zone when a target does not take concurrent loads: an flock on
 * ROOT/.astro-watch.lock, held for the life of the process. */
static int lock_zone(const char *root, int *fd, struct err *e)
{
    char *path = fs_join(root, ".astro-watch.lock");
    if (path == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = 0;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) {
        rc = err_errno(e, errno, "cannot open %s", path);
    } else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? err_set(e, AE_BUSY,
                           "another astro watch already serves %s (it holds %s); with a SQLite "
                           "target one process serves a drop zone",
                           root, path)
                 : err_errno(e, errno, "cannot lock %s", path);
        close(*fd);
        *fd = -1;
    }
    free(path);
    return rc;
}

/* Removes what a killed worker left half-written: hidden failure reports in quarantine/
 * (.NAME.errors.jsonl and its temporary names) and hidden Parquet archives in processed/
 * (.NAME.parquet...). With the drop zone to itself (exclusive) every one goes; shared with other
 * workers, only those an hour old, which no live worker still writes. */
static size_t sweep_dir(const char *dir, const char *mark, bool exclusive)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return 0;
    }
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    size_t swept = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        struct stat st;
        if (name[0] != '.' || strstr(name, mark) == NULL ||
            fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if ((exclusive || rt.tv_sec - st.st_mtim.tv_sec > 3600) &&
            unlinkat(dirfd(d), name, 0) == 0) {
            swept++;
        }
    }
    closedir(d);
    return swept;
}

static void sweep_leftovers(struct watch *w, bool exclusive)
{
    size_t n = sweep_dir(w->quarantine, ".errors.jsonl", exclusive) +
               sweep_dir(w->processed, ".parquet", exclusive);
    if (n > 0) {
        log_msg(w->log, LOG_INFO, NULL,
                "removed %zu half-written report(s) or archive(s) of an interrupted worker", n);
    }
}

/* Sleeps until incoming/ changes, wake (monotonic) comes, poll_seconds pass or a stop is
 * requested (stop_fd); under a systemd watchdog, at most half its interval. */
static void wait_for_change(struct watch *w, int ifd, double wake, double watchdog)
{
    double timeout = (double)w->ws->poll_seconds;
    if (watchdog > 0 && watchdog / 2 < timeout) {
        timeout = watchdog / 2;
    }
    if (wake > 0) {
        double until = wake - now_mono();
        timeout = until < timeout ? (until > 0 ? until : 0) : timeout;
    }
    struct pollfd pfd[2] = {{ifd, POLLIN, 0}, {w->o->stop_fd, POLLIN, 0}};
    int r = poll(pfd, 2, (int)(timeout * 1000.0) + 1); /* negative fds are ignored */
    if (r > 0 && ifd >= 0 && (pfd[0].revents & POLLIN)) {
        char buf[4096];
        while (read(ifd, buf, sizeof(buf)) > 0) {
        }
    }
}

int watch_run(const struct watch_opts *o, struct watch_summary *sum, struct err *e)
{
    struct watch w;
    memset(&w, 0, sizeof(w));
    memset(sum, 0, sizeof(*sum));
    w.o = o;
    w.cfg = o->project->cfg;
    w.ws = &w.cfg->watch;
    w.log = o->log;
    w.sum = sum;
    int lock = -1;
    int ifd = -1;
    bool concurrent = false;
    int rc = check_loads(&w, &concurrent, e);
    rc = rc != 0 ? rc : make_dir(o->root, "incoming", &w.incoming, e);
    rc = rc != 0 ? rc : make_dir(o->root, "processed", &w.processed, e);
    rc = rc != 0 ? rc : make_dir(o->root, "quarantine", &w.quarantine, e);
    if (rc == 0 && !concurrent) {
        rc = lock_zone(o->root, &lock, e);
    }
    if (rc != 0) {
        goto out;
    }
    sweep_leftovers(&w, !concurrent);
    w.state = state_path(o->root, true);
    note_current(&w, NULL);
    if (!o->once) {
        ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ifd < 0 || inotify_add_watch(ifd, w.incoming,
                                         IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                             IN_ATTRIB | IN_MODIFY) < 0) {
            /* Polling still works: inotify is an optimisation. */
            log_msg(w.log, LOG_WARN, NULL, "inotify unavailable (%s): polling every %lld s",
                    strerror(errno), (long long)w.ws->poll_seconds);
            if (ifd >= 0) {
                close(ifd);
            }
            ifd = -1;
        }
    }
    log_msg(w.log, LOG_INFO, NULL,
            "watching %s (readiness %s, quiet %lld s, poll %lld s, %zu load(s)%s)", w.incoming,
            w.ws->readiness, (long long)w.ws->quiet_seconds, (long long)w.ws->poll_seconds,
            w.ws->nloads, concurrent ? ", shared with other workers" : "");
    /* Under systemd (Type=notify): ready now; with WatchdogSec=, a ping at every turn of the
     * loop, and the loop turns at least twice per interval. Outside systemd these do nothing. */
    lsd_load(w.log);
    uint64_t wd_usec = 0;
    w.watchdog = lsd.watchdog_enabled != NULL && lsd.watchdog_enabled(0, &wd_usec) > 0
                     ? (double)wd_usec / 1e6
                     : 0;
    char ready[64 + PATH_MAX];
    snprintf(ready, sizeof(ready), "READY=1\nSTATUS=watching %s", w.incoming);
    lsd_notify(ready);
    while (!stop_requested(o)) {
        if (w.watchdog > 0) {
            lsd_notify("WATCHDOG=1");
            w.last_ping = now_mono();
        }
        struct ready *list = NULL;
        size_t n = 0;
        double wake = 0;
        rc = scan(&w, &list, &n, &wake, e);
        if (rc != 0) {
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            if (!stop_requested(o)) {
                handle(&w, list[i].name);
            }
            free(list[i].name);
        }
        free(list);
        /* A request read while a file was taken in no longer shows on stop_fd: ask first. */
        if (o->once || stop_requested(o)) {
            break;
        }
        wait_for_change(&w, ifd, wake, w.watchdog);
    }
    lsd_notify("STOPPING=1");
    log_msg(w.log, LOG_INFO, NULL,
            "stopping: %llu loaded, %llu skipped, %llu quarantined, %llu left for a retry",
            (unsigned long long)sum->loaded, (unsigned long long)sum->skipped,
            (unsigned long long)sum->quarantined, (unsigned long long)sum->deferred);
out:
    if (ifd >= 0) {
        close(ifd);
    }
    if (lock >= 0) {
        close(lock);
    }
    for (size_t i = 0; i < w.nfiles; i++) {
        free(w.files[i].name);
    }
    free(w.files);
    if (w.state != NULL) {
        unlink(w.state);
    }
    free(w.state);
    free(w.incoming);
    free(w.processed);
    free(w.quarantine);
    return rc;
}

/* ------------------------------------------------------------------ astro watch --status */

struct entry {
    char *name;
    struct stat st;
};

static int cmp_newest(const void *a, const void *b)
{
    const struct entry *x = a;
    const struct entry *y = b;
    if (x->st.st_ctim.tv_sec != y->st.st_ctim.tv_sec) {
        return x->st.st_ctim.tv_sec > y->st.st_ctim.tv_sec ? -1 : 1;
    }
    if (x->st.st_ctim.tv_nsec != y->st.st_ctim.tv_nsec) {
        return x->st.st_ctim.tv_nsec > y->st.st_ctim.tv_nsec ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

/* The visible entries of dir (no dotfiles; with reports false, no NAME.errors.jsonl). */
static int list_dir(const char *dir, bool reports, struct entry **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT ? 0 : err_errno(e, errno, "cannot read %s", dir);
    }
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' ||
            (!reports && len > 13 && strcmp(de->d_name + len - 13, ".errors.jsonl") == 0)) {
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            struct entry *ne = realloc(*out, cap * sizeof(*ne));
            if (ne == NULL) {
                rc = err_set(e, AE_NOMEM, "out of memory");
                break;
            }
            *out = ne;
        }
        struct entry *en = &(*out)[*n];
        if (fstatat(dirfd(d), de->d_name, &en->st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        en->name = strdup(de->d_name);
        if (en->name == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (rc == 0 && *n > 1) {
        qsort(*out, *n, sizeof(**out), cmp_newest);
    }
    return rc;
}

static void free_entries(struct entry *en, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(en[i].name);
    }
    free(en);
}

/* The message of the first case in dir/NAME.errors.jsonl, or "". */
static void first_reason(const char *dir, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    char leaf[PATH_MAX];
    snprintf(leaf, sizeof(leaf), "%s.errors.jsonl", name);
    char *path = fs_join(dir, leaf);
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    free(path);
    if (f == NULL) {
        return;
    }
    char line[4096];
    if (fgets(line, sizeof(line), f) != NULL) {
        json_t *j = json_loads(line, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "message"));
        snprintf(out, n, "%s", msg != NULL ? msg : "");
        json_decref(j);
    }
    fclose(f);
}

static void print_workers(const char *root, FILE *out)
{
    char *dir = fs_join(root, ".astro-watch.d");
    DIR *d = dir != NULL ? opendir(dir) : NULL;
    char host[256];
    if (gethostname(host, sizeof(host)) != 0) {
        host[0] = '\0';
    }
    host[sizeof(host) - 1] = '\0';
    fprintf(out, "workers:\n");
    size_t n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        /* HOST.PID: a process of this host that no longer runs left it behind (killed). */
        const char *dot = strrchr(de->d_name, '.');
        long pid = dot != NULL ? strtol(dot + 1, NULL, 10) : 0;
        bool here = dot != NULL && (size_t)(dot - de->d_name) == strlen(host) &&
                    strncmp(de->d_name, host, strlen(host)) == 0;
        if (here && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            continue;
        }
        char cur[PATH_MAX] = "";
        char leaf[PATH_MAX];
        snprintf(leaf, sizeof(leaf), "%s", de->d_name);
        char *p = fs_join(dir, leaf);
        FILE *f = p != NULL ? fopen(p, "r") : NULL;
        if (f != NULL) {
            if (fgets(cur, sizeof(cur), f) == NULL) {
                cur[0] = '\0';
            }
            fclose(f);
        }
        free(p);
        fprintf(out, "  %-28s %s%s\n", de->d_name, cur[0] ? "taking in " : "idle", cur);
        n++;
    }
    if (n == 0) {
        fprintf(out, "  (none running)\n");
    }
    if (d != NULL) {
        closedir(d);
    }
    free(dir);
}

int watch_status(const struct watch_opts *o, FILE *out, struct err *e)
{
    const struct watch_spec *ws = &o->project->cfg->watch;
    char *dirs[3] = {fs_join(o->root, "incoming"), fs_join(o->root, "processed"),
                     fs_join(o->root, "quarantine")};
    struct entry *en[3] = {NULL, NULL, NULL};
    size_t n[3] = {0, 0, 0};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = dirs[i] != NULL ? list_dir(dirs[i], i == 0, &en[i], &n[i], e)
                             : err_set(e, AE_NOMEM, "out of memory");
    }
    if (rc != 0) {
        goto out;
    }
    fprintf(out, "drop zone %s (readiness %s, quiet %lld s)\n", o->root, ws->readiness,
            (long long)ws->quiet_seconds);
    print_workers(o->root, out);
    fprintf(out, "queued in incoming/: %zu\n", n[0]);
    for (size_t i = n[0]; i-- > 0;) { /* oldest first, as they are taken in */
        const struct entry *x = &en[0][i];
        const char *state = "ready";
        char buf[128];
        if (S_ISLNK(x->st.st_mode) || S_ISDIR(x->st.st_mode)) {
            state = "not followed (link or folder)";
        } else if (config_ignored(o->project->cfg, x->name)) {
            state = "ignored (ignore_patterns): left alone";
        } else if (!S_ISREG(x->st.st_mode)) {
            state = "not a regular file: will be quarantined";
        } else if (is_side_file(o->project->cfg, x->name)) {
            state = "checksum file: taken in with its data file";
        } else if (strcmp(ws->readiness, "done_marker") == 0 && is_marker(x->name)) {
            continue;
        } else if (strcmp(ws->readiness, "done_marker") == 0) {
            char marker[PATH_MAX];
            snprintf(marker, sizeof(marker), "%s/%s.done", dirs[0], x->name);
            struct stat ms;
            if (stat(marker, &ms) != 0) {
                snprintf(buf, sizeof(buf), "waiting for %s.done", x->name);
                state = buf;
            }
        } else if (strcmp(ws->readiness, "stable") == 0) {
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            long long age = (long long)(rt.tv_sec - x->st.st_mtim.tv_sec);
            if (age < ws->quiet_seconds) {
                snprintf(buf, sizeof(buf), "settling: modified %lld s ago", age);
                state = buf;
            }
        }
        fprintf(out, "  %-40s %12lld bytes  %s\n", x->name, (long long)x->st.st_size, state);
    }
    const char *titles[2] = {"last done (processed/)", "last quarantined (quarantine/)"};
    for (int k = 1; k < 3; k++) {
        fprintf(out, "%s: %zu in all\n", titles[k - 1], n[k]);
        for (size_t i = 0; i < n[k] && i < 10; i++) {
            char when[32];
            struct tm tm;
            time_t t = en[k][i].st.st_ctim.tv_sec;
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
            char reason[300] = "";
            if (k == 2) {
                first_reason(dirs[k], en[k][i].name, reason, sizeof(reason));
            }
            fprintf(out, "  %s  %-40s %s\n", when, en[k][i].name, reason);
        }
    }
out:
    for (int i = 0; i < 3; i++) {
        free_entries(en[i], n[i]);
        free(dirs[i]);
    }
    return rc;
}
