/*
 * xlsx.c - the Excel workbook reader (input.h): `format: xlsx`, one worksheet of an Office Open
 * XML workbook (ECMA-376), read with Debian's libzip (the zip container) and expat (the XML parts);
 * this file parses neither format itself.
 *
 * A zip's directory is at its end, so the first call of next reads the source to its end (the
 * sha256 and size of the delivered file; source.h) and then reads the file through a libzip source
 * that preads the descriptor. It resolves the parts as ECMA-376 Part 2 says: _rels/.rels names the
 * workbook (officeDocument), the workbook's relationships name its worksheets, shared strings and
 * styles. The worksheet is the first <sheet> of workbook.xml that is a worksheet, or the spec's
 * `sheet:` by name. workbookPr date1904 picks the date system (record_block.sheet_date1904).
 *
 * Memory: the shared strings table (sharedStrings.xml) is read whole and held, up to
 * XLSX_MAX_SST_BYTES of text; a workbook with more is refused. The worksheet itself is streamed:
 * libzip inflates it chunk by chunk into expat, and the parser is suspended (XML_StopParser,
 * resumable) when a block is full, so only one block of rows is ever held, whatever the sheet's
 * size.
 *
 * Records: the header is the first row holding a value; its cells from the first to the last
 * holding a value are the columns (an empty cell in between is an empty name), handed over as the
 * first record (input.h). With has_header: false the columns start at A and are the spec's
 * column_names. Every later row holding a value is one record of one field per column, each typed
 * by its cell (records.h REC_F_JSON_* / REC_F_CELL_*): shared, inline and formula strings are
 * strings (rich-text runs concatenated, phonetic runs left out), b cells booleans, numbers their
 * shortest text, e cells errors, d cells (ISO 8601) strings; a missing or empty cell is a null.
 * Rows without a value are skipped. line is the row's number (r), so failures name cells. A row
 * with a value outside the header's columns is an unreadable record (REC_R_UNREADABLE, its reason
 * naming the cell): the value has no column to go to. A part that is not what ECMA-376 says (a zip
 * that is not a workbook, a missing sheet, broken XML, a shared string index beyond the table) is
 * refused with AE_FORMAT naming the part and, inside the sheet, the cell.
 */
#include "input/input.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zip.h>

#define XLSX_CHUNK ((size_t)64 << 10)
/* Shared string text held in memory at most (documented in the README). */
#define XLSX_MAX_SST_BYTES ((size_t)256 << 20)
/* The longest cell text: Excel's own limit is 32767 characters. */
#define XLSX_MAX_CELL ((size_t)1 << 20)
/* Excel's limits: columns XFD, rows 1048576 (a larger r is refused as malformed). */
#define XLSX_MAX_COL 16384u
#define XLSX_MAX_ROW 1048576u
#define XLSX_MAX_RELS 100000
/* One row's text at most (a row longer than this fails the file, as a JSON record over 64 MiB
 * does), and the cell formats styles.xml may define. */
#define XLSX_MAX_ROW_TEXT ((size_t)64 << 20)
#define XLSX_MAX_XFS ((size_t)1 << 20)

/* The libzip source over the delivered file's descriptor, read with pread. */
struct zsrc {
    int fd;
    uint64_t size, pos;
    zip_error_t err;
};

struct rel {
    char *id, *type, *target;
};

/* One cell of the row being read: its text is rowtext[off, off + len). */
struct cell {
    uint32_t col; /* 1-based */
    uint8_t flags;
    size_t off, len;
};

enum part { P_RELS, P_WORKBOOK, P_SST, P_STYLES, P_SHEET };

struct xlsx_reader {
    struct source *src;             /* borrowed */
    const struct ingest_spec *spec; /* borrowed */
    struct zsrc zs;
    zip_t *za;
    zip_file_t *zf; /* the worksheet, streaming */
    XML_Parser xp;  /* the worksheet's parser */
    bool started, done, suspended, fed_final;
    struct err failed; /* sticky */
    /* parts */
    struct rel *rels;
    size_t nrels, caprels;
    char *sheet_name;   /* the worksheet read (for messages) */
    char *sheet_path;   /* its part in the zip */
    struct rel *sheets; /* workbook.xml's sheets in order: id = r:id, target = name */
    size_t nsheets, capsheets;
    bool date1904;
    struct buf sst;  /* shared strings, back to back */
    size_t *sst_off; /* nsst + 1 offsets into sst */
    size_t nsst, capsst;
    uint8_t *xf_date; /* per cellXfs index: the number format is a date or time */
    size_t nxf, capxf;
    uint32_t *date_fmts; /* custom numFmtIds whose code is a date or time */
    size_t ndate_fmts, capdate_fmts;
    /* parsing state shared by the part parsers */
    enum part part;
    XML_Parser cur; /* the parser running */
    int depth;
    int in_si, in_rph, in_t, in_is, in_v, in_cellxfs, in_sheetdata;
    struct buf text; /* the text being captured (a cell value, a shared string) */
    int cb_rc;       /* a failure inside a callback */
    struct err cb_err;
    /* the row being read */
    uint64_t row_r;    /* its number */
    uint32_t cell_col; /* the cell being read: column, type, style */
    char cell_t[12];
    uint32_t cell_s;
    bool cell_has_v;
    struct cell *cells;
    size_t ncells, capcells;
    struct buf rowtext;
    /* columns */
    bool header_done;
    uint32_t col0, ncols;
    /* the block being filled */
    struct record_block *b;
    size_t max_rows;
    struct buf fb; /* field text: the block's text buffer */
    struct buf tx; /* raw text of the rows of one call, then the block's utext */
    size_t *roff;  /* where row i's raw text starts in tx */
    size_t cap_roff;
};

/* ---- small helpers ------------------------------------------------------------------------ */

/* The local part of an expat name: "uri|row" with namespace processing (workbook.xml, for r:id),
 * "x:row" or "row" without (the other parts: the sheet's names stay short to compare). */
static const char *local(const char *name)
{
    const char *l = name;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '|' || *p == ':') {
            l = p + 1;
        }
    }
    return l;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(local(atts[i]), name) == 0) {
            return atts[i + 1];
        }
    }
    return NULL;
}

/* The r:id attribute of a <sheet>: "id" in the relationships namespace (a plain "id" would be
 * another attribute). */
static const char *attr_rid(const char **atts)
{
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        const char *bar = strrchr(atts[i], '|');
        if (bar != NULL && strcmp(bar + 1, "id") == 0 && strstr(atts[i], "relationships") != NULL) {
            return atts[i + 1];
        }
    }
    return NULL;
}

/* Writes the column letters of col (1-based) into out (at least 4 bytes). */
static void col_letters(uint32_t col, char *out)
{
    char tmp[8];
    size_t n = 0;
    while (col > 0 && n < sizeof(tmp)) {
        col--;
        tmp[n++] = (char)('A' + col % 26);
        col /= 26;
    }
    for (size_t k = 0; k < n; k++) {
        out[k] = tmp[n - 1 - k];
    }
    out[n] = '\0';
}

