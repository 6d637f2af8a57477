/*
 * ingest.c - `astro ingest SOURCE_DIR`: the arguments, then one delivery through the engine
 * (ingest/delivery.h), then what to print and the exit status.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "cli/progress.h"
#include "cli/stop.h"
#include "ingest/delivery.h"
#include "run/project.h"
#include "util/buf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_ingest(FILE *out)
{
    fputs("usage: astro [global options] ingest SOURCE_DIR [--compression CODEC[:LEVEL]]\n"
          "                                            [--failure-cases csv] [--threads N]\n"
          "                                            [--fail-fast] [--memory-limit SIZE]\n"
          "\n"
          "Checks that SOURCE_DIR holds exactly the files astro.yaml expects, validates each\n"
          "against its schema and writes typed Parquet into a new run folder .working/RUN_ID/.\n"
          "Exit status: 0 all files valid, 1 data failed validation (or the folder does not\n"
          "hold exactly the expected files), 2 usage or configuration error, 3 environment\n"
          "error, 4 refused by the execution mode (serial run in progress).\n"
          "CODEC is zstd (default, level 1), snappy, gzip or none; zstd:3 or gzip:6 set a level\n"
          "(zstd: 1-22, or its fast levels -1 to -5: faster, larger files).\n"
          "--fail-fast stops each file at its first failing row (for development).\n"
          "--threads N: threads working on each file (reading, validating, encoding and\n"
          "compressing overlap); the default is the number of processors, at most 8.\n"
          "--memory-limit SIZE: memory the unique checks' key sets may take (default 256M;\n"
          "K, M, G suffixes); past it the keys spill to disk under the run folder.\n",
          out);
}

int cmd_ingest(const struct cli_globals *g, int argc, char **argv)
{
    struct delivery_opts o;
    memset(&o, 0, sizeof(o));
    o.codec = PQ_CODEC_ZSTD;
    /* zstd level 1: measured 12% faster than level 3 on 10M orders rows for 6% larger files. */
    o.level = 1;
    o.threads = cli_default_threads();
    struct err e;
    err_clear(&e);
    int rc = 0;
    struct log log;
    struct project proj;
    memset(&proj, 0, sizeof(proj));
    struct buf problems = BUF_INIT;
    struct progress_feed feed;
    char *source_dir = NULL;
    int caught = 0; /* the signal that stopped the ingest, raised again at the end */
    log_init(&log, stderr, g->level, g->log_json);

    static const struct option opts[] = {
        {"compression", required_argument, NULL, 'c'},
        {"failure-cases", required_argument, NULL, 'f'},
        {"threads", required_argument, NULL, 't'},
        {"fail-fast", no_argument, NULL, 'x'},
        {"memory-limit", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': {
            /* CODEC or CODEC:LEVEL */
            char name[32];
            const char *colon = strchr(optarg, ':');
            size_t nlen = colon ? (size_t)(colon - optarg) : strlen(optarg);
            snprintf(name, sizeof(name), "%.*s", (int)(nlen < sizeof(name) ? nlen : 31), optarg);
            rc = pq_codec_parse(name, &o.codec, &e);
            if (rc != 0) {
                goto out;
            }
            o.level = 0;
            if (colon != NULL) {
                char *end = NULL;
                long lv = strtol(colon + 1, &end, 10);
                /* zstd's fast levels -1..-5 trade size for speed (level 0 would mean zstd's
                 * default, 3: refused as unclear). */
                if (end == colon + 1 || *end != '\0' || lv < -5 || lv == 0 || lv > 22 ||
                    (o.codec != PQ_CODEC_ZSTD && o.codec != PQ_CODEC_GZIP) ||
                    (o.codec == PQ_CODEC_GZIP && (lv < 1 || lv > 9))) {
                    rc = err_set(&e, AE_CONFIG,
                                 "--compression %s: a level is 1-22 or -1 to -5 for zstd, 1-9 for "
                                 "gzip",
                                 optarg);
                    goto out;
                }
                o.level = (int)lv;
            }
            break;
        }
        case 'f':
            if (strcmp(optarg, "csv") != 0) {
                rc = err_set(&e, AE_CONFIG, "--failure-cases takes csv, not '%s'", optarg);
                goto out;
            }
            o.failure_cases_csv = true;
            break;
        case 't':
            rc = cli_parse_threads(optarg, &o.threads, &e);
            if (rc != 0) {
                goto out;
            }
            break;
        case 'x': o.fail_fast = true; break;
        case 'm':
            rc = cli_parse_memory_limit(optarg, &o.memory_limit, &e);
            if (rc != 0) {
                goto out;
            }
            break;
        case 'h': usage_ingest(stdout); return 0;
        default: usage_ingest(stderr); return AE_CONFIG;
        }
    }
    if (optind + 1 != argc) {
        usage_ingest(stderr);
        return AE_CONFIG;
    }
    rc = project_open(&proj, g->config_path, &e);
    if (rc != 0) {
        goto out;
    }
    source_dir = realpath(argv[optind], NULL);
    if (source_dir == NULL) {
        int en = errno;
        char *shown = buf_name_str(argv[optind]);
        rc = err_errno(&e, en, "source folder %s", shown ? shown : argv[optind]);
        free(shown);
        goto out;
    }
    int64_t threshold = proj.cfg->large_file_threshold_bytes;
    progress_feed_init(&feed, threshold > 0 ? (uint64_t)threshold : 0,
                       log.console_level <= LOG_INFO ? log.console : NULL, &log);
    o.project = &proj;
    o.source_dir = source_dir;
    o.log = &log;
    o.progress = progress_feed;
    o.progress_ctx = &feed;
    /* From here SIGINT and SIGTERM stop the ingest between blocks: temporary files removed, the
     * run recorded failed with the reason, then astro ends by the signal (stop.h). */
    struct stop_signals stop;
    rc = stop_signals_begin(&stop, &e);
    if (rc != 0) {
        goto out;
    }
    o.interrupted = stop_signals_check;
    o.interrupt_ctx = &stop;
    struct delivery_result res;
    rc = delivery_ingest(&o, &res, &problems, &e);
    caught = stop_signals_end(&stop);
    if (rc == AE_DATA && res.run_id[0] == '\0') {
        /* One log line per problem: a message is one line (log.h). */
        log_msg(&log, LOG_ERROR, NULL, "%s; nothing was ingested:", e.msg);
        const char *line = problems.data ? problems.data : "";
        while (*line != '\0') {
            size_t n = strcspn(line, "\n");
            log_msg(&log, LOG_ERROR, NULL, "  %.*s", (int)n, line);
            line += n + (line[n] == '\n');
        }
        err_clear(&e);
    } else if (rc == 0) {
        printf("%s\n", res.run_id);
    }
out:
    if (rc != 0 && e.code != 0) {
        log_msg(&log, LOG_ERROR, NULL, "%s", e.msg);
    }
    log_close(&log);
    project_close(&proj);
    buf_release(&problems);
    free(source_dir);
    stop_signals_reraise(caught);
    return rc;
}
