/*
 * cmd_schema.c - `astro schema infer FILE`: prints a Pandera YAML schema inferred from a CSV,
 * NDJSON or JSON file, plain or compressed, or a worksheet of an xlsx workbook (whose header row
 * is read as a CSV header is) (src/validate/infer.h), or taken from a Parquet file's own schema
 * (its columns as astro reads them: no row is read). For the JSON formats the
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
#include <sys/stat.h>
#include <unistd.h>

struct sopts {
    const char *file;
    const char *encoding;
    char delimiter;
    bool no_header;
    uint64_t max_rows; /* 0 = every row */
    const char *format; /* NULL: from the file's name (config_format_of_name) */
    bool strict;        /* observed ranges and values as checks, narrowest integers */
    bool pandera;       /* Pandera's to_yaml() document instead of the astro.yaml block */
    const char *sheet;  /* xlsx: the worksheet, NULL for the first */
};

static void usage_schema(FILE *out)
{
    fputs("usage: astro [global options] schema infer FILE [--rows N] [--encoding E]\n"
          "                [--delimiter D] [--no-header]\n"
          "                [--format csv|ndjson|json|xlsx|parquet]\n"
          "                [--sheet NAME] [--strict] [--pandera]\n"
          "\n"
          "Prints the ingest_files entry of astro.yaml for a CSV, NDJSON, JSON (plain or\n"
          "gzip/zstd/bzip2/xz) or xlsx file, ready to paste: name, source_pattern, the encoding detected, and\n"
          "a schema of one line a column: dtype (int64, float64, bool, date with its format,\n"
          "datetime, str), nullability, null markers seen (NA, -, Unknown...) as null_values,\n"
          "and the observed range or values as a comment. The rows it read pass the printed\n"
          "schema. Advice only: review it before use; ingest never infers. For NDJSON/JSON the\n"
          "columns are the objects' key paths (customer.email) and JSON types map strictly.\n"
          "For Parquet the schema is the file's own: its columns, dtypes and nullability.\n"
          "  --rows N        read only the first N data rows (default: the whole file)\n"
          "  --encoding E    the file's encoding (any iconv name; CSV only); default: detected\n"
          "                  (a byte order mark, else utf-8, else latin-1)\n"
          "  --delimiter D   field delimiter (default ','; 'tab' or '\\t' for tab; CSV only)\n"
          "  --no-header     the first record is data; columns are named column_1, column_2...\n"
          "  --format F      csv, ndjson, json, xlsx or parquet (default: from the name, as\n"
          "                  format: in astro.yaml: x.ndjson.gz is ndjson)\n"
          "  --sheet NAME    xlsx: the worksheet to read (default: the first)\n"
          "  --strict        the observed ranges and values as checks, and the narrowest\n"
          "                  integer dtype (int8...): overfits the rows read\n"
          "  --pandera       a Pandera DataFrameSchema document (to_yaml form) to use as a\n"
          "                  schema_file, instead of the astro.yaml block\n",
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
        {"strict", no_argument, NULL, 's'},
        {"pandera", no_argument, NULL, 'p'},
        {"sheet", required_argument, NULL, 'S'},
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
                strcmp(optarg, "json") != 0 && strcmp(optarg, "xlsx") != 0 &&
                strcmp(optarg, "parquet") != 0) {
                return err_set(e, AE_CONFIG,
                               "--format must be csv, ndjson, json, xlsx or parquet, not '%s'",
                               optarg);
            }
            so->format = optarg;
            break;
        case 's': so->strict = true; break;
        case 'p': so->pandera = true; break;
        case 'S': so->sheet = optarg; break;
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

/* CSV (in encoding) or a worksheet (xlsx: so->sheet, else the first): the header (or column_N
 * names), then the records. */
static int feed_table(const struct sopts *so, int fd, bool xl, const char *encoding,
                      struct infer **inf,
                    struct err *e)
{
    struct source *src = NULL;
    struct csv_reader *reader = NULL;
    struct record_block rows;
    memset(&rows, 0, sizeof(rows));
    char **names = NULL;
    size_t *lens = NULL;
    size_t nnames = 0;
    struct csv_options copt = {encoding, so->delimiter, '"', '\0'};
    struct input xin;
    memset(&xin, 0, sizeof(xin));
    struct ingest_spec xspec;
    memset(&xspec, 0, sizeof(xspec));
    xspec.format = INPUT_XLSX;
    xspec.has_header = true;
    xspec.sheet = (char *)(uintptr_t)so->sheet;
    int rc = lseek(fd, 0, SEEK_SET) < 0 ? err_errno(e, errno, "cannot read %s", so->file) : 0;
    if (rc == 0 && xl) {
        /* A worksheet: its header row is the first record (input/xlsx.c), as for CSV. */
        rc = input_open(&xin, fd, so->file, &xspec, e);
        rc = rc ? rc : input_next(&xin, &rows, 1, e);
    } else if (rc == 0) {
        rc = source_open(&src, fd, so->file, e);
        rc = rc ? rc : csv_reader_open(&reader, src, &copt, e);
        rc = rc ? rc : csv_reader_next(reader, &rows, 1, e);
    }
    if (rc == 0 && rows.nrows == 0) {
        rc = err_set(e, AE_DATA, "%s is empty: there is nothing to infer a schema from", so->file);
    }
    if (rc == 0 && make_names(&rows, so->no_header, &names, &lens, &nnames) != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
    if (rc == 0) {
        rc = infer_new(inf, (const char *const *)names, lens, nnames, e);
    }
    if (rc == 0 && so->no_header) {
        rc = infer_rows(*inf, &rows, 0, e);
    }
    while (rc == 0) {
        uint64_t left = so->max_rows ? so->max_rows - infer_nrows(*inf) : 8192;
        if (left == 0) {
            break;
        }
        size_t want = left < 8192 ? (size_t)left : 8192;
        rc = xl ? input_next(&xin, &rows, want, e) : csv_reader_next(reader, &rows, want, e);
        if (rc != 0 || rows.nrows == 0) {
            break;
        }
        rc = infer_rows(*inf, &rows, 0, e);
    }
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
    input_close(&xin);
    return rc;
}

/* The encoding a CSV file says it has by a byte order mark (of its plain text, after any
 * decompression): "utf-16" for FF FE or FE FF, NULL otherwise; *utf8_bom for EF BB BF. */
static int sniff_bom(const struct sopts *so, int fd, const char **enc, bool *utf8_bom,
                     struct err *e)
{
    struct source *src = NULL;
    unsigned char b[3] = {0, 0, 0};
    size_t got = 0;
    size_t n = 0;
    *enc = NULL;
    *utf8_bom = false;
    int rc = source_open(&src, fd, so->file, e);
    while (rc == 0 && n < sizeof(b)) {
        rc = source_read(src, b + n, sizeof(b) - n, &got, e);
        if (got == 0) {
            break;
        }
        n += got;
    }
    source_free(src);
    if (rc == 0 && n >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff))) {
        *enc = "utf-16";
    }
    *utf8_bom = n == 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf;
    return rc;
}