/* Parses a cell reference ("C17"): its column, and its row when it has one. False when it is not
 * a reference within Excel's limits. */
static bool parse_ref(const char *s, uint32_t *col, uint64_t *row)
{
    uint32_t c = 0;
    size_t k = 0;
    while ((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= 'a' && s[k] <= 'z')) {
        c = c * 26 + (uint32_t)((s[k] | 0x20) - 'a' + 1);
        if (c > XLSX_MAX_COL) {
            return false;
        }
        k++;
    }
    uint64_t r = 0;
    size_t d = k;
    while (s[d] >= '0' && s[d] <= '9') {
        r = r * 10 + (uint64_t)(s[d] - '0');
        if (r > XLSX_MAX_ROW) {
            return false;
        }
        d++;
    }
    if (k == 0 || s[d] != '\0' || (d > k && r == 0)) {
        return false;
    }
    *col = c;
    *row = d > k ? r : 0;
    return true;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0') {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max) {
            return false;
        }
    }
    *out = v;
    return true;
}

/* Stops the running parser with a failure (the first one is kept). */
static void cb_fail(struct xlsx_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cb_fail(struct xlsx_reader *r, int code, const char *fmt, ...)
{
    if (r->cb_rc == 0) {
        char msg[sizeof(r->cb_err.msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        r->cb_rc = err_set(&r->cb_err, code, "%s", msg);
    }
    XML_StopParser(r->cur, XML_FALSE);
}

static void cb_nomem(struct xlsx_reader *r)
{
    cb_fail(r, AE_NOMEM, "%s: out of memory reading the workbook", source_name(r->src));
}

/* ---- the zip ------------------------------------------------------------------------------ */

static zip_int64_t zsrc_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct zsrc *z = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN: z->pos = 0; return 0;
    case ZIP_SOURCE_READ: {
        if (len > z->size - z->pos) {
            len = z->size - z->pos;
        }
        size_t done = 0;
        while (done < len) {
            ssize_t n =
                pread(z->fd, (char *)data + done, (size_t)len - done, (off_t)(z->pos + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                zip_error_set(&z->err, ZIP_ER_READ, errno);
                return -1;
            }
            if (n == 0) {
                break; /* the file shrank since it was hashed */
            }
            done += (size_t)n;
        }
        z->pos += done;
        return (zip_int64_t)done;
    }
    case ZIP_SOURCE_CLOSE: return 0;
    case ZIP_SOURCE_STAT: {
        if (len < sizeof(zip_stat_t)) {
            zip_error_set(&z->err, ZIP_ER_INVAL, 0);
            return -1;
        }
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = z->size;
        st->valid |= ZIP_STAT_SIZE;
        return sizeof(*st);
    }
    case ZIP_SOURCE_ERROR: return zip_error_to_data(&z->err, data, len);
    case ZIP_SOURCE_FREE: return 0; /* z belongs to the reader */
    case ZIP_SOURCE_SEEK: {
        zip_int64_t np = zip_source_seek_compute_offset(z->pos, z->size, data, len, &z->err);
        if (np < 0) {
            return -1;
        }
        z->pos = (uint64_t)np;
        return 0;
    }
    case ZIP_SOURCE_TELL: return (zip_int64_t)z->pos;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(
            ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR,
            ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS, -1);
    default: zip_error_set(&z->err, ZIP_ER_OPNOTSUPP, 0); return -1;
    }
}

/* Reads the source to its end (hash and size of the delivered file), then opens it as a zip. */
static int open_zip(struct xlsx_reader *r, struct err *e)
{
    const char *name = source_name(r->src);
    char *tmp = malloc(XLSX_CHUNK * 4);
    if (tmp == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    size_t got = 0;
    int rc = 0;
    do {
        rc = source_read(r->src, tmp, XLSX_CHUNK * 4, &got, e);
    } while (rc == 0 && got > 0);
    free(tmp);
    if (rc != 0) {
        return rc;
    }
    if (source_codec(r->src) != NULL) {
        return err_set(e, AE_FORMAT,
                       "%s: the workbook is %s-compressed: an .xlsx is already a zip; deliver it "
                       "as it is",
                       name, source_codec(r->src));
    }
    r->zs.fd = source_fd(r->src);
    r->zs.size = source_bytes(r->src);
    zip_error_init(&r->zs.err);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *zsrc = zip_source_function_create(zsrc_cb, &r->zs, &ze);
    if (zsrc == NULL) {
        zip_error_fini(&ze);
        return err_set(e, AE_NOMEM, "%s: out of memory", name);
    }
    r->za = zip_open_from_source(zsrc, ZIP_RDONLY, &ze);
    if (r->za == NULL) {
        zip_source_free(zsrc);
        unsigned char magic[4] = {0};
        bool pk = r->zs.size >= 4 && pread(r->zs.fd, magic, 4, 0) == 4 &&
                  memcmp(magic, "PK\x03\x04", 4) == 0;
        if (pk) {
            rc = err_set(e, AE_FORMAT,
                         "%s: the workbook is truncated or corrupt: it starts as a zip archive "
                         "but libzip cannot read its directory (%s)",
                         name, zip_error_strerror(&ze));
        } else {
            rc = err_set(e, AE_FORMAT,
                         "%s: not a workbook: the file is not a zip archive (%s); an .xlsx file "
                         "is a zip of XML parts",
                         name, zip_error_strerror(&ze));
        }
    }
    zip_error_fini(&ze);
    return rc;
}

/* Streams the zip entry path through a new expat parser with r's handlers. */
static int parse_part(struct xlsx_reader *r, const char *path, enum part part,
                      XML_StartElementHandler start, XML_EndElementHandler end,
                      XML_CharacterDataHandler chars, struct err *e);

/* ---- relationships (_rels/.rels, xl/_rels/workbook.xml.rels) ------------------------------- */

static void rels_free(struct xlsx_reader *r)
{
    for (size_t i = 0; i < r->nrels; i++) {
        free(r->rels[i].id);
        free(r->rels[i].type);
        free(r->rels[i].target);
    }
    r->nrels = 0;
}

static void XMLCALL rels_start(void *ud, const char *name, const char **atts)
{
    struct xlsx_reader *r = ud;
    if (strcmp(local(name), "Relationship") != 0) {
        return;
    }
    const char *id = attr(atts, "Id");
    const char *type = attr(atts, "Type");
    const char *target = attr(atts, "Target");
    if (id == NULL || type == NULL || target == NULL) {
        return; /* not usable: as if absent */
    }
    if (r->nrels >= XLSX_MAX_RELS) {
        cb_fail(r, AE_FORMAT, "%s: more than %d relationships in one part", source_name(r->src),
                XLSX_MAX_RELS);
        return;
    }
    if (buf_grow_array((void **)&r->rels, &r->caprels, r->nrels + 1, sizeof(*r->rels)) != 0) {
        cb_nomem(r);
        return;
    }
    struct rel *rl = &r->rels[r->nrels];
    rl->id = strdup(id);
    rl->type = strdup(type);
    rl->target = strdup(target);
    r->nrels++;
    if (rl->id == NULL || rl->type == NULL || rl->target == NULL) {
        cb_nomem(r);
    }
}

static bool type_is(const struct rel *rl, const char *kind)
{
    const char *slash = strrchr(rl->type, '/');
    return strcmp(slash != NULL ? slash + 1 : rl->type, kind) == 0;
}

/* The zip path of target relative to the folder of the part base ("xl/workbook.xml"):
 * "worksheets/sheet1.xml" -> "xl/worksheets/sheet1.xml"; "/xl/x.xml" is absolute; "../" climbs. */
static char *resolve(const char *base, const char *target)
{
    struct buf b = BUF_INIT;
    if (target[0] == '/') {
        target++;
    } else {
        const char *slash = strrchr(base, '/');
        if (slash != NULL && buf_append(&b, base, (size_t)(slash - base) + 1) != 0) {
            buf_release(&b);
            return NULL;
        }
    }
    while (strncmp(target, "../", 3) == 0 || strncmp(target, "./", 2) == 0) {
        if (target[1] == '/') {
            target += 2;
            continue;
        }
        target += 3;
        if (b.len > 0) {
            b.len--; /* the trailing '/' */
            while (b.len > 0 && b.data[b.len - 1] != '/') {
                b.len--;
            }
        }
    }
    if (buf_puts(&b, target) != 0) {
        buf_release(&b);
        return NULL;
    }
    size_t n;
    return buf_detach(&b, &n);
}

/* Reads the relationships of part (its _rels/NAME.rels) into r->rels. */
static int read_rels(struct xlsx_reader *r, const char *part, struct err *e)
{
    rels_free(r);
    const char *slash = strrchr(part, '/');
    size_t dir = slash != NULL ? (size_t)(slash - part) + 1 : 0;
    char path[1024];
    snprintf(path, sizeof(path), "%.*s_rels/%s.rels", (int)dir, part, part + dir);
    return parse_part(r, path, P_RELS, rels_start, NULL, NULL, e);
}

/* ---- workbook.xml ------------------------------------------------------------------------- */

static void XMLCALL wb_start(void *ud, const char *name, const char **atts)
{
    struct xlsx_reader *r = ud;
    const char *ln = local(name);
    if (strcmp(ln, "workbookPr") == 0) {
        const char *d = attr(atts, "date1904");
        r->date1904 = d != NULL && (strcmp(d, "1") == 0 || strcmp(d, "true") == 0);
        return;
    }
    if (strcmp(ln, "sheet") != 0) {
        return;
    }
    const char *nm = attr(atts, "name");
    const char *rid = attr_rid(atts);
    if (nm == NULL || rid == NULL) {
        return;
    }
    if (r->nsheets >= XLSX_MAX_RELS) {
        cb_fail(r, AE_FORMAT, "%s: more than %d sheets", source_name(r->src), XLSX_MAX_RELS);
        return;
    }
    if (buf_grow_array((void **)&r->sheets, &r->capsheets, r->nsheets + 1, sizeof(*r->sheets)) !=
        0) {
        cb_nomem(r);
        return;
    }
    struct rel *sh = &r->sheets[r->nsheets++];
    sh->id = strdup(rid);
    sh->type = NULL;
    sh->target = strdup(nm);
    if (sh->id == NULL || sh->target == NULL) {
        cb_nomem(r);
    }
}

static const struct rel *rel_by_id(const struct xlsx_reader *r, const char *id)
{
    for (size_t i = 0; i < r->nrels; i++) {
        if (strcmp(r->rels[i].id, id) == 0) {
            return &r->rels[i];
        }
    }
    return NULL;
}

/* The worksheet to read (r->rels: the workbook's relationships): the sheet named by the spec,
 * else the first sheet, in workbook order, that is a worksheet (not a chart sheet). Sets
 * sheet_name; *target is the relationship's target. */
static int find_sheet(struct xlsx_reader *r, const char **target, struct err *e)
{
    const char *name = source_name(r->src);
    const char *want = r->spec->sheet;
    *target = NULL;
    for (size_t i = 0; i < r->nsheets; i++) {
        const struct rel *sh = &r->sheets[i];
        if (want != NULL && strcmp(sh->target, want) != 0) {
            continue;
        }
        const struct rel *rl = rel_by_id(r, sh->id);
        if (rl == NULL) {
            return err_set(e, AE_FORMAT,
                           "%s: not a workbook: sheet '%s' has no relationship %s in the "
                           "workbook's relationships",
                           name, sh->target, sh->id);
        }
        if (!type_is(rl, "worksheet")) {
            if (want == NULL) {
                continue;
            }
            const char *slash = strrchr(rl->type, '/');
            return err_set(e, AE_FORMAT, "%s: sheet '%s' is not a worksheet (a %s)", name, want,
                           slash != NULL ? slash + 1 : rl->type);
        }
        if ((r->sheet_name = strdup(sh->target)) == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        *target = rl->target;
        return 0;
    }
    if (want == NULL) {
        return err_set(e, AE_FORMAT, "%s: the workbook has no worksheet", name);
    }
    /* Name the sheets it has: a typo is then plain to see. */
    struct buf list = BUF_INIT;
    for (size_t i = 0; i < r->nsheets && list.len < 300; i++) {
        if (buf_printf(&list, "%s'%s'", i > 0 ? ", " : "", r->sheets[i].target) != 0) {
            break;
        }
    }
    int rc =
        err_set(e, AE_FORMAT, "%s: the workbook has no sheet named '%s' (sheet: %s; it has %s)",
                name, want, want, list.len > 0 ? list.data : "no sheet");
    buf_release(&list);
    return rc;
}

/* ECMA-376 Part 1, 22.9.2.19 (ST_Xstring): a character XML cannot hold (a control character) is
 * written _xHHHH_, its UTF-16 code unit in hex, and a literal "_x" that would read as one is
 * written _x005F_ first. Decodes t[0..n) in place; returns the new length. A NUL decodes to a NUL
 * byte (flagged REC_F_NUL by the caller: no database keeps it). */
static size_t unescape_x(char *t, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned v = 0;
        bool esc = i + 7 <= n && t[i] == '_' && t[i + 1] == 'x' && t[i + 6] == '_';
        for (size_t k = 2; esc && k < 6; k++) {
            char c = t[i + k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            esc = d >= 0;
            v = v * 16 + (unsigned)(d >= 0 ? d : 0);
        }
        if (!esc || (v >= 0xD800 && v <= 0xDFFF)) {
            t[o++] = t[i++];
            continue;
        }
        /* UTF-8 of v (at most 3 bytes, never longer than the 7 it replaces). */
        if (v < 0x80) {
            t[o++] = (char)v;
        } else if (v < 0x800) {
            t[o++] = (char)(0xC0 | (v >> 6));
            t[o++] = (char)(0x80 | (v & 0x3F));
        } else {
            t[o++] = (char)(0xE0 | (v >> 12));
            t[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
            t[o++] = (char)(0x80 | (v & 0x3F));
        }
        i += 7;
    }
    return o;
}

/* ---- sharedStrings.xml -------------------------------------------------------------------- */

static void XMLCALL sst_start(void *ud, const char *name, const char **atts)
{
    struct xlsx_reader *r = ud;
    (void)atts;
    const char *ln = local(name);
    if (strcmp(ln, "si") == 0) {
        r->in_si = 1;
        r->in_rph = 0;
        buf_reset(&r->text);
    } else if (strcmp(ln, "rPh") == 0) {
        r->in_rph++;
    } else if (strcmp(ln, "t") == 0 && r->in_si) {
        r->in_t = 1;
    }
}

static void XMLCALL sst_end(void *ud, const char *name)
{
    struct xlsx_reader *r = ud;
    const char *ln = local(name);
    if (strcmp(ln, "t") == 0) {
        r->in_t = 0;
    } else if (strcmp(ln, "rPh") == 0) {
        r->in_rph--;
    } else if (strcmp(ln, "si") == 0 && r->in_si) {
        r->in_si = 0;
        r->text.len = r->text.data != NULL ? unescape_x(r->text.data, r->text.len) : 0;
        /* The table's memory: its text and one offset per string. */
        if (r->sst.len + r->text.len + (r->nsst + 2) * sizeof(*r->sst_off) > XLSX_MAX_SST_BYTES) {
            cb_fail(r, AE_FORMAT,
                    "%s: the shared strings table holds more than %zu MiB of text, more than "
                    "astro keeps in memory for a workbook",
                    source_name(r->src), XLSX_MAX_SST_BYTES >> 20);
            return;
        }
        if (buf_grow_array((void **)&r->sst_off, &r->capsst, r->nsst + 2, sizeof(*r->sst_off)) !=
                0 ||
            (r->text.len > 0 && buf_append(&r->sst, r->text.data, r->text.len) != 0)) {
            cb_nomem(r);
            return;
        }
        r->nsst++;
        r->sst_off[r->nsst] = r->sst.len;
    }
}

static void XMLCALL text_chars(void *ud, const char *s, int len)
{
    struct xlsx_reader *r = ud;
    bool capture = r->part == P_SST ? r->in_si && r->in_t && r->in_rph == 0
                                    : r->in_v || (r->in_is && r->in_t && r->in_rph == 0);
    if (!capture) {
        return;
    }
    if (r->text.len + (size_t)len > XLSX_MAX_CELL) {
        char ref[8];
        col_letters(r->cell_col, ref);
        if (r->part == P_SST) {
            cb_fail(r, AE_FORMAT, "%s: shared string %zu is longer than %zu bytes",
                    source_name(r->src), r->nsst, XLSX_MAX_CELL);
        } else {
            cb_fail(r, AE_FORMAT, "%s: cell %s%llu holds more than %zu bytes", source_name(r->src),
                    ref, (unsigned long long)r->row_r, XLSX_MAX_CELL);
        }
        return;
    }
    if (buf_append(&r->text, s, (size_t)len) != 0) {
        cb_nomem(r);
    }
}

/* ---- styles.xml: which cell formats show dates ------------------------------------------- */

/* A number format code shows a date or time when it holds d, m, y, h or s outside quoted text,
 * escapes and [...] sections (colours, conditions, elapsed [h]). */
static bool code_is_date(const char *code)
{
    for (const char *p = code; *p; p++) {
        switch (*p) {
        case '"':
            p = strchr(p + 1, '"');
            if (p == NULL) {
                return false;
            }
            break;
        case '\\':
        case '_':
        case '*':
            if (p[1] == '\0') {
                return false;
            }
            p++;
            break;
        case '[':
            p = strchr(p + 1, ']');
            if (p == NULL) {
                return false;
            }
            break;
        case ';': return false; /* only the first section decides */
        default:
            if (strchr("dmyhsDMYHS", *p) != NULL) {
                return true;
            }
        }
    }
    return false;
}

/* ECMA-376 Part 1, 18.8.30: the built-in formats that show dates and times (14-22, 45-47), and
 * the East Asian ones (27-36, 50-58). */
static bool builtin_is_date(uint64_t id)
{
    return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) ||
           (id >= 50 && id <= 58);
}

static void XMLCALL styles_start(void *ud, const char *name, const char **atts)
{
    struct xlsx_reader *r = ud;
    const char *ln = local(name);
    uint64_t id = 0;
    if (strcmp(ln, "numFmt") == 0) {
        const char *code = attr(atts, "formatCode");
        if (parse_u64(attr(atts, "numFmtId"), UINT32_MAX, &id) && code != NULL &&
            code_is_date(code)) {
            if (r->ndate_fmts >= XLSX_MAX_XFS) {
                cb_fail(r, AE_FORMAT, "%s: styles.xml defines more than %zu number formats",
                        source_name(r->src), XLSX_MAX_XFS);
                return;
            }
            if (buf_grow_array((void **)&r->date_fmts, &r->capdate_fmts, r->ndate_fmts + 1,
                               sizeof(*r->date_fmts)) != 0) {
                cb_nomem(r);
                return;
            }
            r->date_fmts[r->ndate_fmts++] = (uint32_t)id;
        }
    } else if (strcmp(ln, "cellXfs") == 0) {
        r->in_cellxfs = 1;
    } else if (strcmp(ln, "xf") == 0 && r->in_cellxfs) {
        bool date = false;
        if (parse_u64(attr(atts, "numFmtId"), UINT32_MAX, &id)) {
            date = builtin_is_date(id);
            for (size_t k = 0; k < r->ndate_fmts && !date; k++) {
                date = r->date_fmts[k] == id;
            }
        }
        if (r->nxf >= XLSX_MAX_XFS) {
            cb_fail(r, AE_FORMAT, "%s: styles.xml defines more than %zu cell formats",
                    source_name(r->src), XLSX_MAX_XFS);
            return;
        }
        if (buf_grow_array((void **)&r->xf_date, &r->capxf, r->nxf + 1, 1) != 0) {
            cb_nomem(r);
            return;
        }
        r->xf_date[r->nxf++] = date;
    }
}

static void XMLCALL styles_end(void *ud, const char *name)
{
    struct xlsx_reader *r = ud;
    if (strcmp(local(name), "cellXfs") == 0) {
        r->in_cellxfs = 0;
    }
}

/* ---- the worksheet ------------------------------------------------------------------------ */

/* A number's text: whole numbers below 1e17 as digits, others as the shortest text that reads
 * back as the same double. False when v is not a finite number. */
/* True when v[0..n) is already the text number_text would write: -?(0|[1-9][0-9]*)(.[0-9]*[1-9])?
 * with at most 15 significant digits (so the double read from it prints back as it is) and a
 * value of at least 1e-4 when it has no integer part (so %g would not switch to an exponent).
 * Excel and most writers write numbers this way: the common case costs no strtod or printf. */
static bool number_canonical(const char *v, size_t n)
{
    size_t k = v[0] == '-' ? 1 : 0;
    size_t i0 = k;
    while (k < n && v[k] >= '0' && v[k] <= '9') {
        k++;
    }
    size_t idig = k - i0;
    if (idig == 0 || (idig > 1 && v[i0] == '0') || idig > 15) {
        return false;
    }
    bool zero_int = v[i0] == '0';
    if (k == n) {
        return !(zero_int && i0 == 1); /* "-0" prints as "0" */
    }
    if (v[k] != '.' || k + 1 == n || v[n - 1] == '0') {
        return false;
    }
    size_t f0 = ++k;
    while (k < n && v[k] >= '0' && v[k] <= '9') {
        k++;
    }
    if (k != n) {
        return false;
    }
    size_t lead = 0;
    while (zero_int && f0 + lead < n && v[f0 + lead] == '0') {
        lead++;
    }
    size_t sig = (zero_int ? 0 : idig) + (n - f0) - lead;
    return sig <= 15 && lead <= 3;
}

static bool number_text(const char *v, size_t n, char *out, size_t cap)
{
    char tmp[64];
    while (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r')) {
        n--;
    }
    if (n == 0 || n >= sizeof(tmp)) {
        return false;
    }
    if (n < cap && number_canonical(v, n)) {
        memcpy(out, v, n);
        out[n] = '\0';
        return true;
    }
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(d) || strchr("+-.0123456789", tmp[0]) == NULL) {
        return false;
    }
    if (d == floor(d) && fabs(d) < 1e17) {
        snprintf(out, cap, "%.0f", d == 0 ? 0.0 : d);
        return true;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            break;
        }
    }
    return true;
}

static void XMLCALL sheet_start(void *ud, const char *name, const char **atts)
{
    struct xlsx_reader *r = ud;
    const char *ln = local(name);
    if (!r->in_sheetdata) {
        if (strcmp(ln, "sheetData") == 0) {
            r->in_sheetdata = 1;
        }
        return;
    }
    if (strcmp(ln, "row") == 0) {
        const char *rs = attr(atts, "r");
        uint64_t n = r->row_r + 1;
        if (rs != NULL && !parse_u64(rs, XLSX_MAX_ROW, &n)) {
            cb_fail(r, AE_FORMAT, "%s: sheet '%s': a row's number '%.40s' is not a row number",
                    source_name(r->src), r->sheet_name, rs);
            return;
        }
        /* ECMA-376 18.3.1.73: rows come in ascending order; lines name them in reports. */
        if (n <= r->row_r || n > XLSX_MAX_ROW) {
            cb_fail(r, AE_FORMAT,
                    "%s: sheet '%s': row %llu comes after row %llu (rows must ascend, up to "
                    "%u)",
                    source_name(r->src), r->sheet_name, (unsigned long long)n,
                    (unsigned long long)r->row_r, XLSX_MAX_ROW);
            return;
        }
        r->row_r = n;
        r->ncells = 0;
        r->cell_col = 0;
        buf_reset(&r->rowtext);
    } else if (strcmp(ln, "c") == 0) {
        const char *ref = attr(atts, "r");
        uint32_t col = r->cell_col + 1;
        uint64_t row = 0;
        if (ref != NULL && !parse_ref(ref, &col, &row)) {
            cb_fail(r, AE_FORMAT, "%s: sheet '%s' row %llu: '%.40s' is not a cell reference",
                    source_name(r->src), r->sheet_name, (unsigned long long)r->row_r, ref);
            return;
        }
        if (col > XLSX_MAX_COL) {
            cb_fail(r, AE_FORMAT, "%s: sheet '%s' row %llu: a cell beyond column XFD",
                    source_name(r->src), r->sheet_name, (unsigned long long)r->row_r);
            return;
        }
        r->cell_col = col;
        const char *t = attr(atts, "t");
        snprintf(r->cell_t, sizeof(r->cell_t), "%s", t != NULL ? t : "n");
        uint64_t s = 0;
        r->cell_s = parse_u64(attr(atts, "s"), UINT32_MAX, &s) ? (uint32_t)s : 0;
        r->cell_has_v = false;
        buf_reset(&r->text);
    } else if (strcmp(ln, "v") == 0) {
        r->in_v = 1;
        r->cell_has_v = true;
    } else if (strcmp(ln, "is") == 0) {
        r->in_is = 1;
        r->cell_has_v = true;
    } else if (strcmp(ln, "rPh") == 0) {
        r->in_rph++;
    } else if (strcmp(ln, "t") == 0 && r->in_is) {
        r->in_t = 1;
    }
}

/* Adds the cell just read to the row (nothing for an empty cell). */
static void end_cell(struct xlsx_reader *r)
{
    char ref[24];
    col_letters(r->cell_col, ref);
    snprintf(ref + strlen(ref), sizeof(ref) - strlen(ref), "%llu", (unsigned long long)r->row_r);
    const char *t = r->cell_t;
    const char *text = r->text.data != NULL ? r->text.data : "";
    size_t len = r->text.len;
    uint8_t flags;
    char num[64];
    if (!r->cell_has_v) {
        return; /* no value: a null (a formatted empty cell) */
    }
    if (strcmp(t, "s") == 0) {
        uint64_t k = 0;
        char tmp[24];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < 23 ? len : 23), text);
        if (!parse_u64(tmp, UINT32_MAX, &k) || k >= r->nsst) {
            cb_fail(r, AE_FORMAT,
                    "%s: sheet '%s' cell %s: shared string '%.30s' is not an index into the "
                    "table (%zu strings)",
                    source_name(r->src), r->sheet_name, ref, tmp, r->nsst);
            return;
        }
        len = r->sst_off[k + 1] - r->sst_off[k];
        text = len > 0 ? r->sst.data + r->sst_off[k] : "";
        flags = REC_F_JSON_STRING | REC_F_QUOTED;
    } else if (strcmp(t, "inlineStr") == 0 || strcmp(t, "str") == 0 || strcmp(t, "d") == 0) {
        len = r->text.data != NULL ? unescape_x(r->text.data, len) : 0;
        flags = REC_F_JSON_STRING | REC_F_QUOTED;
    } else if (strcmp(t, "b") == 0) {
        if (len == 1 && (text[0] == '0' || text[0] == '1')) {
            text = text[0] == '1' ? "true" : "false";
            len = strlen(text);
        } else {
            cb_fail(r, AE_FORMAT, "%s: sheet '%s' cell %s: boolean '%.30s' is not 0 or 1",
                    source_name(r->src), r->sheet_name, ref, text);
            return;
        }
        flags = REC_F_JSON_BOOL;
    } else if (strcmp(t, "e") == 0) {
        flags = REC_F_CELL_ERROR;
    } else if (strcmp(t, "n") == 0) {
        if (len == 0) {
            return; /* <v/>: no value */
        }
        if (!number_text(text, len, num, sizeof(num))) {
            cb_fail(r, AE_FORMAT, "%s: sheet '%s' cell %s: '%.40s' is not a number",
                    source_name(r->src), r->sheet_name, ref, text);
            return;
        }
        text = num;
        len = strlen(num);
        flags = REC_F_CELL_NUMBER;
        if (r->cell_s < r->nxf && r->xf_date[r->cell_s]) {
            flags |= REC_F_CELL_DATE;
        }
    } else {
        cb_fail(r, AE_FORMAT, "%s: sheet '%s' cell %s: unknown cell type '%s'", source_name(r->src),
                r->sheet_name, ref, t);
        return;
    }
    if (r->ncells >= XLSX_MAX_COL || r->rowtext.len + len > XLSX_MAX_ROW_TEXT) {
        cb_fail(r, AE_FORMAT, "%s: sheet '%s' row %llu holds more than %u cells or %zu MiB",
                source_name(r->src), r->sheet_name, (unsigned long long)r->row_r, XLSX_MAX_COL,
                XLSX_MAX_ROW_TEXT >> 20);
        return;
    }
    if (buf_grow_array((void **)&r->cells, &r->capcells, r->ncells + 1, sizeof(*r->cells)) != 0) {
        cb_nomem(r);
        return;
    }
    struct cell *c = &r->cells[r->ncells];
    c->col = r->cell_col;
    c->flags = flags | (len > 0 && memchr(text, '\0', len) != NULL ? REC_F_NUL : 0);
    c->off = r->rowtext.len;
    c->len = len;
    if (buf_append(&r->rowtext, text, len) != 0) {
        cb_nomem(r);
        return;
    }
    r->ncells++;
}

