/*
 * test_engine.c - the ingest engine (src/ingest/engine.h) between an in-memory test reader and an
 * in-memory test sink: block order on 1 to 7 threads, fail_fast, the bad-row thresholds and
 * broken records, a failing sink, reader errors (environment and bad data) and header problems.
 *
 * The test reader reads the whole delivered file through its struct source at open (so the
 * engine's byte count, "file changed while read" check and sha256 see every byte), then hands out
 * its lines as records split at ',', max_rows at a time, with text it keeps in its own buffer
 * (records.h: the text must outlive every block, and the reader's buffer lives until
 * input_close, after the engine released its blocks). A plan says which records span several
 * physical lines, carry record flags, or make the reader fail. The plan reaches the reader's open
 * through the spec it is given: both live in one struct tcase, and open finds the case from the
 * spec's address, so the test keeps no global state.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "ingest/engine.h"
#include "test_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the test reader ---- */

/* A record (counted from 0, the header included) that differs from one plain line. */
struct tr_special {
    size_t rec;
    uint8_t flags;  /* REC_R_* */
    uint32_t lines; /* physical lines it spans (joined with their line breaks) */
};

struct tr_plan {
    size_t fail_at; /* the record at which next fails (the records before it come first);
                       SIZE_MAX: never */
    int fail_code;  /* AE_IO or AE_FORMAT */
    const struct tr_special *special;
    size_t nspecial;
};

/* One test case: the spec the engine borrows and the plan of the reader that reads for it. */
struct tcase {
    struct ingest_spec spec;
    struct tr_plan plan;
};

struct treader {
    const struct tr_plan *plan;
    char *text; /* the whole file; every field and raw pointer points into it */
    size_t len;
    size_t off;    /* where the next record starts in text */
    size_t rec;    /* the next record's index */
    uint64_t line; /* the next record's physical line */
    bool failed;
};

static int tr_open(void **impl, struct source *src, const struct ingest_spec *spec, struct err *e)
{
    const struct tcase *tc =
        (const struct tcase *)(const void *)((const char *)spec - offsetof(struct tcase, spec));
    struct treader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    r->plan = &tc->plan;
    r->line = 1;
    size_t cap = 0;
    for (;;) {
        if (cap - r->len < 4096) {
            cap = cap * 2 + 4096;
            char *p = realloc(r->text, cap);
            if (p == NULL) {
                free(r->text);
                free(r);
                return err_set(e, AE_NOMEM, "out of memory");
            }
            r->text = p;
        }
        size_t got = 0;
        int rc = source_read(src, r->text + r->len, cap - r->len, &got, e);
        if (rc != 0) {
            free(r->text);
            free(r);
            return rc;
        }
        if (got == 0) {
            break;
        }
        r->len += got;
    }
    *impl = r;
    return 0;
}

/* Makes room for rows records in every array of b (row_first holds one more). */
static int tr_reserve_rows(struct record_block *b, size_t rows)
{
    if (rows <= b->cap_rows) {
        return 0;
    }
    uint32_t *first = realloc(b->row_first, (rows + 1) * sizeof(*first));
    if (first != NULL) {
        b->row_first = first;
    }
    uint64_t *line = realloc(b->line, rows * sizeof(*line));
    if (line != NULL) {
        b->line = line;
    }
    uint8_t *flags = realloc(b->row_flags, rows * sizeof(*flags));
    if (flags != NULL) {
        b->row_flags = flags;
    }
    const char **raw = realloc(b->raw, rows * sizeof(*raw));
    if (raw != NULL) {
        b->raw = raw;
    }
    uint32_t *raw_len = realloc(b->raw_len, rows * sizeof(*raw_len));
    if (raw_len != NULL) {
        b->raw_len = raw_len;
    }
    if (first == NULL || line == NULL || flags == NULL || raw == NULL || raw_len == NULL) {
        return AE_NOMEM; /* the arrays grown so far are kept; cap_rows stays true for all */
    }
    b->cap_rows = rows;
    return 0;
}

static int tr_push_field(struct record_block *b, const char *p, size_t len)
{
    if (b->nfields == b->cap_fields) {
        size_t cap = b->cap_fields * 2 + 64;
        struct record_field *f = realloc(b->fields, cap * sizeof(*f));
        if (f == NULL) {
            return AE_NOMEM;
        }
        b->fields = f;
        b->cap_fields = cap;
    }
    struct record_field *f = &b->fields[b->nfields++];
    f->p = p;
    f->len = (uint32_t)len;
    f->flags = 0;
    return 0;
}

