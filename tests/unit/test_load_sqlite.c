/*
 * test_load_sqlite.c - the SQLite load target: every mode, upserts that rewrite only changed rows
 * (counted by changes()), checkpoints that make a re-run a no-op, a failure in the middle of a
 * load that leaves nothing behind, the value mapping of every dtype (expected text worked out by
 * hand from load.h's table), the option checks, and a sql step's statements (one transaction).
 * Each test uses its own database file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "load/load.h"
#include "test_helpers.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

struct fixture {
    char *dir;
    char *path;
    struct target_spec t;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = th_tempdir();
    size_t n = strlen(f->dir) + 16;
    f->path = malloc(n);
    snprintf(f->path, n, "%s/w.db", f->dir);
    f->t.name = "local";
    f->t.kind = TARGET_SQLITE;
    f->t.path = f->path;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    th_rmrf(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* Runs sql; returns the first column of every row joined by '|' (NULL as "<null>"), malloc'd. */
static char *q(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        fail();
    }
    struct buf b = BUF_INIT;
    assert_int_equal(buf_puts(&b, ""), 0);
    int rc;
    bool first = true;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        assert_int_equal(buf_printf(&b, "%s%s", first ? "" : "|", v != NULL ? v : "<null>"), 0);
        first = false;
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf_detach(&b, NULL);
}

static void assert_q(const char *path, const char *sql, const char *want)
{
    char *got = q(path, sql);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "query: %s\n got: %s\nwant: %s\n", sql, got, want);
        free(got);
        fail();
    }
    free(got);
}

static void exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg);
        fail();
    }
    sqlite3_close(db);
}

/* Two columns: id int64 (not nullable), name str (nullable). */
static const struct column_desc kv_cols[] = {
    {"id", {DT_INT64, 0, 0}, false},
    {"name", {DT_STR, 0, 0}, true},
};

/* A batch of kv_cols rows: ids[i] and names[i] (NULL = null); lines start at line0. */
static void kv_batch(struct batch *b, const int64_t *ids, const char *const *names, size_t n,
                     uint64_t line0)
{
    const struct dtype_info types[] = {kv_cols[0].type, kv_cols[1].type};
    assert_int_equal(batch_init(b, types, 2, n > 0 ? n : 1), 0);
    for (size_t i = 0; i < n; i++) {
        b->cols[0].v.i64[i] = ids[i];
        b->cols[0].valid[i] = 1;
        const char *s = names[i];
        assert_int_equal(
            batch_put_bytes(b, 1, i, s != NULL ? s : "", s != NULL ? strlen(s) : 0, s != NULL), 0);
        b->row_ok[i] = 1;
        b->line[i] = line0 + i;
    }
    b->nrows = n;
}

static struct load_opts kv_opts(const char *table, enum load_mode mode, const char *sha,
                                struct load_result *res)
{
    static const char *const key[] = {"id"};
    struct load_opts o = {0};
    o.table = table;
    o.mode = mode;
    o.key = key;
    o.nkey = mode == LOAD_UPSERT ? 1 : 0;
    o.create = true;
    o.run_id = "abc12";
    o.dataset = "people";
    o.source_sha256 = sha;
    o.result = res;
    return o;
}

/* Loads n rows of (ids, names) in one batch; returns the sink's rc of open/write/commit. */
static int load_kv(struct fixture *f, const struct load_opts *o, const int64_t *ids,
                   const char *const *names, size_t n, struct err *e)
{
    struct sink s;
    int rc = load_open(&s, &f->t, o, kv_cols, 2, e);
    if (rc != 0) {
        return rc;
    }
    struct batch b;
    kv_batch(&b, ids, names, n, 2);
    rc = sink_write(&s, &b, e);
    batch_release(&b);
    if (rc != 0) {
        sink_abort(&s);
        return rc;
    }
    uint64_t bytes = 99;
    rc = sink_commit(&s, &bytes, e);
    assert_int_equal(bytes, 0);
    return rc;
}

/* The checkpoint identity holds the schema fingerprint: the same fingerprint is skipped, another
 * one loads again (replace) or is refused (append), reload always loads, and the row keeps the
 * last load's fingerprint. */