static int put_field(struct xlsx_reader *r, size_t k, const char *p, size_t n, uint8_t flags)
{
    struct record_field *f = &r->b->fields[k];
    f->off = r->fb.len;
    f->len = (uint32_t)n;
    f->flags = flags;
    return n > 0 ? buf_append(&r->fb, p, n) : 0;
}

/* Appends one value to a raw line, quoted as RFC 4180 says when it must be. */
static int raw_value(struct buf *tx, bool first, const char *p, size_t n)
{
    bool quote = n > 0 && (memchr(p, ',', n) != NULL || memchr(p, '"', n) != NULL ||
                           memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL);
    int rc = first ? 0 : buf_putc(tx, ',');
    if (rc == 0 && quote) {
        rc = buf_putc(tx, '"');
        for (size_t j = 0; j < n && rc == 0; j++) {
            rc = p[j] == '"' ? buf_append(tx, "\"\"", 2) : buf_putc(tx, p[j]);
        }
        rc = rc ? rc : buf_putc(tx, '"');
    } else if (rc == 0 && n > 0) {
        rc = buf_append(tx, p, n);
    }
    return rc;
}

/* The raw text of row i (records.h): its fields as one CSV line, so that a failure report shows
 * the whole row; for an unreadable row (cells outside the header) its cells from column A to its
 * last, as the row is in the sheet. */
