/*
 * tdecode.c - bounds-checked Thrift compact-protocol decoder (see tdecode.h for the rules).
 */
#include "parquet/tdecode.h"

void td_init(struct td *t, const void *p, size_t n)
{
    t->base = (const uint8_t *)p;
    t->p = t->base;
    t->end = t->base + n;
    t->depth = 0;
    t->err = 0;
    t->truncated = false;
    t->why = NULL;
}

int td_fail(struct td *t, const char *why)
{
    if (t->err == 0) {
        t->err = AE_FORMAT;
        t->why = why;
    }
    t->p = t->end; /* nothing more is read once an error is recorded */
    return AE_FORMAT;
}

static void fail_short(struct td *t)
{
    if (t->err == 0) {
        t->truncated = true;
    }
    td_fail(t, "metadata ends in the middle of a value");
}

size_t td_pos(const struct td *t)
{
    return (size_t)(t->p - t->base);
}

static uint8_t byte(struct td *t)
{
    if (t->err != 0) {
        return 0;
    }
    if (t->p >= t->end) {
        fail_short(t);
        return 0;
    }
    return *t->p++;
}

uint64_t td_uvarint(struct td *t)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        uint8_t b = byte(t);
        if (t->err != 0) {
            return 0;
        }
        /* The tenth byte may only carry the top bit of a 64-bit value. */
        if (shift == 63 && b > 1) {
            td_fail(t, "varint overflows 64 bits");
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return v;
        }
    }
    td_fail(t, "varint longer than 10 bytes");
    return 0;
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void td_struct_begin(struct td *t, struct td_struct *s)
{
    s->last = 0;
    if (++t->depth > TD_MAX_DEPTH) {
        td_fail(t, "structs nested too deeply");
    }
}

bool td_field(struct td *t, struct td_struct *s, int *type, int16_t *id)
{
    uint8_t h = byte(t);
    if (t->err != 0) {
        return false;
    }
    if (h == 0) {
        t->depth--;
        return false;
    }
    int ty = h & 0x0f;
    int delta = h >> 4;
    int64_t fid;
    if (delta != 0) {
        fid = (int64_t)s->last + delta;
    } else {
        fid = unzigzag(td_uvarint(t));
    }
    if (t->err != 0) {
        return false;
    }
    if (fid < INT16_MIN || fid > INT16_MAX) {
        td_fail(t, "field id out of range");
        return false;
    }
    if (ty < TD_BOOL_TRUE || ty > TD_STRUCT) {
        td_fail(t, "unknown field type");
        return false;
    }
    s->last = (int16_t)fid;
    *type = ty;
    *id = (int16_t)fid;
    return true;
}

static int64_t read_int(struct td *t, int type)
{
    switch (type) {
    case TD_I8: return (int8_t)byte(t);
    case TD_I16:
    case TD_I32:
    case TD_I64: return unzigzag(td_uvarint(t));
    default: td_fail(t, "a field has the wrong type (integer expected)"); return 0;
    }
}

int64_t td_int(struct td *t, int type, int64_t lo, int64_t hi)
{
    int64_t v = read_int(t, type);
    if (t->err != 0) {
        return 0;
    }
    if (v < lo || v > hi) {
        td_fail(t, "an integer field is out of range");
        return 0;
    }
    return v;
}

bool td_bool(struct td *t, int type)
{
    if (type != TD_BOOL_TRUE && type != TD_BOOL_FALSE) {
        td_fail(t, "a field has the wrong type (bool expected)");
        return false;
    }
    return type == TD_BOOL_TRUE;
}

static const uint8_t *read_bin(struct td *t, size_t *n)
{
    *n = 0;
    uint64_t len = td_uvarint(t);
    if (t->err != 0) {
        return NULL;
    }
    if (len > (uint64_t)(t->end - t->p)) {
        fail_short(t);
        return NULL;
    }
    const uint8_t *p = t->p;
    t->p += len;
    *n = (size_t)len;
    return p;
}

