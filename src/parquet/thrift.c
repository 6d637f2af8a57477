/*
 * thrift.c - Thrift compact-protocol encoder (see thrift.h for the rules it follows).
 */
#include "parquet/thrift.h"

#include <assert.h>
#include <string.h>

void tc_init(struct tc *t, struct buf *out)
{
    t->out = out;
    t->last = 0;
    t->depth = 0;
    t->err = 0;
}

int tc_error(const struct tc *t)
{
    return t->err;
}

size_t tc_uleb128(uint8_t *dst, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        dst[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    return n;
}

uint64_t tc_zigzag64(int64_t v)
{
    /* Shift the unsigned pattern left: a left shift of a negative int64 is undefined. */
    return ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63)); /* all ones when v < 0 */
}

static void put(struct tc *t, const void *p, size_t n)
{
    if (t->err == 0 && buf_append(t->out, p, n) != 0) {
        t->err = AE_NOMEM;
    }
}

static void put_byte(struct tc *t, uint8_t b)
{
    put(t, &b, 1);
}

static void put_varint(struct tc *t, uint64_t v)
{
    uint8_t tmp[10];
    put(t, tmp, tc_uleb128(tmp, v));
}

/* Field header: short form (delta << 4 | type) when the id grows by 1..15, else long form. */
static void field_header(struct tc *t, int16_t id, uint8_t type)
{
    assert(id > t->last);
    int delta = id - t->last;
    if (delta >= 1 && delta <= 15) {
        put_byte(t, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(t, type);
        put_varint(t, tc_zigzag64(id));
    }
    t->last = id;
}

void tc_field_bool(struct tc *t, int16_t id, bool v)
{
    field_header(t, id, v ? TC_BOOL_TRUE : TC_BOOL_FALSE);
}

void tc_field_i8(struct tc *t, int16_t id, int8_t v)
{
    field_header(t, id, TC_I8);
    put_byte(t, (uint8_t)v);
}

void tc_field_i16(struct tc *t, int16_t id, int16_t v)
{
    field_header(t, id, TC_I16);
    put_varint(t, tc_zigzag64(v));
}

void tc_field_i32(struct tc *t, int16_t id, int32_t v)
{
    field_header(t, id, TC_I32);
    put_varint(t, tc_zigzag64(v));
}

void tc_field_i64(struct tc *t, int16_t id, int64_t v)
{
    field_header(t, id, TC_I64);
    put_varint(t, tc_zigzag64(v));
}

void tc_field_bin(struct tc *t, int16_t id, const void *p, size_t n)
{
    field_header(t, id, TC_BINARY);
    put_varint(t, n);
    put(t, p, n);
}

void tc_field_str(struct tc *t, int16_t id, const char *s)
{
    tc_field_bin(t, id, s, strlen(s));
}

static void push(struct tc *t)
{
    if (t->depth >= TC_MAX_DEPTH) {
        t->err = t->err ? t->err : AE_INTERNAL;
        return;
    }
    t->stack[t->depth++] = t->last;
    t->last = 0;
}

void tc_field_struct(struct tc *t, int16_t id)
{
    field_header(t, id, TC_STRUCT);
    push(t);
}

void tc_field_list(struct tc *t, int16_t id, enum tc_type elem, size_t n)
{
    field_header(t, id, TC_LIST);
    if (n <= 14) {
        put_byte(t, (uint8_t)((n << 4) | (unsigned)elem));
    } else {
        put_byte(t, (uint8_t)(0xF0 | (unsigned)elem));
        put_varint(t, n);
    }
}

void tc_elem_i32(struct tc *t, int32_t v)
{
    put_varint(t, tc_zigzag64(v));
}

void tc_elem_bin(struct tc *t, const void *p, size_t n)
{
    put_varint(t, n);
    put(t, p, n);
}

void tc_elem_str(struct tc *t, const char *s)
{
    tc_elem_bin(t, s, strlen(s));
}

void tc_elem_struct(struct tc *t)
{
    push(t);
}

void tc_raw(struct tc *t, const void *p, size_t n)
{
    put(t, p, n);
}

void tc_struct_end(struct tc *t)
{
    put_byte(t, 0);
    if (t->depth > 0) {
        t->last = t->stack[--t->depth];
    } else {
        t->last = 0;
    }
}