static int put_raw(struct xlsx_reader *r, size_t i)
{
    struct record_block *b = r->b;
    if (buf_grow_array((void **)&r->roff, &r->cap_roff, i + 1, sizeof(*r->roff)) != 0) {
        return AE_NOMEM;
    }
    size_t start = r->tx.len;
    r->roff[i] = start;
    int rc = 0;
    if (b->row_flags[i] & REC_R_UNREADABLE) {
        uint32_t last = 0;
        for (size_t k = 0; k < r->ncells; k++) {
            last = r->cells[k].col > last ? r->cells[k].col : last;
        }
        for (uint32_t col = 1; col <= last && rc == 0; col++) {
            const struct cell *c = NULL;
            for (size_t k = 0; k < r->ncells; k++) {
                c = r->cells[k].col == col ? &r->cells[k] : c;
            }
            rc = c != NULL ? raw_value(&r->tx, col == 1, r->rowtext.data + c->off, c->len)
                           : raw_value(&r->tx, col == 1, NULL, 0);
        }
    }
    for (size_t k = b->row_first[i]; k < b->nfields && rc == 0 && b->row_flags[i] == 0; k++) {
        const struct record_field *f = &b->fields[k];
        rc = raw_value(&r->tx, k == b->row_first[i], r->fb.data + f->off, f->len);
    }
    b->raw_len[i] = (uint32_t)(r->tx.len - start);
    return rc;
}

