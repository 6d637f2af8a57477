/*
 * run.c - run folders, ids, locks and manifest.json. Every path into a run folder is built by
 * run_path()/run_relpath(); the manifest is written only whole, through manifest_save()'s
 * temp-fsync-rename, so a reader never sees half a document.
 */
#include "run/run.h"

#include "run/record.h"

#include "util/buf.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool run_id_valid(const char *s)
{
    if (strlen(s) != RUN_ID_LEN) {
        return false;
    }
    for (size_t i = 0; i < RUN_ID_LEN; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) {
            return false;
        }
    }
    return true;
}

char *run_relpath(enum run_path_kind kind, const char *name)
{
    const char *fmt = "";
    switch (kind) {
    case RUN_PATH_DIR: fmt = ""; break;
    case RUN_PATH_MANIFEST: fmt = "manifest.json"; break;
    case RUN_PATH_LOG: fmt = "astro.log"; break;
    case RUN_PATH_LOCK: fmt = ".lock"; break;
    case RUN_PATH_INGESTED_DIR: fmt = "ingested"; break;
    case RUN_PATH_ERRORS_DIR: fmt = "errors"; break;
    case RUN_PATH_PARQUET: fmt = "ingested/%s.parquet"; break;
    case RUN_PATH_ERRORS: fmt = "errors/%s.jsonl"; break;
    case RUN_PATH_FAILURE_CASES: fmt = "errors/%s.failure_cases.csv"; break;
    }
    char *p = NULL;
    if (asprintf(&p, fmt, name ? name : "") < 0) {
        return NULL;
    }
    return p;
}

char *run_path(const char *working, const char *id, enum run_path_kind kind, const char *name)
{
    char *rel = run_relpath(kind, name);
    char *p = NULL;
    if (rel == NULL || asprintf(&p, rel[0] ? "%s/%s/%s" : "%s/%s%s", working, id, rel) < 0) {
        p = NULL;
    }
    free(rel);
    return p;
}

/* Tries the run's lock without waiting: true when some process holds it. When this call got the
 * lock, *held receives it (release with run_unlock), so that the caller may correct the run's
 * record while no other process can start working on it; otherwise *held is -1. */
static bool run_is_live(const char *working, const char *id, int *held)
{
    *held = -1;
    char *lock = run_path(working, id, RUN_PATH_LOCK, NULL);
    if (lock == NULL) {
        return true; /* be conservative: never declare a run dead on allocation failure */
    }
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    free(lock);
    if (fd < 0) {
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        *held = fd;
        return false;
    }
    bool live = errno == EWOULDBLOCK;
    close(fd);
    return live;
}

/* Removes the temporary files (util/fs.h atomic_file) a killed process left in a run it no
 * longer holds: the run folder (manifest), ingested/ and errors/. Best effort, like the status
 * correction below: the next look retries. */
static void remove_tmps(const char *working, const char *id)
{
    static const enum run_path_kind dirs[] = {RUN_PATH_DIR, RUN_PATH_INGESTED_DIR,
                                              RUN_PATH_ERRORS_DIR};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *dir = run_path(working, id, dirs[i], NULL);
        size_t removed = 0;
        struct err ignored;
        if (dir != NULL && fs_remove_atomic_tmps(dir, &removed, &ignored) != 0) {
            /* best effort */
        }
        free(dir);
    }
}

static int cmp_created(const void *a, const void *b)
{
    const struct run_info *x = a;
    const struct run_info *y = b;
    int c = strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");
    return c != 0 ? c : strcmp(x->id, y->id);
}