static void test_checkpoint_fingerprint(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct load_result res = {0};
    struct load_opts o = kv_opts("people", LOAD_REPLACE, "sha-1", &res);
    const int64_t ids[] = {1, 2};
    const char *const names[] = {"a", "b"};
    o.schema_fingerprint = "fp-a";
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    assert_false(res.skipped);
    memset(&res, 0, sizeof(res));
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    assert_true(res.skipped);
    o.schema_fingerprint = "fp-b";
    memset(&res, 0, sizeof(res));
    assert_int_equal(load_kv(f, &o, ids, names, 1, &e), 0);
    assert_false(res.skipped);
    assert_int_equal(res.rows_sent, 1);
    assert_q(f->path, "SELECT count(*) FROM people", "1");
    assert_q(f->path, "SELECT schema_fingerprint FROM astro_checkpoints", "fp-b");
    /* Append of the same file with another schema: refused, nothing written. */
    o.mode = LOAD_APPEND;
    o.schema_fingerprint = "fp-c";
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), AE_CONFIG);
    assert_non_null(strstr(e.msg, "is already loaded into \"people\" with another schema"));
    assert_q(f->path, "SELECT count(*) FROM people", "1");
    /* reload: loaded whatever the checkpoint says, the row rewritten. */
    o.reload = true;
    o.run_id = "def34";
    memset(&res, 0, sizeof(res));
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    assert_false(res.skipped);
    assert_q(f->path, "SELECT count(*) FROM people", "3");
    assert_q(f->path, "SELECT run_id || ',' || schema_fingerprint || ',' || rows FROM "
                      "astro_checkpoints", "def34,fp-c,2");
    o.schema_fingerprint = "fp-c";
    memset(&res, 0, sizeof(res));
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    assert_false(res.skipped);
}

/* A table whose column type's affinity differs from the load's is refused before any row. */
static void test_column_type_mismatch(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct load_opts o = kv_opts("people", LOAD_APPEND, "sha-1", NULL);
    const int64_t ids[] = {1};
    const char *const names[] = {"a"};
    exec(f->path, "CREATE TABLE people (id TEXT, name VARCHAR(20))");
    assert_int_equal(load_kv(f, &o, ids, names, 1, &e), AE_DB);
    assert_non_null(strstr(e.msg, "column \"id\" of table \"people\" is TEXT, but the dataset's "
                                  "int64 column loads as INTEGER; the table was made for another "
                                  "schema: drop it"));
    exec(f->path, "DROP TABLE people; CREATE TABLE people (id BIGINT, name, n NUMERIC)");
    assert_int_equal(load_kv(f, &o, ids, names, 1, &e), 0);
    assert_q(f->path, "SELECT typeof(id) || typeof(name) FROM people", "integertext");
}

/* ---------------------------------------------------------------- modes */

static void test_append_create_and_checkpoint(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct load_result res;
    memset(&res, 0xAB, sizeof(res));
    struct load_opts o = kv_opts("people", LOAD_APPEND, "sha-1", &res);
    struct sink s;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), 0);
    struct batch b;
    const int64_t ids1[] = {1, 2, 3};
    const char *const names1[] = {"ann", NULL, "cy"};
    kv_batch(&b, ids1, names1, 3, 2);
    b.row_ok[1] = 0; /* a failed row is never loaded */
    assert_int_equal(sink_write(&s, &b, &e), 0);
    batch_release(&b);
    const int64_t ids2[] = {4};
    const char *const names2[] = {"dee"};
    kv_batch(&b, ids2, names2, 1, 5);
    assert_int_equal(sink_write(&s, &b, &e), 0);
    batch_release(&b);
    struct load_result mid = res; /* the counts so far, published after every write */
    assert_int_equal(mid.rows_sent, 3);
    assert_false(mid.committed);
    uint64_t bytes = 1;
    assert_int_equal(sink_commit(&s, &bytes, &e), 0);
    assert_int_equal(res.rows_sent, 3);
    assert_int_equal(res.rows_written, 3);
    assert_int_equal(res.bytes_sent, 0);
    assert_false(res.skipped);
    assert_true(res.committed);

    assert_q(f->path, "SELECT id || ':' || ifnull(name, 'N') FROM people ORDER BY id",
             "1:ann|3:cy|4:dee");
    /* load.h's mapping: id int64 NOT NULL -> INTEGER NOT NULL, no key outside upsert. */
    assert_q(f->path, "SELECT sql FROM sqlite_master WHERE name = 'people'",
             "CREATE TABLE \"people\" (\"id\" INTEGER NOT NULL, \"name\" TEXT)");
    assert_q(f->path,
             "SELECT run_id || ',' || dataset || ',' || source_sha256 || ',' || target_table || "
             "',' || rows || ',' || status || ',' || length(loaded_at) || substr(loaded_at, 11, 1) "
             "|| substr(loaded_at, -1) FROM astro_checkpoints",
             "abc12,people,sha-1,people,3,loaded,24TZ");
}