/* The header: the columns are its cells from the first to the last holding a value. */
static int header_row(struct xlsx_reader *r)
{
    struct record_block *b = r->b;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t k = 0; k < r->ncells; k++) {
        lo = r->cells[k].col < lo ? r->cells[k].col : lo;
        hi = r->cells[k].col > hi ? r->cells[k].col : hi;
    }
    r->col0 = lo;
    r->ncols = hi - lo + 1;
    r->header_done = true;
    if (record_block_reserve(b, 1, r->ncols) != 0) {
        return AE_NOMEM;
    }
    size_t base = b->nfields;
    for (size_t k = 0; k < r->ncols; k++) {
        int rc = put_field(r, base + k, NULL, 0, 0);
        if (rc != 0) {
            return rc;
        }
    }
    for (size_t k = 0; k < r->ncells; k++) {
        const struct cell *c = &r->cells[k];
        int rc = put_field(r, base + (c->col - lo), r->rowtext.data + c->off, c->len,
                           c->flags & REC_F_NUL);
        if (rc != 0) {
            return rc;
        }
    }
    b->row_first[b->nrows] = (uint32_t)base;
    b->nfields = base + r->ncols;
    b->line[b->nrows] = r->row_r;
    b->row_flags[b->nrows] = 0;
    int rc = put_raw(r, b->nrows);
    b->nrows++;
    return rc;
}

