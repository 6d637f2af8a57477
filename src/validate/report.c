/*
 * report.c - the report failure sink: counts per (column, check, level), the first examples of
 * each, and every case as one JSON object per line.
 *
 * JSONL line format (keys in this order; strings escaped by buf_json_str, so the line is valid
 * JSON whatever bytes the value holds; line 0, and a NULL column/value/raw, are written as null):
 *   {"file":"a.csv","line":12,"column":"n","check":"coerce_dtype('int64')","value":"12x",
 *    "message":"'12x' is not a valid int64","hint":null,"raw":"1,12x","level":"error"}
 * A case from a JSON reader (failure.has_offset) also has, after "line", "offset" (the record's
 * byte offset in the file's text) and, for an element of a JSON array, "record" (its 0-based
 * index in the array):
 *   {"file":"a.json","line":9,"offset":131,"record":2,"column":"n",...}
 * A case of a worksheet's value (xlsx) also has "cell":"C17" after "column" (line is then the
 * sheet's row); the summary's examples name the cell instead of the line.
 * With max_failure_cases (report_set_max_cases) only the first N cases are stored (files,
 * examples); counts stay exact. Memory: one entry per distinct (column, check, level), each with at
 * most REPORT_EXAMPLES examples of at most REPORT_EXAMPLE_BYTES bytes of value plus the case's
 * message and hint (sentences of bounded length: the validator builds them in fixed buffers),
 * whatever the number of cases.
 */
#include "validate/validate.h"
#include "validate/vparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_EXAMPLES 5
#define REPORT_EXAMPLE_BYTES 200

struct rep_example {
    uint64_t line;
    char cell[16]; /* the case's cell (xlsx), or empty */
    char *value; /* owned, NULL when the case had no value */
    size_t vlen;
    char *message; /* owned, NULL when the case had none */
    char *hint;    /* owned, NULL when none */
    bool has_offset; /* the case came from a JSON reader: offset and raw are kept */
    bool in_array;
    uint64_t offset;
    uint64_t row;
    char *raw; /* owned, at most REPORT_EXAMPLE_BYTES bytes; NULL unless has_offset */
    size_t rlen;
};

struct rep_entry {
    char *column; /* owned, NULL for row- or frame-level cases */
    char *check;  /* owned */
    bool warning;
    uint64_t count;
    size_t nex;
    struct rep_example ex[REPORT_EXAMPLES];
};

struct report {
    FILE *jsonl; /* borrowed, may be NULL */
    char *file;  /* owned */
    struct rep_entry *ents;
    size_t nents, capents;
    size_t *slots; /* open addressing: entry index + 1, 0 = empty */
    size_t nslots; /* power of two */
    uint64_t total;
    uint64_t warnings;
    struct buf line;
    FILE *csv;          /* borrowed, may be NULL: Pandera failure_cases layout */
    bool positions;     /* the CSV has the columns line, offset and raw (report_set_positions) */
    const char *jsonl_path; /* borrowed, may be NULL: for messages (report_set_paths) */
    const char *csv_path;
    uint64_t max_cases; /* 0 = unlimited */
    uint64_t stored;    /* cases kept in the detail (files and examples) */
    bool capped;
};

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; s != NULL && *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    }
    return (h ^ 0xff) * UINT64_C(0x100000001b3);
}

static uint64_t key_hash(const char *column, const char *check, bool warning)
{
    uint64_t h = fnv(column, UINT64_C(0xcbf29ce484222325) ^ (column == NULL));
    h = fnv(check, h);
    return h ^ (uint64_t)warning;
}

static bool same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