static void test_rerun_is_skipped(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct load_result res = {0};
    struct load_opts o = kv_opts("people", LOAD_APPEND, "sha-1", &res);
    const int64_t ids[] = {1, 2};
    const char *const names[] = {"a", "b"};
    bool done = true;
    assert_int_equal(load_checkpointed(&f->t, "people", "sha-1", "people", &done, &e), 0);
    assert_false(done);
    assert_int_equal(access(f->path, F_OK), -1); /* the pre-check creates nothing */

    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    assert_int_equal(load_checkpointed(&f->t, "people", "sha-1", "people", &done, &e), 0);
    assert_true(done);
    assert_int_equal(load_checkpointed(&f->t, "people", "sha-1", NULL, &done, &e), 0);
    assert_true(done);
    assert_int_equal(load_checkpointed(&f->t, "people", "sha-1", "other", &done, &e), 0);
    assert_false(done);
    assert_int_equal(load_checkpointed(&f->t, "people", "sha-2", "people", &done, &e), 0);
    assert_false(done);

    /* The same file again: the sink itself sees the checkpoint and loads nothing. */
    memset(&res, 0, sizeof(res));
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    assert_true(res.skipped);
    assert_false(res.committed);
    assert_int_equal(res.rows_sent, 0);
    assert_q(f->path, "SELECT count(*) FROM people", "2");
    assert_q(f->path, "SELECT count(*) FROM astro_checkpoints", "1");

    /* Another file of the same dataset appends. */
    o.source_sha256 = "sha-2";
    const int64_t ids2[] = {3};
    assert_int_equal(load_kv(f, &o, ids2, names, 1, &e), 0);
    assert_false(res.skipped);
    assert_q(f->path, "SELECT group_concat(id, ',') FROM people", "1,2,3");
    assert_q(f->path, "SELECT count(*) FROM astro_checkpoints", "2");
}

static void test_replace(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct load_result res = {0};
    struct load_opts o = kv_opts("people", LOAD_APPEND, "sha-1", &res);
    const int64_t ids[] = {1, 2, 3};
    const char *const names[] = {"a", "b", "c"};
    assert_int_equal(load_kv(f, &o, ids, names, 3, &e), 0);
    o.mode = LOAD_REPLACE;
    o.source_sha256 = "sha-2";
    const int64_t ids2[] = {7, 8};
    const char *const names2[] = {"x", "y"};
    assert_int_equal(load_kv(f, &o, ids2, names2, 2, &e), 0);
    assert_int_equal(res.rows_written, 2);
    assert_q(f->path, "SELECT group_concat(id || name, ',') FROM people", "7x,8y");
}

