/*
 * test_run_record.c - the run record (src/run/record.h): typed statuses and their words, run-folder
 * paths, and each change reaching manifest.json and stats.db together, in the shapes README
 * documents; the correction of a run whose process died reaching both stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run/record.h"
#include "run/status.h"
#include "test_helpers.h"
#include "util/fs.h"

#include <sqlite3.h>

/* One row of a stats.db query, columns joined by '|' (NULL as "~"), into out. */
static void sql_row(const char *db_path, const char *sql, char *out, size_t n)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    out[0] = '\0';
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", i ? "|" : "", v ? v : "~");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The keys of a JSON object in file order, joined by ','. */
static void keys_of(json_t *o, char *out, size_t n)
{
    out[0] = '\0';
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? "," : "", k);
    }
}

static void test_status_words(void **state)
{
    (void)state;
    /* The words are the product contract: DESIGN.md and README name them. */
    const char *runs[] = {"ingesting", "ingested", "running", "completed", "failed", "abandoned"};
    for (int i = 0; i < 6; i++) {
        enum run_status s = RUN_STATUS_UNKNOWN;
        assert_string_equal(run_status_name((enum run_status)i), runs[i]);
        assert_true(run_status_parse(runs[i], &s));
        assert_int_equal(s, i);
    }
    assert_string_equal(run_status_name(RUN_STATUS_UNKNOWN), "unknown");
    enum run_status rs = RUN_STATUS_COMPLETED;
    assert_false(run_status_parse("unknown", &rs));
    assert_false(run_status_parse("Failed", &rs));
    assert_false(run_status_parse(NULL, &rs));
    assert_int_equal(rs, RUN_STATUS_COMPLETED); /* unchanged on failure */
    assert_true(run_status_active(RUN_STATUS_INGESTING));
    assert_true(run_status_active(RUN_STATUS_RUNNING));
    assert_false(run_status_active(RUN_STATUS_INGESTED));
    assert_false(run_status_active(RUN_STATUS_FAILED));

    assert_null(run_phase_name(RUN_PHASE_NONE));
    assert_string_equal(run_phase_name(RUN_PHASE_INGEST), "ingest");
    assert_string_equal(run_phase_name(RUN_PHASE_RUN), "run");
    enum run_phase ph = RUN_PHASE_NONE;
    assert_true(run_phase_parse("run", &ph));
    assert_int_equal(ph, RUN_PHASE_RUN);
    assert_false(run_phase_parse("load", &ph));
    assert_false(run_phase_parse(NULL, &ph));

    enum file_status fs = FILE_STATUS_FAILED;
    assert_string_equal(file_status_name(FILE_STATUS_INGESTED), "ingested");
    assert_string_equal(file_status_name(FILE_STATUS_FAILED), "failed");
    assert_true(file_status_parse("ingested", &fs));
    assert_int_equal(fs, FILE_STATUS_INGESTED);
    assert_false(file_status_parse("done", &fs));

    const char *steps[] = {"pending", "running", "done", "skipped", "failed"};
    for (int i = 0; i < 5; i++) {
        enum step_status s = STEP_STATUS_PENDING;
        assert_string_equal(step_status_name((enum step_status)i), steps[i]);
        assert_true(step_status_parse(steps[i], &s));
        assert_int_equal(s, i);
    }
    enum step_status ss = STEP_STATUS_DONE;
    assert_false(step_status_parse("ingested", &ss));
    assert_int_equal(ss, STEP_STATUS_DONE);
}