static const struct tr_special *tr_special_of(const struct tr_plan *plan, size_t rec)
{
    for (size_t i = 0; i < plan->nspecial; i++) {
        if (plan->special[i].rec == rec) {
            return &plan->special[i];
        }
    }
    return NULL;
}

static int tr_next(void *impl, struct record_block *b, size_t max_rows, struct err *e)
{
    struct treader *r = impl;
    b->nrows = 0;
    b->nfields = 0;
    if (r->failed || r->rec == r->plan->fail_at) {
        r->failed = true;
        return err_set(e, r->plan->fail_code, "test reader: record %zu refused at line %llu",
                       r->rec, (unsigned long long)r->line);
    }
    if (tr_reserve_rows(b, max_rows) != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    while (b->nrows < max_rows && r->off < r->len && r->rec != r->plan->fail_at) {
        const struct tr_special *sp = tr_special_of(r->plan, r->rec);
        uint32_t lines = sp != NULL ? sp->lines : 1;
        size_t end = r->off;
        for (uint32_t k = 0; k < lines; k++) {
            if (k > 0 && end < r->len) {
                end++; /* over the line break the record holds */
            }
            while (end < r->len && r->text[end] != '\n') {
                end++;
            }
        }
        size_t n = b->nrows;
        b->row_first[n] = (uint32_t)b->nfields;
        b->line[n] = r->line;
        b->row_flags[n] = sp != NULL ? sp->flags : 0;
        b->raw[n] = r->text + r->off;
        b->raw_len[n] = (uint32_t)(end - r->off);
        size_t start = r->off;
        for (size_t i = r->off; i <= end; i++) {
            if (i == end || r->text[i] == ',') {
                if (tr_push_field(b, r->text + start, i - start) != 0) {
                    return err_set(e, AE_NOMEM, "out of memory");
                }
                start = i + 1;
            }
        }
        b->nrows++;
        r->line += lines;
        r->rec++;
        r->off = end < r->len ? end + 1 : r->len;
    }
    b->row_first[b->nrows] = (uint32_t)b->nfields;
    return 0;
}

static uint64_t tr_position(const void *impl)
{
    const struct treader *r = impl;
    return r->line;
}

static void tr_free(void *impl)
{
    struct treader *r = impl;
    if (r != NULL) {
        free(r->text);
        free(r);
    }
}

static const struct input_ops test_reader_ops = {
    .name = "test",
    .refusal_check = "record_length",
    .open = tr_open,
    .next = tr_next,
    .position = tr_position,
    .free = tr_free,
};

/* ---- the test sink: the line and id of every row it is given with row_ok == 1 ---- */

struct tsink {
    uint64_t *lines;
    int64_t *ids;
    size_t n, cap;
    size_t writes;
    size_t fail_at_write; /* 1-based; 0: never */
    bool committed, aborted;
};

static int ts_write(void *impl, const struct batch *b, struct err *e)
{
    struct tsink *t = impl;
    t->writes++;
    if (t->writes == t->fail_at_write) {
        return err_set(e, AE_DB, "test sink: write %zu refused", t->writes);
    }
    for (size_t i = 0; i < b->nrows; i++) {
        if (b->row_ok[i] != 1) {
            continue;
        }
        if (t->n == t->cap) {
            t->cap = t->cap * 2 + 1024;
            t->lines = realloc(t->lines, t->cap * sizeof(*t->lines));
            t->ids = realloc(t->ids, t->cap * sizeof(*t->ids));
            if (t->lines == NULL || t->ids == NULL) {
                abort();
            }
        }
        t->lines[t->n] = b->line[i];
        t->ids[t->n] = b->cols[0].v.i64[i];
        t->n++;
    }
    return 0;
}

/* The state belongs to the test (released by ts_release), so commit and abort only record. */
static int ts_commit(void *impl, uint64_t *bytes, struct err *e)
{
    (void)e;
    struct tsink *t = impl;
    t->committed = true;
    if (bytes != NULL) {
        *bytes = 0;
    }
    return 0;
}

static void ts_abort(void *impl)
{
    struct tsink *t = impl;
    t->aborted = true;
}

static const struct sink_ops test_sink_ops = {ts_write, ts_commit, ts_abort};

static void ts_release(struct tsink *t)
{
    free(t->lines);
    free(t->ids);
    memset(t, 0, sizeof(*t));
}

/* ---- the failure sink: every case, in order ---- */

struct tfail {
    uint64_t line;
    uint64_t row;
    char column[16];
    char check[48];
};

struct tfails {
    struct tfail *v;
    size_t n, cap;
};

static int tf_emit(void *ctx, const struct failure *f, struct err *e)
{
    (void)e;
    struct tfails *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap * 2 + 64;
        t->v = realloc(t->v, t->cap * sizeof(*t->v));
        if (t->v == NULL) {
            abort();
        }
    }
    struct tfail *c = &t->v[t->n++];
    memset(c, 0, sizeof(*c));
    c->line = f->line;
    c->row = f->row;
    snprintf(c->column, sizeof(c->column), "%s", f->column != NULL ? f->column : "");
    snprintf(c->check, sizeof(c->check), "%s", f->check);
    return 0;
}

