/*
 * cmd_run.c - `astro run [RUN_ID]`, `astro runs` and `astro status RUN_ID`.
 *
 * `astro run` takes the run's own lock (a second process gets exit 4), marks it running, executes
 * the steps (src/steps) and marks it completed, or failed with the step and the reason; running it
 * again resumes at the first step not done. With no RUN_ID it takes the newest run that is
 * ingested, or failed while running its steps.
 */
#include "cli/commands.h"

#include "cli/progress.h"
#include "run/project.h"
#include "run/record.h"
#include "run/run.h"
#include "steps/steps.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool runnable(const struct run_info *r)
{
    return r->status == RUN_STATUS_INGESTED ||
           (r->status == RUN_STATUS_FAILED && r->failed_phase == RUN_PHASE_RUN);
}

/* Picks the run: the one named, or the newest runnable one. */
static int pick_run(const struct project *p, const char *wanted, char id[RUN_ID_LEN + 1],
                    struct err *e)
{
    struct run_info *runs = NULL;
    size_t n = 0;
    int rc = run_list(p->working, p->stats, &runs, &n, e);
    if (rc != 0) {
        return rc;
    }
    const struct run_info *pick = NULL;
    for (size_t i = n; i-- > 0;) {
        if (wanted != NULL ? strcmp(runs[i].id, wanted) == 0 : runnable(&runs[i])) {
            pick = &runs[i];
            break;
        }
    }
    if (pick == NULL) {
        rc = wanted ? err_set(e, AE_CONFIG, "no run %s under %s", wanted, p->working)
                    : err_set(e, AE_CONFIG,
                              "no run to execute under %s (none is ingested, or "
                              "failed while running its steps)",
                              p->working);
    } else if (pick->status == RUN_STATUS_COMPLETED) {
        rc = 0; /* nothing to do; said by the caller */
        memcpy(id, pick->id, RUN_ID_LEN + 1);
    } else if (pick->status == RUN_STATUS_ABANDONED) {
        rc = err_set(e, AE_CONFIG, "run %s was abandoned (astro runs abandon): it is not run",
                     pick->id);
    } else if (!runnable(pick)) {
        rc = pick->status == RUN_STATUS_FAILED
                 ? err_set(e, AE_CONFIG,
                           "run %s failed during ingest: it has nothing to run; fix "
                           "the files and ingest them again",
                           pick->id)
                 : err_set(e, AE_BUSY, "run %s is %s in another astro process", pick->id,
                           run_status_name(pick->status));
    } else {
        memcpy(id, pick->id, RUN_ID_LEN + 1);
    }
    run_list_free(runs, n);
    return rc;
}