const uint8_t *td_bin(struct td *t, int type, size_t *n)
{
    if (type != TD_BINARY) {
        *n = 0;
        td_fail(t, "a field has the wrong type (binary expected)");
        return NULL;
    }
    return read_bin(t, n);
}

bool td_list(struct td *t, int type, int *elem, size_t *n)
{
    *n = 0;
    *elem = 0;
    if (type != TD_LIST && type != TD_SET) {
        td_fail(t, "a field has the wrong type (list expected)");
        return false;
    }
    uint8_t h = byte(t);
    if (t->err != 0) {
        return false;
    }
    uint64_t count = h >> 4;
    if (count == 15) {
        count = td_uvarint(t);
    }
    if (t->err != 0) {
        return false;
    }
    int et = h & 0x0f;
    if (et < TD_BOOL_TRUE || et > TD_STRUCT) {
        td_fail(t, "unknown list element type");
        return false;
    }
    /* Every element of every type takes at least one byte, so a larger count is corrupt. */
    if (count > (uint64_t)(t->end - t->p)) {
        fail_short(t);
        return false;
    }
    if (++t->depth > TD_MAX_DEPTH) {
        td_fail(t, "lists nested too deeply");
        return false;
    }
    *elem = et;
    *n = (size_t)count;
    return true;
}

void td_list_end(struct td *t)
{
    t->depth--;
}

int64_t td_elem_int(struct td *t, int elem, int64_t lo, int64_t hi)
{
    return td_int(t, elem, lo, hi);
}

const uint8_t *td_elem_bin(struct td *t, int elem, size_t *n)
{
    return td_bin(t, elem, n);
}

static void skip_bytes(struct td *t, size_t n)
{
    if (t->err != 0) {
        return;
    }
    if (n > (size_t)(t->end - t->p)) {
        fail_short(t);
        return;
    }
    t->p += n;
}

/* Skips one value. In a list a bool element is one byte; as a field it has no payload, which
 * the caller handles by passing in_list. */
static void skip_value(struct td *t, int type, bool in_list)
{
    if (t->err != 0) {
        return;
    }
    switch (type) {
    case TD_BOOL_TRUE:
    case TD_BOOL_FALSE:
        if (in_list) {
            skip_bytes(t, 1);
        }
        return;
    case TD_I8: skip_bytes(t, 1); return;
    case TD_I16:
    case TD_I32:
    case TD_I64: (void)td_uvarint(t); return;
    case TD_DOUBLE: skip_bytes(t, 8); return;
    case TD_BINARY: {
        size_t n;
        (void)read_bin(t, &n);
        return;
    }
    case TD_LIST:
    case TD_SET: {
        int et;
        size_t n;
        if (!td_list(t, type, &et, &n)) {
            return;
        }
        for (size_t i = 0; i < n && t->err == 0; i++) {
            skip_value(t, et, true);
        }
        td_list_end(t);
        return;
    }
    case TD_MAP: {
        uint64_t n = td_uvarint(t);
        if (t->err != 0 || n == 0) {
            return;
        }
        uint8_t kv = byte(t);
        if (n > (uint64_t)(t->end - t->p)) {
            fail_short(t);
            return;
        }
        if (++t->depth > TD_MAX_DEPTH) {
            td_fail(t, "maps nested too deeply");
            return;
        }
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt < TD_BOOL_TRUE || kt > TD_STRUCT || vt < TD_BOOL_TRUE || vt > TD_STRUCT) {
            td_fail(t, "unknown map element type");
            return;
        }
        for (uint64_t i = 0; i < n && t->err == 0; i++) {
            skip_value(t, kt, true);
            skip_value(t, vt, true);
        }
        t->depth--;
        return;
    }
    case TD_STRUCT: {
        struct td_struct s;
        int ft;
        int16_t id;
        td_struct_begin(t, &s);
        while (td_field(t, &s, &ft, &id)) {
            skip_value(t, ft, false);
        }
        return;
    }
    default: td_fail(t, "unknown type"); return;
    }
}

void td_skip(struct td *t, int type)
{
    skip_value(t, type, false);
}
