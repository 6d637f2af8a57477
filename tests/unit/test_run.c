/*
 * test_run.c - run ids, run folders, locks, stale-run detection, manifests, source matching and
 * stats.db.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest/match.h"
#include "run/run.h"
#include "stats/stats.h"
#include "test_helpers.h"
#include "util/fs.h"

#include <sqlite3.h>
#include <sys/wait.h>

static int taken_abc(void *ctx, const char *id, bool *taken, struct err *e)
{
    (void)id;
    (void)e;
    (*(int *)ctx)++;
    *taken = false;
    return 0;
}

static void test_run_ids(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    struct err e;
    int calls = 0;
    char seen[200][RUN_ID_LEN + 1];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(run_new_id(dir, taken_abc, &calls, seen[i], &e), 0);
        assert_int_equal(strlen(seen[i]), RUN_ID_LEN);
        for (size_t k = 0; k < RUN_ID_LEN; k++) {
            char c = seen[i][k];
            assert_true((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
        }
    }
    assert_int_equal(calls, 200);
    /* 200 draws from 36^5 = 60M ids: a repeat here would mean a broken generator. */
    for (int i = 0; i < 200; i++) {
        for (int j = i + 1; j < 200; j++) {
            assert_string_not_equal(seen[i], seen[j]);
        }
    }
    th_rmrf(dir);
    free(dir);
}