int cmd_run(const struct cli_globals *g, int argc, char **argv)
{
    struct err e;
    err_clear(&e);
    struct project p;
    struct log lg;
    struct progress_feed feed;
    struct run_record rec;
    memset(&rec, 0, sizeof(rec));
    int lock = -1;
    char *log_path = NULL;
    log_init(&lg, stderr, g->level, g->log_json);
    const char *wanted = NULL;
    bool reload = false, usage = false, help = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reload") == 0) {
            reload = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            help = true;
        } else if (argv[i][0] == '-' || wanted != NULL) {
            usage = true;
        } else {
            wanted = argv[i];
        }
    }
    if (usage || help) {
        fputs("usage: astro [global options] run [--reload] [RUN_ID]\n"
              "\n"
              "Executes the pipeline's steps (load, sql, exec) for an ingested run, in order, and\n"
              "marks it completed. Running it again resumes at the first step not done. Without\n"
              "RUN_ID: the newest run that is ingested or failed while running its steps.\n"
              "\n"
              "  --reload   run every step again (a completed run too) and load every file, even\n"
              "             one astro_checkpoints holds with the same schema; its checkpoint row is\n"
              "             rewritten, and mode append adds its rows a second time\n",
              help && !usage ? stdout : stderr);
        return help && !usage ? 0 : AE_CONFIG;
    }
    int rc = project_open(&p, g->config_path, &e);
    if (rc == 0) {
        rc = project_open_stats(&p, &e);
    }
    if (rc != 0) {
        goto out;
    }
    char id[RUN_ID_LEN + 1] = "";
    rc = run_lock_working(p.working, &lock, &e);
    if (rc == 0) {
        rc = pick_run(&p, wanted, id, &e);
    }
    run_unlock(lock);
    lock = -1;
    if (rc != 0) {
        goto out;
    }
    log_path = run_path(p.working, id, RUN_PATH_LOG, NULL);
    if (log_path == NULL) {
        rc = err_set(&e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = run_lock_run(p.working, id, &lock, &e);
    if (rc == 0) {
        rc = run_record_open(&rec, p.stats, p.working, id, &e);
    }
    if (rc != 0) {
        goto out;
    }
    if (run_record_status(&rec) == RUN_STATUS_COMPLETED && !reload) {
        log_msg(&lg, LOG_INFO, NULL, "run %s is already completed", id);
        printf("%s\n", id);
        goto out;
    }
    rc = log_open_file(&lg, log_path, "run", id, &e);
    if (rc == 0) {
        rc = run_record_set_status(&rec, RUN_STATUS_RUNNING, NULL, RUN_PHASE_NONE, &e);
    }
    if (rc != 0) {
        goto out;
    }
    log_msg(&lg, LOG_INFO, NULL, "run %s: %zu step(s) of pipeline %s", id, p.cfg->nsteps,
            p.cfg->pipeline);
    struct steps_env env = {
        .cfg = p.cfg,
        .project_dir = p.dir,
        .m = &rec.manifest,
        .rec = &rec,
        .log = &lg,
        .run_id = rec.id,
        .run_dir = rec.dir,
        .reload = reload,
        .progress = progress_feed_load,
        .progress_ctx = &feed,
    };
    /* Load steps show a bar on a terminal (progress.h), not in logs. */
    progress_feed_init(&feed, 0, lg.console_level <= LOG_INFO ? lg.console : NULL, &lg);
    rc = steps_run(&env, &e);
    if (rc == 0) {
        rc = run_record_set_status(&rec, RUN_STATUS_COMPLETED, NULL, RUN_PHASE_NONE, &e);
        if (rc == 0) {
            log_msg(&lg, LOG_INFO, NULL, "run %s completed", id);
            printf("%s\n", id);
        }
    } else {
        struct err e2;
        if (run_record_set_status(&rec, RUN_STATUS_FAILED, e.msg, RUN_PHASE_RUN, &e2) != 0) {
            log_msg(&lg, LOG_ERROR, NULL, "%s", e2.msg);
        }
        log_msg(&lg, LOG_ERROR, NULL, "run %s failed: %s", id, e.msg);
        err_clear(&e);
    }
out:
    if (rc != 0 && e.code != 0) {
        log_msg(&lg, LOG_ERROR, NULL, "%s", e.msg);
    }
    log_close(&lg);
    run_unlock(lock);
    run_record_release(&rec);
    project_close(&p);
    free(log_path);
    return rc;
}

/* A reason may quote a file name: printed escaped (buf_put_escaped), one line whatever it holds. */
static void print_reason(const char *prefix, const char *reason)
{
    char *shown = buf_escaped_str(reason ? reason : "");
    printf("%s%s\n", prefix, shown ? shown : "(out of memory)");
    free(shown);
}

static int print_run_row(void *ctx, const char *const *c)
{
    (void)ctx;
    printf("%-7s %-10s %-16s %-32s %-32s ", c[0], c[2] ? c[2] : "", c[1] ? c[1] : "",
           c[3] ? c[3] : "", c[4] ? c[4] : "-");
    print_reason("", c[5]);
    return 0;
}

/* `astro runs abandon RUN_ID [--reason TEXT]`: marks a run that no process works on, and that is
 * not completed, abandoned with the reason (manifest and stats.db), so that serial mode no longer
 * waits for it. A live run (its lock is held) is refused with AE_BUSY. */
static int runs_abandon(const struct cli_globals *g, int argc, char **argv)
{
    const char *id = NULL, *reason = NULL;
    bool usage = false, help = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            help = true;
        } else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
            reason = argv[++i];
        } else if (strncmp(argv[i], "--reason=", 9) == 0) {
            reason = argv[i] + 9; /* a reason that looks like a global option (cli.c) */
        } else if (argv[i][0] == '-' || id != NULL) {
            usage = true;
        } else {
            id = argv[i];
        }
    }
    if (usage || help || id == NULL) {
        bool out = help && !usage;
        fputs("usage: astro [global options] runs abandon RUN_ID [--reason TEXT]\n\n"
              "Gives up a run that is not completed and that no astro process works on (such as\n"
              "one failed in a step that will always fail): it is recorded as abandoned, with the\n"
              "reason, in manifest.json and stats.db, is never run, and no longer blocks serial\n"
              "mode. Its folder and the rows it loaded stay as they are.\n",
              out ? stdout : stderr);
        return out ? 0 : AE_CONFIG;
    }
    struct err e;
    err_clear(&e);
    struct project p;
    struct run_record rec;
    memset(&rec, 0, sizeof(rec));
    int wlock = -1, lock = -1;
    struct run_info *runs = NULL;
    size_t n = 0;
    const struct run_info *r = NULL;
    int rc = project_open(&p, g->config_path, &e);
    if (rc == 0) {
        rc = project_open_stats(&p, &e);
    }
    /* Under the .working lock, so that no ingest decides on serial mode meanwhile; run_list also
     * records a run whose process died as failed (interrupted) first. */
    rc = rc != 0 ? rc : run_lock_working(p.working, &wlock, &e);
    rc = rc != 0 ? rc : run_list(p.working, p.stats, &runs, &n, &e);
    for (size_t i = 0; rc == 0 && i < n && r == NULL; i++) {
        r = strcmp(runs[i].id, id) == 0 ? &runs[i] : NULL;
    }
    if (rc == 0 && r == NULL) {
        rc = err_set(&e, AE_CONFIG, "no run %s under %s", id, p.working);
    }
    if (rc != 0) {
        goto out;
    }
    rc = run_lock_run(p.working, id, &lock, &e);
    if (rc == AE_BUSY) {
        err_set(&e, AE_BUSY,
                "run %s is %s in another astro process: it cannot be abandoned while it runs",
                id, run_status_name(r->status));
        goto out;
    }
    rc = rc != 0 ? rc : run_record_open(&rec, p.stats, p.working, id, &e);
    if (rc != 0) {
        goto out;
    }
    enum run_status st = run_record_status(&rec);
    if (st == RUN_STATUS_COMPLETED) {
        rc = err_set(&e, AE_CONFIG, "run %s is completed: there is nothing to abandon", id);
        goto out;
    }
    if (st == RUN_STATUS_ABANDONED) {
        printf("%s\n", id); /* already abandoned: its reason stays */
        goto out;
    }
    char why[1024];
    snprintf(why, sizeof(why), "abandoned (was %s): %s", run_status_name(st),
             reason != NULL && reason[0] != '\0' ? reason : "no reason given");
    rc = run_record_set_status(&rec, RUN_STATUS_ABANDONED, why, RUN_PHASE_NONE, &e);
    if (rc == 0) {
        printf("%s\n", id);
    }
