/*
 * pqdump.c - prints every row of a Parquet file as astro's reader (pq.h) reads it, in a canonical
 * text form that tests/oracle/pqwriters.mjs rebuilds from DuckDB's reading of the same file, so
 * that the two can be compared line by line (tests/e2e/test_pq_reader_writers.sh).
 *
 * Usage: pqdump FILE [BATCH_ROWS]   (default 1024 rows per pq_reader_next call)
 *
 * Output: one JSON header line {"rows":N,"columns":[{"name":..,"dtype":..,"nullable":..},..]},
 * then one JSON array per row, in file order, one element per column: null for a null cell,
 * otherwise a string:
 *   str            the bytes in upper-case hex (exact, whatever the characters)
 *   bool           true / false
 *   int*, uint*    decimal (uint64 unsigned)
 *   float32/64     printf %.17g of the double (float32 values are exact in a double); nan
 *   date           days since 1970-01-01
 *   timestamp(tz)  microseconds since 1970-01-01T00:00:00
 *   decimal(p,s)   the exact decimal text with s digits after the point ("-0.05")
 * Exit status: 0, or 1 with the reader's message on stderr.
 * With PQDUMP_PAGE_PEAK=FILE in the environment, the reader's pq_reader_page_peak (bytes) is
 * written to FILE at the end (tests/oracle/bigpages.mjs checks it); with PQDUMP_STREAM=MIN,HIST
 * the reader is tuned with pq_reader_stream_tune(MIN, HIST) (0,65536: every PLAIN page it can
 * stream is streamed).
 */
#include "batch/batch.h"
#include "parquet/pq.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints s as a JSON string (names are the only free text printed as such). */
static void put_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

static void put_decimal(__int128 v, int scale)
{
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    char digits[64];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    while (n <= scale) {
        digits[n++] = '0';
    }
    if (v < 0) {
        putchar('-');
    }
    for (int i = n - 1; i >= 0; i--) {
        putchar(digits[i]);
        if (i == scale && scale > 0) {
            putchar('.');
        }
    }
}

static void put_cell(const struct column *col, size_t r)
{
    if (!col->valid[r]) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    switch (col->type.id) {
    case DT_STR:
        for (uint32_t i = col->offs[r]; i < col->offs[r + 1]; i++) {
            printf("%02X", (unsigned)(uint8_t)col->data.data[i]);
        }
        break;
    case DT_BOOL: fputs(col->v.u8[r] ? "true" : "false", stdout); break;
    case DT_UINT64: printf("%" PRIu64, (uint64_t)col->v.i64[r]); break;
    case DT_INT8:
    case DT_INT16:
    case DT_INT32:
    case DT_INT64:
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ:
    case DT_TIMEDELTA: printf("%" PRId64, col->v.i64[r]); break;
    case DT_FLOAT32:
    case DT_FLOAT64:
        /* A NaN's sign is not a value (DuckDB prints every NaN as nan). */
        if (isnan(col->v.f64[r])) {
            fputs("nan", stdout);
        } else {
            printf("%.17g", col->v.f64[r]);
        }
        break;
    case DT_DECIMAL: put_decimal(col->v.i128[r], col->type.scale); break;
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: pqdump FILE [BATCH_ROWS]\n");
        return 2;
    }
    size_t cap = argc == 3 ? (size_t)strtoul(argv[2], NULL, 10) : 1024;
    if (cap == 0) {
        cap = 1;
    }
    struct err e = {0};
    struct pq_reader *r = NULL;
    struct dtype_info *types = NULL;
    struct batch b = {0};
    bool have_batch = false;
    int status = 1;
    if (pq_reader_open(&r, argv[1], &e) != 0) {
        goto fail;
    }
    const char *tune = getenv("PQDUMP_STREAM");
    if (tune != NULL) {
        char *end = NULL;
        size_t min_page = (size_t)strtoull(tune, &end, 10);
        size_t hist = end != NULL && *end == ',' ? (size_t)strtoull(end + 1, NULL, 10) : 65536;
        pq_reader_stream_tune(r, min_page, hist);
    }
    size_t nc = pq_reader_ncols(r);
    types = calloc(nc ? nc : 1, sizeof(*types));
    if (types == NULL) {
        goto fail;
    }
    printf("{\"rows\":%" PRIu64 ",\"columns\":[", pq_reader_nrows(r));
    for (size_t i = 0; i < nc; i++) {
        const struct column_desc *c = pq_reader_column(r, i);
        char name[64];
        types[i] = c->type;
        printf("%s{\"name\":", i ? "," : "");
        put_json_string(c->name);
        printf(",\"dtype\":\"%s\",\"nullable\":%s}", dtype_name(c->type, name, sizeof(name)),
               c->nullable ? "true" : "false");
    }
    printf("]}\n");
    if (batch_init(&b, types, nc, cap) != 0) {
        goto fail;
    }
    have_batch = true;
    uint64_t rows = 0;
    for (;;) {
        if (pq_reader_next(r, &b, &e) != 0) {
            goto fail;
        }
        if (b.nrows == 0) {
            break;
        }
        for (size_t row = 0; row < b.nrows; row++) {
            putchar('[');
            for (size_t c = 0; c < nc; c++) {
                if (c > 0) {
                    putchar(',');
                }
                put_cell(&b.cols[c], row);
            }
            fputs("]\n", stdout);
        }
        rows += b.nrows;
    }
    if (rows != pq_reader_nrows(r)) {
        fprintf(stderr, "pqdump: read %" PRIu64 " rows, the footer says %" PRIu64 "\n", rows,
                pq_reader_nrows(r));
        goto done;
    }
    status = fflush(stdout) == 0 ? 0 : 1;
    const char *peak_file = getenv("PQDUMP_PAGE_PEAK");
    if (peak_file != NULL) {
        FILE *pf = fopen(peak_file, "w");
        if (pf == NULL || fprintf(pf, "%zu\n", pq_reader_page_peak(r)) < 0 || fclose(pf) != 0) {
            status = 1;
        }
    }
    goto done;
fail:
    fprintf(stderr, "pqdump: %s\n", e.msg[0] ? e.msg : "out of memory");
done:
    if (have_batch) {
        batch_release(&b);
    }
    free(types);
    pq_reader_free(r);
    return status;
}
