/*
 * validate.c - the validator: schema compilation, batches of raw records to typed batches, and the
 * failure cases (semantics documented in validate.h).
 *
 * A block of records is processed in four passes: row-level problems (unterminated quote, field
 * count), then column by column (nulls, dtype parsing, checks: one dtype dispatch per value on a
 * branch the predictor learns, nothing allocated per field), then unique columns and frame-level
 * unique sets in row order, then the emission of the recorded failure cases sorted by (row,
 * recording order) so that a report reads in line order. Messages are built only for failures.
 */
#include "validate/vinternal.h"
#include "validate/hint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vemit(struct validator *v, const struct failure *f, struct err *e)
{
    if (f->warning) {
        v->counts.warnings++;
    } else {
        v->counts.failure_cases++;
    }
    if (v->fs.emit == NULL) {
        return 0;
    }
    int rc = v->fs.emit(v->fs.ctx, f, e);
    if (rc != 0) {
        return err_prefix(e, "could not record a failure case (line %llu, check %s)",
                          (unsigned long long)f->line, f->check);
    }
    return 0;
}

/* The physical lines a record's text covers: its quoted line breaks plus one. */
static uint64_t record_span(const char *raw, size_t len)
{
    uint64_t n = 1;
    if (raw != NULL && len > 0 && raw[len - 1] == '\n') {
        len--; /* the file's last line break, inside an unterminated quote: ends a line */
    }
    const char *p = raw;
    const char *end = raw != NULL ? raw + len : NULL;
    while (p != NULL && p < end) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (p != NULL) {
            n++;
            p++;
        }
    }
    return n;
}

/* ---- schema ------------------------------------------------------------------------------ */

static int check_unique_sets(const struct schema *s, struct err *e)
{
    for (size_t u = 0; u < s->nunique; u++) {
        for (char **n = s->unique_sets[u]; n != NULL && *n != NULL; n++) {
            bool found = false;
            for (size_t k = 0; k < s->ncols && !found; k++) {
                found = !s->cols[k].regex && strcmp(s->cols[k].name, *n) == 0;
            }
            if (!found) {
                return verr_at(e, &s->loc, "unique: column '%s' is not declared in the schema", *n);
            }
        }
    }
    return 0;
}

static int schema_check(const struct schema *s, char thousands, char decimal, struct err *e)
{
    for (size_t k = 0; k < s->ncols; k++) {
        const struct column_spec *cs = &s->cols[k];
        for (size_t j = 0; j < k; j++) {
            if (cs->name && s->cols[j].name && strcmp(cs->name, s->cols[j].name) == 0) {
                return verr_at(e, &cs->loc, "column '%s' is declared twice", cs->name);
            }
        }
        struct vcolumn vc;
        int rc = vcol_compile(&vc, cs, (locale_t)0, thousands, decimal, e);
        if (rc != 0) {
            return rc;
        }
        vcol_release(&vc);
    }
    if (s->index != NULL) {
        struct column_spec is = *s->index;
        is.name = is.name != NULL ? is.name : (char *)"index";
        struct vcolumn vc;
        int rc = vcol_compile(&vc, &is, (locale_t)0, 0, 0, e);
        if (rc != 0) {
            return rc;
        }
        vcol_release(&vc);
    }
    if (s->extra != NULL) {
        struct vcolumn vc;
        int rc = vcol_compile(&vc, s->extra, (locale_t)0, thousands, decimal, e);
        if (rc != 0) {
            return rc;
        }
        vcol_release(&vc);
    }
    return check_unique_sets(s, e);
}

int validate_schema_check(const struct schema *s, struct err *e)
{
    return schema_check(s, 0, 0, e);
}