static void test_upsert_changed_rows_only(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct load_result res = {0};
    struct load_opts o = kv_opts("people", LOAD_UPSERT, "sha-1", &res);
    const int64_t ids[] = {1, 2, 3, 4};
    const char *const names[] = {"a", "b", NULL, "d"};
    assert_int_equal(load_kv(f, &o, ids, names, 4, &e), 0);
    assert_int_equal(res.rows_written, 4);
    assert_q(f->path, "SELECT sql FROM sqlite_master WHERE name = 'people'",
             "CREATE TABLE \"people\" (\"id\" INTEGER NOT NULL, \"name\" TEXT, PRIMARY KEY "
             "(\"id\"))");

    /* 1 unchanged, 2 changed, 3 null -> value, 4 value -> null, 5 new: 4 rows written. */
    o.source_sha256 = "sha-2";
    const int64_t ids2[] = {1, 2, 3, 4, 5};
    const char *const names2[] = {"a", "B", "c", NULL, "e"};
    assert_int_equal(load_kv(f, &o, ids2, names2, 5, &e), 0);
    assert_int_equal(res.rows_sent, 5);
    assert_int_equal(res.rows_written, 4);
    assert_q(f->path, "SELECT group_concat(id || ifnull(name, 'N'), ',') FROM people",
             "1a,2B,3c,4N,5e");

    /* The same rows in another file: nothing changes, nothing written. */
    o.source_sha256 = "sha-3";
    assert_int_equal(load_kv(f, &o, ids2, names2, 5, &e), 0);
    assert_int_equal(res.rows_written, 0);
    assert_true(res.committed);

    /* on_conflict nothing keeps existing rows and inserts new ones. */
    o.on_conflict = "nothing";
    o.source_sha256 = "sha-4";
    const int64_t ids3[] = {1, 6};
    const char *const names3[] = {"zzz", "f"};
    assert_int_equal(load_kv(f, &o, ids3, names3, 2, &e), 0);
    assert_int_equal(res.rows_written, 1);
    assert_q(f->path, "SELECT group_concat(id || ifnull(name, 'N'), ',') FROM people",
             "1a,2B,3c,4N,5e,6f");

    /* on_conflict error: the duplicate fails the load and the new row 7 is rolled back. */
    o.on_conflict = "error";
    o.source_sha256 = "sha-5";
    const int64_t ids4[] = {7, 1};
    assert_int_equal(load_kv(f, &o, ids4, names3, 2, &e), AE_DB);
    assert_non_null(strstr(e.msg, "target \"local\" (sqlite): insert into \"people\" failed at "
                                  "the row from line 3 of the source file: UNIQUE constraint "
                                  "failed: people.id"));
    assert_false(res.committed);
    assert_q(f->path, "SELECT count(*) FROM people WHERE id = 7", "0");
    assert_q(f->path, "SELECT count(*) FROM astro_checkpoints WHERE source_sha256 = 'sha-5'", "0");
}

static void test_upsert_keys_only(void **state)
{
    /* Every column is a key: nothing to update, conflicts do nothing. */
    struct fixture *f = *state;
    struct err e = {0};
    struct load_result res = {0};
    static const char *const key[] = {"id", "name"};
    struct load_opts o = kv_opts("pairs", LOAD_UPSERT, "s1", &res);
    o.key = key;
    o.nkey = 2;
    const int64_t ids[] = {1, 1};
    const char *const names[] = {"a", "b"};
    assert_int_equal(load_kv(f, &o, ids, names, 2, &e), 0);
    o.source_sha256 = "s2";
    const int64_t ids2[] = {1, 2};
    assert_int_equal(load_kv(f, &o, ids2, names, 2, &e), 0);
    assert_int_equal(res.rows_written, 1);
    assert_q(f->path, "SELECT group_concat(id || name, ',') FROM pairs", "1a,1b,2b");
}

static void test_failure_mid_load_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    exec(f->path, "CREATE TABLE strict_people (id INTEGER NOT NULL, name TEXT NOT NULL);"
                  "INSERT INTO strict_people VALUES (100, 'kept');");
    struct load_result res = {0};
    struct load_opts o = kv_opts("strict_people", LOAD_REPLACE, "sha-1", &res);
    o.create = false;
    struct sink s;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), 0);
    struct batch b;
    const int64_t ids[] = {1, 2};
    const char *const names[] = {"a", "b"};
    kv_batch(&b, ids, names, 2, 2);
    assert_int_equal(sink_write(&s, &b, &e), 0);
    batch_release(&b);
    const int64_t ids2[] = {3, 4};
    const char *const names2[] = {"c", NULL};
    kv_batch(&b, ids2, names2, 2, 10);
    assert_int_equal(sink_write(&s, &b, &e), AE_DB);
    batch_release(&b);
    assert_string_equal(e.msg, "target \"local\" (sqlite): insert into \"strict_people\" failed "
                               "at the row from line 11 of the source file: NOT NULL constraint "
                               "failed: strict_people.name");
    sink_abort(&s);
    assert_int_equal(res.rows_sent, 3);
    assert_false(res.committed);
    /* The DELETE of replace and rows 1..3 are rolled back; no checkpoint. */
    assert_q(f->path, "SELECT group_concat(id || name, ',') FROM strict_people", "100kept");
    bool done = true;
    assert_int_equal(load_checkpointed(&f->t, "people", "sha-1", NULL, &done, &e), 0);
    assert_false(done);
    /* Even the checkpoint table, created in the same transaction, is rolled back. */
    assert_q(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'astro_checkpoints'", "0");
    /* The database is usable again at once (the write lock was released). */
    o.mode = LOAD_APPEND;
    const char *const names3[] = {"c", "d"};
    assert_int_equal(load_kv(f, &o, ids2, names3, 2, &e), 0);
    assert_q(f->path, "SELECT group_concat(id || name, ',') FROM strict_people", "100kept,3c,4d");
}