/* ---- fixtures: a file of data rows of chosen kinds, and what the engine must make of it ---- */

enum row_kind {
    RK_OK,       /* id, v = 3 * id, note */
    RK_BAD_V,    /* v = "x": coerce_dtype('int64') on v */
    RK_NULL_V,   /* v empty: not_nullable on v */
    RK_DUP_ID,   /* the id of the row before: unique on id */
    RK_BAD_BOTH, /* id and v unparsable: two cases, id then v */
    RK_MULTI,    /* the note spans 2 physical lines (REC_R_MULTILINE): valid */
    RK_LONG,     /* the note spans 4 physical lines: record_lines when max_record_lines < 4 */
    RK_UNTERM    /* REC_R_UNTERMINATED: unterminated_quote */
};

/* One test file: the spec and reader plan (struct tcase), the rows' kinds and where each row
 * starts. fixture_init, then the test sets kinds and spec, then fixture_write_rows (or
 * fixture_write_text), the runs, fixture_free. A fixture must not move: the spec points at its
 * columns. */
struct fixture {
    struct column_spec cols[3];
    char *id_set[2]; /* the frame-level unique set [id] */
    char **sets[1];
    struct tcase tc;
    char *dir;
    char *path;
    size_t size;
    size_t n;       /* data rows */
    uint8_t *kind;  /* per row (enum row_kind), RK_OK at first */
    uint64_t *line; /* per row: its physical line */
    struct tr_special *special;
    size_t nspecial;
};

/* n rows of RK_OK; columns id int64, v int64, note str nullable, and a frame-level unique: [id]
 * (the first occurrence kept, so no key pre-pass: a unique column fails every occurrence and
 * needs one, tested in test_validate and e2e test_threads); no threshold; the reader plan
 * empty. */
static void fixture_init(struct fixture *fx, size_t n)
{
    memset(fx, 0, sizeof(*fx));
    fx->cols[0] = (struct column_spec){.name = (char *)"id", .type.id = DT_INT64};
    fx->cols[1] = (struct column_spec){.name = (char *)"v", .type.id = DT_INT64};
    fx->cols[2] = (struct column_spec){.name = (char *)"note", .type.id = DT_STR, .nullable = true};
    for (size_t c = 0; c < 3; c++) {
        fx->cols[c].required = true;
    }
    struct ingest_spec *spec = &fx->tc.spec;
    spec->name = (char *)"t";
    spec->has_header = true;
    spec->delimiter = ',';
    spec->quote = '"';
    spec->max_bad_rows = -1;
    spec->max_bad_row_fraction = -1;
    spec->max_failure_cases = -1;
    spec->max_record_lines = CONFIG_MAX_RECORD_LINES;
    spec->schema.cols = fx->cols;
    spec->schema.ncols = 3;
    fx->id_set[0] = (char *)"id";
    fx->id_set[1] = NULL;
    fx->sets[0] = fx->id_set;
    spec->schema.unique_sets = fx->sets;
    spec->schema.nunique = 1;
    fx->tc.plan.fail_at = SIZE_MAX;
    fx->dir = th_tempdir();
    fx->n = n;
    fx->kind = calloc(n ? n : 1, 1);
    fx->line = calloc(n ? n : 1, sizeof(*fx->line));
    fx->special = calloc(n ? n : 1, sizeof(*fx->special));
    assert_non_null(fx->kind);
    assert_non_null(fx->line);
    assert_non_null(fx->special);
}

/* The delivered file is text, as it is. */
static void fixture_write_text(struct fixture *fx, const char *text)
{
    fx->size = strlen(text);
    fx->path = th_write(fx->dir, "t.csv", text);
}

/* The delivered file is header and one line (or several, for the multi-line kinds) per row of
 * fx->kind; the reader's plan learns which records span several lines or carry flags. */
