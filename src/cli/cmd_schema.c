/*
 * cmd_schema.c - `astro schema infer FILE`: prints a Pandera YAML schema inferred from a CSV,
 * NDJSON or JSON file, plain or compressed (src/validate/infer.h), or taken from a Parquet file's
 * own schema (its columns as astro reads them: no row is read). For the JSON formats the
 * columns are the key paths of the objects (a first pass, input/json.h), then the records are
 * read as a spec with those columns would read them. Advice only: ingest never infers. The schema goes to stdout; rows that
 * no schema could accept are reported on stderr, so the person knows the file cannot pass as is.
 */
#include "cli/commands.h"

#include "input/csv.h"
#include "input/input.h"
#include "input/json.h"
#include "parquet/pq.h"
#include "util/buf.h"
#include "util/fs.h"
#include "validate/infer.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sopts {
    const char *file;
    const char *encoding;
    char delimiter;
    bool no_header;
    uint64_t max_rows; /* 0 = every row */
    const char *format; /* NULL: from the file's name (config_format_of_name) */
};

static void usage_schema(FILE *out)
{
    fputs("usage: astro [global options] schema infer FILE [--rows N] [--encoding E]\n"
          "                [--delimiter D] [--no-header] [--format csv|ndjson|json|parquet]\n"
          "\n"
          "Prints a Pandera DataFrameSchema (YAML) inferred from a CSV, NDJSON or JSON file\n"
          "(plain or gzip/zstd/bzip2/xz): dtypes (narrowest integer, float64, bool, date with its\n"
          "format, datetime, str), nullability and candidate checks (observed ranges, small isin\n"
          "sets). The rows it read pass the printed schema. Advice only: review it before use;\n"
          "ingest never infers. For NDJSON/JSON the columns are the objects' key paths\n"
          "(customer.email) and JSON types map strictly, as ingest maps them. For Parquet the\n"
          "schema is the file's own: its columns, dtypes and nullability, no checks.\n"
          "  --rows N        read only the first N data rows (default: the whole file)\n"
          "  --encoding E    the file's encoding (default utf-8; any iconv name; CSV only)\n"
          "  --delimiter D   field delimiter (default ','; 'tab' or '\\t' for tab; CSV only)\n"
          "  --no-header     the first record is data; columns are named column_1, column_2...\n"
          "  --format F      csv, ndjson, json or parquet (default: from the name, as format: in\n"
          "                  astro.yaml: x.ndjson.gz is ndjson)\n",
          out);
}

static int parse_args(int argc, char **argv, struct sopts *so, struct err *e)
{
    static const struct option opts[] = {
        {"rows", required_argument, NULL, 'r'},
        {"encoding", required_argument, NULL, 'E'},
        {"delimiter", required_argument, NULL, 'd'},
        {"no-header", no_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'r': {
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || errno != 0 || *end != '\0' || v == 0) {
                return err_set(e, AE_CONFIG,
                               "--rows must be a whole number of at least 1, not '%s'", optarg);
            }
            so->max_rows = v;
            break;
        }
        case 'E': so->encoding = optarg; break;
        case 'd':
            if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0) {
                so->delimiter = '\t';
            } else if (strlen(optarg) == 1) {
                so->delimiter = optarg[0];
            } else {
                return err_set(e, AE_CONFIG, "--delimiter must be one character or 'tab', not '%s'",
                               optarg);
            }
            break;
        case 'n': so->no_header = true; break;
        case 'f':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "ndjson") != 0 &&
                strcmp(optarg, "json") != 0 && strcmp(optarg, "parquet") != 0) {
                return err_set(e, AE_CONFIG,
                               "--format must be csv, ndjson, json or parquet, not '%s'", optarg);
            }
            so->format = optarg;
            break;
        case 'h': return 1;
        default:
            return err_set(e, AE_CONFIG, "schema infer: unknown option or missing value: '%s'",
                           argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) {
        return err_set(e, AE_CONFIG, "schema infer takes exactly one FILE (%d given)",
                       argc - optind);
    }
    so->file = argv[optind];
    return 0;
}

/* Column names: the header's fields (*lens: their lengths, NUL bytes included), or
 * column_1..column_n for a headerless file. */