int report_new(struct report **out, FILE *jsonl, const char *file_name, struct err *e)
{
    *out = NULL;
    struct report *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    r->jsonl = jsonl;
    r->file = strdup(file_name ? file_name : "");
    r->nslots = 64;
    r->slots = calloc(r->nslots, sizeof(*r->slots));
    buf_init(&r->line, 0);
    if (r->file == NULL || r->slots == NULL) {
        report_free(r);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    *out = r;
    return 0;
}

static int rehash(struct report *r)
{
    size_t ns = r->nslots * 2;
    size_t *nsl = calloc(ns, sizeof(*nsl));
    if (nsl == NULL) {
        return AE_NOMEM;
    }
    for (size_t k = 0; k < r->nents; k++) {
        const struct rep_entry *en = &r->ents[k];
        size_t j = (size_t)key_hash(en->column, en->check, en->warning) & (ns - 1);
        while (nsl[j] != 0) {
            j = (j + 1) & (ns - 1);
        }
        nsl[j] = k + 1;
    }
    free(r->slots);
    r->slots = nsl;
    r->nslots = ns;
    return 0;
}

/* The entry for (column, check, warning), created when new; NULL on allocation failure. */
static struct rep_entry *entry_for(struct report *r, const struct failure *f)
{
    size_t j = (size_t)key_hash(f->column, f->check, f->warning) & (r->nslots - 1);
    while (r->slots[j] != 0) {
        struct rep_entry *en = &r->ents[r->slots[j] - 1];
        if (en->warning == f->warning && same(en->column, f->column) && same(en->check, f->check)) {
            return en;
        }
        j = (j + 1) & (r->nslots - 1);
    }
    if ((r->nents + 1) * 2 > r->nslots) {
        if (rehash(r) != 0) {
            return NULL;
        }
        j = (size_t)key_hash(f->column, f->check, f->warning) & (r->nslots - 1);
        while (r->slots[j] != 0) {
            j = (j + 1) & (r->nslots - 1);
        }
    }
    if (r->nents == r->capents) {
        size_t nc = r->capents ? r->capents * 2 : 16;
        struct rep_entry *ne = realloc(r->ents, nc * sizeof(*ne));
        if (ne == NULL) {
            return NULL;
        }
        r->ents = ne;
        r->capents = nc;
    }
    struct rep_entry *en = &r->ents[r->nents];
    memset(en, 0, sizeof(*en));
    en->column = f->column ? strdup(f->column) : NULL;
    en->check = strdup(f->check ? f->check : "");
    en->warning = f->warning;
    if ((f->column != NULL && en->column == NULL) || en->check == NULL) {
        free(en->column);
        free(en->check);
        return NULL;
    }
    r->slots[j] = ++r->nents;
    return en;
}

static int put_json_or_null(struct buf *b, const char *key, const char *s, size_t n)
{
    if (buf_puts(b, key) != 0) {
        return AE_NOMEM;
    }
    if (s == NULL) {
        return buf_puts(b, "null");
    }
    return buf_json_str(b, s, n);
}

static int write_jsonl(struct report *r, const struct failure *f, struct err *e)
{
    struct buf *b = &r->line;
    buf_reset(b);
    int rc = buf_puts(b, "{\"file\":");
    rc = rc ? rc : buf_json_str(b, r->file, strlen(r->file));
    if (rc == 0) {
        rc = f->line ? buf_printf(b, ",\"line\":%llu", (unsigned long long)f->line)
                     : buf_puts(b, ",\"line\":null");
    }
    if (rc == 0 && f->has_offset) {
        rc = buf_printf(b, ",\"offset\":%llu", (unsigned long long)f->offset);
    }
    if (rc == 0 && f->has_offset && f->in_array && f->row > 0) {
        rc = buf_printf(b, ",\"record\":%llu", (unsigned long long)(f->row - 1));
    }
    rc =
        rc ? rc : put_json_or_null(b, ",\"column\":", f->column, f->column ? strlen(f->column) : 0);
    if (rc == 0 && f->cell != NULL) {
        rc = buf_printf(b, ",\"cell\":\"%s\"", f->cell);
    }
    rc = rc ? rc : put_json_or_null(b, ",\"check\":", f->check, f->check ? strlen(f->check) : 0);
    rc = rc ? rc : put_json_or_null(b, ",\"value\":", f->value, f->value_len);
    rc = rc ? rc
            : put_json_or_null(b, ",\"message\":", f->message, f->message ? strlen(f->message) : 0);
    rc = rc ? rc : put_json_or_null(b, ",\"hint\":", f->hint, f->hint ? strlen(f->hint) : 0);
    rc = rc ? rc : put_json_or_null(b, ",\"raw\":", f->raw, f->raw_len);
    rc =
        rc ? rc : buf_puts(b, f->warning ? ",\"level\":\"warning\"}\n" : ",\"level\":\"error\"}\n");
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    if (fwrite(b->data, 1, b->len, r->jsonl) != b->len) {
        return err_errno(e, errno, "cannot write the failure cases of %s to %s", r->file,
                         r->jsonl_path ? r->jsonl_path : "its report");
    }
    return 0;
}

/* Appends s (n bytes) as one CSV field, quoted when it holds a delimiter, quote, CR or LF or
 * starts or ends with a space (RFC 4180 section 2, rules 5-7). */
static int record_field(struct buf *b, const char *s, size_t n)
{
    bool q = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !q; i++) {
        q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    }
    if (!q) {
        return buf_append(b, s, n);
    }
    if (buf_putc(b, '"') != 0) {
        return AE_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '"' && buf_putc(b, '"') != 0) || buf_putc(b, s[i]) != 0) {
            return AE_NOMEM;
        }
    }
    return buf_putc(b, '"');
}

