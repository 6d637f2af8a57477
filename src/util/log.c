/*
 * log.c - text and JSON log lines; the run log is flushed after every line so a crash loses
 * nothing that was reported.
 */
#include "util/log.h"

#include "util/buf.h"
#include "util/fs.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const char *level_name(enum log_level l)
{
    switch (l) {
    case LOG_DEBUG: return "DEBUG";
    case LOG_INFO: return "INFO";
    case LOG_WARN: return "WARN";
    default: return "ERROR";
    }
}

void log_init(struct log *l, FILE *console, enum log_level console_level, bool json)
{
    l->console = console;
    l->file = NULL;
    l->console_level = console_level;
    l->file_level = console_level < LOG_INFO ? console_level : LOG_INFO;
    l->json = json;
}

int log_open_file(struct log *l, const char *path, const char *command, const char *run_id,
                  struct err *e)
{
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        return err_errno(e, errno, "cannot open log %s", path);
    }
    char now[48];
    fs_now_iso(now, sizeof(now));
    static const char rule[] = "================================================================"
                               "================";
    fprintf(f, "%s\nAstro session started: %s command=%s run_id=%s\n%s\n", rule, now, command,
            run_id, rule);
    fflush(f);
    l->file = f;
    return 0;
}

/* The extra JSON keys of a log_event line: ,"event":...,"key":value... */
static int put_fields(struct buf *b, const char *event, const struct log_field *fields, size_t n)
{
    int rc = 0;
    if (event != NULL) {
        rc = buf_puts(b, ",\"event\":");
        rc = rc ? rc : buf_json_name(b, event);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = buf_putc(b, ',');
        rc = rc ? rc : buf_json_name(b, fields[i].key);
        rc = rc ? rc : buf_putc(b, ':');
        if (rc == 0) {
            rc = fields[i].str != NULL ? buf_json_name(b, fields[i].str)
                                       : buf_printf(b, "%llu", (unsigned long long)fields[i].num);
        }
    }
    return rc;
}

static void emit(FILE *out, bool json, const char *now, enum log_level lvl, const char *file_name,
                 const char *msg, const char *event, const struct log_field *fields, size_t nfields)
{
    if (json) {
        struct buf b = BUF_INIT;
        int rc =
            buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"file\":", now, level_name(lvl));
        if (rc == 0) {
            rc = file_name ? buf_json_name(&b, file_name) : buf_puts(&b, "null");
        }
        if (rc == 0) {
            rc = buf_puts(&b, ",\"msg\":");
        }
        if (rc == 0) {
            rc = buf_json_name(&b, msg);
        }
        if (rc == 0) {
            rc = put_fields(&b, event, fields, nfields);
        }
        if (rc == 0) {
            rc = buf_puts(&b, "}\n");
        }
        if (rc == 0) {
            fputs(b.data, out);
        }
        buf_release(&b);
    } else {
        /* One message, one line: a name holding a line break (or bytes that are not UTF-8) is
         * shown escaped, so it can never forge a line of its own. */
        struct buf b = BUF_INIT;
        int rc = buf_printf(&b, "%s %-5s ", now, level_name(lvl));
        if (rc == 0 && file_name != NULL) {
            rc = buf_putc(&b, '[');
            rc = rc ? rc : buf_put_escaped(&b, file_name, strlen(file_name), true, false);
            rc = rc ? rc : buf_puts(&b, "] ");
        }
        rc = rc ? rc : buf_put_escaped(&b, msg, strlen(msg), true, false);
        rc = rc ? rc : buf_putc(&b, '\n');
        if (rc == 0) {
            fputs(b.data, out);
        }
        buf_release(&b);
    }
    fflush(out);
}

/* Writes a multi-line block: its lines are kept, every other control character and every byte
 * that is not UTF-8 is escaped. */
static void emit_block(FILE *out, const char *text)
{
    struct buf b = BUF_INIT;
    if (buf_put_escaped(&b, text, strlen(text), true, true) == 0 && b.data != NULL) {
        fputs(b.data, out);
    }
    buf_release(&b);
    fflush(out);
}

static void log_v(struct log *l, enum log_level lvl, const char *file_name, const char *event,
                  const struct log_field *fields, size_t nfields, const char *fmt, va_list ap)
{
    char msg[4096];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char now[48];
    fs_now_iso(now, sizeof(now));
    if (l->console != NULL && lvl >= l->console_level) {
        emit(l->console, l->json, now, lvl, file_name, msg, event, fields, nfields);
    }
    if (l->file != NULL && lvl >= l->file_level) {
        emit(l->file, l->json, now, lvl, file_name, msg, event, fields, nfields);
    }
}

void log_detail(struct log *l, enum log_level lvl, const char *file_name, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char now[48];
    fs_now_iso(now, sizeof(now));
    if (l->console != NULL && l->console_level <= LOG_DEBUG) {
        emit(l->console, l->json, now, lvl, file_name, msg, NULL, NULL, 0);
    }
    if (l->file != NULL && lvl >= l->file_level) {
        emit(l->file, l->json, now, lvl, file_name, msg, NULL, NULL, 0);
    }
}

void log_msg(struct log *l, enum log_level lvl, const char *file_name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(l, lvl, file_name, NULL, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_event(struct log *l, enum log_level lvl, const char *file_name, const char *event,
               const struct log_field *fields, size_t nfields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(l, lvl, file_name, event, fields, nfields, fmt, ap);
    va_end(ap);
}

void log_block(struct log *l, enum log_level lvl, const char *text)
{
    if (l->console != NULL && lvl >= l->console_level && !l->json) {
        emit_block(l->console, text);
    }
    if (l->file != NULL && lvl >= l->file_level) {
        if (l->json) {
            char now[48];
            fs_now_iso(now, sizeof(now));
            emit(l->file, true, now, lvl, NULL, text, NULL, NULL, 0);
        } else {
            emit_block(l->file, text);
        }
    }
}

void log_close(struct log *l)
{
    if (l->file != NULL) {
        fclose(l->file);
        l->file = NULL;
    }
}
