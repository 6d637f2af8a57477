/*
 * record.c - the run record: manifest.json and stats.db changed by one call each.
 *
 * Each change is made to the manifest in memory, saved whole (manifest_save: temp, fsync,
 * rename), then written to stats.db. When one of the two writes fails the other is still
 * attempted: a failure being recorded must reach whichever store can take it. The manifest keys
 * are added in the order README documents them; jansson keeps insertion order
 * (JSON_PRESERVE_ORDER), so that order is the file's.
 */
#include "run/record.h"

#include "util/fs.h"

#include <stdlib.h>
#include <string.h>

/* Keeps the first error of a sequence of writes: rc, or next when rc is 0. */
static int first_error(int rc, int next)
{
    return rc != 0 ? rc : next;
}

/* Sets rec's id, stats and folder, and *mpath to the manifest's path (the caller frees it, also
 * on failure); the manifest is the caller's to make or load. */
static int record_init(struct run_record *rec, struct stats *stats, const char *working,
                       const char *id, char **mpath, struct err *e)
{
    memset(rec, 0, sizeof(*rec));
    *mpath = NULL;
    if (!run_id_valid(id)) {
        return err_set(e, AE_CONFIG, "'%s' is not a run id", id);
    }
    memcpy(rec->id, id, RUN_ID_LEN + 1);
    rec->stats = stats;
    rec->dir = run_path(working, id, RUN_PATH_DIR, NULL);
    *mpath = run_path(working, id, RUN_PATH_MANIFEST, NULL);
    return rec->dir && *mpath ? 0 : err_set(e, AE_NOMEM, "out of memory");
}

int run_record_create(struct run_record *rec, struct stats *stats, const char *working,
                      const char *id, const char *pipeline, const char *config_path,
                      const char *source_dir, struct err *e)
{
    char *mpath = NULL;
    int rc = record_init(rec, stats, working, id, &mpath, e);
    if (rc == 0) {
        rc = manifest_new(&rec->manifest, mpath, id, pipeline, config_path, source_dir, e);
    }
    free(mpath);
    if (rc == 0) {
        rc = manifest_save(&rec->manifest, e);
    }
    if (rc == 0) {
        char now[48];
        rc = stats_run_begin(stats, id, pipeline, source_dir, fs_now_iso(now, sizeof(now)), e);
    }
    if (rc != 0) {
        run_record_release(rec);
    }
    return rc;
}

int run_record_open(struct run_record *rec, struct stats *stats, const char *working,
                    const char *id, struct err *e)
{
    char *mpath = NULL;
    int rc = record_init(rec, stats, working, id, &mpath, e);
    if (rc == 0) {
        rc = manifest_load(&rec->manifest, mpath, e);
    }
    free(mpath);
    if (rc != 0) {
        run_record_release(rec);
    }
    return rc;
}

void run_record_release(struct run_record *rec)
{
    manifest_release(&rec->manifest);
    free(rec->dir);
    memset(rec, 0, sizeof(*rec));
}

enum run_status run_record_status(const struct run_record *rec)
{
    return manifest_status(&rec->manifest);
}

/* The run's stats.db row, made from the manifest when missing: a process killed between writing
 * the new run's manifest and its row leaves a run that stats.db does not know, which the
 * correction of that run (run_list) must still reach. */
static int ensure_stats_row(struct run_record *rec, struct err *e)
{
    bool exists = false;
    int rc = stats_run_exists(rec->stats, rec->id, &exists, e);
    if (rc != 0 || exists) {
        return rc;
    }
    const json_t *m = rec->manifest.root;
    const char *pipeline = json_string_value(json_object_get(m, "pipeline"));
    const char *source_dir = json_string_value(json_object_get(m, "source_dir"));
    const char *created = json_string_value(json_object_get(m, "created_at"));
    char now[48];
    return stats_run_begin(rec->stats, rec->id, pipeline ? pipeline : "", source_dir,
                           created ? created : fs_now_iso(now, sizeof(now)), e);
}

int run_record_set_status(struct run_record *rec, enum run_status status, const char *reason,
                          enum run_phase failed_phase, struct err *e)
{
    int rc = manifest_set_status(&rec->manifest, status, reason, failed_phase, e);
    if (rc == 0) {
        rc = manifest_save(&rec->manifest, e);
    }
    if (rec->stats != NULL) {
        struct err e3;
        rc = first_error(rc, ensure_stats_row(rec, rc == 0 ? e : &e3));
        char now[48];
        fs_now_iso(now, sizeof(now));
        struct err e2;
        int rc2 = stats_run_status(rec->stats, rec->id, status, reason,
                                   run_status_active(status) ? NULL : now, rc == 0 ? e : &e2);
        rc = first_error(rc, rc2);
    }
    return rc;
}

