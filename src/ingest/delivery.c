/*
 * delivery.c - one delivery -> one run (delivery.h): the folder check, the run, each file
 * through the engine into Parquet, and the run record.
 */
#include "ingest/delivery.h"

#include "ingest/engine.h"
#include "ingest/match.h"
#include "run/record.h"
#include "sink/sink.h"
#include "stats/stats.h"
#include "util/fs.h"
#include "validate/validate.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Summary examples shown per (column, check) on the console; the JSONL file has every case. */
#define SUMMARY_EXAMPLES 5

struct file_result {
    uint64_t size;
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failures;
    uint64_t warnings;
    uint64_t out_bytes;
    char sha256[65];
    char fingerprint[65];
    double secs;
    bool ok;
    bool errors_file; /* errors/{name}.jsonl was written */
    char reason[512];
};

/* One delivery being ingested. */
struct delivery {
    const struct delivery_opts *o;
    const struct config *cfg; /* borrowed from the project */
    struct log *log;          /* borrowed from the driver */
    struct stats *stats;      /* borrowed from the project */
    struct run_record rec;    /* the run's manifest + stats.db, once create_run made it */
    char run_id[RUN_ID_LEN + 1];
    const char *working; /* borrowed from the project */
    char *run_dir;
    char *real_source_dir; /* the source folder resolved: where its files must lead (match.h) */
};

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    fs_hex(md, 32, out);
}

/* A stable digest of everything in the spec that decides what passes and how it is typed. */
static int schema_fingerprint(const struct ingest_spec *s, char out[65])
{
    struct buf b = BUF_INIT;
    int rc = buf_printf(&b, "strict=%d ordered=%d header=%d enc=%s delim=%d quote=%d esc=%d\n",
                        (int)s->schema.strict, (int)s->schema.ordered, (int)s->has_header,
                        s->encoding ? s->encoding : "utf-8", s->delimiter, s->quote, s->escape);
    for (size_t i = 0; i < s->n_null_values && rc == 0; i++) {
        rc = buf_printf(&b, "null=%s\n", s->null_values[i]);
    }
    for (size_t c = 0; c < s->schema.ncols && rc == 0; c++) {
        const struct column_spec *col = &s->schema.cols[c];
        char dt[48];
        rc = buf_printf(&b, "col %s %s nullable=%d unique=%d required=%d regex=%d format=%s\n",
                        col->name, dtype_name(col->type, dt, sizeof(dt)), col->nullable,
                        col->unique, col->required, col->regex, col->format ? col->format : "");
        if (rc == 0 && col->has_century_pivot) {
            rc = buf_printf(&b, " century_pivot=%d\n", col->century_pivot);
        }
        /* Added keys enter only when set, so that earlier fingerprints stay as they were. */
        for (size_t k = 1; k < col->nformats && rc == 0; k++) {
            rc = buf_printf(&b, " format=%s\n", col->formats[k]);
        }
        if (rc == 0 && (col->thousands != 0 || col->decimal != 0)) {
            rc = buf_printf(&b, " thousands=%d decimal=%d\n", col->thousands, col->decimal);
        }
        for (size_t k = 0; k < col->nchecks && rc == 0; k++) {
            const struct check_spec *ck = &col->checks[k];
            rc = buf_printf(&b, " check %s na=%d warn=%d", ck->name, ck->ignore_na,
                            ck->raise_warning);
            for (size_t a = 0; a < ck->nargs && rc == 0; a++) {
                const struct cfg_arg *arg = &ck->args[a];
                rc = buf_printf(&b, " %s=", arg->key ? arg->key : "_");
                if (arg->is_list) {
                    for (size_t it = 0; it < arg->nitems && rc == 0; it++) {
                        rc = buf_printf(&b, "[%s]", arg->items[it] ? arg->items[it] : "~");
                    }
                } else if (rc == 0) {
                    rc = buf_puts(&b, arg->is_null ? "~" : arg->value);
                }
            }
            if (rc == 0) {
                rc = buf_putc(&b, '\n');
            }
        }
    }
    if (rc == 0 && (s->thousands != 0 || s->decimal != 0)) {
        rc = buf_printf(&b, "thousands=%d decimal=%d\n", s->thousands, s->decimal);
    }
    /* What decides a JSON value beyond CSV's rules: the format, each column's key path and its
     * coerce (README, "NDJSON and JSON input"). Absent for CSV, whose fingerprints stay as they
     * were. */
    if (rc == 0 && s->format != INPUT_CSV) {
        rc = buf_printf(&b, "format=%s\n", config_format_name(s->format));
        for (size_t c = 0; c < s->schema.ncols && rc == 0; c++) {
            const struct column_spec *col = &s->schema.cols[c];
            rc = buf_printf(&b, "json %s path=%s coerce=%d\n", col->name,
                            col->path ? col->path : col->name, col->coerce);
        }
    }
    if (rc == 0) {
        sha256_hex(b.data, b.len, out);
    }
    buf_release(&b);
    return rc;
}