static int data_row(struct xlsx_reader *r)
{
    struct record_block *b = r->b;
    if (record_block_reserve(b, 1, r->ncols + 1) != 0) {
        return AE_NOMEM;
    }
    size_t base = b->nfields;
    size_t i = b->nrows;
    b->row_first[i] = (uint32_t)base;
    b->line[i] = r->row_r;
    b->row_flags[i] = 0;
    b->raw[i] = NULL;
    b->raw_len[i] = 0;
    for (size_t k = 0; k < r->ncells; k++) {
        const struct cell *c = &r->cells[k];
        if (c->col < r->col0 || c->col - r->col0 >= r->ncols) {
            char why[300], at[8], first[8], last[8];
            col_letters(c->col, at);
            col_letters(r->col0, first);
            col_letters(r->col0 + r->ncols - 1, last);
            snprintf(why, sizeof(why),
                     "cell %s%llu holds a value (%.*s) outside the columns of the header (%s to "
                     "%s): it has no column name",
                     at, (unsigned long long)r->row_r, (int)(c->len < 60 ? c->len : 60),
                     r->rowtext.data + c->off, first, last);
            b->row_flags[i] = REC_R_UNREADABLE;
            b->nfields = base + 1;
            int rc = put_field(r, base, why, strlen(why), 0);
            rc = rc ? rc : put_raw(r, i);
            b->nrows++;
            return rc;
        }
    }
    for (size_t k = 0; k < r->ncols; k++) {
        int rc = put_field(r, base + k, NULL, 0, REC_F_JSON_NULL);
        if (rc != 0) {
            return rc;
        }
    }
    for (size_t k = 0; k < r->ncells; k++) {
        const struct cell *c = &r->cells[k];
        int rc =
            put_field(r, base + (c->col - r->col0), r->rowtext.data + c->off, c->len, c->flags);
        if (rc != 0) {
            return rc;
        }
    }
    b->nfields = base + r->ncols;
    int rc = put_raw(r, i);
    b->nrows++;
    return rc;
}