static void test_commit_failure_rolls_back(void **state)
{
    /* A checkpoint row that already exists (written behind the sink's back after it checked
     * would need a second writer; here the table is made read-only by a trigger instead). */
    struct fixture *f = *state;
    struct err e = {0};
    exec(f->path, "CREATE TABLE astro_checkpoints (run_id TEXT NOT NULL, dataset TEXT NOT NULL, "
                  "source_sha256 TEXT NOT NULL, target_table TEXT NOT NULL, rows INTEGER NOT "
                  "NULL, status TEXT NOT NULL, loaded_at TEXT NOT NULL, PRIMARY KEY (dataset, "
                  "source_sha256, target_table));"
                  "CREATE TRIGGER no_cp BEFORE INSERT ON astro_checkpoints BEGIN "
                  "SELECT RAISE(ABORT, 'checkpoints are frozen'); END;");
    struct load_result res = {0};
    struct load_opts o = kv_opts("people", LOAD_APPEND, "sha-1", &res);
    const int64_t ids[] = {1};
    const char *const names[] = {"a"};
    assert_int_equal(load_kv(f, &o, ids, names, 1, &e), AE_DB);
    assert_string_equal(e.msg, "target \"local\" (sqlite): cannot record the checkpoint of "
                               "\"people\": checkpoints are frozen");
    assert_false(res.committed);
    assert_q(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'people'", "0");
}

/* ---------------------------------------------------------------- types */

static void test_type_round_trip(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    static const struct column_desc cols[] = {
        {"s", {DT_STR, 0, 0}, true},           {"b", {DT_BOOL, 0, 0}, true},
        {"i8", {DT_INT8, 0, 0}, true},         {"i16", {DT_INT16, 0, 0}, true},
        {"i32", {DT_INT32, 0, 0}, true},       {"i64", {DT_INT64, 0, 0}, true},
        {"u8", {DT_UINT8, 0, 0}, true},        {"u16", {DT_UINT16, 0, 0}, true},
        {"u32", {DT_UINT32, 0, 0}, true},      {"u64", {DT_UINT64, 0, 0}, true},
        {"f32", {DT_FLOAT32, 0, 0}, true},     {"f64", {DT_FLOAT64, 0, 0}, true},
        {"d", {DT_DATE, 0, 0}, true},          {"ts", {DT_TIMESTAMP, 0, 0}, true},
        {"tz", {DT_TIMESTAMP_TZ, 0, 0}, true}, {"dec", {DT_DECIMAL, 12, 2}, true},
        {"big", {DT_DECIMAL, 38, 10}, true},   {"whole", {DT_DECIMAL, 18, 0}, true},
        {"wide", {DT_DECIMAL, 20, 0}, true},
    };
    enum { NC = sizeof(cols) / sizeof(cols[0]), NR = 3 };
    struct dtype_info types[NC];
    for (size_t i = 0; i < NC; i++) {
        types[i] = cols[i].type;
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, NC, NR), 0);
    const char *strs[NR] = {"Zürich – 東京 \"q\" 'a'", NULL, ""};
    for (size_t r = 0; r < NR; r++) {
        b.row_ok[r] = 1;
        b.line[r] = r + 2;
        for (size_t c = 1; c < NC; c++) {
            b.cols[c].valid[r] = r != 1;
        }
        assert_int_equal(batch_put_bytes(&b, 0, r, strs[r] ? strs[r] : "",
                                         strs[r] ? strlen(strs[r]) : 0, strs[r] != NULL),
                         0);
    }
    /* row 0: typical values; row 1: all null; row 2: extremes */
    b.cols[1].v.u8[0] = 1;
    b.cols[1].v.u8[2] = 0;
    b.cols[2].v.i64[0] = -128;
    b.cols[2].v.i64[2] = 127;
    b.cols[3].v.i64[0] = -32768;
    b.cols[3].v.i64[2] = 32767;
    b.cols[4].v.i64[0] = INT32_MIN;
    b.cols[4].v.i64[2] = INT32_MAX;
    b.cols[5].v.i64[0] = INT64_MIN;
    b.cols[5].v.i64[2] = INT64_MAX;
    b.cols[6].v.i64[0] = 0;
    b.cols[6].v.i64[2] = 255;
    b.cols[7].v.i64[0] = 1;
    b.cols[7].v.i64[2] = 65535;
    b.cols[8].v.i64[0] = 2;
    b.cols[8].v.i64[2] = 4294967295LL;
    b.cols[9].v.i64[0] = 3;
    b.cols[9].v.i64[2] = INT64_MAX; /* the largest uint64 SQLite holds */
    b.cols[10].v.f64[0] = 1.5;
    b.cols[10].v.f64[2] = -0.25;
    b.cols[11].v.f64[0] = 0.1;
    b.cols[11].v.f64[2] = -1e300;
    b.cols[12].v.i64[0] = 19782;              /* 2024-01-01 is day 19723; +59 days = Feb 29 */
    b.cols[12].v.i64[2] = -1;                 /* 1969-12-31 */
    b.cols[13].v.i64[0] = 1700000000123456LL; /* 2023-11-14 22:13:20.123456 */
    b.cols[13].v.i64[2] = -1;                 /* one microsecond before the epoch */
    b.cols[14].v.i64[0] = 1700000000123456LL;
    b.cols[14].v.i64[2] = 0;
    b.cols[15].v.i128[0] = -1230; /* -12.30 */
    b.cols[15].v.i128[2] = 5;     /* 0.05 */
    __int128 big = 1234567890123456789LL;
    big = big * 10000000000000000000ULL + 123456789012345678ULL; /* 38 digits */
    b.cols[16].v.i128[0] = big;
    b.cols[16].v.i128[2] = -big;
    b.cols[17].v.i128[0] = 999999999999999999LL;
    b.cols[17].v.i128[2] = -7;
    b.cols[18].v.i128[0] = (__int128)99999999999999999LL * 1000 + 999; /* 20 digits */
    b.cols[18].v.i128[2] = -5;
    b.nrows = NR;

    struct load_result res = {0};
    struct load_opts o = {0};
    o.table = "all types";
    o.mode = LOAD_APPEND;
    o.create = true;
    o.dataset = "types";
    o.source_sha256 = "x";
    o.result = &res;
    struct sink s;
    assert_int_equal(load_open(&s, &f->t, &o, cols, NC, &e), 0);
    assert_int_equal(sink_write(&s, &b, &e), 0);
    assert_int_equal(sink_commit(&s, NULL, &e), 0);
    batch_release(&b);
    assert_int_equal(res.rows_written, 3);

    assert_q(f->path, "SELECT sql FROM sqlite_master WHERE name = 'all types'",
             "CREATE TABLE \"all types\" (\"s\" TEXT, \"b\" INTEGER, \"i8\" INTEGER, \"i16\" "
             "INTEGER, \"i32\" INTEGER, \"i64\" INTEGER, \"u8\" INTEGER, \"u16\" INTEGER, \"u32\" "
             "INTEGER, \"u64\" INTEGER, \"f32\" REAL, \"f64\" REAL, \"d\" TEXT, \"ts\" TEXT, "
             "\"tz\" TEXT, \"dec\" TEXT, \"big\" TEXT, \"whole\" INTEGER, \"wide\" TEXT)");
    /* Each value as typeof:quote(value); rows in load order. */
    const char *sel =
        "SELECT typeof(s)||':'||quote(s)||' '||typeof(b)||':'||quote(b)||' '||"
        "quote(i8)||' '||quote(i16)||' '||quote(i32)||' '||quote(i64)||' '||"
        "quote(u8)||' '||quote(u16)||' '||quote(u32)||' '||quote(u64)||' '||"
        "typeof(f32)||':'||quote(f32)||' '||ifnull(f64 = 0.1 OR f64 = -1e300, 'N')||' '||"
        "quote(d)||' '||quote(ts)||' '||quote(tz)||' '||quote(dec)||' '||"
        "quote(big)||' '||typeof(whole)||':'||quote(whole)||' '||quote(wide) "
        "FROM \"all types\" ORDER BY rowid";
    char *got = q(f->path, sel);
    const char *want =
        "text:'Zürich – 東京 \"q\" ''a''' integer:1 -128 -32768 -2147483648 "
        "-9223372036854775808 0 1 2 3 real:1.5 1 '2024-02-29' '2023-11-14T22:13:20.123456' "
        "'2023-11-14T22:13:20.123456Z' '-12.30' '1234567890123456789012345678.9012345678' "
        "integer:999999999999999999 '99999999999999999999'|"
        "null:NULL null:NULL NULL NULL NULL NULL NULL NULL NULL NULL null:NULL N NULL NULL "
        "NULL NULL NULL null:NULL NULL|"
        "text:'' integer:0 127 32767 2147483647 9223372036854775807 255 65535 4294967295 "
        "9223372036854775807 real:-0.25 1 '1969-12-31' '1969-12-31T23:59:59.999999' "
        "'1970-01-01T00:00:00.000000Z' '0.05' '-1234567890123456789012345678.9012345678' "
        "integer:-7 '-5'";
    if (strcmp(got, want) != 0) {
        fprintf(stderr, " got: %s\nwant: %s\n", got, want);
        fail();
    }
    free(got);
}

