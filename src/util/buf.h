/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Invariants: data is NULL or points at cap bytes; len <= cap <= max; when data is not NULL the
 * byte at data[len] is a NUL terminator kept for convenience (cap counts it). A failed grow leaves
 * the buffer as it was and returns AE_NOMEM. The buffer owns data until buf_detach() hands it over.
 */
#ifndef ASTRO_UTIL_BUF_H
#define ASTRO_UTIL_BUF_H

#include "util/err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* hard cap on cap; 0 means SIZE_MAX/2 */
};

#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(struct buf *b, size_t max);

/* Ensures room for extra more bytes (plus the NUL). */
int buf_reserve(struct buf *b, size_t extra) ASTRO_WUR;

int buf_append(struct buf *b, const void *p, size_t n) ASTRO_WUR;
int buf_putc(struct buf *b, char c) ASTRO_WUR;
int buf_puts(struct buf *b, const char *s) ASTRO_WUR;
int buf_printf(struct buf *b, const char *fmt, ...) ASTRO_PRINTF(2, 3) ASTRO_WUR;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) ASTRO_WUR;

/* Appends s as a JSON string literal (quotes included, escapes applied; invalid UTF-8 bytes are
 * written as \u00XX of the byte so the output is always valid JSON). */
int buf_json_str(struct buf *b, const char *s, size_t n) ASTRO_WUR;

/* Appends n bytes of s in a printable form, the one astro uses for names and values that come
 * from outside (file and folder names, header names) in logs and JSON records: every byte that is
 * not part of valid UTF-8 becomes the four characters \xHH (lowercase hex); with controls, so do
 * control characters (below 0x20 and 0x7f), except that LF, CR and TAB read \n, \r and \t, and
 * with keep_lf LF stays as it is (multi-line blocks). Valid UTF-8 text is appended unchanged. */
int buf_put_escaped(struct buf *b, const char *s, size_t n, bool controls, bool keep_lf) ASTRO_WUR;

/* True when the n bytes of s are valid UTF-8 (and, with controls, hold no control character), so
 * that buf_put_escaped would append them unchanged. */
bool buf_is_plain(const char *s, size_t n, bool controls);

/* Appends the string s (a name or a message quoting names) as a JSON string literal in which each
 * byte that is not UTF-8 reads \xHH, as in the manifest (buf_put_escaped without controls; JSON
 * escapes those). Data values keep buf_json_str's \u00XX. */
int buf_json_name(struct buf *b, const char *s) ASTRO_WUR;

/* The printable form (buf_put_escaped, controls escaped) of the string s, malloc'd; NULL when out
 * of memory. */
char *buf_escaped_str(const char *s);

/* Appends the name s (a file, folder, column or table name from outside) the way every message
 * of astro shows one: as it is when it is plain (not empty; letters, digits, any UTF-8 letter
 * beyond ASCII and `_ . - / + @ : % =` only), else between single quotes, with a quote and a
 * backslash inside written \' and \\, and control characters and bytes that are not UTF-8 in
 * buf_put_escaped's form: "Full Name" reads 'Full Name', "it's" reads 'it\'s'. */
int buf_put_name(struct buf *b, const char *s) ASTRO_WUR;

/* buf_put_name's form of s, malloc'd; NULL when out of memory. */
char *buf_name_str(const char *s);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);

/* Grows the array *p (of *cap elements of elem bytes, may be NULL) to hold at least need elements,
 * doubling from 16, overflow-checked. 0, or AE_NOMEM with *p and *cap unchanged. */
int buf_grow_array(void **p, size_t *cap, size_t need, size_t elem) ASTRO_WUR;

/* Hands the data over to the caller (who must free() it); the buffer is left empty. Never NULL on
 * success: an empty buffer yields an allocated "". Returns NULL on allocation failure. */
char *buf_detach(struct buf *b, size_t *len);

#endif
