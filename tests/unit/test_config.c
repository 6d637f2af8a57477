/*
 * test_config.c - astro.yaml and Pandera schema loading: every key, defaults, the three shapes
 * Pandera writes checks in, schema_file resolution, ${VAR} expansion, and the exact text of each
 * class of error (file:line:col, key path, suggestion). Line and column numbers in the expected
 * messages are counted by hand from the YAML in each test (1-based).
 */
/* cmocka.h needs these first. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA ASTRO_TEST_DATA "/config"

/* A private directory per test run for YAML written by the tests. */
static char tmpdir[64];
static char yaml_path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/astro_test_config_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    snprintf(yaml_path, sizeof(yaml_path), "%s/astro.yaml", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    snprintf(p, sizeof(p), "%s/astro.yaml", tmpdir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/s.yaml", tmpdir);
    unlink(p);
    return rmdir(tmpdir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Loads text as astro.yaml; expects failure with code and message fmt (whose one %s is the path
 * of the file). */
static void expect_error(const char *text, int code, const char *fmt)
{
    write_file(yaml_path, text);
    struct config *c = (struct config *)1;
    struct err e = {0};
    int rc = config_load(yaml_path, &c, &e);
    char want[1024];
    snprintf(want, sizeof(want), fmt, yaml_path);
    if (rc != code || strcmp(e.msg, want) != 0) {
        print_error("got rc %d: %s\nwant rc %d: %s\n", rc, e.msg, code, want);
    }
    assert_int_equal(rc, code);
    assert_string_equal(e.msg, want);
    assert_null(c);
}

/* The value of target t's dsn (field 0) or path (1) with its ${VAR} expanded (the caller
 * frees it). */
static char *expanded(const struct target_spec *t, int field)
{
    struct target_spec x;
    struct err e = {0};
    int rc = config_target_expand(t, &x, &e);
    if (rc != 0) {
        print_error("unexpected error: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    char *v = field == 0 ? x.dsn : x.path;
    char *out = v != NULL ? strdup(v) : NULL;
    config_target_expanded_release(&x);
    return out;
}

static struct config *load_ok(const char *text)
{
    write_file(yaml_path, text);
    struct config *c = NULL;
    struct err e = {0};
    int rc = config_load(yaml_path, &c, &e);
    if (rc != 0) {
        print_error("unexpected error: %s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    assert_non_null(c);
    return c;
}

static const struct column_spec *col(const struct schema *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++) {
        if (strcmp(s->cols[i].name, name) == 0) {
            return &s->cols[i];
        }
    }
    fail_msg("no column %s", name);
    return NULL;
}

static void assert_arg(const struct cfg_arg *a, const char *key, const char *value)
{
    if (key == NULL) {
        assert_null(a->key);
    } else {
        assert_non_null(a->key);
        assert_string_equal(a->key, key);
    }
    assert_false(a->is_list);
    assert_false(a->is_null);
    assert_string_equal(a->value, value);
}

/* ---- a full astro.yaml ---- */

static void test_full(void **state)
{
    (void)state;
    setenv("ASTRO_TEST_HOST", "db.example", 1);
    setenv("ASTRO_TEST_EMPTY", "", 1);
    struct config *c = NULL;
    struct err e = {0};
    int rc = config_load(DATA "/full.yaml", &c, &e);
    if (rc != 0) {
        print_error("%s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    assert_string_equal(c->path, DATA "/full.yaml");
    assert_string_equal(c->dir, DATA);
    assert_string_equal(c->pipeline, "schools");
    assert_int_equal(c->execution_mode, EXEC_PARALLEL);
    assert_int_equal(c->large_file_threshold_bytes, 2048);
    assert_int_equal(c->ningest, 2);

    const struct ingest_spec *in = config_find_ingest(c, "establishments");
    assert_ptr_equal(in, &c->ingest[0]);
    assert_string_equal(in->source_pattern, "edubase*.csv");
    assert_string_equal(in->encoding, "windows-1252");
    assert_true(in->has_header);
    assert_int_equal(in->ncolumn_names, 0);
    assert_int_equal(in->delimiter, ';');
    assert_int_equal(in->quote, '\'');
    assert_int_equal(in->escape, '\\');
    assert_int_equal(in->n_null_values, 3);
    assert_string_equal(in->null_values[0], "");
    assert_string_equal(in->null_values[1], "NA");
    assert_string_equal(in->null_values[2], "NULL"); /* the spelling, not YAML null */
    assert_int_equal(in->max_bad_rows, 10);
    assert_true(in->max_bad_row_fraction == 0.25);
    assert_null(in->schema_file);
    assert_string_equal(in->loc.path, "ingest_files[0]");
    assert_int_equal(in->loc.line, 6);
    assert_int_equal(in->loc.col, 5);

    const struct schema *s = &in->schema;
    assert_null(s->file);
    assert_int_equal(s->strict, STRICT_FILTER);
    assert_true(s->coerce);
    assert_true(s->ordered);
    assert_int_equal(s->nunique, 1);
    assert_string_equal(s->unique_sets[0][0], "URN");
    assert_string_equal(s->unique_sets[0][1], "OpenDate");
    assert_null(s->unique_sets[0][2]);
    assert_string_equal(s->report_duplicates, "all");
    assert_string_equal(s->name, "establishments");
    assert_int_equal(s->ncols, 9);

    const struct column_spec *k = col(s, "URN");
    assert_int_equal(k->type.id, DT_INT64);
    assert_string_equal(k->dtype_text, "int64");
    assert_false(k->nullable);
    assert_true(k->unique);
    assert_true(k->required);
    assert_true(k->coerce); /* the frame's coerce */
    assert_string_equal(k->loc.path, "ingest_files[0].schema.columns.URN");
    assert_ptr_equal(k->loc.file, c->path);
    assert_int_equal(k->loc.line, 24);
    assert_int_equal(k->loc.col, 9);

    k = col(s, "EstablishmentName");
    assert_int_equal(k->type.id, DT_STR);
    assert_string_equal(k->title, "Name");
    assert_string_equal(k->description, "Official name");

    k = col(s, "OpenDate");
    assert_int_equal(k->type.id, DT_DATE);
    assert_true(k->nullable);
    assert_false(k->required);
    assert_string_equal(k->format, "%d-%m-%Y");

    k = col(s, "Capacity");
    assert_false(k->coerce); /* its own coerce wins */
    assert_int_equal(k->nchecks, 1);
    assert_string_equal(k->checks[0].name, "greater_than_or_equal_to");
    assert_int_equal(k->checks[0].nargs, 1);
    assert_arg(&k->checks[0].args[0], NULL, "0");
    assert_true(k->checks[0].ignore_na);
    assert_false(k->checks[0].raise_warning);
    assert_null(k->checks[0].error);
    assert_string_equal(k->checks[0].loc.path,
                        "ingest_files[0].schema.columns.Capacity.checks.greater_than_or_equal_to");
    assert_int_equal(k->checks[0].loc.line, 28);
    assert_int_equal(k->checks[0].loc.col, 29);
    assert_int_equal(k->checks[0].args[0].loc.line, 28);
    assert_int_equal(k->checks[0].args[0].loc.col, 55);

    k = col(s, "Budget");
    assert_int_equal(k->type.id, DT_DECIMAL);
    assert_int_equal(k->type.precision, 12);
    assert_int_equal(k->type.scale, 2);
    assert_string_equal(k->default_value, "0.00");

    k = col(s, "UpdatedAt");
    assert_int_equal(k->type.id, DT_TIMESTAMP_TZ);
    assert_null(k->default_value);

    k = col(s, "Open");
    assert_int_equal(k->type.id, DT_BOOL);
    assert_int_equal(k->n_true_values, 2);
    assert_string_equal(k->true_values[1], "yes");
    assert_int_equal(k->n_false_values, 2);
    assert_string_equal(k->false_values[0], "N");
    assert_int_equal(k->n_null_values, 1);
    assert_string_equal(k->null_values[0], "?");

    /* Our list form: the same check twice, and a check without arguments. */
    k = col(s, "Email");
    assert_int_equal(k->nchecks, 3);
    assert_string_equal(k->checks[0].name, "email");
    assert_int_equal(k->checks[0].nargs, 0);
    assert_string_equal(k->checks[1].name, "str_length");
    assert_arg(&k->checks[1].args[0], "max_value", "254");
    assert_string_equal(k->checks[2].name, "str_length");
    assert_arg(&k->checks[2].args[0], "min_value", "3");
    assert_string_equal(k->checks[2].loc.path,
                        "ingest_files[0].schema.columns.Email.checks[2].str_length");
    assert_string_equal(k->checks[2].args[0].loc.path,
                        "ingest_files[0].schema.columns.Email.checks[2].str_length.min_value");

    k = col(s, "Code_.*");
    assert_true(k->regex);
    assert_false(k->required);

    /* The second file: headerless, tab-separated, schema from a file next to astro.yaml. */
    in = config_find_ingest(c, "pupils");
    assert_ptr_equal(in, &c->ingest[1]);
    assert_false(in->has_header);
    assert_int_equal(in->ncolumn_names, 4);
    assert_string_equal(in->column_names[3], "UpdatedAt");
    assert_int_equal(in->delimiter, '\t');
    assert_int_equal(in->quote, '"');
    assert_int_equal(in->escape, '\0');
    assert_string_equal(in->encoding, "utf-8");
    assert_string_equal(in->schema_file, "pandera/list_form.yaml");
    assert_string_equal(in->schema.file, DATA "/pandera/list_form.yaml");
    assert_int_equal(in->schema.ncols, 4);
    assert_ptr_equal(in->schema.cols[0].loc.file, in->schema.file);
    assert_string_equal(in->schema.cols[0].loc.path, "columns.URN");
    assert_null(config_find_ingest(c, "nothing"));

    assert_int_equal(c->ntargets, 3);
    assert_string_equal(c->targets[0].name, "warehouse");
    assert_int_equal(c->targets[0].kind, TARGET_POSTGRES);
    /* A variable in the place of a value is pasted as one quoted value (issue 16). */
    char *x = expanded(&c->targets[0], 0);
    assert_string_equal(x, "host='db.example' password='p$w'");
    free(x);
    assert_null(c->targets[0].path);
    assert_int_equal(c->targets[1].kind, TARGET_SQLITE);
    /* A relative database path resolves next to astro.yaml. */
    x = expanded(&c->targets[1], 1);
    assert_string_equal(x, ASTRO_TEST_DATA "/config/db.example/warehouse.db");
    free(x);
    assert_null(c->targets[1].dsn);
    assert_int_equal(c->targets[2].kind, TARGET_POSTGRES);
    assert_null(c->targets[2].dsn);

    assert_int_equal(c->nsteps, 4);
    const struct step_spec *st = &c->steps[0];
    assert_string_equal(st->name, "load_establishments");
    assert_int_equal(st->kind, STEP_LOAD);
    assert_string_equal(st->dataset, "establishments");
    assert_string_equal(st->target, "warehouse");
    assert_string_equal(st->table, "est");
    assert_int_equal(st->mode, LOAD_UPSERT);
    assert_int_equal(st->nkey, 1);
    assert_string_equal(st->key[0], "URN");
    assert_true(st->create);
    assert_string_equal(st->on_conflict, "nothing");
    st = &c->steps[1];
    assert_int_equal(st->kind, STEP_SQL);
    assert_string_equal(st->target, "warehouse");
    assert_string_equal(st->sql_file, "sql/refresh.sql");
    assert_null(st->statements);
    st = &c->steps[2];
    assert_string_equal(st->target, "local");
    assert_string_equal(st->statements, "DELETE FROM t; VACUUM;");
    assert_null(st->sql_file);
    st = &c->steps[3];
    assert_int_equal(st->kind, STEP_EXEC);
    assert_int_equal(st->nargv, 2);
    assert_string_equal(st->argv[0], "./scripts/notify.sh");
    assert_string_equal(st->argv[1], "--run");

    assert_true(c->watch.present);
    assert_string_equal(c->watch.root, "data");
    assert_string_equal(c->watch.target, "warehouse");
    assert_string_equal(c->watch.readiness, "done_marker");
    assert_int_equal(c->watch.quiet_seconds, 0);
    assert_int_equal(c->watch.poll_seconds, 3);
    config_free(c);
}

/* Relative to the current directory, astro.yaml's directory is "." and a schema_file keeps the
 * path as written, so messages stay short. */
static void test_schema_file_relative_to_cwd(void **state)
{
    (void)state;
    setenv("ASTRO_TEST_HOST", "h", 1);
    setenv("ASTRO_TEST_EMPTY", "", 1);
    char old[4096];
    assert_non_null(getcwd(old, sizeof(old)));
    assert_int_equal(chdir(DATA), 0);
    struct config *c = NULL;
    struct err e = {0};
    int rc = config_load("full.yaml", &c, &e);
    assert_int_equal(chdir(old), 0);
    assert_int_equal(rc, 0);
    assert_string_equal(c->dir, ".");
    assert_string_equal(c->ingest[1].schema.file, "pandera/list_form.yaml");
    config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config *c = NULL;
    struct err e = {0};
    assert_int_equal(config_load(DATA "/minimal.yaml", &c, &e), 0);
    assert_string_equal(c->pipeline, "tiny");
    assert_int_equal(c->execution_mode, EXEC_SERIAL);
    assert_int_equal(c->large_file_threshold_bytes, 104857600);
    assert_int_equal(c->ntargets, 0);
    assert_int_equal(c->nsteps, 0);
    assert_false(c->watch.present);
    const struct ingest_spec *in = &c->ingest[0];
    assert_string_equal(in->name, "a.b-c_1");
    assert_string_equal(in->encoding, "utf-8");
    assert_true(in->has_header);
    assert_null(in->column_names);
    assert_int_equal(in->delimiter, ',');
    assert_int_equal(in->quote, '"');
    assert_int_equal(in->escape, '\0');
    assert_int_equal(in->n_null_values, 0);
    assert_int_equal(in->max_bad_rows, -1);
    assert_true(in->max_bad_row_fraction < 0);
    const struct schema *s = &in->schema;
    assert_int_equal(s->strict, STRICT_FALSE);
    assert_false(s->ordered);
    assert_false(s->coerce);
    assert_int_equal(s->nunique, 0);
    assert_string_equal(s->report_duplicates, "all");
    assert_false(s->unique_column_names);
    assert_false(s->add_missing_columns);
    assert_null(s->name);
    assert_int_equal(s->ncols, 2);
    assert_int_equal(s->cols[0].type.id, DT_INT64);
    assert_string_equal(s->cols[0].dtype_text, "int");
    /* `note:` with no options: Pandera's Column() defaults, and str for the dtype. */
    const struct column_spec *k = &s->cols[1];
    assert_string_equal(k->name, "note");
    assert_int_equal(k->type.id, DT_STR);
    assert_string_equal(k->dtype_text, "str");
    assert_false(k->nullable);
    assert_false(k->unique);
    assert_true(k->required);
    assert_false(k->coerce);
    assert_false(k->regex);
    assert_null(k->format);
    assert_null(k->true_values);
    assert_int_equal(k->nchecks, 0);
    config_free(c);

    /* Watch defaults. */
    c = load_ok("pipeline: p\n"
                "ingest_files: [{name: a, source_pattern: a.csv, schema: {columns: {x: }}}]\n"
                "targets: {t: {kind: sqlite, path: x.db}}\n"
                "steps: [{name: l, load: {dataset: a, target: t}}]\n"
                "watch: {root: data}\n");
    assert_true(c->watch.present);
    assert_null(c->watch.target);
    assert_string_equal(c->watch.readiness, "stable");
    assert_int_equal(c->watch.quiet_seconds, 5);
    assert_int_equal(c->watch.poll_seconds, 10);
    assert_int_equal(c->steps[0].mode, LOAD_APPEND);
    assert_string_equal(c->steps[0].table, "a");
    assert_false(c->steps[0].create);
    assert_string_equal(c->steps[0].on_conflict, "update");
    assert_int_equal(c->steps[0].nkey, 0);
    config_free(c);

    /* Encodings: iconv's names and the Python spellings the CSV reader also accepts. */
    c = load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- {name: a, source_pattern: a, encoding: latin_1, schema: {}}\n"
                "- {name: b, source_pattern: b, encoding: UTF-16LE, schema: {}}\n");
    assert_string_equal(c->ingest[0].encoding, "latin_1");
    assert_string_equal(c->ingest[1].encoding, "UTF-16LE");
    config_free(c);
}

/* ---- the three Pandera forms ---- */

static struct schema load_schema(const char *path)
{
    struct schema s;
    struct err e = {0};
    int rc = config_load_schema_file(path, &s, &e);
    if (rc != 0) {
        print_error("%s\n", e.msg);
    }
    assert_int_equal(rc, 0);
    return s;
}

static void test_pandera_dict_form(void **state)
{
    (void)state;
    struct schema s = load_schema(DATA "/pandera/dict_form.yaml");
    assert_string_equal(s.file, DATA "/pandera/dict_form.yaml");
    assert_true(s.coerce);
    assert_int_equal(s.strict, STRICT_FALSE);
    assert_int_equal(s.nunique, 0);
    assert_int_equal(s.ncols, 4);

    const struct column_spec *k = col(&s, "URN");
    assert_true(k->unique);
    assert_false(k->coerce); /* written explicitly */
    assert_int_equal(k->nchecks, 1);
    assert_string_equal(k->checks[0].name, "greater_than");
    assert_int_equal(k->checks[0].nargs, 1);
    assert_arg(&k->checks[0].args[0], NULL, "100000");
    assert_string_equal(k->checks[0].loc.path, "columns.URN.checks.greater_than");
    assert_ptr_equal(k->checks[0].loc.file, s.file);
    assert_int_equal(k->checks[0].loc.line, 12);
    assert_int_equal(k->checks[0].loc.col, 7);

    k = col(&s, "Phase");
    assert_string_equal(k->description, "Phase of education");
    assert_int_equal(k->nchecks, 1);
    assert_string_equal(k->checks[0].name, "isin");
    const struct cfg_arg *a = &k->checks[0].args[0];
    assert_null(a->key);
    assert_true(a->is_list);
    assert_null(a->value);
    assert_int_equal(a->nitems, 3);
    assert_string_equal(a->items[0], "Primary");
    assert_string_equal(a->items[2], "All-through");

    k = col(&s, "Capacity");
    assert_false(k->required);
    assert_int_equal(k->nchecks, 1);
    assert_string_equal(k->checks[0].name, "in_range");
    assert_int_equal(k->checks[0].nargs, 4);
    assert_arg(&k->checks[0].args[0], "min_value", "0");
    assert_arg(&k->checks[0].args[1], "max_value", "5000");
    assert_arg(&k->checks[0].args[2], "include_min", "true");
    assert_arg(&k->checks[0].args[3], "include_max", "false");

    k = col(&s, "Postcode");
    assert_string_equal(k->title, "Postcode");
    assert_int_equal(k->nchecks, 2);
    assert_string_equal(k->checks[0].name, "str_length");
    assert_int_equal(k->checks[0].nargs, 2);
    assert_arg(&k->checks[0].args[1], "max_value", "8");
    assert_string_equal(k->checks[1].name, "str_matches");
    assert_arg(&k->checks[1].args[0], NULL, "^[A-Z]{1,2}[0-9]");
    schema_release(&s);
}

static void test_pandera_list_form(void **state)
{
    (void)state;
    struct schema s = load_schema(DATA "/pandera/list_form.yaml");
    assert_false(s.coerce);
    assert_int_equal(s.strict, STRICT_FILTER);
    assert_true(s.ordered);
    assert_string_equal(s.name, "establishments");
    assert_int_equal(s.nunique, 1);
    assert_string_equal(s.unique_sets[0][0], "URN");
    assert_string_equal(s.unique_sets[0][1], "Phase");
    assert_null(s.unique_sets[0][2]);
    assert_string_equal(s.report_duplicates, "exclude_first");
    assert_true(s.unique_column_names);
    assert_false(s.add_missing_columns);
    assert_string_equal(s.title, "Establishments");
    assert_string_equal(s.description, "One row per school");

    const struct column_spec *k = col(&s, "URN");
    assert_int_equal(k->nchecks, 1);
    assert_string_equal(k->checks[0].name, "greater_than");
    assert_int_equal(k->checks[0].nargs, 1);
    assert_arg(&k->checks[0].args[0], NULL, "100000");
    assert_true(k->checks[0].ignore_na);
    assert_false(k->checks[0].raise_warning);
    assert_string_equal(k->checks[0].loc.path, "columns.URN.checks[0].greater_than");
    /* The check is placed at its check_name value (line 15, column 21). */
    assert_int_equal(k->checks[0].loc.line, 15);
    assert_int_equal(k->checks[0].loc.col, 21);

    k = col(&s, "Phase");
    assert_string_equal(k->checks[0].name, "isin");
    assert_true(k->checks[0].args[0].is_list);
    assert_int_equal(k->checks[0].args[0].nitems, 2);
    assert_string_equal(k->checks[0].args[0].items[1], "Secondary");

    k = col(&s, "Capacity");
    assert_int_equal(k->type.id, DT_INT64);
    assert_string_equal(k->dtype_text, "Int64");
    assert_string_equal(k->checks[0].name, "in_range");
    assert_int_equal(k->checks[0].nargs, 4);
    assert_arg(&k->checks[0].args[0], "min_value", "0");
    assert_arg(&k->checks[0].args[3], "include_max", "true");
    /* Arguments are placed where they are written, beside options. */
    assert_string_equal(k->checks[0].args[0].loc.path, "columns.Capacity.checks[0].min_value");
    assert_true(k->checks[0].raise_warning);
    assert_false(k->checks[0].ignore_na);
    assert_string_equal(k->checks[0].error, "capacity out of range");

    k = col(&s, "UpdatedAt");
    assert_int_equal(k->type.id, DT_TIMESTAMP_TZ);
    assert_int_equal(k->nchecks, 0);
    schema_release(&s);
    schema_release(&s); /* released twice: a no-op on a zeroed schema */
}

static void test_pandera_flat_form(void **state)
{
    (void)state;
    struct schema s = load_schema(DATA "/pandera/flat_form.yaml");
    assert_true(s.coerce);
    assert_int_equal(s.strict, STRICT_TRUE);
    assert_int_equal(s.ncols, 4);

    const struct column_spec *k = col(&s, "URN");
    assert_true(k->unique);
    assert_true(k->coerce);
    assert_int_equal(k->nchecks, 1);
    assert_string_equal(k->checks[0].name, "greater_than");
    assert_arg(&k->checks[0].args[0], NULL, "100000");
    assert_string_equal(k->checks[0].loc.path, "columns.URN.greater_than");

    k = col(&s, "Phase");
    assert_string_equal(k->checks[0].name, "isin");
    assert_int_equal(k->checks[0].args[0].nitems, 2);

    k = col(&s, "Capacity");
    assert_string_equal(k->checks[0].name, "in_range");
    assert_int_equal(k->checks[0].nargs, 2);
    assert_arg(&k->checks[0].args[1], "max_value", "5000");
    assert_true(k->checks[0].raise_warning);

    k = col(&s, "Email");
    assert_int_equal(k->nchecks, 2);
    assert_string_equal(k->checks[0].name, "str_matches");
    assert_arg(&k->checks[0].args[0], NULL, "^[^@]+@[^@]+$");
    assert_string_equal(k->checks[1].name, "str_length");
    assert_int_equal(k->checks[1].nargs, 1);
    assert_arg(&k->checks[1].args[0], "max_value", "254");
    assert_string_equal(k->checks[1].error, "e-mail address too long");
    schema_release(&s);
}

/* Aliases resolve to canonical names; a null list item and a null argument are kept as such. */
static void test_check_aliases_and_nulls(void **state)
{
    (void)state;
    struct config *c =
        load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema:\n"
                "    columns:\n"
                "      x:\n"
                "        dtype: float64\n"
                "        checks: [{eq: 1}, {ne: 2}, {gt: 3}, {ge: 4}, {lt: 5},\n"
                "                 {le: 6}, {between: {min_value: ~, max_value: 9}},\n"
                "                 {notin: [a, null, 'null']},\n"
                "                 {str_startswith: {string: ab, name: s}}]\n");
    const struct column_spec *k = &c->ingest[0].schema.cols[0];
    static const char *const names[] = {
        "equal_to",      "not_equal_to",          "greater_than", "greater_than_or_equal_to",
        "less_than",     "less_than_or_equal_to", "in_range",     "notin",
        "str_startswith"};
    assert_int_equal(k->nchecks, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(k->checks[i].name, names[i]);
    }
    assert_true(k->checks[6].args[0].is_null);
    assert_null(k->checks[6].args[0].value);
    assert_string_equal(k->checks[6].args[0].key, "min_value");
    const struct cfg_arg *a = &k->checks[7].args[0];
    assert_int_equal(a->nitems, 3);
    assert_string_equal(a->items[0], "a");
    assert_null(a->items[1]);
    assert_string_equal(a->items[2], "null"); /* quoted: a string */
    assert_int_equal(k->checks[8].nargs, 1);
    assert_arg(&k->checks[8].args[0], "string", "ab");
    config_free(c);
}

/* The older dict form may carry an options mapping beside the named arguments (pandera/io's
 * checks_dict_to_list keeps it), and options may also sit beside the arguments (flat form). */
static void test_check_options(void **state)
{
    (void)state;
    struct config *c =
        load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema:\n"
                "    columns:\n"
                "      x:\n"
                "        checks:\n"
                "          str_length:\n"
                "            min_value: 1\n"
                "            options: {raise_warning: true, check_name: str_length,\n"
                "                      n_failure_cases: 5, error: too short}\n"
                "          isin:\n"
                "            value: [a, b]\n"
                "            ignore_na: false\n");
    const struct column_spec *k = &c->ingest[0].schema.cols[0];
    assert_int_equal(k->nchecks, 2);
    assert_string_equal(k->checks[0].name, "str_length");
    assert_int_equal(k->checks[0].nargs, 1);
    assert_arg(&k->checks[0].args[0], "min_value", "1");
    assert_true(k->checks[0].raise_warning);
    assert_true(k->checks[0].ignore_na);
    assert_string_equal(k->checks[0].error, "too short");
    assert_true(k->checks[0].has_n_failure_cases);
    assert_int_equal(k->checks[0].n_failure_cases, 5);
    assert_false(k->checks[1].has_n_failure_cases);
    assert_string_equal(k->checks[1].name, "isin");
    assert_int_equal(k->checks[1].nargs, 1);
    assert_null(k->checks[1].args[0].key);
    assert_true(k->checks[1].args[0].is_list);
    assert_false(k->checks[1].ignore_na);
    assert_false(k->checks[1].raise_warning);
    config_free(c);
}

/* Keys Pandera's writers put in files: api (the newest to_yaml), drop_invalid_rows (frame and
 * column), allow_duplicates (Pandera < 0.9, the opposite of unique), an index block as
 * infer_schema(df).to_yaml() writes it. */
static void test_pandera_written_keys(void **state)
{
    (void)state;
    struct config *c =
        load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema:\n"
                "    api: pandas\n"
                "    columns:\n"
                "      x: {dtype: int64, allow_duplicates: false, drop_invalid_rows: false}\n"
                "      y: {dtype: int64, allow_duplicates: true}\n"
                "    index:\n"
                "    - title: null\n"
                "      description: null\n"
                "      dtype: int64\n"
                "      nullable: false\n"
                "      checks:\n"
                "        greater_than_or_equal_to: {value: 0.0, options: {raise_warning: false}}\n"
                "        less_than_or_equal_to: 2.0\n"
                "      name: null\n"
                "      unique: false\n"
                "      allow_duplicates: true\n"
                "      coerce: false\n");
    const struct schema *s = &c->ingest[0].schema;
    assert_true(col(s, "x")->unique);
    assert_false(col(s, "y")->unique);
    assert_false(s->drop_invalid_rows);
    assert_non_null(s->index);
    assert_null(s->index->name);
    assert_int_equal(s->index->type.id, DT_INT64);
    assert_int_equal(s->index->nchecks, 2);
    assert_string_equal(s->index->checks[1].name, "less_than_or_equal_to");
    assert_arg(&s->index->checks[1].args[0], NULL, "2.0");
    config_free(c);
    c = load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema: {columns: {x: {drop_invalid_rows: true}}, index: []}\n");
    assert_false(c->ingest[0].schema.drop_invalid_rows); /* scoped to the column */
    assert_true(c->ingest[0].schema.drop_columns);
    assert_true(col(&c->ingest[0].schema, "x")->drop_invalid_rows);
    assert_null(c->ingest[0].schema.index);
    config_free(c);
    c = load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema: {drop_invalid_rows: true, columns: {x: {}}}\n");
    assert_true(c->ingest[0].schema.drop_invalid_rows);
    config_free(c);
}

/* Frame-level dtype and checks: the dtype overrides every declared column's, the checks are
 * appended to each column's, and schema.extra carries both for undeclared columns. */
static void test_pandera_frame_rules(void **state)
{
    (void)state;
    struct config *c = load_ok("pipeline: p\n"
                               "ingest_files:\n"
                               "- name: a\n"
                               "  source_pattern: a.csv\n"
                               "  schema:\n"
                               "    dtype: int32\n"
                               "    checks: {greater_than: 0, less_than: 9}\n"
                               "    columns:\n"
                               "      x: {dtype: str, checks: {ne: 5}}\n"
                               "      y: {}\n");
    const struct schema *s = &c->ingest[0].schema;
    assert_int_equal(col(s, "x")->type.id, DT_INT32);
    assert_int_equal(col(s, "y")->type.id, DT_INT32);
    assert_int_equal(col(s, "x")->nchecks, 3);
    assert_string_equal(col(s, "x")->checks[0].name, "not_equal_to");
    assert_string_equal(col(s, "x")->checks[2].name, "less_than");
    assert_int_equal(col(s, "y")->nchecks, 2);
    assert_non_null(s->extra);
    assert_int_equal(s->extra->type.id, DT_INT32);
    assert_true(s->extra->nullable); /* beside declared columns: coerced only */
    assert_int_equal(s->extra->nchecks, 2);
    config_free(c);
    c = load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema: {dtype: float64}\n");
    assert_non_null(c->ingest[0].schema.extra);
    assert_false(c->ingest[0].schema.extra->nullable); /* Pandera's Column(dtype) */
    config_free(c);
    c = load_ok("pipeline: p\n"
                "ingest_files:\n"
                "- name: a\n"
                "  source_pattern: a.csv\n"
                "  schema: {dtype: null, checks: {}, columns: {x: {}}}\n");
    assert_null(c->ingest[0].schema.extra);
    assert_int_equal(col(&c->ingest[0].schema, "x")->type.id, DT_STR);
    config_free(c);
}

/* ---- errors ---- */

static const char head[] = "pipeline: p\n"
                           "ingest_files:\n"
                           "  - name: a\n"
                           "    source_pattern: a.csv\n";

static void expect_schema_error(const char *schema_lines, const char *fmt)
{
    char text[2048];
    snprintf(text, sizeof(text), "%s    schema:\n%s", head, schema_lines);
    expect_error(text, AE_CONFIG, fmt);
}

/* Issue 14's keys: format lists, number separators, row-count expectations, ignore_patterns. */
static void test_export_keys(void **state)
{
    (void)state;
    struct config *c = load_ok("pipeline: p\n"
                               "ignore_patterns: [\"README*\", _SUCCESS]\n"
                               "ingest_files:\n"
                               "  - name: a\n"
                               "    source_pattern: a.csv\n"
                               "    thousands: \".\"\n"
                               "    decimal: \",\"\n"
                               "    min_rows: 10\n"
                               "    row_count_drop: fail\n"
                               "    schema:\n"
                               "      columns:\n"
                               "        d: {dtype: date, format: [\"%Y-%m-%d\", \"%d/%m/%Y\"]}\n"
                               "        e: {dtype: date, format: \"%B %Y\"}\n"
                               "        n: {dtype: int64, thousands: \" \", decimal: \".\"}\n");
    const struct ingest_spec *in = &c->ingest[0];
    assert_int_equal(in->thousands, '.');
    assert_int_equal(in->decimal, ',');
    assert_int_equal(in->min_rows, 10);
    assert_int_equal(in->row_count_drop, ROW_DROP_FAIL);
    assert_int_equal(c->nignore_patterns, 2);
    assert_true(config_ignored(c, "README.txt"));
    assert_true(config_ignored(c, "_SUCCESS"));
    assert_false(config_ignored(c, "a.csv"));
    const struct column_spec *d = col(&in->schema, "d");
    assert_int_equal(d->nformats, 2);
    assert_string_equal(d->format, "%Y-%m-%d");
    assert_string_equal(d->formats[1], "%d/%m/%Y");
    const struct column_spec *e = col(&in->schema, "e");
    assert_int_equal(e->nformats, 0);
    assert_string_equal(e->format, "%B %Y");
    const struct column_spec *n = col(&in->schema, "n");
    assert_int_equal(n->thousands, ' ');
    assert_int_equal(n->decimal, '.');
    config_free(c);
    c = load_ok("pipeline: p\ningest_files:\n  - {name: a, source_pattern: a.csv, schema: {}}\n");
    assert_int_equal(c->ingest[0].thousands, 0);
    assert_int_equal(c->ingest[0].decimal, 0);
    assert_int_equal(c->ingest[0].min_rows, 0);
    assert_int_equal(c->ingest[0].row_count_drop, ROW_DROP_WARN);
    assert_false(config_ignored(c, "README.txt"));
    config_free(c);
    expect_error("pipeline: p\ningest_files:\n  - {name: a, source_pattern: a.csv, thousands: "
                 "\".\", schema: {}}\n",
                 AE_CONFIG,
                 "%s:3:49: ingest_files[0].thousands: the thousands separator '.' is also the "
                 "decimal mark (set decimal: \",\")");
    expect_error("pipeline: p\ningest_files:\n  - {name: a, source_pattern: a.csv, decimal: "
                 "\";\", schema: {}}\n",
                 AE_CONFIG, "%s:3:47: ingest_files[0].decimal: expected \".\" or \",\", got ';'");
    expect_error("pipeline: p\ningest_files:\n  - {name: a, source_pattern: a.ndjson, "
                 "thousands: \",\", schema: {}}\n",
                 AE_CONFIG,
                 "%s:3:52: ingest_files[0].thousands: thousands is not used with format ndjson "
                 "(its numbers are typed: no separators)");
    expect_error("pipeline: p\ningest_files:\n  - {name: a, source_pattern: a.csv, schema: "
                 "{columns: {d: {dtype: date, format: []}}}}\n",
                 AE_CONFIG,
                 "%s:3:82: ingest_files[0].schema.columns.d.format: expected at least one "
                 "format");
    expect_error("pipeline: p\nignore_patterns: README\ningest_files:\n  - {name: a, "
                 "source_pattern: a.csv, schema: {}}\n",
                 AE_CONFIG, "%s:2:18: ignore_patterns: expected a list of strings, got a scalar");
}

static void test_error_dtype(void **state)
{
    (void)state;
    expect_schema_error("      columns:\n"
                        "        URN:\n"
                        "          dtype: int65\n",
                        "%s:8:18: ingest_files[0].schema.columns.URN.dtype: 'int65' is not a "
                        "known dtype (expected one of: str, bool, int8, int16, int32, int64, "
                        "uint8, uint16, uint32, uint64, float32, float64, date, datetime, "
                        "datetime64[ns], datetime64[ns, UTC], timedelta64[ns], decimal(p,s))");
}

static void test_error_unknown_keys(void **state)
{
    (void)state;
    expect_schema_error("      columns:\n"
                        "        URN: {dtype: int64, nulable: true}\n",
                        "%s:7:29: ingest_files[0].schema.columns.URN: unknown key 'nulable' (did "
                        "you mean 'nullable'?)");
    expect_error("pipline: p\n", AE_CONFIG,
                 "%s:1:1: unknown key 'pipline' (did you mean 'pipeline'?)");
    /* A prefix also suggests. */
    expect_error("pipeline: p\nlarge_file: 3\n", AE_CONFIG,
                 "%s:2:1: unknown key 'large_file' (did you mean 'large_file_threshold_bytes'?)");
    expect_error("pipeline: p\ningest_files: [{name: a, source_pattern: a, schema: {}}]\n"
                 "watch: {root: d, zzz: 1}\n",
                 AE_CONFIG,
                 "%s:3:18: watch: unknown key 'zzz' (expected one of: root, target, readiness, "
                 "quiet_seconds, poll_seconds, loads, archive)");
    /* Misspelt check names are suggested from the check names too. */
    expect_schema_error("      columns:\n"
                        "        URN: {dtype: int64, checks: {greater_then: 0}}\n",
                        "%s:7:38: ingest_files[0].schema.columns.URN.checks: unknown check "
                        "'greater_then' (did you mean 'greater_than'?)");
    expect_schema_error("      columns:\n"
                        "        URN: {dtype: int64, checks: [{strmatches: x}]}\n",
                        "%s:7:39: ingest_files[0].schema.columns.URN.checks[0]: unknown check "
                        "'strmatches' (did you mean 'str_matches'?)");
    expect_schema_error("      columns:\n"
                        "        URN:\n"
                        "          checks:\n"
                        "          - value: 1\n"
                        "            options: {check_name: bogus_check}\n",
                        "%s:10:35: ingest_files[0].schema.columns.URN.checks[0].options."
                        "check_name: unknown check 'bogus_check' (expected one of: equal_to, "
                        "not_equal_to, greater_than, greater_than_or_equal_to, less_than, "
                        "less_than_or_equal_to, in_range, isin, notin, str_matches, "
                        "str_contains, str_startswith, str_endswith, str_length, "
                        "unique_values_eq, email)");
    /* A flat key that is neither a column option nor a check. */
    expect_schema_error("      columns:\n"
                        "        URN: {dtype: int64, greater: 1}\n",
                        "%s:7:29: ingest_files[0].schema.columns.URN: unknown key 'greater' (did "
                        "you mean 'greater_than'?)");
    /* A named argument the check does not take. */
    expect_schema_error("      columns:\n"
                        "        URN: {in_range: {min_value: 1, max_valu: 2}}\n",
                        "%s:7:40: ingest_files[0].schema.columns.URN.in_range: unknown key "
                        "'max_valu' (did you mean 'max_value'?)");
}

static void test_error_types(void **state)
{
    (void)state;
    expect_error("pipeline: p\ningest_files: {name: a}\n", AE_CONFIG,
                 "%s:2:15: ingest_files: expected a list of input files, got a mapping");
    expect_error("- a\n", AE_CONFIG,
                 "%s:1:1: expected a mapping (pipeline, ingest_files, ...), got a list");
    expect_schema_error("      columns: [URN]\n",
                        "%s:6:16: ingest_files[0].schema.columns: expected a mapping of column "
                        "names to column options, got a list");
    /* Bools given as strings. */
    expect_schema_error("      columns:\n"
                        "        URN: {nullable: \"true\"}\n",
                        "%s:7:25: ingest_files[0].schema.columns.URN.nullable: expected true or "
                        "false, got the string \"true\" (write it without quotes)");
    expect_schema_error("      strict: yes\n",
                        "%s:6:15: ingest_files[0].schema.strict: expected true, false or filter, "
                        "got 'yes'");
    expect_error("pipeline: p\nlarge_file_threshold_bytes: \"100\"\n", AE_CONFIG,
                 "%s:2:29: large_file_threshold_bytes: expected an integer, got the string "
                 "\"100\" (write it without quotes)");
    expect_error("pipeline: p\nlarge_file_threshold_bytes: 0\n", AE_CONFIG,
                 "%s:2:29: large_file_threshold_bytes: expected an integer > 0, got 0");
    expect_error("pipeline: p\nexecution_mode: serail\n", AE_CONFIG,
                 "%s:2:17: execution_mode: expected serial or parallel, got 'serail' (did you "
                 "mean 'serial'?)");
    expect_error("pipeline: [p]\n", AE_CONFIG, "%s:1:11: pipeline: expected a string, got a list");
    expect_error("pipeline: ''\n", AE_CONFIG,
                 "%s:1:11: pipeline: expected a name, got an empty string");
    char text[1024];
    snprintf(text, sizeof(text), "%s    max_bad_row_fraction: 1.5\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:5:27: ingest_files[0].max_bad_row_fraction: expected a number between 0 "
                 "and 1, got 1.5");
    snprintf(text, sizeof(text), "%s    max_bad_rows: -1\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:5:19: ingest_files[0].max_bad_rows: expected an integer >= 0, got -1");
    snprintf(text, sizeof(text), "%s    delimiter: ab\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:5:16: ingest_files[0].delimiter: expected one character (\"\\t\" or tab for "
                 "a tab), got 'ab'");
    snprintf(text, sizeof(text), "%s    encoding: klingon-8\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:5:15: ingest_files[0].encoding: encoding 'klingon-8' is not known "
                 "(expected a name iconv knows, such as utf-8, windows-1252 or latin1)");
}

static void test_error_syntax_and_duplicates(void **state)
{
    (void)state;
    /* libyaml's own problem text, with its position made 1-based. */
    expect_error("pipeline: p\ningest_files: [a, b\n", AE_CONFIG,
                 "%s:3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a "
                 "flow sequence at line 2, column 15)");
    expect_error("pipeline: p\npipeline: q\n", AE_CONFIG,
                 "%s:2:1: duplicate key 'pipeline' (first given at line 1)");
    expect_schema_error("      columns:\n"
                        "        URN: {dtype: int64}\n"
                        "        URN: {dtype: str}\n",
                        "%s:8:9: ingest_files[0].schema.columns: duplicate key 'URN' (first given "
                        "at line 7)");
    expect_error("", AE_CONFIG, "%s: the file is empty (expected a YAML mapping)");
    expect_error("pipeline: p\n---\npipeline: q\n", AE_CONFIG,
                 "%s:2:1: a second YAML document starts here (expected one document)");
    /* A NUL byte through an escape would cut the name silently: refused where it is. */
    expect_schema_error("      columns:\n"
                        "        \"UR\\0N\": {dtype: int64}\n",
                        "%s:7:9: this value holds a NUL byte (a \\0 or \\x00 escape), which no "
                        "name, pattern or value may hold: remove it");
    expect_error("pipeline: \"p\\x00q\"\n", AE_CONFIG,
                 "%s:1:11: this value holds a NUL byte (a \\0 or \\x00 escape), which no name, "
                 "pattern or value may hold: remove it");
}

static void test_error_missing_and_names(void **state)
{
    (void)state;
    expect_error("ingest_files: []\n", AE_CONFIG, "%s:1:1: missing required key 'pipeline'");
    expect_error("pipeline: p\ningest_files: []\n", AE_CONFIG,
                 "%s:2:15: ingest_files: expected at least one input file");
    expect_error("pipeline: p\ningest_files:\n  - name: a\n    schema: {}\n", AE_CONFIG,
                 "%s:3:5: ingest_files[0]: missing required key 'source_pattern'");
    expect_error(head, AE_CONFIG,
                 "%s:3:5: ingest_files[0]: missing required key 'schema' or 'schema_file'");
    char text[1024];
    snprintf(text, sizeof(text), "%s    schema: {}\n    schema_file: s.yaml\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:6:18: ingest_files[0].schema_file: give either schema or schema_file, not "
                 "both");
    snprintf(text, sizeof(text),
             "%s    schema: {}\n  - name: a\n    source_pattern: b\n"
             "    schema: {}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:6:5: ingest_files[1].name: duplicate name 'a' (also ingest_files[0])");
    expect_error("pipeline: p\ningest_files:\n  - {name: -a, source_pattern: x, schema: {}}\n",
                 AE_CONFIG,
                 "%s:3:12: ingest_files[0].name: '-a' is not a valid name (expected a letter or "
                 "digit, then letters, digits, '.', '_' or '-')");
    snprintf(text, sizeof(text), "%s    has_header: false\n    schema: {}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:3:5: ingest_files[0]: has_header is false, so column_names is required (the "
                 "list of column names in file order)");
    snprintf(text, sizeof(text),
             "%s    has_header: false\n    column_names: [a, b, a]\n    schema: {}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:6:26: ingest_files[0].column_names[2]: duplicate column name 'a' (also "
                 "column_names[0])");
    snprintf(text, sizeof(text), "%s    schema: {unique: [a, zz], strict: true, columns: {a: }}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:5:22: ingest_files[0].schema.unique: column 'zz' is not in columns");
    /* With strict: false an undeclared column passes through, so unique may name it. */
    snprintf(text, sizeof(text), "%s    schema: {unique: zz, columns: {a: }}\n", head);
    struct config *c = load_ok(text);
    assert_int_equal(c->ingest[0].schema.nunique, 1);
    assert_string_equal(c->ingest[0].schema.unique_sets[0][0], "zz");
    assert_null(c->ingest[0].schema.unique_sets[0][1]);
    config_free(c);
    snprintf(text, sizeof(text), "%s    schema: {checks: [{value: 1}]}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:5:24: ingest_files[0].schema.checks[0]: unknown check 'value' (expected one "
                 "of: equal_to, not_equal_to, greater_than, greater_than_or_equal_to, less_than, "
                 "less_than_or_equal_to, in_range, isin, notin, str_matches, str_contains, "
                 "str_startswith, str_endswith, str_length, unique_values_eq, email)");
    snprintf(text, sizeof(text),
             "%s    schema: {index: null, metadata: {}, checks: [],"
             " version: 0.20.0, schema_type: dataframe, dtype: ~}\n",
             head);
    config_free(load_ok(text));
}

static void test_error_checks_and_unsupported(void **state)
{
    (void)state;
    expect_schema_error("      columns:\n"
                        "        x: {isin: {allowed_values: {a: 1}}}\n",
                        "%s:7:36: ingest_files[0].schema.columns.x.isin.allowed_values: expected "
                        "a value or a list of values, got a mapping");
    expect_schema_error("      columns:\n"
                        "        x: {gt: {min_value: 1, raise_warning: 'false'}}\n",
                        "%s:7:47: ingest_files[0].schema.columns.x.gt.raise_warning: expected "
                        "true or false, got the string \"false\" (write it without quotes)");
    expect_schema_error("      columns:\n"
                        "        x: {checks: [{gt: 1, lt: 2}]}\n",
                        "%s:7:22: ingest_files[0].schema.columns.x.checks[0]: expected one check "
                        "per list item ({check_name: value}), got 2 keys");
    expect_schema_error("      columns:\n"
                        "        x: {checks: [{value: 1, options: {raise_warning: true}}]}\n",
                        "%s:7:42: ingest_files[0].schema.columns.x.checks[0].options: missing "
                        "key 'check_name'");
    expect_schema_error("      columns:\n"
                        "        x: {checks: [{value: 1, options: {check_name: gt, retry: 1}}]}\n",
                        "%s:7:59: ingest_files[0].schema.columns.x.checks[0].options: unknown key "
                        "'retry' (expected one of: check_name, ignore_na, raise_warning, error, "
                        "name, n_failure_cases, title, description)");
    expect_schema_error("      columns: {x: {email: 1}}\n",
                        "%s:6:28: ingest_files[0].schema.columns.x.email: email takes no argument "
                        "(write email: true)");
    expect_schema_error("      index: [{dtype: int64}, {dtype: int64}]\n",
                        "%s:6:14: ingest_files[0].schema.index: a MultiIndex (2 index entries) is "
                        "not supported: astro's index is the row position");
    expect_schema_error("      index: [{dtype: str}]\n",
                        "%s:6:23: ingest_files[0].schema.index[0].dtype: an index of dtype str is "
                        "not supported: astro's index is the row position (an integer)");
    expect_schema_error("      index: [{dtype: int64, regex: true}]\n",
                        "%s:6:30: ingest_files[0].schema.index[0]: unknown key 'regex' (expected "
                        "one of: dtype, nullable, checks, name, unique, allow_duplicates, "
                        "coerce, title, description)");
    expect_schema_error("      api: polars\n",
                        "%s:6:12: ingest_files[0].schema.api: api 'polars' is not supported "
                        "(expected pandas)");
    expect_schema_error("      columns: {x: {checks: {gt: {value: 1, options: {n_failure_cases: "
                        "-2}}}}}\n",
                        "%s:6:72: ingest_files[0].schema.columns.x.checks.gt.options."
                        "n_failure_cases: n_failure_cases must be 0 or more (or null: no cap)");
    expect_schema_error("      metadata: {owner: me}\n",
                        "%s:6:17: ingest_files[0].schema.metadata: metadata is not supported (it "
                        "must be null or empty)");
    expect_schema_error("      schema_type: series\n",
                        "%s:6:20: ingest_files[0].schema.schema_type: schema_type 'series' is not "
                        "supported (expected dataframe)");
    expect_schema_error("      dtype: int65\n",
                        "%s:6:14: ingest_files[0].schema.dtype: 'int65' is not a known dtype "
                        "(expected one of: str, bool, int8, int16, int32, int64, uint8, uint16, "
                        "uint32, uint64, float32, float64, date, datetime, datetime64[ns], "
                        "datetime64[ns, UTC], timedelta64[ns], decimal(p,s))");
    expect_schema_error("      columns: {x: {name: y}}\n",
                        "%s:6:27: ingest_files[0].schema.columns.x.name: name 'y' differs from "
                        "the column key 'x'");
    expect_schema_error("      columns: {x: {dtype: \"decimal(40,2)\"}}\n",
                        "%s:6:28: ingest_files[0].schema.columns.x.dtype: 'decimal(40,2)': "
                        "precision must be between 1 and 38");
}

static void test_error_steps_targets(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets: {w: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n    load: {dataset: b, target: w}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:9:21: steps[0].load.dataset: no ingest_files entry is named 'b'");
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets: {wh: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n    load: {dataset: a, target: wj}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:9:32: steps[0].load.target: no target named 'wj' in targets (did you mean "
                 "'wh'?)");
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets: {w: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n    load: {dataset: a, target: w, mode: upsert}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:9:41: steps[0].load: mode upsert needs key (the list of key columns)");
    snprintf(text, sizeof(text),
             "%s    schema: {strict: true, columns: {id: }}\n"
             "targets: {w: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n"
             "    load: {dataset: a, target: w, mode: upsert, key: [id, ib]}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:9:59: steps[0].load.key[1]: column 'ib' is not in the schema of 'a'");
    /* rename: pairs in order; upsert keys name the table's columns, after renames. */
    snprintf(text, sizeof(text),
             "%s    schema: {strict: true, columns: {id: , who: }}\n"
             "targets: {w: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n"
             "    load: {dataset: a, target: w, mode: upsert, key: [order_id],\n"
             "           rename: {id: order_id, who: customer}}\n",
             head);
    struct config *rc_ok = load_ok(text);
    assert_int_equal(rc_ok->steps[0].nrenames, 2);
    assert_string_equal(rc_ok->steps[0].renames[0], "id");
    assert_string_equal(rc_ok->steps[0].renames[1], "order_id");
    assert_string_equal(rc_ok->steps[0].renames[2], "who");
    assert_string_equal(rc_ok->steps[0].renames[3], "customer");
    config_free(rc_ok);
    snprintf(text, sizeof(text),
             "%s    schema: {strict: true, columns: {id: }}\n"
             "targets: {w: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n"
             "    load: {dataset: a, target: w, mode: upsert, key: [id], rename: {id: oid}}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:9:55: steps[0].load.key[0]: column 'id' is not in the schema of 'a' (after "
                 "rename)");
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets: {w: {kind: sqlite, path: x.db}}\n"
             "steps:\n  - name: l\n    load: {dataset: a, target: w, rename: [id]}\n",
             head);
    expect_error(text, AE_CONFIG,
                 "%s:9:43: steps[0].load.rename: expected a mapping of dataset column names to "
                 "table column names, got a list");
    snprintf(text, sizeof(text),
             "%s    schema: {}\nsteps:\n  - {name: s, exec: {argv: [x]}, sql: {}}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:7:5: steps[0]: a step needs exactly one of load, sql or exec (got 2)");
    snprintf(text, sizeof(text),
             "%s    schema: {}\nsteps:\n  - {name: s, exec: {argv: [x]}}\n"
             "  - {name: s, exec: {argv: [y]}}\n",
             head);
    expect_error(text, AE_CONFIG, "%s:8:5: steps[1].name: duplicate step name 's' (also steps[0])");
    snprintf(text, sizeof(text), "%s    schema: {}\ntargets: {w: {kind: mysql}}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:6:21: targets.w.kind: expected postgres or sqlite, got 'mysql'");
    snprintf(text, sizeof(text), "%s    schema: {}\ntargets: {w: {kind: sqlite}}\n", head);
    expect_error(text, AE_CONFIG, "%s:6:14: targets.w: missing required key 'path'");
}

static void test_env_expansion(void **state)
{
    (void)state;
    char text[1024];
    unsetenv("ASTRO_TEST_UNSET");
    /* An unset variable does not stop the config from loading (validate, ingest, runs and
     * status never connect); expanding the target, where it is used, names it and the key. */
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets:\n  w: {kind: postgres, dsn: \"x=${ASTRO_TEST_UNSET}\"}\n"
             "  s: {kind: sqlite, path: \"${ASTRO_TEST_UNSET}/x.db\"}\n",
             head);
    struct config *u = load_ok(text);
    struct target_spec ux;
    struct err ue = {0};
    char uwant[1024];
    assert_int_equal(config_target_expand(&u->targets[0], &ux, &ue), AE_CONFIG);
    assert_null(ux.dsn);
    snprintf(uwant, sizeof(uwant),
             "%s:7:28: targets.w.dsn: environment variable 'ASTRO_TEST_UNSET' is not set "
             "(target 'w' needs it here: set it, or write $$ for a literal $)",
             yaml_path);
    assert_string_equal(ue.msg, uwant);
    assert_int_equal(config_target_expand(&u->targets[1], &ux, &ue), AE_CONFIG);
    snprintf(uwant, sizeof(uwant),
             "%s:8:27: targets.s.path: environment variable 'ASTRO_TEST_UNSET' is not set "
             "(target 's' needs it here: set it, or write $$ for a literal $)",
             yaml_path);
    assert_string_equal(ue.msg, uwant);
    config_free(u);
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets:\n  w: {kind: postgres, dsn: \"x=${ASTRO_TEST\"}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:7:28: targets.w.dsn: '${' without a closing '}' (write $$ for a literal $)");
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets:\n  w: {kind: postgres, dsn: \"${1X}\"}\n", head);
    expect_error(text, AE_CONFIG,
                 "%s:7:28: targets.w.dsn: '${1X}' is not a valid environment variable name");
    setenv("ASTRO_TEST_A", "va", 1);
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets:\n"
             "  w: {kind: postgres, dsn: \"$$ $$$${ASTRO_TEST_A} $x ${ASTRO_TEST_A}$\"}\n"
             "  s: {kind: sqlite, path: \"${ASTRO_TEST_A}${ASTRO_TEST_A}.db\"}\n",
             head);
    struct config *c = load_ok(text);
    char *dsn = expanded(&c->targets[0], 0);
    assert_string_equal(dsn, "$ $${ASTRO_TEST_A} $x va$");
    free(dsn);
    char *path = expanded(&c->targets[1], 1);
    const char *slash = strrchr(path, '/');
    assert_non_null(slash);
    assert_string_equal(slash, "/vava.db");
    free(path);
    config_free(c);
}

/* Loads a config whose only target is a postgres target with the given dsn (a YAML literal block),
 * and returns the expanded dsn (the caller frees it). */
static char *expanded_dsn(const char *dsn)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "%s    schema: {}\ntargets:\n  w:\n    kind: postgres\n    dsn: |-\n      %s\n", head,
             dsn);
    struct config *c = load_ok(text);
    char *out = expanded(&c->targets[0], 0);
    config_free(c);
    return out;
}

/* Issue 16: a ${VAR} in the place of a value stays one value, whatever it holds. */
static void test_env_expansion_dsn(void **state)
{
    (void)state;
    setenv("ASTRO_TEST_PW", "x dbname=postgres", 1);
    setenv("ASTRO_TEST_Q", "it's a \\ back", 1);
    setenv("ASTRO_TEST_EMPTY", "", 1);
    setenv("ASTRO_TEST_ALL", "host=h port=5 dbname=d", 1);
    setenv("ASTRO_TEST_URI", "p@ss:w/rd?x", 1);
    setenv("ASTRO_TEST_BASE", "postgres://h/db", 1);
    static const char *const cases[][2] = {
        /* a variable as a whole value: quoted, ' and \ escaped */
        {"host=h password=${ASTRO_TEST_PW} dbname=astro",
         "host=h password='x dbname=postgres' dbname=astro"},
        {"password = ${ASTRO_TEST_Q}", "password = 'it\\'s a \\\\ back'"},
        {"password=${ASTRO_TEST_EMPTY} dbname=d", "password='' dbname=d"},
        /* part of an unquoted value: the whole value is quoted */
        {"user=u_${ASTRO_TEST_PW}_x host=h", "user='u_x dbname=postgres_x' host=h"},
        /* inside a value the user quoted: escaped, no extra quotes */
        {"password='pre ${ASTRO_TEST_Q}'", "password='pre it\\'s a \\\\ back'"},
        /* outside any value: whole keyword=value pairs, pasted as they are */
        {"${ASTRO_TEST_ALL}", "host=h port=5 dbname=d"},
        {"${ASTRO_TEST_ALL} sslmode=disable", "host=h port=5 dbname=d sslmode=disable"},
        /* no variable: unchanged */
        {"host=h dbname='a b' password=p\\ q", "host=h dbname='a b' password=p\\ q"},
        /* a URI: percent-encoded */
        {"postgresql://u:${ASTRO_TEST_URI}@h/db", "postgresql://u:p%40ss%3Aw%2Frd%3Fx@h/db"},
        /* a URI from a variable, then a value */
        {"${ASTRO_TEST_BASE}?password=${ASTRO_TEST_PW}",
         "postgres://h/db?password=x%20dbname%3Dpostgres"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = expanded_dsn(cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0) {
            print_error("dsn %s\n got  %s\n want %s\n", cases[i][0], got, cases[i][1]);
        }
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void test_schema_file_errors(void **state)
{
    (void)state;
    char text[1024];
    char spath[160];
    snprintf(spath, sizeof(spath), "%s/s.yaml", tmpdir);
    /* Missing file: a configuration error (exit 2) naming the resolved path, placed where
     * astro.yaml names it. */
    unlink(spath);
    snprintf(text, sizeof(text), "%s    schema_file: s.yaml\n", head);
    char want[1024];
    snprintf(want, sizeof(want),
             "%%s:5:18: ingest_files[0].schema_file: cannot read '%s': No such file or directory",
             spath);
    expect_error(text, AE_CONFIG, want);
    /* A content error in the schema file names that file and the key path inside it. */
    write_file(spath, "columns:\n  a: {dtype: int64, unique: 1}\n");
    write_file(yaml_path, text);
    struct config *c = NULL;
    struct err e = {0};
    assert_int_equal(config_load(yaml_path, &c, &e), AE_CONFIG);
    snprintf(want, sizeof(want), "%s:2:29: columns.a.unique: expected true or false, got '1'",
             spath);
    assert_string_equal(e.msg, want);
    assert_null(c);
    /* config_load itself on a missing file. */
    e.msg[0] = '\0';
    assert_int_equal(config_load("/nonexistent/astro.yaml", &c, &e), AE_CONFIG);
    assert_string_equal(e.msg, "cannot read '/nonexistent/astro.yaml': No such file or directory");
    assert_int_equal(config_load(tmpdir, &c, &e), AE_CONFIG);
    snprintf(want, sizeof(want), "%s is a directory, not a regular file", tmpdir);
    assert_string_equal(e.msg, want);
    struct schema s;
    assert_int_equal(config_load_schema_file("/nonexistent/s.yaml", &s, &e), AE_CONFIG);
    assert_null(s.cols);
    assert_null(s.file);
    config_free(NULL);
    schema_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_schema_file_relative_to_cwd),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_pandera_dict_form),
        cmocka_unit_test(test_pandera_list_form),
        cmocka_unit_test(test_pandera_flat_form),
        cmocka_unit_test(test_check_aliases_and_nulls),
        cmocka_unit_test(test_check_options),
        cmocka_unit_test(test_pandera_written_keys),
        cmocka_unit_test(test_pandera_frame_rules),
        cmocka_unit_test(test_error_checks_and_unsupported),
        cmocka_unit_test(test_error_dtype),
        cmocka_unit_test(test_error_unknown_keys),
        cmocka_unit_test(test_error_types),
        cmocka_unit_test(test_error_syntax_and_duplicates),
        cmocka_unit_test(test_error_missing_and_names),
        cmocka_unit_test(test_error_steps_targets),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_env_expansion_dsn),
        cmocka_unit_test(test_schema_file_errors),
        cmocka_unit_test(test_export_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