static int id_taken(void *ctx, const char *id, bool *taken, struct err *e)
{
    return stats_run_exists(ctx, id, taken, e);
}

static char *summary_text(const struct report *rep)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL) {
        return NULL;
    }
    int rc = report_print_summary(rep, mem, SUMMARY_EXAMPLES);
    fclose(mem);
    if (rc != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Opens the Parquet output once the file's columns are known. */
static int open_parquet(const struct delivery *in, const char *path, const struct column_desc *cols,
                        size_t ncols, struct sink *s, struct err *e)
{
    struct pq_options po;
    pq_options_default(&po);
    po.codec = in->o->codec;
    po.level = in->o->level;
    /* An eighth of the writer default, in raw value bytes: about 280k orders rows, or 50k rows
     * of a 60-column register export (DuckDB writes 122,880-row groups). The writer holds a
     * group's compressed pages, not its raw values: on the 1M-row orders file 16 MiB costs
     * ~4.4 MB, and 64 MiB would add ~10 MiB of peak RSS for a 0.1% smaller file (bench/README.md,
     * "The writer streams its pages", 2026-12-05). */
    po.rg_bytes = 16u << 20;
    po.threads = in->o->threads;
    /* The group's compressed pages wait in a scratch file under the run folder, where the keys
     * spill too, not in memory (about 4 MB on the orders file, more on wider rows). */
    po.spool_dir = in->run_dir;
    return sink_parquet_open(s, path, cols, ncols, &po, e);
}

/* The zone of every datetime64[ns, Zone/Name] column as "astro.time_zone.<column key>" (the
 * values are UTC instants, isAdjustedToUTC; the zone is what pandas would show them in): "*" for
 * the frame dtype's undeclared columns. */
static int zone_kv(struct sink *pqs, const struct schema *s, struct err *e)
{
    int rc = 0;
    for (size_t c = 0; c <= s->ncols && rc == 0; c++) {
        const struct column_spec *cs = c < s->ncols ? &s->cols[c] : s->extra;
        char zone[256];
        if (cs == NULL || cs->type.id != DT_TIMESTAMP_TZ ||
            !dtype_zone(cs->dtype_text, zone, sizeof(zone))) {
            continue;
        }
        char key[512];
        snprintf(key, sizeof(key), "astro.time_zone.%s", cs->name);
        rc = sink_parquet_add_kv(pqs, key, zone, e);
    }
    return rc;
}

/* Opens path for writing under a temporary name (committed or aborted by the caller) with a
 * stdio stream on a duplicate of its descriptor. */
static int open_atomic_stream(struct atomic_file *af, const char *path, FILE **fp, struct err *e)
{
    *fp = NULL;
    int rc = atomic_file_open(af, path, e);
    if (rc != 0) {
        return rc;
    }
    int dupfd = dup(af->fd);
    *fp = dupfd >= 0 ? fdopen(dupfd, "w") : NULL;
    if (*fp == NULL) {
        rc = err_errno(e, errno, "cannot open %s", af->tmp_path);
        if (dupfd >= 0) {
            close(dupfd);
        }
        atomic_file_abort(af);
    }
    return rc;
}

/* Flushes fp and commits af when keep, else aborts it; fp is closed either way. */
static int close_atomic_stream(struct atomic_file *af, FILE **fp, bool keep, struct err *e)
{
    int rc = 0;
    if (*fp != NULL) {
        if (fflush(*fp) != 0) {
            rc = err_errno(e, errno, "cannot write %s", af->tmp_path);
        }
        fclose(*fp);
        *fp = NULL;
    }
    if (rc == 0 && keep) {
        return atomic_file_commit(af, e);
    }
    atomic_file_abort(af);
    return rc;
}

/* Validates one file and writes its Parquet output. Returns 0 whether the file passed or failed
 * validation (see res->ok); a negative code only for environment errors, which stop the run.
 * optimistic: a unique check bets on keys that do not repeat (engine.h: keys_optimistic); when
 * one does, everything of this attempt is thrown away (the Parquet output aborted, the errors
 * files never committed) and the file is run again, its keys read first. */
static int ingest_file(struct delivery *in, const struct source_file *sf, struct file_result *res,
                       bool optimistic, struct err *e)
{
    const struct ingest_spec *spec = sf->spec;
    const char *name = spec->name;
    double t0 = fs_monotonic();
    int rc = 0;
    struct report *rep = NULL;
    struct sink sink = {NULL, NULL};
    bool sink_open = false;
    bool retry = false; /* the keys' bet was lost (optimistic) */
    struct ingest_file *file = NULL;
    struct ingest_file_result fc;
    struct atomic_file errf = {-1, NULL, NULL};
    FILE *errfp = NULL;
    char *out_path = NULL;
    char *err_path = NULL;
    char *csv_path = NULL;
    char *shown_src = NULL; /* the paths as messages show them (buf_put_name) */
    char *shown_out = NULL;
    char *shown_err = NULL;
    struct atomic_file csvf = {-1, NULL, NULL};
    FILE *csvfp = NULL;
    memset(&fc, 0, sizeof(fc));
    memset(res, 0, sizeof(*res));

    rc = schema_fingerprint(spec, res->fingerprint);
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    out_path = run_path(in->working, in->run_id, RUN_PATH_PARQUET, name);
    err_path = run_path(in->working, in->run_id, RUN_PATH_ERRORS, name);
    if (out_path == NULL || err_path == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = open_atomic_stream(&errf, err_path, &errfp, e);
    if (rc == 0) {
        rc = report_new(&rep, errfp, name, e);
    }
    if (rc != 0) {
        goto out;
    }
    if (spec->max_failure_cases > 0) {
        report_set_max_cases(rep, (uint64_t)spec->max_failure_cases);
    }
    if (in->o->failure_cases_csv) {
        csv_path = run_path(in->working, in->run_id, RUN_PATH_FAILURE_CASES, name);
        rc = csv_path ? open_atomic_stream(&csvf, csv_path, &csvfp, e)
                      : err_set(e, AE_NOMEM, "out of memory");
        if (rc == 0) {
            if (spec->format != INPUT_CSV) {
                report_set_positions(rep);
            }
            rc = report_set_failure_cases_csv(rep, csvfp, e);
        }
        if (rc != 0) {
            goto out;
        }
    }
    report_set_paths(rep, errf.tmp_path, csvf.tmp_path);
    shown_src = buf_name_str(sf->path);
    shown_out = buf_name_str(out_path);
    shown_err = buf_name_str(err_path);
    if (shown_src == NULL || shown_out == NULL || shown_err == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    log_msg(in->log, LOG_INFO, name, "validating %s", shown_src);
    /* The rows of this spec's last delivery that passed, for the row-count drop check. */
    uint64_t prev_rows = 0;
    bool prev_found = false;
    char prev_run[RUN_ID_LEN + 1] = "";
    if (spec->row_count_drop != ROW_DROP_OFF) {
        rc = stats_last_rows(in->stats, name, in->run_id, &prev_found, &prev_rows, prev_run,
                             sizeof(prev_run), e);
        if (rc != 0) {
            goto out;
        }
    }
    /* Checksum side files (match.h): read now, verified while the file is read. */
    struct checksum sums[SOURCE_MAX_CHECKSUMS];
    for (size_t k = 0; k < sf->nchecksums; k++) {
        const char *side = strrchr(sf->checksum_paths[k], '/');
        const char *data = strrchr(sf->path, '/');
        rc = checksum_read(sf->checksum_paths[k], side ? side + 1 : sf->checksum_paths[k],
                           data ? data + 1 : sf->path, sf->checksum_algos[k], &sums[k], e);
        if (rc != 0) {
            goto out;
        }
        log_msg(in->log, LOG_INFO, name, "verifying its %s against %s",
                checksum_algo_name(sums[k].algo), sums[k].file);
    }
    struct ingest_file_opts fo = {
        .spec = spec,
        .path = sf->path,
        .fs = report_sink(rep),
        .fail_fast = in->o->fail_fast,
        .threads = in->o->threads,
        .memory_limit = in->o->memory_limit,
        .spill_dir = in->run_dir, /* keys spill under the run folder (unlinked at once) */
        .progress = in->o->progress,
        .progress_ctx = in->o->progress_ctx,
        .confine_dir = spec->allow_symlinks_outside ? NULL : in->real_source_dir,
        .interrupted = in->o->interrupted,
        .interrupt_ctx = in->o->interrupt_ctx,
        .prev_rows = prev_found ? prev_rows : 0,
        .prev_run = prev_run,
        .checksums = sums,
        .nchecksums = sf->nchecksums,
        .keys_optimistic = optimistic,
    };
    rc = ingest_file_open(&file, &fo, e);
    if (rc != 0) {
        goto out;
    }
    if (ingest_file_can_pass(file)) {
        const struct column_desc *cols = NULL;
        size_t ncols = ingest_file_columns(file, &cols);
        rc = open_parquet(in, out_path, cols, ncols, &sink, e);
        if (rc != 0) {
            goto out;
        }
        sink_open = true;
    }
    rc = ingest_file_run(file, sink_open ? &sink : NULL, &fc, e);
    if (rc != 0) {
        goto out;
    }
    if (fc.keys_retry) {
        retry = true;
        goto out;
    }
    if (fc.notice[0] != '\0') {
        log_msg(in->log, LOG_WARN, name, "%s", fc.notice);
    }
    if (fc.keys_spilled) {
        log_msg(in->log, LOG_INFO, name,
                "the unique keys did not fit in --memory-limit: they were checked on disk "
                "(the key columns were read twice)");
    }
    res->size = fc.size;
    res->rows_read = fc.rows_read;
    res->rows_valid = fc.rows_valid;
    res->rows_invalid = fc.rows_invalid;
    res->failures = fc.failures;
    res->warnings = fc.warnings;
    res->ok = fc.ok;
    memcpy(res->sha256, fc.sha256, sizeof(res->sha256));
    snprintf(res->reason, sizeof(res->reason), "%s", fc.reason);

    res->errors_file = report_total(rep) > 0;
    rc = close_atomic_stream(&errf, &errfp, res->errors_file, e);
    if (rc == 0 && csvfp != NULL) {
        rc = close_atomic_stream(&csvf, &csvfp, res->errors_file, e);
    }
    if (rc != 0) {
        goto out;
    }
    if (report_capped(rep)) {
        log_msg(in->log, LOG_WARN, name,
                "failure detail capped at %llu case(s) (max_failure_cases); the counts cover "
                "every case",
                (unsigned long long)report_max_cases(rep));
    }
    if (res->ok) {
        struct sink *pqs = &sink;
        /* Parquet strings are UTF-8: the name is recorded as the manifest records it. */
        json_t *shown = manifest_str(sf->path);
        if (shown == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto out;
        }
        const char *kv[][2] = {
            {"astro.source_file", json_string_value(shown)},
            {"astro.source_sha256", res->sha256},
            {"astro.run_id", in->run_id},
            {"astro.pipeline", in->cfg->pipeline},
            {"astro.dataset", name},
            {"astro.schema_fingerprint", res->fingerprint},
        };
        for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]) && rc == 0; i++) {
            rc = sink_parquet_add_kv(pqs, kv[i][0], kv[i][1], e);
        }
        rc = rc != 0 ? rc : zone_kv(pqs, &spec->schema, e);
        json_decref(shown);
        if (rc != 0) {
            goto out;
        }
        sink_open = false;
        rc = sink_commit(&sink, &res->out_bytes, e);
        if (rc != 0) {
            goto out;
        }
        log_msg(in->log, LOG_INFO, name, "%llu rows valid, written to %s (%llu bytes)",
                (unsigned long long)res->rows_valid, shown_out, (unsigned long long)res->out_bytes);
        if (res->rows_invalid > 0 && fc.allowed_bad_rows == UINT64_MAX) {
            log_msg(in->log, LOG_WARN, name,
                    "%llu invalid row(s) left out of the output (the schema's "
                    "drop_invalid_rows); every case is in %s",
                    (unsigned long long)res->rows_invalid, shown_err);
        } else if (res->rows_invalid > 0) {
            log_msg(in->log, LOG_WARN, name,
                    "%llu invalid row(s) left out of the output (threshold: %llu); every case "
                    "is in %s",
                    (unsigned long long)res->rows_invalid, (unsigned long long)fc.allowed_bad_rows,
                    shown_err);
        }
    } else {
        log_msg(in->log, LOG_ERROR, name,
                "failed validation: %s; rows read %llu = valid %llu + invalid %llu; every case is "
                "in %s",
                res->reason, (unsigned long long)res->rows_read,
                (unsigned long long)res->rows_valid, (unsigned long long)res->rows_invalid,
                res->errors_file ? shown_err : "(no cases recorded)");
    }
    if (report_total(rep) > report_warnings(rep) || (!res->ok && report_total(rep) > 0)) {
        char *text = summary_text(rep);
        if (text != NULL) {
            log_block(in->log, res->ok ? LOG_WARN : LOG_ERROR, text);
            free(text);
        }
    }
    if (res->warnings > 0) {
        log_msg(in->log, LOG_WARN, name, "%llu warning(s), listed in %s",
                (unsigned long long)res->warnings, shown_err);
    }
out:
    res->secs = fs_monotonic() - t0;
    if (sink_open) {
        sink_abort(&sink);
    }
    ingest_file_free(file);
    if (errfp != NULL) {
        fclose(errfp);
    }
    if (csvfp != NULL) {
        fclose(csvfp);
    }
    atomic_file_abort(&errf);
    atomic_file_abort(&csvf);
    report_free(rep);
    free(out_path);
    free(err_path);
    free(csv_path);
    free(shown_src);
    free(shown_out);
    free(shown_err);
    if (retry) {
        log_msg(in->log, LOG_INFO, name,
                "a unique key repeats, or the keys outgrow --memory-limit: reading the keys "
                "first, then the file again");
        double spent = res->secs;
        rc = ingest_file(in, sf, res, false, e);
        res->secs += spent;
    }
    return rc;
}

