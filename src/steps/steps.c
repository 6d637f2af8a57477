/*
 * steps.c - the steps runner: load, sql and exec steps with their state in the manifest and
 * stats.db.
 */
#include "steps/steps.h"

#include "batch/batch.h"
#include "load/load.h"
#include "parquet/pq.h"
#include "sink/linemap.h"
#include "util/buf.h"
#include "util/fs.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Rows per batch when streaming a Parquet file into a database. */
#define LOAD_BATCH_ROWS 8192

static const char *kind_name(enum step_kind k)
{
    switch (k) {
    case STEP_LOAD: return "load";
    case STEP_SQL: return "sql";
    default: return "exec";
    }
}

/* The manifest's files[] entry of a dataset, or NULL. */
static json_t *dataset_entry(const struct manifest *m, const char *dataset)
{
    return manifest_find(json_object_get(m->root, "files"), dataset);
}

/* The recorded status of step st (pending when new: it is added to the manifest). */
static int step_entry(const struct steps_env *env, const struct step_spec *st,
                      enum step_status *status, struct err *e)
{
    return run_record_step(env->rec, st->name, kind_name(st->kind), status, e);
}

/* Records a step's state in the run record (manifest saved, and stats.db). */
static int record_step(const struct steps_env *env, const struct step_spec *st,
                       enum step_status status, int64_t rows, const char *reason, struct err *e)
{
    return run_record_put_step(env->rec, st->name, kind_name(st->kind), status, rows, reason, e);
}

