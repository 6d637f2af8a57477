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
    int rc = v->fs.emit(v->fs.ctx, f);
    if (rc != 0) {
        return err_set(e, rc, "could not record a failure case (line %llu, check %s): %s",
                       (unsigned long long)f->line, f->check, err_code_name(rc));
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

int validate_schema_check(const struct schema *s, struct err *e)
{
    for (size_t k = 0; k < s->ncols; k++) {
        const struct column_spec *cs = &s->cols[k];
        for (size_t j = 0; j < k; j++) {
            if (cs->name && s->cols[j].name && strcmp(cs->name, s->cols[j].name) == 0) {
                return verr_at(e, &cs->loc, "column '%s' is declared twice", cs->name);
            }
        }
        struct vcolumn vc;
        int rc = vcol_compile(&vc, cs, (locale_t)0, e);
        if (rc != 0) {
            return rc;
        }
        vcol_release(&vc);
    }
    return check_unique_sets(s, e);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

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

int validator_new(struct validator **out, const struct ingest_spec *spec, const char *const *header,
                  size_t nheader, uint64_t header_line, const struct failure_sink *fs,
                  struct err *e)
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
        rc = vcol_compile(&v->vcols[k], &s->cols[k], v->c_locale, e);
        if (rc != 0) {
            goto fail;
        }
        v->nvcols++;
    }
    rc = vheader_map(v, header, nheader, e);
    if (rc != 0) {
        goto fail;
    }
    rc = build_usets(v, e);
    if (rc != 0) {
        goto fail;
    }
    *out = v;
    return 0;
fail:
    validator_free(v);
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
    if (v->outs != NULL) {
        for (size_t c = 0; c < v->nout; c++) {
            free(v->outs[c].name);
            vset_release(&v->outs[c].uset);
            vset_release(&v->outs[c].pset);
        }
    }
    free(v->outs);
    if (v->usets != NULL) {
        for (size_t u = 0; u < v->nusets; u++) {
            free(v->usets[u].cols);
            free(v->usets[u].label);
            vset_release(&v->usets[u].set);
            vset_release(&v->usets[u].pset);
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
    free(v->fails);
    free(v->skip);
    vblock_free(v->own_block);
    free(v->hashes);
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
    /* Pandera: the schema's coerce applies to every column. */
    bool coerce = (o->vc != NULL && o->vc->spec->coerce) || v->spec->schema.coerce;
    enum vjson_fit other = t == REC_F_JSON_STRING   ? VJ_STRING
                           : t == REC_F_JSON_NUMBER ? VJ_NUMBER
                                                    : VJ_BOOL;
    switch (o->pc.type.id) {
    case DT_STR: return t == REC_F_JSON_STRING || coerce ? VJ_OK : other;
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
            /* A fraction never fits, coerce or not; 3.0 and 1e3 are whole numbers. */
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
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ:
        /* JSON has no date type: dates are strings. */
        return t == REC_F_JSON_STRING || coerce ? VJ_OK : other;
    }
    return VJ_OK;
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
        const char *p = f->p;
        size_t len = f->len;
        if (f->flags & REC_F_BAD_ENCODING) {
            rc = put_null(out, c, row, o->st);
            rc = rc ? rc : rec(v, i, (uint32_t)c, VF_ENCODING, 0, 0, 0);
            out->row_ok[row] = 0;
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (f->flags & REC_F_JSON_MASK) {
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
        bool null;
        const char *tp = p;
        size_t tl = len;
        if (is_str) {
            /* PostgreSQL's CSV rule: only an unquoted empty field is null; "" is a string. */
            null = !(f->flags & REC_F_QUOTED) && (len == 0 || (o->nv_lens && is_marker(o, p, len)));
        } else {
            vp_trim(&tp, &tl);
            null = tl == 0 || (o->nv_lens && is_marker(o, p, len));
        }
        union vp_val val;
        int st;
        if (null && has_default) {
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
            if (!vck_eval(&checks[k], pc, &val, in->line[i])) {
                bool warn = checks[k].spec->raise_warning;
                rc = rec(v, i, (uint32_t)c, VF_CHECK, warn, k, 0);
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

/* The hash of one column's value: its bytes alone (no length prefix is needed for a single
 * value), normalised as in key_bytes. */
static struct vhash key_hash_one(const struct batch *out, size_t c, size_t row)
{
    const struct column *col = &out->cols[c];
    switch (dtype_storage(col->type.id)) {
    case DS_BYTES:
        return vh_hash(col->data.data + col->offs[row], col->offs[row + 1] - col->offs[row], 0);
    case DS_U8: return vh_hash(&col->v.u8[row], 1, 0);
    case DS_I64: return vh_hash(&col->v.i64[row], 8, 0);
    case DS_F64: {
        double d = col->v.f64[row];
        if (d == 0) {
            d = 0.0;
        } else if (isnan(d)) {
            d = NAN;
        }
        return vh_hash(&d, 8, 0);
    }
    case DS_I128: return vh_hash(&col->v.i128[row], 16, 0);
    }
    return vh_hash(NULL, 0, 0);
}

/* Inserts the hashes of one block into set in row order, prefetching the slot of the key a few
 * rows ahead: with millions of keys every probe is a cache miss, and this hides most of them.
 * Which occurrences fail follows v->dup_mode; pset holds the pre-pass (last line, VSET_DUP).
 * vfail.status: 0 = seen before at aux, 1 = seen again later (last at aux), 2 = the same, while
 * the last occurrence is kept. */
static int insert_hashes(struct validator *v, struct vset *set, const struct vset *pset,
                         const struct record_block *in, size_t first, size_t n, struct batch *out,
                         size_t base, uint32_t col, enum vf_kind kind)
{
    enum { AHEAD = 8 };
    bool keep_last = v->dup_mode == VDUP_EXCLUDE_LAST;
    if (!keep_last && vset_reserve(set, n) != 0) {
        return AE_NOMEM;
    }
    for (size_t r = 0; r < n; r++) {
        if (!keep_last && r + AHEAD < n &&
            (v->hashes[r + AHEAD].lo | v->hashes[r + AHEAD].hi) != 0) {
            __builtin_prefetch(vset_slot_for(set, v->hashes[r + AHEAD]));
        }
        if ((v->hashes[r].lo | v->hashes[r].hi) == 0) {
            continue;
        }
        uint64_t line = in->line[first + r];
        int rc = 0;
        if (keep_last) {
            uint64_t last = 0;
            if (vset_get(pset, v->hashes[r], &last) == 1 && (last & VSET_DUP) &&
                (last & ~VSET_DUP) != line) {
                rc = rec(v, first + r, col, kind, 2, 0, last & ~VSET_DUP);
                out->row_ok[base + r] = 0;
            }
        } else {
            uint64_t seen_at = 0;
            rc = vset_add(set, v->hashes[r], line, &seen_at);
            if (rc == 1) {
                rc = rec(v, first + r, col, kind, 0, 0, seen_at);
                out->row_ok[base + r] = 0;
            } else if (rc == 0 && v->dup_mode == VDUP_ALL) {
                uint64_t last = 0;
                if (vset_get(pset, v->hashes[r], &last) == 1 && (last & VSET_DUP)) {
                    rc = rec(v, first + r, col, kind, 1, 0, last & ~VSET_DUP);
                    out->row_ok[base + r] = 0;
                }
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* v->hashes[r] = the key of column c in row base + r (all-zero when there is none). */
static void column_hashes(struct validator *v, size_t c, size_t n, const struct batch *out,
                          size_t base)
{
    for (size_t r = 0; r < n; r++) {
        size_t row = base + r;
        v->hashes[r].lo = 0;
        v->hashes[r].hi = 0;
        if (v->skip[r] || !out->cols[c].valid[row]) {
            continue;
        }
        v->hashes[r] = key_hash_one(out, c, row);
    }
}

/* v->hashes[r] = the key of frame-level set us in row base + r (none when a member is null). */
static int set_hashes(struct validator *v, const struct vuset *us, size_t n,
                      const struct batch *out, size_t base)
{
    for (size_t r = 0; r < n; r++) {
        size_t row = base + r;
        v->hashes[r].lo = 0;
        v->hashes[r].hi = 0;
        bool any_null = v->skip[r];
        for (size_t k = 0; k < us->ncols && !any_null; k++) {
            any_null = !out->cols[us->cols[k]].valid[row];
        }
        if (any_null) {
            continue;
        }
        buf_reset(&v->scratch);
        for (size_t k = 0; k < us->ncols; k++) {
            if (key_bytes(&v->scratch, out, us->cols[k], row) != 0) {
                return AE_NOMEM;
            }
        }
        v->hashes[r] = vh_hash(v->scratch.data, v->scratch.len, 1);
    }
    return 0;
}

static int run_unique(struct validator *v, const struct record_block *in, size_t first, size_t n,
                      struct batch *out, size_t base)
{
    for (size_t c = 0; c < v->nout; c++) {
        struct vout *o = &v->outs[c];
        if (!o->unique) {
            continue;
        }
        column_hashes(v, c, n, out, base);
        int rc =
            insert_hashes(v, &o->uset, &o->pset, in, first, n, out, base, (uint32_t)c, VF_UNIQUE);
        if (rc != 0) {
            return rc;
        }
    }
    for (size_t u = 0; u < v->nusets; u++) {
        struct vuset *us = &v->usets[u];
        int rc = set_hashes(v, us, n, out, base);
        if (rc == 0) {
            rc = insert_hashes(v, &us->set, &us->pset, in, first, n, out, base, (uint32_t)u,
                               VF_FRAME_UNIQUE);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
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

/* How a duplicate's message ends: which occurrence the mode keeps. */
static void dup_tail(const struct validator *v, const struct vfail *vf, char *buf, size_t n)
{
    (void)vf;
    switch (v->dup_mode) {
    case VDUP_EXCLUDE_FIRST: snprintf(buf, n, "the first occurrence is kept"); break;
    case VDUP_EXCLUDE_LAST: snprintf(buf, n, "the last occurrence is kept"); break;
    case VDUP_ALL: snprintf(buf, n, "report_duplicates: all fails every occurrence"); break;
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

static int emit_one(struct validator *v, const struct vfail *vf, const struct record_block *in,
                    struct err *e)
{
    char msg[1100];
    char check[160];
    char q[160];
    struct failure f = {0};
    size_t i = vf->row;
    f.line = in->line[i];
    f.row = v->block_row0 + (i - v->block_first) + 1;
    if (in->raw != NULL) {
        f.raw = in->raw[i];
        f.raw_len = in->raw_len[i];
    }
    f.message = msg;
    f.check = check;
    const struct vout *o = vf->col < v->nout ? &v->outs[vf->col] : NULL;
    const struct record_field *fld = NULL;
    if (o != NULL && vf->kind != VF_FRAME_UNIQUE && vf->kind != VF_FIELD_COUNT &&
        vf->kind != VF_UNTERMINATED && vf->kind != VF_RECORD_LINES && vf->kind != VF_UNREADABLE) {
        f.column = o->name;
        fld = out_field(o, in, i);
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
        snprintf(check, sizeof(check), "json_record");
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
                                                     : NULL;
        vp_quote(q, sizeof(q), fld->p, fld->len, 120);
        if (vf->status == VJ_COMPOSITE) {
            snprintf(msg, sizeof(msg),
                     "column '%s' (%s) got a JSON %s %s: only a scalar value fits a column", o->name,
                     tn, fld->len > 0 && fld->p[0] == '[' ? "array" : "object", q);
        } else if (vf->status == VJ_FRACTION) {
            snprintf(msg, sizeof(msg),
                     "JSON number %.*s has a fraction: not a value of column '%s' (%s), even with "
                     "coerce",
                     (int)(fld->len < 60 ? fld->len : 60), fld->p, o->name, tn);
        } else {
            snprintf(msg, sizeof(msg),
                     "JSON %s %s%.*s%s in column '%s': a %s is not a %s value unless the column "
                     "has coerce: true",
                     what, vf->status == VJ_STRING ? "\"" : "",
                     (int)(fld->len < 120 ? fld->len : 120), fld->p,
                     vf->status == VJ_STRING ? "\"" : "", o->name, what, tn);
        }
        break;
    }
    case VF_ENCODING:
        snprintf(check, sizeof(check), "encoding");
        snprintf(msg, sizeof(msg), "%s is not valid %s",
                 vp_quote(q, sizeof(q), fld->p, fld->len, 120),
                 v->spec->encoding ? v->spec->encoding : "utf-8");
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
        char tn[48];
        snprintf(check, sizeof(check), "dtype('%s')", dtype_name(o->pc.type, tn, sizeof(tn)));
        vp_message(msg, sizeof(msg), vf->status, &o->pc, fld->p, fld->len);
        break;
    }
    case VF_CHECK:
    case VF_CHECK_NULL: {
        const struct vcheck *ck = &o->vc->checks[vf->check];
        f.check = ck->label;
        f.check_number = (uint32_t)vf->check + 1;
        f.warning = vf->status != 0;
        if (vf->kind == VF_CHECK_NULL) {
            f.value = NULL;
            f.value_len = 0;
        }
        if (ck->spec->error != NULL) {
            snprintf(msg, sizeof(msg), "%s", ck->spec->error);
        } else {
            vck_message(ck, msg, sizeof(msg), f.value, f.value_len);
        }
        break;
    }
    case VF_UNIQUE: {
        snprintf(check, sizeof(check), "unique");
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
            const struct record_field *kf = out_field(&v->outs[us->cols[k]], in, i);
            if ((k > 0 && buf_puts(&v->scratch, ", ") != 0) ||
                buf_append(&v->scratch, kf->p, kf->len) != 0) {
                return err_set(e, AE_NOMEM, "out of memory");
            }
        }
        f.column = us->label;
        f.value = v->scratch.data;
        f.value_len = v->scratch.len;
        snprintf(check, sizeof(check), "frame_unique");
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
    if (n > v->caphashes) {
        struct vhash *nh = realloc(v->hashes, n * sizeof(*nh));
        if (nh == NULL) {
            return AE_NOMEM;
        }
        v->hashes = nh;
        v->caphashes = n;
    }
    return 0;
}

bool validator_wants_prepass(const struct validator *v)
{
    if (v->dup_mode == VDUP_EXCLUDE_FIRST) {
        return false;
    }
    bool any = v->nusets > 0;
    for (size_t c = 0; c < v->nout && !any; c++) {
        any = v->outs[c].unique;
    }
    return any;
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
        const char *p = f->p;
        size_t len = f->len;
        bool misfit = (f->flags & REC_F_JSON_MASK) && json_fit(v, o, f) != VJ_OK;
        bool null = v->skip[r] || (f->flags & REC_F_BAD_ENCODING) || misfit;
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
        union vp_val val;
        if (null && !v->skip[r] && !(f->flags & REC_F_BAD_ENCODING) && !misfit && o->vc != NULL &&
            o->vc->has_default) {
            val = o->vc->defval;
            null = false;
            filled = true;
        }
        if (!null && !filled) {
            if (is_str) {
                val.s.p = p; /* valid UTF-8 unless flagged (csv.h), as above */
                val.s.n = len;
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
    if (rc == 0 && !v->pbatch_ready) {
        struct dtype_info *types = calloc(v->nout ? v->nout : 1, sizeof(*types));
        rc = types == NULL ? AE_NOMEM : 0;
        for (size_t c = 0; c < v->nout && rc == 0; c++) {
            types[c] = v->outs[c].pc.type;
        }
        rc = rc ? rc : batch_init(&v->pbatch, types, v->nout, VALIDATE_BATCH_ROWS);
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
    for (size_t c = 0; c < v->nout && rc == 0; c++) {
        if (!v->outs[c].unique) {
            continue;
        }
        column_hashes(v, c, n, b, 0);
        for (size_t r = 0; r < n && rc == 0; r++) {
            if ((v->hashes[r].lo | v->hashes[r].hi) != 0) {
                rc = vset_note_last(&v->outs[c].pset, v->hashes[r], in->line[first + r]);
            }
        }
    }
    for (size_t u = 0; u < v->nusets && rc == 0; u++) {
        rc = set_hashes(v, &v->usets[u], n, b, 0);
        for (size_t r = 0; r < n && rc == 0; r++) {
            if ((v->hashes[r].lo | v->hashes[r].hi) != 0) {
                rc = vset_note_last(&v->usets[u].pset, v->hashes[r], in->line[first + r]);
            }
        }
    }
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory in the duplicate pre-pass");
    }
    return 0;
}

void validator_prepass_done(struct validator *v)
{
    v->prepass_done = true;
    batch_release(&v->pbatch);
    v->pbatch_ready = false;
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

struct vblock {
    struct vfail *fails;
    size_t nfails, capfails;
    uint8_t *skip;
    size_t capskip;
    size_t base; /* the block's first row in its batch */
    size_t n;    /* rows validated */
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
        free(vb);
    }
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
    int rc = validator_new(out, v->spec, (const char *const *)v->header, v->nheader, v->header_line,
                           NULL, e);
    if (rc == 0) {
        (*out)->dup_mode = VDUP_EXCLUDE_FIRST; /* clones never run the unique pass */
    }
    return rc;
}

int validator_run_local(struct validator *w, const struct record_block *in, size_t first,
                        struct batch *out, struct vblock *vb, struct err *e)
{
    vb->nfails = 0;
    vb->n = 0;
    vb->base = out->nrows;
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
        }
        if (w->skip[r]) {
            out->row_ok[base + r] = 0;
        }
    }
    for (size_t c = 0; c < w->nout && rc == 0; c++) {
        rc = run_column(w, c, in, first, n, out, base);
    }
    vb_swap(w, vb);
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "out of memory validating rows");
    }
    out->nrows = base + n;
    vb->n = n;
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
                       "validator_run: report_duplicates: %s needs validator_prepass over the "
                       "whole file first",
                       v->spec->schema.report_duplicates);
    }
    vb_swap(v, vb);
    int rc = block_room(v, n);
    if (rc == 0) {
        rc = run_unique(v, in, first, n, out, base);
    }
    if (rc != 0) {
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
            bool warn = (v->fails[k].kind == VF_CHECK || v->fails[k].kind == VF_CHECK_NULL) &&
                        v->fails[k].status != 0;
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
            if (vp_parse(pc, p, n, &val) != VP_OK) {
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
