/*
 * pg.c - the PostgreSQL load target (struct load_target_ops load_target_postgres): libpq, one
 * transaction per load, rows sent with binary COPY; the checkpoint look-up; a sql step's
 * statements in one transaction (BEGIN, the statements, COMMIT); the column types.
 *
 * Open connects (a DSN, or the PG* variables, service file and .pgpass through an empty conninfo),
 * makes sure astro_checkpoints exists (its own short transaction, so a long load does not hold a
 * catalog lock others would wait on), then BEGINs, takes an advisory transaction lock on the load's
 * identity, skips the load when its checkpoint row exists, creates the table (create: true), checks
 * its column types, TRUNCATEs (replace) or creates a staging table (upsert), and starts
 * COPY ... FROM STDIN (FORMAT binary). Writes encode rows into a 1 MiB buffer sent with
 * PQputCopyData. Commit ends the COPY, runs the upsert's INSERT ... SELECT ... ON CONFLICT, inserts
 * the checkpoint row and COMMITs. Any failure ROLLBACKs and closes the connection.
 *
 * Two shortcuts keep the server from doing work twice (see pg_upsert_direct() and pg_can_freeze()):
 * an upsert into a table that is empty under a SHARE ROW EXCLUSIVE lock is a plain insert, so its
 * COPY goes straight into the table (the unique index still refuses a key repeated in the file,
 * as ON CONFLICT DO UPDATE would); a replace COPYs with FREEZE into the table it just truncated.
 *
 * The binary COPY format is documented in the PostgreSQL manual, "COPY", section "Binary Format":
 * an 11-byte signature, a 32-bit flags field and a 32-bit header extension length, then per tuple
 * a 16-bit field count and per field a 32-bit length (-1 for NULL) and the bytes of the type's
 * binary send/recv representation, and a 16-bit -1 trailer. All integers are big-endian. The value
 * representations are those of the types' *recv functions (src/backend/utils/adt): int2/4/8 and
 * float4/8 in network order, bool one byte, date int4 days since 2000-01-01, timestamp(tz) int8
 * microseconds since 2000-01-01 00:00:00 (UTC for timestamptz), text the bytes in the client
 * encoding (we set client_encoding UTF8), numeric as described at pg_numeric() below.
 *
 * A password never reaches a message: targets are described by host, port, dbname and user only,
 * and every libpq or server message is scrubbed of the connection's password before it is copied.
 * Loads, checkpoint look-ups and SQL statements all connect through pg_connect() and report
 * through pg_fail(), so none of them can bypass the scrubbing.
 */
#include "load/load.h"
#include "load/load_int.h"
#include "sink/linemap.h"
#include "util/dl.h"
#include "util/log.h"

#include <libpq-fe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpq is loaded when astro first connects (pg_connect), not when it starts: linked, libpq and
 * the libraries it brings (Kerberos, LDAP, SASL, GnuTLS: about 20) cost every run, PostgreSQL or
 * not, about 5 MiB of resident memory and some of its start-up. Its functions are called through
 * lpq, each typed by libpq-fe.h. */
#define LPQ_SONAME "libpq.so.5"
#define LPQ_FUNCS(X)                                                                               \
    X(PQclear) X(PQcmdStatus) X(PQcmdTuples) X(PQconnectdbParams) X(PQconninfoFree)                \
    X(PQconninfoParse) X(PQdb) X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQfinish)           \
    X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetvalue) X(PQhost) X(PQnfields)              \
    X(PQntuples) X(PQpass) X(PQport) X(PQputCopyData) X(PQputCopyEnd) X(PQresultErrorField)      \
    X(PQresultErrorMessage) X(PQresultStatus) X(PQsetNoticeProcessor) X(PQstatus) X(PQuser)

static struct {
#define LPQ_SLOT(f) __typeof__(f) *f;
    LPQ_FUNCS(LPQ_SLOT)
#undef LPQ_SLOT
} lpq;

#define LPQ_SYM(f) {#f, &lpq.f},
static const struct dl_sym lpq_syms[] = {LPQ_FUNCS(LPQ_SYM)};
#undef LPQ_SYM
static struct dl_lib lpq_lib = DL_LIB(LPQ_SONAME, lpq_syms);

/* Loads libpq once per process: 0, or AE_DB naming what is missing (a target of the run, so an
 * environment problem, like a server that cannot be reached). */
static int lpq_ready(const char *tname, struct err *e)
{
    const char *why = dl_ready(&lpq_lib);
    if (why != NULL) {
        return err_set(e, AE_DB,
                       "target \"%s\" (postgres): cannot load the PostgreSQL client library "
                       "(Debian package libpq5): %s",
                       tname, why);
    }
    return 0;
}

/* 128 KiB COPY chunks: few enough calls to be cheap (a send of 128 KiB each), small enough that
 * neither this buffer nor libpq's output buffer, which grows to hold one chunk, weighs in the
 * process's memory (1 MiB chunks held 2 MiB in each). */
#define PG_CHUNK ((size_t)128 << 10)

/* PostgreSQL epoch (2000-01-01) relative to the Unix epoch, in days and microseconds. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_US 946684800000000LL

/* Type OIDs from src/include/catalog/pg_type.dat; stable across releases. */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700
};

/* How one column travels in COPY: the wire type chosen from its dtype. */
enum pg_enc {
    E_TEXT,
    E_BOOL,
    E_INT2,
    E_INT4,
    E_INT8,
    E_F4,
    E_F8,
    E_DATE,
    E_TS,
    E_NUM_DEC,
    E_NUM_U64
};

/* An open load, or (pg_session()) a connection of its own for a look-up or a sql step. */
struct pg_load {
    struct load_state ls; /* plan, names, counts (load_int.h) */
    PGconn *conn;
    bool in_tx;
    bool in_copy;
    bool direct; /* upsert into an empty table: COPY straight into it, no staging table */
    enum load_mode mode;
    enum pg_enc *enc;
    struct buf data; /* COPY bytes not sent yet */
    char *where;     /* "host=... port=... dbname=... user=..." */
    struct log *log; /* borrowed, NULL: where the server's notices go (pg_notice_log) */
    struct line_map sent; /* source line of each row sent, to name the row a COPY error gives */
};

/* ------------------------------------------------------------------ type mapping */

static const char *pg_type_name(struct dtype_info t, char *buf, size_t n)
{
    const char *s = "text";
    switch (t.id) {
    case DT_STR: s = "text"; break;
    case DT_BOOL: s = "boolean"; break;
    case DT_INT8:
    case DT_INT16:
    case DT_UINT8: s = "smallint"; break;
    case DT_INT32:
    case DT_UINT16: s = "integer"; break;
    case DT_INT64:
    case DT_UINT32:
    case DT_TIMEDELTA: s = "bigint"; break; /* nanoseconds, as in the Parquet file */
    case DT_UINT64: s = "numeric(20,0)"; break;
    case DT_FLOAT32: s = "real"; break;
    case DT_FLOAT64: s = "double precision"; break;
    case DT_DATE: s = "date"; break;
    case DT_TIMESTAMP: s = "timestamp"; break;
    case DT_TIMESTAMP_TZ: s = "timestamptz"; break;
    case DT_DECIMAL:
        snprintf(buf, n, "numeric(%u,%u)", (unsigned)t.precision, (unsigned)t.scale);
        return buf;
    }
    snprintf(buf, n, "%s", s);
    return buf;
}

static enum pg_enc pg_enc_of(enum dtype id)
{
    switch (id) {
    case DT_STR: return E_TEXT;
    case DT_BOOL: return E_BOOL;
    case DT_INT8:
    case DT_INT16:
    case DT_UINT8: return E_INT2;
    case DT_INT32:
    case DT_UINT16: return E_INT4;
    case DT_INT64:
    case DT_UINT32:
    case DT_TIMEDELTA: return E_INT8;
    case DT_UINT64: return E_NUM_U64;
    case DT_FLOAT32: return E_F4;
    case DT_FLOAT64: return E_F8;
    case DT_DATE: return E_DATE;
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: return E_TS;
    case DT_DECIMAL: return E_NUM_DEC;
    }
    return E_TEXT;
}

