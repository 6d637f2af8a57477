/*
 * buf.c - growable byte buffer; doubling growth, overflow-checked, capped by max.
 */
#include "util/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

int buf_reserve(struct buf *b, size_t extra)
{
    size_t limit = b->max ? b->max : SIZE_MAX / 2;
    if (extra > limit || b->len > limit - extra - 1) {
        return AE_NOMEM;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return 0;
    }
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        ncap = ncap > limit / 2 ? limit : ncap * 2;
    }
    char *p = realloc(b->data, ncap);
    if (p == NULL) {
        return AE_NOMEM;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

int buf_grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2) {
            return AE_NOMEM;
        }
        c *= 2;
    }
    if (elem != 0 && c > SIZE_MAX / elem) {
        return AE_NOMEM;
    }
    void *q = realloc(*p, c * elem);
    if (q == NULL) {
        return AE_NOMEM;
    }
    *p = q;
    *cap = c;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0) {
        return AE_NOMEM;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) {
        return AE_INTERNAL;
    }
    if (buf_reserve(b, (size_t)n) != 0) {
        return AE_NOMEM;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not valid UTF-8. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

int buf_json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    if (buf_putc(b, '"') != 0) {
        return AE_NOMEM;
    }
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\') {
            run++;
        }
        if (run > i && buf_append(b, s + i, run - i) != 0) {
            return AE_NOMEM;
        }
        i = run;
        if (i >= n) {
            break;
        }
        unsigned char c = u[i];
        char esc[8];
        size_t elen = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            elen = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
            elen = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
            elen = 2;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        } else {
            size_t sl = utf8_seq_len(u + i, n - i);
            if (sl > 0) {
                if (buf_append(b, s + i, sl) != 0) {
                    return AE_NOMEM;
                }
                i += sl;
                continue;
            }
            /* Not UTF-8: show the byte as U+00XX so the line stays valid JSON. */
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (buf_append(b, esc, elen) != 0) {
            return AE_NOMEM;
        }
        i++;
    }
    return buf_putc(b, '"');
}

/* The length of the piece of s (n bytes) that buf_put_escaped appends unchanged: a valid UTF-8
 * sequence, or 0 when the byte at s is escaped. */
static size_t plain_len(const unsigned char *s, size_t n, bool controls, bool keep_lf)
{
    if (controls && (s[0] < 0x20 || s[0] == 0x7f)) {
        return keep_lf && s[0] == '\n' ? 1 : 0;
    }
    return utf8_seq_len(s, n);
}

int buf_put_escaped(struct buf *b, const char *s, size_t n, bool controls, bool keep_lf)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        size_t sl;
        while (run < n && (sl = plain_len(u + run, n - run, controls, keep_lf)) > 0) {
            run += sl;
        }
        if (run > i && buf_append(b, s + i, run - i) != 0) {
            return AE_NOMEM;
        }
        i = run;
        if (i >= n) {
            break;
        }
        char esc[4] = {'\\', 'x', hex[u[i] >> 4], hex[u[i] & 15]};
        size_t elen = 4;
        if (u[i] == '\n' || u[i] == '\r' || u[i] == '\t') {
            esc[1] = u[i] == '\n' ? 'n' : u[i] == '\r' ? 'r' : 't';
            elen = 2;
        }
        if (buf_append(b, esc, elen) != 0) {
            return AE_NOMEM;
        }
        i++;
    }
    return 0;
}

bool buf_is_plain(const char *s, size_t n, bool controls)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t sl = plain_len(u + i, n - i, controls, false);
        if (sl == 0) {
            return false;
        }
        i += sl;
    }
    return true;
}

int buf_json_name(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (buf_is_plain(s, n, false)) {
        return buf_json_str(b, s, n);
    }
    struct buf t = BUF_INIT;
    int rc = buf_put_escaped(&t, s, n, false, false);
    rc = rc ? rc : buf_json_str(b, t.data, t.len);
    buf_release(&t);
    return rc;
}

char *buf_escaped_str(const char *s)
{
    struct buf b = BUF_INIT;
    if (buf_put_escaped(&b, s, strlen(s), true, false) != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static bool name_byte_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80 || strchr("_.-/+@:%=", c) != NULL;
}

int buf_put_name(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    bool plain = n > 0 && buf_is_plain(s, n, true);
    for (size_t i = 0; i < n && plain; i++) {
        plain = name_byte_plain((unsigned char)s[i]);
    }
    if (plain) {
        return buf_append(b, s, n);
    }
    int rc = buf_putc(b, '\'');
    size_t from = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        if (i < n && s[i] != '\'' && s[i] != '\\') {
            continue;
        }
        rc = buf_put_escaped(b, s + from, i - from, true, false);
        if (rc == 0 && i < n) {
            rc = buf_putc(b, '\\');
            rc = rc ? rc : buf_putc(b, s[i]);
        }
        from = i + 1;
    }
    return rc ? rc : buf_putc(b, '\'');
}

char *buf_name_str(const char *s)
{
    struct buf b = BUF_INIT;
    if (buf_put_name(&b, s) != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

void buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *buf_detach(struct buf *b, size_t *len)
{
    if (b->data == NULL) {
        if (buf_reserve(b, 0) != 0) {
            return NULL;
        }
        b->data[0] = '\0';
    }
    char *p = b->data;
    if (len != NULL) {
        *len = b->len;
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
