/*
 * cmd_watch.c - `astro watch [DATA_ROOT] [--once] [--threads N] | --status`: the drop-zone service
 * (src/watch) on DATA_ROOT or watch.root, until SIGTERM/SIGINT (exit 0 once the current file is
 * finished or rolled back), or for one pass with --once.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "cli/stop.h"
#include "run/project.h"
#include "util/fs.h"
#include "watch/watch.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_watch(FILE *out)
{
    fputs("usage: astro [global options] watch [DATA_ROOT] [--once] [--threads N]\n"
          "       astro [global options] watch [DATA_ROOT] --status\n"
          "\n"
          "Serves the drop zone DATA_ROOT (default: watch.root in astro.yaml, relative to its\n"
          "folder): files that land in DATA_ROOT/incoming/ are taken in once ready, validated,\n"
          "loaded into the table watch.loads names for their dataset, and moved to processed/\n"
          "or quarantine/ (with NAME.errors.jsonl). SIGTERM or SIGINT: the current file is\n"
          "finished or rolled back, then exit 0.\n"
          "--once: one pass over incoming/, then exit: 0 when nothing was quarantined or left\n"
          "for a retry, 1 when a file was quarantined, 3 when an environment error left a file\n"
          "in incoming/.\n"
          "--threads N: threads working on each file (default: the processors, at most 8).\n"
          "--status: what is queued in incoming/ (and why it waits), what each running worker\n"
          "takes in, and the newest files of processed/ and quarantine/.\n",
          out);
}

int cmd_watch(const struct cli_globals *g, int argc, char **argv)
{
    struct err e;
    err_clear(&e);
    bool once = false;
    bool status = false;
    int threads = cli_default_threads();
    int rc = 0;
    static const struct option opts[] = {
        {"once", no_argument, NULL, 'o'},
        {"status", no_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': once = true; break;
        case 's': status = true; break;
        case 't':
            rc = cli_parse_threads(optarg, &threads, &e);
            if (rc != 0) {
                fprintf(stderr, "astro: %s\n", e.msg);
                return rc;
            }
            break;
        case 'h': usage_watch(stdout); return 0;
        default: usage_watch(stderr); return AE_CONFIG;
        }
    }
    if (argc - optind > 1) {
        usage_watch(stderr);
        return AE_CONFIG;
    }
    struct log log;
    log_init(&log, stderr, g->level, g->log_json);
    struct project proj;
    char *root = NULL;
    struct stop_signals stop = {.fd = -1};
    rc = project_open(&proj, g->config_path, &e);
    if (rc != 0) {
        goto out;
    }
    const char *want = optind < argc ? argv[optind] : proj.cfg->watch.root;
    if (want == NULL) {
        rc = err_set(&e, AE_CONFIG, "astro watch needs a DATA_ROOT argument or watch.root in %s",
                     proj.cfg->path);
        goto out;
    }
    if (!proj.cfg->watch.present) {
        rc = err_set(&e, AE_CONFIG,
                     "%s has no watch: block (watch.loads says where each dataset's files go)",
                     proj.cfg->path);
        goto out;
    }
    root = want[0] == '/' || optind < argc ? strdup(want) : fs_join(proj.dir, want);
    if (root == NULL) {
        rc = err_set(&e, AE_NOMEM, "out of memory");
        goto out;
    }
    /* SIGTERM/SIGINT through a signalfd (cli/stop.h): the service rolls back the file it reads,
     * stops, and exits 0 as a service manager expects. */
    rc = stop_signals_begin(&stop, &e);
    if (rc != 0) {
        goto out;
    }
    struct watch_opts wo = {
        .project = &proj,
        .root = root,
        .log = &log,
        .threads = threads,
        .once = once,
        .interrupted = stop_signals_check,
        .interrupt_ctx = &stop,
        .stop_fd = stop.fd,
    };
    if (status) {
        rc = watch_status(&wo, stdout, &e);
        goto out;
    }
    struct watch_summary sum;
    rc = watch_run(&wo, &sum, &e);
    if (rc == 0 && once) {
        rc = sum.deferred > 0 ? AE_IO : sum.quarantined > 0 ? AE_DATA : 0;
    }
out:
    (void)stop_signals_end(&stop); /* a stop request is the service's normal end: exit 0 */
    if (rc != 0 && e.code != 0) {
        log_msg(&log, LOG_ERROR, NULL, "%s", e.msg);
    }
    log_close(&log);
    project_close(&proj);
    free(root);
    return rc;
}