static void fixture_write_rows(struct fixture *fx, const char *header)
{
    size_t cap = 64 + fx->n * 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "%s\n", header);
    uint64_t line = 2;
    for (size_t i = 0; i < fx->n; i++) {
        fx->line[i] = line;
        uint32_t lines = 1;
        uint8_t flags = 0;
        char *p = text + len;
        size_t room = cap - len;
        switch ((enum row_kind)fx->kind[i]) {
        case RK_OK: snprintf(p, room, "%zu,%zu,n%zu\n", i, 3 * i, i); break;
        case RK_BAD_V: snprintf(p, room, "%zu,x,n%zu\n", i, i); break;
        case RK_NULL_V: snprintf(p, room, "%zu,,n%zu\n", i, i); break;
        case RK_DUP_ID: snprintf(p, room, "%zu,%zu,n%zu\n", i - 1, 3 * i, i); break;
        case RK_BAD_BOTH: snprintf(p, room, "y%zu,x,n%zu\n", i, i); break;
        case RK_MULTI:
            snprintf(p, room, "%zu,%zu,first\nsecond\n", i, 3 * i);
            lines = 2;
            flags = REC_R_MULTILINE;
            break;
        case RK_LONG:
            snprintf(p, room, "%zu,%zu,a\nb\nc\nd\n", i, 3 * i);
            lines = 4;
            flags = REC_R_MULTILINE;
            break;
        case RK_UNTERM:
            snprintf(p, room, "%zu,%zu,\"open\n", i, 3 * i);
            flags = REC_R_UNTERMINATED;
            break;
        }
        len += strlen(p);
        if (lines > 1 || flags != 0) {
            struct tr_special sp = {i + 1, flags, lines}; /* the header is record 0 */
            fx->special[fx->nspecial++] = sp;
        }
        line += lines;
    }
    fx->tc.plan.special = fx->special;
    fx->tc.plan.nspecial = fx->nspecial;
    fixture_write_text(fx, text);
    free(text);
}

static void fixture_free(struct fixture *fx)
{
    th_rmrf(fx->dir);
    free(fx->dir);
    free(fx->path);
    free(fx->kind);
    free(fx->line);
    free(fx->special);
}

/* The cases of a row of each kind, in the order the validator reports them (its columns). */
static const struct {
    const char *column[2];
    const char *check[2];
} kind_cases[] = {
    [RK_OK] = {{NULL, NULL}, {NULL, NULL}},
    [RK_BAD_V] = {{"v", NULL}, {"coerce_dtype('int64')", NULL}},
    [RK_NULL_V] = {{"v", NULL}, {"not_nullable", NULL}},
    [RK_DUP_ID] = {{"id", NULL}, {"multiple_fields_uniqueness", NULL}},
    [RK_BAD_BOTH] = {{"id", "v"}, {"coerce_dtype('int64')", "coerce_dtype('int64')"}},
    [RK_MULTI] = {{NULL, NULL}, {NULL, NULL}},
    [RK_LONG] = {{"", NULL}, {"record_lines", NULL}},
    [RK_UNTERM] = {{"", NULL}, {"unterminated_quote", NULL}},
};

/* The cases the validator must report for the rows of fx, in line order. */
static size_t expected_cases(const struct fixture *fx, struct tfail *out)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n; i++) {
        for (size_t k = 0; k < 2 && kind_cases[fx->kind[i]].check[k] != NULL; k++) {
            struct tfail *c = &out[n++];
            memset(c, 0, sizeof(*c));
            c->line = fx->line[i];
            c->row = i + 1;
            snprintf(c->column, sizeof(c->column), "%s", kind_cases[fx->kind[i]].column[k]);
            snprintf(c->check, sizeof(c->check), "%s", kind_cases[fx->kind[i]].check[k]);
        }
    }
    return n;
}

static void assert_cases_equal(const struct tfails *got, const struct tfail *want, size_t n)
{
    assert_int_equal(got->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got->v[i].line, want[i].line);
        assert_int_equal(got->v[i].row, want[i].row);
        assert_string_equal(got->v[i].column, want[i].column);
        assert_string_equal(got->v[i].check, want[i].check);
    }
}

/* ---- one run of the engine ---- */

struct outcome {
    bool can_pass;
    int rc; /* of ingest_file_run */
    struct err e;
    struct ingest_file_result res;
    struct tsink sink;
    struct tfails fails;
    uint64_t progress_calls;
    uint64_t progress_rows; /* of the last call */
    bool progress_done;
    bool progress_ordered; /* rows never went back */
};

static void on_progress(void *ctx, const struct ingest_progress *p)
{
    struct outcome *o = ctx;
    if (p->rows < o->progress_rows || o->progress_done) {
        o->progress_ordered = false;
    }
    o->progress_calls++;
    o->progress_rows = p->rows;
    o->progress_done = p->done;
}