/* The column type an existing table must have for the wire type (domains count as their base). */
static bool pg_oid_fits(enum dtype id, unsigned oid)
{
    switch (id) {
    case DT_STR: return oid == OID_TEXT || oid == OID_VARCHAR || oid == OID_BPCHAR;
    case DT_BOOL: return oid == OID_BOOL;
    case DT_TIMESTAMP: return oid == OID_TIMESTAMP;
    case DT_TIMESTAMP_TZ: return oid == OID_TIMESTAMPTZ;
    default: break;
    }
    switch (pg_enc_of(id)) {
    case E_INT2: return oid == OID_INT2;
    case E_INT4: return oid == OID_INT4;
    case E_INT8: return oid == OID_INT8;
    case E_F4: return oid == OID_FLOAT4;
    case E_F8: return oid == OID_FLOAT8;
    case E_DATE: return oid == OID_DATE;
    case E_NUM_DEC:
    case E_NUM_U64: return oid == OID_NUMERIC;
    default: return false;
    }
}

/* ------------------------------------------------------------------ messages */

/* Copies a libpq/server message into out (n bytes): newlines and tabs become single spaces,
 * trailing space is dropped, and every occurrence of the password (if any) becomes "***". */
static void pg_clean(char *out, size_t n, const char *msg, const char *password)
{
    size_t o = 0;
    size_t plen = password != NULL ? strlen(password) : 0;
    for (const char *p = msg != NULL ? msg : ""; *p != '\0' && o + 4 < n;) {
        if (plen > 0 && strncmp(p, password, plen) == 0) {
            memcpy(out + o, "***", 3);
            o += 3;
            p += plen;
            continue;
        }
        char c = *p++;
        if (c == '\n' || c == '\t' || c == '\r') {
            if (o > 0 && out[o - 1] != ' ' && *p != '\0') {
                out[o++] = ' ';
            }
            continue;
        }
        out[o++] = c;
    }
    while (o > 0 && out[o - 1] == ' ') {
        o--;
    }
    out[o] = '\0';
}

/* Records code with "target "T" (postgres WHERE): WHAT "TABLE": MSG", msg scrubbed by
 * pg_clean(); without what (a sql step's statements) only "...: MSG". */
static int pg_msg_err(const struct pg_load *l, struct err *e, int code, const char *what,
                      const char *msg)
{
    char clean[768];
    pg_clean(clean, sizeof(clean), msg, l->conn != NULL ? lpq.PQpass(l->conn) : NULL);
    if (what == NULL) {
        return err_set(e, code, "target \"%s\" (postgres %s): %s", l->ls.target, l->where, clean);
    }
    return err_set(e, code, "target \"%s\" (postgres %s): %s \"%s\": %s", l->ls.target, l->where,
                   what, l->ls.table != NULL ? l->ls.table : "", clean);
}

/* An error of result r (or of the connection when r is NULL); clears r. */
static int pg_fail(const struct pg_load *l, PGresult *r, const char *what, struct err *e)
{
    const char *msg = NULL;
    if (r != NULL && lpq.PQresultErrorMessage(r)[0] != '\0') {
        msg = lpq.PQresultErrorMessage(r);
    } else {
        msg = lpq.PQerrorMessage(l->conn);
    }
    int rc = pg_msg_err(l, e, AE_DB, what, msg);
    lpq.PQclear(r);
    return rc;
}

static int pg_exec(struct pg_load *l, const char *sql, const char *what, struct err *e)
{
    PGresult *r = lpq.PQexec(l->conn, sql);
    ExecStatusType st = lpq.PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        return pg_fail(l, r, what, e);
    }
    lpq.PQclear(r);
    return 0;
}

/* Server notices and warnings ("relation already exists, skipping", RAISE NOTICE in a sql step)
 * are not errors; libpq's default prints them on stderr, which is not ours to write to. They go
 * to the run log (log_detail: the console only with -v), one line each, WARNING at WARN level;
 * without a log they are dropped. arg is the struct pg_load that owns the connection. */
static void pg_notice_log(void *arg, const char *msg)
{
    const struct pg_load *l = arg;
    if (l->log == NULL) {
        return;
    }
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        n--;
    }
    enum log_level lvl = strncmp(msg, "WARNING", 7) == 0 ? LOG_WARN : LOG_INFO;
    log_detail(l->log, lvl, NULL, "target \"%s\" (postgres) says: %.*s",
               l->ls.target != NULL ? l->ls.target : "postgres", (int)n, msg);
}

/* Connects l to t: fills l->conn, and l->where with a malloc'd "host=.. port=.. dbname=..
 * user=.." (never a password); the server's notices go to l->log (pg_notice_log), so l must
 * outlive the connection. On failure l->conn and l->where are NULL and e says why, naming the
 * target and where. */