int run_list(const char *working, struct stats *stats, struct run_info **out, size_t *n,
             struct err *e)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(working);
    if (d == NULL) {
        return errno == ENOENT ? 0 : err_errno(e, errno, "cannot read %s", working);
    }
    struct run_info *runs = NULL;
    size_t count = 0;
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!run_id_valid(de->d_name)) {
            continue;
        }
        /* The lock first: while this call holds it nobody writes the manifest, so a status read
         * after it cannot be one a live process is about to change. */
        int held = -1;
        bool live = run_is_live(working, de->d_name, &held);
        if (held >= 0) {
            remove_tmps(working, de->d_name);
        }
        struct run_record rec;
        struct err ignored;
        if (run_record_open(&rec, stats, working, de->d_name, &ignored) != 0) {
            run_unlock(held);
            continue; /* a folder without a readable manifest is not a run (yet) */
        }
        const json_t *m = rec.manifest.root;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct run_info *nr = realloc(runs, ncap * sizeof(*nr));
            if (nr == NULL) {
                run_unlock(held);
                run_record_release(&rec);
                rc = err_set(e, AE_NOMEM, "out of memory");
                break;
            }
            runs = nr;
            cap = ncap;
        }
        struct run_info *r = &runs[count++];
        memset(r, 0, sizeof(*r));
        memcpy(r->id, de->d_name, RUN_ID_LEN + 1);
        r->status = run_record_status(&rec);
        r->failed_phase = RUN_PHASE_NONE;
        (void)run_phase_parse(json_string_value(json_object_get(m, "failed_phase")),
                              &r->failed_phase);
        const char *created = json_string_value(json_object_get(m, "created_at"));
        r->created_at = created ? strdup(created) : NULL;
        r->live = live;
        if (run_status_active(r->status) && !r->live) {
            /* Its process died: record that (manifest and stats.db), so the run neither blocks
             * nor looks alive. The run's lock, held meanwhile, keeps any other process out. */
            enum run_phase phase =
                r->status == RUN_STATUS_INGESTING ? RUN_PHASE_INGEST : RUN_PHASE_RUN;
            struct err werr;
            if (run_record_set_status(&rec, RUN_STATUS_FAILED,
                                      "interrupted: the astro process working on this "
                                      "run stopped before finishing",
                                      phase, &werr) != 0) {
                /* Best effort: the listing below is right either way; the next look retries. */
            }
            r->status = RUN_STATUS_FAILED;
            r->failed_phase = phase;
        } else if (held >= 0 && stats != NULL) {
            /* A process killed between its manifest write and its stats.db write (the record
             * writes the manifest first) left stats.db one status behind: the manifest is the
             * truth; the lock, held meanwhile, keeps any writer out. */
            bool changed;
            struct err werr;
            const char *when = json_string_value(json_object_get(m, "updated_at"));
            if (stats_run_sync_status(stats, r->id, r->status,
                                      json_string_value(json_object_get(m, "reason")),
                                      run_status_active(r->status) ? NULL : when, &changed,
                                      &werr) != 0) {
                /* Best effort, as above: the next look retries. */
            }
        }
        run_unlock(held);
        run_record_release(&rec);
        if (created != NULL && r->created_at == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
    }
    closedir(d);
    if (rc != 0) {
        run_list_free(runs, count);
        return rc;
    }
    if (count > 1) {
        qsort(runs, count, sizeof(*runs), cmp_created);
    }
    *out = runs;
    *n = count;
    return 0;
}

void run_list_free(struct run_info *runs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(runs[i].created_at);
    }
    free(runs);
}

bool run_blocks_serial(const struct run_info *r)
{
    if (r->status == RUN_STATUS_COMPLETED || r->status == RUN_STATUS_ABANDONED) {
        return false;
    }
    if (r->status == RUN_STATUS_FAILED && r->failed_phase == RUN_PHASE_INGEST) {
        return false;
    }
    return true;
}

int run_lock_working(const char *working, int *fd, struct err *e)
{
    *fd = -1;
    int rc = fs_mkdirs(working, e);
    if (rc != 0) {
        return rc;
    }
    char *lock = fs_join(working, ".lock");
    if (lock == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int f = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        rc = err_errno(e, errno, "cannot open lock %s", lock);
        free(lock);
        return rc;
    }
    while (flock(f, LOCK_EX) != 0) {
        if (errno != EINTR) {
            rc = err_errno(e, errno, "cannot lock %s", lock);
            close(f);
            free(lock);
            return rc;
        }
    }
    free(lock);
    *fd = f;
    return 0;
}

