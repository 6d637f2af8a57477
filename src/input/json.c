/*
 * json.c - the NDJSON and JSON input readers (input.h): `format: ndjson` (one object per line)
 * and `format: json` (a top-level array of objects), streamed: only the records of the block being
 * filled are in memory, never the whole file.
 *
 * Work is split in two (input_ops.complete): json_next only delimits records (their raw text,
 * line and count), sequentially; json_complete parses a block's records and fills its fields,
 * on any thread, while the reader delimits the next block. Records are parsed by astro's own
 * one-pass parser (below: "the record parser"), which hands jansson every record whose reading it
 * cannot promise to be jansson's (invalid JSON among them), so every verdict and reason below is
 * jansson's. Per format:
 * - NDJSON: a record is a line (LF or CRLF); lines holding only whitespace are skipped (and
 *   counted). A line that jansson refuses, or that is not an object, is an unreadable record
 *   (REC_R_UNREADABLE, a row failure with jansson's reason): the next line is unaffected.
 * - JSON: a small scanner walks the array structure (whitespace, '[', ',', ']') and finds the
 *   extent of each element by counting brackets outside strings; each element then goes to
 *   jansson. An element jansson refuses, or that is not an object, is an unreadable record; a
 *   broken structure (no '[', a missing ',', text after the ']', a file that ends inside the
 *   array) is refused with AE_FORMAT (the file fails with check "json"), since the records after
 *   it can no longer be delimited.
 * Every record has one field per schema column (input_ops.names: the schema's names), looked up by
 * key: the column's `path:` (dotted keys) or its name (the key as written, else, when the name
 * holds dots, as a dotted path). A missing key, or a path through something that is not an
 * object, is a JSON null. Field text and flags follow records.h (REC_F_JSON_*). line is the
 * physical line where the record starts (NDJSON: its line; JSON: the line of its opening brace);
 * offset its first byte's offset in the (decompressed) text, for failure reports.
 *
 * Invariants: ib[ipos..ilen) holds bytes not yet delimited; line is the physical line of
 * ib[ipos]. The raw text of the records of one call goes into tx (offsets until the call ends),
 * which is then swapped with the block's utext; json_complete writes field text into the block's
 * text buffer (records.h: the block owns both). raw pointers therefore never move while fields
 * are added.
 */
#include "input/json.h"

#include "input/input.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_CHUNK ((size_t)256 << 10)
/* A record longer than this fails the file: holding it would defeat bounded memory. */
#define JSON_MAX_RECORD ((size_t)64 << 20)

enum jstate { J_START, J_FIRST, J_ELEM, J_SEP, J_END };

struct jpath {
    const char *literal; /* the column name, tried as one key first; NULL with a path: */
    size_t literal_len;
    char **keys; /* the dotted path split, or NULL when the name has no dot */
    size_t nkeys;
};

struct json_reader {
    struct source *src; /* borrowed */
    bool array;         /* format json (else ndjson) */
    bool reference;     /* parse every record with jansson (json_parse_one's reference) */
    const char **names; /* the schema's column names (borrowed from the spec) */
    struct jpath *paths;
    size_t ncols;
    char *ib;
    size_t ipos, ilen, icap;
    uint64_t ib_at; /* the offset in the file's text of ib[0] */
    bool eof, bom_checked;
    uint64_t line;
    uint64_t records; /* records returned so far */
    enum jstate st;
    struct buf tx;
    size_t *roff;
    size_t cap_roff;
    struct err failed; /* sticky */
};

/* The key paths json_list_keys collects, in order of first appearance. */
struct jkeys {
    char **v;
    size_t n, cap;
    bool full; /* over JSON_MAX_KEYS */
    struct buf path;
};

static int keys_add(struct jkeys *k, const char *p, size_t n)
{
    for (size_t i = 0; i < k->n; i++) {
        if (strlen(k->v[i]) == n && memcmp(k->v[i], p, n) == 0) {
            return 0;
        }
    }
    if (k->n == JSON_MAX_KEYS) {
        k->full = true;
        return 0;
    }
    if (buf_grow_array((void **)&k->v, &k->cap, k->n + 1, sizeof(*k->v)) != 0 ||
        (k->v[k->n] = strndup(p, n)) == NULL) {
        return AE_NOMEM;
    }
    k->n++;
    return 0;
}

/* Adds the leaves of obj under the path now in k->path. */
static int keys_walk(struct jkeys *k, const json_t *obj)
{
    const char *key;
    const json_t *val;
    size_t base = k->path.len;
    int rc = 0;
    json_object_foreach((json_t *)(uintptr_t)obj, key, val)
    {
        k->path.len = base;
        if ((base > 0 && buf_putc(&k->path, '.') != 0) || buf_puts(&k->path, key) != 0) {
            return AE_NOMEM;
        }
        if (json_is_object(val) && json_object_size(val) > 0) {
            rc = keys_walk(k, val);
        } else {
            rc = keys_add(k, k->path.data, k->path.len);
        }
        if (rc != 0) {
            return rc;
        }
    }
    k->path.len = base;
    return 0;
}

/* ---- buffers ------------------------------------------------------------------------------ */

/* Room for one more row in b (and the reader's raw offsets). */
static int reserve_row(struct json_reader *r, struct record_block *b)
{
    size_t need = b->nrows + 2;
    if (record_block_want_offsets(b) != 0 || record_block_reserve(b, 1, 0) != 0) {
        return AE_NOMEM;
    }
    return buf_grow_array((void **)&r->roff, &r->cap_roff, need, sizeof(*r->roff));
}

/* Reads more bytes after ib[ilen), keeping ib[ipos..ilen) (moved to the front): at least
 * pending + JSON_CHUNK of room, so a long record costs O(its length) in rescans. */