static void test_run_paths(void **state)
{
    (void)state;
    struct {
        enum run_path_kind kind;
        const char *rel;
    } cases[] = {
        {RUN_PATH_DIR, ""},
        {RUN_PATH_MANIFEST, "manifest.json"},
        {RUN_PATH_LOG, "astro.log"},
        {RUN_PATH_LOCK, ".lock"},
        {RUN_PATH_INGESTED_DIR, "ingested"},
        {RUN_PATH_ERRORS_DIR, "errors"},
        {RUN_PATH_PARQUET, "ingested/orders.parquet"},
        {RUN_PATH_ERRORS, "errors/orders.jsonl"},
        {RUN_PATH_FAILURE_CASES, "errors/orders.failure_cases.csv"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *rel = run_relpath(cases[i].kind, "orders");
        char *abs = run_path("/p/.working", "abc12", cases[i].kind, "orders");
        char want[128];
        snprintf(want, sizeof(want), "/p/.working/abc12%s%s", cases[i].rel[0] ? "/" : "",
                 cases[i].rel);
        assert_string_equal(rel, cases[i].rel);
        assert_string_equal(abs, want);
        free(rel);
        free(abs);
    }
    assert_true(run_id_valid("abc12"));
    assert_false(run_id_valid("abc1"));
    assert_false(run_id_valid("abc123"));
    assert_false(run_id_valid("ABC12"));
    assert_false(run_id_valid("../ab"));
}

struct fixture {
    char *dir;
    char *working;
    char *db_path;
    struct stats *stats;
    int lock; /* the run's own lock, as ingest holds it */
};

/* A new run id as ingest makes it: its folder, its lock (*lock) and its record (*rec). */
static void add_run(struct fixture *f, const char *id, int *lock, struct run_record *rec)
{
    struct err e;
    int wl = -1;
    assert_int_equal(run_lock_working(f->working, &wl, &e), 0);
    assert_int_equal(run_create_dir(f->working, id, lock, &e), 0);
    run_unlock(wl);
    assert_int_equal(
        run_record_create(rec, f->stats, f->working, id, "shop", "astro.yaml", "/src", &e), 0);
}

/* A project folder with stats.db and the run id, its record in *rec. */
static void fixture_open(struct fixture *f, const char *id, struct run_record *rec)
{
    struct err e;
    f->dir = th_tempdir();
    f->working = fs_join(f->dir, ".working");
    f->db_path = fs_join(f->dir, ".astro/stats.db");
    assert_int_equal(stats_open(f->db_path, &f->stats, &e), 0);
    add_run(f, id, &f->lock, rec);
}

static void fixture_close(struct fixture *f)
{
    run_unlock(f->lock);
    stats_close(f->stats);
    th_rmrf(f->dir);
    free(f->dir);
    free(f->working);
    free(f->db_path);
}

static void test_record_create_files_and_status(void **state)
{
    (void)state;
    struct fixture fx;
    struct run_record rec;
    fixture_open(&fx, "abc12", &rec);
    struct err e;
    assert_int_equal(run_record_status(&rec), RUN_STATUS_INGESTING);
    char row[512];
    sql_row(fx.db_path,
            "SELECT run_id, pipeline, status, reason, source_dir, finished_at FROM runs", row,
            sizeof(row));
    assert_string_equal(row, "abc12|shop|ingesting|~|/src|~");

    struct run_file ok = {
        .name = "orders",
        .source = "/src/orders.csv",
        .size_bytes = 26,
        .sha256 = "aa",
        .status = FILE_STATUS_INGESTED,
        .rows_read = 2,
        .rows_valid = 2,
        .output_bytes = 690,
        .duration_s = 0.25,
        .schema_fingerprint = "ff",
        .reason = "ignored when ingested",
    };
    struct run_file bad = ok;
    bad.name = "people";
    bad.status = FILE_STATUS_FAILED;
    bad.rows_valid = 1;
    bad.rows_invalid = 1;
    bad.failure_cases = 3;
    bad.warnings = 1;
    bad.output_bytes = 0;
    bad.errors_file = true;
    bad.reason = "3 failure case(s) in 1 of 2 rows";
    assert_int_equal(run_record_put_file(&rec, &ok, &e), 0);
    assert_int_equal(run_record_put_file(&rec, &bad, &e), 0);
    ok.rows_read = 3; /* a second put replaces the entry */
    assert_int_equal(run_record_put_file(&rec, &ok, &e), 0);
    assert_int_equal(run_record_set_status(&rec, RUN_STATUS_FAILED, "1 of 2 file(s) failed",
                                           RUN_PHASE_INGEST, &e),
                     0);
    run_record_release(&rec);
    run_record_release(&rec); /* released twice: a no-op */

    /* What is on disk: the manifest in README's shape, read back through a fresh record. */
    assert_int_equal(run_record_open(&rec, NULL, fx.working, "abc12", &e), 0);
    char keys[512];
    keys_of(rec.manifest.root, keys, sizeof(keys));
    assert_string_equal(keys, "manifest_version,run_id,pipeline,status,reason,failed_phase,"
                              "created_at,updated_at,config,source_dir,files,steps,astro_version");
    json_t *r = rec.manifest.root;
    assert_string_equal(json_string_value(json_object_get(r, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(r, "failed_phase")), "ingest");
    json_t *files = json_object_get(r, "files");
    assert_int_equal(json_array_size(files), 2);
    json_t *f0 = json_array_get(files, 0);
    keys_of(f0, keys, sizeof(keys));
    assert_string_equal(keys, "name,source,size_bytes,sha256,status,rows_read,rows_valid,"
                              "rows_invalid,failure_cases,warnings,output,output_bytes,errors,"
                              "duration_s,schema_fingerprint,reason");
    assert_int_equal(json_integer_value(json_object_get(f0, "rows_read")), 3);
    assert_string_equal(json_string_value(json_object_get(f0, "status")), "ingested");
    assert_string_equal(json_string_value(json_object_get(f0, "output")),
                        "ingested/orders.parquet");
    assert_true(json_is_null(json_object_get(f0, "errors")));
    assert_true(json_is_null(json_object_get(f0, "reason")));
    assert_true(json_real_value(json_object_get(f0, "duration_s")) == 0.25);
    json_t *f1 = json_array_get(files, 1);
    assert_string_equal(json_string_value(json_object_get(f1, "status")), "failed");
    assert_true(json_is_null(json_object_get(f1, "output")));
    assert_string_equal(json_string_value(json_object_get(f1, "errors")), "errors/people.jsonl");
    assert_string_equal(json_string_value(json_object_get(f1, "reason")),
                        "3 failure case(s) in 1 of 2 rows");
    run_record_release(&rec);

    /* ... and stats.db: the same facts, the output path under the run folder. */
    sql_row(fx.db_path, "SELECT status, reason, finished_at IS NOT NULL FROM runs", row,
            sizeof(row));
    assert_string_equal(row, "failed|1 of 2 file(s) failed|1");
    sql_row(fx.db_path,
            "SELECT rows_read, rows_valid, output_path, output_bytes, duration_ms, status FROM"
            " files WHERE name = 'orders'",
            row, sizeof(row));
    char want[512];
    snprintf(want, sizeof(want), "3|2|%s/abc12/ingested/orders.parquet|690|250|ingested",
             fx.working);
    assert_string_equal(row, want);
    sql_row(fx.db_path,
            "SELECT rows_invalid, failure_cases, output_path, status FROM files WHERE name ="
            " 'people'",
            row, sizeof(row));
    assert_string_equal(row, "1|3|~|failed");
    fixture_close(&fx);
}

static void test_record_steps(void **state)
{
    (void)state;
    struct fixture fx;
    struct run_record rec;
    fixture_open(&fx, "run01", &rec);
    struct err e;
    assert_int_equal(run_record_set_status(&rec, RUN_STATUS_INGESTED, NULL, RUN_PHASE_NONE, &e), 0);
    char row[512];
    sql_row(fx.db_path, "SELECT status, finished_at IS NOT NULL FROM runs", row, sizeof(row));
    assert_string_equal(row, "ingested|1");
    /* An active status clears finished_at. */
    assert_int_equal(run_record_set_status(&rec, RUN_STATUS_RUNNING, NULL, RUN_PHASE_NONE, &e), 0);
    sql_row(fx.db_path, "SELECT status, finished_at IS NULL FROM runs", row, sizeof(row));
    assert_string_equal(row, "running|1");

    /* A step not seen before reads as pending and is added to the manifest. */
    enum step_status st = STEP_STATUS_DONE;
    assert_int_equal(run_record_step(&rec, "load", "load", &st, &e), 0);
    assert_int_equal(st, STEP_STATUS_PENDING);
    json_t *steps = json_object_get(rec.manifest.root, "steps");
    assert_int_equal(json_array_size(steps), 1);
    assert_int_equal(run_record_put_step(&rec, "load", "load", STEP_STATUS_RUNNING, -1, NULL, &e),
                     0);
    sql_row(fx.db_path,
            "SELECT step, kind, status, started_at IS NOT NULL, finished_at, rows FROM"
            " steps",
            row, sizeof(row));
    assert_string_equal(row, "load|load|running|1|~|~");
    assert_int_equal(run_record_put_step(&rec, "load", "load", STEP_STATUS_DONE, 3, NULL, &e), 0);
    /* A step put without a lookup is added too. */
    assert_int_equal(run_record_put_step(&rec, "gate", "exec", STEP_STATUS_FAILED, -1,
                                         "gate exited with status 3", &e),
                     0);
    run_record_release(&rec);

    assert_int_equal(run_record_open(&rec, fx.stats, fx.working, "run01", &e), 0);
    steps = json_object_get(rec.manifest.root, "steps");
    assert_int_equal(json_array_size(steps), 2);
    char keys[256];
    keys_of(json_array_get(steps, 0), keys, sizeof(keys));
    assert_string_equal(keys, "name,kind,status,started_at,finished_at,rows,reason");
    assert_int_equal(run_record_step(&rec, "load", "load", &st, &e), 0);
    assert_int_equal(st, STEP_STATUS_DONE);
    assert_int_equal(run_record_step(&rec, "gate", "exec", &st, &e), 0);
    assert_int_equal(st, STEP_STATUS_FAILED);
    assert_int_equal(json_array_size(steps), 2); /* lookups of known steps add nothing */
    run_record_release(&rec);
    sql_row(fx.db_path,
            "SELECT status, rows, started_at IS NOT NULL, finished_at IS NOT NULL FROM steps"
            " WHERE step = 'load'",
            row, sizeof(row));
    assert_string_equal(row, "done|3|1|1");
    sql_row(fx.db_path, "SELECT kind, status, rows, reason FROM steps WHERE step = 'gate'", row,
            sizeof(row));
    assert_string_equal(row, "exec|failed|~|gate exited with status 3");

    /* Not a run id, or no manifest: nothing is opened. */
    assert_int_equal(run_record_open(&rec, fx.stats, fx.working, "../x1", &e), AE_CONFIG);
    assert_int_equal(run_record_open(&rec, fx.stats, fx.working, "zzzzz", &e), AE_FORMAT);
    assert_null(rec.dir);
    fixture_close(&fx);
}

/* When the manifest cannot be written, the status still reaches stats.db (and the error is
 * returned): a failure is recorded wherever the environment allows. */
static void test_record_status_reaches_stats_when_manifest_fails(void **state)
{
    (void)state;
    struct fixture fx;
    struct run_record rec;
    fixture_open(&fx, "abc12", &rec);
    struct err e;
    char *gone = fs_join(fx.working, "abc12");
    th_rmrf(gone);
    free(gone);
    assert_int_not_equal(
        run_record_set_status(&rec, RUN_STATUS_FAILED, "disk gone", RUN_PHASE_INGEST, &e), 0);
    assert_int_equal(e.code, AE_IO);
    char row[256];
    sql_row(fx.db_path, "SELECT status, reason FROM runs", row, sizeof(row));
    assert_string_equal(row, "failed|disk gone");
    run_record_release(&rec);
    fixture_close(&fx);
}

/* A run whose process died (kill -9): its manifest says ingesting, stats.db too, and nobody holds
 * its lock. Listing the runs corrects both stores; a live run is left alone. */
static void test_dead_run_corrected_in_both_stores(void **state)
{
    (void)state;
    struct fixture fx;
    struct run_record rec;
    fixture_open(&fx, "dead1", &rec);
    struct err e;
    run_record_release(&rec);
    int live_lock = -1;
    add_run(&fx, "live1", &live_lock, &rec);
    assert_int_equal(run_record_set_status(&rec, RUN_STATUS_RUNNING, NULL, RUN_PHASE_NONE, &e), 0);
    run_record_release(&rec);

    run_unlock(fx.lock); /* the process working on dead1 is gone */
    fx.lock = -1;
    struct run_info *runs = NULL;
    size_t n = 0;
    assert_int_equal(run_list(fx.working, fx.stats, &runs, &n, &e), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        bool dead = strcmp(runs[i].id, "dead1") == 0;
        assert_int_equal(runs[i].status, dead ? RUN_STATUS_FAILED : RUN_STATUS_RUNNING);
        assert_int_equal(runs[i].failed_phase, dead ? RUN_PHASE_INGEST : RUN_PHASE_NONE);
        assert_int_equal(runs[i].live, !dead);
    }
    run_list_free(runs, n);

    assert_int_equal(run_record_open(&rec, NULL, fx.working, "dead1", &e), 0);
    assert_int_equal(run_record_status(&rec), RUN_STATUS_FAILED);
    assert_string_equal(json_string_value(json_object_get(rec.manifest.root, "failed_phase")),
                        "ingest");
    assert_non_null(
        strstr(json_string_value(json_object_get(rec.manifest.root, "reason")), "interrupted"));
    run_record_release(&rec);
    char row[512];
    sql_row(fx.db_path,
            "SELECT status, reason LIKE 'interrupted:%', finished_at IS NOT NULL FROM runs WHERE"
            " run_id = 'dead1'",
            row, sizeof(row));
    assert_string_equal(row, "failed|1|1");
    sql_row(fx.db_path, "SELECT status FROM runs WHERE run_id = 'live1'", row, sizeof(row));
    assert_string_equal(row, "running");

    /* The lock taken to correct dead1 was released: a process may work on the run again. */
    int again = -1;
    assert_int_equal(run_lock_run(fx.working, "dead1", &again, &e), 0);
    run_unlock(again);
    run_unlock(live_lock);
    fixture_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_words),
        cmocka_unit_test(test_run_paths),
        cmocka_unit_test(test_record_create_files_and_status),
        cmocka_unit_test(test_record_steps),
        cmocka_unit_test(test_record_status_reaches_stats_when_manifest_fails),
        cmocka_unit_test(test_dead_run_corrected_in_both_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
