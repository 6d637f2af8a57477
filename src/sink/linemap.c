/*
 * linemap.c - the row -> source line map of a Parquet file (linemap.h): built from the batches a
 * Parquet sink writes, stored as footer metadata text, read back by a load to name the line of a
 * failing row.
 */
#include "sink/linemap.h"

#include "util/buf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void line_map_init(struct line_map *m)
{
    memset(m, 0, sizeof(*m));
    m->unknown_from = UINT64_MAX;
}

void line_map_release(struct line_map *m)
{
    free(m->runs);
    line_map_init(m);
}

static int push_run(struct line_map *m, uint64_t row, uint64_t line)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct line_run *r = realloc(m->runs, cap * sizeof(*r));
        if (r == NULL) {
            return AE_NOMEM;
        }
        m->runs = r;
        m->cap = cap;
    }
    m->runs[m->n].row = row;
    m->runs[m->n].line = line;
    m->n++;
    return 0;
}

int line_map_add(struct line_map *m, const struct batch *b, struct err *e)
{
    for (size_t i = 0; i < b->nrows; i++) {
        if (!b->row_ok[i]) {
            continue;
        }
        uint64_t line = b->line[i];
        if (m->unknown_from == UINT64_MAX && (m->n == 0 || line != m->next_line)) {
            if (m->n == LINE_MAP_MAX_RUNS) {
                m->unknown_from = m->rows; /* the bound on memory: later lines are unknown */
            } else if (push_run(m, m->rows, line) != 0) {
                return err_set(e, AE_NOMEM, "out of memory");
            }
        }
        m->next_line = line + 1;
        m->rows++;
    }
    return 0;
}

int line_map_text(const struct line_map *m, char **out, struct err *e)
{
    struct buf b = BUF_INIT;
    int rc = buf_puts(&b, "v1");
    for (size_t i = 0; rc == 0 && i < m->n; i++) {
        rc = buf_printf(&b, " %" PRIu64 ":%" PRIu64, m->runs[i].row, m->runs[i].line);
    }
    if (rc == 0 && m->unknown_from != UINT64_MAX) {
        rc = buf_printf(&b, " %" PRIu64 ":?", m->unknown_from);
    }
    if (rc != 0) {
        buf_release(&b);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    *out = buf_detach(&b, NULL);
    return 0;
}

/* Reads decimal digits at *p into *v; false when there are none or they overflow. */
static bool take_u64(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9') {
        return false;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10) {
            return false;
        }
        x = x * 10 + d;
    }
    *p = s;
    *v = x;
    return true;
}

int line_map_parse(struct line_map *m, const char *text, struct err *e)
{
    line_map_init(m);
    if (text == NULL || strncmp(text, "v1", 2) != 0) {
        return err_set(e, AE_FORMAT, "%s is not a line map", LINE_MAP_KEY);
    }
    const char *p = text + 2;
    while (*p == ' ') {
        p++;
        uint64_t row = 0, line = 0;
        bool ok = take_u64(&p, &row) && *p++ == ':';
        if (ok && *p == '?' && (p[1] == '\0')) {
            m->unknown_from = row;
            p++;
            break;
        }
        ok = ok && take_u64(&p, &line) && (m->n == 0 || row > m->runs[m->n - 1].row);
        if (!ok) {
            line_map_release(m);
            return err_set(e, AE_FORMAT, "%s is not a line map", LINE_MAP_KEY);
        }
        if (push_run(m, row, line) != 0) {
            line_map_release(m);
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    if (*p != '\0') {
        line_map_release(m);
        return err_set(e, AE_FORMAT, "%s is not a line map", LINE_MAP_KEY);
    }
    return 0;
}

uint64_t line_map_line(const struct line_map *m, uint64_t row)
{
    if (row >= m->unknown_from || m->n == 0 || row < m->runs[0].row) {
        return 0;
    }
    size_t lo = 0, hi = m->n; /* the last run whose first row is <= row */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->runs[mid].row <= row) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return m->runs[lo].line + (row - m->runs[lo].row);
}
