/*
 * filecheck.c - the streaming core of one file: read, validate, hand valid rows to a sink,
 * and decide the verdict with the spec's thresholds.
 */
#include "cli/filecheck.h"

#include "cli/progress.h"
#include "csv/csv.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies the header record's fields into NUL-terminated names. */
static int header_names(const struct csv_rows *rows, char ***out, size_t *n, struct err *e)
{
    size_t first = rows->row_first[0];
    size_t count = rows->row_first[1] - first;
    char **names = calloc(count ? count : 1, sizeof(*names));
    if (names == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        const struct csv_field *f = &rows->fields[first + i];
        names[i] = strndup(f->p, f->len);
        if (names[i] == NULL) {
            for (size_t j = 0; j < i; j++) {
                free(names[j]);
            }
            free(names);
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    *out = names;
    *n = count;
    return 0;
}

/* report_duplicates: all / exclude_last need every key before the first verdict on a row: a
 * first pass over the file (a second reader, the same records) feeds the validator's pre-pass.
 * Only a spec that needs it pays for reading the file twice. */
static int prepass(const struct filecheck_opts *o, struct validator *v, struct err *e)
{
    const struct ingest_spec *spec = o->spec;
    struct csv_reader *reader = NULL;
    struct csv_rows rows;
    memset(&rows, 0, sizeof(rows));
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return err_errno(e, errno, "cannot open %s", o->path);
    }
    struct csv_options copt = {spec->encoding, spec->delimiter, spec->quote, spec->escape};
    int rc = csv_reader_open(&reader, fd, o->path, &copt, e);
    size_t first = spec->has_header ? 1 : 0;
    while (rc == 0) {
        rc = csv_reader_next(reader, &rows, VALIDATE_BATCH_ROWS, e);
        if (rc != 0 || rows.nrows == 0) {
            break;
        }
        rc = validator_prepass(v, &rows, first, e);
        first = 0;
    }
    if (rc == 0) {
        validator_prepass_done(v);
    }
    csv_rows_release(&rows);
    csv_reader_free(reader);
    close(fd);
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
    return set ? allowed : 0;
}

/* Records a file-level failure case (no row) through the failure sink. */
static int file_failure(const struct filecheck_opts *o, uint64_t line, const char *check,
                        const char *message, struct err *e)
{
    struct failure f = {.line = line, .check = check, .message = message};
    int rc = o->fs.emit(o->fs.ctx, &f);
    return rc == 0 ? 0 : err_set(e, rc, "cannot record a failure case of %s", o->path);
}

int filecheck_run(const struct filecheck_opts *o, struct sink *s, struct filecheck_result *res,
                  struct err *e)
{
    const struct ingest_spec *spec = o->spec;
    int rc = 0;
    int fd = -1;
    struct csv_reader *reader = NULL;
    struct csv_rows rows;
    struct validator *v = NULL;
    struct batch batch;
    struct pq_column *pqcols = NULL;
    struct dtype_info *types = NULL;
    char **names = NULL;
    size_t nnames = 0;
    uint64_t frame_failures = 0;
    bool header_failed = false;
    memset(&rows, 0, sizeof(rows));
    memset(&batch, 0, sizeof(batch));
    memset(res, 0, sizeof(*res));
    s->ops = NULL;
    s->impl = NULL;

    fd = open(o->path, O_RDONLY | O_CLOEXEC);
    struct stat st0;
    if (fd < 0 || fstat(fd, &st0) != 0) {
        rc = err_errno(e, errno, "cannot open %s", o->path);
        goto out;
    }
    res->size = (uint64_t)st0.st_size;
    struct csv_options copt = {spec->encoding, spec->delimiter, spec->quote, spec->escape};
    rc = csv_reader_open(&reader, fd, o->path, &copt, e);
    if (rc == 0) {
        rc = csv_reader_next(reader, &rows, VALIDATE_BATCH_ROWS, e);
    }
    if (rc != 0) {
        goto out;
    }
    size_t first = 0;
    uint64_t header_line = 0;
    const char *const *hdr = (const char *const *)spec->column_names;
    size_t nhdr = spec->ncolumn_names;
    if (spec->has_header) {
        if (rows.nrows == 0) {
            header_failed = true;
            snprintf(res->reason, sizeof(res->reason),
                     "%s is empty: expected a header row naming the columns", o->path);
            rc = file_failure(o, 1, "header", res->reason, e);
            if (rc != 0) {
                goto out;
            }
            goto finish;
        }
        rc = header_names(&rows, &names, &nnames, e);
        if (rc != 0) {
            goto out;
        }
        hdr = (const char *const *)names;
        nhdr = nnames;
        header_line = rows.line[0];
        first = 1;
    }
    rc = validator_new(&v, spec, hdr, nhdr, header_line, &o->fs, e);
    if (rc != 0) {
        goto out;
    }
    header_failed = validator_header_failed(v);
    validator_set_fail_fast(v, o->fail_fast);
    if (validator_wants_prepass(v) && !validator_stopped(v)) {
        rc = prepass(o, v, e);
        if (rc != 0) {
            goto out;
        }
    }
    size_t ncols = validator_out_ncols(v);
    pqcols = calloc(ncols ? ncols : 1, sizeof(*pqcols));
    types = calloc(ncols ? ncols : 1, sizeof(*types));
    if (pqcols == NULL || types == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < ncols; c++) {
        types[c] = validator_out_type(v, c);
        pqcols[c].name = validator_out_name(v, c);
        pqcols[c].type = types[c];
        pqcols[c].nullable = validator_out_nullable(v, c);
    }
    rc = batch_init(&batch, types, ncols, VALIDATE_BATCH_ROWS);
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    /* With a tolerance of 0 (the default) the first failure decides the file; an output that can
     * no longer be kept is not written at all. A header failure decides it before any row. */
    bool tolerant = spec->max_bad_rows > 0 || spec->max_bad_row_fraction > 0;
    if (!header_failed && o->open_sink != NULL) {
        rc = o->open_sink(o->ctx, pqcols, ncols, s, e);
        if (rc != 0) {
            goto out;
        }
        res->sink_open = true;
    }
    struct progress prog;
    progress_init(&prog, o->progress_threshold > 0 && res->size >= o->progress_threshold,
                  o->log->console_level <= LOG_INFO ? o->log->console : NULL, o->log,
                  spec->name, res->size);
    struct validate_counts counts;
    res->stopped = validator_stopped(v); /* fail_fast and a header failure */
    while (rows.nrows > 0 && !res->stopped) {
        batch_reset(&batch);
        rc = validator_run(v, &rows, first, &batch, e);
        if (rc != 0) {
            goto out;
        }
        validator_counts(v, &counts);
        if (res->sink_open && counts.failure_cases > 0 && !tolerant) {
            sink_abort(s);
            res->sink_open = false;
        }
        if (res->sink_open && batch.nrows > 0) {
            rc = sink_write(s, &batch, e);
            if (rc != 0) {
                goto out;
            }
        }
        progress_update(&prog, csv_reader_bytes(reader), counts.rows_read);
        if (validator_stopped(v)) {
            res->stopped = true;
            break;
        }
        first = 0;
        rc = csv_reader_next(reader, &rows, VALIDATE_BATCH_ROWS, e);
        if (rc != 0) {
            goto out;
        }
    }
    validator_counts(v, &counts);
    uint64_t before_finish = counts.failure_cases;
    if (!res->stopped) {
        rc = validator_finish(v, e);
        if (rc != 0) {
            goto out;
        }
    }
    validator_counts(v, &counts);
    frame_failures = counts.failure_cases - before_finish;
    progress_done(&prog, csv_reader_bytes(reader), counts.rows_read);
    res->rows_read = counts.rows_read;
    res->rows_valid = counts.rows_valid;
    res->rows_invalid = counts.rows_invalid;
    res->failures = counts.failure_cases;
    res->warnings = counts.warnings;

finish:;
    unsigned char md[32];
    csv_reader_sha256(reader, md);
    fs_hex(md, 32, res->sha256);
    /* The source must not change under us: a file still being written is not ingested. */
    struct stat st1;
    if (fstat(fd, &st1) != 0) {
        rc = err_errno(e, errno, "cannot stat %s", o->path);
        goto out;
    }
    bool changed = st1.st_size != st0.st_size || st1.st_mtim.tv_sec != st0.st_mtim.tv_sec ||
                   st1.st_mtim.tv_nsec != st0.st_mtim.tv_nsec ||
                   (!res->stopped && !header_failed &&
                    csv_reader_bytes(reader) != (uint64_t)st0.st_size);
    if (changed) {
        res->failures++;
        snprintf(res->reason, sizeof(res->reason),
                 "%s changed while it was being read (size %lld -> %lld bytes): it is probably "
                 "still being written; ingest it again once it is complete",
                 o->path, (long long)st0.st_size, (long long)st1.st_size);
        rc = file_failure(o, 0, "file_unchanged", res->reason, e);
        if (rc != 0) {
            goto out;
        }
    }
    res->allowed_bad_rows = allowed_bad_rows(spec, res->rows_read);
    /* Every failure belongs to the header, the file, the frame or a row; only rows can be left
     * out, and only within the tolerance. A fail-fast stop leaves the verdict at "failed". */
    res->ok = !header_failed && !changed && frame_failures == 0 && !res->stopped &&
              res->rows_invalid <= res->allowed_bad_rows;
    if (!res->ok && res->reason[0] == '\0') {
        if (header_failed) {
            snprintf(res->reason, sizeof(res->reason), "the header does not match the schema");
        } else if (frame_failures > 0) {
            snprintf(res->reason, sizeof(res->reason),
                     "%llu frame-level failure case(s) (checks on the whole column)",
                     (unsigned long long)frame_failures);
        } else {
            snprintf(res->reason, sizeof(res->reason),
                     "%llu failure case(s) in %llu of %llu rows%s",
                     (unsigned long long)res->failures, (unsigned long long)res->rows_invalid,
                     (unsigned long long)res->rows_read,
                     res->allowed_bad_rows > 0 ? " (over the bad-row threshold)" : "");
        }
    }
    if (!res->ok && res->sink_open) {
        sink_abort(s);
        res->sink_open = false;
    }
out:
    if (rc != 0 && res->sink_open) {
        sink_abort(s);
        res->sink_open = false;
    }
    validator_free(v);
    csv_reader_free(reader);
    csv_rows_release(&rows);
    batch_release(&batch);
    if (names != NULL) {
        for (size_t i = 0; i < nnames; i++) {
            free(names[i]);
        }
        free(names);
    }
    free(pqcols);
    free(types);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}