static void XMLCALL sheet_end(void *ud, const char *name)
{
    struct xlsx_reader *r = ud;
    const char *ln = local(name);
    if (!r->in_sheetdata) {
        return;
    }
    if (strcmp(ln, "v") == 0) {
        r->in_v = 0;
    } else if (strcmp(ln, "t") == 0) {
        r->in_t = 0;
    } else if (strcmp(ln, "rPh") == 0) {
        r->in_rph--;
    } else if (strcmp(ln, "is") == 0) {
        r->in_is = 0;
    } else if (strcmp(ln, "c") == 0) {
        end_cell(r);
    } else if (strcmp(ln, "sheetData") == 0) {
        r->in_sheetdata = 0;
    } else if (strcmp(ln, "row") == 0) {
        if (r->ncells == 0) {
            return; /* a row without a value is skipped */
        }
        if (r->b->nrows >= r->max_rows) {
            /* The parser is suspended when the block fills: never more rows than asked for. */
            cb_fail(r, AE_INTERNAL, "%s: the worksheet reader overran its block",
                    source_name(r->src));
            return;
        }
        int rc = 0;
        if (!r->header_done) {
            if (r->spec->has_header) {
                rc = header_row(r);
            } else {
                r->header_done = true;
                r->col0 = 1;
                r->ncols = (uint32_t)r->spec->ncolumn_names;
                rc = data_row(r);
            }
        } else {
            rc = data_row(r);
        }
        if (rc != 0) {
            cb_nomem(r);
            return;
        }
        if (r->b->nrows >= r->max_rows || r->b->nfields + r->ncols + 1 > REC_BLOCK_MAX_FIELDS) {
            XML_StopParser(r->xp, XML_TRUE); /* the block is full: resumed by the next call */
        }
    }
}

/* ---- parts -------------------------------------------------------------------------------- */

static void XMLCALL no_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    struct xlsx_reader *r = ud;
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    cb_fail(r, AE_FORMAT, "%s: a workbook part holds a DOCTYPE, which ECMA-376 parts never do",
            source_name(r->src));
}

static XML_Parser new_parser(struct xlsx_reader *r, bool ns, XML_StartElementHandler start,
                             XML_EndElementHandler end, XML_CharacterDataHandler chars)
{
    XML_Parser p = ns ? XML_ParserCreateNS(NULL, '|') : XML_ParserCreate(NULL);
    if (p == NULL) {
        return NULL;
    }
    XML_SetUserData(p, r);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, chars);
    XML_SetStartDoctypeDeclHandler(p, no_doctype);
    return p;
}

static int zip_failure(struct xlsx_reader *r, zip_file_t *zf, const char *path, struct err *e)
{
    return err_set(e, AE_FORMAT, "%s: the workbook is corrupt or truncated: part %s: %s",
                   source_name(r->src), path,
                   zf != NULL ? zip_file_strerror(zf) : zip_strerror(r->za));
}

static int xml_failure(struct xlsx_reader *r, XML_Parser p, const char *path, struct err *e)
{
    if (r->cb_rc != 0) {
        if (e != NULL) {
            *e = r->cb_err;
        }
        return r->cb_rc;
    }
    return err_set(e, AE_FORMAT, "%s: part %s is not well-formed XML: %s (line %lu, column %lu)",
                   source_name(r->src), path, XML_ErrorString(XML_GetErrorCode(p)),
                   (unsigned long)XML_GetCurrentLineNumber(p),
                   (unsigned long)XML_GetCurrentColumnNumber(p));
}

static zip_file_t *open_entry(struct xlsx_reader *r, const char *path)
{
    zip_int64_t idx = zip_name_locate(r->za, path, ZIP_FL_NOCASE);
    return idx < 0 ? NULL : zip_fopen_index(r->za, (zip_uint64_t)idx, 0);
}