static int pg_connect(const struct target_spec *t, struct pg_load *l, struct err *e)
{
    PGconn **conn = &l->conn;
    char **where = &l->where;
    const char *tname = t->name != NULL ? t->name : "postgres";
    const char *dsn = t->dsn != NULL ? t->dsn : "";
    *conn = NULL;
    *where = NULL;
    int rc = lpq_ready(tname, e);
    if (rc != 0) {
        return rc;
    }
    if (dsn[0] != '\0') {
        /* Parse first: libpq's own parse errors quote the offending text, which could be part of
         * a password; ours does not. */
        char *perr = NULL;
        PQconninfoOption *opts = lpq.PQconninfoParse(dsn, &perr);
        if (opts == NULL) {
            lpq.PQfreemem(perr);
            return err_set(e, AE_CONFIG,
                           "target \"%s\" (postgres): the dsn is not a valid libpq connection "
                           "string or URI (key=value pairs, values with spaces in single quotes, "
                           "or postgresql://user@host:port/dbname)",
                           tname);
        }
        lpq.PQconninfoFree(opts);
    }
    const char *keys[4];
    const char *vals[4];
    size_t k = 0;
    if (dsn[0] != '\0') {
        keys[k] = "dbname";
        vals[k++] = dsn;
    }
    /* After the DSN, so it wins: batch text is UTF-8 and COPY text is read in client encoding. */
    keys[k] = "client_encoding";
    vals[k++] = "UTF8";
    keys[k] = "fallback_application_name";
    vals[k++] = "astro";
    keys[k] = NULL;
    vals[k] = NULL;
    PGconn *c = lpq.PQconnectdbParams(keys, vals, 1);
    if (c == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    const char *host = lpq.PQhost(c);
    const char *port = lpq.PQport(c);
    const char *db = lpq.PQdb(c);
    const char *user = lpq.PQuser(c);
    char w[512];
    snprintf(w, sizeof(w), "host=%s port=%s dbname=%s user=%s", host ? host : "", port ? port : "",
             db ? db : "", user ? user : "");
    *where = strdup(w);
    if (*where == NULL) {
        lpq.PQfinish(c);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    if (lpq.PQstatus(c) != CONNECTION_OK) {
        char clean[768];
        pg_clean(clean, sizeof(clean), lpq.PQerrorMessage(c), lpq.PQpass(c));
        lpq.PQfinish(c);
        free(*where);
        *where = NULL;
        return err_set(e, AE_DB, "target \"%s\" (postgres %s): cannot connect: %s", tname, w,
                       clean);
    }
    lpq.PQsetNoticeProcessor(c, pg_notice_log, l);
    *conn = c;
    return 0;
}

/* ------------------------------------------------------------------ encoding */

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static inline uint8_t *put64(uint8_t *p, uint64_t v)
{
    p = put32(p, (uint32_t)(v >> 32));
    return put32(p, (uint32_t)v);
}

/* Largest numeric field: 8 header bytes + 11 base-10000 digits (38 decimal digits split around a
 * point can straddle one extra group), with its 4-byte length. */
#define PG_NUMERIC_MAX (4 + 8 + 2 * 12)

/*
 * Writes a numeric field (length prefix included) for the value a / 10^scale, negative when neg;
 * returns the bytes written. numeric_send/numeric_recv (utils/adt/numeric.c) use base-10000
 * digits: int16 ndigits, int16 weight (power of 10000 of the first digit), int16 sign (0x0000
 * positive, 0x4000 negative), int16 dscale (decimal digits after the point), then ndigits int16
 * digits. The decimal point falls between two base-10000 digits, so the fraction is padded on
 * the right to a multiple of four decimal digits; leading and trailing zero digits are dropped.
 */
static size_t pg_numeric(uint8_t *p, unsigned __int128 a, bool neg, unsigned scale)
{
    uint16_t g[24];
    size_t ng = 0;
    unsigned __int128 p10 = 1;
    for (unsigned i = 0; i < scale; i++) {
        p10 *= 10;
    }
    unsigned __int128 ip = a / p10;
    unsigned __int128 fp = a % p10;
    /* Fraction groups, least significant first; the last one may be partial. */
    unsigned nf = (scale + 3) / 4;
    uint16_t fg[12] = {0};
    unsigned rem = scale;
    for (unsigned i = 0; i < nf; i++) {
        unsigned take = rem % 4 != 0 ? rem % 4 : 4; /* digits in this group */
        unsigned div = take == 4 ? 10000 : take == 3 ? 1000 : take == 2 ? 100 : 10;
        unsigned mul = 10000 / div;
        fg[nf - 1 - i] = (uint16_t)((unsigned)(fp % div) * mul);
        fp /= div;
        rem -= take;
    }
    uint16_t ig[12] = {0}; /* at most 10 groups: |value| < 10^38 */
    size_t ni = 0;
    while (ip != 0) {
        ig[ni++] = (uint16_t)(ip % 10000);
        ip /= 10000;
    }
    for (size_t i = ni; i-- > 0;) {
        g[ng++] = ig[i];
    }
    for (unsigned i = 0; i < nf; i++) {
        g[ng++] = fg[i];
    }
    int weight = (int)ni - 1;
    size_t first = 0;
    while (first < ng && g[first] == 0) {
        first++;
        weight--;
    }
    while (ng > first && g[ng - 1] == 0) {
        ng--;
    }
    size_t nd = ng - first;
    if (nd == 0) {
        weight = 0;
        neg = false;
    }
    uint8_t *q = put32(p, (uint32_t)(8 + 2 * nd));
    q = put16(q, (uint16_t)nd);
    q = put16(q, (uint16_t)(int16_t)weight);
    q = put16(q, neg ? 0x4000 : 0x0000);
    q = put16(q, (uint16_t)scale);
    for (size_t i = first; i < ng; i++) {
        q = put16(q, g[i]);
    }
    return (size_t)(q - p);
}

static int pg_flush(struct pg_load *l, struct err *e)
{
    if (l->data.len == 0) {
        return 0;
    }
    if (lpq.PQputCopyData(l->conn, l->data.data, (int)l->data.len) != 1) {
        return pg_fail(l, NULL, "COPY into", e);
    }
    l->ls.res.bytes_sent += l->data.len;
    buf_reset(&l->data);
    return 0;
}

static int pg_range_err(struct pg_load *l, const struct batch *b, size_t c, size_t r, struct err *e)
{
    char where[48];
    return err_set(e, AE_DB,
                   "target \"%s\" (postgres %s): load into \"%s\": %s, column \"%s\": value out "
                   "of PostgreSQL's range",
                   l->ls.target, l->where, l->ls.table,
                   load_line_text(where, sizeof(where), b->line[r]), l->ls.plan.names[c]);
}

static int pg_write(void *impl, const struct batch *b, struct err *e)
{
    struct pg_load *l = impl;
    if (l->ls.res.skipped) {
        return 0;
    }
    if (b->ncols != l->ls.plan.ncols) {
        return err_set(e, AE_INTERNAL, "target \"%s\": batch of %zu columns for a load of %zu",
                       l->ls.target, b->ncols, l->ls.plan.ncols);
    }
    size_t nc = b->ncols;
    size_t fixed = 2 + nc * PG_NUMERIC_MAX;
    for (size_t r = 0; r < b->nrows; r++) {
        if (!b->row_ok[r]) {
            continue;
        }
        size_t need = fixed;
        for (size_t c = 0; c < nc; c++) {
            if (l->enc[c] == E_TEXT) {
                need += b->cols[c].offs[r + 1] - b->cols[c].offs[r];
            }
        }
        if (buf_reserve(&l->data, need) != 0) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        uint8_t *p0 = (uint8_t *)l->data.data + l->data.len;
        uint8_t *p = put16(p0, (uint16_t)nc);
        for (size_t c = 0; c < nc; c++) {
            const struct column *col = &b->cols[c];
            if (!col->valid[r]) {
                p = put32(p, UINT32_MAX); /* -1: NULL */
                continue;
            }
            switch (l->enc[c]) {
            case E_TEXT: {
                uint32_t n = col->offs[r + 1] - col->offs[r];
                p = put32(p, n);
                memcpy(p, col->data.data + col->offs[r], n);
                p += n;
                break;
            }
            case E_BOOL:
                p = put32(p, 1);
                *p++ = col->v.u8[r] != 0;
                break;
            case E_INT2:
                p = put32(p, 2);
                p = put16(p, (uint16_t)col->v.i64[r]);
                break;
            case E_INT4:
                p = put32(p, 4);
                p = put32(p, (uint32_t)col->v.i64[r]);
                break;
            case E_INT8:
                p = put32(p, 8);
                p = put64(p, (uint64_t)col->v.i64[r]);
                break;
            case E_F4: {
                float f = (float)col->v.f64[r];
                uint32_t u;
                memcpy(&u, &f, sizeof(u));
                p = put32(p, 4);
                p = put32(p, u);
                break;
            }
            case E_F8: {
                uint64_t u;
                memcpy(&u, &col->v.f64[r], sizeof(u));
                p = put32(p, 8);
                p = put64(p, u);
                break;
            }
            case E_DATE: {
                int64_t d = col->v.i64[r] - PG_EPOCH_DAYS;
                if (d < INT32_MIN || d > INT32_MAX) {
                    return pg_range_err(l, b, c, r, e);
                }
                p = put32(p, 4);
                p = put32(p, (uint32_t)(int32_t)d);
                break;
            }
            case E_TS: {
                int64_t us;
                if (__builtin_sub_overflow(col->v.i64[r], PG_EPOCH_US, &us)) {
                    return pg_range_err(l, b, c, r, e);
                }
                p = put32(p, 8);
                p = put64(p, (uint64_t)us);
                break;
            }
            case E_NUM_DEC: {
                __int128 v = col->v.i128[r];
                bool neg = v < 0;
                unsigned __int128 a =
                    neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
                p += pg_numeric(p, a, neg, col->type.scale);
                break;
            }
            case E_NUM_U64: p += pg_numeric(p, (uint64_t)col->v.i64[r], false, 0); break;
            }
        }
        l->data.len += (size_t)(p - p0);
        l->ls.res.rows_sent++;
        if (l->data.len >= PG_CHUNK) {
            int rc = pg_flush(l, e);
            if (rc != 0) {
                return rc;
            }
        }
    }
    int rc = line_map_add(&l->sent, b, e);
    if (rc != 0) {
        return rc;
    }
    load_state_publish(&l->ls);
    return 0;
}

/* What a failed COPY's message starts with: "COPY into", or, when the server names the row
 * ("COPY t, line 3" in its context: the third row sent), "COPY of the row from line 14 of the
 * source file into". Writes into buf. */
static const char *pg_copy_what(const struct pg_load *l, const PGresult *r, char *buf, size_t n)
{
    const char *ctx = r != NULL ? lpq.PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL;
    const char *at = ctx != NULL ? strstr(ctx, ", line ") : NULL;
    unsigned long long row = at != NULL ? strtoull(at + 7, NULL, 10) : 0;
    if (row == 0) {
        return "COPY into";
    }
    char where[48];
    snprintf(buf, n, "COPY of the row from %s of the source file into",
             load_line_text(where, sizeof(where), line_map_line(&l->sent, row - 1)));
    return buf;
}

/* ------------------------------------------------------------------ lifecycle */

static void pg_free(struct pg_load *l)
{
    load_state_publish(&l->ls);
    if (l->conn != NULL) {
        if (l->in_copy) {
            /* Ends the COPY with an error so the server discards it; then drain its results. */
            if (lpq.PQputCopyEnd(l->conn, "load aborted by astro") == 1) {
                PGresult *r;
                while ((r = lpq.PQgetResult(l->conn)) != NULL) {
                    lpq.PQclear(r);
                }
            }
        }
        if (l->in_tx && lpq.PQstatus(l->conn) == CONNECTION_OK) {
            lpq.PQclear(lpq.PQexec(l->conn, "ROLLBACK"));
        }
        lpq.PQfinish(l->conn); /* a lost connection rolls back on the server by itself */
    }
    load_state_release(&l->ls);
    line_map_release(&l->sent);
    buf_release(&l->data);
    free(l->enc);
    free(l->where);
    free(l);
}

static void pg_abort(void *impl)
{
    pg_free(impl);
}

/* Appends "c1", "c2", ... with prefix before each name (e.g. "EXCLUDED."). */
static int pg_list(struct buf *b, const struct load_plan *p, bool values_only, const char *prefix)
{
    int rc = 0;
    bool first = true;
    for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
        if (values_only && p->is_key[i]) {
            continue;
        }
        rc = buf_puts(b, first ? "" : ", ");
        rc = rc != 0 ? rc : buf_puts(b, prefix);
        rc = rc != 0 ? rc : load_quote_ident(b, p->names[i]);
        first = false;
    }
    return rc;
}

/* INSERT INTO t AS astro_t (cols) SELECT cols FROM astro_stage [ON CONFLICT ...]. */
static int pg_upsert_sql(const struct pg_load *l, struct buf *b)
{
    const struct load_plan *p = &l->ls.plan;
    int rc = buf_puts(b, "INSERT INTO ");
    rc = rc != 0 ? rc : load_quote_table(b, l->ls.table);
    rc = rc != 0 ? rc : buf_puts(b, " AS astro_t (");
    rc = rc != 0 ? rc : pg_list(b, p, false, "");
    rc = rc != 0 ? rc : buf_puts(b, ") SELECT ");
    rc = rc != 0 ? rc : pg_list(b, p, false, "");
    rc = rc != 0 ? rc : buf_puts(b, " FROM pg_temp.astro_stage");
    if (rc != 0 || p->conflict == LOAD_CONFLICT_ERROR) {
        return rc;
    }
    rc = buf_puts(b, " ON CONFLICT (");
    bool first = true;
    for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
        if (p->is_key[i]) {
            rc = buf_puts(b, first ? "" : ", ");
            rc = rc != 0 ? rc : load_quote_ident(b, p->names[i]);
            first = false;
        }
    }
    if (p->conflict == LOAD_CONFLICT_NOTHING || p->nvalue == 0) {
        return rc != 0 ? rc : buf_puts(b, ") DO NOTHING");
    }
    /* Only rows that differ are rewritten: a re-sent file updates nothing (no dead tuples, no
     * index churn). IS DISTINCT FROM treats NULLs as comparable values. */
    rc = rc != 0 ? rc : buf_puts(b, ") DO UPDATE SET ");
    first = true;
    for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
        if (p->is_key[i]) {
            continue;
        }
        rc = buf_puts(b, first ? "" : ", ");
        rc = rc != 0 ? rc : load_quote_ident(b, p->names[i]);
        rc = rc != 0 ? rc : buf_puts(b, " = EXCLUDED.");
        rc = rc != 0 ? rc : load_quote_ident(b, p->names[i]);
        first = false;
    }
    rc = rc != 0 ? rc : buf_puts(b, " WHERE (");
    rc = rc != 0 ? rc : pg_list(b, p, true, "astro_t.");
    rc = rc != 0 ? rc : buf_puts(b, ") IS DISTINCT FROM (");
    rc = rc != 0 ? rc : pg_list(b, p, true, "EXCLUDED.");
    rc = rc != 0 ? rc : buf_putc(b, ')');
    return rc;
}