/* The manifest's files[] entry of f, in README's key order. */
static json_t *file_entry(const struct run_file *f, const char *rel_out, const char *rel_err)
{
    bool ok = f->status == FILE_STATUS_INGESTED;
    return json_pack(
        "{s:s, s:o, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:f, s:s, "
        "s:o}",
        "name", f->name, "source", manifest_str(f->source), "size_bytes", (json_int_t)f->size_bytes,
        "sha256", f->sha256, "status", file_status_name(f->status), "rows_read",
        (json_int_t)f->rows_read, "rows_valid", (json_int_t)f->rows_valid, "rows_invalid",
        (json_int_t)f->rows_invalid, "failure_cases", (json_int_t)f->failure_cases, "warnings",
        (json_int_t)f->warnings, "output", ok ? json_string(rel_out) : json_null(), "output_bytes",
        (json_int_t)f->output_bytes, "errors", f->errors_file ? json_string(rel_err) : json_null(),
        "duration_s", f->duration_s, "schema_fingerprint", f->schema_fingerprint, "reason",
        ok ? json_null() : manifest_str(f->reason ? f->reason : ""));
}

int run_record_put_file(struct run_record *rec, const struct run_file *f, struct err *e)
{
    bool ok = f->status == FILE_STATUS_INGESTED;
    char *rel_out = run_relpath(RUN_PATH_PARQUET, f->name);
    char *rel_err = run_relpath(RUN_PATH_ERRORS, f->name);
    char *out = rel_out ? fs_join(rec->dir, rel_out) : NULL;
    json_t *entry = rel_err && out ? file_entry(f, rel_out, rel_err) : NULL;
    int rc = 0;
    if (entry == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = manifest_put_file(&rec->manifest, f->name, entry, e);
    if (rc == 0) {
        rc = manifest_save(&rec->manifest, e);
    }
    if (rec->stats != NULL) {
        struct stats_file sf = {
            .name = f->name,
            .source_path = f->source,
            .size_bytes = f->size_bytes,
            .sha256 = f->sha256,
            .rows_read = f->rows_read,
            .rows_valid = f->rows_valid,
            .rows_invalid = f->rows_invalid,
            .failure_cases = f->failure_cases,
            .output_path = ok ? out : NULL,
            .output_bytes = f->output_bytes,
            .duration_ms = (uint64_t)(f->duration_s * 1000.0),
            .status = f->status,
        };
        struct err e2;
        rc = first_error(rc, stats_put_file(rec->stats, rec->id, &sf, rc == 0 ? e : &e2));
    }
out:
    free(rel_out);
    free(rel_err);
    free(out);
    return rc;
}

/* The steps[] entry of name, added as pending (with kind) when missing; NULL when out of memory. */
static json_t *step_entry(struct run_record *rec, const char *name, const char *kind)
{
    json_t *steps = json_object_get(rec->manifest.root, "steps");
    if (!json_is_array(steps)) {
        steps = json_array();
        if (steps == NULL || json_object_set_new(rec->manifest.root, "steps", steps) != 0) {
            return NULL;
        }
    }
    json_t *s = manifest_find(steps, name);
    if (s != NULL) {
        return s;
    }
    s = json_pack("{s:s, s:s, s:s}", "name", name, "kind", kind, "status",
                  step_status_name(STEP_STATUS_PENDING));
    if (s == NULL || json_array_append_new(steps, s) != 0) {
        return NULL;
    }
    return s;
}

int run_record_step(struct run_record *rec, const char *name, const char *kind,
                    enum step_status *status, struct err *e)
{
    *status = STEP_STATUS_PENDING;
    json_t *entry = step_entry(rec, name, kind);
    if (entry == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    (void)step_status_parse(json_string_value(json_object_get(entry, "status")), status);
    return 0;
}

int run_record_put_step(struct run_record *rec, const char *name, const char *kind,
                        enum step_status status, int64_t rows, const char *reason, struct err *e)
{
    json_t *entry = step_entry(rec, name, kind);
    if (entry == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    char now[48];
    fs_now_iso(now, sizeof(now));
    bool running = status == STEP_STATUS_RUNNING;
    int rc = json_object_set_new(entry, "status", json_string(step_status_name(status)));
    if (running) {
        rc |= json_object_set_new(entry, "started_at", json_string(now));
        rc |= json_object_set_new(entry, "finished_at", json_null());
    } else {
        rc |= json_object_set_new(entry, "finished_at", json_string(now));
    }
    rc |= json_object_set_new(entry, "rows", rows >= 0 ? json_integer(rows) : json_null());
    rc |= json_object_set_new(entry, "reason", reason ? manifest_str(reason) : json_null());
    rc = rc != 0 ? err_set(e, AE_NOMEM, "out of memory") : manifest_save(&rec->manifest, e);
    if (rec->stats != NULL) {
        struct stats_step ss = {
            .step = name,
            .kind = kind,
            .status = status,
            .started_at = json_string_value(json_object_get(entry, "started_at")),
            .finished_at = running ? NULL : now,
            .rows = rows,
            .reason = reason,
        };
        struct err e2;
        rc = first_error(rc, stats_put_step(rec->stats, rec->id, &ss, rc == 0 ? e : &e2));
    }
    return rc;
}