static int parse_part(struct xlsx_reader *r, const char *path, enum part part,
                      XML_StartElementHandler start, XML_EndElementHandler end,
                      XML_CharacterDataHandler chars, struct err *e)
{
    zip_file_t *zf = open_entry(r, path);
    if (zf == NULL) {
        return err_set(e, AE_FORMAT, "%s: not a workbook: it has no part %s", source_name(r->src),
                       path);
    }
    XML_Parser p = new_parser(r, part == P_WORKBOOK, start, end, chars);
    if (p == NULL) {
        zip_fclose(zf);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    r->part = part;
    r->cur = p;
    int rc = 0;
    for (;;) {
        void *buf = XML_GetBuffer(p, (int)XLSX_CHUNK);
        if (buf == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        zip_int64_t n = zip_fread(zf, buf, XLSX_CHUNK);
        if (n < 0) {
            rc = zip_failure(r, zf, path, e);
            break;
        }
        if (XML_ParseBuffer(p, (int)n, n == 0) != XML_STATUS_OK) {
            rc = xml_failure(r, p, path, e);
            break;
        }
        if (n == 0) {
            break;
        }
    }
    r->cur = NULL;
    XML_ParserFree(p);
    zip_fclose(zf);
    return rc;
}

/* Opens the zip, finds the workbook and the worksheet, reads the shared strings and styles, and
 * starts the worksheet's parser. */
static int start(struct xlsx_reader *r, struct err *e)
{
    const char *name = source_name(r->src);
    int rc = open_zip(r, e);
    if (rc != 0) {
        return rc;
    }
    /* ECMA-376 Part 2 (OPC): the package's relationships name the main part. */
    char *wb = NULL;
    if (zip_name_locate(r->za, "_rels/.rels", ZIP_FL_NOCASE) >= 0) {
        if ((rc = read_rels(r, "", e)) != 0) {
            return rc;
        }
        for (size_t i = 0; i < r->nrels && wb == NULL; i++) {
            if (type_is(&r->rels[i], "officeDocument")) {
                wb = resolve("", r->rels[i].target);
                if (wb == NULL) {
                    return err_set(e, AE_NOMEM, "out of memory");
                }
            }
        }
    }
    if (wb == NULL && zip_name_locate(r->za, "xl/workbook.xml", ZIP_FL_NOCASE) >= 0) {
        wb = strdup("xl/workbook.xml");
        if (wb == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    if (wb == NULL) {
        return err_set(e, AE_FORMAT,
                       "%s: not a workbook: the zip holds no Excel workbook (no xl/workbook.xml "
                       "and no officeDocument relationship)",
                       name);
    }
    rc = parse_part(r, wb, P_WORKBOOK, wb_start, NULL, NULL, e);
    if (rc == 0) {
        rc = read_rels(r, wb, e);
    }
    char *sheet = NULL, *sst = NULL, *styles = NULL;
    const char *target = NULL;
    if (rc == 0 && (rc = find_sheet(r, &target, e)) == 0 && (sheet = resolve(wb, target)) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < r->nrels; i++) {
        const struct rel *rl = &r->rels[i];
        char **dst = NULL;
        if (type_is(rl, "sharedStrings")) {
            dst = &sst;
        } else if (type_is(rl, "styles")) {
            dst = &styles;
        }
        if (dst != NULL && *dst == NULL && (*dst = resolve(wb, rl->target)) == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
        }
    }
    rels_free(r);
    if (rc == 0 && sst != NULL) {
        buf_init(&r->sst, 0);
        if ((r->sst_off = calloc(1, sizeof(*r->sst_off))) == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
        } else {
            r->capsst = 1;
            rc = parse_part(r, sst, P_SST, sst_start, sst_end, text_chars, e);
        }
    }
    if (rc == 0 && styles != NULL) {
        rc = parse_part(r, styles, P_STYLES, styles_start, styles_end, NULL, e);
    }
    if (rc == 0) {
        r->zf = open_entry(r, sheet);
        if (r->zf == NULL) {
            rc = err_set(e, AE_FORMAT, "%s: not a workbook: sheet '%s' has no part %s", name,
                         r->sheet_name, sheet);
        }
    }
    if (rc == 0 && (r->xp = new_parser(r, false, sheet_start, sheet_end, text_chars)) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
    free(wb);
    r->sheet_path = sheet;
    free(sst);
    free(styles);
    r->part = P_SHEET;
    return rc;
}

/* ---- the reader ---------------------------------------------------------------------------- */

static void xlsx_free(void *impl)
{
    struct xlsx_reader *r = impl;
    if (r == NULL) {
        return;
    }
    if (r->xp != NULL) {
        XML_ParserFree(r->xp);
    }
    if (r->zf != NULL) {
        zip_fclose(r->zf);
    }
    if (r->za != NULL) {
        zip_discard(r->za);
    }
    zip_error_fini(&r->zs.err);
    rels_free(r);
    free(r->rels);
    free(r->sheet_name);
    free(r->sheet_path);
    for (size_t i = 0; i < r->nsheets; i++) {
        free(r->sheets[i].id);
        free(r->sheets[i].target);
    }
    free(r->sheets);
    buf_release(&r->sst);
    free(r->sst_off);
    free(r->xf_date);
    free(r->date_fmts);
    buf_release(&r->text);
    free(r->cells);
    buf_release(&r->rowtext);
    buf_release(&r->tx);
    free(r->roff);
    free(r);
}

static int xlsx_open(void **impl, struct source *src, const struct ingest_spec *spec, struct err *e)
{
    struct xlsx_reader *r = calloc(1, sizeof(*r));
    *impl = NULL;
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    r->src = src;
    r->spec = spec;
    r->zs.fd = -1;
    zip_error_init(&r->zs.err);
    buf_init(&r->sst, 0);
    buf_init(&r->text, 0);
    buf_init(&r->rowtext, 0);
    buf_init(&r->tx, 0);
    *impl = r;
    return 0;
}

/* Parses the worksheet until the block is full or the sheet ends. */
static int fill_block(struct xlsx_reader *r, struct err *e)
{
    r->cur = r->xp;
    while (!r->done) {
        enum XML_Status st;
        if (r->suspended) {
            r->suspended = false;
            st = XML_ResumeParser(r->xp);
        } else {
            void *buf = XML_GetBuffer(r->xp, (int)XLSX_CHUNK);
            if (buf == NULL) {
                return err_set(e, AE_NOMEM, "out of memory");
            }
            zip_int64_t n = zip_fread(r->zf, buf, XLSX_CHUNK);
            if (n < 0) {
                return zip_failure(r, r->zf, r->sheet_path, e);
            }
            r->fed_final = n == 0;
            st = XML_ParseBuffer(r->xp, (int)n, n == 0);
        }
        if (st == XML_STATUS_SUSPENDED) {
            r->suspended = true;
            return 0;
        }
        if (st != XML_STATUS_OK) {
            return xml_failure(r, r->xp, r->sheet_path, e);
        }
        if (r->fed_final) {
            r->done = true;
        }
    }
    return 0;
}

static int xlsx_next(void *impl, struct record_block *b, size_t max_rows, struct err *e)
{
    struct xlsx_reader *r = impl;
    b->nrows = 0;
    b->nfields = 0;
    if (r->failed.code != 0) {
        return input_failed(&r->failed, e);
    }
    if (max_rows == 0) {
        return err_set(e, AE_INTERNAL, "xlsx_next: max_rows must be at least 1");
    }
    int rc = 0;
    if (!r->started) {
        r->started = true;
        rc = start(r, e);
    }
    b->sheet_date1904 = r->date1904;
    r->b = b;
    r->max_rows = max_rows;
    r->fb = (struct buf){b->text, 0, b->text_cap, 0};
    buf_reset(&r->tx);
    if (rc == 0) {
        rc = fill_block(r, e);
    }
    b->text = r->fb.data;
    b->text_cap = r->fb.cap;
    r->b = NULL;
    b->sheet_col0 = r->col0;
    if (rc != 0 && input_fail(&r->failed, b, rc, true, e) != 0) {
        return rc;
    }
    if (b->nrows > 0) {
        b->row_first[b->nrows] = (uint32_t)b->nfields;
    }
    for (size_t k = 0; k < b->nfields; k++) {
        b->fields[k].p = b->text != NULL ? b->text + b->fields[k].off : "";
    }
    /* The block takes the raw text (and hands back the buffer it held). */
    struct buf t = b->utext;
    b->utext = r->tx;
    r->tx = t;
    for (size_t i = 0; i < b->nrows; i++) {
        b->raw[i] = b->utext.data != NULL ? b->utext.data + r->roff[i] : "";
    }
    return 0;
}

static uint64_t xlsx_position(const void *impl)
{
    const struct xlsx_reader *r = impl;
    return r->row_r;
}

const struct input_ops input_xlsx_ops = {
    .name = "xlsx",
    .refusal_check = "xlsx",
    .open = xlsx_open,
    .next = xlsx_next,
    .position = xlsx_position,
    .names = NULL,
    .complete = NULL,
    .free = xlsx_free,
};