static int fill(struct json_reader *r, struct err *e)
{
    size_t keep = r->ilen - r->ipos;
    if (r->ipos > 0) {
        memmove(r->ib, r->ib + r->ipos, keep);
        r->ib_at += r->ipos;
        r->ipos = 0;
        r->ilen = keep;
    }
    size_t want = keep > JSON_CHUNK ? keep : JSON_CHUNK;
    if (r->icap - r->ilen < want) {
        size_t c = r->icap;
        if (buf_grow_array((void **)&r->ib, &c, r->ilen + want, 1) != 0) {
            return err_set(e, AE_NOMEM, "%s: out of memory reading", source_name(r->src));
        }
        r->icap = c;
    }
    size_t got = 0;
    int rc = source_read(r->src, r->ib + r->ilen, r->icap - r->ilen, &got, e);
    if (rc != 0) {
        return rc;
    }
    r->ilen += got;
    r->eof = got == 0;
    return 0;
}

static int too_long(struct json_reader *r, struct err *e)
{
    return err_set(e, AE_FORMAT, "%s: line %llu: a record is longer than %zu bytes",
                   source_name(r->src), (unsigned long long)r->line, JSON_MAX_RECORD);
}

/* ---- fields ------------------------------------------------------------------------------- */

/* Appends a field whose text goes to fb (its offset, until fb stops moving). */
static int put_text(struct buf *fb, struct record_block *b, const char *p, size_t n, uint8_t flags)
{
    struct record_field *f = &b->fields[b->nfields++];
    f->off = fb->len;
    f->len = (uint32_t)n;
    f->flags = flags;
    return n > 0 ? buf_append(fb, p, n) : 0;
}

/* A real as the shortest text that reads back as the same double (12.34, not 12.3399...). */
static void real_text(double d, char *out, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            return;
        }
    }
}

static int put_value(struct buf *fb, struct record_block *b, const json_t *v)
{
    char num[64];
    switch (v != NULL ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL: return put_text(fb, b, NULL, 0, REC_F_JSON_NULL);
    case JSON_TRUE: return put_text(fb, b, "true", 4, REC_F_JSON_BOOL);
    case JSON_FALSE: return put_text(fb, b, "false", 5, REC_F_JSON_BOOL);
    case JSON_STRING:
        return put_text(fb, b, json_string_value(v), json_string_length(v),
                        REC_F_JSON_STRING | REC_F_QUOTED);
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return put_text(fb, b, num, strlen(num), REC_F_JSON_NUMBER);
    case JSON_REAL:
        real_text(json_real_value(v), num, sizeof(num));
        return put_text(fb, b, num, strlen(num), REC_F_JSON_NUMBER);
    case JSON_OBJECT:
    case JSON_ARRAY: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s == NULL) {
            return AE_NOMEM;
        }
        int rc = put_text(fb, b, s, strlen(s), REC_F_JSON_COMPOSITE);
        free(s);
        return rc;
    }
    }
    return 0;
}

static const json_t *lookup(const struct jpath *jp, const json_t *obj)
{
    if (jp->literal != NULL) {
        const json_t *v = json_object_get(obj, jp->literal);
        if (v != NULL || jp->keys == NULL) {
            return v;
        }
    }
    const json_t *cur = obj;
    for (size_t k = 0; k < jp->nkeys && cur != NULL; k++) {
        cur = json_is_object(cur) ? json_object_get(cur, jp->keys[k]) : NULL;
    }
    return cur;
}

static const char *type_word(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    case JSON_OBJECT: return "an object";
    }
    return "a value";
}

/* Adds the record text[0..n) that starts on line, unparsed (parse_block parses it). */
static int add_record(struct json_reader *r, struct record_block *b, const char *text, size_t n,
                      uint64_t line)
{
    if (reserve_row(r, b) != 0) {
        return AE_NOMEM;
    }
    size_t i = b->nrows;
    b->line[i] = line;
    b->row_flags[i] = 0;
    b->raw_len[i] = (uint32_t)n;
    b->offset[i] = r->ib_at + (uint64_t)(text - r->ib);
    r->roff[i] = r->tx.len;
    r->records++;
    int rc = buf_append(&r->tx, text, n);
    if (rc == 0) {
        b->nrows++;
    }
    return rc;
}

/* ---- the record parser ------------------------------------------------------------------------
 *
 * jansson builds a tree of every record (an allocation per value, its own number formatting), and
 * that was most of the cost of reading JSON (bench/README.md). The readers parse with this parser
 * instead: one pass over the record's text that checks it is RFC 8259 JSON (UTF-8 included) as
 * strictly as jansson does, notes the extent of each top-level member, and copies the fields of
 * the schema's columns straight into the block. It gives up ("defers") on anything whose result it
 * cannot promise to be jansson's: text jansson may refuse (then jansson's exact reason is wanted),
 * a key holding an escape, an integer beyond int64, a composite value in a column, deeper nesting
 * or more keys than its fixed stacks hold. A deferred record goes to jansson (parse_record), so the
 * fields, flags and messages of every record are those the jansson path gives; tests/unit
 * (test_json_fast_parser) and tests/fuzz/fuzz_json compare the two on the same records. */

#define FP_MAX_DEPTH 64
#define FP_MAX_KEYS 256

enum fp_type { FP_STRING, FP_NUMBER, FP_TRUE, FP_FALSE, FP_NULL, FP_OBJECT, FP_ARRAY };

struct fp_val {
    const char *p;   /* the value's first byte (a string's opening quote) */
    const char *end; /* one past its last byte */
    uint8_t type;
    bool escaped; /* a string holding a backslash */
    bool real;    /* a number with a fraction or an exponent */
};

struct fp_member {
    const char *key; /* the key's bytes (no escapes: see above) */
    size_t klen;
    struct fp_val v;
};

/* The members of the objects being parsed, as a stack: once the record is parsed, m[0..n) are the
 * top-level object's members (nested objects pop theirs when they end). */
struct fp {
    const char *end;
    size_t n;
    struct fp_member m[FP_MAX_KEYS];
};

static const char *fp_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }
    return p;
}