/* The spec name the block proposes: the file's name up to its first '.', with every byte a name
 * may not hold (^[A-Za-z0-9][A-Za-z0-9._-]*$) written as '_'. */
static void spec_name(const char *file, char *out, size_t n)
{
    const char *base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    size_t o = 0;
    for (size_t i = 0; base[i] != '\0' && base[i] != '.' && o + 1 < n; i++) {
        char c = base[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (o > 0 && (c == '_' || c == '-'));
        out[o++] = ok ? c : '_';
    }
    out[o] = '\0';
    if (o == 0 || out[0] == '_') {
        snprintf(out, n, "data");
    }
}

/* s as a single-quoted YAML scalar. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'') {
            fputc('\'', out);
        }
        fputc(*s, out);
    }
    fputc('\'', out);
}

/* The file's name as a source_pattern: glob characters escaped, single-quoted for YAML. */
static void put_pattern(FILE *out, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    fputc('\'', out);
    for (const char *c = base; *c != '\0'; c++) {
        if (*c == '*' || *c == '?' || *c == '[' || *c == '\\') {
            fputc('\\', out);
        }
        if (*c == '\'') {
            fputc('\'', out);
        }
        fputc(*c, out);
    }
    fputc('\'', out);
}

/* The block's first lines: ingest_files, the entry's name, source_pattern and format (when the
 * name does not imply it). */
static void print_entry_head(const struct sopts *so, enum input_format fmt)
{
    char name[64];
    spec_name(so->file, name, sizeof(name));
    printf("ingest_files:\n  - name: %s\n    source_pattern: ", name);
    put_pattern(stdout, so->file);
    fputc('\n', stdout);
    if (fmt != config_format_of_name(so->file)) {
        printf("    format: %s\n", config_format_name(fmt));
    }
}

/* The astro.yaml block: one ingest_files entry with what reading the file needed. */
static int write_block(const struct sopts *so, const struct infer *inf, enum input_format fmt,
                       const char *encoding, const char *enc_note, const char *comment,
                       struct err *e)
{
    infer_write_comment(stdout, comment);
    print_entry_head(so, fmt);
    if (so->sheet != NULL) {
        printf("    sheet: ");
        put_quoted(stdout, so->sheet);
        fputc('\n', stdout);
    }
    if (fmt == INPUT_CSV) {
        printf("    encoding: %-22s # %s\n", encoding, enc_note);
        if (so->delimiter == '\t') {
            printf("    delimiter: tab\n");
        } else if (so->delimiter == '\'') {
            printf("    delimiter: \"'\"\n");
        } else if (so->delimiter != '\0' && so->delimiter != ',') {
            printf("    delimiter: '%c'\n", so->delimiter);
        }
    }
    if (so->no_header) {
        size_t ncols = infer_ncols(inf);
        printf("    has_header: false\n    column_names: [");
        for (size_t c = 0; c < ncols; c++) {
            printf("%scolumn_%zu", c > 0 ? ", " : "", c + 1);
        }
        printf("]\n");
    }
    return infer_write_columns(inf, stdout, "    ", so->strict, e);
}

/* A Parquet file's schema is typed already: its columns, as astro reads them, are the schema. */
static int infer_parquet(const struct sopts *so, int fd, enum input_format fmt, struct err *e)
{
    if (so->encoding != NULL || so->delimiter != '\0' || so->no_header || so->max_rows != 0 ||
        so->strict || so->sheet != NULL) {
        return err_set(e, AE_CONFIG,
                       "--encoding, --delimiter, --no-header, --rows, --sheet and --strict are not "
                       "used with Parquet: %s is described by its own schema",
                       so->file);
    }
    struct pq_reader *pq = NULL;
    struct buf comment = BUF_INIT;
    struct column_desc *cols = NULL;
    /* Columns astro cannot read (nested, or of a type without a dtype) are left out with a
     * warning, and the schema says strict: filter so that ingest skips them too. */
    int rc = pq_reader_open_fd_any(&pq, fd, so->file, e);
    if (rc == AE_FORMAT) {
        rc = AE_DATA; /* bad data, as for a Parquet file that fails ingest (exit 1) */
    }
    if (rc != 0) {
        return rc;
    }
    size_t nall = pq_reader_ncols(pq);
    size_t n = 0;
    cols = calloc(nall ? nall : 1, sizeof(*cols));
    if (cols == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < nall; c++) {
        const char *why = pq_reader_column_problem(pq, c);
        if (why == NULL) {
            cols[n++] = *pq_reader_column(pq, c);
        } else {
            fprintf(stderr, "astro: warning: %s: left out of the schema: %s\n", so->file, why);
        }
    }
    if (n == 0 && nall > 0) {
        rc = err_set(e, AE_DATA, "%s: astro can read none of its %zu column(s) (see above)",
                     so->file, nall);
        goto out;
    }
    rc = buf_printf(&comment,
                    "Inferred by astro schema infer from the Parquet schema of %s "
                    "(%llu rows in %zu row groups).\nThe dtypes and nullability "
                    "are the file's own; add the checks you need.",
                    so->file, (unsigned long long)pq_reader_nrows(pq), pq_reader_nrow_groups(pq));
    if (rc == 0 && n < nall) {
        rc = buf_printf(&comment,
                        "\n%zu column(s) left out: astro does not read them (nested, or of a "
                        "type astro has no dtype for); strict: filter skips them.",
                        nall - n);
    }
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    size_t renamed = 0;
    if (so->pandera) {
        rc = infer_write_yaml_columns(stdout, comment.data, cols, n, n < nall ? "filter" : "false",
                                      &renamed, e);
    } else {
        infer_write_comment(stdout, comment.data);
        print_entry_head(so, fmt);
        rc = infer_write_desc_columns(stdout, "    ", cols, n, &renamed, e);
        if (rc == 0 && n < nall) {
            printf("      strict: filter\n");
        }
    }
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
    struct stat fst;
    if (stat(so->file, &fst) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        return err_set(e, AE_CONFIG, "%s does not exist", so->file);
    }
    int rc = fs_open_regular(so->file, &fd, e);
    struct infer *inf = NULL;
    struct buf comment = BUF_INIT;
    const char *encoding = so->encoding != NULL ? so->encoding : "utf-8";
    char enc_note[160] = "as given (--encoding)";
    if (rc != 0) {
        return rc;
    }
    enum input_format fmt = config_format_of_name(so->file);
    if (so->format != NULL) {
        fmt = strcmp(so->format, "ndjson") == 0 ? INPUT_NDJSON
              : strcmp(so->format, "json") == 0 ? INPUT_JSON
              : strcmp(so->format, "xlsx") == 0 ? INPUT_XLSX
              : strcmp(so->format, "parquet") == 0 ? INPUT_PARQUET
                                                : INPUT_CSV;
    }
    if (fmt == INPUT_PARQUET) {
        rc = infer_parquet(so, fd, fmt, e);
        close(fd);
        return rc;
    }
    if (so->sheet != NULL && fmt != INPUT_XLSX) {
        rc = err_set(e, AE_CONFIG, "--sheet is for xlsx; %s is read as %s", so->file,
                     config_format_name(fmt));
        goto out;
    }
    if (fmt != INPUT_CSV) {
        if (so->encoding != NULL || so->delimiter != '\0' || so->no_header) {
            rc = err_set(e, AE_CONFIG, "--encoding, --delimiter and --no-header are for CSV; %s "
                         "is read as %s", so->file, config_format_name(fmt));
            goto out;
        }
        rc = fmt == INPUT_XLSX ? feed_table(so, fd, true, NULL, &inf, e)
                               : feed_json(so, fmt, &inf, e);
        if (rc != 0) {
            goto out;
        }
        goto report;
    }
    if (so->encoding == NULL) {
        /* The encoding: a byte order mark says it; else UTF-8, and when some bytes are not
         * valid UTF-8, latin-1 (which reads any byte) in a second pass. */
        const char *bom = NULL;
        bool utf8_bom = false;
        rc = sniff_bom(so, fd, &bom, &utf8_bom, e);
        if (rc != 0) {
            goto out;
        }
        encoding = bom != NULL ? bom : "utf-8";
        snprintf(enc_note, sizeof(enc_note), "detected: %s",
                 bom != NULL  ? "a UTF-16 byte order mark"
                 : utf8_bom ? "UTF-8 with a byte order mark (astro skips it)"
                            : "valid UTF-8");
    }
    rc = feed_table(so, fd, false, encoding, &inf, e);
    if (rc == 0 && so->encoding == NULL && strcmp(encoding, "utf-8") == 0) {
        struct infer_problems pb;
        infer_problems(inf, &pb);
        if (pb.bad_encoding > 0) {
            snprintf(enc_note, sizeof(enc_note),
                     "detected: not UTF-8 (line %llu); latin-1 reads every byte (windows-1252 "
                     "if it comes from Windows)",
                     (unsigned long long)pb.bad_encoding_line);
            infer_free(inf);
            inf = NULL;
            encoding = "latin-1";
            rc = feed_table(so, fd, false, encoding, &inf, e);
        }
    }
    if (rc != 0) {
        goto out;
    }
report:;
    struct infer_problems pb;
    infer_problems(inf, &pb);
    rc = buf_printf(&comment,
                    "Inferred by astro schema infer from %s (%llu data rows read%s).\n"
                    "Advice only: review it. Observed ranges and values are comments%s.",
                    so->file, (unsigned long long)infer_nrows(inf),
                    so->max_rows && infer_nrows(inf) == so->max_rows ? ", --rows limit" : "",
                    so->strict ? "; --strict made them checks" : " (--strict: checks)");
    if (rc == 0 && so->pandera && so->no_header) {
        rc = buf_printf(&comment, "\nThe file has no header: in astro.yaml set has_header: false "
                                  "and column_names to these names.");
    }
    if (rc == 0 && so->pandera && fmt != INPUT_CSV) {
        rc = buf_printf(&comment, "\nRead as %s: set format: %s in astro.yaml unless the file "
                        "name says so.", config_format_name(fmt), config_format_name(fmt));
    }
    if (rc == 0 && so->pandera && so->sheet != NULL) {
        rc = buf_printf(&comment, "\nRead from sheet '%s': set sheet: in astro.yaml.", so->sheet);
    }
    if (rc == 0 && so->pandera && fmt == INPUT_CSV) {
        rc = buf_printf(&comment, "\nRead as %s (%s): set encoding: %s in astro.yaml.", encoding,
                        enc_note, encoding);
    }
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    rc = so->pandera ? infer_write_yaml(inf, stdout, comment.data, so->strict, e)
                     : write_block(so, inf, fmt, encoding, enc_note, comment.data, e);
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
                (unsigned long long)pb.bad_encoding, so->file, encoding,
                (unsigned long long)pb.bad_encoding_line);
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
    close(fd);
    /* A file that is not a readable workbook is bad data (exit 1), as in validate and ingest. */
    if (rc == AE_FORMAT && fmt == INPUT_XLSX) {
        e->code = AE_DATA;
        rc = AE_DATA;
    }
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