/* The run record's view of one file's result; strings borrowed from sf and r. */
static struct run_file file_entry(const struct source_file *sf, const struct file_result *r)
{
    struct run_file f = {
        .name = sf->spec->name,
        .source = sf->path,
        .size_bytes = r->size,
        .sha256 = r->sha256,
        .status = r->ok ? FILE_STATUS_INGESTED : FILE_STATUS_FAILED,
        .rows_read = r->rows_read,
        .rows_valid = r->rows_valid,
        .rows_invalid = r->rows_invalid,
        .failure_cases = r->failures,
        .warnings = r->warnings,
        .output_bytes = r->out_bytes,
        .errors_file = r->errors_file,
        .duration_s = r->secs,
        .schema_fingerprint = r->fingerprint,
        .reason = r->reason,
    };
    return f;
}

static int record_file(struct delivery *in, const struct source_file *sf,
                       const struct file_result *r, struct err *e)
{
    struct run_file f = file_entry(sf, r);
    return run_record_put_file(&in->rec, &f, e);
}

/* Creates the run under the .working lock, after the serial-mode check. */
static int create_run(struct delivery *in, const char *source_dir, int *run_lock, struct err *e)
{
    int lock = -1;
    struct run_info *runs = NULL;
    size_t nruns = 0;
    int rc = run_lock_working(in->working, &lock, e);
    if (rc != 0) {
        return rc;
    }
    rc = run_list(in->working, in->stats, &runs, &nruns, e);
    if (rc != 0) {
        goto out;
    }
    if (in->cfg->execution_mode == EXEC_SERIAL) {
        struct buf open_runs = BUF_INIT;
        size_t nopen = 0;
        for (size_t i = 0; i < nruns; i++) {
            if (run_blocks_serial(&runs[i])) {
                nopen++;
                if (buf_printf(&open_runs, "%s%s (%s)", nopen > 1 ? ", " : "", runs[i].id,
                               run_status_name(runs[i].status)) != 0) {
                    break;
                }
            }
        }
        if (nopen > 0) {
            rc = err_set(e, AE_BUSY,
                         "execution_mode is serial and %zu run(s) are not completed: %s; finish "
                         "them with `astro run RUN_ID` first, or give one up with `astro runs "
                         "abandon RUN_ID --reason TEXT`",
                         nopen, open_runs.data ? open_runs.data : "");
            buf_release(&open_runs);
            goto out;
        }
        buf_release(&open_runs);
    }
    rc = run_new_id(in->working, id_taken, in->stats, in->run_id, e);
    if (rc == 0) {
        rc = run_create_dir(in->working, in->run_id, run_lock, e);
    }
    if (rc != 0) {
        goto out;
    }
    in->run_dir = run_path(in->working, in->run_id, RUN_PATH_DIR, NULL);
    if (in->run_dir == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = run_record_create(&in->rec, in->stats, in->working, in->run_id, in->cfg->pipeline,
                           in->cfg->path, source_dir, e);
out:
    run_list_free(runs, nruns);
    run_unlock(lock);
    return rc;
}

int delivery_ingest(const struct delivery_opts *o, struct delivery_result *res,
                    struct buf *problems, struct err *e)
{
    struct delivery in;
    memset(&in, 0, sizeof(in));
    memset(res, 0, sizeof(*res));
    in.o = o;
    in.cfg = o->project->cfg;
    in.log = o->log;
    in.working = o->project->working;
    int run_lock = -1;
    struct source_file *files = NULL;
    struct buf failed_names = BUF_INIT;
    const char *source_dir = o->source_dir;
    res->nfiles = in.cfg->ningest;
    int rc = source_match(in.cfg, source_dir, &files, problems, e);
    if (rc == 0 && (in.real_source_dir = realpath(source_dir, NULL)) == NULL) {
        rc = err_errno(e, errno, "cannot resolve source folder %s", source_dir);
    }
    if (rc == 0 && o->project->stats == NULL) {
        rc = project_open_stats(o->project, e);
    }
    if (rc == 0 && o->interrupted != NULL) {
        rc = o->interrupted(o->interrupt_ctx, e); /* stopped before a run exists: none is made */
    }
    if (rc != 0) {
        goto out;
    }
    in.stats = o->project->stats;
    rc = create_run(&in, source_dir, &run_lock, e);
    if (rc != 0) {
        goto out;
    }
    memcpy(res->run_id, in.run_id, sizeof(res->run_id));
    char *log_path = run_path(in.working, in.run_id, RUN_PATH_LOG, NULL);
    if (log_path == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail_run;
    }
    rc = log_open_file(in.log, log_path, "ingest", in.run_id, e);
    free(log_path);
    if (rc != 0) {
        goto fail_run;
    }
    char *shown_dir = buf_name_str(source_dir);
    log_msg(in.log, LOG_INFO, NULL, "run %s: ingesting %zu file(s) from %s (pipeline %s)",
            in.run_id, in.cfg->ningest, shown_dir ? shown_dir : source_dir, in.cfg->pipeline);
    free(shown_dir);
    for (size_t i = 0; i < in.cfg->ningest; i++) {
        struct file_result fr;
        if (o->interrupted != NULL && (rc = o->interrupted(o->interrupt_ctx, e)) != 0) {
            goto fail_run;
        }
        rc = ingest_file(&in, &files[i], &fr, true, e);
        if (rc == 0) {
            rc = record_file(&in, &files[i], &fr, e);
        }
        if (rc != 0) {
            goto fail_run;
        }
        if (!fr.ok) {
            res->nfailed++;
            if (buf_printf(&failed_names, "%s%s", res->nfailed > 1 ? ", " : "",
                           files[i].spec->name) != 0) {
                rc = err_set(e, AE_NOMEM, "out of memory");
                goto fail_run;
            }
        }
    }
    if (res->nfailed == 0) {
        rc = run_record_set_status(&in.rec, RUN_STATUS_INGESTED, NULL, RUN_PHASE_NONE, e);
        if (rc != 0) {
            goto fail_run;
        }
        log_msg(in.log, LOG_INFO, NULL, "run %s ingested: %zu file(s) in %s", in.run_id,
                in.cfg->ningest, in.run_dir);
    } else {
        char reason[1024];
        snprintf(reason, sizeof(reason), "%zu of %zu file(s) failed validation: %s", res->nfailed,
                 in.cfg->ningest, failed_names.data);
        rc = run_record_set_status(&in.rec, RUN_STATUS_FAILED, reason, RUN_PHASE_INGEST, e);
        if (rc != 0) {
            goto fail_run;
        }
        log_msg(in.log, LOG_ERROR, NULL, "run %s failed: %s", in.run_id, reason);
        rc = AE_DATA; /* the reason is logged, in astro.log too */
    }
    goto out;

fail_run:
    /* An environment error stopped the run: record why, as far as the environment allows. It is
     * logged here, while astro.log is open, and e is cleared so the driver does not repeat it. */
    log_msg(in.log, LOG_ERROR, NULL, "%s", e->msg);
    if (in.rec.dir != NULL) { /* the run record exists */
        struct err e2;
        if (run_record_set_status(&in.rec, RUN_STATUS_FAILED, e->msg, RUN_PHASE_INGEST, &e2) != 0) {
            log_msg(in.log, LOG_ERROR, NULL, "%s", e2.msg);
        }
    }
    err_clear(e);
out:
    log_close(in.log);
    run_unlock(run_lock);
    run_record_release(&in.rec);
    source_files_free(files, in.cfg->ningest);
    buf_release(&failed_names);
    free(in.run_dir);
    free(in.real_source_dir);
    return rc;
}