/* The length of the UTF-8 sequence at p (p[0] >= 0x80), 0 when it is not one RFC 3629 allows
 * (overlong forms, surrogates and code points beyond U+10FFFF included). */
static size_t fp_utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (c == 0xE0 && p[1] < 0xA0) ||
            (c == 0xED && p[1] >= 0xA0)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80 ||
            (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

static bool fp_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned)(c - 'A' + 10);
        } else {
            return false;
        }
        v = v * 16 + d;
    }
    *out = v;
    return true;
}

/* A string at *pp (its opening quote): checked, *pp moved past it. */
static bool fp_string(const struct fp *f, const char **pp, struct fp_val *v)
{
    const unsigned char *p = (const unsigned char *)*pp + 1;
    const unsigned char *end = (const unsigned char *)f->end;
    v->p = *pp;
    v->type = FP_STRING;
    v->escaped = false;
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    for (;;) {
        /* Eight bytes at a time while none is special: a byte below 0x20, '"', '\\' or one of
         * UTF-8 (the usual has-zero-byte test, exact about whether some byte matches; ~w stands
         * for ~q and ~b, which have the same high bits once no byte of w has its own). */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
            uint64_t special = ((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & highs;
            special |= w & highs;
            if (special != 0) {
                break;
            }
            p += 8;
        }
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
        }
        if (p >= end) {
            return false;
        }
        unsigned c = *p;
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return false; /* a control character: jansson refuses it */
        }
        if (c == '\\') {
            v->escaped = true;
            if (end - p < 2) {
                return false;
            }
            unsigned d = p[1];
            if (d != 'u') {
                if (d != '"' && d != '\\' && d != '/' && d != 'b' && d != 'f' && d != 'n' &&
                    d != 'r' && d != 't') {
                    return false;
                }
                p += 2;
                continue;
            }
            unsigned cp, lo;
            if (end - p < 6 || !fp_hex4((const char *)p + 2, &cp) || cp == 0 ||
                (cp >= 0xDC00 && cp <= 0xDFFF)) {
                return false; /* \u0000 is refused by jansson, and so is a lone low surrogate */
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                    !fp_hex4((const char *)p + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    return false;
                }
                p += 12;
            } else {
                p += 6;
            }
            continue;
        }
        size_t n = fp_utf8_len(p, end);
        if (n == 0) {
            return false;
        }
        p += n;
    }
    v->end = (const char *)p + 1;
    *pp = v->end;
    return true;
}

/* True when the integer text[0..n) (RFC 8259 grammar, no fraction or exponent) fits int64, as
 * jansson requires. */
static bool fp_int64(const char *text, size_t n)
{
    bool neg = text[0] == '-';
    size_t d = n - neg;
    if (d < 19) {
        return true;
    }
    if (d > 19) {
        return false;
    }
    return memcmp(text + neg, neg ? "9223372036854775808" : "9223372036854775807", 19) <= 0;
}

static bool fp_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* Past one or more digits at p; NULL when there is none. */
static const char *fp_digits(const char *p, const char *end)
{
    if (!fp_digit(p, end)) {
        return NULL;
    }
    while (fp_digit(p, end)) {
        p++;
    }
    return p;
}

/* A number at *pp, by RFC 8259's grammar (what follows it is the caller's to check). */
static bool fp_number(const struct fp *f, const char **pp, struct fp_val *v)
{
    const char *p = *pp, *end = f->end;
    v->p = p;
    v->type = FP_NUMBER;
    v->real = false;
    if (*p == '-') {
        p++;
    }
    if (!fp_digit(p, end)) {
        return false;
    }
    if (*p == '0') {
        p++;
    } else {
        while (fp_digit(p, end)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        p = fp_digits(p + 1, end);
        if (p == NULL) {
            return false;
        }
        v->real = true;
    }
    bool exp = p < end && (*p == 'e' || *p == 'E');
    if (exp) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        p = fp_digits(p, end);
        if (p == NULL) {
            return false;
        }
        v->real = true;
    }
    v->end = p;
    *pp = p;
    /* jansson refuses an integer beyond int64 and a real beyond a double's range, wherever they
     * are in the record: defer those (only an exponent or 300 digits can overflow a double). */
    size_t n = (size_t)(p - v->p);
    if (!v->real) {
        return fp_int64(v->p, n);
    }
    if (exp || n > 300) {
        char tmp[400];
        if (n >= sizeof(tmp)) {
            return false;
        }
        memcpy(tmp, v->p, n);
        tmp[n] = '\0';
        errno = 0;
        double d = strtod(tmp, NULL);
        return !((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE);
    }
    return true;
}

static bool fp_value(struct fp *f, const char **pp, struct fp_val *v, int depth);

/* After a member or element of a container closed by close: moves *pp past the ',' (and the
 * whitespace after it) and returns 1, or past close and returns 0; -1 for anything else. */
static int fp_after(const char **pp, const char *end, char close)
{
    const char *p = fp_ws(*pp, end);
    if (p < end && *p == ',') {
        *pp = fp_ws(p + 1, end);
        return 1;
    }
    if (p < end && *p == close) {
        *pp = p + 1;
        return 0;
    }
    return -1;
}

/* An object at *pp ('{'), at depth (the record is depth 1). Its members are pushed on f's stack,
 * and popped again when it is nested (depth > 1). A repeated key defers, as jansson refuses it. */
static bool fp_object(struct fp *f, const char **pp, struct fp_val *v, int depth)
{
    if (depth > FP_MAX_DEPTH) {
        return false;
    }
    const char *p = fp_ws(*pp + 1, f->end), *end = f->end;
    size_t base = f->n;
    v->p = *pp;
    v->type = FP_OBJECT;
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            struct fp_val k;
            if (p >= end || *p != '"' || !fp_string(f, &p, &k) || k.escaped) {
                return false;
            }
            const char *key = k.p + 1;
            size_t klen = (size_t)(k.end - k.p) - 2;
            for (size_t j = base; j < f->n; j++) {
                if (f->m[j].klen == klen && (klen == 0 || f->m[j].key[0] == key[0]) &&
                    memcmp(f->m[j].key, key, klen) == 0) {
                    return false;
                }
            }
            if (f->n == FP_MAX_KEYS) {
                return false;
            }
            size_t at = f->n++;
            f->m[at].key = key;
            f->m[at].klen = klen;
            p = fp_ws(p, end);
            if (p >= end || *p != ':') {
                return false;
            }
            p = fp_ws(p + 1, end);
            struct fp_val val;
            if (p >= end || !fp_value(f, &p, &val, depth)) {
                return false;
            }
            f->m[at].v = val;
            int more = fp_after(&p, end, '}');
            if (more < 0) {
                return false;
            }
            if (more == 0) {
                break;
            }
        }
    }
    if (depth > 1) {
        f->n = base;
    }
    v->end = p;
    *pp = p;
    return true;
}