static int make_names(const struct record_block *rows, bool no_header, char ***out, size_t **lens,
                      size_t *n)
{
    size_t count = rows->row_first[1] - rows->row_first[0];
    char **names = calloc(count ? count : 1, sizeof(*names));
    *lens = calloc(count ? count : 1, sizeof(**lens));
    if (names == NULL || *lens == NULL) {
        free(names);
        free(*lens);
        *lens = NULL;
        return AE_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const struct record_field *f = &rows->fields[rows->row_first[0] + i];
        char tmp[32];
        if (no_header) {
            snprintf(tmp, sizeof(tmp), "column_%zu", i + 1);
            names[i] = strdup(tmp);
        } else {
            names[i] = malloc(f->len + 1);
            if (names[i] != NULL) {
                memcpy(names[i], f->p, f->len);
                names[i][f->len] = '\0';
            }
        }
        if (names[i] == NULL) {
            for (size_t j = 0; j < i; j++) {
                free(names[j]);
            }
            free(names);
            free(*lens);
            *lens = NULL;
            return AE_NOMEM;
        }
        (*lens)[i] = no_header ? strlen(names[i]) : f->len;
    }
    *out = names;
    *n = count;
    return 0;
}

/* NDJSON / JSON: the key paths first, then the records as a spec with those columns reads them
 * (input/json.c: one field per column, with its JSON type). */
static int feed_json(const struct sopts *so, enum input_format fmt, struct infer **inf,
                     struct err *e)
{
    char **keys = NULL;
    size_t nkeys = 0;
    struct source *src = NULL;
    struct column_spec *cols = NULL;
    struct input in;
    memset(&in, 0, sizeof(in));
    struct record_block rows;
    memset(&rows, 0, sizeof(rows));
    int fd = open(so->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return err_errno(e, errno, "cannot open %s", so->file);
    }
    int rc = source_open(&src, fd, so->file, e);
    if (rc == 0) {
        rc = json_list_keys(src, fmt, so->max_rows, &keys, &nkeys, e);
    }
    source_free(src);
    close(fd);
    fd = -1;
    if (rc == 0 && nkeys == 0) {
        rc = err_set(e, AE_DATA, "%s holds no object with a key: there is nothing to infer a "
                     "schema from", so->file);
    }
    if (rc == 0 && (cols = calloc(nkeys, sizeof(*cols))) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
    if (rc != 0) {
        goto out;
    }
    struct ingest_spec spec;
    memset(&spec, 0, sizeof(spec));
    for (size_t c = 0; c < nkeys; c++) {
        cols[c].name = keys[c]; /* looked up as written, then as a dotted path */
    }
    spec.format = fmt;
    spec.schema.cols = cols;
    spec.schema.ncols = nkeys;
    fd = open(so->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = err_errno(e, errno, "cannot open %s", so->file);
        goto out;
    }
    rc = input_open(&in, fd, so->file, &spec, e);
    if (rc == 0) {
        rc = infer_new(inf, (const char *const *)keys, NULL, nkeys, e);
    }
    while (rc == 0) {
        uint64_t left = so->max_rows ? so->max_rows - infer_nrows(*inf) : 8192;
        if (left == 0) {
            break;
        }
        rc = input_next(&in, &rows, left < 8192 ? (size_t)left : 8192, e);
        if (rc != 0 || rows.nrows == 0) {
            break;
        }
        rc = infer_rows(*inf, &rows, 0, e);
    }
out:
    record_block_release(&rows);
    input_close(&in);
    if (fd >= 0) {
        close(fd);
    }
    free(cols);
    for (size_t k = 0; k < nkeys; k++) {
        free(keys[k]);
    }
    free(keys);
    return rc;
}

/* A Parquet file's schema is typed already: its columns, as astro reads them, are the schema. */
static int infer_parquet(const struct sopts *so, int fd, struct err *e)
{
    if (so->encoding != NULL || so->delimiter != '\0' || so->no_header || so->max_rows != 0) {
        return err_set(e, AE_CONFIG,
                       "--encoding, --delimiter, --no-header and --rows are not used with "
                       "Parquet: %s is described by its own schema",
                       so->file);
    }
    struct pq_reader *pq = NULL;
    struct buf comment = BUF_INIT;
    struct column_desc *cols = NULL;
    int rc = pq_reader_open_fd(&pq, fd, so->file, e);
    if (rc == AE_FORMAT) {
        rc = AE_DATA; /* bad data, as for a Parquet file that fails ingest (exit 1) */
    }
    if (rc != 0) {
        return rc;
    }
    size_t n = pq_reader_ncols(pq);
    cols = calloc(n ? n : 1, sizeof(*cols));
    rc = cols == NULL ? AE_NOMEM
                      : buf_printf(&comment,
                                   "Inferred by astro schema infer from the Parquet schema of %s "
                                   "(%llu rows in %zu row groups).\nThe dtypes and nullability "
                                   "are the file's own; add the checks you need.",
                                   so->file, (unsigned long long)pq_reader_nrows(pq),
                                   pq_reader_nrow_groups(pq));
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < n; c++) {
        cols[c] = *pq_reader_column(pq, c);
    }
    size_t renamed = 0;
    rc = infer_write_yaml_columns(stdout, comment.data, cols, n, &renamed, e);
    if (rc == 0 && renamed > 0) {
        fprintf(stderr,
                "astro: warning: %zu column name(s) of %s hold a NUL byte or bytes that are not "
                "valid UTF-8; the schema writes each such byte as the text \\xNN, which the file "
                "does not match\n",
                renamed, so->file);
    }
out:
    free(cols);
    buf_release(&comment);
    pq_reader_free(pq);
    return rc;
}

