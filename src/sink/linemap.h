/*
 * linemap.h - the source line of every row of a Parquet file astro writes, kept in the footer's
 * key-value metadata (key LINE_MAP_KEY), so that a load that fails at a row names the line of the
 * delivered file it came from, also when invalid rows were left out of the file.
 *
 * The map is a list of runs: "v1 R:L R:L ...", each meaning that from Parquet row R (0-based) on,
 * row r came from source line L + (r - R), until the next run. A file whose rows are its lines
 * after a header is one run ("v1 0:2"); a row left out, or a record spanning several lines,
 * starts a new run. Memory is bounded: after LINE_MAP_MAX_RUNS runs the map ends with "R:?",
 * meaning the lines of rows from R on are unknown (line_map_line() then returns 0). Values are
 * decimal; anything else in the text makes the map unusable (line_map_parse() fails, and the
 * caller reports row numbers instead).
 */
#ifndef ASTRO_SINK_LINEMAP_H
#define ASTRO_SINK_LINEMAP_H

#include "batch/batch.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_MAP_KEY "astro.source_lines"
#define LINE_MAP_MAX_RUNS 65536

struct line_run {
    uint64_t row;  /* first Parquet row of the run */
    uint64_t line; /* its source line */
};

/* A line map being built (line_map_add) or read (line_map_parse). Owns runs. */
struct line_map {
    struct line_run *runs;
    size_t n, cap;
    uint64_t rows;         /* rows added so far (building) */
    uint64_t next_line;    /* the line a row continuing the last run would have */
    uint64_t unknown_from; /* rows from here on have no known line; UINT64_MAX: none */
};

/* An empty map (no rows). */
void line_map_init(struct line_map *m);

/* Frees what m owns and empties it; a zeroed or released m is a no-op. */
void line_map_release(struct line_map *m);

/* Records the lines (b->line) of the rows of b that row_ok marks, in order, as the Parquet writer
 * appends them. AE_NOMEM when a run cannot be stored (m stays usable). */
int line_map_add(struct line_map *m, const struct batch *b, struct err *e) ASTRO_WUR;

/* The map as text (malloc'd into *out, owned by the caller). AE_NOMEM. */
int line_map_text(const struct line_map *m, char **out, struct err *e) ASTRO_WUR;

/* Reads text (a LINE_MAP_KEY value) into m (initialised here). AE_FORMAT when it is not a line
 * map (m is then empty), AE_NOMEM. */
int line_map_parse(struct line_map *m, const char *text, struct err *e) ASTRO_WUR;

/* The source line of Parquet row row (0-based), or 0 when unknown. */
uint64_t line_map_line(const struct line_map *m, uint64_t row);

#endif