out:
    if (rc != 0) {
        fprintf(stderr, "astro: %s\n", e.msg);
    }
    run_unlock(lock);
    run_unlock(wlock);
    run_list_free(runs, n);
    run_record_release(&rec);
    project_close(&p);
    return rc;
}

int cmd_runs(const struct cli_globals *g, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "abandon") == 0) {
        return runs_abandon(g, argc - 1, argv + 1);
    }
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0;
        fputs("usage: astro [global options] runs\n"
              "       astro [global options] runs abandon RUN_ID [--reason TEXT]\n\n"
              "Lists the runs recorded in .astro/stats.db, newest first; `abandon` gives up a run\n"
              "that is not completed and not in use (see `astro runs abandon --help`).\n",
              help ? stdout : stderr);
        return help ? 0 : AE_CONFIG;
    }
    struct err e;
    err_clear(&e);
    struct project p;
    int rc = project_open(&p, g->config_path, &e);
    if (rc == 0) {
        rc = project_open_stats(&p, &e);
    }
    if (rc == 0) {
        /* Refreshes the records (manifest and stats.db) of runs whose process died: marked
         * failed, interrupted, before stats.db is listed. */
        struct run_info *runs = NULL;
        size_t n = 0;
        rc = run_list(p.working, p.stats, &runs, &n, &e);
        run_list_free(runs, n);
    }
    if (rc == 0) {
        printf("%-7s %-10s %-16s %-32s %-32s %s\n", "RUN", "STATUS", "PIPELINE", "STARTED",
               "FINISHED", "REASON");
        rc = stats_each_run(p.stats, print_run_row, NULL, &e);
    }
    if (rc != 0) {
        fprintf(stderr, "astro: %s\n", e.msg);
    }
    project_close(&p);
    return rc;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