static int run_load(const struct steps_env *env, const struct step_spec *st, int64_t *rows,
                    bool *skipped, struct err *e)
{
    const struct target_spec *t = config_find_target(env->cfg, st->target);
    json_t *f = dataset_entry(env->m, st->dataset);
    const char *output = f ? json_string_value(json_object_get(f, "output")) : NULL;
    const char *sha = f ? json_string_value(json_object_get(f, "sha256")) : NULL;
    if (t == NULL) {
        return err_set(e, AE_CONFIG, "target '%s' is not defined under targets", st->target);
    }
    if (output == NULL || sha == NULL) {
        return err_set(e, AE_CONFIG, "dataset '%s' has no ingested output in run %s", st->dataset,
                       env->run_id);
    }
    const char *table = st->table ? st->table : st->dataset;
    const char *fp = json_string_value(json_object_get(f, "schema_fingerprint"));
    int rc = 0;
    char *path = fs_join(env->run_dir, output);
    struct pq_reader *r = NULL;
    struct batch b;
    struct sink sink = {NULL, NULL};
    bool open = false;
    struct dtype_info *types = NULL;
    struct column_desc *cols = NULL;
    struct load_result res;
    struct line_map lines;
    uint64_t row = 0;
    memset(&b, 0, sizeof(b));
    memset(&res, 0, sizeof(res));
    line_map_init(&lines);
    if (path == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    rc = pq_reader_open(&r, path, e);
    if (rc != 0) {
        goto out;
    }
    /* The source line of each row, for the load's messages. A file without a usable map (an
     * earlier astro wrote it) leaves every line unknown (0), never a row number as a line. */
    struct err lerr;
    if (line_map_parse(&lines, pq_reader_kv(r, LINE_MAP_KEY), &lerr) == AE_NOMEM) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    size_t n = pq_reader_ncols(r);
    types = calloc(n ? n : 1, sizeof(*types));
    cols = calloc(n ? n : 1, sizeof(*cols));
    if (types == NULL || cols == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        cols[i] = *pq_reader_column(r, i);
        types[i] = cols[i].type;
    }
    if (fp == NULL) {
        fp = pq_reader_kv(r, "astro.schema_fingerprint");
    }
    rc = batch_init(&b, types, n, LOAD_BATCH_ROWS);
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    struct load_opts lo = {
        .table = table,
        .mode = st->mode,
        .key = (const char *const *)st->key,
        .nkey = st->nkey,
        .create = st->create,
        .on_conflict = st->on_conflict,
        .run_id = env->run_id,
        .dataset = st->dataset,
        .source_sha256 = sha,
        .schema_fingerprint = fp,
        .reload = env->reload,
        .renames = (const char *const *)st->renames,
        .nrenames = st->nrenames,
        .result = &res,
        .log = env->log,
    };
    rc = load_open(&sink, t, &lo, cols, n, e);
    if (rc != 0) {
        goto out;
    }
    open = true;
    if (res.skipped) {
        /* Checkpointed with this schema: nothing to read. */
        open = false;
        rc = sink_commit(&sink, NULL, e);
        if (rc == 0) {
            *skipped = true;
            log_msg(env->log, LOG_INFO, st->name,
                    "already loaded: %s (sha256 %.12s...) is checkpointed in target %s, table %s "
                    "with the same schema (astro run --reload loads it again)",
                    st->dataset, sha, t->name, table);
        }
        goto out;
    }
    struct steps_progress prog = {st->name, 0, pq_reader_nrows(r), 0, false};
    struct stat pst;
    if (stat(path, &pst) == 0) {
        prog.total_bytes = (uint64_t)pst.st_size;
    }
    for (;;) {
        batch_reset(&b);
        rc = pq_reader_next(r, &b, e);
        if (rc != 0 || b.nrows == 0) {
            break;
        }
        for (size_t i = 0; i < b.nrows; i++) {
            b.line[i] = line_map_line(&lines, row++);
        }
        rc = sink_write(&sink, &b, e);
        if (rc != 0) {
            break;
        }
        if (env->progress != NULL) {
            prog.rows = row;
            env->progress(env->progress_ctx, &prog);
        }
    }
    if (env->progress != NULL) {
        prog.rows = row;
        prog.done = true;
        env->progress(env->progress_ctx, &prog);
    }
    if (rc != 0) {
        goto out;
    }
    open = false;
    rc = sink_commit(&sink, NULL, e);
    if (rc != 0) {
        goto out;
    }
    *rows = (int64_t)res.rows_sent;
    *skipped = res.skipped;
    log_msg(env->log, LOG_INFO, st->name, "%s: %llu rows sent to %s.%s (%s), %llu rows written",
            st->dataset, (unsigned long long)res.rows_sent, t->name, table,
            st->mode == LOAD_UPSERT    ? "upsert"
            : st->mode == LOAD_REPLACE ? "replace"
                                       : "append",
            (unsigned long long)res.rows_written);
out:
    if (open) {
        sink_abort(&sink);
    }
    pq_reader_free(r);
    batch_release(&b);
    line_map_release(&lines);
    free(types);
    free(cols);
    free(path);
    return rc;
}

/* The SQL of a sql step: inline statements or the file (relative to astro.yaml). */
static int sql_text(const struct steps_env *env, const struct step_spec *st, char **out,
                    struct err *e)
{
    if (st->statements != NULL) {
        *out = strdup(st->statements);
        return *out ? 0 : err_set(e, AE_NOMEM, "out of memory");
    }
    char *path =
        st->sql_file[0] == '/' ? strdup(st->sql_file) : fs_join(env->project_dir, st->sql_file);
    if (path == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = fs_read_file(path, out, NULL, e);
    free(path);
    return rc;
}

static int run_sql(const struct steps_env *env, const struct step_spec *st, struct err *e)
{
    const struct target_spec *t = config_find_target(env->cfg, st->target);
    if (t == NULL) {
        return err_set(e, AE_CONFIG, "target '%s' is not defined under targets", st->target);
    }
    char *sql = NULL;
    int rc = sql_text(env, st, &sql, e);
    if (rc != 0) {
        return rc;
    }
    rc = load_exec_sql(t, sql, env->log, e);
    free(sql);
    if (rc == 0) {
        log_msg(env->log, LOG_INFO, st->name, "SQL committed on target %s", t->name);
    }
    return rc;
}

/* ASTRO_DATASET_<NAME>: NAME upper-cased, anything but [A-Z0-9] as '_'. */
static int dataset_env(const struct steps_env *env, struct err *e)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(env->m->root, "files"), i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        const char *out = json_string_value(json_object_get(f, "output"));
        if (n == NULL || out == NULL) {
            continue;
        }
        char key[256];
        int k = snprintf(key, sizeof(key), "ASTRO_DATASET_");
        for (size_t j = 0; n[j] != '\0' && (size_t)k + 1 < sizeof(key); j++) {
            unsigned char c = (unsigned char)n[j];
            key[k++] = isalnum(c) ? (char)toupper(c) : '_';
        }
        key[k] = '\0';
        char *path = fs_join(env->run_dir, out);
        if (path == NULL || setenv(key, path, 1) != 0) {
            free(path);
            return err_set(e, AE_NOMEM, "out of memory");
        }
        free(path);
    }
    return 0;
}

