/*
 * thrift.h - a Thrift compact-protocol encoder, just enough for Parquet metadata.
 *
 * Implements apache/thrift doc/specs/thrift-compact-protocol.md as PARQUET.md §1.2 summarises it:
 * field headers carry the id delta in the high nibble when 1 <= delta <= 15 (else the type byte
 * followed by the zigzag varint id), bools live in the type nibble, i8 is one raw byte, i16/i32/i64
 * are zigzag ULEB128, binary is ULEB128 length + bytes, lists carry size and element type in one
 * byte when n <= 14. Fields must be written in ascending id order (asserted).
 *
 * Errors are sticky: the first failed allocation is remembered in t->err and every later call
 * is a no-op, so callers write a whole struct and check tc_error() once. The encoder borrows out.
 */
#ifndef ASTRO_PARQUET_THRIFT_H
#define ASTRO_PARQUET_THRIFT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* Compact-protocol type codes (field header low nibble and list element types). */
enum tc_type {
    TC_BOOL_TRUE = 1,
    TC_BOOL_FALSE = 2,
    TC_I8 = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_STRUCT = 12
};

#define TC_MAX_DEPTH 16

struct tc {
    struct buf *out;               /* borrowed */
    int16_t last;                  /* last field id written in the current struct */
    int16_t stack[TC_MAX_DEPTH];   /* enclosing structs' last ids */
    int depth;
    int err;                       /* 0 or the first AE_* code met */
};

/* Starts encoding at the end of out; the first struct is the top-level one (no header). */
void tc_init(struct tc *t, struct buf *out);

/* 0, or the first error met (AE_NOMEM, or AE_INTERNAL for nesting misuse). */
int tc_error(const struct tc *t);

/* Fields of the current struct. */
void tc_field_bool(struct tc *t, int16_t id, bool v);
void tc_field_i8(struct tc *t, int16_t id, int8_t v);
void tc_field_i16(struct tc *t, int16_t id, int16_t v);
void tc_field_i32(struct tc *t, int16_t id, int32_t v);
void tc_field_i64(struct tc *t, int16_t id, int64_t v);
void tc_field_bin(struct tc *t, int16_t id, const void *p, size_t n);
void tc_field_str(struct tc *t, int16_t id, const char *s);
/* A struct-typed field: its fields follow, then tc_struct_end(). */
void tc_field_struct(struct tc *t, int16_t id);
/* A list-typed field of n elements of type elem; the n elements follow (tc_elem_*). */
void tc_field_list(struct tc *t, int16_t id, enum tc_type elem, size_t n);

/* List elements. */
void tc_elem_i32(struct tc *t, int32_t v);
void tc_elem_bin(struct tc *t, const void *p, size_t n);
void tc_elem_str(struct tc *t, const char *s);
/* A struct element: its fields follow (fresh field-id numbering), then tc_struct_end(). */
void tc_elem_struct(struct tc *t);
/* Appends bytes already encoded elsewhere (e.g. a whole struct element kept from earlier). */
void tc_raw(struct tc *t, const void *p, size_t n);

/* Writes the stop byte of the current struct and returns to the enclosing one (at depth 0 it
 * ends the top-level struct). */
void tc_struct_end(struct tc *t);

/* Low-level helpers, exposed for the RLE encoder and tests. */
size_t tc_uleb128(uint8_t *dst, uint64_t v); /* dst needs 10 bytes; returns bytes written */
uint64_t tc_zigzag64(int64_t v);

#endif
