/*
 * tdecode.h - a bounds-checked Thrift compact-protocol decoder for Parquet metadata read from
 * files we do not trust.
 *
 * Implements the reading side of apache/thrift doc/specs/thrift-compact-protocol.md (PARQUET.md
 * §1.2). Every length, count and varint is checked against the end of the buffer; nothing is
 * read past it. Errors are sticky: the first failure is kept in t->err (AE_FORMAT) with a short
 * reason in t->why, every later call returns a zero value, and loops end because td_field()
 * reports the end of the struct once an error is recorded. Callers parse a whole struct and
 * check t->err once. Unknown fields of any type are skipped (td_skip), nested structs and lists
 * included, with a nesting limit (TD_MAX_DEPTH) so hostile input cannot exhaust the stack.
 * The decoder borrows the buffer; binary values point into it.
 */
#ifndef ASTRO_PARQUET_TDECODE_H
#define ASTRO_PARQUET_TDECODE_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_MAX_DEPTH 32

/* Compact-protocol type codes as they appear on the wire (same values as enum tc_type). */
enum {
    TD_BOOL_TRUE = 1,
    TD_BOOL_FALSE = 2,
    TD_I8 = 3,
    TD_I16 = 4,
    TD_I32 = 5,
    TD_I64 = 6,
    TD_DOUBLE = 7,
    TD_BINARY = 8,
    TD_LIST = 9,
    TD_SET = 10,
    TD_MAP = 11,
    TD_STRUCT = 12
};

struct td {
    const uint8_t *base; /* start of the buffer (for offsets in messages) */
    const uint8_t *p;    /* next byte to read */
    const uint8_t *end;  /* one past the last readable byte */
    int depth;           /* structs and lists entered */
    int err;             /* 0 or AE_FORMAT */
    bool truncated;      /* the error was running out of bytes (more input may fix it) */
    const char *why;     /* static reason for the first error */
};

/* A position inside one struct: the last field id read (compact deltas are relative to it). */
struct td_struct {
    int16_t last;
};

void td_init(struct td *t, const void *p, size_t n);

/* Records the first error (AE_FORMAT) with a static reason; returns AE_FORMAT. */
int td_fail(struct td *t, const char *why);

/* Enters a struct (depth check) and starts its field numbering. */
void td_struct_begin(struct td *t, struct td_struct *s);

/* Reads the next field header of struct s. Returns true with *type and *id set, or false at the
 * stop byte (the struct is then left: depth decremented) or after an error. */
bool td_field(struct td *t, struct td_struct *s, int *type, int16_t *id);

/* Integer of any integer wire type (i8 raw byte, i16/i32/i64 zigzag varints), range-checked
 * against [lo, hi]. A value of another type is an error. */
int64_t td_int(struct td *t, int type, int64_t lo, int64_t hi);

/* A bool field: the value lives in the type nibble (TD_BOOL_TRUE / TD_BOOL_FALSE). */
bool td_bool(struct td *t, int type);

/* A binary/string field: returns a pointer into the buffer and sets *n (NULL on error). */
const uint8_t *td_bin(struct td *t, int type, size_t *n);

/* A list (or set) header: element type and count; the count is checked to fit the bytes left
 * (every element takes at least one byte). Enters one nesting level: call td_list_end after the
 * elements. Returns false on error (nothing to read). */
bool td_list(struct td *t, int type, int *elem, size_t *n);
void td_list_end(struct td *t);

/* A list element of integer type, bool type, or binary type. */
int64_t td_elem_int(struct td *t, int elem, int64_t lo, int64_t hi);
const uint8_t *td_elem_bin(struct td *t, int elem, size_t *n);

/* Skips one value of the given wire type (a whole struct, list, set or map included). */
void td_skip(struct td *t, int type);

/* Bytes consumed so far. */
size_t td_pos(const struct td *t);

/* Low-level: an unsigned LEB128 varint of at most 10 bytes. */
uint64_t td_uvarint(struct td *t);

#endif