static int infer_file(const struct sopts *so, struct err *e)
{
    int fd = -1;
    int rc = fs_open_regular(so->file, &fd, e);
    struct source *src = NULL;
    struct csv_reader *reader = NULL;
    struct record_block rows;
    memset(&rows, 0, sizeof(rows));
    struct infer *inf = NULL;
    char **names = NULL;
    size_t *lens = NULL;
    size_t nnames = 0;
    struct buf comment = BUF_INIT;
    if (rc != 0) {
        return rc;
    }
    enum input_format fmt = config_format_of_name(so->file);
    if (so->format != NULL) {
        fmt = strcmp(so->format, "ndjson") == 0    ? INPUT_NDJSON
              : strcmp(so->format, "json") == 0    ? INPUT_JSON
              : strcmp(so->format, "parquet") == 0 ? INPUT_PARQUET
                                                   : INPUT_CSV;
    }
    if (fmt == INPUT_PARQUET) {
        rc = infer_parquet(so, fd, e);
        close(fd);
        return rc;
    }
    if (fmt != INPUT_CSV) {
        if (so->encoding != NULL || so->delimiter != '\0' || so->no_header) {
            rc = err_set(e, AE_CONFIG, "--encoding, --delimiter and --no-header are for CSV; %s "
                         "is read as %s", so->file, config_format_name(fmt));
            goto out;
        }
        rc = feed_json(so, fmt, &inf, e);
        if (rc != 0) {
            goto out;
        }
        goto report;
    }
    struct csv_options copt = {so->encoding, so->delimiter, '"', '\0'};
    rc = source_open(&src, fd, so->file, e);
    if (rc == 0) {
        rc = csv_reader_open(&reader, src, &copt, e);
    }
    if (rc == 0) {
        rc = csv_reader_next(reader, &rows, 1, e);
    }
    if (rc != 0) {
        goto out;
    }
    if (rows.nrows == 0) {
        rc = err_set(e, AE_DATA, "%s is empty: there is nothing to infer a schema from", so->file);
        goto out;
    }
    if (make_names(&rows, so->no_header, &names, &lens, &nnames) != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = infer_new(&inf, (const char *const *)names, lens, nnames, e);
    if (rc == 0 && so->no_header) {
        rc = infer_rows(inf, &rows, 0, e);
    }
    while (rc == 0) {
        uint64_t left = so->max_rows ? so->max_rows - infer_nrows(inf) : 8192;
        if (left == 0) {
            break;
        }
        rc = csv_reader_next(reader, &rows, left < 8192 ? (size_t)left : 8192, e);
        if (rc != 0 || rows.nrows == 0) {
            break;
        }
        rc = infer_rows(inf, &rows, 0, e);
    }
    if (rc != 0) {
        goto out;
    }
report:;
    struct infer_problems pb;
    infer_problems(inf, &pb);
    rc = buf_printf(&comment,
                    "Inferred by astro schema infer from %s (%llu data rows read%s).\n"
                    "Advice only: review the dtypes, nullability and checks before use.",
                    so->file, (unsigned long long)infer_nrows(inf),
                    so->max_rows && infer_nrows(inf) == so->max_rows ? ", --rows limit" : "");
    if (rc == 0 && so->no_header) {
        rc = buf_printf(&comment, "\nThe file has no header: in astro.yaml set has_header: false "
                                  "and column_names to these names.");
    }
    if (rc == 0 && fmt != INPUT_CSV) {
        rc = buf_printf(&comment, "\nRead as %s: set format: %s in astro.yaml unless the file "
                        "name says so.", config_format_name(fmt), config_format_name(fmt));
    }
    if (rc == 0 && so->encoding != NULL) {
        rc = buf_printf(&comment, "\nRead as %s: set encoding: %s in astro.yaml.", so->encoding,
                        so->encoding);
    }
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = infer_write_yaml(inf, stdout, comment.data, e);
    if (rc != 0) {
        goto out;
    }
    if (pb.ragged > 0) {
        fprintf(stderr,
                "astro: warning: %llu row(s) of %s have the wrong number of fields or an "
                "unterminated quote (first at line %llu); no schema accepts them\n",
                (unsigned long long)pb.ragged, so->file, (unsigned long long)pb.ragged_line);
    }
    if (pb.bad_encoding > 0) {
        fprintf(stderr,
                "astro: warning: %llu field(s) of %s are not valid %s (first at line %llu); "
                "give the right --encoding\n",
                (unsigned long long)pb.bad_encoding, so->file,
                so->encoding ? so->encoding : "utf-8", (unsigned long long)pb.bad_encoding_line);
    }
    if (pb.unreadable > 0) {
        fprintf(stderr,
                "astro: warning: %llu record(s) of %s are not valid JSON objects (first at line "
                "%llu); no schema accepts them\n",
                (unsigned long long)pb.unreadable, so->file,
                (unsigned long long)pb.unreadable_line);
    }
    if (pb.composite > 0) {
        fprintf(stderr,
                "astro: warning: %llu value(s) of %s are JSON arrays (or objects where other "
                "records have a scalar; first at line %llu); no column type holds them\n",
                (unsigned long long)pb.composite, so->file,
                (unsigned long long)pb.composite_line);
    }
    const char *what = fmt == INPUT_CSV ? "header name(s)" : "key path(s)";
    if (pb.duplicate_names > 0) {
        fprintf(stderr,
                "astro: warning: %zu header name(s) of %s appear more than once; astro refuses "
                "repeated column names: the schema names each repeat NAME_N (N its position), "
                "which the file does not match\n",
                pb.duplicate_names, so->file);
    }
    if (pb.empty_names > 0) {
        fprintf(stderr,
                "astro: warning: %zu %s of %s are empty; astro refuses empty column names: the "
                "schema names them column_N (N the position), which the file does not match\n",
                pb.empty_names, what, so->file);
    }
    if (pb.escaped_names > 0) {
        fprintf(stderr,
                "astro: warning: %zu %s of %s hold a NUL byte or bytes that are not valid UTF-8; "
                "the schema writes each such byte as the text \\xNN, which the file does not "
                "match (give the right --encoding, or rename the column)\n",
                pb.escaped_names, what, so->file);
    }
out:
    buf_release(&comment);
    infer_free(inf);
    if (names != NULL) {
        for (size_t i = 0; i < nnames; i++) {
            free(names[i]);
        }
        free(names);
    }
    free(lens);
    record_block_release(&rows);
    csv_reader_free(reader);
    source_free(src);
    close(fd);
    return rc;
}

int cmd_schema(const struct cli_globals *g, int argc, char **argv)
{
    (void)g;
    struct sopts so;
    memset(&so, 0, sizeof(so));
    struct err e;
    err_clear(&e);
    if (argc < 2 || strcmp(argv[1], "infer") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage_schema(stdout);
            return 0;
        }
        fprintf(stderr, "astro: schema needs a subcommand: infer\n");
        usage_schema(stderr);
        return AE_CONFIG;
    }
    int rc = parse_args(argc - 1, argv + 1, &so, &e);
    if (rc == 1) {
        usage_schema(stdout);
        return 0;
    }
    bool usage_error = rc == AE_CONFIG; /* the arguments, not the file, were wrong */
    if (rc == 0) {
        rc = infer_file(&so, &e);
    }
    if (rc != 0) {
        fprintf(stderr, "astro: %s\n", e.msg);
        if (usage_error) {
            usage_schema(stderr);
        }
    }
    return rc;
}