static int run_exec(const struct steps_env *env, const struct step_spec *st, struct err *e)
{
    /* execvp needs a NULL-terminated vector; the config keeps argv with a count. */
    char **argv = calloc(st->nargv + 1, sizeof(*argv));
    if (argv == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    memcpy(argv, st->argv, st->nargv * sizeof(*argv));
    int pfd[2];
    if (pipe(pfd) != 0) {
        free(argv);
        return err_errno(e, errno, "cannot create a pipe");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int errnum = errno;
        close(pfd[0]);
        close(pfd[1]);
        free(argv);
        return err_errno(e, errnum, "cannot start %s", st->argv[0]);
    }
    if (pid == 0) {
        /* The child: output to the pipe, environment, project folder, then the command. */
        struct err ce;
        dup2(pfd[1], STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        if (chdir(env->project_dir) != 0 || setenv("ASTRO_RUN_ID", env->run_id, 1) != 0 ||
            setenv("ASTRO_RUN_DIR", env->run_dir, 1) != 0 ||
            setenv("ASTRO_CONFIG", env->cfg->path, 1) != 0 || dataset_env(env, &ce) != 0) {
            fprintf(stderr, "astro: cannot prepare the environment of %s\n", st->argv[0]);
            _exit(127);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "astro: cannot run %s: %s\n", st->argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    free(argv);
    FILE *out = fdopen(pfd[0], "r");
    if (out != NULL) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, out)) > 0) {
            if (line[len - 1] == '\n') {
                line[len - 1] = '\0';
            }
            log_msg(env->log, LOG_INFO, st->name, "| %s", line);
        }
        free(line);
        fclose(out);
    } else {
        close(pfd[0]);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return err_errno(e, errno, "cannot wait for %s", st->argv[0]);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (WIFEXITED(status)) {
        return err_set(e, AE_DATA, "%s exited with status %d", st->argv[0], WEXITSTATUS(status));
    }
    return err_set(e, AE_DATA, "%s was killed by signal %d", st->argv[0],
                   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int steps_run(const struct steps_env *env, struct err *e)
{
    for (size_t i = 0; i < env->cfg->nsteps; i++) {
        const struct step_spec *st = &env->cfg->steps[i];
        enum step_status status;
        int rc = step_entry(env, st, &status, e);
        if (rc != 0) {
            return rc;
        }
        if (!env->reload && (status == STEP_STATUS_DONE || status == STEP_STATUS_SKIPPED)) {
            log_msg(env->log, LOG_INFO, st->name, "already %s in an earlier session",
                    step_status_name(status));
            continue;
        }
        rc = record_step(env, st, STEP_STATUS_RUNNING, -1, NULL, e);
        if (rc != 0) {
            return rc;
        }
        log_msg(env->log, LOG_INFO, st->name, "step %zu of %zu (%s) started", i + 1,
                env->cfg->nsteps, kind_name(st->kind));
        double t0 = fs_monotonic();
        int64_t rows = -1;
        bool skipped = false;
        switch (st->kind) {
        case STEP_LOAD: rc = run_load(env, st, &rows, &skipped, e); break;
        case STEP_SQL: rc = run_sql(env, st, e); break;
        default: rc = run_exec(env, st, e); break;
        }
        if (rc != 0) {
            err_prefix(e, "step %s", st->name);
            struct err e2;
            if (record_step(env, st, STEP_STATUS_FAILED, rows, e->msg, &e2) != 0) {
                log_msg(env->log, LOG_ERROR, st->name, "%s", e2.msg);
            }
            return rc;
        }
        enum step_status done = skipped ? STEP_STATUS_SKIPPED : STEP_STATUS_DONE;
        rc = record_step(env, st, done, rows, skipped ? "already loaded (checkpoint)" : NULL, e);
        if (rc != 0) {
            return rc;
        }
        log_msg(env->log, LOG_INFO, st->name, "step %s in %.2f s", step_status_name(done),
                fs_monotonic() - t0);
    }
    return 0;
}