/* What a driver gives the engine for fx, with the test reader and failures into fails. */
static void engine_opts(struct ingest_file_opts *o, const struct fixture *fx, struct tfails *fails)
{
    memset(o, 0, sizeof(*o));
    o->spec = &fx->tc.spec;
    o->path = fx->path;
    o->fs.emit = tf_emit;
    o->fs.ctx = fails;
    o->reader = &test_reader_ops;
}

/* Runs fx's file through the engine as a driver does: open, the sink given to run (even when the
 * file can no longer pass, to show nothing reaches it then), commit when ok, abort otherwise. */
static void run_engine(const struct fixture *fx, int threads, bool fail_fast, size_t sink_fail_at,
                       struct outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->progress_ordered = true;
    out->sink.fail_at_write = sink_fail_at;
    struct ingest_file_opts o;
    engine_opts(&o, fx, &out->fails);
    o.fail_fast = fail_fast;
    o.threads = threads;
    o.progress = on_progress;
    o.progress_ctx = out;
    struct ingest_file *f = NULL;
    err_clear(&out->e);
    assert_int_equal(ingest_file_open(&f, &o, &out->e), 0);
    out->can_pass = ingest_file_can_pass(f);
    struct sink s = {&test_sink_ops, &out->sink};
    out->rc = ingest_file_run(f, &s, &out->res, &out->e);
    if (out->rc == 0 && out->res.ok) {
        uint64_t bytes = 1;
        assert_int_equal(sink_commit(&s, &bytes, &out->e), 0);
        assert_int_equal(bytes, 0);
    } else {
        sink_abort(&s);
    }
    assert_null(s.impl);
    ingest_file_free(f);
}

static void outcome_release(struct outcome *o)
{
    ts_release(&o->sink);
    free(o->fails.v);
    memset(&o->fails, 0, sizeof(o->fails));
}

/* The run ended without error, the file failed, and its one failure case is (line, column,
 * check), with no row. */
static void assert_failed_with(const struct outcome *out, uint64_t line, const char *column,
                               const char *check)
{
    assert_int_equal(out->rc, 0);
    assert_false(out->res.ok);
    assert_int_equal(out->res.failures, 1);
    struct tfail want = {line, 0, "", ""};
    snprintf(want.column, sizeof(want.column), "%s", column);
    snprintf(want.check, sizeof(want.check), "%s", check);
    assert_cases_equal(&out->fails, &want, 1);
}

/* ---- the tests ---- */

/* A small valid file passes, committed, with the size and sha256 of its bytes
 * (sha256sum of "id,v,note\n1,10,a\n2,20,b\n"). */
static void test_small_file_passes(void **state)
{
    (void)state;
    struct fixture fx;
    fixture_init(&fx, 0);
    fixture_write_text(&fx, "id,v,note\n1,10,a\n2,20,b\n");
    struct outcome out;
    run_engine(&fx, 1, false, 0, &out);
    assert_int_equal(out.rc, 0);
    assert_true(out.can_pass);
    assert_true(out.res.ok);
    assert_false(out.res.stopped);
    assert_int_equal(out.res.size, 24);
    assert_string_equal(out.res.sha256,
                        "b03e0328e45cac544fca3236bae715c9829e43226d94887eb031d592f76a1e02");
    assert_int_equal(out.res.rows_read, 2);
    assert_int_equal(out.res.rows_valid, 2);
    assert_int_equal(out.res.failures, 0);
    assert_int_equal(out.fails.n, 0);
    assert_true(out.sink.committed);
    assert_false(out.sink.aborted);
    assert_int_equal(out.sink.n, 2);
    assert_int_equal(out.sink.lines[0], 2);
    assert_int_equal(out.sink.lines[1], 3);
    assert_int_equal(out.sink.ids[0], 1);
    assert_int_equal(out.sink.ids[1], 2);
    assert_true(out.progress_done);
    assert_true(out.progress_ordered);
    assert_int_equal(out.progress_rows, 2);
    outcome_release(&out);
    fixture_free(&fx);
}

/* 30000 rows (blocks of 512 records, then 4096), invalid rows of three kinds and valid multi-line
 * records spread over every block: whatever the thread count, the sink gets exactly the valid rows
 * in file order, the cases come out in line order, and counts and verdict do not change. */