/* Takes the advisory transaction lock on the load's identity (dataset, sha, table) and looks for
 * its checkpoint row: *state says whether this content is already loaded into the table, and
 * with which schema (load_int.h). One load of one
 * file into one table at a time: concurrent loads of the same identity wait here and then see the
 * first one's checkpoint. 0x61737472 ("astr") keeps our keys apart from an application's
 * single-key advisory locks. */
static int pg_checkpoint_lock(struct pg_load *l, enum load_ckpt *state, struct err *e)
{
    char ident[1024];
    snprintf(ident, sizeof(ident), "%s\x1f%s\x1f%s", l->ls.dataset, l->ls.sha, l->ls.table);
    const char *params[3] = {ident, NULL, NULL};
    PGresult *r = lpq.PQexecParams(l->conn, "SELECT pg_advisory_xact_lock(1634956402, hashtext($1))",
                               1, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        return pg_fail(l, r, "cannot lock the checkpoint of", e);
    }
    lpq.PQclear(r);
    params[0] = l->ls.dataset;
    params[1] = l->ls.sha;
    params[2] = l->ls.table;
    r = lpq.PQexecParams(l->conn,
                     "SELECT schema_fingerprint FROM astro_checkpoints WHERE dataset = $1 AND "
                     "source_sha256 = $2 AND target_table = $3",
                     3, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        return pg_fail(l, r, "cannot read astro_checkpoints for", e);
    }
    *state = load_ckpt_of(&l->ls, lpq.PQntuples(r) > 0 ? lpq.PQgetvalue(r, 0, 0) : NULL);
    lpq.PQclear(r);
    return 0;
}

/* Inserts r into astro_files on l's connection, in its current transaction (if any). */
static int pg_insert_file(struct pg_load *l, const struct load_file_record *r, struct err *e)
{
    char size[32], loaded[32], quarantined[32];
    snprintf(size, sizeof(size), "%" PRIu64, r->file->size);
    snprintf(loaded, sizeof(loaded), "%" PRIu64, r->rows_loaded);
    snprintf(quarantined, sizeof(quarantined), "%" PRIu64, r->file->rows_quarantined);
    const char *params[9] = {r->file->name, size,       r->file->sha256, r->dataset, r->table,
                             loaded,        quarantined, r->status,      r->reason};
    PGresult *res = lpq.PQexecParams(l->conn,
                                 "INSERT INTO astro_files (file_name, file_size, file_sha256, "
                                 "dataset, target_table, rows_loaded, rows_quarantined, status, "
                                 "reason) VALUES ($1, $2::bigint, $3, $4, $5, $6::bigint, "
                                 "$7::bigint, $8, $9)",
                                 9, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(res) != PGRES_COMMAND_OK) {
        return pg_fail(l, res, "cannot record the file in astro_files for", e);
    }
    lpq.PQclear(res);
    return 0;
}