static void test_manifest_roundtrip_and_stale_runs(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    char *working = fs_join(dir, ".working");
    struct err e;
    int lock = -1;
    assert_int_equal(run_lock_working(working, &lock, &e), 0);
    int runlock = -1;
    assert_int_equal(run_create_dir(working, "abc12", &runlock, &e), 0);
    char *mpath = fs_join(working, "abc12/manifest.json");
    struct manifest m;
    assert_int_equal(manifest_new(&m, mpath, "abc12", "schools", "astro.yaml", "/src", &e), 0);
    json_t *entry = json_pack("{s:s, s:i}", "name", "establishments", "rows_read", 3);
    assert_int_equal(manifest_put_file(&m, "establishments", entry, &e), 0);
    entry = json_pack("{s:s, s:i}", "name", "establishments", "rows_read", 4);
    assert_int_equal(manifest_put_file(&m, "establishments", entry, &e), 0);
    assert_int_equal(manifest_save(&m, &e), 0);
    manifest_release(&m);

    struct manifest r;
    assert_int_equal(manifest_load(&r, mpath, &e), 0);
    json_t *files = json_object_get(r.root, "files");
    assert_int_equal(json_array_size(files), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(files, 0), "rows_read")), 4);
    assert_string_equal(json_string_value(json_object_get(r.root, "status")), "ingesting");
    manifest_release(&r);

    /* While this process holds the run lock the run is live and blocks serial mode. */
    struct run_info *runs = NULL;
    size_t n = 0;
    assert_int_equal(run_list(working, NULL, &runs, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_true(runs[0].live);
    assert_int_equal(runs[0].status, RUN_STATUS_INGESTING);
    assert_true(run_blocks_serial(&runs[0]));
    run_list_free(runs, n);

    /* Once the lock is gone (the process died), the run is marked failed in its ingest phase and
     * no longer blocks serial mode; the manifest on disk says so too. */
    run_unlock(runlock);
    assert_int_equal(run_list(working, NULL, &runs, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_false(runs[0].live);
    assert_int_equal(runs[0].status, RUN_STATUS_FAILED);
    assert_int_equal(runs[0].failed_phase, RUN_PHASE_INGEST);
    assert_false(run_blocks_serial(&runs[0]));
    run_list_free(runs, n);
    assert_int_equal(manifest_load(&r, mpath, &e), 0);
    assert_string_equal(json_string_value(json_object_get(r.root, "status")), "failed");
    assert_non_null(strstr(json_string_value(json_object_get(r.root, "reason")), "interrupted"));
    manifest_release(&r);

    /* An ingested run blocks serial mode; a completed one does not. */
    struct run_info ri = {"x", RUN_STATUS_INGESTED, RUN_PHASE_NONE, NULL, false};
    assert_true(run_blocks_serial(&ri));
    ri.status = RUN_STATUS_COMPLETED;
    assert_false(run_blocks_serial(&ri));
    ri.status = RUN_STATUS_FAILED;
    ri.failed_phase = RUN_PHASE_RUN;
    assert_true(run_blocks_serial(&ri));
    ri.status = RUN_STATUS_ABANDONED; /* astro runs abandon */
    ri.failed_phase = RUN_PHASE_NONE;
    assert_false(run_blocks_serial(&ri));

    run_unlock(lock);
    free(mpath);
    free(working);
    th_rmrf(dir);
    free(dir);
}

/* Two processes asking for the .working lock at once: the second waits for the first. */
static void test_working_lock_excludes(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    char *working = fs_join(dir, ".working");
    char *marker = fs_join(dir, "order");
    struct err e;
    int lock = -1;
    assert_int_equal(run_lock_working(working, &lock, &e), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int l2 = -1;
        if (run_lock_working(working, &l2, &e) != 0) {
            _exit(2);
        }
        FILE *f = fopen(marker, "a");
        fputs("child\n", f);
        fclose(f);
        _exit(0);
    }
    usleep(200 * 1000);
    FILE *f = fopen(marker, "a");
    fputs("parent\n", f);
    fclose(f);
    run_unlock(lock);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *text = NULL;
    assert_int_equal(fs_read_file(marker, &text, NULL, &e), 0);
    assert_string_equal(text, "parent\nchild\n");
    free(text);
    free(marker);
    free(working);
    th_rmrf(dir);
    free(dir);
}

static void test_atomic_file(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    char *path = fs_join(dir, "out.txt");
    struct err e;
    struct atomic_file f;
    assert_int_equal(atomic_file_open(&f, path, &e), 0);
    assert_int_equal(fs_write_all(f.fd, "hello", 5, "x", &e), 0);
    /* Not visible under its final name before commit. */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(atomic_file_commit(&f, &e), 0);
    char *text = NULL;
    assert_int_equal(fs_read_file(path, &text, NULL, &e), 0);
    assert_string_equal(text, "hello");
    free(text);
    /* Abort leaves nothing behind. */
    char *path2 = fs_join(dir, "gone.txt");
    assert_int_equal(atomic_file_open(&f, path2, &e), 0);
    atomic_file_abort(&f);
    assert_int_not_equal(access(path2, F_OK), 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    free(path);
    free(path2);
    th_rmrf(dir);
    free(dir);
}

static void test_source_match(void **state)
{
    (void)state;
    struct ingest_spec specs[2];
    memset(specs, 0, sizeof(specs));
    specs[0].name = "establishments";
    specs[0].source_pattern = "edubase*.csv";
    specs[1].name = "links";
    specs[1].source_pattern = "links_*.csv";
    struct config c;
    memset(&c, 0, sizeof(c));
    c.ingest = specs;
    c.ningest = 2;
    struct err e;
    struct buf problems = BUF_INIT;
    struct source_file *files = NULL;

    char *dir = th_tempdir();
    free(th_write(dir, "edubase2026.csv", "a\n"));
    free(th_write(dir, "links_1.csv", "a\n"));
    assert_int_equal(source_match(&c, dir, &files, &problems, &e), 0);
    assert_non_null(strstr(files[0].path, "/edubase2026.csv"));
    assert_ptr_equal(files[0].spec, &specs[0]);
    assert_non_null(strstr(files[1].path, "/links_1.csv"));
    source_files_free(files, 2);

    /* A symbolic link to a regular file is that file; a dangling one is not a regular file. */
    char *target = th_write(dir, "real.bin", "a\n");
    char *link = fs_join(dir, "links_1.csv");
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(source_match(&c, dir, &files, &problems, &e), AE_DATA);
    assert_string_equal(problems.data, "extra: real.bin matches no ingest file's source_pattern\n");
    assert_int_equal(unlink(target), 0);
    buf_reset(&problems);
    assert_int_equal(source_match(&c, dir, &files, &problems, &e), AE_DATA);
    assert_non_null(strstr(problems.data, "not a regular file: links_1.csv"));
    assert_int_equal(unlink(link), 0);
    free(th_write(dir, "links_1.csv", "a\n"));
    free(target);
    free(link);
    buf_reset(&problems);

    /* Every problem is listed at once: ambiguous, extra, hidden upload leftovers, subfolders. */
    free(th_write(dir, "links_2.csv", "a\n"));
    free(th_write(dir, "notes.txt", "a\n"));
    free(th_write(dir, ".edubase2026.csv.part", "a\n"));
    char *sub = fs_join(dir, "archive");
    assert_int_equal(mkdir(sub, 0777), 0);
    assert_int_equal(source_match(&c, dir, &files, &problems, &e), AE_DATA);
    assert_null(files);
    assert_non_null(strstr(problems.data,
                           "ambiguous: links (source_pattern \"links_*.csv\") matches 2 files: "
                           "links_1.csv links_2.csv\n"));
    assert_non_null(strstr(problems.data, "extra: notes.txt matches no ingest file"));
    assert_non_null(strstr(problems.data, "extra: .edubase2026.csv.part matches no ingest file"));
    assert_non_null(strstr(problems.data, "not a regular file: archive/"));

    /* Missing files are named with their pattern. */
    th_rmrf(dir);
    free(dir);
    dir = th_tempdir();
    free(th_write(dir, "links_1.csv", "a\n"));
    buf_reset(&problems);
    assert_int_equal(source_match(&c, dir, &files, &problems, &e), AE_DATA);
    assert_string_equal(problems.data,
                        "missing: establishments (source_pattern \"edubase*.csv\") matches no "
                        "file\n");

    /* A file matched by two specs is ambiguous too. */
    specs[1].source_pattern = "*.csv";
    free(th_write(dir, "edubase1.csv", "a\n"));
    buf_reset(&problems);
    assert_int_equal(source_match(&c, dir, &files, &problems, &e), AE_DATA);
    assert_non_null(strstr(problems.data, "ambiguous: edubase1.csv matches the source_pattern of "
                                          "2 ingest files (establishments, links)"));
    /* A folder that does not exist is an environment error. */
    assert_int_equal(source_match(&c, "/nonexistent/astro", &files, &problems, &e), AE_IO);

    buf_release(&problems);
    free(sub);
    th_rmrf(dir);
    free(dir);
}

static void test_stats_db(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    char *path = fs_join(dir, ".astro/stats.db");
    struct err e;
    struct stats *s = NULL;
    assert_int_equal(stats_open(path, &s, &e), 0);
    bool exists = true;
    assert_int_equal(stats_run_exists(s, "abc12", &exists, &e), 0);
    assert_false(exists);
    assert_int_equal(stats_run_begin(s, "abc12", "schools", "/src", "2026-01-01T00:00:00", &e), 0);
    assert_int_equal(stats_run_exists(s, "abc12", &exists, &e), 0);
    assert_true(exists);
    struct stats_file f = {"establishments",  "/src/a.csv", 100, "ff", 10, 8, 2, 3, NULL, 0, 5,
                           FILE_STATUS_FAILED};
    assert_int_equal(stats_put_file(s, "abc12", &f, &e), 0);
    assert_int_equal(
        stats_run_status(s, "abc12", RUN_STATUS_FAILED, "bad rows", "2026-01-01T00:00:01", &e), 0);
    /* A second begin with the same id is refused: ids are never reused. */
    assert_int_not_equal(stats_run_begin(s, "abc12", "schools", "/src", "x", &e), 0);
    stats_close(s);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT r.status, r.reason, f.rows_read, f.rows_valid,"
                                        " f.rows_invalid, f.status FROM runs r JOIN files f USING"
                                        " (run_id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "failed");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "bad rows");
    assert_int_equal(sqlite3_column_int64(st, 2), 10);
    assert_int_equal(sqlite3_column_int64(st, 3), 8);
    assert_int_equal(sqlite3_column_int64(st, 4), 2);
    assert_string_equal((const char *)sqlite3_column_text(st, 5), "failed");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    th_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_ids),
        cmocka_unit_test(test_manifest_roundtrip_and_stale_runs),
        cmocka_unit_test(test_working_lock_excludes),
        cmocka_unit_test(test_atomic_file),
        cmocka_unit_test(test_source_match),
        cmocka_unit_test(test_stats_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