static void test_block_order_threads(void **state)
{
    (void)state;
    size_t n = 30000;
    struct fixture fx;
    fixture_init(&fx, n);
    fx.tc.spec.max_bad_rows = 1000;
    size_t nvalid = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 97 == 5) {
            fx.kind[i] = RK_BAD_V;
        } else if (i % 211 == 7) {
            fx.kind[i] = RK_NULL_V;
        } else if (i % 1009 == 3) {
            fx.kind[i] = RK_DUP_ID;
        } else if (i % 1777 == 11) {
            fx.kind[i] = RK_MULTI;
        }
        nvalid += fx.kind[i] == RK_OK || fx.kind[i] == RK_MULTI;
    }
    size_t ninvalid = n - nvalid;
    fixture_write_rows(&fx, "id,v,note");
    struct tfail *want = calloc(2 * n, sizeof(*want));
    assert_non_null(want);
    size_t nwant = expected_cases(&fx, want);
    assert_int_equal(nwant, ninvalid);
    assert_true(ninvalid > 300 && ninvalid < 1000);
    for (int threads = 1; threads <= 7; threads++) {
        struct outcome out;
        run_engine(&fx, threads, false, 0, &out);
        assert_int_equal(out.rc, 0);
        assert_true(out.res.ok);
        assert_false(out.res.stopped);
        assert_int_equal(out.res.size, fx.size);
        assert_int_equal(out.res.rows_read, n);
        assert_int_equal(out.res.rows_valid, nvalid);
        assert_int_equal(out.res.rows_invalid, ninvalid);
        assert_int_equal(out.res.failures, ninvalid);
        assert_int_equal(out.res.allowed_bad_rows, 1000);
        assert_cases_equal(&out.fails, want, nwant);
        assert_int_equal(out.sink.n, nvalid);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (fx.kind[i] == RK_OK || fx.kind[i] == RK_MULTI) {
                assert_int_equal(out.sink.lines[k], fx.line[i]);
                assert_int_equal(out.sink.ids[k], (int64_t)i);
                k++;
            }
        }
        assert_true(out.sink.committed);
        assert_true(out.progress_ordered);
        assert_true(out.progress_done);
        assert_int_equal(out.progress_calls, 10); /* 9 blocks, then done */
        assert_int_equal(out.progress_rows, n);
        outcome_release(&out);
    }
    free(want);
    fixture_free(&fx);
}

/* fail_fast stops at the first failing row (in the third block): its two cases only, nothing
 * after it counted or written, on 1 and 4 threads alike. */
static void test_fail_fast(void **state)
{
    (void)state;
    size_t n = 30000;
    size_t stop = 10000;
    struct fixture fx;
    fixture_init(&fx, n);
    fx.kind[stop] = RK_BAD_BOTH;
    for (size_t i = stop + 1; i < n; i += 50) {
        fx.kind[i] = RK_BAD_V;
    }
    fixture_write_rows(&fx, "id,v,note");
    /* Every failing row's cases, of which fail_fast must report only the first row's two. */
    struct tfail *want = calloc(2 * n, sizeof(*want));
    assert_non_null(want);
    assert_int_equal(expected_cases(&fx, want), 2 + (n - stop - 1 + 49) / 50);
    for (int threads = 1; threads <= 4; threads += 3) {
        struct outcome out;
        run_engine(&fx, threads, true, 0, &out);
        assert_int_equal(out.rc, 0);
        assert_false(out.res.ok);
        assert_true(out.res.stopped);
        assert_int_equal(out.res.rows_read, stop + 1);
        assert_int_equal(out.res.rows_valid, stop);
        assert_int_equal(out.res.rows_invalid, 1);
        assert_int_equal(out.res.failures, 2);
        assert_cases_equal(&out.fails, want, 2);
        /* The output is no longer written once the file has failed: the three blocks before
         * the failing one (511, 4096 and 4096 data rows) reached it, and the caller aborted
         * it. */
        assert_true(out.sink.aborted);
        assert_int_equal(out.sink.writes, 3);
        assert_int_equal(out.sink.n, 511 + 2 * 4096);
        for (size_t k = 0; k < out.sink.n; k++) {
            assert_int_equal(out.sink.lines[k], fx.line[k]);
        }
        outcome_release(&out);
    }
    free(want);
    fixture_free(&fx);
}