static bool fp_array(struct fp *f, const char **pp, struct fp_val *v, int depth)
{
    if (depth > FP_MAX_DEPTH) {
        return false;
    }
    const char *p = fp_ws(*pp + 1, f->end), *end = f->end;
    v->p = *pp;
    v->type = FP_ARRAY;
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            struct fp_val e;
            if (p >= end || !fp_value(f, &p, &e, depth)) {
                return false;
            }
            int more = fp_after(&p, end, ']');
            if (more < 0) {
                return false;
            }
            if (more == 0) {
                break;
            }
        }
    }
    v->end = p;
    *pp = p;
    return true;
}

static bool fp_literal(const struct fp *f, const char **pp, struct fp_val *v, const char *word,
                       size_t n, enum fp_type t)
{
    if ((size_t)(f->end - *pp) < n || memcmp(*pp, word, n) != 0) {
        return false;
    }
    v->p = *pp;
    v->end = *pp + n;
    v->type = (uint8_t)t;
    *pp += n;
    return true;
}

/* The value at *pp (not whitespace, before f->end), inside a container at depth. */
static bool fp_value(struct fp *f, const char **pp, struct fp_val *v, int depth)
{
    switch (**pp) {
    case '"': return fp_string(f, pp, v);
    case '{': return fp_object(f, pp, v, depth + 1);
    case '[': return fp_array(f, pp, v, depth + 1);
    case 't': return fp_literal(f, pp, v, "true", 4, FP_TRUE);
    case 'f': return fp_literal(f, pp, v, "false", 5, FP_FALSE);
    case 'n': return fp_literal(f, pp, v, "null", 4, FP_NULL);
    default: return fp_number(f, pp, v);
    }
}

/* The member key of the (already checked) object obj, into *out; *found false when it has none. */
static bool fp_member(struct fp *f, const struct fp_val *obj, const char *key, size_t klen,
                      struct fp_val *out, bool *found)
{
    const char *p = fp_ws(obj->p + 1, obj->end), *end = obj->end;
    *found = false;
    if (*p == '}') {
        return true;
    }
    for (;;) {
        struct fp_val k, v;
        if (!fp_string(f, &p, &k)) {
            return false;
        }
        p = fp_ws(fp_ws(p, end) + 1, end); /* the ':' */
        if (!fp_value(f, &p, &v, 1)) {
            return false;
        }
        if ((size_t)(k.end - k.p) - 2 == klen && memcmp(k.p + 1, key, klen) == 0) {
            *out = v;
            *found = true;
            return true;
        }
        p = fp_ws(p, end);
        if (*p == '}') {
            return true;
        }
        p = fp_ws(p + 1, end);
    }
}

/* The value of column jp in the record parsed into f (as lookup() finds it in jansson's tree). */
static bool fp_lookup(struct fp *f, const struct jpath *jp, struct fp_val *out, bool *found)
{
    size_t top = f->n;
    *found = false;
    if (jp->literal != NULL) {
        size_t n = jp->literal_len;
        for (size_t j = 0; j < top; j++) {
            if (f->m[j].klen == n && (n == 0 || f->m[j].key[0] == jp->literal[0]) &&
                memcmp(f->m[j].key, jp->literal, n) == 0) {
                *out = f->m[j].v;
                *found = true;
                return true;
            }
        }
        if (jp->keys == NULL) {
            return true;
        }
    }
    struct fp_val cur = {0};
    for (size_t k = 0; k < jp->nkeys; k++) {
        const char *key = jp->keys[k];
        size_t n = strlen(key);
        bool hit = false;
        if (k == 0) {
            for (size_t j = 0; j < top && !hit; j++) {
                if (f->m[j].klen == n && memcmp(f->m[j].key, key, n) == 0) {
                    cur = f->m[j].v;
                    hit = true;
                }
            }
        } else if (cur.type == FP_OBJECT) {
            struct fp_val next;
            if (!fp_member(f, &cur, key, n, &next, &hit)) {
                return false;
            }
            f->n = top;
            cur = next;
        }
        if (!hit) {
            return true;
        }
    }
    *out = cur;
    *found = true;
    return true;
}

/* Appends the code point cp as UTF-8. */
static int fp_put_utf8(struct buf *fb, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(fb, u, n);
}

/* Appends the text of the (checked) string between p and end, its escapes decoded. */
static int fp_unescape(struct buf *fb, const char *p, const char *end)
{
    while (p < end) {
        const char *q = memchr(p, '\\', (size_t)(end - p));
        if (q == NULL) {
            return buf_append(fb, p, (size_t)(end - p));
        }
        if (q > p && buf_append(fb, p, (size_t)(q - p)) != 0) {
            return AE_NOMEM;
        }
        char c = q[1];
        int rc;
        if (c == 'u') {
            unsigned cp = 0, lo = 0;
            (void)fp_hex4(q + 2, &cp);
            q += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                (void)fp_hex4(q + 2, &lo);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            rc = fp_put_utf8(fb, cp);
        } else {
            char d = c == 'b'   ? '\b'
                     : c == 'f' ? '\f'
                     : c == 'n' ? '\n'
                     : c == 'r' ? '\r'
                     : c == 't' ? '\t'
                                : c;
            rc = buf_putc(fb, d);
            q += 2;
        }
        if (rc != 0) {
            return AE_NOMEM;
        }
        p = q;
    }
    return 0;
}