static int pg_commit(void *impl, uint64_t *bytes, struct err *e)
{
    struct pg_load *l = impl;
    int rc = 0;
    PGresult *r = NULL;
    struct buf sql = BUF_INIT;
    if (bytes != NULL) {
        *bytes = 0;
    }
    if (l->ls.res.skipped) {
        goto done; /* pg_free() rolls the empty transaction back */
    }
    static const uint8_t trailer[2] = {0xFF, 0xFF};
    if (buf_append(&l->data, trailer, sizeof(trailer)) != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto done;
    }
    rc = pg_flush(l, e);
    if (rc != 0) {
        goto done;
    }
    if (lpq.PQputCopyEnd(l->conn, NULL) != 1) {
        rc = pg_fail(l, NULL, "COPY into", e);
        goto done;
    }
    l->in_copy = false;
    r = lpq.PQgetResult(l->conn);
    if (lpq.PQresultStatus(r) != PGRES_COMMAND_OK) {
        char what[96];
        const char *w = pg_copy_what(l, r, what, sizeof(what));
        rc = pg_fail(l, r, w, e);
        char *ctx = w == what && e != NULL ? strstr(e->msg, " CONTEXT:  COPY ") : NULL;
        if (ctx != NULL) {
            *ctx = '\0'; /* the server's row number, already given as the source line */
        }
        r = NULL;
        while ((r = lpq.PQgetResult(l->conn)) != NULL) {
            lpq.PQclear(r);
        }
        goto done;
    }
    uint64_t copied = strtoull(lpq.PQcmdTuples(r), NULL, 10);
    lpq.PQclear(r);
    while ((r = lpq.PQgetResult(l->conn)) != NULL) {
        lpq.PQclear(r);
    }
    l->ls.res.rows_written = copied; /* append, replace, direct upsert: every row is inserted */
    if (l->ls.file != NULL) {
        /* A watch load: the content's identity is known now. Already loaded: roll back. */
        enum load_ckpt state = LOAD_CKPT_NONE;
        rc = load_state_take_sha(&l->ls, e);
        rc = rc != 0 ? rc : pg_checkpoint_lock(l, &state, e);
        if (rc != 0) {
            goto done;
        }
        if (state != LOAD_CKPT_NONE) { /* watch: any schema (no fingerprint yet) */
            l->ls.res.skipped = true;
            l->ls.res.rows_written = 0;
            goto done; /* pg_free() rolls the transaction back */
        }
    }
    if (l->mode == LOAD_UPSERT && !l->direct) {
        if (pg_upsert_sql(l, &sql) != 0) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto done;
        }
        r = lpq.PQexec(l->conn, sql.data);
        if (lpq.PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_fail(l, r, "upsert into", e);
            r = NULL;
            goto done;
        }
        l->ls.res.rows_written = strtoull(lpq.PQcmdTuples(r), NULL, 10);
        lpq.PQclear(r);
        r = NULL;
    }
    char rows[32];
    snprintf(rows, sizeof(rows), "%" PRIu64, l->ls.res.rows_sent);
    const char *params[6] = {l->ls.run_id, l->ls.dataset, l->ls.sha,
                             l->ls.table,  rows,          l->ls.fingerprint};
    r = lpq.PQexecParams(l->conn,
                     "INSERT INTO astro_checkpoints (run_id, dataset, source_sha256, target_table, "
                     "rows, status, schema_fingerprint) VALUES ($1, $2, $3, $4, $5::bigint, "
                     "'loaded', $6) ON CONFLICT (dataset, source_sha256, target_table) DO UPDATE "
                     "SET run_id = EXCLUDED.run_id, rows = EXCLUDED.rows, status = EXCLUDED.status, "
                     "loaded_at = now(), schema_fingerprint = EXCLUDED.schema_fingerprint",
                     6, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = pg_fail(l, r, "cannot record the checkpoint of", e);
        r = NULL;
        goto done;
    }
    lpq.PQclear(r);
    r = NULL;
    if (l->ls.file != NULL) {
        struct load_file_record fr = {l->ls.dataset, l->ls.table, l->ls.file,
                                      l->ls.res.rows_sent, "success", NULL};
        rc = pg_insert_file(l, &fr, e);
        if (rc != 0) {
            goto done;
        }
    }
    r = lpq.PQexec(l->conn, "COMMIT");
    /* A transaction that failed earlier answers COMMIT with ROLLBACK; only "COMMIT" commits. */
    if (lpq.PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(lpq.PQcmdStatus(r), "COMMIT") != 0) {
        rc = pg_fail(l, r, "cannot commit the load into", e);
        r = NULL;
        goto done;
    }
    lpq.PQclear(r);
    r = NULL;
    l->in_tx = false;
    l->ls.res.committed = true;
    if (bytes != NULL) {
        *bytes = l->ls.res.bytes_sent;
    }
done:
    buf_release(&sql);
    pg_free(l);
    return rc;
}

static const struct sink_ops pg_ops = {pg_write, pg_commit, pg_abort};

static const char pg_checkpoint_ddl[] =
    "CREATE TABLE IF NOT EXISTS astro_checkpoints ("
    "run_id text NOT NULL, dataset text NOT NULL, source_sha256 text NOT NULL, "
    "target_table text NOT NULL, rows bigint NOT NULL, status text NOT NULL, "
    "loaded_at timestamptz NOT NULL DEFAULT now(), schema_fingerprint text NOT NULL DEFAULT '', "
    "PRIMARY KEY (dataset, source_sha256, target_table))";

static const char pg_files_ddl[] =
    "CREATE TABLE IF NOT EXISTS astro_files ("
    "file_name text NOT NULL, file_size bigint NOT NULL, file_sha256 text NOT NULL, "
    "dataset text NOT NULL, target_table text NOT NULL, rows_loaded bigint NOT NULL, "
    "rows_quarantined bigint NOT NULL, status text NOT NULL, reason text, "
    "ingested_at timestamptz NOT NULL DEFAULT now())";

/* Runs ddl, in its own transaction, unless probe (a query of one boolean, with the one parameter
 * param) says that what it makes exists already. Two sessions racing to make it make one fail
 * with a unique violation on the catalog (23505) or with race_state (duplicate_table 42P07,
 * duplicate_column 42701): it then exists, which is all we need. what names the DDL in
 * messages. */
static int pg_ensure(struct pg_load *l, const char *probe, const char *param, const char *ddl,
                     const char *race_state, const char *what, struct err *e)
{
    const char *params[1] = {param};
    PGresult *r = lpq.PQexecParams(l->conn, probe, 1, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        return pg_fail(l, r, "cannot look for astro's own tables for", e);
    }
    bool exists = strcmp(lpq.PQgetvalue(r, 0, 0), "t") == 0;
    lpq.PQclear(r);
    if (exists) {
        return 0;
    }
    r = lpq.PQexec(l->conn, ddl);
    if (lpq.PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *state = lpq.PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state != NULL && (strcmp(state, "23505") == 0 || strcmp(state, race_state) == 0)) {
            lpq.PQclear(r);
            return 0;
        }
        return pg_fail(l, r, what, e);
    }
    lpq.PQclear(r);
    return 0;
}

/* Creates table name with ddl when missing. */
static int pg_ensure_table(struct pg_load *l, const char *name, const char *ddl, struct err *e)
{
    return pg_ensure(l, "SELECT to_regclass($1) IS NOT NULL", name, ddl, "42P07",
                     "cannot create astro's own tables for", e);
}

/* Adds schema_fingerprint to an astro_checkpoints from before it existed (its rows read as "",
 * an unknown schema). Looked up first, so that the usual case takes no lock. */
static int pg_ensure_fingerprint(struct pg_load *l, struct err *e)
{
    return pg_ensure(l,
                     "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = "
                     "'astro_checkpoints'::regclass AND attname = $1 AND NOT attisdropped)",
                     "schema_fingerprint",
                     "ALTER TABLE astro_checkpoints ADD COLUMN IF NOT EXISTS schema_fingerprint "
                     "text NOT NULL DEFAULT ''",
                     "42701", "cannot add schema_fingerprint to astro_checkpoints for", e);
}

/* astro_checkpoints (with schema_fingerprint), and astro_files for a watch load. */
static int pg_ensure_checkpoints(struct pg_load *l, struct err *e)
{
    int rc = pg_ensure_table(l, "astro_checkpoints", pg_checkpoint_ddl, e);
    rc = rc != 0 ? rc : pg_ensure_fingerprint(l, e);
    if (rc == 0 && l->ls.file != NULL) {
        rc = pg_ensure_table(l, "astro_files", pg_files_ddl, e);
    }
    return rc;
}

