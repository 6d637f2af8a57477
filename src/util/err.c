/*
 * err.c - filling struct err. Messages are truncated (never overflowed) at sizeof(msg).
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (e == NULL) {
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    if (e == NULL) {
        return AE_INTERNAL;
    }
    char head[sizeof(e->msg)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    if (n > 0) {
        /* Build "head: old message" by hand: truncation is intended when it is too long. */
        char out[sizeof(e->msg)];
        size_t hl = strnlen(head, sizeof(out) - 1);
        memcpy(out, head, hl);
        size_t pos = hl;
        const char sep[] = ": ";
        for (size_t i = 0; i < 2 && pos < sizeof(out) - 1; i++) {
            out[pos++] = sep[i];
        }
        size_t ml = strnlen(e->msg, sizeof(e->msg));
        size_t room = sizeof(out) - 1 - pos;
        if (ml > room) {
            ml = room;
        }
        memcpy(out + pos, e->msg, ml);
        out[pos + ml] = '\0';
        memcpy(e->msg, out, pos + ml + 1);
    }
    return e->code;
}

int err_errno(struct err *e, int errnum, const char *fmt, ...)
{
    if (e == NULL) {
        return AE_IO;
    }
    char head[sizeof(e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    err_set(e, AE_IO, "%s", strerror(errnum));
    return err_prefix(e, "%s", head);
}

void err_clear(struct err *e)
{
    if (e != NULL) {
        e->code = 0;
        e->msg[0] = '\0';
    }
}

const char *err_code_name(int code)
{
    switch (code) {
    case AE_OK: return "ok";
    case AE_NOMEM: return "out of memory";
    case AE_IO: return "io";
    case AE_CONFIG: return "config";
    case AE_DATA: return "data";
    case AE_FORMAT: return "format";
    case AE_DB: return "database";
    case AE_BUSY: return "busy";
    case AE_CANCELLED: return "cancelled";
    default: return "internal";
    }
}