/* Cases about the whole frame rather than a value of one column (Pandera reports them with the
 * DataFrameSchema as context). */
static bool frame_context(const struct failure *f)
{
    static const char *const frame_checks[] = {"multiple_fields_uniqueness",
                                               "column_in_dataframe",
                                               "column_in_schema",
                                               "dataframe_column_labels_unique",
                                               "column_ordered",
                                               "field_count",
                                               "unterminated_quote",
                                               "header",
                                               "file_unchanged",
                                               NULL};
    if (f->column == NULL ||
        (f->check != NULL && strncmp(f->check, "no_regex_column_match(", 22) == 0)) {
        return true;
    }
    for (size_t k = 0; frame_checks[k] != NULL; k++) {
        if (f->check != NULL && strcmp(f->check, frame_checks[k]) == 0) {
            return true;
        }
    }
    return false;
}

static int write_csv(struct report *r, const struct failure *f, struct err *e)
{
    struct buf *b = &r->line;
    buf_reset(b);
    int rc = buf_puts(b, frame_context(f) ? "DataFrameSchema," : "Column,");
    if (rc == 0 && f->column != NULL) {
        rc = record_field(b, f->column, strlen(f->column));
    }
    rc = rc ? rc : buf_putc(b, ',');
    rc = rc ? rc : record_field(b, f->check ? f->check : "", f->check ? strlen(f->check) : 0);
    rc = rc ? rc : buf_putc(b, ',');
    if (rc == 0 && f->check_number > 0) {
        rc = buf_printf(b, "%u", (unsigned)(f->check_number - 1));
    }
    rc = rc ? rc : buf_putc(b, ',');
    if (rc == 0 && f->value != NULL) {
        rc = record_field(b, f->value, f->value_len);
    }
    rc = rc ? rc : buf_putc(b, ',');
    if (rc == 0 && f->row > 0) {
        rc = buf_printf(b, "%llu", (unsigned long long)(f->row - 1));
    }
    rc = rc ? rc : buf_putc(b, ',');
    if (rc == 0 && f->message != NULL) {
        rc = record_field(b, f->message, strlen(f->message));
    }
    rc = rc ? rc : buf_putc(b, ',');
    if (rc == 0 && f->hint != NULL) {
        rc = record_field(b, f->hint, strlen(f->hint));
    }
    if (r->positions) {
        rc = rc ? rc : buf_putc(b, ',');
        if (rc == 0 && f->line > 0) {
            rc = buf_printf(b, "%llu", (unsigned long long)f->line);
        }
        rc = rc ? rc : buf_putc(b, ',');
        if (rc == 0 && f->has_offset) {
            rc = buf_printf(b, "%llu", (unsigned long long)f->offset);
        }
        rc = rc ? rc : buf_putc(b, ',');
        if (rc == 0 && f->raw != NULL) {
            rc = record_field(b, f->raw, f->raw_len);
        }
    }
    rc = rc ? rc : buf_putc(b, '\n');
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    if (fwrite(b->data, 1, b->len, r->csv) != b->len) {
        return err_errno(e, errno, "cannot write the failure cases of %s to %s", r->file,
                         r->csv_path ? r->csv_path : "its CSV file");
    }
    return 0;
}