/* The bad-row thresholds on both sides of the boundary: 10 bad rows of 1000. */
static void test_thresholds(void **state)
{
    (void)state;
    static const struct {
        int64_t max_rows;
        double fraction;
        bool ok;
        uint64_t allowed;
    } cases[] = {
        {10, -1, true, 10},     {9, -1, false, 9},       {-1, 0.01, true, 10},
        {-1, 0.0099, false, 9}, {100, 0.0099, false, 9}, {10, 0.5, true, 10},
        {9, 0.5, false, 9},     {-1, -1, false, 0},      {0, -1, false, 0},
    };
    size_t n = 1000;
    struct fixture fx;
    fixture_init(&fx, n);
    for (size_t i = 50; i < n; i += 100) {
        fx.kind[i] = RK_BAD_V;
    }
    fixture_write_rows(&fx, "id,v,note");
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        fx.tc.spec.max_bad_rows = cases[c].max_rows;
        fx.tc.spec.max_bad_row_fraction = cases[c].fraction;
        struct outcome out;
        run_engine(&fx, 2, false, 0, &out);
        assert_int_equal(out.rc, 0);
        assert_int_equal(out.res.ok, cases[c].ok);
        assert_int_equal(out.res.allowed_bad_rows, cases[c].allowed);
        assert_int_equal(out.res.rows_read, n);
        assert_int_equal(out.res.rows_invalid, 10);
        assert_int_equal(out.fails.n, 10);
        if (cases[c].ok) {
            assert_true(out.sink.committed);
            assert_int_equal(out.sink.n, n - 10);
            assert_int_equal(out.res.reason[0], '\0');
        } else {
            /* A tolerant spec writes on (the caller aborts); with no tolerance the first
             * failure, in the first block, stops the output before any write. */
            bool tolerant = cases[c].max_rows > 0 || cases[c].fraction > 0;
            assert_true(out.sink.aborted);
            assert_int_equal(out.sink.n, tolerant ? n - 10 : 0);
            assert_int_equal(out.sink.writes, tolerant ? 2 : 0);
            assert_non_null(strstr(out.res.reason, "10 failure case(s) in 10 of 1000 rows"));
        }
        outcome_release(&out);
    }
    fixture_free(&fx);
}

/* A broken record fails the file whatever the threshold: an unterminated quote, and a record over
 * max_record_lines; a multi-line record within the limit stays a valid row. */
static void test_broken_records(void **state)
{
    (void)state;
    size_t n = 1000;
    for (int broken = RK_LONG; broken <= RK_UNTERM; broken++) {
        struct fixture fx;
        fixture_init(&fx, n);
        fx.tc.spec.max_bad_rows = 1000;
        fx.tc.spec.max_bad_row_fraction = 0.5;
        fx.tc.spec.max_record_lines = 3;
        fx.kind[100] = RK_MULTI;
        fx.kind[200] = RK_BAD_V;
        fx.kind[broken == RK_LONG ? 700 : n - 1] = (uint8_t)broken;
        fixture_write_rows(&fx, "id,v,note");
        struct tfail want[2];
        assert_int_equal(expected_cases(&fx, want), 2);
        for (int threads = 1; threads <= 3; threads += 2) {
            struct outcome out;
            run_engine(&fx, threads, false, 0, &out);
            assert_int_equal(out.rc, 0);
            assert_false(out.res.ok);
            assert_int_equal(out.res.allowed_bad_rows, 500);
            assert_int_equal(out.res.rows_read, n);
            assert_int_equal(out.res.rows_invalid, 2);
            assert_int_equal(out.res.rows_valid, n - 2);
            assert_int_equal(out.res.failures, 2);
            assert_cases_equal(&out.fails, want, 2);
            assert_non_null(strstr(out.res.reason, "the file fails whatever its bad-row"));
            /* The broken record is in the second block: only the first (511 rows, one bad)
             * was written. */
            assert_true(out.sink.aborted);
            assert_int_equal(out.sink.writes, 1);
            assert_int_equal(out.sink.n, 510);
            outcome_release(&out);
        }
        fixture_free(&fx);
    }
}

/* A sink failing at its k-th write: ingest_file_run returns its code, no later write happens, and
 * the caller's abort leaves nothing behind (ASan checks the rest). */
static void test_failing_sink(void **state)
{
    (void)state;
    struct fixture fx;
    fixture_init(&fx, 30000);
    fixture_write_rows(&fx, "id,v,note");
    /* Rows written before write k: the first block holds 511 data rows, the others 4096. */
    static const size_t before[] = {0, 0, 511, 511 + 4096, 511 + 2 * 4096, 511 + 3 * 4096};
    for (size_t k = 1; k <= 5; k += 2) {
        for (int threads = 1; threads <= 4; threads += 3) {
            struct outcome out;
            run_engine(&fx, threads, false, k, &out);
            assert_int_equal(out.rc, AE_DB);
            assert_int_equal(out.e.code, AE_DB);
            assert_non_null(strstr(out.e.msg, "test sink: write"));
            assert_int_equal(out.sink.writes, k);
            assert_int_equal(out.sink.n, before[k]);
            assert_true(out.sink.aborted);
            assert_false(out.sink.committed);
            outcome_release(&out);
        }
    }
    fixture_free(&fx);
}

