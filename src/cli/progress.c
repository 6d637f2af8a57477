/*
 * progress.c - the large-file progress bar.
 */
#include "cli/progress.h"

#include "util/fs.h"

#include <string.h>
#include <unistd.h>

const char *progress_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

const char *progress_count(uint64_t n, char *buf, size_t len)
{
    if (n >= 1000000000ull) {
        snprintf(buf, len, "%.2fG", (double)n / 1e9);
    } else if (n >= 1000000ull) {
        snprintf(buf, len, "%.2fM", (double)n / 1e6);
    } else if (n >= 10000ull) {
        snprintf(buf, len, "%.1fk", (double)n / 1e3);
    } else {
        snprintf(buf, len, "%llu", (unsigned long long)n);
    }
    return buf;
}

void progress_init(struct progress *p, bool enabled, FILE *out, struct log *log, const char *name,
                   uint64_t total_bytes)
{
    p->enabled = enabled;
    p->out = out;
    p->tty = out != NULL && isatty(fileno(out));
    p->log = log;
    p->name = name;
    p->total_bytes = total_bytes;
    p->total_rows = 0;
    p->start = fs_monotonic();
    p->last = p->start;
    p->drawn = false;
}

void progress_init_rows(struct progress *p, bool enabled, FILE *out, const char *name,
                        uint64_t total_rows, uint64_t total_bytes)
{
    progress_init(p, enabled, out, NULL, name, total_bytes);
    /* A load with no rows has nothing to show; one bar per load, on a terminal only. */
    p->enabled = enabled && total_rows > 0 && p->tty;
    p->total_rows = total_rows;
}

static void bar_of(double frac, char bar[31])
{
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++) {
        bar[i] = i < fill ? '#' : '-';
    }
    bar[30] = '\0';
}

/* The bar of a load: rows against the known total, bytes estimated from them. */
static void render_rows(struct progress *p, uint64_t rows, double now, bool final)
{
    double secs = now - p->start;
    double frac = (double)rows / (double)p->total_rows;
    if (frac > 1.0) {
        frac = 1.0;
    }
    double rate = secs > 0 ? (double)rows / secs : 0;
    double eta = rate > 0 && rows < p->total_rows ? (double)(p->total_rows - rows) / rate : 0;
    char r1[32], r2[32], b1[32], b2[32], rt[32], bar[31];
    progress_count(rows, r1, sizeof(r1));
    progress_count(p->total_rows, r2, sizeof(r2));
    progress_bytes((uint64_t)(frac * (double)p->total_bytes), b1, sizeof(b1));
    progress_bytes(p->total_bytes, b2, sizeof(b2));
    progress_count((uint64_t)rate, rt, sizeof(rt));
    bar_of(frac, bar);
    unsigned eta_s = (unsigned)eta;
    fprintf(p->out, "\r%s [%s] %3.0f%% %s/%s rows  %s/%s  %s rows/s  ETA %u:%02u:%02u \033[K",
            p->name, bar, frac * 100, r1, r2, b1, b2, rt, eta_s / 3600, eta_s / 60 % 60,
            eta_s % 60);
    if (final) {
        fputs("\r\033[K", p->out);
    }
    fflush(p->out);
}

static void render(struct progress *p, uint64_t bytes, uint64_t rows, uint64_t failures, double now,
                   bool final)
{
    if (p->total_rows > 0) {
        render_rows(p, rows, now, final);
        return;
    }
    double secs = now - p->start;
    double rate = secs > 0 ? (double)bytes / secs : 0;
    double frac = p->total_bytes ? (double)bytes / (double)p->total_bytes : 1.0;
    if (frac > 1.0) {
        frac = 1.0;
    }
    uint64_t est_rows =
        bytes ? (uint64_t)((double)rows / ((double)bytes / (double)p->total_bytes)) : 0;
    double eta =
        rate > 0
            ? (double)(p->total_bytes - (bytes < p->total_bytes ? bytes : p->total_bytes)) / rate
            : 0;
    char b1[32], b2[32], r1[32], r2[32], rt[32], fc[32];
    progress_bytes(bytes, b1, sizeof(b1));
    progress_bytes(p->total_bytes, b2, sizeof(b2));
    progress_count(rows, r1, sizeof(r1));
    progress_count(final ? rows : est_rows, r2, sizeof(r2));
    progress_bytes((uint64_t)rate, rt, sizeof(rt));
    progress_count(failures, fc, sizeof(fc));
    unsigned eta_s = (unsigned)eta;
    if (p->tty) {
        char bar[31];
        bar_of(frac, bar);
        fprintf(p->out,
                "\r%s [%s] %3.0f%% %s/%s  %s rows (~%s)  %s failures  %s/s  ETA %u:%02u:%02u "
                "\033[K",
                p->name, bar, frac * 100, b1, b2, r1, r2, fc, rt, eta_s / 3600, eta_s / 60 % 60,
                eta_s % 60);
        if (final) {
            fputs("\r\033[K", p->out);
        }
        fflush(p->out);
    } else if (!final) {
        log_msg(p->log, LOG_INFO, p->name,
                "progress: %.0f%% %s of %s, %s rows (~%s estimated), %s failures, %s/s, ETA "
                "%u:%02u:%02u",
                frac * 100, b1, b2, r1, r2, fc, rt, eta_s / 3600, eta_s / 60 % 60, eta_s % 60);
    }
}

void progress_update(struct progress *p, uint64_t bytes, uint64_t rows, uint64_t failures)
{
    if (!p->enabled) {
        return;
    }
    double now = fs_monotonic();
    double every = p->tty ? 0.2 : 10.0;
    if (now - p->last < every) {
        return;
    }
    p->last = now;
    p->drawn = true;
    render(p, bytes, rows, failures, now, false);
}

void progress_done(struct progress *p, uint64_t bytes, uint64_t rows, uint64_t failures)
{
    /* On a terminal the final figures are drawn (and cleared) even when the work ended before
     * the first redraw: the bar's last state is then in a terminal's scrollback or typescript. */
    if (p->enabled && (p->drawn || p->tty)) {
        render(p, bytes, rows, failures, fs_monotonic(), true);
    }
}

void progress_feed_init(struct progress_feed *f, uint64_t threshold, FILE *out, struct log *log)
{
    memset(f, 0, sizeof(*f));
    f->threshold = threshold;
    f->out = out;
    f->log = log;
}

void progress_feed(void *ctx, const struct ingest_progress *ip)
{
    struct progress_feed *f = ctx;
    if (!f->started) {
        progress_init(&f->p, f->threshold > 0 && ip->size >= f->threshold, f->out, f->log, ip->name,
                      ip->size);
        f->started = true;
    }
    if (ip->done) {
        progress_done(&f->p, ip->bytes, ip->rows, ip->failures);
        f->started = false;
    } else {
        progress_update(&f->p, ip->bytes, ip->rows, ip->failures);
    }
}

void progress_feed_load(void *ctx, const struct steps_progress *sp)
{
    struct progress_feed *f = ctx;
    if (!f->started) {
        progress_init_rows(&f->p, true, f->out, sp->step, sp->total_rows, sp->total_bytes);
        f->started = true;
    }
    if (sp->done) {
        progress_done(&f->p, 0, sp->rows, 0);
        f->started = false;
    } else {
        progress_update(&f->p, 0, sp->rows, 0);
    }
}