/* A NUL-terminated copy of at most REPORT_EXAMPLE_BYTES bytes of s[0..n) into *out (owned by
 * the caller), or AE_NOMEM. */
static int example_text(const char *s, size_t n, char **out)
{
    size_t k = n < REPORT_EXAMPLE_BYTES ? n : REPORT_EXAMPLE_BYTES;
    *out = malloc(k + 1);
    if (*out == NULL) {
        return AE_NOMEM;
    }
    memcpy(*out, s, k);
    (*out)[k] = '\0';
    return 0;
}

static int report_emit(void *ctx, const struct failure *f, struct err *e)
{
    struct report *r = ctx;
    struct rep_entry *en = entry_for(r, f);
    if (en == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    en->count++;
    r->total++;
    r->warnings += f->warning;
    if (r->max_cases > 0 && r->stored >= r->max_cases) {
        r->capped = true;
        return 0;
    }
    r->stored++;
    if (en->nex < REPORT_EXAMPLES) {
        struct rep_example *ex = &en->ex[en->nex];
        ex->line = f->line;
        snprintf(ex->cell, sizeof(ex->cell), "%s", f->cell != NULL ? f->cell : "");
        ex->value = NULL;
        ex->vlen = 0;
        ex->has_offset = f->has_offset;
        ex->in_array = f->in_array;
        ex->offset = f->offset;
        ex->row = f->row;
        ex->raw = NULL;
        ex->rlen = 0;
        if ((f->has_offset && f->raw != NULL && example_text(f->raw, f->raw_len, &ex->raw) != 0) ||
            (f->value != NULL && example_text(f->value, f->value_len, &ex->value) != 0)) {
            free(ex->raw);
            ex->raw = NULL;
            return err_set(e, AE_NOMEM, "out of memory");
        }
        ex->message = f->message ? strdup(f->message) : NULL;
        ex->hint = f->hint ? strdup(f->hint) : NULL;
        /* The full lengths: the summary marks a cut. */
        ex->rlen = ex->raw != NULL ? f->raw_len : 0;
        ex->vlen = ex->value != NULL ? f->value_len : 0;
        en->nex++;
        if ((f->message != NULL && ex->message == NULL) || (f->hint != NULL && ex->hint == NULL)) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    if (r->jsonl != NULL) {
        int rc = write_jsonl(r, f, e);
        if (rc != 0) {
            return rc;
        }
    }
    if (r->csv != NULL) {
        return write_csv(r, f, e);
    }
    return 0;
}

void report_set_paths(struct report *r, const char *jsonl_path, const char *csv_path)
{
    r->jsonl_path = jsonl_path;
    r->csv_path = csv_path;
}

void report_set_max_cases(struct report *r, uint64_t max)
{
    r->max_cases = max;
}

bool report_capped(const struct report *r)
{
    return r->capped;
}

uint64_t report_max_cases(const struct report *r)
{
    return r->max_cases;
}

void report_set_positions(struct report *r)
{
    r->positions = true;
}

int report_set_failure_cases_csv(struct report *r, FILE *csv, struct err *e)
{
    const char *header =
        r->positions ? "schema_context,column,check,check_number,failure_case,index,message,hint,"
                       "line,offset,raw\n"
                     : "schema_context,column,check,check_number,failure_case,index,message,hint\n";
    r->csv = csv;
    if (csv != NULL && fputs(header, csv) == EOF) {
        return err_errno(e, errno, "cannot write the failure cases CSV of %s", r->file);
    }
    return 0;
}

size_t report_ngroups(const struct report *r)
{
    return r->nents;
}

void report_get_group(const struct report *r, size_t i, struct report_group *g)
{
    const struct rep_entry *en = &r->ents[i];
    g->column = en->column;
    g->check = en->check;
    g->warning = en->warning;
    g->count = en->count;
    g->nexamples = en->nex;
}

void report_get_example(const struct report *r, size_t i, size_t k, struct report_example *x)
{
    const struct rep_example *ex = &r->ents[i].ex[k];
    x->line = ex->line;
    x->value = ex->value;
    x->full_len = ex->vlen;
    x->len = ex->vlen < REPORT_EXAMPLE_BYTES ? ex->vlen : REPORT_EXAMPLE_BYTES;
    x->has_offset = ex->has_offset;
    x->offset = ex->offset;
    x->has_record = ex->has_offset && ex->in_array && ex->row > 0;
    x->record = x->has_record ? ex->row - 1 : 0;
    x->raw = ex->raw;
    x->raw_full_len = ex->rlen;
    x->raw_len = ex->rlen < REPORT_EXAMPLE_BYTES ? ex->rlen : REPORT_EXAMPLE_BYTES;
    x->message = ex->message;
    x->hint = ex->hint;
    x->cell = ex->cell[0] != '\0' ? ex->cell : NULL;
}

int report_example_where(const struct report_example *x, char *out, size_t n)
{
    if (x->cell != NULL) {
        return snprintf(out, n, "cell %s", x->cell);
    }
    if (x->line == 0) {
        return snprintf(out, n, "whole file");
    }
    if (x->has_record) {
        return snprintf(out, n, "line %llu (record %llu, byte %llu)", (unsigned long long)x->line,
                        (unsigned long long)x->record, (unsigned long long)x->offset);
    }
    if (x->has_offset) {
        return snprintf(out, n, "line %llu (byte %llu)", (unsigned long long)x->line,
                        (unsigned long long)x->offset);
    }
    return snprintf(out, n, "line %llu", (unsigned long long)x->line);
}

struct failure_sink report_sink(struct report *r)
{
    struct failure_sink fs = {report_emit, r};
    return fs;
}

uint64_t report_total(const struct report *r)
{
    return r->total;
}

uint64_t report_warnings(const struct report *r)
{
    return r->warnings;
}

/* The longest message an example line shows (the JSONL file has every message whole). */
#define REPORT_MESSAGE_SHOWN 400

/* One example line of the summary: where, then the message that explains the case (which
 * names the value when it opens with it, as the validator's messages do), else the value and
 * the message, then the hint. */
static int print_example(FILE *out, const struct report_example *ex)
{
    char where[96];
    report_example_where(ex, where, sizeof(where));
    char q[REPORT_EXAMPLE_BYTES + 16] = "";
    char mq[REPORT_EXAMPLE_BYTES + 16] = "";
    if (ex->value != NULL) {
        vp_quote(q, sizeof(q), ex->value, ex->full_len, ex->full_len < 80 ? ex->full_len : 80);
        /* The validator quotes values in its messages at 120 bytes (vp_quote). */
        vp_quote(mq, sizeof(mq), ex->value, ex->full_len, 120);
    }
    const char *msg = ex->message;
    bool names_value = msg != NULL && ex->value != NULL && strncmp(msg, mq, strlen(mq)) == 0;
    struct buf b = BUF_INIT;
    int rc = buf_printf(&b, "    %s", where);
    if (rc == 0 && ex->value != NULL && !names_value) {
        rc = buf_printf(&b, ": %s", q);
    }
    if (rc == 0 && msg != NULL && msg[0] != '\0') {
        size_t mlen = strlen(msg);
        size_t take = mlen < REPORT_MESSAGE_SHOWN ? mlen : REPORT_MESSAGE_SHOWN;
        while (take > 0 && take < mlen && ((unsigned char)msg[take] & 0xC0) == 0x80) {
            take--;
        }
        rc = buf_puts(&b, ": ");
        rc = rc ? rc : buf_put_escaped(&b, msg, take, true, false);
        rc = rc ? rc : buf_puts(&b, take < mlen ? "..." : "");
    }
    if (rc == 0 && ex->hint != NULL) {
        rc = buf_puts(&b, "; hint: ");
        rc = rc ? rc : buf_put_escaped(&b, ex->hint, strlen(ex->hint), true, false);
    }
    rc = rc ? rc : buf_putc(&b, '\n');
    /* A JSON record's text, so the case can be found in a file without line breaks. */
    if (rc == 0 && ex->raw != NULL) {
        char rq[REPORT_EXAMPLE_BYTES + 16];
        vp_quote(rq, sizeof(rq), ex->raw, ex->raw_full_len,
                 ex->raw_full_len < 120 ? ex->raw_full_len : 120);
        rc = buf_printf(&b, "      record: %s\n", rq);
    }
    if (rc != 0) {
        buf_release(&b);
        return AE_NOMEM;
    }
    rc = fwrite(b.data, 1, b.len, out) == b.len ? 0 : AE_IO;
    buf_release(&b);
    return rc;
}

int report_print_summary(const struct report *r, FILE *out, size_t max_examples)
{
    if (max_examples > REPORT_EXAMPLES) {
        max_examples = REPORT_EXAMPLES;
    }
    int wcol = (int)strlen("column");
    int wchk = (int)strlen("check");
    int rc = 0;
    char **cols = calloc(r->nents ? r->nents : 1, sizeof(*cols));
    if (cols == NULL) {
        return AE_NOMEM;
    }
    for (size_t k = 0; k < r->nents; k++) {
        const struct rep_entry *en = &r->ents[k];
        /* A header name comes from the file: shown as a name (quoted when it holds a space or
         * odd characters, escaped), it cannot break the table's lines or blur its columns. */
        cols[k] = buf_name_str(en->column ? en->column : "-");
        if (cols[k] == NULL) {
            rc = AE_NOMEM;
            goto out;
        }
        int lc = (int)strlen(cols[k]);
        int lk = (int)strlen(en->check) + (en->warning ? 10 : 0);
        wcol = lc > wcol ? (lc < 40 ? lc : 40) : wcol;
        wchk = lk > wchk ? (lk < 60 ? lk : 60) : wchk;
    }
    if (r->nents > 0 &&
        fprintf(out, "%-*s  %-*s  %s\n", wcol, "column", wchk, "check", "count") < 0) {
        rc = AE_IO;
    }
    for (size_t k = 0; k < r->nents && rc == 0; k++) {
        const struct rep_entry *en = &r->ents[k];
        char chk[512];
        snprintf(chk, sizeof(chk), "%s%s", en->check, en->warning ? " [warning]" : "");
        if (fprintf(out, "%-*s  %-*s  %llu\n", wcol, cols[k], wchk, chk,
                    (unsigned long long)en->count) < 0) {
            rc = AE_IO;
        }
        for (size_t x = 0; x < en->nex && x < max_examples && rc == 0; x++) {
            struct report_example rx;
            report_get_example(r, k, x, &rx);
            rc = print_example(out, &rx);
        }
    }
    if (rc == 0 && r->capped &&
        fprintf(out,
                "(detail capped at %llu failure cases by max_failure_cases: the counts above are "
                "exact; examples and stored cases are the first %llu)\n",
                (unsigned long long)r->max_cases, (unsigned long long)r->max_cases) < 0) {
        rc = AE_IO;
    }
out:
    for (size_t k = 0; k < r->nents; k++) {
        free(cols[k]);
    }
    free(cols);
    return rc;
}

void report_free(struct report *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t k = 0; k < r->nents; k++) {
        free(r->ents[k].column);
        free(r->ents[k].check);
        for (size_t x = 0; x < r->ents[k].nex; x++) {
            free(r->ents[k].ex[x].value);
            free(r->ents[k].ex[x].message);
            free(r->ents[k].ex[x].hint);
            free(r->ents[k].ex[x].raw);
        }
    }
    free(r->ents);
    free(r->slots);
    free(r->file);
    buf_release(&r->line);
    free(r);
}