/* create: true. Two loads creating the same new table at once would both pass IF NOT EXISTS
 * (neither sees the other's uncommitted table) and one would fail on the catalog's unique index
 * (pg_type_typname_nsp_index). So a missing table is created under a transaction-level advisory
 * lock on its name: the second load waits for the first to commit, then finds the table. A table
 * that exists already takes no lock, so loads into it run side by side as before. */
static int pg_create_table(struct pg_load *l, bool pk, struct err *e)
{
    struct buf b = BUF_INIT;
    int rc = load_quote_table(&b, l->ls.table);
    if (rc != 0) {
        buf_release(&b);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    const char *params[1] = {b.data};
    PGresult *r = lpq.PQexecParams(l->conn,
                               "SELECT pg_advisory_xact_lock(1634956402, hashtext('create' || "
                               "$1)) WHERE to_regclass($1) IS NULL",
                               1, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        buf_release(&b);
        return pg_fail(l, r, "cannot lock the creation of", e);
    }
    lpq.PQclear(r);
    buf_reset(&b);
    rc = load_create_table_sql(&b, l->ls.table, &l->ls.plan, l->ls.types, pg_type_name, pk);
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else {
        rc = pg_exec(l, b.data, "cannot create table", e);
    }
    buf_release(&b);
    return rc;
}

/* Binary COPY sends each column in one exact representation, so the table's columns must have the
 * matching types (or text-like types for str): a mismatch would be refused by the server at best,
 * and misread at worst (int2 bytes into a text column). Checked up front with a clear message. */
static int pg_check_columns(struct pg_load *l, struct err *e)
{
    struct buf qt = BUF_INIT;
    if (load_quote_table(&qt, l->ls.table) != 0) {
        buf_release(&qt);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    const char *params[1] = {qt.data};
    PGresult *r = lpq.PQexecParams(
        l->conn,
        "SELECT a.attname, (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid "
        "END)::int, format_type(a.atttypid, a.atttypmod), to_regclass($1) IS NOT NULL, "
        "a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' "
        "FROM (SELECT to_regclass($1) AS rel) s LEFT JOIN pg_attribute a ON a.attrelid = s.rel "
        "AND a.attnum > 0 AND NOT a.attisdropped LEFT JOIN pg_type t ON t.oid = a.atttypid",
        1, NULL, params, NULL, NULL, 0);
    buf_release(&qt);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        return pg_fail(l, r, "cannot read the columns of", e);
    }
    int rc = 0;
    int n = lpq.PQntuples(r);
    if (n == 0 || strcmp(lpq.PQgetvalue(r, 0, 3), "t") != 0) {
        rc = err_set(e, AE_DB,
                     "target \"%s\" (postgres %s): table \"%s\" does not exist (create: true "
                     "creates it)",
                     l->ls.target, l->where, l->ls.table);
        goto done;
    }
    for (size_t i = 0; i < l->ls.plan.ncols && rc == 0; i++) {
        int row = -1;
        for (int j = 0; j < n && row < 0; j++) {
            if (!lpq.PQgetisnull(r, j, 0) && strcmp(lpq.PQgetvalue(r, j, 0), l->ls.plan.names[i]) == 0) {
                row = j;
            }
        }
        if (row < 0) {
            rc = err_set(e, AE_DB, "target \"%s\" (postgres %s): table \"%s\" has no column \"%s\"",
                         l->ls.target, l->where, l->ls.table, l->ls.plan.names[i]);
            break;
        }
        unsigned oid = (unsigned)strtoul(lpq.PQgetvalue(r, row, 1), NULL, 10);
        if (!pg_oid_fits(l->ls.types[i].id, oid)) {
            char want[32];
            pg_type_name(l->ls.types[i], want, sizeof(want));
            rc = load_column_type_err(e, &l->ls, "postgres", l->where, l->ls.plan.names[i],
                                      lpq.PQgetvalue(r, row, 2), l->ls.types[i], want);
        }
    }
    /* A column the load does not fill must take NULL or have a default (or be generated). */
    for (int j = 0; j < n && rc == 0; j++) {
        bool filled = false;
        for (size_t i = 0; i < l->ls.plan.ncols && !filled; i++) {
            filled = strcmp(lpq.PQgetvalue(r, j, 0), l->ls.plan.names[i]) == 0;
        }
        if (!filled && !lpq.PQgetisnull(r, j, 0) && strcmp(lpq.PQgetvalue(r, j, 4), "t") == 0) {
            rc = load_column_unfilled_err(e, &l->ls, "postgres", l->where, lpq.PQgetvalue(r, j, 0));
        }
    }
done:
    lpq.PQclear(r);
    return rc;
}

/* Runs sql (params as text) and stores its one boolean value in *out. */
static int pg_query_bool(struct pg_load *l, const char *sql, int nparams, const char *const *params,
                         bool *out, const char *what, struct err *e)
{
    PGresult *r = lpq.PQexecParams(l->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK || lpq.PQntuples(r) != 1 || lpq.PQnfields(r) != 1) {
        return pg_fail(l, r, what, e);
    }
    *out = strcmp(lpq.PQgetvalue(r, 0, 0), "t") == 0;
    lpq.PQclear(r);
    return 0;
}

/* Appends the loaded column names (only the keys with keys_only) as a text[] literal:
 * {"a","b\"c"} (array_in's quoting: a backslash escapes '"' and '\' inside double quotes). */
static int pg_name_array(struct buf *b, const struct load_plan *p, bool keys_only)
{
    int rc = buf_putc(b, '{');
    bool first = true;
    for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
        if (keys_only && !p->is_key[i]) {
            continue;
        }
        rc = buf_puts(b, first ? "\"" : ",\"");
        for (const char *c = p->names[i]; rc == 0 && *c != '\0'; c++) {
            if (*c == '"' || *c == '\\') {
                rc = buf_putc(b, '\\');
            }
            rc = rc != 0 ? rc : buf_putc(b, *c);
        }
        rc = rc != 0 ? rc : buf_putc(b, '"');
        first = false;
    }
    return rc != 0 ? rc : buf_putc(b, '}');
}

/*
 * Decides whether this upsert COPYs straight into the target table (*direct) instead of through
 * the staging table. Into an empty table an upsert inserts every row, and a COPY does that at
 * insert speed, where the staging path writes every row twice (the temp table, then INSERT ...
 * SELECT) and probes the index for each. It is the same load only when nothing can tell the two
 * apart, so the direct path needs all of:
 * - on_conflict "error", or "update" with value columns: "nothing" (and "update" of keys only,
 *   which is DO NOTHING) silently keeps the first of two rows with one key, which COPY would
 *   refuse. With "update" a repeated key fails either way (the server refuses to affect a row
 *   twice; COPY hits the unique index), and so does "error".
 * - for "update", an arbiter for ON CONFLICT (key): a valid, immediate, non-partial unique index
 *   on exactly the key columns (the inference rules of the manual's INSERT, "ON CONFLICT
 *   Clause"). Without one the staging path lets the server report the missing constraint, and
 *   COPY would have loaded duplicates that no later upsert could repair.
 * - a plain or partitioned table without rules or row-level security: COPY FROM ignores rules
 *   and is refused under row security, where INSERT applies both (manual, "COPY", Notes).
 * - no user trigger ON UPDATE on the table or any of its partitions: INSERT ... ON CONFLICT DO
 *   UPDATE fires the statement-level UPDATE triggers even when no row conflicts (manual,
 *   "Overview of Trigger Behavior"), a COPY does not. INSERT triggers fire for both.
 * - no loaded column GENERATED ALWAYS AS IDENTITY: INSERT refuses a value for it, COPY writes
 *   the value as OVERRIDING SYSTEM VALUE would (manual, "COPY", Notes).
 * - READ COMMITTED, so that the check after the lock sees rows committed meanwhile.
 * - a privilege that allows SHARE ROW EXCLUSIVE (UPDATE, DELETE or TRUNCATE; manual, "LOCK").
 * Then the table is checked empty, locked IN SHARE ROW EXCLUSIVE MODE and checked again. That
 * mode conflicts with ROW EXCLUSIVE, which every INSERT/UPDATE/DELETE takes, and with itself, so
 * no other writer can add a row until this transaction ends, while readers (ACCESS SHARE) go on;
 * the second check, a new snapshot under READ COMMITTED, sees what writers we waited for
 * committed. A table found non-empty at the first check is never locked beyond what the staging
 * path takes. The cheap checks come first: NOT EXISTS stops at the first visible row.
 */