void run_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

int run_new_id(const char *working, int (*taken)(void *ctx, const char *id, bool *t, struct err *e),
               void *ctx, char out[RUN_ID_LEN + 1], struct err *e)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 1000; attempt++) {
        unsigned char rnd[RUN_ID_LEN];
        int rc = fs_random(rnd, sizeof(rnd), e);
        if (rc != 0) {
            return rc;
        }
        /* 256 % 36 != 0: reject the top bytes so every character is equally likely. */
        bool ok = true;
        for (size_t i = 0; i < RUN_ID_LEN; i++) {
            if (rnd[i] >= 252) {
                ok = false;
                break;
            }
            out[i] = alphabet[rnd[i] % 36];
        }
        if (!ok) {
            continue;
        }
        out[RUN_ID_LEN] = '\0';
        char *dir = fs_join(working, out);
        if (dir == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        struct stat st;
        bool exists = lstat(dir, &st) == 0;
        if (!exists && errno != ENOENT) {
            rc = err_errno(e, errno, "cannot look at %s", dir);
        }
        free(dir);
        if (rc != 0) {
            return rc;
        }
        bool used = false;
        if (!exists && taken != NULL && (rc = taken(ctx, out, &used, e)) != 0) {
            return rc;
        }
        if (!exists && !used) {
            return 0;
        }
    }
    return err_set(e, AE_INTERNAL, "could not find an unused run id after 1000 attempts");
}

int run_create_dir(const char *working, const char *id, int *fd, struct err *e)
{
    *fd = -1;
    char *dir = run_path(working, id, RUN_PATH_DIR, NULL);
    char *ing = run_path(working, id, RUN_PATH_INGESTED_DIR, NULL);
    char *errs = run_path(working, id, RUN_PATH_ERRORS_DIR, NULL);
    char *lock = run_path(working, id, RUN_PATH_LOCK, NULL);
    int rc = 0;
    if (dir == NULL || ing == NULL || errs == NULL || lock == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    if (mkdir(dir, 0777) != 0) {
        rc = err_errno(e, errno, "cannot create run folder %s", dir);
        goto out;
    }
    rc = fs_mkdirs(ing, e);
    if (rc == 0) {
        rc = fs_mkdirs(errs, e);
    }
    if (rc != 0) {
        goto out;
    }
    int f = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0 || flock(f, LOCK_EX | LOCK_NB) != 0) {
        rc = err_errno(e, errno, "cannot lock %s", lock);
        if (f >= 0) {
            close(f);
        }
        goto out;
    }
    *fd = f;
    rc = fs_fsync_dir(working, e);
out:
    free(dir);
    free(ing);
    free(errs);
    free(lock);
    return rc;
}

