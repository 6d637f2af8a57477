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
    p->start = fs_monotonic();
    p->last = p->start;
    p->drawn = false;
}

static void render(struct progress *p, uint64_t bytes, uint64_t rows, double now, bool final)
{
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
    char b1[32], b2[32], r1[32], r2[32], rt[32];
    progress_bytes(bytes, b1, sizeof(b1));
    progress_bytes(p->total_bytes, b2, sizeof(b2));
    progress_count(rows, r1, sizeof(r1));
    progress_count(final ? rows : est_rows, r2, sizeof(r2));
    progress_bytes((uint64_t)rate, rt, sizeof(rt));
    unsigned eta_s = (unsigned)eta;
    if (p->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) {
            bar[i] = i < fill ? '#' : '-';
        }
        bar[30] = '\0';
        fprintf(p->out, "\r%s [%s] %3.0f%% %s/%s  %s rows (~%s)  %s/s  ETA %u:%02u:%02u \033[K",
                p->name, bar, frac * 100, b1, b2, r1, r2, rt, eta_s / 3600, eta_s / 60 % 60,
                eta_s % 60);
        if (final) {
            fputs("\r\033[K", p->out);
        }
        fflush(p->out);
    } else if (!final) {
        log_msg(p->log, LOG_INFO, p->name,
                "progress: %.0f%% %s of %s, %s rows (~%s estimated), %s/s, ETA %u:%02u:%02u",
                frac * 100, b1, b2, r1, r2, rt, eta_s / 3600, eta_s / 60 % 60, eta_s % 60);
    }
}

void progress_update(struct progress *p, uint64_t bytes, uint64_t rows)
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
    render(p, bytes, rows, now, false);
}

void progress_done(struct progress *p, uint64_t bytes, uint64_t rows)
{
    if (p->enabled && p->drawn) {
        render(p, bytes, rows, fs_monotonic(), true);
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
        progress_done(&f->p, ip->bytes, ip->rows);
        f->started = false;
    } else {
        progress_update(&f->p, ip->bytes, ip->rows);
    }
}