int validate_spec_check(const struct ingest_spec *spec, struct err *e)
{
    return schema_check(&spec->schema, spec->thousands, spec->decimal, e);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

/* True when the keys of output column c are fingerprints (values wider than 8 bytes). */
static bool column_fp(const struct vout *o)
{
    return o->st == DS_BYTES || o->st == DS_I128;
}

static int build_usets(struct validator *v, struct err *e)
{
    const struct schema *s = &v->spec->schema;
    v->usets = calloc(s->nunique ? s->nunique : 1, sizeof(*v->usets));
    if (v->usets == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t u = 0; u < s->nunique; u++) {
        size_t cnt = 0;
        while (s->unique_sets[u][cnt] != NULL) {
            cnt++;
        }
        struct vuset *us = &v->usets[v->nusets];
        us->cols = calloc(cnt ? cnt : 1, sizeof(*us->cols));
        struct buf label = BUF_INIT;
        if (us->cols == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        bool all = cnt > 0;
        for (size_t k = 0; k < cnt && all; k++) {
            size_t c = 0;
            while (c < v->nout && strcmp(v->outs[c].name, s->unique_sets[u][k]) != 0) {
                c++;
            }
            /* A set naming a column absent from the file (optional, or already reported as
             * missing) cannot be checked. */
            all = c < v->nout;
            us->cols[k] = c;
            if (all && ((k > 0 && buf_puts(&label, ", ") != 0) ||
                        buf_puts(&label, s->unique_sets[u][k]) != 0)) {
                buf_release(&label);
                return err_set(e, AE_NOMEM, "out of memory");
            }
        }
        if (!all) {
            buf_release(&label);
            free(us->cols);
            us->cols = NULL;
            continue;
        }
        us->ncols = cnt;
        us->label = buf_detach(&label, NULL);
        if (us->label == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        v->nusets++;
    }
    return 0;
}

/* validator_new, with the reader's flags of each header name (NULL: none). */
static int vnew(struct validator **out, const struct ingest_spec *spec, const char *const *header,
                const uint8_t *flags, size_t nheader, uint64_t header_line,
                const struct failure_sink *fs, struct err *e)
{
    *out = NULL;
    const struct schema *s = &spec->schema;
    int rc = 0;
    struct validator *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    v->spec = spec;
    if (fs != NULL) {
        v->fs = *fs;
    }
    v->nheader = nheader;
    v->header_line = header_line;
    v->header = calloc(nheader ? nheader : 1, sizeof(*v->header));
    if (v->header == NULL) {
        free(v);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nheader; i++) {
        v->header[i] = strdup(header[i]);
        if (v->header[i] == NULL) {
            validator_free(v);
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    if (flags != NULL) {
        v->header_flags = malloc(nheader ? nheader : 1);
        if (v->header_flags == NULL) {
            validator_free(v);
            return err_set(e, AE_NOMEM, "out of memory");
        }
        memcpy(v->header_flags, flags, nheader);
    }
    buf_init(&v->scratch, 0);
    /* Unless the schema says otherwise, the first occurrence of a key is kept: it needs no
     * pre-pass, and under a bad-row threshold one row per key survives. */
    v->dup_mode = VDUP_EXCLUDE_FIRST;
    if (spec->schema.report_duplicates_set && spec->schema.report_duplicates != NULL) {
        if (strcmp(spec->schema.report_duplicates, "all") == 0) {
            v->dup_mode = VDUP_ALL;
        } else if (strcmp(spec->schema.report_duplicates, "exclude_last") == 0) {
            v->dup_mode = VDUP_EXCLUDE_LAST;
        }
    }
    /* Floats go through strtod_l in the "C" locale so that a process locale with a decimal
     * comma never changes what "1.5" means. */
    v->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    rc = check_unique_sets(s, e);
    if (rc != 0) {
        goto fail;
    }
    v->vcols = calloc(s->ncols ? s->ncols : 1, sizeof(*v->vcols));
    if (v->vcols == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < s->ncols; k++) {
        rc =
            vcol_compile(&v->vcols[k], &s->cols[k], v->c_locale, spec->thousands, spec->decimal, e);
        if (rc != 0) {
            goto fail;
        }
        v->nvcols++;
    }
    if (s->index != NULL) {
        v->ispec = *s->index;
        v->ispec.name = v->ispec.name != NULL ? v->ispec.name : (char *)"index";
        rc = vcol_compile(&v->ivc, &v->ispec, v->c_locale, 0, 0, e);
        if (rc != 0) {
            goto fail;
        }
        v->has_index = true;
    }
    rc = vheader_map(v, header, nheader, e);
    if (rc != 0) {
        goto fail;
    }
    rc = build_usets(v, e);
    if (rc != 0) {
        goto fail;
    }
    for (size_t c = 0; c < v->nout; c++) {
        kset_init(&v->outs[c].uset, column_fp(&v->outs[c]));
        kdups_init(&v->outs[c].dups, column_fp(&v->outs[c]));
    }
    for (size_t u = 0; u < v->nusets; u++) {
        kset_init(&v->usets[u].set, true);
        kdups_init(&v->usets[u].dups, true);
    }
    *out = v;
    return 0;
fail:
    validator_free(v);
    return rc;
}

int validator_new(struct validator **out, const struct ingest_spec *spec, const char *const *header,
                  size_t nheader, uint64_t header_line, const struct failure_sink *fs,
                  struct err *e)
{
    return vnew(out, spec, header, NULL, nheader, header_line, fs, e);
}

int validator_new_named(struct validator **out, const struct ingest_spec *spec,
                        const char *const *header, const uint8_t *flags, size_t nheader,
                        const struct failure_sink *fs, struct err *e)
{
    return vnew(out, spec, header, flags, nheader, 0, fs, e);
}

void validator_used_fields(const struct validator *v, bool *used, size_t n)
{
    memset(used, 0, n * sizeof(*used));
    for (size_t c = 0; c < v->nout; c++) {
        if (v->outs[c].field < n) {
            used[v->outs[c].field] = true;
        }
    }
}

int validator_new_from_record(struct validator **out, const struct ingest_spec *spec,
                              const struct record_block *rows, size_t row,
                              const struct failure_sink *fs, struct err *e)
{
    *out = NULL;
    size_t first = rows->row_first[row];
    size_t n = rows->row_first[row + 1] - first;
    char **names = calloc(n ? n : 1, sizeof(*names));
    uint8_t *flags = malloc(n ? n : 1);
    int rc = names == NULL || flags == NULL ? err_set(e, AE_NOMEM, "out of memory") : 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct record_field *f = &rows->fields[first + i];
        /* A name holding a NUL is cut there, and flagged: vheader_map fails it. */
        names[i] = strndup(f->p, f->len);
        flags[i] = f->flags;
        if (names[i] == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
        }
    }
    if (rc == 0) {
        rc = vnew(out, spec, (const char *const *)names, flags, n, rows->line[row], fs, e);
    }
    for (size_t i = 0; names != NULL && i < n; i++) {
        free(names[i]);
    }
    free(names);
    free(flags);
    return rc;
}

void validator_free(struct validator *v)
{
    if (v == NULL) {
        return;
    }
    for (size_t k = 0; k < v->nvcols; k++) {
        vcol_release(&v->vcols[k]);
    }
    free(v->vcols);
    if (v->has_index) {
        vcol_release(&v->ivc);
    }
    for (size_t k = 0; k < v->nxvcs; k++) {
        vcol_release(&v->xvcs[k]);
    }
    free(v->xvcs);
    if (v->outs != NULL) {
        for (size_t c = 0; c < v->nout; c++) {
            free(v->outs[c].name);
            kset_release(&v->outs[c].uset);
            kdups_release(&v->outs[c].dups);
        }
    }
    free(v->outs);
    if (v->usets != NULL) {
        for (size_t u = 0; u < v->nusets; u++) {
            free(v->usets[u].cols);
            free(v->usets[u].label);
            kset_release(&v->usets[u].set);
            kdups_release(&v->usets[u].dups);
        }
    }
    free(v->usets);
    batch_release(&v->pbatch);
    if (v->header != NULL) {
        for (size_t i = 0; i < v->nheader; i++) {
            free(v->header[i]);
        }
        free(v->header);
    }
    free(v->header_flags);
    free(v->fails);
    free(v->skip);
    vblock_free(v->own_block);
    free(v->keys);
    free(v->kcol);
    free(v->kseqs);
    free(v->gseqs);
    kspill_free(v->spill);
    buf_release(&v->scratch);
    if (v->c_locale != (locale_t)0) {
        freelocale(v->c_locale);
    }
    free(v);
}

bool validator_header_failed(const struct validator *v)
{
    return v->header_failed;
}

size_t validator_out_ncols(const struct validator *v)
{
    return v->nout;
}

const char *validator_out_name(const struct validator *v, size_t i)
{
    return v->outs[i].name;
}

struct dtype_info validator_out_type(const struct validator *v, size_t i)
{
    return v->outs[i].pc.type;
}

bool validator_out_nullable(const struct validator *v, size_t i)
{
    return v->outs[i].nullable;
}

void validator_counts(const struct validator *v, struct validate_counts *out)
{
    *out = v->counts;
}

/* ---- running ----------------------------------------------------------------------------- */

static int rec(struct validator *v, size_t row, uint32_t col, enum vf_kind kind, unsigned status,
               size_t check, uint64_t aux)
{
    if (v->nfails == v->capfails) {
        size_t ncap = v->capfails ? v->capfails * 2 : 256;
        struct vfail *nf = realloc(v->fails, ncap * sizeof(*nf));
        if (nf == NULL) {
            return AE_NOMEM;
        }
        v->fails = nf;
        v->capfails = ncap;
    }
    struct vfail *f = &v->fails[v->nfails];
    f->row = (uint32_t)row;
    f->seq = (uint32_t)v->nfails;
    f->col = col;
    f->check = (uint16_t)check;
    f->kind = (uint8_t)kind;
    f->status = (uint8_t)status;
    f->aux = aux;
    v->nfails++;
    return 0;
}

static bool is_marker(const struct vout *o, const char *p, size_t n)
{
    if (((o->nv_lens >> (n < 63 ? n : 63)) & 1) == 0) {
        return false;
    }
    for (size_t k = 0; k < o->n_nv_spec + o->n_nv_col; k++) {
        const char *m = k < o->n_nv_spec ? o->nv_spec[k] : o->nv_col[k - o->n_nv_spec];
        if (m != NULL && strncmp(m, p, n) == 0 && m[n] == '\0') {
            return true;
        }
    }
    return false;
}

static int put_null(struct batch *out, size_t c, size_t row, enum dtype_storage st)
{
    struct column *col = &out->cols[c];
    switch (st) {
    case DS_BYTES: return batch_put_bytes(out, c, row, NULL, 0, 0);
    case DS_U8: col->v.u8[row] = 0; break;
    case DS_I64: col->v.i64[row] = 0; break;
    case DS_F64: col->v.f64[row] = 0; break;
    case DS_I128: col->v.i128[row] = 0; break;
    }
    col->valid[row] = 0;
    return 0;
}

static int put_value(struct batch *out, size_t c, size_t row, const union vp_val *val,
                     enum dtype_storage st)
{
    struct column *col = &out->cols[c];
    switch (st) {
    case DS_BYTES: return batch_put_bytes(out, c, row, val->s.p, val->s.n, 1);
    case DS_U8: col->v.u8[row] = val->b; break;
    case DS_I64: col->v.i64[row] = val->i; break;
    case DS_F64: col->v.f64[row] = val->f; break;
    case DS_I128: col->v.i128[row] = val->d; break;
    }
    col->valid[row] = 1;
    return 0;
}

static const struct record_field *field_at(const struct record_block *in, size_t i, size_t field)
{
    return &in->fields[in->row_first[i] + field];
}

/* The field of output column o in record i (the stand-in field for a column the file lacks). */
static const struct record_field *out_field(const struct vout *o, const struct record_block *in,
                                            size_t i)
{
    return o->field == VOUT_MISSING ? &o->missing : field_at(in, i, o->field);
}

/* The strict mapping of JSON types to dtypes (validate.h): VJ_OK when the value of f, whose
 * REC_F_JSON_* flag is set, may be parsed as column o's dtype. */
static enum vjson_fit json_fit(const struct validator *v, const struct vout *o,
                               const struct record_field *f)
{
    unsigned t = f->flags & REC_F_JSON_MASK;
    if (t == REC_F_JSON_NULL) {
        return VJ_OK;
    }
    if (t == REC_F_JSON_COMPOSITE) {
        return VJ_COMPOSITE;
    }
    if (t == REC_F_CELL_ERROR) {
        return VJ_CELL_ERROR;
    }
    if (o->vc == NULL) {
        /* A column the schema does not declare, kept by strict: false as str (a Parquet file's
         * column of any type): its values are kept as text. */
        return VJ_OK;
    }
    /* Pandera: the schema's coerce applies to every column. */
    bool coerce = (o->vc != NULL && o->vc->spec->coerce) || v->spec->schema.coerce;
    /* A worksheet's number (records.h) is also its shortest text in a str column and an Excel
     * serial in a date or datetime column. */
    bool cell_number = t == REC_F_CELL_NUMBER;
    if (cell_number) {
        t = REC_F_JSON_NUMBER;
    }
    enum vjson_fit other = t == REC_F_JSON_STRING   ? VJ_STRING
                           : t == REC_F_JSON_NUMBER ? VJ_NUMBER
                           : t == REC_F_TYPED_TIME  ? VJ_TIME
                                                    : VJ_BOOL;
    switch (o->pc.type.id) {
    case DT_STR: return t == REC_F_JSON_STRING || cell_number || coerce ? VJ_OK : other;
    case DT_BOOL: return t == REC_F_JSON_BOOL || coerce ? VJ_OK : other;
    case DT_INT8:
    case DT_INT16:
    case DT_INT32:
    case DT_INT64:
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_UINT64:
        if (t == REC_F_JSON_NUMBER) {
            /* A fraction never fits, coerce or not; 3.0 and 1e3 are whole numbers. Digits
             * alone (every integer of a Parquet file) need no strtod. */
            size_t k = 0;
            while (k < f->len && ((f->p[k] >= '0' && f->p[k] <= '9') || f->p[k] == '-')) {
                k++;
            }
            if (k == f->len) {
                return VJ_OK;
            }
            char tmp[64];
            size_t n = f->len < sizeof(tmp) - 1 ? f->len : sizeof(tmp) - 1;
            memcpy(tmp, f->p, n);
            tmp[n] = '\0';
            double d = strtod(tmp, NULL);
            return isfinite(d) && d != floor(d) ? VJ_FRACTION : VJ_OK;
        }
        return coerce ? VJ_OK : other;
    case DT_FLOAT32:
    case DT_FLOAT64: return t == REC_F_JSON_NUMBER || coerce ? VJ_OK : other;
    case DT_DECIMAL:
        /* A string is the exact way to carry a decimal in JSON. */
        return t != REC_F_JSON_BOOL || coerce ? VJ_OK : other;
    case DT_DATE:
        /* A Parquet date fits (YYYY-MM-DD); a timestamp does not, whatever its time. */
        if (t == REC_F_TYPED_TIME && f->len == 10) {
            return VJ_OK;
        }
        /* JSON has no date type: dates are strings; a worksheet's are serial numbers. */
        return t == REC_F_JSON_STRING || cell_number || coerce ? VJ_OK : other;
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ:
        /* A Parquet date is midnight; a UTC timestamp (text ending in Z) fails a naive column
         * when it is parsed (validate.h: a naive column refuses offsets). */
        return t == REC_F_JSON_STRING || t == REC_F_TYPED_TIME || cell_number || coerce ? VJ_OK
                                                                                         : other;
    case DT_TIMEDELTA:
        /* A duration is a string ("1 days 02:00:00") or a whole number of nanoseconds. */
        return t != REC_F_JSON_BOOL || coerce ? VJ_OK : other;
    }
    return VJ_OK;
}

/* Days of 0001-01-01 and 9999-12-31 since 1970-01-01: the dates ISO text reads (vp_date). */
#define BIN_DAY_MIN INT64_C(-719162)
#define BIN_DAY_MAX INT64_C(2932896)
#define BIN_US_DAY INT64_C(86400000000)

/* The value of binary field f (records.h, REC_F_BINARY) into val when column o takes it as it
 * is: the field's type is the column's dtype (a decimal's scale too), the column reads its text
 * through nothing but that dtype's plain parser (struct vout, binok), and the value is one that
 * parser accepts from the field's text (dtype_format_value): within the dtype's range, a
 * decimal within its precision, a date or time within years 1-9999. The value is then exactly
 * the one its text parses to (a NaN is the parser's NaN). False otherwise: the field goes the
 * text's way (bin_text), which accepts or fails it with the text's message. */
static bool bin_value(const struct vout *o, const struct record_field *f, union vp_val *val)
{
    const struct dtype_info t = o->pc.type;
    if (!o->binok || f->dt != (uint8_t)t.id || (t.id == DT_DECIMAL && f->scale != t.scale)) {
        return false;
    }
    int64_t i = 0;
    switch (o->st) {
    case DS_U8: val->b = *(const uint8_t *)f->p != 0; return true;
    case DS_F64:
        memcpy(&val->f, f->p, sizeof(val->f));
        if (isnan(val->f)) {
            val->f = NAN;
        }
        return true;
    case DS_I128: {
        memcpy(&val->d, f->p, sizeof(val->d));
        unsigned __int128 a = val->d < 0 ? (unsigned __int128)0 - (unsigned __int128)val->d
                                         : (unsigned __int128)val->d;
        return a < o->dec_lim;
    }
    case DS_I64: memcpy(&i, f->p, sizeof(i)); break;
    case DS_BYTES: return false;
    }
    val->i = i;
    switch (t.id) {
    case DT_INT8: return i >= INT8_MIN && i <= INT8_MAX;
    case DT_INT16: return i >= INT16_MIN && i <= INT16_MAX;
    case DT_INT32: return i >= INT32_MIN && i <= INT32_MAX;
    case DT_INT64:
    case DT_UINT64: return true;
    case DT_UINT8: return i >= 0 && i <= UINT8_MAX;
    case DT_UINT16: return i >= 0 && i <= UINT16_MAX;
    case DT_UINT32: return i >= 0 && i <= UINT32_MAX;
    case DT_DATE: return i >= BIN_DAY_MIN && i <= BIN_DAY_MAX;
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: return i >= BIN_DAY_MIN * BIN_US_DAY && i < (BIN_DAY_MAX + 1) * BIN_US_DAY;
    default: return false;
    }
}

/* Binary field f as the text field it stands for, in *tf, its text in tb (DTYPE_VALUE_TEXT
 * bytes); returns tf. */
static const struct record_field *bin_text(const struct record_field *f, struct record_field *tf,
                                           char *tb)
{
    const struct dtype_info t = {.id = (enum dtype)f->dt, .scale = f->scale};
    *tf = *f;
    tf->len = (uint32_t)dtype_format_value(tb, t, f->p);
    tf->p = tb;
    tf->flags = (uint16_t)(f->flags & ~REC_F_BINARY);
    return tf;
}

/* The field of output column o in record i as text: a binary field made text in *tf and tb. */
static const struct record_field *text_field(const struct vout *o, const struct record_block *in,
                                             size_t i, struct record_field *tf, char *tb)
{
    const struct record_field *f = out_field(o, in, i);
    return (f->flags & REC_F_BINARY) ? bin_text(f, tf, tb) : f;
}

/* True when f is a worksheet's number for a date or datetime column: an Excel serial. */
static bool is_serial(const struct vp_col *pc, const struct record_field *f)
{
    return (f->flags & REC_F_JSON_MASK) == REC_F_CELL_NUMBER &&
           (pc->type.id == DT_DATE || pc->type.id == DT_TIMESTAMP ||
            pc->type.id == DT_TIMESTAMP_TZ);
}

static int run_column(struct validator *v, size_t c, const struct record_block *in, size_t first,
                      size_t n, struct batch *out, size_t base)
{
    struct vout *o = &v->outs[c];
    const struct vp_col *pc = &o->pc;
    bool is_str = pc->type.id == DT_STR;
    struct vcheck *checks = o->vc ? o->vc->checks : NULL;
    size_t nchecks = o->vc ? o->vc->nchecks : 0;
    bool has_default = o->vc != NULL && o->vc->has_default;
    for (size_t r = 0; r < n; r++) {
        size_t row = base + r;
        size_t i = first + r;
        int rc = 0;
        if (v->skip[r]) {
            rc = put_null(out, c, row, o->st);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        const struct record_field *f = out_field(o, in, i);
        union vp_val val;
        /* A binary field (records.h) of the column's dtype is its value; another goes on as
         * its text. */
        bool typed = false;
        struct record_field tf;
        char tb[DTYPE_VALUE_TEXT];
        if (f->flags & REC_F_BINARY) {
            typed = bin_value(o, f, &val);
            f = typed ? f : bin_text(f, &tf, tb);
        }
        const char *p = f->p;
        size_t len = f->len;
        if (f->flags & (REC_F_BAD_ENCODING | REC_F_NUL)) {
            enum vf_kind kind = (f->flags & REC_F_BAD_ENCODING) ? VF_ENCODING : VF_NUL_BYTE;
            rc = put_null(out, c, row, o->st);
            rc = rc ? rc : rec(v, i, (uint32_t)c, kind, 0, 0, 0);
            out->row_ok[row] = 0;
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if ((f->flags & REC_F_JSON_MASK) && !typed) {
            enum vjson_fit fit = json_fit(v, o, f);
            if (fit != VJ_OK) {
                rc = put_null(out, c, row, o->st);
                rc = rc ? rc : rec(v, i, (uint32_t)c, VF_JSON_TYPE, fit, 0, 0);
                out->row_ok[row] = 0;
                if (rc != 0) {
                    return rc;
                }
                continue;
            }
        }
        bool null = false;
        const char *tp = p;
        size_t tl = len;
        if (typed) {
            /* a value, never null */
        } else if (is_str) {
            /* PostgreSQL's CSV rule: only an unquoted empty field is null; "" is a string. */
            null = !(f->flags & REC_F_QUOTED) && (len == 0 || (o->nv_lens && is_marker(o, p, len)));
        } else {
            vp_trim(&tp, &tl);
            null = tl == 0 || (o->nv_lens && is_marker(o, p, len));
        }
        int st;
        if (typed) {
            st = VP_OK;
        } else if (null && has_default) {
            /* Pandera fills nulls with the default before checking: the value is checked. */
            val = o->vc->defval;
            st = VP_OK;
        } else if (null) {
            rc = put_null(out, c, row, o->st);
            if (rc == 0 && !o->nullable) {
                rc = rec(v, i, (uint32_t)c, VF_NULL, 0, 0, 0);
                out->row_ok[row] = 0;
            }
            for (size_t k = 0; k < nchecks && rc == 0; k++) {
                if (!checks[k].spec->ignore_na && checks[k].kind != CK_UNIQUE_EQ) {
                    bool warn = checks[k].spec->raise_warning;
                    rc = rec(v, i, (uint32_t)c, VF_CHECK_NULL, warn, k, 0);
                    if (!warn) {
                        out->row_ok[row] = 0;
                    }
                }
            }
            if (rc != 0) {
                return rc;
            }
            continue;
        } else if (is_str) {
            /* csv.h guarantees that a field without REC_F_BAD_ENCODING (handled above) is valid
             * UTF-8: checking it again cost 15-18% of a wide file's ingest. */
            val.s.p = p;
            val.s.n = len;
            st = VP_OK;
        } else if (is_serial(pc, f)) {
            st = vp_serial(tp, tl, in->sheet_date1904, pc->type.id != DT_DATE, &val.i);
        } else {
            st = vp_parse(pc, tp, tl, &val);
        }
        if (st != VP_OK) {
            rc = put_null(out, c, row, o->st);
            if (rc == 0) {
                rc = st < 0 ? rec(v, i, (uint32_t)c, VF_ENCODING, 0, 0, 0)
                            : rec(v, i, (uint32_t)c, VF_DTYPE, (unsigned)st, 0, 0);
            }
            out->row_ok[row] = 0;
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        rc = put_value(out, c, row, &val, o->st);
        for (size_t k = 0; k < nchecks && rc == 0; k++) {
            int verdict = vck_eval(&checks[k], pc, &val, in->line[i]);
            if (verdict != VCK_PASS) {
                bool warn = checks[k].spec->raise_warning;
                rc = rec(v, i, (uint32_t)c, VF_CHECK, warn, k, verdict == VCK_LIMIT);
                if (!warn) {
                    out->row_ok[row] = 0;
                }
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Appends the bytes that identify value (row of column c) to b: equal typed values give equal
 * bytes (so "01" and "1" in an int column are the same key), -0.0 is 0.0 and all NaNs are one. */
static int key_bytes(struct buf *b, const struct batch *out, size_t c, size_t row)
{
    const struct column *col = &out->cols[c];
    switch (dtype_storage(col->type.id)) {
    case DS_BYTES: {
        uint32_t len = col->offs[row + 1] - col->offs[row];
        unsigned char l4[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                               (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
        if (buf_append(b, l4, 4) != 0) {
            return AE_NOMEM;
        }
        return buf_append(b, col->data.data + col->offs[row], len);
    }
    case DS_U8: return buf_append(b, &col->v.u8[row], 1);
    case DS_I64: return buf_append(b, &col->v.i64[row], 8);
    case DS_F64: {
        double d = col->v.f64[row];
        if (d == 0) {
            d = 0.0;
        } else if (isnan(d)) {
            d = NAN;
        }
        return buf_append(b, &d, 8);
    }
    case DS_I128: return buf_append(b, &col->v.i128[row], 16);
    }
    return 0;
}

/* The key of one column's value: exact for values of at most 8 bytes, normalised as in
 * key_bytes; a fingerprint of the value's bytes otherwise. */
static struct vkey key_one(const struct batch *out, size_t c, size_t row)
{
    const struct column *col = &out->cols[c];
    switch (dtype_storage(col->type.id)) {
    case DS_BYTES:
        return vkey_hash(col->data.data + col->offs[row], col->offs[row + 1] - col->offs[row], 0);
    case DS_U8: return vkey_exact(col->v.u8[row]);
    case DS_I64: return vkey_exact((uint64_t)col->v.i64[row]);
    case DS_F64: {
        double d = col->v.f64[row];
        if (d == 0) {
            d = 0.0;
        } else if (isnan(d)) {
            d = NAN;
        }
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return vkey_exact(bits);
    }
    case DS_I128: return vkey_hash(&col->v.i128[row], 16, 0);
    }
    return vkey_hash(NULL, 0, 0);
}

/* Which occurrences of a repeated key of a set fail: a unique column fails every one, as
 * Pandera's Column(unique=True) does whatever the frame's report_duplicates (its own
 * report_duplicates, which the YAML cannot set, is "all"); a frame-level set follows the schema's
 * report_duplicates. */
static enum vdup_mode set_mode(const struct validator *v, bool frame)
{
    return frame ? v->dup_mode : VDUP_ALL;
}

/* A set the pre-pass judged (struct kdups or the spill): its keys are neither computed nor probed
 * in the main pass. */
static bool set_judged(const struct validator *v, bool frame)
{
    return frame ? v->judged_frames : v->judged_cols;
}

/* Keys that come as consecutive integers. While a bet that no key repeats holds
 * (validator_keys_optimistic), a unique column's keys that so far make one sequence lo, lo + 1,
 * ..., hi, in file order, need no set at all: none can repeat another. The commit (or each
 * partition group) only follows the sequence from block to block; when a block's keys do not
 * continue it, the sequence's keys are put into the set (those of the group's partitions) and the
 * set is probed as usual from then on. So the commonest primary key, a sequence's ids, costs
 * neither a probe nor memory, and any other file pays what it paid before, once. Integer storage
 * only (int64, dates, timestamps, times): a string or a fingerprint has no successor. */
enum { KSEQ_EMPTY, KSEQ_ON, KSEQ_OFF };
struct kseq {
    int state; /* KSEQ_EMPTY: no key yet; KSEQ_ON: the keys are exactly lo..hi; KSEQ_OFF: not */
    int64_t lo, hi;
};

/* *b = the sequence the keys of column c make in rows [base, base + n) (keys from column_keys). */
static void column_seq(const struct batch *out, size_t c, size_t n, size_t base,
                       const struct vkey *keys, struct kseq *b)
{
    b->state = dtype_storage(out->cols[c].type.id) == DS_I64 ? KSEQ_EMPTY : KSEQ_OFF;
    const int64_t *x = out->cols[c].v.i64 + base;
    for (size_t r = 0; r < n && b->state != KSEQ_OFF; r++) {
        if (!keys[r].ok) {
            continue;
        }
        if (b->state == KSEQ_EMPTY) {
            *b = (struct kseq){KSEQ_ON, x[r], x[r]};
        } else if (b->hi != INT64_MAX && x[r] == b->hi + 1) {
            b->hi = x[r];
        } else {
            b->state = KSEQ_OFF;
        }
    }
}

/* Follows sequence q through a block whose keys make sequence b: 1 when they continue it (the
 * block's keys need no probe), 0 when they are to be probed, after the sequence's keys were put
 * into set (only those of partition group g of ng when ng > 1), or KSET_FULL / AE_NOMEM. */
static int kseq_follow(struct kseq *q, const struct kseq *b, struct kset *set, size_t g, size_t ng)
{
    enum { AHEAD = 16 };
    if (q->state == KSEQ_OFF) {
        return 0;
    }
    if (b->state == KSEQ_EMPTY) {
        return 1;
    }
    if (b->state == KSEQ_ON && q->state == KSEQ_EMPTY) {
        *q = *b;
        return 1;
    }
    if (b->state == KSEQ_ON && q->hi != INT64_MAX && b->lo == q->hi + 1) {
        q->hi = b->hi;
        return 1;
    }
    bool had = q->state == KSEQ_ON;
    q->state = KSEQ_OFF;
    for (int64_t x = q->lo; had; x++) {
        if (q->hi - x > AHEAD) {
            struct vkey a = vkey_exact((uint64_t)(x + AHEAD));
            if (ng < 2 || kset_part_of(a) % ng == g) {
                kset_prefetch(set, a); /* only this group's partitions: others are another's */
            }
        }
        struct vkey k = vkey_exact((uint64_t)x);
        uint64_t at = 0;
        int rc = ng > 1 && kset_part_of(k) % ng != g ? 0 : kset_add(set, k, 1, &at);
        if (rc != 0) {
            return rc == 1 ? AE_INTERNAL : rc; /* distinct keys: 1 cannot happen */
        }
        if (x == q->hi) {
            break;
        }
    }
    return 0;
}

/* One key's verdict under report_duplicates: exclude_first (the sets the pre-pass did not judge):
 * 1 when its row fails (status 0, *aux = the first line), 0 when it passes, or an AE_* code. */
static int probe_key(struct kset *set, struct vkey k, uint64_t line, unsigned *status,
                     uint64_t *aux)
{
    uint64_t at = 0;
    int rc = kset_add(set, k, line, &at);
    if (rc == 1) {
        *status = 0;
        *aux = at;
    }
    return rc;
}

/* Records the failures of one block's keys (keys[r] for row base + r) against an in-memory set,
 * in row order, prefetching the entry of the key a few rows ahead: with millions of keys every
 * probe is a cache miss, and this hides most of them. vfail.status: 0 = seen before at aux. */
static int insert_keys(struct validator *v, const struct vkey *keys, struct kset *set,
                       const struct record_block *in, size_t first, size_t n, struct batch *out,
                       size_t base, uint32_t col, enum vf_kind kind)
{
    enum { AHEAD = 16 };
    for (size_t r = 0; r < n; r++) {
        if (r + AHEAD < n && keys[r + AHEAD].ok) {
            kset_prefetch(set, keys[r + AHEAD]);
        }
        if (!keys[r].ok) {
            continue;
        }
        unsigned status = 0;
        uint64_t aux = 0;
        int rc = probe_key(set, keys[r], in->line[first + r], &status, &aux);
        if ((rc == 1 || rc == KSET_FULL) && v->optimistic) {
            return 1; /* a repeated key, or no room: validator_keys_optimistic lost its bet */
        }
        if (rc == 1) {
            rc = rec(v, first + r, col, kind, status, 0, aux);
            out->row_ok[base + r] = 0;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* The verdicts the pre-pass decided for one set (struct kdups), rows [first, first + n), in row
 * order: vfail.status 0 = seen before at aux, 1 = seen again later (last at aux), 2 = the same,
 * while the last occurrence is kept (report_duplicates: exclude_last). */
static int judged_keys(struct validator *v, struct kdups *d, const struct record_block *in,
                       size_t first, size_t n, struct batch *out, size_t base, uint32_t col,
                       enum vf_kind kind)
{
    if (kdups_count(d) == 0) {
        return 0;
    }
    for (size_t r = 0; r < n; r++) {
        uint32_t status = 0;
        uint64_t aux = 0;
        if (kdups_verdict(d, in->line[first + r], &status, &aux) == 1) {
            if (rec(v, first + r, col, kind, status, 0, aux) != 0) {
                return AE_NOMEM;
            }
            out->row_ok[base + r] = 0;
        }
    }
    return 0;
}

/* keys[r] = the key of column c in row base + r (ok = 0 when there is none). */
static void column_keys(const struct validator *v, size_t c, size_t n, const struct batch *out,
                        size_t base, struct vkey *keys)
{
    for (size_t r = 0; r < n; r++) {
        size_t row = base + r;
        if (v->skip[r] || !out->cols[c].valid[row]) {
            keys[r].ok = 0;
            continue;
        }
        keys[r] = key_one(out, c, row);
    }
}

/* keys[r] = the key of frame-level set us in row base + r (none for a row whose values were not
 * checked). A null member is part of the key, equal to every other null, as pandas'
 * duplicated() counts it (Pandera's DataFrameSchema(unique=...)): each member is tagged null or
 * value. */
static int set_keys(struct validator *v, const struct vuset *us, size_t n, const struct batch *out,
                    size_t base, struct vkey *keys)
{
    for (size_t r = 0; r < n; r++) {
        size_t row = base + r;
        keys[r].ok = 0;
        if (v->skip[r]) {
            continue;
        }
        buf_reset(&v->scratch);
        for (size_t k = 0; k < us->ncols; k++) {
            bool valid = out->cols[us->cols[k]].valid[row];
            if (buf_putc(&v->scratch, valid ? 1 : 0) != 0 ||
                (valid && key_bytes(&v->scratch, out, us->cols[k], row) != 0)) {
                return AE_NOMEM;
            }
        }
        keys[r] = vkey_hash(v->scratch.data, v->scratch.len, 1);
    }
    return 0;
}

/* The spilled check's verdicts for rows [first, first + n): the pre-pass decided them (unique.h:
 * struct kspill) in (line, set) order, which is the order insert_keys records them in. */
static int spilled_verdicts(struct validator *v, const struct record_block *in, size_t first,
                            size_t n, struct batch *out, size_t base, struct err *e)
{
    for (size_t r = 0; r < n; r++) {
        uint64_t line = in->line[first + r];
        struct kspill_verdict vd;
        int got;
        while ((got = kspill_peek(v->spill, &vd, e)) == 1 && vd.line <= line) {
            kspill_pop(v->spill);
            if (vd.line < line) {
                continue; /* a row the main pass did not meet (cannot happen: same records) */
            }
            bool frame = vd.set >= v->nout;
            int rc = rec(v, first + r, frame ? vd.set - (uint32_t)v->nout : vd.set,
                         frame ? VF_FRAME_UNIQUE : VF_UNIQUE, vd.status, 0, vd.aux);
            if (rc != 0) {
                return err_set(e, AE_NOMEM, "out of memory validating rows");
            }
            out->row_ok[base + r] = 0;
        }
        if (got < 0) {
            return got;
        }
    }
    return 0;
}

/* The number of key sets: unique columns, then frame-level sets (the order of their keys in a
 * struct vblock and of their failures within a row). */
static size_t key_sets(const struct validator *v)
{
    size_t n = v->nusets;
    for (size_t c = 0; c < v->nout; c++) {
        n += v->outs[c].unique;
    }
    return n;
}

/* keys[k * n + r] = the key of set k in row base + r, for every key set in key_sets order (left
 * unset for the sets the pre-pass judged: nothing reads them). */
static int block_keys(struct validator *v, size_t n, const struct batch *out, size_t base,
                      struct vkey *keys)
{
    size_t k = 0;
    for (size_t c = 0; c < v->nout; c++) {
        if (v->outs[c].unique && !set_judged(v, false)) {
            column_keys(v, c, n, out, base, keys + k * n);
        }
        k += v->outs[c].unique;
    }
    for (size_t u = 0; u < v->nusets && !set_judged(v, true); u++, k++) {
        if (set_keys(v, &v->usets[u], n, out, base, keys + k * n) != 0) {
            return AE_NOMEM;
        }
    }
    return 0;
}

/* seqs[k] = the sequence the keys of set k make in the block (column_seq; none for a frame-level
 * set or a set the pre-pass judged). */
static void block_seqs(const struct validator *v, size_t n, const struct batch *out, size_t base,
                       const struct vkey *keys, struct kseq *seqs)
{
    size_t k = 0;
    for (size_t c = 0; c < v->nout; c++) {
        if (v->outs[c].unique && !set_judged(v, false)) {
            column_seq(out, c, n, base, keys + k * n, &seqs[k]);
        } else if (v->outs[c].unique) {
            seqs[k].state = KSEQ_OFF;
        }
        k += v->outs[c].unique;
    }
    for (size_t u = 0; u < v->nusets; u++, k++) {
        seqs[k].state = KSEQ_OFF;
    }
}

/* Uniqueness of rows [first, first + n) (out rows from base), from their keys (block_keys). */
static int run_unique(struct validator *v, const struct vkey *keys, const struct kseq *seqs,
                      const struct record_block *in, size_t first, size_t n, struct batch *out,
                      size_t base, struct err *e)
{
    if (v->spill != NULL) {
        return spilled_verdicts(v, in, first, n, out, base, e);
    }
    int rc = 0;
    size_t k = 0;
    for (size_t c = 0; c < v->nout && rc == 0; c++) {
        struct vout *o = &v->outs[c];
        if (o->unique && set_judged(v, false)) {
            rc = judged_keys(v, &o->dups, in, first, n, out, base, (uint32_t)c, VF_UNIQUE);
        } else if (o->unique) {
            int q = v->kseqs != NULL ? kseq_follow(&v->kseqs[k], &seqs[k], &o->uset, 0, 1) : 0;
            if (q == 0) {
                rc = insert_keys(v, keys + k * n, &o->uset, in, first, n, out, base, (uint32_t)c,
                                 VF_UNIQUE);
            } else {
                rc = q == KSET_FULL ? 1 : q < 0 ? AE_NOMEM : 0; /* full: the bet is lost */
            }
        }
        k += o->unique;
    }
    for (size_t u = 0; u < v->nusets && rc == 0; u++, k++) {
        struct vuset *us = &v->usets[u];
        if (set_judged(v, true)) {
            rc = judged_keys(v, &us->dups, in, first, n, out, base, (uint32_t)u,
                             VF_FRAME_UNIQUE);
        } else {
            rc = insert_keys(v, keys + k * n, &us->set, in, first, n, out, base, (uint32_t)u,
                             VF_FRAME_UNIQUE);
        }
    }
    if (rc == 1) {
        return 1; /* validator_keys_optimistic lost */
    }
    if (rc == AE_INTERNAL) {
        return err_set(e, rc, "a line number beyond %llu: the key sets cannot record it",
                       (unsigned long long)KSET_MAX_LINE);
    }
    return rc != 0 ? err_set(e, AE_NOMEM, "out of memory checking unique keys") : 0;
}

static int cmp_fail(const void *a, const void *b)
{
    const struct vfail *x = a;
    const struct vfail *y = b;
    if (x->row != y->row) {
        return x->row < y->row ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* The invalid rows among rows [first, first + n) of the block whose every error case (v->fails,
 * sorted by row) lies in a column with drop_invalid_rows: true: Pandera's column-level option,
 * scoped to that column's failures. A row-level problem, a frame-level key or the index never
 * qualifies. */
static uint64_t droppable_rows(const struct validator *v, size_t first, size_t n)
{
    uint64_t count = 0;
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t row = (uint32_t)(first + r);
        while (k < v->nfails && v->fails[k].row < row) {
            k++;
        }
        bool any = false, only = true;
        for (; k < v->nfails && v->fails[k].row == row; k++) {
            const struct vfail *f = &v->fails[k];
            bool check = f->kind == VF_CHECK || f->kind == VF_CHECK_NULL;
            if (f->kind == VF_QUOTING || (check && f->status != 0)) {
                continue; /* a warning */
            }
            any = true;
            bool column = check || f->kind == VF_NULL || f->kind == VF_DTYPE ||
                          f->kind == VF_UNIQUE || f->kind == VF_JSON_TYPE;
            const struct vout *o = column && f->col < v->nout ? &v->outs[f->col] : NULL;
            if (o == NULL || o->vc == NULL || !o->vc->spec->drop_invalid_rows) {
                only = false;
            }
        }
        count += any && only;
    }
    return count;
}

/* How a duplicate's message ends: which occurrence the mode keeps. */
static void dup_tail(const struct validator *v, const struct vfail *vf, char *buf, size_t n)
{
    bool frame = vf->kind == VF_FRAME_UNIQUE;
    switch (set_mode(v, frame)) {
    case VDUP_EXCLUDE_FIRST: snprintf(buf, n, "the first occurrence is kept"); break;
    case VDUP_EXCLUDE_LAST: snprintf(buf, n, "the last occurrence is kept"); break;
    case VDUP_ALL:
        snprintf(buf, n, "%s",
                 frame ? "report_duplicates: all fails every occurrence"
                       : "every occurrence fails");
        break;
    }
}

static uint64_t max_record_lines(const struct validator *v)
{
    int64_t n = v->spec->max_record_lines;
    return n > 0 ? (uint64_t)n : CONFIG_MAX_RECORD_LINES;
}

/* The row-level problem of record i with nf fields (VF_UNTERMINATED, VF_FIELD_COUNT or
 * VF_RECORD_LINES, *aux set as struct vfail says), or -1 when its values can be checked. */
static int row_problem(const struct validator *v, const struct record_block *in, size_t i,
                       size_t nf, uint64_t *aux)
{
    uint8_t flags = in->row_flags != NULL ? in->row_flags[i] : 0;
    if (flags & REC_R_UNREADABLE) {
        return VF_UNREADABLE;
    }
    if (flags & REC_R_UNTERMINATED) {
        return VF_UNTERMINATED;
    }
    if (nf != v->nheader) {
        *aux = nf;
        return VF_FIELD_COUNT;
    }
    if (flags & REC_R_MULTILINE) {
        uint64_t span = record_span(in->raw[i], in->raw_len[i]);
        if (span > max_record_lines(v) || (flags & REC_R_LOOSE_QUOTE)) {
            *aux = span;
            return VF_RECORD_LINES;
        }
    }
    return -1;
}

static bool row_skipped(const struct validator *v, const struct record_block *in, size_t i,
                        size_t nf)
{
    uint64_t aux = 0;
    return row_problem(v, in, i, nf, &aux) >= 0;
}

/* Appends to msg the value a date or datetime column read from raw text in its input format
 * ("; read as 2062-08-01 with format '%b-%y'"), so that a failure case shows both. Nothing for
 * other columns, ISO input (the raw text is the value) or a null. */
static void read_as(char *msg, size_t n, const struct vp_col *pc, const char *raw, size_t len)
{
    bool dt = pc->type.id == DT_DATE || pc->type.id == DT_TIMESTAMP ||
              pc->type.id == DT_TIMESTAMP_TZ;
    if (!dt || pc->nfmt == 0 || raw == NULL) {
        return;
    }
    const char *p = raw;
    int64_t t = 0;
    size_t which = 0;
    vp_trim(&p, &len);
    if (vp_time(pc, p, len, &t, &which) != VP_OK) {
        return;
    }
    char iso[48];
    size_t used = strlen(msg);
    dtype_format_time(iso, sizeof(iso), pc->type.id, t);
    if (used < n) {
        snprintf(msg + used, n - used, "; read as %s with format '%s'", iso, pc->fmt_text[which]);
    }
}

/* The name of the cell in column col (1-based) of row: "C17". */
static void sheet_cell(char *out, size_t n, uint32_t col, uint64_t row)
{
    char tmp[8];
    size_t k = 0;
    while (col > 0 && k < sizeof(tmp)) {
        col--;
        tmp[k++] = (char)('A' + col % 26);
        col /= 26;
    }
    size_t w = 0;
    while (k > 0 && w + 1 < n) {
        out[w++] = tmp[--k];
    }
    snprintf(out + w, n - w, "%llu", (unsigned long long)row);
}

/* Appends how a worksheet's serial number was read ("; read as 2024-01-31, an Excel serial"). */
static void serial_as(char *msg, size_t n, const struct vp_col *pc, const struct record_field *f,
                      bool date1904)
{
    int64_t x;
    const char *p = f->p;
    size_t len = f->len;
    vp_trim(&p, &len);
    if (vp_serial(p, len, date1904, pc->type.id != DT_DATE, &x) != VP_OK) {
        return;
    }
    char iso[48];
    size_t used = strlen(msg);
    dtype_format_time(iso, sizeof(iso), pc->type.id, x);
    if (used < n) {
        snprintf(msg + used, n - used, "; read as %s (an Excel serial, %s date system)", iso,
                 date1904 ? "1904" : "1900");
    }
}

/* Why a worksheet's number is not a date of column name (tn): vp_serial's status. */
static void serial_message(char *msg, size_t n, int status, bool date1904,
                           const struct record_field *f, const char *name, const char *tn)
{
    int w = (int)(f->len < 60 ? f->len : 60);
    switch (status) {
    case VP_CALENDAR:
        snprintf(msg, n,
                 "serial 60 is 1900-02-29, a day that does not exist (Excel's 1900 leap-year "
                 "bug): not a value of column '%s' (%s)",
                 name, tn);
        break;
    case VP_PRECISION:
        snprintf(msg, n,
                 "serial %.*s has a time of day: not a value of date column '%s' (a datetime "
                 "dtype keeps the time)",
                 w, f->p, name);
        break;
    case VP_RANGE:
        snprintf(msg, n,
                 "number %.*s is not an Excel date in the %s date system (serial %s is its first "
                 "day, %s; the last is 9999-12-31): not a value of column '%s' (%s)",
                 w, f->p, date1904 ? "1904" : "1900", date1904 ? "0" : "1",
                 date1904 ? "1904-01-01" : "1900-01-01", name, tn);
        break;
    default:
        snprintf(msg, n, "'%.*s' is not a number: not a value of column '%s' (%s)", w, f->p, name,
                 tn);
        break;
    }
}

/* True when ck already reported its n_failure_cases cases: the case f is counted (its row still
 * fails) but not handed to the sink, as Pandera reports only the first n. */
static bool capped(struct validator *v, struct vcheck *ck, const struct failure *f)
{
    if (ck->spec->has_n_failure_cases && ck->nreported >= (uint64_t)ck->spec->n_failure_cases) {
        if (f->warning) {
            v->counts.warnings++;
        } else {
            v->counts.failure_cases++;
        }
        return true;
    }
    ck->nreported++;
    return false;
}

/* "an" before a dtype name said with a vowel first (an int32, an object), else "a" (a uint8). */
static const char *article(const char *word)
{
    return word[0] != '\0' && strchr("aeio", word[0]) != NULL ? "an" : "a";
}

static int emit_one(struct validator *v, const struct vfail *vf, const struct record_block *in,
                    struct err *e)
{
    char msg[1100];
    char check[160];
    char q[160];
    char hint[160];
    struct record_field tf;
    char tb[DTYPE_VALUE_TEXT];
    struct failure f = {0};
    size_t i = vf->row;
    f.line = in->line[i];
    f.row = v->block_row0 + (i - v->block_first) + 1;
    if (in->raw != NULL) {
        f.raw = in->raw[i];
        f.raw_len = in->raw_len[i];
    }
    if (in->offset != NULL) {
        f.has_offset = true;
        f.offset = in->offset[i];
        f.in_array = v->spec->format == INPUT_JSON;
    }
    f.message = msg;
    f.check = check;
    const struct vout *o = vf->col < v->nout ? &v->outs[vf->col] : NULL;
    const struct record_field *fld = NULL;
    if (o != NULL && vf->kind != VF_FRAME_UNIQUE && vf->kind != VF_FIELD_COUNT &&
        vf->kind != VF_UNTERMINATED && vf->kind != VF_RECORD_LINES && vf->kind != VF_UNREADABLE) {
        f.column = o->name;
        fld = text_field(o, in, i, &tf, tb);
        f.value = fld->p;
        f.value_len = fld->len;
    }
    switch ((enum vf_kind)vf->kind) {
    case VF_FIELD_COUNT: {
        snprintf(check, sizeof(check), "field_count");
        uint64_t span = record_span(f.raw, f.raw_len);
        if (span > 1) {
            /* A quote that opened a field it should not have swallowed the line breaks that
             * follow, up to the next quote: the lines in between may have been rows, so no
             * threshold can tolerate this record (validate.h). */
            v->counts.broken_records++;
            snprintf(msg, sizeof(msg),
                     "expected %zu fields, found %llu in a record that spans %llu lines (%llu to "
                     "%llu): a quoted field runs across line breaks, probably an unbalanced "
                     "quote; the lines it swallowed may be rows, so the file fails whatever its "
                     "bad-row threshold",
                     v->nheader, (unsigned long long)vf->aux, (unsigned long long)span,
                     (unsigned long long)f.line, (unsigned long long)(f.line + span - 1));
        } else {
            snprintf(msg, sizeof(msg), "expected %zu fields, found %llu", v->nheader,
                     (unsigned long long)vf->aux);
        }
        break;
    }
    case VF_RECORD_LINES:
        snprintf(check, sizeof(check), "record_lines");
        v->counts.broken_records++;
        if (vf->aux <= max_record_lines(v)) {
            snprintf(msg, sizeof(msg),
                     "a quoted field runs across %llu lines (%llu to %llu) and has text after its "
                     "closing quote: probably an unbalanced quote that swallowed the rows in "
                     "between; the file fails whatever its bad-row threshold",
                     (unsigned long long)vf->aux, (unsigned long long)f.line,
                     (unsigned long long)(f.line + vf->aux - 1));
            break;
        }
        snprintf(msg, sizeof(msg),
                 "the record spans %llu lines (%llu to %llu), more than max_record_lines (%lld): "
                 "a quote probably opened a field by mistake and swallowed the rows after it; "
                 "the file fails whatever its bad-row threshold (raise max_record_lines if its "
                 "values really hold that many line breaks)",
                 (unsigned long long)vf->aux, (unsigned long long)f.line,
                 (unsigned long long)(f.line + vf->aux - 1), (long long)max_record_lines(v));
        break;
    case VF_UNTERMINATED: {
        snprintf(check, sizeof(check), "unterminated_quote");
        uint64_t span = record_span(f.raw, f.raw_len);
        v->counts.broken_records++;
        if (span > 1) {
            snprintf(msg, sizeof(msg),
                     "a quote opened in this record is never closed: the last %llu lines of the "
                     "file (%llu to %llu) became one record, so the file fails whatever its "
                     "bad-row threshold",
                     (unsigned long long)span, (unsigned long long)f.line,
                     (unsigned long long)(f.line + span - 1));
        } else {
            snprintf(msg, sizeof(msg),
                     "a quote opened in this record is never closed: the file ends inside it, so "
                     "the file fails whatever its bad-row threshold");
        }
        break;
    }
    case VF_UNREADABLE: {
        /* The reader's reason is the record's one field (records.h). */
        const struct record_field *why = field_at(in, i, 0);
        snprintf(check, sizeof(check), "%s", in->sheet_col0 != 0 ? "sheet_row" : "json_record");
        snprintf(msg, sizeof(msg), "%.*s", (int)(why->len < 1000 ? why->len : 1000), why->p);
        break;
    }
    case VF_JSON_TYPE: {
        char tn[48];
        dtype_name(o->pc.type, tn, sizeof(tn));
        snprintf(check, sizeof(check), "dtype('%s')", tn);
        const char *what = vf->status == VJ_STRING   ? "string"
                           : vf->status == VJ_BOOL   ? "boolean"
                           : vf->status == VJ_NUMBER ? "number"
                           : vf->status == VJ_TIME   ? "date/time"
                                                     : NULL;
        const char *fmt = (fld->flags & REC_F_PARQUET) ? "Parquet" : "JSON";
        vp_quote(q, sizeof(q), fld->p, fld->len, 120);
        if (vf->status == VJ_CELL_ERROR) {
            snprintf(check, sizeof(check), "cell_error");
            snprintf(msg, sizeof(msg),
                     "the cell holds the Excel error %s (a formula that failed), not a value of "
                     "column '%s' (%s)",
                     q, o->name, tn);
        } else if (in->sheet_col0 != 0 && vf->status != VJ_FRACTION) {
            snprintf(msg, sizeof(msg),
                     "a %s cell (%s) in column '%s': a %s is not %s %s value unless the column "
                     "has coerce: true",
                     vf->status == VJ_STRING ? "text" : what, q, o->name, what, article(tn), tn);
        } else if (vf->status == VJ_COMPOSITE) {
            snprintf(msg, sizeof(msg),
                     "column '%s' (%s) got a JSON %s %s: only a scalar value fits a column", o->name,
                     tn, fld->len > 0 && fld->p[0] == '[' ? "array" : "object", q);
        } else if (vf->status == VJ_FRACTION) {
            snprintf(msg, sizeof(msg),
                     "%s number %.*s has a fraction: not a value of column '%s' (%s), even with "
                     "coerce",
                     in->sheet_col0 != 0 ? "the" : fmt, (int)(fld->len < 60 ? fld->len : 60),
                     fld->p, o->name, tn);
        } else {
            snprintf(msg, sizeof(msg),
                     "%s %s %s%.*s%s in column '%s': a %s is not %s %s value unless the "
                     "column has coerce: true",
                     fmt, what, vf->status == VJ_STRING ? "\"" : "",
                     (int)(fld->len < 120 ? fld->len : 120), fld->p,
                     vf->status == VJ_STRING ? "\"" : "", o->name, what, article(tn), tn);
        }
        break;
    }
    case VF_ENCODING:
        snprintf(check, sizeof(check), "encoding");
        snprintf(msg, sizeof(msg), "%s is not valid %s",
                 vp_quote(q, sizeof(q), fld->p, fld->len, 120),
                 v->spec->encoding ? v->spec->encoding : "utf-8");
        break;
    case VF_NUL_BYTE: {
        snprintf(check, sizeof(check), "nul_byte");
        const char *z = memchr(fld->p, 0, fld->len);
        snprintf(msg, sizeof(msg),
                 "the value holds a NUL byte (byte %zu of %zu): no SQL database keeps one in "
                 "text (PostgreSQL refuses it, other tools cut the value there), so the value "
                 "fails here rather than at the load",
                 z != NULL ? (size_t)(z - fld->p) + 1 : (size_t)0, (size_t)fld->len);
        break;
    }
    case VF_QUOTING:
        snprintf(check, sizeof(check), "quoting");
        f.warning = true;
        snprintf(msg, sizeof(msg),
                 "a quoted field has text after its closing quote (`\"ab\"c` is read as `abc`): "
                 "probably a quote inside the field that should have been doubled; the record was "
                 "read leniently, so check its values");
        break;
    case VF_NULL:
        snprintf(check, sizeof(check), "not_nullable");
        const char *tp = fld->p;
        size_t tl = fld->len;
        if (o->pc.type.id != DT_STR) {
            vp_trim(&tp, &tl);
        }
        if (tl > 0) {
            snprintf(msg, sizeof(msg), "%s is a null marker but column '%s' is not nullable",
                     vp_quote(q, sizeof(q), fld->p, fld->len, 120), o->name);
        } else {
            snprintf(msg, sizeof(msg), "empty value but column '%s' is not nullable", o->name);
        }
        f.value = NULL;
        f.value_len = 0;
        break;
    case VF_DTYPE: {
        char tn[96];
        snprintf(check, sizeof(check), "coerce_dtype('%s')", vp_dtype_name(&o->pc, tn, sizeof(tn)));
        if (is_serial(&o->pc, fld)) {
            serial_message(msg, sizeof(msg), vf->status, in->sheet_date1904, fld, o->name, tn);
        } else {
            vp_message(msg, sizeof(msg), vf->status, &o->pc, fld->p, fld->len);
        }
        f.hint = hint_for_value(o->pc.type.id, fld->p, fld->len, hint, sizeof(hint));
        break;
    }
    case VF_INDEX: {
        struct vcheck *ck = &v->ivc.checks[vf->check];
        f.column = v->spec->schema.index->name; /* NULL: Pandera's unnamed index */
        f.check = ck->label;
        f.check_number = (uint32_t)vf->check + 1;
        f.warning = vf->status != 0;
        snprintf(q, sizeof(q), "%llu", (unsigned long long)(f.row - 1));
        f.value = q;
        f.value_len = strlen(q);
        if (ck->spec->error != NULL) {
            snprintf(msg, sizeof(msg), "%s", ck->spec->error);
        } else {
            char m[900];
            vck_message(ck, m, sizeof(m), f.value, f.value_len);
            snprintf(msg, sizeof(msg), "row position %s (the index): %s", q, m);
        }
        if (capped(v, ck, &f)) {
            return 0;
        }
        break;
    }
    case VF_CHECK:
    case VF_CHECK_NULL: {
        struct vcheck *ck = &o->vc->checks[vf->check];
        f.check = ck->label;
        f.check_number = (uint32_t)vf->check + 1;
        f.warning = vf->status != 0;
        if (vf->kind == VF_CHECK_NULL) {
            f.value = NULL;
            f.value_len = 0;
        }
        if (vf->aux != 0) {
            /* Not a verdict on the value: the pattern is too costly for it. */
            snprintf(msg, sizeof(msg),
                     "the pattern of %s hit PCRE2's match limit on %s (%d steps, depth %d): "
                     "astro cannot tell whether it matches, so the row fails; simplify the "
                     "pattern (nested quantifiers, lookarounds and backreferences backtrack)",
                     ck->label, vp_quote(q, sizeof(q), f.value, f.value_len, 120), VCK_MATCH_LIMIT,
                     VCK_DEPTH_LIMIT);
        } else if (ck->spec->error != NULL) {
            snprintf(msg, sizeof(msg), "%s", ck->spec->error);
        } else {
            vck_message(ck, msg, sizeof(msg), f.value, f.value_len);
        }
        if (fld != NULL && is_serial(&o->pc, fld)) {
            serial_as(msg, sizeof(msg), &o->pc, fld, in->sheet_date1904);
        } else {
            read_as(msg, sizeof(msg), &o->pc, f.value, f.value_len);
        }
        if (capped(v, ck, &f)) {
            return 0;
        }
        break;
    }
    case VF_UNIQUE: {
        snprintf(check, sizeof(check), "field_uniqueness");
        char tail[160];
        dup_tail(v, vf, tail, sizeof(tail));
        snprintf(msg, sizeof(msg), "%s %s line %llu (column '%s' is unique; %s)",
                 vp_quote(q, sizeof(q), fld->p, fld->len, 120),
                 vf->status == 0 ? "was already seen at" : "appears again, last at",
                 (unsigned long long)vf->aux, o->name, tail);
        break;
    }
    case VF_FRAME_UNIQUE: {
        const struct vuset *us = &v->usets[vf->col];
        buf_reset(&v->scratch);
        for (size_t k = 0; k < us->ncols; k++) {
            const struct record_field *kf = text_field(&v->outs[us->cols[k]], in, i, &tf, tb);
            if ((k > 0 && buf_puts(&v->scratch, ", ") != 0) ||
                buf_append(&v->scratch, kf->p, kf->len) != 0) {
                return err_set(e, AE_NOMEM, "out of memory");
            }
        }
        f.column = us->label;
        f.value = v->scratch.data;
        f.value_len = v->scratch.len;
        snprintf(check, sizeof(check), "multiple_fields_uniqueness");
        char tail[160];
        dup_tail(v, vf, tail, sizeof(tail));
        snprintf(msg, sizeof(msg), "the combination (%s) = (%.*s%s) %s line %llu (%s)", us->label,
                 (int)(v->scratch.len < 200 ? v->scratch.len : 200), v->scratch.data,
                 v->scratch.len > 200 ? "..." : "",
                 vf->status == 0 ? "was already seen at" : "appears again, last at",
                 (unsigned long long)vf->aux, tail);
        break;
    }
    }
    char cell[24];
    if (in->sheet_col0 != 0 && f.line != 0 && vf->kind != VF_UNREADABLE) {
        /* A worksheet: the case names its cell (C17), or its row, in the message and in cell. */
        char pre[48];
        if (o != NULL && f.column != NULL && o->field != VOUT_MISSING &&
            vf->kind != VF_FRAME_UNIQUE) {
            sheet_cell(cell, sizeof(cell), in->sheet_col0 + (uint32_t)o->field, f.line);
            f.cell = cell;
            snprintf(pre, sizeof(pre), "cell %s: ", cell);
        } else {
            snprintf(pre, sizeof(pre), "row %llu: ", (unsigned long long)f.line);
        }
        size_t pl = strlen(pre);
        size_t ml = strlen(msg);
        if (pl + ml >= sizeof(msg)) {
            ml = sizeof(msg) - 1 - pl;
        }
        memmove(msg + pl, msg, ml);
        memcpy(msg, pre, pl);
        msg[pl + ml] = '\0';
    }
    return vemit(v, &f, e);
}

/* Room for n rows in the per-block arrays. */
static int block_room(struct validator *v, size_t n)
{
    if (n > v->capskip) {
        uint8_t *ns = realloc(v->skip, n);
        if (ns == NULL) {
            return AE_NOMEM;
        }
        v->skip = ns;
        v->capskip = n;
    }
    if (n > v->capkeys) {
        struct vkey *nk = realloc(v->keys, n * sizeof(*nk));
        if (nk == NULL) {
            return AE_NOMEM;
        }
        v->keys = nk;
        v->capkeys = n;
    }
    return 0;
}

static bool any_keys(const struct validator *v)
{
    bool any = v->nusets > 0;
    for (size_t c = 0; c < v->nout && !any; c++) {
        any = v->outs[c].unique;
    }
    return any;
}

bool validator_wants_prepass(const struct validator *v)
{
    if (v->spill != NULL) {
        return any_keys(v);
    }
    if (v->optimistic) {
        return false;
    }
    for (size_t c = 0; c < v->nout; c++) {
        if (v->outs[c].unique && set_mode(v, false) != VDUP_EXCLUDE_FIRST) {
            return true;
        }
    }
    return v->nusets > 0 && set_mode(v, true) != VDUP_EXCLUDE_FIRST;
}

uint64_t validator_key_bytes(const struct validator *v, uint64_t rows)
{
    /* the pre-pass's lists of repeats too, unless the first occurrence is kept (struct kdups);
     * an optimistic check holds tagless sets only (validator_plan_keys) */
    bool opt = v->optimistic;
    bool cdups = !opt && set_mode(v, false) != VDUP_EXCLUDE_FIRST;
    bool fdups = !opt && set_mode(v, true) != VDUP_EXCLUDE_FIRST;
    uint64_t sum = 0;
    for (size_t c = 0; c < v->nout; c++) {
        if (v->outs[c].unique) {
            bool fp = column_fp(&v->outs[c]);
            sum += cdups ? kdups_bytes_for(fp, rows) : kset_bytes_for(fp, opt, rows);
        }
    }
    for (size_t u = 0; u < v->nusets; u++) {
        sum += fdups ? kdups_bytes_for(true, rows) : kset_bytes_for(true, opt, rows);
    }
    return sum;
}

static enum kspill_mode spill_mode(enum vdup_mode m)
{
    switch (m) {
    case VDUP_EXCLUDE_FIRST: return KSPILL_FIRST;
    case VDUP_ALL: return KSPILL_ALL;
    case VDUP_EXCLUDE_LAST: return KSPILL_LAST;
    }
    return KSPILL_FIRST;
}

/* Makes the (empty) set s tagged or tagless. */
static void set_kind(struct kset *s, bool fp, bool tagless)
{
    kset_release(s);
    if (tagless) {
        kset_init_tagless(s, fp);
    } else {
        kset_init(s, fp);
    }
}

int validator_plan_keys(struct validator *v, uint64_t rows, const char *spill_dir, uint64_t mem,
                        struct err *e)
{
    if (!any_keys(v) || v->prepass_done) {
        return 0;
    }
    enum vdup_mode cm = set_mode(v, false), fm = set_mode(v, true);
    /* Optimistic: probed in the main pass, each set within its share of the memory. */
    uint64_t share = v->optimistic && key_sets(v) > 0 ? v->key_cap / key_sets(v) : 0;
    if (v->optimistic) {
        cm = fm = VDUP_EXCLUDE_FIRST;
    }
    if (spill_dir == NULL) {
        /* An optimistic check never reads a first line (any repeat loses the bet): its sets are
         * tagless, 7 bytes an exact entry instead of 11. They are empty here (no pre-pass). */
        for (size_t c = 0; c < v->nout; c++) {
            set_kind(&v->outs[c].uset, column_fp(&v->outs[c]), v->optimistic);
        }
        for (size_t u = 0; u < v->nusets; u++) {
            set_kind(&v->usets[u].set, true, v->optimistic);
        }
        for (size_t c = 0; c < v->nout; c++) {
            kset_hint(&v->outs[c].uset, cm == VDUP_EXCLUDE_FIRST ? rows : 0);
            kset_cap(&v->outs[c].uset, v->outs[c].unique ? share : 0);
            kdups_hint(&v->outs[c].dups, cm == VDUP_EXCLUDE_FIRST ? 0 : rows);
        }
        for (size_t u = 0; u < v->nusets; u++) {
            kset_hint(&v->usets[u].set, fm == VDUP_EXCLUDE_FIRST ? rows : 0);
            kset_cap(&v->usets[u].set, share);
            kdups_hint(&v->usets[u].dups, fm == VDUP_EXCLUDE_FIRST ? 0 : rows);
        }
        return 0;
    }
    size_t nsets = v->nout + v->nusets;
    bool *fp = calloc(nsets, sizeof(*fp));
    enum kspill_mode *modes = calloc(nsets, sizeof(*modes));
    if (fp == NULL || modes == NULL) {
        free(fp);
        free(modes);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    uint64_t nkeys = 0;
    for (size_t c = 0; c < v->nout; c++) {
        fp[c] = column_fp(&v->outs[c]);
        modes[c] = spill_mode(cm);
        nkeys += v->outs[c].unique ? rows : 0;
    }
    for (size_t u = 0; u < v->nusets; u++) {
        fp[v->nout + u] = true;
        modes[v->nout + u] = spill_mode(fm);
        nkeys += rows;
    }
    /* One partition is judged at a time: about 60 bytes a key (the record read back and one or
     * two sets), which should stay within half the limit. */
    if (mem < ((uint64_t)1 << 20)) {
        mem = (uint64_t)1 << 20;
    }
    size_t nparts = 64;
    while (nparts < 4096 && nkeys / nparts * 60 > mem / 2) {
        nparts *= 2;
    }
    int rc = kspill_new(&v->spill, spill_dir, fp, nsets, nparts, (size_t)(mem / 4), modes, e);
    free(fp);
    free(modes);
    return rc;
}

bool validator_spilled(const struct validator *v)
{
    return v->spill != NULL;
}

bool validator_prepass_decides_all(const struct validator *v)
{
    bool cols = false;
    for (size_t c = 0; c < v->nout; c++) {
        cols = cols || v->outs[c].unique;
    }
    if (v->nusets > 0) {
        return set_mode(v, true) != VDUP_EXCLUDE_FIRST; /* unique columns always are (set_mode) */
    }
    return cols && set_mode(v, false) != VDUP_EXCLUDE_FIRST;
}

void validator_keys_optimistic(struct validator *v, uint64_t mem)
{
    v->optimistic = true;
    v->key_cap = mem;
}

bool validator_keys_retry(const struct validator *v)
{
    return v->keys_retry;
}

uint64_t validator_key_mem(const struct validator *v)
{
    uint64_t n = 0;
    for (size_t c = 0; c < v->nout; c++) {
        n += kset_bytes(&v->outs[c].uset) + kdups_bytes(&v->outs[c].dups);
    }
    for (size_t u = 0; u < v->nusets; u++) {
        n += kset_bytes(&v->usets[u].set) + kdups_bytes(&v->usets[u].dups);
    }
    return n;
}

void validator_keys_reset(struct validator *v)
{
    for (size_t c = 0; c < v->nout; c++) {
        kset_release(&v->outs[c].uset);
        kdups_release(&v->outs[c].dups);
    }
    for (size_t u = 0; u < v->nusets; u++) {
        kset_release(&v->usets[u].set);
        kdups_release(&v->usets[u].dups);
    }
    kspill_free(v->spill);
    v->spill = NULL;
    v->prepass_done = false;
    v->judged_cols = false;
    v->judged_frames = false;
    v->optimistic = false;
    free(v->kseqs);
    free(v->gseqs);
    v->kseqs = v->gseqs = NULL;
}

/* The typed value of column c for rows [first, first + n) into out (row r at r), or a null when
 * the main pass would find none: the same null rules and parsers as run_column, no checks. */
static int type_keys(struct validator *v, size_t c, const struct record_block *in, size_t first,
                     size_t n, struct batch *out)
{
    const struct vout *o = &v->outs[c];
    bool is_str = o->pc.type.id == DT_STR;
    for (size_t r = 0; r < n; r++) {
        size_t i = first + r;
        const struct record_field *f = out_field(o, in, i);
        union vp_val val;
        struct record_field tf;
        char tb[DTYPE_VALUE_TEXT];
        if (!v->skip[r] && (f->flags & REC_F_BINARY)) {
            /* As run_column: the value, or the text it stands for. */
            if (bin_value(o, f, &val)) {
                int rc = put_value(out, c, r, &val, o->st);
                if (rc != 0) {
                    return rc;
                }
                continue;
            }
            f = bin_text(f, &tf, tb);
        }
        const char *p = f->p;
        size_t len = f->len;
        bool misfit = (f->flags & REC_F_JSON_MASK) && json_fit(v, o, f) != VJ_OK;
        bool null = v->skip[r] || (f->flags & (REC_F_BAD_ENCODING | REC_F_NUL)) || misfit;
        bool filled = false;
        if (!null && is_str) {
            null = !(f->flags & REC_F_QUOTED) && (len == 0 || (o->nv_lens && is_marker(o, p, len)));
        } else if (!null) {
            const char *tp = p;
            size_t tl = len;
            vp_trim(&tp, &tl);
            null = tl == 0 || (o->nv_lens && is_marker(o, p, len));
            p = tp;
            len = tl;
        }
        if (null && !v->skip[r] && !(f->flags & (REC_F_BAD_ENCODING | REC_F_NUL)) && !misfit &&
            o->vc != NULL && o->vc->has_default) {
            val = o->vc->defval;
            null = false;
            filled = true;
        }
        if (!null && !filled) {
            if (is_str) {
                val.s.p = p; /* valid UTF-8 unless flagged (csv.h), as above */
                val.s.n = len;
            } else if (is_serial(&o->pc, f)) {
                null = vp_serial(p, len, in->sheet_date1904, o->pc.type.id != DT_DATE, &val.i) !=
                       VP_OK;
            } else {
                null = vp_parse(&o->pc, p, len, &val) != VP_OK;
            }
        }
        int rc = null ? put_null(out, c, r, o->st) : put_value(out, c, r, &val, o->st);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* The pre-pass of one set's keys (v->keys) of rows [first, first + n): into the spill (set id
 * sid: output column, or v->nout + frame set), else into the set's repeats (struct kdups). */
static int prepass_keys(struct validator *v, struct kdups *dups, uint32_t sid,
                        const struct record_block *in, size_t first, size_t n, struct err *e)
{
    enum { AHEAD = 16 }; /* as insert_keys: every probe of a large set is a cache miss */
    for (size_t r = 0; r < n; r++) {
        if (v->spill == NULL && r + AHEAD < n && v->keys[r + AHEAD].ok) {
            kset_prefetch(&dups->set, v->keys[r + AHEAD]);
        }
        if (!v->keys[r].ok) {
            continue;
        }
        uint64_t line = in->line[first + r];
        int rc = v->spill != NULL ? kspill_put(v->spill, sid, v->keys[r], line, e)
                                  : kdups_put(dups, v->keys[r], line);
        if (rc == AE_INTERNAL) {
            return err_set(e, rc, "line %llu is beyond what the key sets can record",
                           (unsigned long long)line);
        }
        if (rc != 0) {
            return v->spill != NULL ? rc
                                    : err_set(e, AE_NOMEM, "out of memory in the key pre-pass");
        }
    }
    return 0;
}

int validator_prepass(struct validator *v, const struct record_block *in, size_t first,
                      struct err *e)
{
    if (first >= in->nrows || !validator_wants_prepass(v)) {
        return 0;
    }
    size_t n = in->nrows - first;
    if (n > VALIDATE_BATCH_ROWS) {
        return err_set(e, AE_INTERNAL, "validator_prepass: %zu rows in one block (at most %d)", n,
                       VALIDATE_BATCH_ROWS);
    }
    int rc = block_room(v, n);
    if (rc == 0 && v->pbatch_ready && v->pbatch.cap < n) {
        batch_release(&v->pbatch); /* sized for the rows of a block (fewer for a wide file) */
        v->pbatch_ready = false;
    }
    if (rc == 0 && !v->pbatch_ready) {
        struct dtype_info *types = calloc(v->nout ? v->nout : 1, sizeof(*types));
        rc = types == NULL ? AE_NOMEM : 0;
        for (size_t c = 0; c < v->nout && rc == 0; c++) {
            types[c] = v->outs[c].pc.type;
        }
        rc = rc ? rc : batch_init(&v->pbatch, types, v->nout, n);
        free(types);
        v->pbatch_ready = rc == 0;
    }
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    struct batch *b = &v->pbatch;
    batch_reset(b);
    for (size_t r = 0; r < n; r++) {
        size_t i = first + r;
        size_t nf = (size_t)(in->row_first[i + 1] - in->row_first[i]);
        v->skip[r] = row_skipped(v, in, i, nf);
    }
    /* Only key columns are typed; the others stay as batch_reset left them (never read). */
    for (size_t c = 0; c < v->nout && rc == 0; c++) {
        bool key = v->outs[c].unique;
        for (size_t u = 0; u < v->nusets && !key; u++) {
            for (size_t k = 0; k < v->usets[u].ncols && !key; k++) {
                key = v->usets[u].cols[k] == c;
            }
        }
        if (key) {
            rc = type_keys(v, c, in, first, n, b);
        }
    }
    bool cnote = v->spill != NULL || set_mode(v, false) != VDUP_EXCLUDE_FIRST;
    bool fnote = v->spill != NULL || set_mode(v, true) != VDUP_EXCLUDE_FIRST;
    for (size_t c = 0; c < v->nout && rc == 0; c++) {
        if (!v->outs[c].unique || !cnote) {
            continue;
        }
        column_keys(v, c, n, b, 0, v->keys);
        rc = prepass_keys(v, &v->outs[c].dups, (uint32_t)c, in, first, n, e);
    }
    for (size_t u = 0; u < v->nusets && rc == 0 && fnote; u++) {
        if (set_keys(v, &v->usets[u], n, b, 0, v->keys) != 0) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        rc = prepass_keys(v, &v->usets[u].dups, (uint32_t)(v->nout + u), in, first, n, e);
    }
    return rc;
}

int validator_prepass_done(struct validator *v, struct err *e)
{
    v->prepass_done = true;
    batch_release(&v->pbatch);
    v->pbatch_ready = false;
    enum vdup_mode cm = set_mode(v, false), fm = set_mode(v, true);
    v->judged_cols = v->spill != NULL || cm != VDUP_EXCLUDE_FIRST;
    v->judged_frames = v->spill != NULL || fm != VDUP_EXCLUDE_FIRST;
    if (v->spill != NULL) {
        return kspill_finish(v->spill, e);
    }
    for (size_t c = 0; c < v->nout && cm != VDUP_EXCLUDE_FIRST; c++) {
        kdups_finish(&v->outs[c].dups, spill_mode(cm));
    }
    for (size_t u = 0; u < v->nusets && fm != VDUP_EXCLUDE_FIRST; u++) {
        kdups_finish(&v->usets[u].dups, spill_mode(fm));
    }
    return 0;
}

void validator_set_fail_fast(struct validator *v, bool on)
{
    v->fail_fast = on;
}

bool validator_stopped(const struct validator *v)
{
    return v->stopped || (v->fail_fast && v->header_failed);
}

/* ---- blocks, clones, commit ---------------------------------------------------------- */

/* A failure one group found: row of the block, key set (key_sets order), status and aux as in
 * struct vfail. */
struct vufail {
    uint32_t row;
    uint32_t set;
    uint32_t status;
    uint64_t aux;
};

struct vgroup {
    struct vufail *fails;
    size_t nfails, capfails;
    bool full; /* a set's cap (kset_cap) stopped the group's probes: validator_keys_optimistic */
    uint32_t *rows; /* the rows whose key falls in the group's partitions (one set at a time) */
    size_t caprows;
};

struct vblock {
    struct vfail *fails;
    size_t nfails, capfails;
    uint8_t *skip;
    size_t capskip;
    size_t base; /* the block's first row in its batch */
    size_t n;    /* rows validated */
    struct vkey *keys; /* key_sets * n keys, set by set (block_keys), computed where the block
                          was validated, so that only the probes wait for the commit */
    size_t capkeys;
    struct kseq *seqs; /* per key set, the sequence its keys make (block_seqs) */
    size_t capseqs;
    /* validator_unique_group: per group, its rows and the failures it found */
    size_t ngroups;
    struct vgroup *groups;
    bool grouped; /* set by group 0: the probes were made, the commit merges the failures */
};

int vblock_new(struct vblock **out)
{
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? 0 : AE_NOMEM;
}

void vblock_free(struct vblock *vb)
{
    if (vb != NULL) {
        free(vb->fails);
        free(vb->skip);
        free(vb->keys);
        free(vb->seqs);
        for (size_t g = 0; g < vb->ngroups; g++) {
            free(vb->groups[g].fails);
            free(vb->groups[g].rows);
        }
        free(vb->groups);
        free(vb);
    }
}

int vblock_set_groups(struct vblock *vb, size_t groups)
{
    if (vb->ngroups != 0) {
        return vb->ngroups == groups ? 0 : AE_INTERNAL;
    }
    vb->groups = calloc(groups ? groups : 1, sizeof(*vb->groups));
    if (vb->groups == NULL) {
        return AE_NOMEM;
    }
    vb->ngroups = groups;
    return 0;
}

/* Exchanges the block's arrays with the validator's working ones (twice restores both). */
static void vb_swap(struct validator *v, struct vblock *vb)
{
    struct vfail *f = v->fails;
    size_t nf = v->nfails, cf = v->capfails;
    uint8_t *sk = v->skip;
    size_t cs = v->capskip;
    v->fails = vb->fails;
    v->nfails = vb->nfails;
    v->capfails = vb->capfails;
    v->skip = vb->skip;
    v->capskip = vb->capskip;
    vb->fails = f;
    vb->nfails = nf;
    vb->capfails = cf;
    vb->skip = sk;
    vb->capskip = cs;
}

int validator_clone(struct validator **out, const struct validator *v, struct err *e)
{
    /* The same spec and header, compiled again: its own regex match data and unique_values_eq
     * state. Header failures are counted by the clone and emitted only by v. */
    int rc = vnew(out, v->spec, (const char *const *)v->header, v->header_flags, v->nheader,
                  v->header_line, NULL, e);
    if (rc == 0) {
        (*out)->dup_mode = VDUP_EXCLUDE_FIRST; /* clones never run the unique pass */
        (*out)->judged_cols = v->judged_cols;     /* but compute keys only where it needs them */
        (*out)->judged_frames = v->judged_frames;
    }
    return rc;
}

int validator_run_local(struct validator *w, const struct record_block *in, size_t first,
                        struct batch *out, struct vblock *vb, struct err *e)
{
    vb->nfails = 0;
    vb->n = 0;
    vb->base = out->nrows;
    vb->grouped = false;
    if (first >= in->nrows) {
        return 0;
    }
    size_t n = in->nrows - first;
    if (out->ncols != w->nout || out->nrows > out->cap || n > out->cap - out->nrows) {
        return err_set(e, AE_INTERNAL,
                       "validator_run: the batch has %zu columns and room for %zu rows; %zu "
                       "columns and %zu rows are needed",
                       out->ncols, out->cap - out->nrows, w->nout, n);
    }
    vb_swap(w, vb);
    size_t base = out->nrows;
    int rc = block_room(w, n);
    for (size_t r = 0; r < n && rc == 0; r++) {
        size_t i = first + r;
        size_t nf = (size_t)(in->row_first[i + 1] - in->row_first[i]);
        out->line[base + r] = in->line[i];
        out->row_ok[base + r] = 1;
        w->skip[r] = 0;
        uint64_t aux = 0;
        int kind = row_problem(w, in, i, nf, &aux);
        if (kind >= 0) {
            /* Its values mean nothing (a quote swallowed fields, or fields are missing). */
            rc = rec(w, i, UINT32_MAX, (enum vf_kind)kind, 0, 0, aux);
            w->skip[r] = 1;
        } else if (in->row_flags != NULL && (in->row_flags[i] & REC_R_LOOSE_QUOTE)) {
            /* `"p"q` on one line: read as `pq`, leniently; the row stays valid. */
            rc = rec(w, i, UINT32_MAX, VF_QUOTING, 1, 0, 0);
        }
        if (w->skip[r]) {
            out->row_ok[base + r] = 0;
        }
    }
    for (size_t c = 0; c < w->nout && rc == 0; c++) {
        rc = run_column(w, c, in, first, n, out, base);
    }
    size_t nk = key_sets(w);
    if (rc == 0 && nk > 0 && nk * n > vb->capkeys) {
        struct vkey *nkeys = realloc(vb->keys, nk * n * sizeof(*nkeys));
        rc = nkeys == NULL ? AE_NOMEM : 0;
        if (nkeys != NULL) {
            vb->keys = nkeys;
            vb->capkeys = nk * n;
        }
    }
    if (rc == 0 && nk > vb->capseqs) {
        struct kseq *nseqs = realloc(vb->seqs, nk * sizeof(*nseqs));
        rc = nseqs == NULL ? AE_NOMEM : 0;
        if (nseqs != NULL) {
            vb->seqs = nseqs;
            vb->capseqs = nk;
        }
    }
    if (rc == 0 && nk > 0) {
        rc = block_keys(w, n, out, base, vb->keys);
        if (rc == 0) {
            block_seqs(w, n, out, base, vb->keys, vb->seqs);
        }
    }
    vb_swap(w, vb);
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory validating rows");
    }
    out->nrows = base + n;
    vb->n = n;
    return 0;
}

int validator_unique_groups(struct validator *v, size_t groups, struct err *e)
{
    v->ugroups = 0;
    /* The sets the pre-pass judged need no probes; the others are then probed in the commit too
     * (at most a frame-level set kept to its first occurrence beside judged columns), so that a
     * row's failures keep the key sets' order. */
    if (groups < 2 || v->spill != NULL || !any_keys(v) || v->judged_cols || v->judged_frames) {
        return 0;
    }
    size_t nk = key_sets(v);
    free(v->kcol);
    v->kcol = calloc(nk, sizeof(*v->kcol));
    if (v->kcol == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    size_t k = 0;
    int rc = 0;
    for (size_t c = 0; c < v->nout && rc == 0; c++) {
        if (v->outs[c].unique) {
            v->kcol[k++] = (uint32_t)c;
            rc = kset_prepare(&v->outs[c].uset);
        }
    }
    for (size_t u = 0; u < v->nusets && rc == 0; u++) {
        v->kcol[k++] = (uint32_t)(v->nout + u);
        rc = kset_prepare(&v->usets[u].set);
    }
    free(v->gseqs);
    v->gseqs = NULL;
    if (rc == 0 && v->optimistic && (v->gseqs = calloc(groups * nk, sizeof(*v->gseqs))) == NULL) {
        rc = AE_NOMEM;
    }
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    v->ugroups = groups;
    return (int)groups;
}

int validator_unique_group(struct validator *v, struct vblock *vb, const struct record_block *in,
                           size_t first, size_t g, struct err *e)
{
    enum { AHEAD = 16 };
    size_t n = vb->n;
    size_t ng = v->ugroups;
    if (ng == 0 || vb->ngroups != ng || g >= ng) {
        return err_set(e, AE_INTERNAL, "validator_unique_group: group %zu of %zu (block: %zu)", g,
                       ng, vb->ngroups);
    }
    struct vgroup *gr = &vb->groups[g];
    gr->nfails = 0;
    gr->full = false;
    if (n > gr->caprows) {
        uint32_t *nr = realloc(gr->rows, n * sizeof(*nr));
        if (nr == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        gr->rows = nr;
        gr->caprows = n;
    }
    size_t nk = key_sets(v);
    for (size_t k = 0; k < nk; k++) {
        uint32_t id = v->kcol[k];
        bool frame = id >= v->nout;
        struct kset *set = frame ? &v->usets[id - v->nout].set : &v->outs[id].uset;
        const struct vkey *keys = vb->keys + k * n;
        int q = v->gseqs != NULL && n > 0
                    ? kseq_follow(&v->gseqs[g * nk + k], &vb->seqs[k], set, g, ng)
                    : 0;
        if (q == 1) {
            continue; /* the keys continue the sequence: nothing to probe */
        }
        if (q == KSET_FULL) {
            gr->full = true; /* the commit gives the file up (optimistic) */
            break;
        }
        if (q != 0) {
            return err_set(e, AE_NOMEM, "out of memory checking unique keys");
        }
        size_t m = 0;
        for (size_t r = 0; r < n; r++) {
            if (keys[r].ok && kset_part_of(keys[r]) % ng == g) {
                gr->rows[m++] = (uint32_t)r;
            }
        }
        for (size_t i = 0; i < m; i++) {
            if (i + AHEAD < m) {
                kset_prefetch(set, keys[gr->rows[i + AHEAD]]);
            }
            uint32_t r = gr->rows[i];
            unsigned status = 0;
            uint64_t aux = 0;
            int rc = probe_key(set, keys[r], in->line[first + r], &status, &aux);
            if (rc == 1) {
                struct vufail *nf = kgrow(gr->fails, &gr->capfails, gr->nfails + 1, sizeof(*nf));
                if (nf == NULL) {
                    return err_set(e, AE_NOMEM, "out of memory");
                }
                gr->fails = nf;
            }
            if (rc == 1) {
                gr->fails[gr->nfails++] = (struct vufail){r, (uint32_t)k, status, aux};
            } else if (rc == KSET_FULL) {
                gr->full = true; /* the commit gives the file up (optimistic) */
                break;
            } else if (rc == AE_INTERNAL) {
                return err_set(e, rc, "a line number beyond %llu: the key sets cannot record it",
                               (unsigned long long)KSET_MAX_LINE);
            } else if (rc != 0) {
                return err_set(e, AE_NOMEM, "out of memory checking unique keys");
            }
        }
    }
    if (g == 0) {
        vb->grouped = true;
    }
    return 0;
}

static int cmp_ufail(const void *a, const void *b)
{
    const struct vufail *x = a;
    const struct vufail *y = b;
    if (x->row != y->row) {
        return x->row < y->row ? -1 : 1;
    }
    return x->set < y->set ? -1 : (x->set > y->set);
}

/* The groups' failures recorded as run_unique records them: by row, then key set. */
static int merge_groups(struct validator *v, struct vblock *vb, size_t first, size_t n,
                        struct batch *out, size_t base, struct err *e)
{
    (void)n;
    size_t total = 0;
    bool full = false;
    for (size_t g = 0; g < vb->ngroups; g++) {
        total += vb->groups[g].nfails;
        full = full || vb->groups[g].full;
    }
    if (full) {
        return 1; /* only an optimistic check has a cap */
    }
    if (total == 0) {
        return 0;
    }
    if (v->optimistic) {
        return 1; /* a repeated key: validator_keys_optimistic lost */
    }
    struct vufail *all = malloc(total * sizeof(*all));
    if (all == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    size_t at = 0;
    for (size_t g = 0; g < vb->ngroups; g++) {
        if (vb->groups[g].nfails > 0) {
            memcpy(all + at, vb->groups[g].fails, vb->groups[g].nfails * sizeof(*all));
            at += vb->groups[g].nfails;
        }
    }
    qsort(all, total, sizeof(*all), cmp_ufail);
    int rc = 0;
    for (size_t i = 0; i < total && rc == 0; i++) {
        uint32_t id = v->kcol[all[i].set];
        bool frame = id >= v->nout;
        rc = rec(v, first + all[i].row, frame ? id - (uint32_t)v->nout : id,
                 frame ? VF_FRAME_UNIQUE : VF_UNIQUE, all[i].status, 0, all[i].aux);
        out->row_ok[base + all[i].row] = 0;
    }
    free(all);
    return rc != 0 ? err_set(e, AE_NOMEM, "out of memory") : 0;
}

/* The index's checks on rows [first, first + n) of the block (batch rows from base): the index is
 * the 0-based position of the row among the file's data rows, known here, in file order. */
static int run_index(struct validator *v, size_t first, size_t n, struct batch *out, size_t base)
{
    if (!v->has_index) {
        return 0;
    }
    for (size_t r = 0; r < n; r++) {
        union vp_val pos;
        pos.i = (int64_t)(v->counts.rows_read + r);
        for (size_t k = 0; k < v->ivc.nchecks; k++) {
            struct vcheck *ck = &v->ivc.checks[k];
            if (vck_eval(ck, &v->ivc.pc, &pos, out->line[base + r]) == VCK_PASS) {
                continue;
            }
            bool warn = ck->spec->raise_warning;
            if (rec(v, first + r, UINT32_MAX, VF_INDEX, warn ? 1 : 0, k, 0) != 0) {
                return AE_NOMEM;
            }
            if (!warn) {
                out->row_ok[base + r] = 0;
            }
        }
    }
    return 0;
}

int validator_commit(struct validator *v, struct vblock *vb, const struct record_block *in,
                     size_t first, struct batch *out, struct err *e)
{
    size_t n = vb->n;
    size_t base = vb->base;
    if (n == 0 || validator_stopped(v)) {
        out->nrows = base;
        return 0;
    }
    if (validator_wants_prepass(v) && !v->prepass_done) {
        return err_set(e, AE_INTERNAL,
                       "validator_run: the unique check (report_duplicates: %s%s) needs "
                       "validator_prepass over the whole file first",
                       v->spec->schema.report_duplicates ? v->spec->schema.report_duplicates
                                                         : "exclude_first",
                       v->spill != NULL ? ", spilled to disk" : "");
    }
    vb_swap(v, vb);
    int rc = block_room(v, n);
    if (rc != 0) {
        vb_swap(v, vb);
        return err_set(e, AE_NOMEM, "out of memory validating rows");
    }
    if (vb->grouped) {
        vb->grouped = false;
        rc = merge_groups(v, vb, first, n, out, base, e);
    } else {
        rc = 0;
        if (v->optimistic && v->kseqs == NULL && key_sets(v) > 0) {
            v->kseqs = calloc(key_sets(v), sizeof(*v->kseqs));
            rc = v->kseqs == NULL ? err_set(e, AE_NOMEM, "out of memory") : 0;
        }
        if (rc == 0) {
            rc = run_unique(v, vb->keys, vb->seqs, in, first, n, out, base, e);
        }
    }
    if (rc == 1) {
        /* validator_keys_optimistic: nothing of this block counts, and the file stops here */
        v->keys_retry = true;
        v->stopped = true;
        vb_swap(v, vb);
        out->nrows = base;
        return 0;
    }
    if (rc != 0) {
        vb_swap(v, vb);
        return rc;
    }
    if (run_index(v, first, n, out, base) != 0) {
        vb_swap(v, vb);
        return err_set(e, AE_NOMEM, "out of memory validating rows");
    }
    if (v->nfails > 1) {
        qsort(v->fails, v->nfails, sizeof(*v->fails), cmp_fail);
    }
    if (v->fail_fast) {
        /* Stop at the row of the first error (warnings do not stop): that row's cases are all
         * reported, later rows are neither counted nor handed on. */
        for (size_t k = 0; k < v->nfails; k++) {
            bool warn = v->fails[k].kind == VF_QUOTING ||
                        ((v->fails[k].kind == VF_CHECK || v->fails[k].kind == VF_CHECK_NULL ||
                          v->fails[k].kind == VF_INDEX) &&
                         v->fails[k].status != 0);
            if (warn) {
                continue;
            }
            uint32_t stop_row = v->fails[k].row;
            size_t keep = k + 1;
            while (keep < v->nfails && v->fails[keep].row == stop_row) {
                keep++;
            }
            v->nfails = keep;
            n = stop_row - first + 1;
            v->stopped = true;
            break;
        }
    }
    out->nrows = base + n;
    uint64_t ok = 0;
    for (size_t r = 0; r < n; r++) {
        ok += out->row_ok[base + r];
    }
    v->block_row0 = v->counts.rows_read;
    v->block_first = first;
    v->counts.rows_read += n;
    v->counts.rows_valid += ok;
    v->counts.rows_invalid += n - ok;
    if (v->spec->schema.drop_columns && ok < n) {
        v->counts.rows_droppable += droppable_rows(v, first, n);
    }
    for (size_t k = 0; k < v->nfails && rc == 0; k++) {
        rc = emit_one(v, &v->fails[k], in, e);
    }
    v->nfails = 0;
    vb_swap(v, vb);
    return rc;
}

int validator_absorb(struct validator *v, const struct validator *w, struct err *e)
{
    /* unique_values_eq: values seen anywhere count, and the first value outside the set is the
     * one on the lowest line. Both validators compiled the same schema for the same header. */
    for (size_t c = 0; c < v->nout && c < w->nout; c++) {
        const struct vout *o = &v->outs[c];
        const struct vout *wo = &w->outs[c];
        for (size_t k = 0; o->vc != NULL && wo->vc != NULL && k < o->vc->nchecks; k++) {
            struct vcheck *ck = &o->vc->checks[k];
            const struct vcheck *wk = &wo->vc->checks[k];
            if (ck->kind != CK_UNIQUE_EQ) {
                continue;
            }
            for (size_t s = 0; s < ck->nset; s++) {
                ck->seen[s] |= wk->seen[s];
            }
            if (wk->extra && (!ck->extra || wk->extra_line < ck->extra_line)) {
                char *val = NULL;
                if (wk->extra_val != NULL && (val = strdup(wk->extra_val)) == NULL) {
                    return err_set(e, AE_NOMEM, "out of memory");
                }
                free(ck->extra_val);
                ck->extra_val = val;
                ck->extra = true;
                ck->extra_line = wk->extra_line;
            }
        }
    }
    return 0;
}

int validator_run(struct validator *v, const struct record_block *in, size_t first,
                  struct batch *out, struct err *e)
{
    if (first >= in->nrows || validator_stopped(v)) {
        return 0;
    }
    /* (validator_commit refuses a block when a needed pre-pass was not done.) */
    if (v->own_block == NULL && vblock_new(&v->own_block) != 0) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = validator_run_local(v, in, first, out, v->own_block, e);
    return rc != 0 ? rc : validator_commit(v, v->own_block, in, first, out, e);
}

/* unique_values_eq: the values Pandera would find missing, as written in the schema. */
static int missing_values(const struct vcheck *ck, const struct vp_col *pc, struct buf *b)
{
    const struct check_spec *cs = ck->spec;
    size_t shown = 0;
    for (size_t a = 0; a < cs->nargs; a++) {
        const struct cfg_arg *arg = &cs->args[a];
        if (!arg->is_list) {
            continue;
        }
        for (size_t k = 0; k < arg->nitems; k++) {
            const char *t = arg->items[k];
            if (t == NULL) {
                continue;
            }
            const char *p = t;
            size_t n = strlen(t);
            if (pc->type.id != DT_STR) {
                vp_trim(&p, &n);
            }
            union vp_val val;
            struct vp_col canon = vp_col_canonical(pc); /* arguments are ISO, plain numbers */
            if (vp_parse(&canon, p, n, &val) != VP_OK) {
                continue;
            }
            /* Find it in the sorted set by linear scan: this runs once per file. */
            for (size_t s = 0; s < ck->nset; s++) {
                union vp_val tmp = val;
                struct vcheck probe = *ck;
                probe.kind = CK_EQ;
                probe.lo = ck->set[s];
                if (vck_eval(&probe, pc, &tmp, 0) && !ck->seen[s]) {
                    if ((shown++ > 0 && buf_puts(b, ", ") != 0) || buf_putc(b, '\'') != 0 ||
                        buf_puts(b, t) != 0 || buf_putc(b, '\'') != 0) {
                        return AE_NOMEM;
                    }
                    break;
                }
            }
        }
    }
    return 0;
}

int validator_finish(struct validator *v, struct err *e)
{
    if (v->finished || validator_stopped(v)) {
        return 0;
    }
    v->finished = true;
    for (size_t c = 0; c < v->nout; c++) {
        struct vout *o = &v->outs[c];
        for (size_t k = 0; o->vc != NULL && k < o->vc->nchecks; k++) {
            struct vcheck *ck = &o->vc->checks[k];
            if (ck->kind != CK_UNIQUE_EQ) {
                continue;
            }
            struct buf miss = BUF_INIT;
            if (missing_values(ck, &o->pc, &miss) != 0) {
                buf_release(&miss);
                return err_set(e, AE_NOMEM, "out of memory");
            }
            if (miss.len == 0 && !ck->extra) {
                buf_release(&miss);
                continue;
            }
            char msg[1100];
            char extra[300] = "";
            if (ck->extra) {
                snprintf(extra, sizeof(extra), "%sfound %s (first at line %llu), not in the list",
                         miss.len ? "; " : "", ck->extra_val ? ck->extra_val : "a value",
                         (unsigned long long)ck->extra_line);
            }
            snprintf(msg, sizeof(msg), "the unique values of column '%s' differ from %s: %s%.*s%s",
                     o->name, ck->shown, miss.len ? "missing " : "", (int)miss.len,
                     miss.data ? miss.data : "", extra);
            struct failure f = {0};
            f.line = 0;
            f.column = o->name;
            f.check = ck->label;
            f.message = ck->spec->error ? ck->spec->error : msg;
            f.warning = ck->spec->raise_warning;
            buf_release(&miss);
            int rc = vemit(v, &f, e);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}