/* The text jansson's path gives a real written as text[0..n) (-?digits.digits, no exponent):
 * real_text() finds the shortest of %.15g..%.17g that reads back, and a decimal of at most 15
 * significant digits reads back at %.15g (DBL_DIG) as its own digits, trailing zeros dropped,
 * in fixed notation when its exponent is in [-4, 15) (C17 7.21.6.1, %g). Returns the length
 * written to out, or 0 when the number is not of that kind (then strtod and real_text decide). */
static size_t fp_simple_real(const char *text, size_t n, char *out)
{
    const char *p = text, *end = text + n;
    bool neg = *p == '-';
    p += neg;
    const char *dot = memchr(p, '.', (size_t)(end - p));
    if (dot == NULL || memchr(p, 'e', (size_t)(end - p)) != NULL ||
        memchr(p, 'E', (size_t)(end - p)) != NULL) {
        return 0;
    }
    const char *fend = end;
    while (fend > dot + 1 && fend[-1] == '0') {
        fend--;
    }
    size_t ilen = (size_t)(dot - p), flen = (size_t)(fend - dot - 1);
    size_t sig;
    if (ilen == 1 && *p == '0') {
        size_t z = 0;
        while (z < flen && dot[1 + z] == '0') {
            z++;
        }
        if (flen == 0) {
            memcpy(out, neg ? "-0" : "0", neg ? 3 : 2);
            return neg ? 2 : 1;
        }
        if (z > 3) {
            return 0; /* below 1e-4: %g writes an exponent */
        }
        sig = flen - z;
    } else {
        sig = ilen + flen;
    }
    if (sig > 15) {
        return 0;
    }
    size_t k = 0;
    if (neg) {
        out[k++] = '-';
    }
    memcpy(out + k, p, ilen);
    k += ilen;
    if (flen > 0) {
        out[k++] = '.';
        memcpy(out + k, dot + 1, flen);
        k += flen;
    }
    return k;
}

/* Appends the field of value v (NULL: a missing key). Returns 0, 1 to defer, or AE_NOMEM. */
static int fp_put(struct buf *fb, struct record_block *b, const struct fp_val *v)
{
    if (v == NULL) {
        return put_text(fb, b, NULL, 0, REC_F_JSON_NULL);
    }
    switch ((enum fp_type)v->type) {
    case FP_NULL: return put_text(fb, b, NULL, 0, REC_F_JSON_NULL);
    case FP_TRUE: return put_text(fb, b, "true", 4, REC_F_JSON_BOOL);
    case FP_FALSE: return put_text(fb, b, "false", 5, REC_F_JSON_BOOL);
    case FP_STRING: {
        const char *s = v->p + 1;
        size_t n = (size_t)(v->end - v->p) - 2;
        if (!v->escaped) {
            return put_text(fb, b, s, n, REC_F_JSON_STRING | REC_F_QUOTED);
        }
        size_t off = fb->len;
        if (fp_unescape(fb, s, s + n) != 0) {
            return AE_NOMEM;
        }
        struct record_field *f = &b->fields[b->nfields++];
        f->off = off;
        f->len = (uint32_t)(fb->len - off);
        f->flags = REC_F_JSON_STRING | REC_F_QUOTED;
        return 0;
    }
    case FP_NUMBER: {
        size_t n = (size_t)(v->end - v->p);
        if (!v->real) {
            if (n == 2 && v->p[0] == '-' && v->p[1] == '0') {
                return put_text(fb, b, "0", 1, REC_F_JSON_NUMBER);
            }
            return put_text(fb, b, v->p, n, REC_F_JSON_NUMBER);
        }
        char num[64];
        size_t k = n < 40 ? fp_simple_real(v->p, n, num) : 0;
        if (k == 0) {
            char tmp[400];
            if (n >= sizeof(tmp)) {
                return 1;
            }
            memcpy(tmp, v->p, n);
            tmp[n] = '\0';
            real_text(strtod(tmp, NULL), num, sizeof(num)); /* in range: fp_number */
            k = strlen(num);
        }
        return put_text(fb, b, num, k, REC_F_JSON_NUMBER);
    }
    case FP_OBJECT:
    case FP_ARRAY: return 1; /* jansson's compact text of it is wanted */
    }
    return 1;
}

/* Parses record i of b into one field per column, appending field text to fb. Returns 0, 1 when
 * the record is deferred to jansson (b and fb are then as they were), or AE_NOMEM. */
static int fast_record(const struct json_reader *r, struct record_block *b, size_t i,
                       struct buf *fb)
{
    struct fp f;
    const char *s = b->raw[i];
    f.end = s + b->raw_len[i];
    f.n = 0;
    const char *p = fp_ws(s, f.end);
    struct fp_val top;
    if (p >= f.end || *p != '{' || !fp_object(&f, &p, &top, 1) || fp_ws(p, f.end) != f.end) {
        return 1;
    }
    size_t nf0 = b->nfields, len0 = fb->len;
    int rc = 0;
    for (size_t c = 0; c < r->ncols && rc == 0; c++) {
        struct fp_val v;
        bool found;
        if (!fp_lookup(&f, &r->paths[c], &v, &found)) {
            rc = 1;
        } else {
            rc = fp_put(fb, b, found ? &v : NULL);
        }
    }
    if (rc != 0) {
        b->nfields = nf0;
        fb->len = len0;
    }
    return rc;
}

/* Parses record i of b into one field per column (or an unreadable record with jansson's
 * reason), appending field text to fb; keys, when not NULL, collects the object's key paths. */