int cmd_status(const struct cli_globals *g, int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fputs("usage: astro [global options] status [RUN_ID]\n\nShows one run: its status, files "
              "(with row counts) and steps.\nWithout RUN_ID: the newest run (the last one "
              "created), whatever its status.\n",
              help ? stdout : stderr);
        return help ? 0 : AE_CONFIG;
    }
    char newest[RUN_ID_LEN + 1] = "";
    const char *id = argc == 2 ? argv[1] : newest;
    struct err e;
    err_clear(&e);
    struct project p;
    struct manifest m = {NULL, NULL};
    char *path = NULL;
    int rc = project_open(&p, g->config_path, &e);
    if (rc == 0) {
        rc = project_open_stats(&p, &e);
    }
    if (rc == 0) {
        /* Refreshes an interrupted run's record (manifest and stats.db). */
        struct run_info *runs = NULL;
        size_t n = 0;
        rc = run_list(p.working, p.stats, &runs, &n, &e);
        if (rc == 0 && n > 0) {
            memcpy(newest, runs[n - 1].id, sizeof(newest)); /* run_list: oldest first */
        }
        run_list_free(runs, n);
    }
    if (rc == 0 && id[0] == '\0') {
        rc = err_set(&e, AE_CONFIG, "no run under %s yet: `astro ingest SOURCE_DIR` starts one",
                     p.working);
    } else if (rc == 0 && !run_id_valid(id)) {
        rc = err_set(&e, AE_CONFIG, "no run %s under %s", id, p.working);
    } else if (rc == 0) {
        path = run_path(p.working, id, RUN_PATH_MANIFEST, NULL);
        rc = path ? manifest_load(&m, path, &e) : err_set(&e, AE_NOMEM, "out of memory");
        if (rc == AE_FORMAT) {
            rc = err_set(&e, AE_CONFIG, "no run %s under %s", id, p.working);
        }
    }
    if (rc == 0) {
        json_t *r = m.root;
        printf("run %s  pipeline %s  status %s\n", jstr(r, "run_id"), jstr(r, "pipeline"),
               jstr(r, "status"));
        printf("created %s  updated %s\n", jstr(r, "created_at"), jstr(r, "updated_at"));
        if (json_is_string(json_object_get(r, "reason"))) {
            print_reason("reason: ", jstr(r, "reason"));
        }
        printf("\n%-24s %-9s %12s %12s %12s  %s\n", "FILE", "STATUS", "READ", "VALID", "INVALID",
               "OUTPUT");
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(r, "files"), i, f)
        {
            printf("%-24s %-9s %12lld %12lld %12lld  %s\n", jstr(f, "name"), jstr(f, "status"),
                   (long long)json_integer_value(json_object_get(f, "rows_read")),
                   (long long)json_integer_value(json_object_get(f, "rows_valid")),
                   (long long)json_integer_value(json_object_get(f, "rows_invalid")),
                   jstr(f, "output"));
        }
        json_t *steps = json_object_get(r, "steps");
        if (json_array_size(steps) > 0) {
            printf("\n%-24s %-6s %-9s %12s  %s\n", "STEP", "KIND", "STATUS", "ROWS", "REASON");
            json_array_foreach(steps, i, f)
            {
                json_t *rows = json_object_get(f, "rows");
                char rbuf[32] = "-";
                if (json_is_integer(rows)) {
                    snprintf(rbuf, sizeof(rbuf), "%lld", (long long)json_integer_value(rows));
                }
                printf("%-24s %-6s %-9s %12s  ", jstr(f, "name"), jstr(f, "kind"),
                       jstr(f, "status"), rbuf);
                print_reason("",
                             json_is_string(json_object_get(f, "reason")) ? jstr(f, "reason") : "");
            }
        }
    } else {
        fprintf(stderr, "astro: %s\n", e.msg);
    }
    manifest_release(&m);
    project_close(&p);
    free(path);
    return rc;
}