static int pg_upsert_direct(struct pg_load *l, bool *direct, struct err *e)
{
    *direct = false;
    const struct load_plan *p = &l->ls.plan;
    bool need_arbiter = p->conflict == LOAD_CONFLICT_UPDATE;
    if (p->conflict == LOAD_CONFLICT_NOTHING || (need_arbiter && p->nvalue == 0)) {
        return 0;
    }
    struct buf qt = BUF_INIT;
    struct buf keys = BUF_INIT;
    struct buf names = BUF_INIT;
    struct buf sql = BUF_INIT;
    struct buf lock = BUF_INIT;
    bool ok = false;
    bool empty = false;
    int rc = 0;
    if (load_quote_table(&qt, l->ls.table) != 0 || pg_name_array(&keys, p, true) != 0 ||
        pg_name_array(&names, p, false) != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto done;
    }
    /* tgtype bit 4 is TRIGGER_TYPE_UPDATE (catalog/pg_trigger.h). */
    const char *params[4] = {qt.data, keys.data, need_arbiter ? "t" : "f", names.data};
    rc = pg_query_bool(
        l,
        "SELECT c.relkind IN ('r', 'p') AND NOT c.relhasrules AND NOT c.relrowsecurity "
        "AND current_setting('transaction_isolation') = 'read committed' "
        "AND has_table_privilege(c.oid, 'SELECT') "
        "AND has_table_privilege(c.oid, 'UPDATE, DELETE, TRUNCATE') "
        "AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE NOT t.tgisinternal "
        "AND t.tgtype & 16 <> 0 AND (t.tgrelid = c.oid "
        "OR t.tgrelid IN (SELECT relid FROM pg_partition_tree(c.oid)))) "
        "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
        "AND NOT a.attisdropped AND a.attidentity = 'a' AND a.attname = ANY ($4::text[])) "
        "AND (NOT $3::boolean OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid "
        "AND i.indisunique AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL "
        "AND i.indexprs IS NULL "
        "AND i.indnkeyatts = (SELECT count(DISTINCT k) FROM unnest($2::text[]) k) "
        "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid "
        "AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1]) AND a.attname <> ALL ($2::text[])))) "
        "FROM pg_class c WHERE c.oid = $1::regclass",
        4, params, &ok, "cannot read the constraints of", e);
    if (rc != 0 || !ok) {
        goto done;
    }
    if (buf_puts(&sql, "SELECT NOT EXISTS (SELECT 1 FROM ") != 0 || buf_puts(&sql, qt.data) != 0 ||
        buf_putc(&sql, ')') != 0 || buf_puts(&lock, "LOCK TABLE ") != 0 ||
        buf_puts(&lock, qt.data) != 0 || buf_puts(&lock, " IN SHARE ROW EXCLUSIVE MODE") != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto done;
    }
    rc = pg_query_bool(l, sql.data, 0, NULL, &empty, "cannot read", e);
    if (rc != 0 || !empty) {
        goto done;
    }
    rc = pg_exec(l, lock.data, "cannot lock", e);
    rc = rc != 0 ? rc : pg_query_bool(l, sql.data, 0, NULL, direct, "cannot read", e);
done:
    buf_release(&qt);
    buf_release(&keys);
    buf_release(&names);
    buf_release(&sql);
    buf_release(&lock);
    return rc;
}

/* Whether the COPY of a replace may say FREEZE: the rows are written frozen and all-visible, so
 * no later VACUUM or first reader rewrites every page to set hint bits. The manual ("COPY",
 * FREEZE) allows it when the table was created or truncated in the current (sub)transaction,
 * which the replace's TRUNCATE just did, and refuses it on a partitioned or foreign table. Frozen
 * rows are visible to transactions whose snapshot predates the commit; so is the TRUNCATE's empty
 * table, a replace was never MVCC-safe for such readers. */