static int parse_record(const struct json_reader *r, struct record_block *b, size_t i,
                        struct buf *fb, struct jkeys *keys)
{
    b->row_first[i] = (uint32_t)b->nfields;
    if (buf_grow_array((void **)&b->fields, &b->cap_fields, b->nfields + r->ncols + 1,
             sizeof(*b->fields)) != 0) {
        return AE_NOMEM;
    }
    if (keys == NULL && !r->reference) {
        int frc = fast_record(r, b, i, fb);
        if (frc <= 0) {
            return frc;
        }
    }
    json_error_t je;
    json_t *v =
        json_loadb(b->raw[i], b->raw_len[i], JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    char why[400];
    int rc = 0;
    if (v == NULL) {
        uint64_t at = b->line[i] + (uint64_t)(je.line > 1 ? je.line - 1 : 0);
        if (r->array) {
            snprintf(why, sizeof(why), "the record is not valid JSON: %s (line %llu, column %d)",
                     je.text, (unsigned long long)at, je.column);
        } else {
            snprintf(why, sizeof(why), "not valid JSON: %s (column %d)", je.text, je.column);
        }
    } else if (!json_is_object(v)) {
        snprintf(why, sizeof(why), "the %s is %s, not a JSON object", r->array ? "record" : "line",
                 type_word(v));
    } else {
        if (keys != NULL) {
            keys->path.len = 0;
            rc = keys_walk(keys, v);
        }
        for (size_t c = 0; c < r->ncols && rc == 0; c++) {
            rc = put_value(fb, b, lookup(&r->paths[c], v));
        }
        json_decref(v);
        return rc;
    }
    json_decref(v);
    b->row_flags[i] |= REC_R_UNREADABLE;
    return put_text(fb, b, why, strlen(why), 0);
}

/* Parses every record of a block json_next delimited. Touches only b (its fields and its text
 * buffer) and r's immutable column paths, so blocks can be parsed on several threads at once. */
static int parse_block(const struct json_reader *r, struct record_block *b, struct jkeys *keys)
{
    /* The block's text buffer (records.h) holds the field text; raw stays in utext. */
    struct buf fb = {b->text, 0, b->text_cap, 0};
    b->nfields = 0;
    int rc = 0;
    for (size_t i = 0; i < b->nrows && rc == 0; i++) {
        rc = parse_record(r, b, i, &fb, keys);
    }
    b->text = fb.data;
    b->text_cap = fb.cap;
    if (rc != 0) {
        b->nrows = 0;
        b->nfields = 0;
        return rc;
    }
    b->row_first[b->nrows] = (uint32_t)b->nfields;
    /* A block whose fields are all empty (every key missing) has no text buffer: its fields
     * point at an empty string, never at NULL + 0 (undefined; found by tests/fuzz/fuzz_json). */
    for (size_t k = 0; k < b->nfields; k++) {
        b->fields[k].p = b->text != NULL ? b->text + b->fields[k].off : "";
    }
    return 0;
}

/* ---- delimiting --------------------------------------------------------------------------- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips a UTF-8 BOM at the start of the file. Returns 2 when more bytes are needed. */
static int skip_bom(struct json_reader *r)
{
    if (r->bom_checked) {
        return 0;
    }
    if (r->ilen - r->ipos < 3 && !r->eof) {
        return 2;
    }
    if (r->ilen - r->ipos >= 3 && memcmp(r->ib + r->ipos, "\xEF\xBB\xBF", 3) == 0) {
        r->ipos += 3;
    }
    r->bom_checked = true;
    return 0;
}

/* NDJSON: the next non-blank line into b. Returns 1 for a record, 0 at end of file, 2 when more
 * bytes are needed, or a negative AE_* code. */
static int next_line(struct json_reader *r, struct record_block *b, struct err *e)
{
    for (;;) {
        const char *s = r->ib + r->ipos;
        size_t avail = r->ilen - r->ipos;
        const char *nl = memchr(s, '\n', avail);
        if (nl == NULL && !r->eof) {
            return avail > JSON_MAX_RECORD ? too_long(r, e) : 2;
        }
        size_t len = nl != NULL ? (size_t)(nl - s) : avail;
        if (nl == NULL && len == 0) {
            return 0;
        }
        if (len > JSON_MAX_RECORD) {
            return too_long(r, e);
        }
        uint64_t line = r->line;
        r->ipos += len + (nl != NULL);
        r->line++;
        size_t tl = len;
        if (tl > 0 && s[tl - 1] == '\r') {
            tl--;
        }
        bool blank = true;
        for (size_t k = 0; k < tl && blank; k++) {
            blank = is_ws(s[k]);
        }
        if (!blank) {
            int rc = add_record(r, b, s, tl, line);
            return rc != 0 ? err_set(e, rc, "%s: out of memory", source_name(r->src)) : 1;
        }
    }
}

/* The end of the JSON value starting at s[0] (not whitespace) within s[0..n): its length, 0 when
 * it runs past n. Objects and arrays end at their matching bracket (strings skipped, escapes
 * included); a string at its closing quote; anything else before ',', ']', '}' or whitespace. The
 * scanner only delimits: jansson judges the text. *nl counts its line breaks. */
static size_t value_extent(const char *s, size_t n, bool eof, uint64_t *nl)
{
    size_t depth = 0;
    bool in_str = false;
    *nl = 0;
    if (s[0] != '{' && s[0] != '[' && s[0] != '"') {
        size_t k = 0;
        while (k < n && s[k] != ',' && s[k] != ']' && s[k] != '}' && !is_ws(s[k])) {
            k++;
        }
        return k < n || eof ? k : 0;
    }
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    for (size_t k = 0; k < n; k++) {
        if (in_str) {
            /* Inside a string only '"', '\\' and line breaks matter: skip eight bytes at a time
             * while none is one of them or another byte below 0x20 (fp_string's test, without
             * stopping at UTF-8). */
            while (n - k >= 8) {
                uint64_t w;
                memcpy(&w, s + k, 8);
                uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
                if ((((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & highs) != 0) {
                    break;
                }
                k += 8;
            }
            if (k == n) {
                break;
            }
        }
        char c = s[k];
        if (c == '\n') {
            (*nl)++;
        }
        if (in_str) {
            if (c == '\\') {
                k++;
                if (k < n && s[k] == '\n') {
                    (*nl)++;
                }
            } else if (c == '"') {
                in_str = false;
                if (depth == 0) {
                    return k + 1;
                }
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                return k + 1;
            }
        }
    }
    return 0;
}

static int structure_error(struct json_reader *r, struct err *e, const char *what)
{
    return err_set(e, AE_FORMAT, "%s: line %llu: %s", source_name(r->src),
                   (unsigned long long)r->line, what);
}

/* JSON: the next element of the array into b; returns as next_line. */
static int next_elem(struct json_reader *r, struct record_block *b, struct err *e)
{
    for (;;) {
        while (r->ipos < r->ilen && is_ws(r->ib[r->ipos])) {
            r->line += r->ib[r->ipos] == '\n';
            r->ipos++;
        }
        if (r->ipos == r->ilen) {
            if (!r->eof) {
                return 2;
            }
            switch (r->st) {
            case J_END: return 0;
            case J_START:
                return structure_error(r, e, "the file holds no JSON array (expected '[')");
            case J_FIRST:
            case J_ELEM:
            case J_SEP:
                return structure_error(r, e,
                                       "the file ends inside the JSON array (no closing ']'): "
                                       "truncated?");
            }
        }
        char c = r->ib[r->ipos];
        switch (r->st) {
        case J_START:
            if (c != '[') {
                return structure_error(r, e, "expected a JSON array of objects ('[')");
            }
            r->ipos++;
            r->st = J_FIRST;
            continue;
        case J_SEP:
            if (c == ',') {
                r->ipos++;
                r->st = J_ELEM;
                continue;
            }
            if (c == ']') {
                r->ipos++;
                r->st = J_END;
                continue;
            }
            {
                char msg[160];
                snprintf(msg, sizeof(msg), "expected ',' or ']' after record %llu, found '%c'",
                         (unsigned long long)r->records, c);
                return structure_error(r, e, msg);
            }
        case J_END: return structure_error(r, e, "text after the end of the JSON array");
        case J_FIRST:
            if (c == ']') {
                r->ipos++;
                r->st = J_END;
                continue;
            }
            break;
        case J_ELEM:
            if (c == ']') {
                return structure_error(r, e, "a ',' before ']' (trailing comma)");
            }
            break;
        }
        if (c == ',' || c == ']' || c == '}') {
            char msg[80];
            snprintf(msg, sizeof(msg), "expected a record, found '%c'", c);
            return structure_error(r, e, msg);
        }
        uint64_t nl = 0;
        size_t avail = r->ilen - r->ipos;
        size_t len = value_extent(r->ib + r->ipos, avail, r->eof, &nl);
        if (len == 0) {
            if (r->eof) {
                return structure_error(r, e,
                                       "the file ends inside a record (an unclosed bracket or "
                                       "string): truncated?");
            }
            return avail > JSON_MAX_RECORD ? too_long(r, e) : 2;
        }
        if (len > JSON_MAX_RECORD) {
            return too_long(r, e);
        }
        uint64_t line = r->line;
        const char *s = r->ib + r->ipos;
        r->ipos += len;
        r->line += nl;
        r->st = J_SEP;
        int rc = add_record(r, b, s, len, line);
        return rc != 0 ? err_set(e, rc, "%s: out of memory", source_name(r->src)) : 1;
    }
}

/* ---- the reader ---------------------------------------------------------------------------- */

static void json_reader_free(void *impl)
{
    struct json_reader *r = impl;
    if (r == NULL) {
        return;
    }
    for (size_t c = 0; r->paths != NULL && c < r->ncols; c++) {
        for (size_t k = 0; k < r->paths[c].nkeys; k++) {
            free(r->paths[c].keys[k]);
        }
        free(r->paths[c].keys);
    }
    free(r->paths);
    free(r->names);
    free(r->ib);
    buf_release(&r->tx);
    free(r->roff);
    free(r);
}

/* Splits a dotted path into its keys. */
static int split_path(const char *path, struct jpath *jp)
{
    size_t n = 1;
    for (const char *p = path; *p; p++) {
        n += *p == '.';
    }
    jp->keys = calloc(n, sizeof(*jp->keys));
    if (jp->keys == NULL) {
        return AE_NOMEM;
    }
    const char *p = path;
    for (size_t k = 0; k < n; k++) {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
        jp->keys[k] = strndup(p, len);
        if (jp->keys[k] == NULL) {
            return AE_NOMEM;
        }
        jp->nkeys = k + 1;
        p += len + 1;
    }
    return 0;
}

static int json_open_common(void **impl, struct source *src, const struct ingest_spec *spec,
                            bool array, struct err *e)
{
    *impl = NULL;
    struct json_reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    /* jansson seeds its hash function on first use; seed it now, while one thread runs, since
     * blocks are parsed on several threads (input_ops.complete). Later calls change nothing. */
    json_object_seed(0);
    r->src = src;
    r->array = array;
    r->line = 1;
    buf_init(&r->tx, 0);
    const struct schema *s = &spec->schema;
    r->names = calloc(s->ncols ? s->ncols : 1, sizeof(*r->names));
    r->paths = calloc(s->ncols ? s->ncols : 1, sizeof(*r->paths));
    if (r->names == NULL || r->paths == NULL) {
        json_reader_free(r);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t c = 0; c < s->ncols; c++) {
        const struct column_spec *cs = &s->cols[c];
        if (cs->regex) {
            json_reader_free(r);
            return err_set(e, AE_CONFIG, "%s: regex column '%s' cannot be read from %s",
                           src != NULL ? source_name(src) : "json", cs->name,
                           array ? "JSON" : "NDJSON");
        }
        r->names[c] = cs->name;
        r->ncols = c + 1;
        struct jpath *jp = &r->paths[c];
        jp->literal = cs->path != NULL ? NULL : cs->name;
        jp->literal_len = jp->literal != NULL ? strlen(jp->literal) : 0;
        const char *dotted = cs->path != NULL ? cs->path : cs->name;
        if ((cs->path != NULL || strchr(cs->name, '.') != NULL) && split_path(dotted, jp) != 0) {
            json_reader_free(r);
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    *impl = r;
    return 0;
}

static int ndjson_open(void **impl, struct source *src, const struct ingest_spec *spec,
                       struct err *e)
{
    return json_open_common(impl, src, spec, false, e);
}

static int json_open(void **impl, struct source *src, const struct ingest_spec *spec, struct err *e)
{
    return json_open_common(impl, src, spec, true, e);
}

static int json_next(void *impl, struct record_block *b, size_t max_rows, struct err *e)
{
    struct json_reader *r = impl;
    b->nrows = 0;
    b->nfields = 0;
    if (r->failed.code != 0) {
        return input_failed(&r->failed, e);
    }
    if (max_rows == 0) {
        return err_set(e, AE_INTERNAL, "json_next: max_rows must be at least 1");
    }
    buf_reset(&r->tx);
    int rc = 0;
    /* Every record takes ncols + 1 fields at most once parsed: row_first must index them. */
    size_t cap_rows = (UINT32_MAX / 2) / (r->ncols + 1);
    while (b->nrows < max_rows && b->nrows < cap_rows) {
        rc = skip_bom(r);
        if (rc == 0) {
            rc = r->array ? next_elem(r, b, e) : next_line(r, b, e);
        }
        if (rc <= 0) {
            break; /* end of file or a failure */
        }
        if (rc == 2 && (rc = fill(r, e)) != 0) {
            break;
        }
        rc = 0;
    }
    if (rc < 0 && input_fail(&r->failed, b, rc, true, e) != 0) {
        return rc;
    }
    /* Offsets become pointers now that tx no longer moves; the block takes the text. */
    struct buf t = b->utext;
    b->utext = r->tx;
    r->tx = t;
    buf_reset(&r->tx);
    for (size_t i = 0; i < b->nrows; i++) {
        b->raw[i] = b->utext.data + r->roff[i];
    }
    return 0;
}

static int json_complete(const void *impl, struct record_block *b, struct err *e)
{
    const struct json_reader *r = impl;
    if (parse_block(r, b, NULL) != 0) {
        return err_set(e, AE_NOMEM, "%s: out of memory parsing JSON", source_name(r->src));
    }
    return 0;
}

static uint64_t json_position(const void *impl)
{
    const struct json_reader *r = impl;
    return r->line;
}

static size_t json_names(const void *impl, const char *const **names)
{
    const struct json_reader *r = impl;
    *names = r->names;
    return r->ncols;
}

const struct input_ops input_ndjson_ops = {
    .name = "ndjson",
    .refusal_check = "json",
    .open = ndjson_open,
    .next = json_next,
    .position = json_position,
    .names = json_names,
    .complete = json_complete,
    .free = json_reader_free,
};

const struct input_ops input_json_ops = {
    .name = "json",
    .refusal_check = "json",
    .open = json_open,
    .next = json_next,
    .position = json_position,
    .names = json_names,
    .complete = json_complete,
    .free = json_reader_free,
};

int json_list_keys(struct source *src, enum input_format f, uint64_t max_rows, char ***keys,
                   size_t *n, struct err *e)
{
    *keys = NULL;
    *n = 0;
    struct ingest_spec none;
    memset(&none, 0, sizeof(none));
    void *impl = NULL;
    int rc = json_open_common(&impl, src, &none, f == INPUT_JSON, e);
    if (rc != 0) {
        return rc;
    }
    struct json_reader *r = impl;
    struct jkeys k;
    memset(&k, 0, sizeof(k));
    buf_init(&k.path, 0);
    struct record_block b = {0};
    uint64_t seen = 0;
    while (rc == 0 && (max_rows == 0 || seen < max_rows)) {
        uint64_t left = max_rows ? max_rows - seen : 8192;
        rc = json_next(r, &b, left < 8192 ? (size_t)left : 8192, e);
        if (rc != 0 || b.nrows == 0) {
            break;
        }
        if (parse_block(r, &b, &k) != 0) {
            rc = err_set(e, AE_NOMEM, "out of memory");
        }
        seen += b.nrows;
    }
    if (rc == 0 && k.full) {
        rc = err_set(e, AE_FORMAT, "%s: the objects hold more than %d distinct key paths",
                     source_name(src), JSON_MAX_KEYS);
    }
    record_block_release(&b);
    buf_release(&k.path);
    json_reader_free(r);
    if (rc != 0) {
        for (size_t i = 0; i < k.n; i++) {
            free(k.v[i]);
        }
        free(k.v);
        return rc;
    }
    *keys = k.v;
    *n = k.n;
    return 0;
}

int json_parse_one(const struct ingest_spec *spec, bool array, bool reference, const char *text,
                   size_t n, struct record_block *b, struct err *e)
{
    void *impl = NULL;
    int rc = json_open_common(&impl, NULL, spec, array, e);
    if (rc != 0) {
        return rc;
    }
    struct json_reader *r = impl;
    r->reference = reference;
    b->nrows = 0;
    b->nfields = 0;
    buf_reset(&b->utext);
    if (n > UINT32_MAX || reserve_row(r, b) != 0 || buf_append(&b->utext, text, n) != 0) {
        json_reader_free(r);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    b->line[0] = 1;
    b->offset[0] = 0;
    b->row_flags[0] = 0;
    b->raw[0] = b->utext.data != NULL ? b->utext.data : "";
    b->raw_len[0] = (uint32_t)n;
    b->nrows = 1;
    rc = parse_block(r, b, NULL);
    json_reader_free(r);
    return rc != 0 ? err_set(e, AE_NOMEM, "out of memory") : 0;
}
