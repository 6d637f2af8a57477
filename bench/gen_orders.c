/* gen_orders.c - the benchmark's `orders` CSV: deterministic, fast, optionally with 1% bad rows.
 *
 * Usage: gen_orders [--rows N] [--bad] [--ndjson | --json] [--shuffle-ids] [--out FILE]
 *        (default 10000000 rows, stdout)
 *
 * Columns: order_id (int64, 1..N, unique), customer_email, amount (decimal(12,2), 1.00..9999.99),
 * order_date (YYYY-MM-DD, 2020-01-01..2026-12-31), status (one of STATUSES). LF record ends, a
 * header row, no quoting needed (no field holds a comma, quote or line break). About 66 bytes a
 * row: 10 million rows make about 660 MB.
 *
 * Determinism: every value of row i comes from a hash of (SEED, i) alone, so a file of N rows is
 * the first N rows of any larger one, and the clean and --bad files differ only in their bad rows.
 * With --bad, each block of 100 rows holds exactly one bad row (at a position drawn from the
 * block's hash), so a file of N rows (N a multiple of 100) has exactly N/100 bad rows; the kinds
 * cycle through BAD_KINDS: an impossible date, a date in another format, "$12.00", "NULL", an
 * unknown status, an email without '@'.
 *
 * --ndjson writes the same rows as NDJSON instead (no header; one object a line with the same
 * keys; order_id and amount as JSON numbers, the others as strings; a bad amount as a string),
 * about 120 bytes a row. --shuffle-ids writes the same order_ids 1..N in a scattered order (row i
 * gets 1 + (i * 1000000007) mod N, a permutation for any N that the prime 1000000007 does not
 * divide): the keys of a file that is not sorted by its key, where consecutive ids cannot help. --json writes them as one JSON array instead: "[" on the first line, the
 * same objects one a line, each but the last followed by ",", and "]" on the last line.
 *
 * Built by bench/run with `cc -O2`; it is not part of astro (CMake globs only src/).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED UINT64_C(0x6f72646572733130) /* "orders10" */
#define OUT_BUF (1u << 20)

static const char *const FIRST[] = {
    "olivia", "liam",   "emma",   "noah",  "amelia", "oliver", "ava",    "elijah",
    "sophia", "james",  "isla",   "jack",  "mia",    "harry",  "grace",  "george",
    "lily",   "oscar",  "freya",  "leo",   "ella",   "arthur", "chloe",  "henry",
    "zara",   "mohammed", "aisha", "wei",  "priya",  "lucas",  "sofia",  "mateo",
};
static const char *const LAST[] = {
    "smith",  "jones",   "taylor", "brown",  "williams", "wilson",  "johnson", "davies",
    "patel",  "robinson", "wright", "thompson", "evans", "walker", "white",   "roberts",
    "green",  "hall",    "wood",   "jackson", "clarke",  "khan",    "singh",   "lewis",
    "nguyen", "garcia",  "muller", "rossi",  "kowalski", "okafor",  "chen",    "murphy",
};
static const char *const DOMAINS[] = {
    "example.com", "mail.example.org", "shop.example.net", "customers.example.co.uk",
    "example.io",  "post.example.de",  "example.fr",       "inbox.example.com",
};
static const char *const STATUSES[] = {"pending",   "paid",     "shipped",
                                       "delivered", "cancelled", "refunded"};
#define NSTATUS (sizeof STATUSES / sizeof STATUSES[0])
#define NBAD_KINDS 6

