/*
 * cmd_validate.c - `astro validate FILE [--spec NAME]`: one file through the same streaming core
 * as ingest (ingest/engine.h) with no output sink and no run folder, and a report of what failed.
 *
 * The verdict is the one `astro ingest` would reach for the file (thresholds included), so a data
 * team can check a delivery before ingesting it. Nothing is written except what was asked for:
 * the text or JSON report on stdout and, with --failure-cases csv, the CSV of failure cases.
 * Exit statuses: 0 valid, 1 invalid, 2 usage or configuration, 3 environment.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "cli/progress.h"
#include "ingest/engine.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/fs.h"
#include "validate/validate.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Examples shown per (column, check) in the text report and in the JSON document. */
#define VALIDATE_EXAMPLES 5

struct vopts {
    const char *file;
    const char *spec_name;
    bool json;
    bool fail_fast;
    bool cases_csv;
    const char *cases_path; /* NULL: {file's base name without extension}.failure_cases.csv */
    uint64_t max_cases;     /* 0 = unlimited */
    int threads;
    uint64_t memory_limit; /* 0 = the engine's default */
};

static void usage_validate(FILE *out)
{
    fputs("usage: astro [global options] validate FILE [--spec NAME] [--format text|json]\n"
          "                [--fail-fast] [--max-failure-cases N] [--failure-cases csv]\n"
          "                [--failure-cases-file PATH] [--threads N] [--memory-limit SIZE]\n"
          "\n"
          "Validates FILE against a spec of astro.yaml without creating a run and without\n"
          "writing Parquet. The spec is --spec NAME, else the one spec whose source_pattern\n"
          "matches the file's name.\n"
          "  --format FMT             text (default): counts per column and check with the\n"
          "                           first examples and their lines, then the verdict;\n"
          "                           json: one JSON document for machines\n"
          "  --fail-fast              stop at the first row with a failure\n"
          "  --max-failure-cases N    keep and print the detail of the first N cases only\n"
          "                           (counts stay exact; the report says it was capped)\n"
          "  --failure-cases csv      also write the cases in Pandera's failure_cases columns\n"
          "                           to NAME.failure_cases.csv (NAME: FILE's base name)\n"
          "  --failure-cases-file P   the same, to P ('-' for stdout)\n"
          "  --threads N              threads reading and validating the file (default: the\n"
          "                           number of processors, at most 8)\n"
          "  --memory-limit SIZE      memory the unique checks' key sets may take (default\n"
          "                           256M; K, M, G suffixes); past it the keys spill to\n"
          "                           disk under $TMPDIR (or /tmp), with the same result\n"
          "Exit status: 0 valid, 1 invalid, 2 usage or configuration error, 3 environment\n"
          "error.\n",
          out);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The spec for the file: by name, else the single one whose source_pattern matches its name. */
static int pick_spec(const struct config *cfg, const struct vopts *vo,
                     const struct ingest_spec **out, struct err *e)
{
    *out = NULL;
    struct buf list = BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < cfg->ningest && rc == 0; i++) {
        rc = buf_printf(&list, "%s%s (%s)", i ? ", " : "", cfg->ingest[i].name,
                        cfg->ingest[i].source_pattern);
    }
    if (rc != 0) {
        buf_release(&list);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    if (vo->spec_name != NULL) {
        *out = config_find_ingest(cfg, vo->spec_name);
        if (*out == NULL) {
            rc = err_set(e, AE_CONFIG, "%s has no ingest file named '%s'; its specs: %s", cfg->path,
                         vo->spec_name, list.data ? list.data : "(none)");
        }
        buf_release(&list);
        return rc;
    }
    const char *name = base_name(vo->file);
    struct buf hits = BUF_INIT;
    size_t nhits = 0;
    for (size_t i = 0; i < cfg->ningest && rc == 0; i++) {
        if (config_spec_matches(&cfg->ingest[i], name)) {
            *out = &cfg->ingest[i];
            rc = buf_printf(&hits, "%s%s", nhits++ ? ", " : "", cfg->ingest[i].name);
        }
    }
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else if (nhits == 0) {
        rc = err_set(e, AE_CONFIG,
                     "no source_pattern of %s matches the file name '%s'; name the spec with "
                     "--spec NAME (specs: %s)",
                     cfg->path, name, list.data ? list.data : "(none)");
    } else if (nhits > 1) {
        rc = err_set(e, AE_CONFIG,
                     "the file name '%s' matches the source_pattern of %zu specs (%s); choose one "
                     "with --spec NAME",
                     name, nhits, hits.data);
    }
    if (rc != 0) {
        *out = NULL;
    }
    buf_release(&list);
    buf_release(&hits);
    return rc;
}

static int parse_count(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

/* The JSON document: verdict, exact counts, and per (column, check) counts and examples. */
static int write_json(FILE *out, const struct vopts *vo, const struct ingest_spec *spec,
                      const struct ingest_file_result *res, const struct report *rep)
{
    struct buf b = BUF_INIT;
    int rc = buf_puts(&b, "{\"file\":");
    rc = rc ? rc : buf_json_name(&b, vo->file);
    rc = rc ? rc : buf_puts(&b, ",\"spec\":");
    rc = rc ? rc : buf_json_str(&b, spec->name, strlen(spec->name));
    rc = rc ? rc : buf_printf(&b, ",\"verdict\":\"%s\",\"reason\":", res->ok ? "valid" : "invalid");
    if (rc == 0) {
        rc = res->ok ? buf_puts(&b, "null") : buf_json_str(&b, res->reason, strlen(res->reason));
    }
    /* drop_invalid_rows tolerates every invalid row: no number (JSON readers lose 2^64 - 1). */
    char allowed[24] = "null";
    if (res->allowed_bad_rows != UINT64_MAX) {
        snprintf(allowed, sizeof(allowed), "%llu", (unsigned long long)res->allowed_bad_rows);
    }
    if (rc == 0) {
        rc =
            buf_printf(&b,
                       ",\"rows_read\":%llu,\"rows_valid\":%llu,\"rows_invalid\":%llu,"
                       "\"failure_cases\":%llu,\"warnings\":%llu,\"allowed_bad_rows\":%s,"
                       "\"stopped\":%s,\"capped\":%s,\"max_failure_cases\":",
                       (unsigned long long)res->rows_read, (unsigned long long)res->rows_valid,
                       (unsigned long long)res->rows_invalid, (unsigned long long)res->failures,
                       (unsigned long long)res->warnings, allowed, res->stopped ? "true" : "false",
                       report_capped(rep) ? "true" : "false");
    }
    if (rc == 0) {
        rc = vo->max_cases ? buf_printf(&b, "%llu", (unsigned long long)vo->max_cases)
                           : buf_puts(&b, "null");
    }
    rc = rc ? rc : buf_printf(&b, ",\"sha256\":\"%s\",\"checks\":[", res->sha256);
    for (size_t i = 0; i < report_ngroups(rep) && rc == 0; i++) {
        struct report_group g;
        report_get_group(rep, i, &g);
        rc = buf_puts(&b, i ? ",{\"column\":" : "{\"column\":");
        if (rc == 0) {
            rc = g.column ? buf_json_str(&b, g.column, strlen(g.column)) : buf_puts(&b, "null");
        }
        rc = rc ? rc : buf_puts(&b, ",\"check\":");
        rc = rc ? rc : buf_json_str(&b, g.check, strlen(g.check));
        rc = rc ? rc
                : buf_printf(&b, ",\"level\":\"%s\",\"count\":%llu,\"examples\":[",
                             g.warning ? "warning" : "error", (unsigned long long)g.count);
        for (size_t k = 0; k < g.nexamples && k < VALIDATE_EXAMPLES && rc == 0; k++) {
            struct report_example x;
            report_get_example(rep, i, k, &x);
            rc = buf_puts(&b, k ? ",{\"line\":" : "{\"line\":");
            if (rc == 0) {
                rc = x.line ? buf_printf(&b, "%llu", (unsigned long long)x.line)
                            : buf_puts(&b, "null");
            }
            /* A JSON reader's case: where the record is in the text (and in the array). */
            if (rc == 0 && x.has_offset) {
                rc = buf_printf(&b, ",\"offset\":%llu", (unsigned long long)x.offset);
            }
            if (rc == 0 && x.has_record) {
                rc = buf_printf(&b, ",\"record\":%llu", (unsigned long long)x.record);
            }
            if (rc == 0 && x.cell != NULL) {
                rc = buf_printf(&b, ",\"cell\":\"%s\"", x.cell);
            }
            rc = rc ? rc : buf_puts(&b, ",\"value\":");
            if (rc == 0) {
                rc = x.value ? buf_json_str(&b, x.value, x.len) : buf_puts(&b, "null");
            }
            if (rc == 0 && x.value != NULL && x.full_len > x.len) {
                rc = buf_printf(&b, ",\"value_bytes\":%zu", x.full_len);
            }
            if (rc == 0 && x.raw != NULL) {
                rc = buf_puts(&b, ",\"raw\":");
                rc = rc ? rc : buf_json_str(&b, x.raw, x.raw_len);
                if (rc == 0 && x.raw_full_len > x.raw_len) {
                    rc = buf_printf(&b, ",\"raw_bytes\":%zu", x.raw_full_len);
                }
            }
            const char *msg = x.message;
            const char *hint = x.hint;
            rc = rc ? rc : buf_puts(&b, ",\"message\":");
            if (rc == 0) {
                rc = msg ? buf_json_str(&b, msg, strlen(msg)) : buf_puts(&b, "null");
            }
            rc = rc ? rc : buf_puts(&b, ",\"hint\":");
            if (rc == 0) {
                rc = hint ? buf_json_str(&b, hint, strlen(hint)) : buf_puts(&b, "null");
            }
            rc = rc ? rc : buf_putc(&b, '}');
        }
        rc = rc ? rc : buf_puts(&b, "]}");
    }
    rc = rc ? rc : buf_puts(&b, "]}\n");
    if (rc == 0 && fwrite(b.data, 1, b.len, out) != b.len) {
        rc = AE_IO;
    }
    buf_release(&b);
    return rc;
}

static int write_text(FILE *out, const struct vopts *vo, const struct ingest_spec *spec,
                      const struct ingest_file_result *res, const struct report *rep)
{
    int rc = report_print_summary(rep, out, VALIDATE_EXAMPLES);
    if (rc != 0) {
        return rc;
    }
    char extra[256] = "";
    if (res->stopped) {
        snprintf(extra, sizeof(extra), "; stopped at the first failure (--fail-fast)");
    }
    char *file = buf_name_str(vo->file);
    if (file == NULL) {
        return AE_NOMEM;
    }
    rc = fprintf(out,
                 "%s: %s (spec %s): rows read %llu = valid %llu + invalid %llu; %llu failure "
                 "case(s), %llu warning(s)%s\n",
                 res->ok ? "VALID" : "INVALID", file, spec->name,
                 (unsigned long long)res->rows_read, (unsigned long long)res->rows_valid,
                 (unsigned long long)res->rows_invalid, (unsigned long long)res->failures,
                 (unsigned long long)res->warnings, extra) < 0
             ? AE_IO
             : 0;
    free(file);
    if (rc != 0) {
        return rc;
    }
    if (!res->ok && fprintf(out, "reason: %s\n", res->reason) < 0) {
        return AE_IO;
    }
    if (res->ok && res->rows_invalid > 0 && res->allowed_bad_rows == UINT64_MAX &&
        fprintf(out,
                "%llu invalid row(s) are dropped (the schema's drop_invalid_rows): ingest would "
                "leave them out\n",
                (unsigned long long)res->rows_invalid) < 0) {
        return AE_IO;
    }
    uint64_t counted = res->rows_invalid - res->rows_droppable;
    if (res->ok && res->rows_droppable > 0 && res->allowed_bad_rows != UINT64_MAX &&
        fprintf(out,
                "%llu invalid row(s) fail only columns with drop_invalid_rows: ingest would "
                "leave them out\n",
                (unsigned long long)res->rows_droppable) < 0) {
        return AE_IO;
    }
    if (res->ok && counted > 0 && res->allowed_bad_rows != UINT64_MAX &&
        fprintf(out,
                "%llu invalid row(s) are within the bad-row threshold (%llu): ingest would "
                "leave them out\n",
                (unsigned long long)counted, (unsigned long long)res->allowed_bad_rows) < 0) {
        return AE_IO;
    }
    return 0;
}

/* The CSV path: as given, or the file's base name without its extension in the current folder. */
static char *cases_path(const struct vopts *vo)
{
    if (vo->cases_path != NULL) {
        return strdup(vo->cases_path);
    }
    const char *name = base_name(vo->file);
    const char *dot = strrchr(name, '.');
    size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    struct buf b = BUF_INIT;
    if (buf_append(&b, name, n) != 0 || buf_puts(&b, ".failure_cases.csv") != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static int parse_args(int argc, char **argv, struct vopts *vo, struct err *e)
{
    static const struct option opts[] = {
        {"spec", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"fail-fast", no_argument, NULL, 'x'},
        {"max-failure-cases", required_argument, NULL, 'm'},
        {"failure-cases", required_argument, NULL, 'c'},
        {"failure-cases-file", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"memory-limit", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 's': vo->spec_name = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0) {
                vo->json = optarg[0] == 'j';
            } else {
                return err_set(e, AE_CONFIG, "--format must be text or json, not '%s'", optarg);
            }
            break;
        case 'x': vo->fail_fast = true; break;
        case 't': {
            int rc = cli_parse_threads(optarg, &vo->threads, e);
            if (rc != 0) {
                return rc;
            }
            break;
        }
        case 'L': {
            int rc = cli_parse_memory_limit(optarg, &vo->memory_limit, e);
            if (rc != 0) {
                return rc;
            }
            break;
        }
        case 'm':
            if (parse_count(optarg, &vo->max_cases) != 0 || vo->max_cases == 0) {
                return err_set(e, AE_CONFIG,
                               "--max-failure-cases must be a whole number of at least 1, not "
                               "'%s'",
                               optarg);
            }
            break;
        case 'c':
            if (strcmp(optarg, "csv") != 0) {
                return err_set(e, AE_CONFIG, "--failure-cases supports csv, not '%s'", optarg);
            }
            vo->cases_csv = true;
            break;
        case 'o':
            vo->cases_csv = true;
            vo->cases_path = optarg;
            break;
        case 'h': return 1;
        default:
            return err_set(e, AE_CONFIG, "validate: unknown option or missing value: '%s'",
                           argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) {
        return err_set(e, AE_CONFIG, "validate takes exactly one FILE (%d given)", argc - optind);
    }
    vo->file = argv[optind];
    return 0;
}

int cmd_validate(const struct cli_globals *g, int argc, char **argv)
{
    struct vopts vo;
    memset(&vo, 0, sizeof(vo));
    vo.threads = cli_default_threads();
    struct err e;
    err_clear(&e);
    struct log log;
    log_init(&log, stderr, g->level, g->log_json);
    struct config *cfg = NULL;
    struct report *rep = NULL;
    struct ingest_file *file = NULL;
    struct atomic_file csvf = {-1, NULL, NULL};
    FILE *csvfp = NULL;
    bool csv_stdout = false;
    char *csv_path = NULL;
    int rc = parse_args(argc, argv, &vo, &e);
    if (rc == 1) {
        usage_validate(stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "astro: %s\n", e.msg);
        usage_validate(stderr);
        return rc;
    }
    /* A FILE that is not there is a mistake on the command line (exit 2), said before anything
     * else: no spec matching its name would be the wrong lead. */
    struct stat fst;
    if (stat(vo.file, &fst) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        rc = err_set(&e, AE_CONFIG, "%s does not exist", vo.file);
        goto out;
    }
    rc = config_load(g->config_path, &cfg, &e);
    if (rc != 0) {
        goto out;
    }
    const struct ingest_spec *spec = NULL;
    rc = pick_spec(cfg, &vo, &spec, &e);
    if (rc == 0) {
        rc = validate_spec_check(spec, &e);
    }
    if (rc != 0) {
        goto out;
    }
    if (access(vo.file, R_OK) != 0) {
        rc = err_errno(&e, errno, "cannot read %s", vo.file);
        goto out;
    }
    rc = report_new(&rep, NULL, vo.file, &e);
    if (rc != 0) {
        goto out;
    }
    report_set_max_cases(rep, vo.max_cases);
    if (vo.cases_csv) {
        csv_path = cases_path(&vo);
        if (csv_path == NULL) {
            rc = err_set(&e, AE_NOMEM, "out of memory");
            goto out;
        }
        csv_stdout = strcmp(csv_path, "-") == 0;
        if (csv_stdout) {
            csvfp = stdout;
        } else {
            rc = atomic_file_open(&csvf, csv_path, &e);
            if (rc != 0) {
                goto out;
            }
            int fd = dup(csvf.fd);
            csvfp = fd >= 0 ? fdopen(fd, "w") : NULL;
            if (csvfp == NULL) {
                if (fd >= 0) {
                    close(fd);
                }
                rc = err_errno(&e, errno, "cannot open %s", csvf.tmp_path);
                goto out;
            }
        }
        if (spec->format != INPUT_CSV) {
            report_set_positions(rep);
        }
        rc = report_set_failure_cases_csv(rep, csvfp, &e);
        if (rc != 0) {
            goto out;
        }
    }
    struct progress_feed feed;
    int64_t threshold = cfg->large_file_threshold_bytes;
    progress_feed_init(&feed, threshold > 0 ? (uint64_t)threshold : 0,
                       log.console_level <= LOG_INFO ? log.console : NULL, &log);
    /* FILE.md5 / FILE.sha256 beside it are verified, as in a delivery. */
    struct checksum sums[2];
    size_t nsums = 0;
    rc = checksum_find(vo.file, sums, &nsums, &e);
    if (rc != 0) {
        goto out;
    }
    struct ingest_file_opts fo = {
        .checksums = sums,
        .nchecksums = nsums,
        .spec = spec,
        .path = vo.file,
        .fs = report_sink(rep),
        .fail_fast = vo.fail_fast,
        .threads = vo.threads,
        .memory_limit = vo.memory_limit,
        .progress = progress_feed,
        .progress_ctx = &feed,
    };
    struct ingest_file_result res;
    rc = ingest_file_open(&file, &fo, &e);
    if (rc != 0) {
        goto out;
    }
    rc = ingest_file_run(file, NULL, &res, &e);
    if (rc == 0 && res.keys_spilled) {
        log_msg(&log, LOG_INFO, spec->name,
                "the unique keys did not fit in --memory-limit: they were checked on disk "
                "(the key columns were read twice)");
    }
    if (rc != 0) {
        goto out;
    }
    if (csvfp != NULL && !csv_stdout) {
        if (fclose(csvfp) != 0) {
            csvfp = NULL;
            rc = err_errno(&e, errno, "cannot write %s", csvf.tmp_path);
            goto out;
        }
        csvfp = NULL;
        rc = atomic_file_commit(&csvf, &e);
        if (rc != 0) {
            goto out;
        }
    }
    rc = vo.json ? write_json(stdout, &vo, spec, &res, rep)
                 : write_text(stdout, &vo, spec, &res, rep);
    if (rc == 0 && fflush(stdout) != 0) {
        rc = AE_IO;
    }
    if (rc != 0) {
        rc = err_set(&e, rc, "cannot write the report: %s", err_code_name(rc));
        goto out;
    }
    if (vo.cases_csv && !csv_stdout) {
        char *shown = buf_name_str(csv_path);
        log_msg(&log, LOG_INFO, spec->name, "failure cases written to %s",
                shown ? shown : csv_path);
        free(shown);
    }
    rc = res.ok ? 0 : AE_DATA;
out:
    if (rc != 0 && rc != AE_DATA && e.code != 0) {
        log_msg(&log, LOG_ERROR, NULL, "%s", e.msg);
    }
    if (csvfp != NULL && !csv_stdout) {
        fclose(csvfp);
    }
    atomic_file_abort(&csvf);
    free(csv_path);
    ingest_file_free(file);
    report_free(rep);
    config_free(cfg);
    log_close(&log);
    return rc;
}