int run_lock_run(const char *working, const char *id, int *fd, struct err *e)
{
    *fd = -1;
    char *lock = run_path(working, id, RUN_PATH_LOCK, NULL);
    if (lock == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int f = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int rc = 0;
    int held = -1;
    /* Another process listing the runs (run_list: run_is_live) holds a run's lock for the
     * milliseconds it takes to look at it, which must not refuse this one: only a lock still held
     * after 2 s means a process works on the run. */
    for (int i = 0; f >= 0 && i < 200; i++) {
        held = flock(f, LOCK_EX | LOCK_NB);
        if (held == 0 || errno != EWOULDBLOCK) {
            break;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (f < 0) {
        rc = err_errno(e, errno, "cannot open lock %s", lock);
    } else if (held != 0) {
        rc = errno == EWOULDBLOCK
                 ? err_set(e, AE_BUSY, "run %s is in use by another astro process", id)
                 : err_errno(e, errno, "cannot lock %s", lock);
        close(f);
    } else {
        *fd = f;
    }
    free(lock);
    return rc;
}

json_t *manifest_str(const char *s)
{
    size_t n = strlen(s);
    if (buf_is_plain(s, n, false)) {
        return json_stringn(s, n);
    }
    struct buf b = BUF_INIT;
    json_t *j = NULL;
    if (buf_put_escaped(&b, s, n, false, false) == 0 && b.data != NULL) {
        j = json_stringn(b.data, b.len);
    }
    buf_release(&b);
    return j;
}

int manifest_new(struct manifest *m, const char *path, const char *run_id, const char *pipeline,
                 const char *config_path, const char *source_dir, struct err *e)
{
    char now[48];
    fs_now_iso(now, sizeof(now));
    m->path = strdup(path);
    m->root = json_pack("{s:i, s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:o, s:o, s:[], s:[]}",
                        "manifest_version", 1, "run_id", run_id, "pipeline", pipeline, "status",
                        run_status_name(RUN_STATUS_INGESTING), "reason", "failed_phase",
                        "created_at", now, "updated_at", now, "config", manifest_str(config_path),
                        "source_dir", manifest_str(source_dir), "files", "steps");
    if (m->path == NULL || m->root == NULL) {
        manifest_release(m);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    json_object_set_new(m->root, "astro_version", json_string(ASTRO_VERSION));
    return 0;
}

int manifest_load(struct manifest *m, const char *path, struct err *e)
{
    json_error_t je;
    m->root = json_load_file(path, 0, &je);
    m->path = strdup(path);
    if (m->root == NULL || !json_is_object(m->root) || m->path == NULL) {
        manifest_release(m);
        return err_set(e, AE_FORMAT, "%s:%d:%d: cannot read manifest: %s", path, je.line, je.column,
                       je.text);
    }
    return 0;
}

int manifest_set_status(struct manifest *m, enum run_status status, const char *reason,
                        enum run_phase failed_phase, struct err *e)
{
    char now[48];
    fs_now_iso(now, sizeof(now));
    const char *phase = run_phase_name(failed_phase);
    int rc = json_object_set_new(m->root, "status", json_string(run_status_name(status)));
    rc |= json_object_set_new(m->root, "updated_at", json_string(now));
    rc |= json_object_set_new(m->root, "reason", reason ? manifest_str(reason) : json_null());
    rc |= json_object_set_new(m->root, "failed_phase", phase ? json_string(phase) : json_null());
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    return 0;
}

enum run_status manifest_status(const struct manifest *m)
{
    enum run_status s = RUN_STATUS_UNKNOWN;
    (void)run_status_parse(json_string_value(json_object_get(m->root, "status")), &s);
    return s;
}

json_t *manifest_find(json_t *array, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(array, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n != NULL && strcmp(n, name) == 0) {
            return f;
        }
    }
    return NULL;
}

int manifest_put_file(struct manifest *m, const char *name, json_t *entry, struct err *e)
{
    json_t *files = json_object_get(m->root, "files");
    if (!json_is_array(files)) {
        files = json_array();
        if (files == NULL || json_object_set_new(m->root, "files", files) != 0) {
            json_decref(entry);
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n != NULL && strcmp(n, name) == 0) {
            return json_array_set_new(files, i, entry) == 0 ? 0
                                                            : err_set(e, AE_NOMEM, "out of memory");
        }
    }
    return json_array_append_new(files, entry) == 0 ? 0 : err_set(e, AE_NOMEM, "out of memory");
}

int manifest_save(const struct manifest *m, struct err *e)
{
    char *text = json_dumps(m->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (withnl == NULL) {
        free(text);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    int rc = fs_write_atomic(m->path, withnl, n + 1, e);
    free(withnl);
    return rc;
}

void manifest_release(struct manifest *m)
{
    if (m->root != NULL) {
        json_decref(m->root);
    }
    free(m->path);
    m->root = NULL;
    m->path = NULL;
}