/* splitmix64's finaliser: a bijective mix, good enough to draw independent-looking values. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian; Howard Hinnant's well-known
 * days-from-civil inverse, re-derived here: eras of 400 years, March-based years). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

struct out {
    FILE *f;
    char *buf;
    size_t n;
};

static int out_flush(struct out *o)
{
    if (o->n > 0 && fwrite(o->buf, 1, o->n, o->f) != o->n) {
        return -1;
    }
    o->n = 0;
    return 0;
}

static int usage(void)
{
    fputs("usage: gen_orders [--rows N] [--bad] [--ndjson | --json] [--out FILE]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t rows = 10000000;
    bool bad = false;
    bool ndjson = false;
    bool array = false;
    bool shuffle = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            rows = strtoull(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0') {
                return usage();
            }
        } else if (strcmp(argv[i], "--bad") == 0) {
            bad = true;
        } else if (strcmp(argv[i], "--ndjson") == 0) {
            ndjson = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            ndjson = array = true;
        } else if (strcmp(argv[i], "--shuffle-ids") == 0) {
            shuffle = true;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else {
            return usage();
        }
    }

    int rc = 1;
    struct out o = {stdout, malloc(OUT_BUF), 0};
    char *tmp = NULL;
    if (o.buf == NULL) {
        fputs("gen_orders: out of memory\n", stderr);
        goto done;
    }
    if (path != NULL) {
        /* Written under a temporary name and renamed: an interrupted run leaves no half file
         * that a later bench/run would take for finished data. */
        size_t len = strlen(path) + 5;
        tmp = malloc(len);
        if (tmp == NULL) {
            fputs("gen_orders: out of memory\n", stderr);
            goto done;
        }
        snprintf(tmp, len, "%s.tmp", path);
        o.f = fopen(tmp, "wb");
        if (o.f == NULL) {
            fprintf(stderr, "gen_orders: cannot create %s: %s\n", tmp, strerror(errno));
            goto done;
        }
    }

    static const char header[] = "order_id,customer_email,amount,order_date,status\n";
    if (!ndjson) {
        memcpy(o.buf, header, sizeof header - 1);
        o.n = sizeof header - 1;
    } else if (array) {
        memcpy(o.buf, "[\n", 2);
        o.n = 2;
    }

    const int64_t day0 = 18262; /* 2020-01-01 */
    const uint64_t ndays = 2557; /* through 2026-12-31 */
    uint64_t bad_at = UINT64_MAX;
    for (uint64_t i = 0; i < rows; i++) {
        if (i % 100 == 0) {
            bad_at = bad ? i + mix64(SEED ^ (i / 100) ^ UINT64_C(0xbad)) % 100 : UINT64_MAX;
        }
        uint64_t id = shuffle ? 1 + (uint64_t)((unsigned __int128)i * 1000000007u % rows) : i + 1;
        uint64_t h1 = mix64(SEED + 2 * i);
        uint64_t h2 = mix64(SEED + 2 * i + 1);
        char email[96];
        snprintf(email, sizeof email, "%s.%s%u@%s", FIRST[h1 & 31], LAST[(h1 >> 5) & 31],
                 (unsigned)((h1 >> 10) % 10000), DOMAINS[(h1 >> 24) & 7]);
        uint64_t cents = 100 + (h1 >> 32) % 999900; /* 1.00 .. 9999.99 */
        char amount[32];
        snprintf(amount, sizeof amount, "%" PRIu64 ".%02u", cents / 100, (unsigned)(cents % 100));
        int y;
        unsigned m, d;
        civil_from_days(day0 + (int64_t)(h2 % ndays), &y, &m, &d);
        char date[32];
        snprintf(date, sizeof date, "%04d-%02u-%02u", y, m, d);
        const char *status = STATUSES[(h2 >> 32) % NSTATUS];

        if (i == bad_at) {
            switch ((i / 100) % NBAD_KINDS) {
            case 0: snprintf(date, sizeof date, "%04d-02-30", y); break;
            case 1: snprintf(date, sizeof date, "%02u/%02u/%04d", d, m, y); break;
            case 2: snprintf(amount, sizeof amount, "$12.00"); break;
            case 3: snprintf(amount, sizeof amount, "NULL"); break;
            case 4: status = "lost"; break;
            default: snprintf(email, sizeof email, "%s.%s.example.com", FIRST[h1 & 31],
                              LAST[(h1 >> 5) & 31]); break;
            }
        }
        if (OUT_BUF - o.n < 256 && out_flush(&o) != 0) {
            fprintf(stderr, "gen_orders: write failed: %s\n", strerror(errno));
            goto done;
        }
        int w;
        if (ndjson) {
            bool num = amount[0] >= '0' && amount[0] <= '9';
            w = snprintf(o.buf + o.n, OUT_BUF - o.n,
                         "{\"order_id\":%" PRIu64 ",\"customer_email\":\"%s\",\"amount\":%s%s%s,"
                         "\"order_date\":\"%s\",\"status\":\"%s\"}%s\n",
                         id, email, num ? "" : "\"", amount, num ? "" : "\"", date, status,
                         array && i + 1 < rows ? "," : "");
        } else {
            w = snprintf(o.buf + o.n, OUT_BUF - o.n, "%" PRIu64 ",%s,%s,%s,%s\n", id, email,
                         amount, date, status);
        }
        o.n += (size_t)w;
    }
    if (array) {
        memcpy(o.buf + o.n, "]\n", 2);
        o.n += 2;
    }
    if (out_flush(&o) != 0 || fflush(o.f) != 0) {
        fprintf(stderr, "gen_orders: write failed: %s\n", strerror(errno));
        goto done;
    }
    if (path != NULL) {
        int c = fclose(o.f);
        o.f = NULL;
        if (c != 0 || rename(tmp, path) != 0) {
            fprintf(stderr, "gen_orders: cannot finish %s: %s\n", path, strerror(errno));
            goto done;
        }
    }
    rc = 0;
done:
    if (path != NULL && o.f != NULL) {
        fclose(o.f);
    }
    free(tmp);
    free(o.buf);
    return rc;
}