/* A reader error at data row 100 (the first block) and at data row 20000 (the third): AE_IO is
 * the environment's, returned; AE_FORMAT is bad data: the file fails with a record_length case at
 * the reader's position, the rows before it counted. */
static void test_reader_errors(void **state)
{
    (void)state;
    struct fixture fx;
    fixture_init(&fx, 30000);
    fx.tc.spec.max_bad_rows = 10;
    fixture_write_rows(&fx, "id,v,note");
    static const size_t at[] = {100, 20000};
    for (size_t a = 0; a < 2; a++) {
        for (int threads = 1; threads <= 4; threads += 3) {
            struct outcome out;
            fx.tc.plan.fail_at = at[a] + 1; /* the header is record 0 */
            fx.tc.plan.fail_code = AE_IO;
            run_engine(&fx, threads, false, 0, &out);
            assert_int_equal(out.rc, AE_IO);
            assert_int_equal(out.e.code, AE_IO);
            assert_true(out.sink.aborted);
            outcome_release(&out);

            fx.tc.plan.fail_code = AE_FORMAT;
            run_engine(&fx, threads, false, 0, &out);
            assert_failed_with(&out, fx.line[at[a]], "", "record_length");
            assert_int_equal(out.res.rows_read, at[a]);
            assert_int_equal(out.res.rows_valid, at[a]);
            assert_int_equal(out.res.rows_invalid, 0);
            assert_non_null(strstr(out.res.reason, "test reader: record"));
            assert_int_equal(out.sink.n, at[a]);
            assert_true(out.sink.aborted);
            outcome_release(&out);
        }
    }
    /* The header itself refused: the file fails before any row; AE_IO there fails the open. */
    fx.tc.plan.fail_at = 0;
    fx.tc.plan.fail_code = AE_FORMAT;
    struct outcome out;
    run_engine(&fx, 2, false, 0, &out);
    assert_false(out.can_pass);
    assert_failed_with(&out, 1, "", "record_length");
    assert_int_equal(out.res.rows_read, 0);
    assert_int_equal(out.sink.writes, 0);
    outcome_release(&out);

    fx.tc.plan.fail_code = AE_IO;
    struct tfails none = {NULL, 0, 0};
    struct ingest_file_opts o;
    engine_opts(&o, &fx, &none);
    struct ingest_file *f = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(ingest_file_open(&f, &o, &e), AE_IO);
    assert_null(f);
    assert_int_equal(none.n, 0);
    fixture_free(&fx);
}

/* A header without the required column v: the file cannot pass, the header case comes first, and
 * nothing reaches the sink. */
static void test_header_missing_column(void **state)
{
    (void)state;
    struct fixture fx;
    fixture_init(&fx, 0);
    fx.tc.spec.max_bad_rows = 1000;
    fixture_write_text(&fx, "id,note\n1,a\n2,b\n3,c\n");
    struct outcome out;
    run_engine(&fx, 1, false, 0, &out);
    assert_false(out.can_pass);
    assert_failed_with(&out, 1, "v", "column_in_dataframe");
    assert_int_equal(out.res.rows_read, 3);
    assert_string_equal(out.res.reason, "the header does not match the schema");
    assert_int_equal(out.sink.writes, 0);
    assert_true(out.sink.aborted);
    outcome_release(&out);
    fixture_free(&fx);
}

/* An empty file where a header is expected fails with one header case. */
static void test_empty_file(void **state)
{
    (void)state;
    struct fixture fx;
    fixture_init(&fx, 0);
    fixture_write_text(&fx, "");
    struct outcome out;
    run_engine(&fx, 3, false, 0, &out);
    assert_false(out.can_pass);
    assert_failed_with(&out, 1, "", "header");
    assert_int_equal(out.res.size, 0);
    assert_string_equal(out.res.sha256,
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(out.res.rows_read, 0);
    assert_int_equal(out.sink.writes, 0);
    outcome_release(&out);
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_file_passes), cmocka_unit_test(test_block_order_threads),
        cmocka_unit_test(test_fail_fast),         cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_broken_records),    cmocka_unit_test(test_failing_sink),
        cmocka_unit_test(test_reader_errors),     cmocka_unit_test(test_header_missing_column),
        cmocka_unit_test(test_empty_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