static void test_uint64_above_int64_fails(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    static const struct column_desc cols[] = {{"u", {DT_UINT64, 0, 0}, false}};
    struct batch b;
    assert_int_equal(batch_init(&b, &cols[0].type, 1, 2), 0);
    b.cols[0].valid[0] = b.cols[0].valid[1] = 1;
    b.cols[0].v.i64[0] = 1;
    b.cols[0].v.i64[1] = -1; /* the bit pattern of 18446744073709551615 */
    b.row_ok[0] = b.row_ok[1] = 1;
    b.line[0] = 2;
    b.line[1] = 3;
    b.nrows = 2;
    struct load_opts o = {0};
    o.table = "u";
    o.create = true;
    struct sink s;
    assert_int_equal(load_open(&s, &f->t, &o, cols, 1, &e), 0);
    assert_int_equal(sink_write(&s, &b, &e), AE_DB);
    assert_string_equal(e.msg, "target \"local\" (sqlite): line 3, column \"u\": "
                               "18446744073709551615 does not fit SQLite's signed 64-bit INTEGER");
    sink_abort(&s);
    batch_release(&b);
    assert_q(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'u'", "0");
}

/* ---------------------------------------------------------------- options and names */

static void test_renames_and_quoting(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    static const char *const renames[] = {"name", "full \"name\""};
    static const char *const key[] = {"id"};
    struct load_result res = {0};
    struct load_opts o = kv_opts("we\"ird", LOAD_UPSERT, "s", &res);
    o.key = key;
    o.renames = renames;
    o.nrenames = 1;
    const int64_t ids[] = {1};
    const char *const names[] = {"a; DROP TABLE x"};
    assert_int_equal(load_kv(f, &o, ids, names, 1, &e), 0);
    assert_q(f->path, "SELECT sql FROM sqlite_master WHERE name = 'we\"ird'",
             "CREATE TABLE \"we\"\"ird\" (\"id\" INTEGER NOT NULL, \"full \"\"name\"\"\" TEXT, "
             "PRIMARY KEY (\"id\"))");
    assert_q(f->path, "SELECT \"full \"\"name\"\"\" FROM \"we\"\"ird\"", "a; DROP TABLE x");

    /* schema.table: the attached-database form of SQLite ("main" always exists). */
    o.table = "main.dotted";
    o.source_sha256 = "s2";
    assert_int_equal(load_kv(f, &o, ids, names, 1, &e), 0);
    assert_q(f->path, "SELECT count(*) FROM dotted", "1");
}

static void test_option_errors(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    struct sink s;
    struct load_opts o = kv_opts("people", LOAD_UPSERT, "s", NULL);
    o.nkey = 0;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_CONFIG);
    assert_string_equal(e.msg, "target \"local\": upsert into \"people\" needs key columns");

    static const char *const badkey[] = {"nope"};
    o.key = badkey;
    o.nkey = 1;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_CONFIG);
    assert_string_equal(e.msg, "target \"local\": key column \"nope\" is not a column of the "
                               "load into \"people\"");

    o = kv_opts("people", LOAD_APPEND, "s", NULL);
    o.on_conflict = "merge";
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_CONFIG);
    assert_string_equal(e.msg,
                        "target \"local\": on_conflict \"merge\" is not one of update, nothing, "
                        "error");

    static const char *const renames[] = {"name", "id"};
    o = kv_opts("people", LOAD_APPEND, "s", NULL);
    o.renames = renames;
    o.nrenames = 1;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_CONFIG);
    assert_string_equal(e.msg, "target \"local\": column \"id\" appears twice in \"people\"");

    static const char *const renames2[] = {"nom", "x"};
    o.renames = renames2;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_CONFIG);
    assert_string_equal(e.msg, "target \"local\": rename of \"nom\": no such column in dataset");
    assert_int_equal(access(f->path, F_OK), -1); /* option errors touch no database */

    /* Without create, the table must exist and have every column. */
    o = kv_opts("people", LOAD_APPEND, "s", NULL);
    o.create = false;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_DB);
    assert_string_equal(e.msg, "target \"local\" (sqlite): table \"people\" does not exist "
                               "(create: true creates it)");
    exec(f->path, "CREATE TABLE people (ID INTEGER)");
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_DB);
    assert_string_equal(e.msg,
                        "target \"local\" (sqlite): table \"people\" has no column \"name\"");
    /* Upsert into a table without a unique key: SQLite refuses the ON CONFLICT target. */
    exec(f->path, "ALTER TABLE people ADD COLUMN name TEXT");
    o = kv_opts("people", LOAD_UPSERT, "s", NULL);
    o.create = false;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), AE_DB);
    assert_string_equal(e.msg, "target \"local\" (sqlite): cannot prepare the insert into "
                               "\"people\": ON CONFLICT clause does not match any PRIMARY KEY or "
                               "UNIQUE constraint");
    assert_q(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'astro_checkpoints'", "0");

    /* A database path that cannot be opened. */
    struct target_spec bad = {.name = "broken", .kind = TARGET_SQLITE, .path = "/nonexistent/x.db"};
    assert_int_equal(load_open(&s, &bad, &o, kv_cols, 2, &e), AE_DB);
    assert_string_equal(e.msg, "target \"broken\" (sqlite): cannot open /nonexistent/x.db: "
                               "unable to open database file");
    /* load_open dispatches on the kind through the registry. */
    o = kv_opts("people", LOAD_APPEND, "s", NULL);
    struct load_result res = {0};
    o.result = &res;
    assert_int_equal(load_open(&s, &f->t, &o, kv_cols, 2, &e), 0);
    assert_int_equal(sink_commit(&s, NULL, &e), 0);
    assert_true(res.committed);
}

/* The statements of a sql step: one transaction that commits whole or not at all. */
static void test_sql_statements(void **state)
{
    struct fixture *f = *state;
    struct err e = {0};
    assert_int_equal(load_exec_sql(&f->t,
                                   "CREATE TABLE n (v INTEGER); INSERT INTO n VALUES (1), (2);",
                                   NULL, &e),
                     0);
    assert_q(f->path, "SELECT sum(v) FROM n", "3");
    /* The first statement ran, the second failed: both roll back. */
    assert_int_equal(
        load_exec_sql(&f->t, "INSERT INTO n VALUES (10); INSERT INTO nope VALUES (1)", NULL, &e),
        AE_DB);
    char want[512];
    snprintf(want, sizeof(want), "target \"local\" (sqlite %s): no such table: nope", f->path);
    assert_string_equal(e.msg, want);
    assert_q(f->path, "SELECT sum(v) FROM n", "3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_create_and_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rerun_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_fingerprint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_type_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_changed_rows_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_keys_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_mid_load_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uint64_above_int64_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renames_and_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_statements, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