static int pg_can_freeze(struct pg_load *l, bool *freeze, struct err *e)
{
    struct buf qt = BUF_INIT;
    if (load_quote_table(&qt, l->ls.table) != 0) {
        buf_release(&qt);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    const char *params[1] = {qt.data};
    int rc = pg_query_bool(l, "SELECT relkind = 'r' FROM pg_class WHERE oid = $1::regclass", 1,
                           params, freeze, "cannot read", e);
    buf_release(&qt);
    return rc;
}

/* PostgreSQL cuts identifiers to NAMEDATALEN - 1 = 63 bytes, silently: a longer table column
 * (a dataset column renamed to one, or a file validated before astro refused long names) would
 * be created cut, and every later load would look for the full name. Refused before connecting,
 * naming the limit. */
#define PG_MAX_IDENT 63

static int pg_check_names(const struct load_state *ls, struct err *e)
{
    for (size_t i = 0; i < ls->plan.ncols; i++) {
        size_t len = strlen(ls->plan.names[i]);
        if (len > PG_MAX_IDENT) {
            return err_set(e, AE_CONFIG,
                           "target \"%s\": column \"%.80s%s\" of \"%s\" is %zu bytes long: "
                           "PostgreSQL cuts names to %d bytes (NAMEDATALEN - 1), so the load "
                           "would create or look for another column; rename it shorter (rename: "
                           "in the load step)",
                           ls->target, ls->plan.names[i], len > 80 ? "..." : "", ls->table, len,
                           PG_MAX_IDENT);
        }
    }
    return 0;
}

static int pg_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                   const struct column_desc *cols, size_t ncols, struct err *e)
{
    s->ops = &pg_ops;
    s->impl = NULL;
    struct pg_load *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    line_map_init(&l->sent);
    int rc = load_state_init(&l->ls, t, "postgres", o, cols, ncols, e);
    if (rc != 0) {
        free(l);
        return rc;
    }
    rc = pg_check_names(&l->ls, e);
    if (rc != 0) {
        load_state_release(&l->ls);
        free(l);
        return rc;
    }
    l->mode = o->mode;
    buf_init(&l->data, 0);
    l->enc = calloc(ncols, sizeof(*l->enc));
    if (l->enc == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < ncols; i++) {
        l->enc[i] = pg_enc_of(cols[i].type.id);
    }
    l->log = o->log;
    rc = pg_connect(t, l, e);
    if (rc != 0) {
        goto fail;
    }
    rc = pg_ensure_checkpoints(l, e);
    rc = rc != 0 ? rc : pg_exec(l, "BEGIN", "cannot start the load into", e);
    if (rc != 0) {
        goto fail;
    }
    l->in_tx = true;
    if (l->ls.file == NULL) {
        enum load_ckpt state = LOAD_CKPT_NONE;
        bool skip = false;
        rc = pg_checkpoint_lock(l, &state, e);
        rc = rc != 0 ? rc : load_ckpt_decide(&l->ls, o, state, &skip, e);
        if (rc != 0) {
            goto fail;
        }
        if (skip) {
            l->ls.res.skipped = true;
            goto opened;
        }
    }
    if (o->create) {
        rc = pg_create_table(l, o->mode == LOAD_UPSERT, e);
        if (rc != 0) {
            goto fail;
        }
    }
    rc = pg_check_columns(l, e);
    if (rc != 0) {
        goto fail;
    }
    if (o->mode == LOAD_UPSERT) {
        rc = pg_upsert_direct(l, &l->direct, e);
        if (rc != 0) {
            goto fail;
        }
    }
    struct buf sql = BUF_INIT;
    int brc = 0;
    bool freeze = false;
    if (o->mode == LOAD_REPLACE) {
        brc = buf_puts(&sql, "TRUNCATE ");
        brc = brc != 0 ? brc : load_quote_table(&sql, l->ls.table);
        if (brc == 0) {
            rc = pg_exec(l, sql.data, "cannot empty", e);
            rc = rc != 0 ? rc : pg_can_freeze(l, &freeze, e);
        }
        buf_reset(&sql);
    } else if (o->mode == LOAD_UPSERT && !l->direct) {
        /* The staging table has exactly the load's columns with the target's types, and no
         * constraints: the INSERT ... SELECT applies them. Dropped at commit. */
        brc = buf_puts(&sql, "CREATE TEMP TABLE astro_stage ON COMMIT DROP AS SELECT ");
        brc = brc != 0 ? brc : pg_list(&sql, &l->ls.plan, false, "");
        brc = brc != 0 ? brc : buf_puts(&sql, " FROM ");
        brc = brc != 0 ? brc : load_quote_table(&sql, l->ls.table);
        brc = brc != 0 ? brc : buf_puts(&sql, " WITH NO DATA");
        if (brc == 0) {
            rc = pg_exec(l, sql.data, "cannot create the staging table for", e);
        }
        buf_reset(&sql);
    }
    if (brc == 0 && rc == 0) {
        brc = buf_puts(&sql, "COPY ");
        if (o->mode == LOAD_UPSERT && !l->direct) {
            brc = brc != 0 ? brc : buf_puts(&sql, "pg_temp.astro_stage");
        } else {
            brc = brc != 0 ? brc : load_quote_table(&sql, l->ls.table);
        }
        brc = brc != 0 ? brc : buf_puts(&sql, " (");
        brc = brc != 0 ? brc : pg_list(&sql, &l->ls.plan, false, "");
        brc = brc != 0 ? brc : buf_puts(&sql, ") FROM STDIN (FORMAT binary");
        brc = brc != 0 ? brc : buf_puts(&sql, freeze ? ", FREEZE)" : ")");
    }
    if (brc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
    if (rc == 0) {
        PGresult *r = lpq.PQexec(l->conn, sql.data);
        if (lpq.PQresultStatus(r) != PGRES_COPY_IN) {
            rc = pg_fail(l, r, "cannot start COPY into", e);
        } else {
            lpq.PQclear(r);
            l->in_copy = true;
        }
    }
    buf_release(&sql);
    if (rc != 0) {
        goto fail;
    }
    /* Signature "PGCOPY\n\377\r\n\0", flags 0 (no OIDs), header extension length 0. */
    static const uint8_t header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n',
                                       0,   0,   0,   0,   0,   0,   0,    0,    0};
    if (buf_append(&l->data, header, sizeof(header)) != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
opened:
    l->ls.out = o->result; /* a failed open reports through e only */
    load_state_publish(&l->ls);
    s->impl = l;
    return 0;
fail:
    pg_free(l);
    return rc;
}

/* Connects l (zeroed first) to t for a look-up or a sql step outside a load; messages name the
 * target and table (borrowed, NULL for none), as a load's do. On success pg_session_end() closes
 * it; on failure there is nothing to close. l borrows its names and never frees them. */
static int pg_session(struct pg_load *l, const struct target_spec *t, const char *table,
                      struct log *log, struct err *e)
{
    memset(l, 0, sizeof(*l));
    l->ls.target = (char *)(t->name != NULL ? t->name : "postgres");
    l->ls.table = (char *)table;
    l->log = log;
    return pg_connect(t, l, e);
}

static void pg_session_end(struct pg_load *l)
{
    lpq.PQfinish(l->conn);
    free(l->where);
}

static int pg_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                           const char *table, bool *done, struct err *e)
{
    *done = false;
    struct pg_load l;
    int rc = pg_session(&l, t, "astro_checkpoints", NULL, e);
    if (rc != 0) {
        return rc;
    }
    const char *params[3] = {dataset != NULL ? dataset : "", sha256 != NULL ? sha256 : "", table};
    PGresult *r = lpq.PQexec(l.conn, "SELECT to_regclass('astro_checkpoints') IS NOT NULL");
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(&l, r, "cannot read", e);
        goto done;
    }
    bool exists = strcmp(lpq.PQgetvalue(r, 0, 0), "t") == 0;
    lpq.PQclear(r);
    if (!exists) {
        goto done;
    }
    r = lpq.PQexecParams(l.conn,
                     "SELECT 1 FROM astro_checkpoints WHERE dataset = $1 AND source_sha256 = $2 "
                     "AND ($3::text IS NULL OR target_table = $3)",
                     3, NULL, params, NULL, NULL, 0);
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(&l, r, "cannot read", e);
        goto done;
    }
    *done = lpq.PQntuples(r) > 0;
    lpq.PQclear(r);
done:
    pg_session_end(&l);
    return rc;
}

/* ------------------------------------------------------------------ SQL statements */

/* BEGIN, the statements, COMMIT, each with PQexec(). The statements go as one simple query: the
 * server stops at the first failing one and reports its error; the transaction then ends with
 * the session, which rolls it back on the server. An empty query is no error. */
static int pg_exec_sql(const struct target_spec *t, const char *sql, struct log *log, struct err *e)
{
    struct pg_load l;
    int rc = pg_session(&l, t, NULL, log, e);
    if (rc != 0) {
        return rc;
    }
    const char *const parts[3] = {"BEGIN", sql, "COMMIT"};
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        PGresult *r = lpq.PQexec(l.conn, parts[i]);
        ExecStatusType st = lpq.PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
            lpq.PQclear(r);
        } else {
            rc = pg_fail(&l, r, NULL, e);
        }
    }
    pg_session_end(&l);
    return rc;
}

/* ------------------------------------------------------------------ watch files and claims */

static int pg_record_file(const struct target_spec *t, const struct load_file_record *r,
                          struct err *e)
{
    struct pg_load l;
    int rc = pg_session(&l, t, "astro_files", NULL, e);
    if (rc != 0) {
        return rc;
    }
    rc = pg_ensure_table(&l, "astro_files", pg_files_ddl, e);
    rc = rc != 0 ? rc : pg_insert_file(&l, r, e);
    pg_session_end(&l);
    return rc;
}

static void pg_release(struct load_claim *c)
{
    if (c != NULL) {
        pg_session_end(c->impl);
        free(c->impl);
        free(c);
    }
}

static int pg_claim(const struct target_spec *t, const char *key, struct load_claim **out,
                    struct err *e)
{
    *out = NULL;
    struct load_claim *c = calloc(1, sizeof(*c));
    struct pg_load *l = calloc(1, sizeof(*l));
    if (c == NULL || l == NULL) {
        free(c);
        free(l);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    c->impl = l;
    int rc = pg_session(l, t, NULL, NULL, e);
    if (rc != 0) {
        free(l);
        free(c);
        return rc;
    }
    /* A session lock: held until released or the connection ends, so a worker that dies frees
     * its claims with its connection. 0x77617463 ("watc") keeps these apart from the load locks. */
    const char *params[1] = {key};
    PGresult *r = lpq.PQexecParams(l->conn, "SELECT pg_try_advisory_lock(2002875491, hashtext($1))",
                               1, NULL, params, NULL, NULL, 0);
    bool got = false;
    if (lpq.PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(l, r, "cannot claim a file on", e);
    } else {
        got = strcmp(lpq.PQgetvalue(r, 0, 0), "t") == 0;
        lpq.PQclear(r);
    }
    if (rc != 0 || !got) {
        pg_release(c);
        return rc;
    }
    *out = c;
    return 0;
}

const struct load_target_ops load_target_postgres = {
    .name = "postgres",
    .open = pg_open,
    .checkpointed = pg_checkpointed,
    .exec_sql = pg_exec_sql,
    .record_file = pg_record_file,
    .concurrent = true,
    .claim = pg_claim,
    .release = pg_release,
    .type_name = pg_type_name,
};
