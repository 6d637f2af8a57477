/*
 * csv.c - the streaming CSV reader: chunked reads, sha256, decoding to UTF-8, RFC 4180 splitting.
 *
 * Data flow: the source (reads, sha256, byte count) -> (iconv, unless UTF-8) -> the text buffer tb
 * -> records. Invariants:
 * - tb[0..end) is decoded UTF-8 text; tb[pos..end) is not yet parsed; tb always has TB_PAD
 *   readable bytes after end, so the block scanner may load 64 bytes past any position < end.
 * - A call to csv_reader_next() starts with tb[0..end) unparsed, then appends reads to tb without
 *   moving parsed bytes. Field and raw locations are kept as offsets while tb and ub may still
 *   grow, and turned into pointers just before returning; then tb (the call's records) and ub go
 *   to the record_block, which gives back its previous buffers, and the read-ahead tb[pos..end) is
 *   copied to the front of the buffer taken back (detach()).
 * - A record that runs past the end of tb is abandoned and parsed again from its start once more
 *   text has arrived. The next read is at least as large as the pending record, so the rescans of
 *   a long record cost O(its length) in total.
 * - Only bytes that need unescaping (doubled quotes, escapes, text after a closing quote) are
 *   copied, into ub; every other field points straight into tb.
 * - line is the 1-based physical line of tb[pos]: every LF consumed (record ends, LFs inside
 *   quotes, blank lines) adds one.
 */
#include "input/csv.h"
#include "input/input.h"
#include "util/buf.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The fields array never grows past CSV_FIELDS_CAP entries: a block's records before its last
 * one hold fewer than REC_BLOCK_MAX_FIELDS, so a record reaching the cap has more than
 * CSV_MAX_RECORD_FIELDS (csv.h) and fails with AE_FORMAT, at 32 MiB of fields rather than the
 * 1 GiB that 64 MiB of delimiters would take. */
#define CSV_FIELDS_CAP (REC_BLOCK_MAX_FIELDS + CSV_MAX_RECORD_FIELDS)

/* Small reads: the read-ahead past a call's last record (half a chunk on average) is copied into
 * the next call's buffer when the call's text is handed to its record_block. */
#define CSV_DEFAULT_CHUNK (256u << 10)
#define TB_PAD 64u
/* Internal field flag while a call is in progress: the field's offset is into ub, not tb. */
#define F_IN_UB 0x80u

enum rec_status { REC_DONE, REC_SKIP, REC_EOF, REC_MORE };
enum end_kind { END_DELIM, END_EOL, END_EOF, END_MORE };

struct csv_reader {
    struct source *src; /* borrowed */
    char *name;
    char delim, quote, escape;
    /* What scan_block compares with, each byte repeated 16 times (delimiter, LF, quote, escape; a
     * disabled quote or escape repeats the delimiter, which changes nothing), filled once at
     * open: building the vectors from the chars on every call cost a store-forwarding stall per
     * record (a byte spilled, then read back as a word), 14% of the reader's time. */
    unsigned char scan_set[4][16];

    /* Decoding. cd is (iconv_t)-1 in UTF-8 mode. */
    iconv_t cd;
    size_t unit; /* bytes skipped per rejected sequence: 1, or 2/4 for UTF-16/UTF-32 */
    char *inb;   /* iconv mode: raw bytes not yet decoded (carry + last read) */
    size_t inb_len, inb_cap;
    /* Single-byte charsets whose bytes decode independently (latin1, windows-125x...): the UTF-8
     * of each byte, taken from iconv at open (len 0 = rejected); NULL otherwise. */
    struct sb_entry {
        uint8_t len;
        char b[3];
    } * sbt;
    size_t *notes; /* iconv mode: ascending tb offsets of bytes the source encoding rejected */
    size_t nnotes, cap_notes, note_cur;

    /* Text. */
    char *tb;
    size_t tb_cap, end, pos;
    bool eof, bom_checked;
    bool raw_checked;      /* the first raw bytes were compared with the declared encoding */
    unsigned char head[4]; /* the first raw bytes, gathered until there are 4 or the file ends */
    size_t head_len;
    bool bom_refused; /* they contradicted it (csv_reader_refusal: check "encoding") */
    char enc[64];     /* the declared encoding, for that message */
    bool nul_seen; /* a NUL byte was decoded: from then on each record's fields are searched */
    uint64_t line;
    struct buf ub;

    /* The fast path's scan of the block where the last record ended (at its LF): the next record
     * starts inside that block, and the bits left in the masks are its own, so it resumes from
     * them instead of scanning its first bytes again (records shorter than a block would be
     * scanned about twice). Valid for the record starting at carry_pos while end is carry_end;
     * detach, which moves the text, drops it. */
    bool carry;
    size_t carry_blk, carry_pos, carry_end;
    uint64_t carry_mask, carry_high;

    /* Offsets of the current call, turned into pointers at its end. */
    size_t *roff;
    size_t cap_roff;

    size_t chunk;
    size_t max_record;
    struct err failed; /* a failure is sticky: later calls repeat it */
};

/* ---------------------------------------------------------------------------------------------
 * UTF-8 validation (RFC 3629 section 4: no overlongs, no surrogates, nothing above U+10FFFF).
 */

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path: eight bytes at a time while no high bit is set. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) {
                lo = 0xA0;
            } else if (c == 0xED) {
                hi = 0x9F;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return false;
        }
        if (n - i <= need) {
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += need + 1;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * Buffers.
 */

static int grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem) {
            return AE_NOMEM;
        }
        ncap *= 2;
    }
    void *q = realloc(*p, ncap * elem);
    if (q == NULL) {
        return AE_NOMEM;
    }
    *p = q;
    *cap = ncap;
    return 0;
}

/* The capacity a text buffer of cap bytes grows to for need: need, or half as much again as cap
 * when that is more (amortised growth for a long record), rounded up to 4 KiB. Not doubling: the
 * buffers go round between the reader and its blocks and only ever grow, so each settles at the
 * largest need it met; doubling would leave every one of them, in time, at the power of two above
 * that (the orders file at 2 threads: 36 MiB at 3M rows, against 31-32 MiB now). */
static size_t tb_grown(size_t cap, size_t need)
{
    size_t c = cap + cap / 2;
    if (c < need) {
        c = need;
    }
    return (c + 4095) & ~(size_t)4095;
}

/* Ensures tb has room for extra more bytes after end, plus the scanner's padding. */
static int tb_reserve(struct csv_reader *r, size_t extra)
{
    if (extra > SIZE_MAX / 4 || r->end > SIZE_MAX / 4) {
        return AE_NOMEM;
    }
    size_t need = r->end + extra + TB_PAD;
    if (need <= r->tb_cap) {
        return 0;
    }
    size_t ncap = tb_grown(r->tb_cap, need);
    char *q = realloc(r->tb, ncap);
    if (q == NULL) {
        return AE_NOMEM;
    }
    /* The padding is only ever read under a mask, but keep it initialised. */
    memset(q + r->tb_cap, 0, ncap - r->tb_cap);
    r->tb = q;
    r->tb_cap = ncap;
    return 0;
}

/* Makes sure the byte at tb[end] and the padding after it are defined after a write. */
static void tb_pad(struct csv_reader *r)
{
    memset(r->tb + r->end, 0, TB_PAD);
}

static int note_add(struct csv_reader *r, size_t off)
{
    if (grow_array((void **)&r->notes, &r->cap_notes, r->nnotes + 1, sizeof(size_t)) != 0) {
        return AE_NOMEM;
    }
    r->notes[r->nnotes++] = off;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Reading and decoding.
 */

static int read_some(struct csv_reader *r, char *dst, size_t want, size_t *got, struct err *e)
{
    return source_read(r->src, dst, want, got, e);
}

/* Writes the n source bytes at s, which the source encoding rejected, to tb and notes each one.
 * A rejected byte is written unchanged, so a report can show it, unless it is one of the CSV
 * special bytes (delimiter, quote, escape, CR, LF): those are written as 0xFF, a byte that never
 * occurs in UTF-8, so that a broken sequence cannot change the structure of the records. */
static int emit_rejected(struct csv_reader *r, const char *s, size_t n)
{
    if (tb_reserve(r, n) != 0) {
        return AE_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n' || c == '\r' || c == r->delim || (r->quote && c == r->quote) ||
            (r->escape && c == r->escape)) {
            c = (char)0xFF;
        }
        if (note_add(r, r->end) != 0) {
            return AE_NOMEM;
        }
        r->tb[r->end++] = c;
    }
    return 0;
}

/* iconv mode: decodes inb into tb. At end of file (final) an incomplete trailing sequence is
 * rejected; otherwise it stays in inb for the next read (iconv's EINVAL). */
static int decode(struct csv_reader *r, bool final, struct err *e)
{
    char *in = r->inb;
    size_t inleft = r->inb_len;
    while (inleft > 0) {
        /* Three UTF-8 bytes per source byte cover every single-byte charset and UTF-16; E2BIG
         * below handles anything else. */
        if (tb_reserve(r, inleft * 3 + 16) != 0) {
            return err_set(e, AE_NOMEM, "%s: out of memory decoding", r->name);
        }
        char *out = r->tb + r->end;
        size_t outleft = r->tb_cap - r->end - TB_PAD;
        size_t rc = iconv(r->cd, &in, &inleft, &out, &outleft);
        int saved = errno;
        r->end = (size_t)(out - r->tb);
        if (rc != (size_t)-1) {
            continue;
        }
        if (saved == E2BIG) {
            if (tb_reserve(r, r->tb_cap) != 0) {
                return err_set(e, AE_NOMEM, "%s: out of memory decoding", r->name);
            }
            continue;
        }
        if (saved == EINVAL && !final) {
            break; /* incomplete sequence at the end of this read: carried over */
        }
        if (saved == EILSEQ || saved == EINVAL) {
            size_t skip = r->unit < inleft ? r->unit : inleft;
            if (emit_rejected(r, in, skip) != 0) {
                return err_set(e, AE_NOMEM, "%s: out of memory decoding", r->name);
            }
            in += skip;
            inleft -= skip;
            continue;
        }
        return err_set(e, AE_INTERNAL, "%s: iconv failed: %s", r->name, strerror(saved));
    }
    if (final) {
        /* Flush any shift state of stateful encodings. */
        if (tb_reserve(r, 64) != 0) {
            return err_set(e, AE_NOMEM, "%s: out of memory decoding", r->name);
        }
        char *out = r->tb + r->end;
        size_t outleft = r->tb_cap - r->end - TB_PAD;
        (void)iconv(r->cd, NULL, NULL, &out, &outleft);
        r->end = (size_t)(out - r->tb);
    }
    memmove(r->inb, in, inleft);
    r->inb_len = inleft;
    tb_pad(r);
    return 0;
}

/* Table mode: decodes all of inb into tb. ASCII runs are copied eight bytes at a time. */
static int decode_table(struct csv_reader *r, struct err *e)
{
    const unsigned char *in = (const unsigned char *)r->inb;
    size_t n = r->inb_len, i = 0;
    if (tb_reserve(r, n * 3) != 0) {
        return err_set(e, AE_NOMEM, "%s: out of memory decoding", r->name);
    }
    char *t = r->tb;
    size_t o = r->end;
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, in + i, 8);
            if (w & 0x8080808080808080ull) {
                break;
            }
            memcpy(t + o, &w, 8);
            i += 8;
            o += 8;
        }
        if (i >= n) {
            break;
        }
        unsigned c = in[i++];
        if (c < 0x80) {
            t[o++] = (char)c;
            continue;
        }
        const struct sb_entry *x = &r->sbt[c];
        if (x->len == 0) {
            /* Rejected bytes are >= 0x80 here, never a CSV special byte: written unchanged. */
            if (note_add(r, o) != 0) {
                return err_set(e, AE_NOMEM, "%s: out of memory decoding", r->name);
            }
            t[o++] = (char)c;
            continue;
        }
        memcpy(t + o, x->b, x->len);
        o += x->len;
    }
    r->end = o;
    r->inb_len = 0;
    tb_pad(r);
    return 0;
}

/* The first raw bytes of the file (n of them, before any decoding) against the declared
 * encoding: a byte-order mark that contradicts it fails the file at once, naming the encoding to
 * declare, rather than decoding UTF-16 as single bytes (a garbage first column and a field-count
 * failure on every line). A UTF-16/32 BOM contradicts any encoding with 1-byte units (utf-8,
 * latin-1, windows-1252 ...), a UTF-32 BOM a UTF-16 one, a UTF-8 BOM any other single-byte
 * charset. UTF-32 LE is tested before UTF-16 LE, whose BOM it starts with. */
static int check_bom(struct csv_reader *r, const unsigned char *b, size_t n, struct err *e)
{
    const char *is = NULL;
    const char *set = NULL;
    if (n >= 4 && ((b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0) ||
                   (b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF))) {
        if (r->unit != 4) {
            is = b[0] == 0xFF ? "UTF-32 (it starts with a UTF-32 LE byte-order mark)"
                              : "UTF-32 (it starts with a UTF-32 BE byte-order mark)";
            set = "utf-32";
        }
    } else if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        if (r->unit == 1) {
            is = b[0] == 0xFF ? "UTF-16 (it starts with a UTF-16 LE byte-order mark)"
                              : "UTF-16 (it starts with a UTF-16 BE byte-order mark)";
            set = "utf-16";
        }
    } else if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        if (r->unit == 1 && r->cd != (iconv_t)-1) {
            is = "UTF-8 (it starts with a UTF-8 byte-order mark)";
            set = "utf-8";
        }
    }
    if (is == NULL) {
        return 0;
    }
    r->bom_refused = true;
    return err_set(e, AE_FORMAT, "%s: line 1: this file is %s, not %s: set encoding: %s", r->name,
                   is, r->enc, set);
}

/* Gathers the first raw bytes of the file (got of them at p; got 0 at the end of the file) and
 * checks them once there are 4, or the file ended: reads of any size decide alike. */
static int note_head(struct csv_reader *r, const char *p, size_t got, struct err *e)
{
    while (got > 0 && r->head_len < sizeof(r->head)) {
        r->head[r->head_len++] = (unsigned char)*p++;
        got--;
    }
    if (r->head_len < sizeof(r->head) && !r->eof) {
        return 0;
    }
    r->raw_checked = true;
    return check_bom(r, r->head, r->head_len, e);
}

/* Reads up to want more source bytes and appends their text to tb; sets eof at end of file. */
static int fill_text(struct csv_reader *r, size_t want, struct err *e)
{
    size_t got = 0;
    int rc;
    if (r->cd == (iconv_t)-1) {
        if (tb_reserve(r, want) != 0) {
            return err_set(e, AE_NOMEM, "%s: out of memory reading", r->name);
        }
        rc = read_some(r, r->tb + r->end, want, &got, e);
        if (rc != 0) {
            return rc;
        }
        r->eof = got == 0;
        if (!r->raw_checked && (rc = note_head(r, r->tb + r->end, got, e)) != 0) {
            return rc;
        }
        r->end += got;
        tb_pad(r);
        return 0;
    }
    if (r->inb_len > SIZE_MAX / 2 - want) {
        return err_set(e, AE_NOMEM, "%s: out of memory reading", r->name);
    }
    if (grow_array((void **)&r->inb, &r->inb_cap, r->inb_len + want, 1) != 0) {
        return err_set(e, AE_NOMEM, "%s: out of memory reading", r->name);
    }
    rc = read_some(r, r->inb + r->inb_len, want, &got, e);
    if (rc != 0) {
        return rc;
    }
    r->eof = got == 0;
    if (!r->raw_checked && (rc = note_head(r, r->inb + r->inb_len, got, e)) != 0) {
        return rc;
    }
    r->inb_len += got;
    return r->sbt ? decode_table(r, e) : decode(r, r->eof, e);
}

/* fill_text, and notes whether the new text holds a NUL byte: one memchr per read, so that the
 * fields of a file without any (nearly every file) are never searched one by one. */
static int fill(struct csv_reader *r, size_t want, struct err *e)
{
    size_t old = r->end;
    int rc = fill_text(r, want, e);
    if (rc == 0 && !r->nul_seen && r->end > old && memchr(r->tb + old, 0, r->end - old) != NULL) {
        r->nul_seen = true;
    }
    return rc;
}

/* Flags the fields from nf0 on that hold a NUL byte (REC_F_NUL); their offsets are into tb, or
 * into ub for F_IN_UB. */
static void flag_nul(const struct csv_reader *r, struct record_block *rows, size_t nf0)
{
    for (size_t i = nf0; i < rows->nfields; i++) {
        struct record_field *f = &rows->fields[i];
        const char *base = (f->flags & F_IN_UB) ? r->ub.data : r->tb;
        if (f->len > 0 && memchr(base + f->off, 0, f->len) != NULL) {
            f->flags |= REC_F_NUL;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Scanning.
 */

/* Bit i of *special is set when tb[blk+i] is the delimiter, LF, quote or escape; bit i of *high
 * when its high bit is set. Bits at or past end are clear. */
static inline void scan_block(const struct csv_reader *r, size_t blk, uint64_t *special,
                              uint64_t *high)
{
    const char *s = r->tb + blk;
    uint64_t m = 0, h = 0;
#ifdef __SSE2__
    const __m128i vd = _mm_loadu_si128((const __m128i *)(const void *)r->scan_set[0]);
    const __m128i vl = _mm_loadu_si128((const __m128i *)(const void *)r->scan_set[1]);
    const __m128i vq = _mm_loadu_si128((const __m128i *)(const void *)r->scan_set[2]);
    const __m128i ve = _mm_loadu_si128((const __m128i *)(const void *)r->scan_set[3]);
    for (unsigned i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
        __m128i t = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vl)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, ve)));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(t) << (16 * i);
        h |= (uint64_t)(uint32_t)_mm_movemask_epi8(v) << (16 * i);
    }
#else
    char q = r->quote ? r->quote : r->delim;
    char x = r->escape ? r->escape : r->delim;
    for (unsigned i = 0; i < 64; i++) {
        char c = s[i];
        m |= (uint64_t)(c == r->delim || c == '\n' || c == q || c == x) << i;
        h |= (uint64_t)((unsigned char)c >> 7) << i;
    }
#endif
    size_t left = r->end - blk;
    if (left < 64) {
        uint64_t keep = (UINT64_C(1) << left) - 1;
        m &= keep;
        h &= keep;
    }
    *special = m;
    *high = h;
}

static inline uint64_t bits_below(size_t n)
{
    return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}

/* Counts LFs in tb[a..b). */
static uint64_t count_lf(const char *s, size_t a, size_t b)
{
    uint64_t n = 0;
    const char *p = s + a, *stop = s + b;
    while (p < stop) {
        const char *q = memchr(p, '\n', (size_t)(stop - p));
        if (q == NULL) {
            break;
        }
        n++;
        p = q + 1;
    }
    return n;
}

/* First position in [a, end) holding c1 or c2, or end. */
static size_t find2(const char *s, size_t a, size_t end, char c1, char c2)
{
    if (c2 == '\0' || c2 == c1) {
        const char *q = memchr(s + a, c1, end - a);
        return q ? (size_t)(q - s) : end;
    }
    for (size_t i = a; i < end; i++) {
        if (s[i] == c1 || s[i] == c2) {
            return i;
        }
    }
    return end;
}

/* ---------------------------------------------------------------------------------------------
 * Records.
 */

/* Per-record parse state shared by the fast path and the slow paths. */
struct rec {
    size_t start;   /* tb offset of the record */
    size_t rec_end; /* end of the record text (before the line break) */
    size_t next;    /* where the next field or record starts */
    uint64_t lines; /* LFs consumed by this record */
    uint8_t flags;  /* REC_R_* */
};

static __attribute__((noinline, cold)) int fields_grow(struct record_block *rows)
{
    size_t n = rows->nfields;
    size_t cap = rows->cap_fields;
    if (n >= CSV_FIELDS_CAP) {
        /* A block starts its last record below REC_BLOCK_MAX_FIELDS, so this record has more
         * than CSV_MAX_RECORD_FIELDS: parse_record reports it (too_many_fields). */
        return AE_FORMAT;
    }
    if (grow_array((void **)&rows->fields, &cap, n + 1, sizeof(*rows->fields)) != 0) {
        return AE_NOMEM;
    }
    rows->cap_fields = cap;
    return 0;
}

static inline int field_push(struct record_block *rows, size_t off, size_t len, uint8_t flags)
{
    size_t n = rows->nfields;
    if (__builtin_expect(n >= rows->cap_fields, 0)) {
        if (fields_grow(rows) != 0) {
            return AE_NOMEM;
        }
    }
    rows->fields[n].len = (uint32_t)len;
    rows->fields[n].flags = flags;
    rows->fields[n].off = off;
    rows->nfields = n + 1;
    return 0;
}

/* iconv mode: true when a rejected byte lies in tb[a..b). Fields are checked in ascending order
 * within a record; note_cur is rewound when a record is parsed again. */
static bool notes_hit(struct csv_reader *r, size_t a, size_t b)
{
    while (r->note_cur < r->nnotes && r->notes[r->note_cur] < a) {
        r->note_cur++;
    }
    return r->note_cur < r->nnotes && r->notes[r->note_cur] < b;
}

/* Pushes a field whose value is tb[a..b) or ub[a..b) (in_ub) and whose source text is
 * tb[src_a..src_b), checking its encoding. */
static int field_finish(struct csv_reader *r, struct record_block *rows, size_t a, size_t b,
                        bool in_ub, uint8_t flags, size_t src_a, size_t src_b)
{
    const char *base = in_ub ? r->ub.data : r->tb;
    if (r->cd == (iconv_t)-1) {
        if (!utf8_valid((const unsigned char *)base + a, b - a)) {
            flags |= REC_F_BAD_ENCODING;
        }
    } else if (notes_hit(r, src_a, src_b)) {
        flags |= REC_F_BAD_ENCODING;
    }
    return field_push(rows, a, b - a, (uint8_t)(flags | (in_ub ? F_IN_UB : 0)));
}

/* Classifies what follows position p (just after a field): sets rc->next and rc->rec_end. CR
 * LF ends the record without the CR. Returns END_MORE when the answer needs more text. */
static enum end_kind after_field(struct csv_reader *r, struct rec *rc, size_t p)
{
    const char *s = r->tb;
    if (p >= r->end) {
        if (!r->eof) {
            return END_MORE;
        }
        rc->rec_end = p;
        rc->next = p;
        return END_EOF;
    }
    if (s[p] == r->delim) {
        rc->next = p + 1;
        return END_DELIM;
    }
    if (s[p] == '\n') {
        rc->rec_end = p;
        rc->next = p + 1;
        rc->lines++;
        return END_EOL;
    }
    /* Only reached for CR: callers stop on nothing else. */
    if (p + 1 >= r->end && !r->eof) {
        return END_MORE;
    }
    rc->rec_end = p;
    rc->next = p + 2;
    rc->lines++;
    return END_EOL;
}

/* Parses the quoted field opening at tb[fs]. Doubled quotes and escapes are unescaped into ub;
 * line breaks are kept byte for byte. Text between the closing quote and the next delimiter or
 * line break (`"ab"c,`) is appended to the value as it is, quotes included, and the field stays
 * REC_F_QUOTED: lenient but defined, the same as Python's csv module. A file ending inside the
 * quotes yields the text up to the end and REC_R_UNTERMINATED. */
static int parse_quoted(struct csv_reader *r, struct record_block *rows, struct rec *rc, size_t fs,
                        enum end_kind *kind)
{
    const char *s = r->tb;
    const size_t end = r->end;
    const char qc = r->quote, xc = r->escape;
    size_t q = fs + 1, seg = q;
    bool copy = false;
    size_t u0 = r->ub.len;

    for (;;) {
        size_t k = find2(s, q, end, qc, xc);
        if (k >= end) {
            if (!r->eof) {
                *kind = END_MORE;
                return 0;
            }
            rc->lines += count_lf(s, q, end);
            rc->flags |= REC_R_UNTERMINATED;
            if (copy && buf_append(&r->ub, s + seg, end - seg) != 0) {
                return AE_NOMEM;
            }
            rc->rec_end = end;
            rc->next = end;
            *kind = END_EOF;
            return copy ? field_finish(r, rows, u0, r->ub.len, true, REC_F_QUOTED, fs, end)
                        : field_finish(r, rows, fs + 1, end, false, REC_F_QUOTED, fs, end);
        }
        rc->lines += count_lf(s, q, k);
        if (k + 1 >= end && !r->eof) {
            *kind = END_MORE; /* an escape or quote needs to see its next byte */
            return 0;
        }
        if (s[k] == xc && s[k] != qc) {
            if (k + 1 >= end) {
                /* Escape as the very last byte inside quotes: kept, and unterminated. */
                q = k + 1;
                continue;
            }
            if (!copy) {
                copy = true;
            }
            if (buf_append(&r->ub, s + seg, k - seg) != 0) {
                return AE_NOMEM;
            }
            if (s[k + 1] == '\n') {
                rc->lines++;
            }
            seg = k + 1; /* the escaped byte starts the next literal segment */
            q = k + 2;
            continue;
        }
        if (k + 1 < end && s[k + 1] == qc) {
            copy = true;
            if (buf_append(&r->ub, s + seg, k + 1 - seg) != 0) {
                return AE_NOMEM;
            }
            seg = q = k + 2;
            continue;
        }
        /* Closing quote at k. */
        size_t p = k + 1;
        if (p < end && s[p] != r->delim && s[p] != '\n' &&
            !(s[p] == '\r' && (p + 1 < end ? s[p + 1] == '\n' : !r->eof))) {
            /* Text after the closing quote: scan to the next delimiter or LF. */
            size_t j = find2(s, p, end, r->delim, '\n');
            if (j >= end && !r->eof) {
                *kind = END_MORE;
                return 0;
            }
            size_t je = j;
            if (j < end && s[j] == '\n' && s[j - 1] == '\r' && j - 1 >= p) {
                je = j - 1;
            }
            if (buf_append(&r->ub, s + seg, k - seg) != 0 ||
                buf_append(&r->ub, s + p, je - p) != 0) {
                return AE_NOMEM;
            }
            rc->flags |= REC_R_LOOSE_QUOTE;
            *kind = after_field(r, rc, je);
            return field_finish(r, rows, u0, r->ub.len, true, REC_F_QUOTED, fs, je);
        }
        *kind = after_field(r, rc, p);
        if (*kind == END_MORE) {
            return 0;
        }
        if (copy) {
            if (buf_append(&r->ub, s + seg, k - seg) != 0) {
                return AE_NOMEM;
            }
            return field_finish(r, rows, u0, r->ub.len, true, REC_F_QUOTED, fs, p);
        }
        return field_finish(r, rows, fs + 1, k, false, REC_F_QUOTED, fs, p);
    }
}

/* Parses an unquoted field starting at fs that holds the escape byte at x: the byte after an
 * escape is taken literally (a delimiter, quote, CR or LF included). */
static int parse_escaped(struct csv_reader *r, struct record_block *rows, struct rec *rc, size_t fs,
                         size_t x, enum end_kind *kind)
{
    const char *s = r->tb;
    const size_t end = r->end;
    size_t u0 = r->ub.len;
    bool plain_cr = false; /* the last byte appended is an unescaped CR */
    if (buf_append(&r->ub, s + fs, x - fs) != 0) {
        return AE_NOMEM;
    }
    plain_cr = x > fs && s[x - 1] == '\r';
    size_t i = x;
    for (;;) {
        if (i >= end) {
            if (!r->eof) {
                *kind = END_MORE;
                return 0;
            }
            rc->rec_end = rc->next = end;
            *kind = END_EOF;
            break;
        }
        char c = s[i];
        if (c == r->escape) {
            if (i + 1 >= end) {
                if (!r->eof) {
                    *kind = END_MORE;
                    return 0;
                }
                if (buf_putc(&r->ub, c) != 0) {
                    return AE_NOMEM;
                }
                i++;
                continue;
            }
            if (s[i + 1] == '\n') {
                rc->lines++;
            }
            if (buf_putc(&r->ub, s[i + 1]) != 0) {
                return AE_NOMEM;
            }
            plain_cr = false;
            i += 2;
            continue;
        }
        if (c == r->delim) {
            rc->next = i + 1;
            *kind = END_DELIM;
            break;
        }
        if (c == '\n') {
            if (plain_cr) {
                r->ub.len--;
                rc->rec_end = i - 1;
            } else {
                rc->rec_end = i;
            }
            rc->next = i + 1;
            rc->lines++;
            *kind = END_EOL;
            break;
        }
        if (buf_putc(&r->ub, c) != 0) {
            return AE_NOMEM;
        }
        plain_cr = c == '\r';
        i++;
    }
    size_t src_end = *kind == END_DELIM ? rc->next - 1 : rc->rec_end;
    return field_finish(r, rows, u0, r->ub.len, true, 0, fs, src_end);
}

static int rows_reserve(struct csv_reader *r, struct record_block *rows, size_t nrows)
{
    if (nrows + 2 <= rows->cap_rows && nrows + 2 <= r->cap_roff) {
        return 0;
    }
    size_t cap = rows->cap_rows;
    size_t c2 = cap, c3 = cap, c4 = cap, c5 = cap;
    if (grow_array((void **)&rows->row_first, &cap, nrows + 2, sizeof(*rows->row_first)) != 0 ||
        grow_array((void **)&rows->line, &c2, cap, sizeof(*rows->line)) != 0 ||
        grow_array((void **)&rows->row_flags, &c3, cap, sizeof(*rows->row_flags)) != 0 ||
        grow_array((void **)&rows->raw, &c4, cap, sizeof(*rows->raw)) != 0 ||
        grow_array((void **)&rows->raw_len, &c5, cap, sizeof(*rows->raw_len)) != 0) {
        /* Arrays grown so far stay valid; a smaller cap_rows is still true for all of them. */
        return AE_NOMEM;
    }
    rows->cap_rows = cap;
    if (grow_array((void **)&r->roff, &r->cap_roff, cap, sizeof(size_t)) != 0) {
        return AE_NOMEM;
    }
    return 0;
}

static int record_too_long(struct csv_reader *r, struct err *e)
{
    return err_set(e, AE_FORMAT,
                   "%s: line %llu: a record is longer than %zu bytes; this is almost always an "
                   "unbalanced quote (check the quote character of this file)",
                   r->name, (unsigned long long)r->line, r->max_record);
}

/* Parses the record at pos into rows. Returns a rec_status or a negative AE_* code. On REC_MORE
 * nothing of the record is kept. */
static int parse_record(struct csv_reader *r, struct record_block *rows, struct err *e)
{
    const char *s = r->tb;
    const size_t end = r->end;
    size_t p = r->pos;

    if (!r->bom_checked) {
        /* Nothing is parsed before the first raw bytes are checked (note_head). */
        if ((end - p < 3 && !r->eof) || !r->raw_checked) {
            return REC_MORE;
        }
        if (end - p >= 3 && memcmp(s + p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            r->pos = p;
        }
        r->bom_checked = true;
    }
    if (p >= end) {
        return r->eof ? REC_EOF : REC_MORE;
    }
    /* A blank line: skipped, but counted. */
    if (s[p] == '\n') {
        r->pos = p + 1;
        r->line++;
        return REC_SKIP;
    }
    if (s[p] == '\r') {
        if (p + 1 >= end && !r->eof) {
            return REC_MORE;
        }
        if (p + 1 < end && s[p + 1] == '\n') {
            r->pos = p + 2;
            r->line++;
            return REC_SKIP;
        }
    }
    if (rows_reserve(r, rows, rows->nrows) != 0) {
        return err_set(e, AE_NOMEM, "%s: out of memory", r->name);
    }

    const size_t nf0 = rows->nfields, ub0 = r->ub.len, note0 = r->note_cur;
    struct rec rc = {.start = p};
    const bool utf8 = r->cd == (iconv_t)-1;
    /* Locals: the stores of field flags (uint8_t) may alias anything, so r->... would be reloaded.
     */
    const char delim = r->delim, quote = r->quote;
    size_t fs = p; /* start of the current field */
    size_t blk = p;
    uint64_t mask, high;
    size_t high_mark = 0; /* one past the last high byte of the blocks before blk */
    int err;
    enum end_kind kind;
    if (r->carry && r->carry_pos == p && r->carry_end == end) {
        /* The bits below p, already consumed, are clear in the mask; those of high below p
         * belong to the previous record and are outside every range tested below. */
        blk = r->carry_blk;
        mask = r->carry_mask;
        high = r->carry_high;
    } else {
        scan_block(r, blk, &mask, &high);
    }
    r->carry = false;

    for (;;) {
        while (mask == 0) {
            if (end - blk <= 64) {
                if (!r->eof) {
                    goto more;
                }
                /* The last record has no line break. */
                size_t fe = end;
                uint8_t fl = 0;
                if (utf8) {
                    uint64_t in = bits_below(fe - blk) & ~bits_below(fs > blk ? fs - blk : 0);
                    if ((high_mark > fs || (high & in)) &&
                        !utf8_valid((const unsigned char *)s + fs, fe - fs)) {
                        fl = REC_F_BAD_ENCODING;
                    }
                } else if (notes_hit(r, fs, fe)) {
                    fl = REC_F_BAD_ENCODING;
                }
                if (field_push(rows, fs, fe - fs, fl) != 0) {
                    goto nomem;
                }
                rc.rec_end = rc.next = end;
                goto done;
            }
            if (high) {
                high_mark = blk + 64 - (size_t)__builtin_clzll(high);
            }
            blk += 64;
            scan_block(r, blk, &mask, &high);
        }
        size_t at = blk + (size_t)__builtin_ctzll(mask);
        mask &= mask - 1;
        char c = s[at];
        if (c == delim || c == '\n') {
            size_t fe = at;
            if (c == '\n' && fe > fs && s[fe - 1] == '\r') {
                fe--;
            }
            uint8_t fl = 0;
            if (utf8) {
                uint64_t in =
                    bits_below(fe > blk ? fe - blk : 0) & ~bits_below(fs > blk ? fs - blk : 0);
                if ((high_mark > fs || (high & in)) &&
                    !utf8_valid((const unsigned char *)s + fs, fe - fs)) {
                    fl = REC_F_BAD_ENCODING;
                }
            } else if (notes_hit(r, fs, fe)) {
                fl = REC_F_BAD_ENCODING;
            }
            if (field_push(rows, fs, fe - fs, fl) != 0) {
                goto nomem;
            }
            if (c == '\n') {
                rc.rec_end = fe;
                rc.next = at + 1;
                rc.lines++;
                if (at + 1 < blk + 64) {
                    r->carry = true;
                    r->carry_blk = blk;
                    r->carry_pos = at + 1;
                    r->carry_end = end;
                    r->carry_mask = mask;
                    r->carry_high = high;
                }
                goto done;
            }
            fs = at + 1;
            continue;
        }
        if (c == quote && at != fs) {
            continue; /* a quote inside an unquoted field is an ordinary byte */
        }
        if (c == quote) {
            err = parse_quoted(r, rows, &rc, fs, &kind);
        } else {
            err = parse_escaped(r, rows, &rc, fs, at, &kind);
        }
        if (err != 0) {
            goto nomem;
        }
        if (kind == END_MORE) {
            goto more;
        }
        if (kind != END_DELIM) {
            goto done;
        }
        /* Resume the fast scan after the delimiter; the blocks before it are finished. */
        fs = rc.next;
        blk = fs;
        scan_block(r, blk, &mask, &high);
    }

done:
    if (rc.rec_end - rc.start > r->max_record) {
        return record_too_long(r, e);
    }
    if (__builtin_expect(r->nul_seen, 0)) {
        flag_nul(r, rows, nf0);
    }
    if (rc.lines > (rc.next > rc.rec_end ? 1u : 0u)) {
        /* More line breaks than the one that ends the record (a record at end of file has
         * none). */
        rc.flags |= REC_R_MULTILINE;
    }
    {
        size_t i = rows->nrows;
        rows->row_first[i] = (uint32_t)nf0;
        rows->row_first[i + 1] = (uint32_t)rows->nfields;
        rows->line[i] = r->line;
        rows->row_flags[i] = rc.flags;
        r->roff[i] = rc.start;
        rows->raw_len[i] = (uint32_t)(rc.rec_end - rc.start);
        rows->nrows = i + 1;
    }
    r->line += rc.lines;
    r->pos = rc.next;
    return REC_DONE;

more:
    rows->nfields = nf0;
    r->ub.len = ub0;
    r->note_cur = note0;
    return REC_MORE;

nomem:
    if (rows->nfields >= CSV_FIELDS_CAP) {
        return err_set(e, AE_FORMAT,
                       "%s: line %llu: a record has more than %zu fields, more than any header "
                       "astro accepts; this is not a table (check the delimiter of this file)",
                       r->name, (unsigned long long)r->line, (size_t)CSV_MAX_RECORD_FIELDS);
    }
    return err_set(e, AE_NOMEM, "%s: out of memory", r->name);
}

/* ---------------------------------------------------------------------------------------------
 * Public API.
 */

/* UTF-8 names, Python's spellings included (utf-8-sig: the BOM is dropped anyway). */
static bool is_utf8_name(const char *enc)
{
    static const char *const names[] = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig"};
    if (enc == NULL) {
        return true;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(enc, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Opens iconv for enc, also trying the spelling Python users write ("latin_1", "latin-1",
 * "utf_16") that glibc does not know under that name. */
static iconv_t open_iconv(const char *enc)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd != (iconv_t)-1) {
        return cd;
    }
    char alt[64];
    size_t n = strlen(enc);
    if (n >= sizeof(alt)) {
        return cd;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = enc[i] == '_' ? '-' : enc[i];
        /* "latin-1" -> "latin1" */
        if (c == '-' && j == 5 && strncasecmp(alt, "latin", 5) == 0) {
            continue;
        }
        alt[j++] = c;
    }
    alt[j] = '\0';
    return iconv_open("UTF-8", alt);
}

/* How many bytes one rejected unit of enc spans, so that skipping it keeps the alignment of
 * UTF-16 and UTF-32 text. */
static size_t unit_of(const char *enc)
{
    char up[64];
    size_t n = 0;
    for (const char *p = enc; *p && n + 1 < sizeof(up); p++) {
        if (*p != '-' && *p != '_') {
            up[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        }
    }
    up[n] = '\0';
    if (strstr(up, "UTF16") || strstr(up, "UCS2") || strstr(up, "UNICODE")) {
        return 2;
    }
    if (strstr(up, "UTF32") || strstr(up, "UCS4")) {
        return 4;
    }
    return 1;
}

/* Builds r->sbt when enc is a known single-byte, ASCII-compatible charset without combining
 * sequences (glibc composes in CP1255/CP1258/TCVN, so those stay on the iconv path). Each byte is
 * converted alone by the same iconv descriptor, so the table cannot disagree with iconv. Leaves
 * sbt NULL when anything is unexpected. */
static void build_table(struct csv_reader *r, const char *enc)
{
    static const char *const known[] = {"LATIN1",      "ISO88591",     "L1",          "ISO885915",
                                        "LATIN9",      "CP1252",       "WINDOWS1252", "CP1250",
                                        "WINDOWS1250", "CP1251",       "WINDOWS1251", "ASCII",
                                        "USASCII",     "ANSIX3.41968", "ISO88592",    "LATIN2"};
    char up[32];
    size_t n = 0;
    for (const char *p = enc; *p; p++) {
        if (*p == '-' || *p == '_') {
            continue;
        }
        if (n + 1 >= sizeof(up)) {
            return;
        }
        up[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    up[n] = '\0';
    bool ok = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        ok = ok || strcmp(up, known[i]) == 0;
    }
    if (!ok) {
        return;
    }
    struct sb_entry *t = calloc(256, sizeof(*t));
    if (t == NULL) {
        return; /* the iconv path still works */
    }
    for (unsigned b = 0; b < 256; b++) {
        char src = (char)b, dst[8];
        char *in = &src, *out = dst;
        size_t inleft = 1, outleft = sizeof(dst);
        (void)iconv(r->cd, NULL, NULL, NULL, NULL);
        size_t rc = iconv(r->cd, &in, &inleft, &out, &outleft);
        size_t len = sizeof(dst) - outleft;
        if (rc == (size_t)-1) {
            if (errno != EILSEQ) {
                goto give_up;
            }
            continue; /* rejected: len stays 0 */
        }
        if (len == 0 || len > 3 || (b < 0x80 && (len != 1 || dst[0] != src))) {
            goto give_up;
        }
        t[b].len = (uint8_t)len;
        memcpy(t[b].b, dst, len);
    }
    (void)iconv(r->cd, NULL, NULL, NULL, NULL);
    r->sbt = t;
    return;

give_up:
    (void)iconv(r->cd, NULL, NULL, NULL, NULL);
    free(t);
}

static bool bad_special(char c)
{
    return c == '\n' || c == '\r' || (unsigned char)c >= 0x80;
}

int csv_reader_open(struct csv_reader **out, struct source *src, const struct csv_options *o,
                    struct err *e)
{
    const char *name = source_name(src);
    struct csv_options def = {NULL, ',', '"', '\0'};
    if (o == NULL) {
        o = &def;
    }
    *out = NULL;
    char delim = o->delimiter ? o->delimiter : ',';
    char quote = o->quote;
    char escape = o->escape == o->quote ? '\0' : o->escape;
    if (bad_special(delim) || (quote && bad_special(quote)) || (escape && bad_special(escape)) ||
        delim == quote || delim == escape) {
        return err_set(e, AE_CONFIG,
                       "%s: the CSV delimiter, quote and escape must be distinct ASCII characters "
                       "other than CR and LF",
                       name);
    }
    struct csv_reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "%s: out of memory", name);
    }
    int rc = AE_NOMEM;
    r->src = src;
    r->cd = (iconv_t)-1;
    r->delim = delim;
    r->quote = quote;
    r->escape = escape;
    memset(r->scan_set[0], delim, 16);
    memset(r->scan_set[1], '\n', 16);
    memset(r->scan_set[2], quote ? quote : delim, 16);
    memset(r->scan_set[3], escape ? escape : delim, 16);
    r->line = 1;
    r->unit = 1;
    r->chunk = CSV_DEFAULT_CHUNK;
    r->max_record = CSV_MAX_RECORD_BYTES;
    buf_init(&r->ub, 0);
    r->name = strdup(name);
    if (r->name == NULL) {
        err_set(e, AE_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    snprintf(r->enc, sizeof(r->enc), "%s", o->encoding != NULL ? o->encoding : "utf-8");
    if (o->encoding != NULL && !is_utf8_name(o->encoding)) {
        /* iconv would take "" as the locale's charset: never what a pipeline file means. */
        r->cd = o->encoding[0] ? open_iconv(o->encoding) : (iconv_t)-1;
        if (r->cd == (iconv_t)-1) {
            rc = err_set(e, AE_CONFIG,
                         "%s: unknown encoding '%s' (use a name iconv knows, such as utf-8, "
                         "windows-1252, latin1 or utf-16; `iconv -l` lists them)",
                         name, o->encoding);
            goto fail;
        }
        r->unit = unit_of(o->encoding);
        build_table(r, o->encoding);
    }
    if (tb_reserve(r, 0) != 0) {
        err_set(e, AE_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    *out = r;
    return 0;

fail:
    csv_reader_free(r);
    return rc;
}

bool csv_reader_bom_refused(const struct csv_reader *r)
{
    return r->bom_refused;
}

void csv_reader_set_chunk_size(struct csv_reader *r, size_t n)
{
    r->chunk = n ? n : CSV_DEFAULT_CHUNK;
}

void csv_reader_set_max_record(struct csv_reader *r, size_t n)
{
    r->max_record = n && n < CSV_MAX_RECORD_BYTES ? n : CSV_MAX_RECORD_BYTES;
}

/* Drops the notes of tb[0..shift), which has gone: later offsets move down by shift. */
static void shift_notes(struct csv_reader *r, size_t shift)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nnotes; i++) {
        if (r->notes[i] >= shift) {
            r->notes[k++] = r->notes[i] - shift;
        }
    }
    r->nnotes = k;
    r->note_cur = 0;
}

/* Hands the text of this call's records (tb[0..pos) and ub) over to rows and continues in the
 * buffers rows held before: the read-ahead tb[pos..end), with the scanner's padding, is copied to
 * the front of the one taken back. */
static int detach(struct csv_reader *r, struct record_block *rows)
{
    size_t keep = r->end - r->pos;
    size_t need = keep + TB_PAD;
    char *nb = rows->text;
    size_t ncap = rows->text_cap;
    if (ncap < need) {
        size_t c = tb_grown(ncap, need);
        char *q = realloc(nb, c);
        if (q == NULL) {
            return AE_NOMEM;
        }
        memset(q + ncap, 0, c - ncap);
        nb = q;
        ncap = c;
        rows->text = nb; /* keep ownership straight if a later step failed */
        rows->text_cap = ncap;
    }
    memcpy(nb, r->tb + r->pos, need);
    rows->text = r->tb;
    rows->text_cap = r->tb_cap;
    r->tb = nb;
    r->tb_cap = ncap;
    shift_notes(r, r->pos);
    r->end = keep;
    r->pos = 0;
    r->carry = false;
    struct buf t = r->ub;
    r->ub = rows->utext;
    rows->utext = t;
    buf_reset(&r->ub);
    return 0;
}

int csv_reader_next(struct csv_reader *r, struct record_block *rows, size_t max_rows, struct err *e)
{
    rows->nrows = 0;
    rows->nfields = 0;
    if (r->failed.code != 0) {
        return input_failed(&r->failed, e);
    }
    if (max_rows == 0) {
        return err_set(e, AE_INTERNAL, "csv_reader_next: max_rows must be at least 1");
    }
    buf_reset(&r->ub);
    int rc = 0;
    /* A call never holds more fields than row_first can index, nor more than a block should
     * (records.h: a wide file gets fewer records per block). */
    while (rows->nrows < max_rows && rows->nfields < REC_BLOCK_MAX_FIELDS) {
        size_t nf0 = rows->nfields;
        rc = parse_record(r, rows, e);
        if (rc == AE_FORMAT && rows->nrows > 0) {
            /* The records before the one over the limit are returned; the next call fails. */
            rows->nfields = nf0;
            goto defer;
        }
        if (rc < 0) {
            goto fail;
        }
        if (rc == REC_EOF) {
            break;
        }
        if (rc == REC_MORE) {
            size_t pending = r->end - r->pos;
            if (pending > r->max_record + 1) {
                rc = record_too_long(r, e);
                if (rows->nrows > 0) {
                    goto defer;
                }
                goto fail;
            }
            size_t want = pending > r->chunk ? pending : r->chunk;
            rc = fill(r, want, e);
            if (rc == AE_FORMAT && rows->nrows > 0) {
                /* Corrupt compressed data (source.h): the complete records before it are
                 * returned, the next call fails. */
                goto defer;
            }
            if (rc < 0) {
                goto fail;
            }
        }
    }
done:
    /* Offsets become pointers now that tb and ub no longer move. */
    for (size_t i = 0; i < rows->nfields; i++) {
        struct record_field *f = &rows->fields[i];
        if (f->flags & F_IN_UB) {
            f->p = r->ub.data + f->off;
            f->flags &= (uint8_t)~F_IN_UB;
        } else {
            f->p = r->tb + f->off;
        }
    }
    for (size_t i = 0; i < rows->nrows; i++) {
        rows->raw[i] = r->tb + r->roff[i];
    }
    if (rows->nrows > 0 && detach(r, rows) != 0) {
        rc = err_set(e, AE_NOMEM, "%s: out of memory", r->name);
        goto fail;
    }
    return 0;

defer:
    /* A record over the size limit after complete ones: they are handed over, the failure is
     * kept for the next call. */
    if (e != NULL) {
        r->failed = *e;
        err_clear(e);
    } else {
        r->failed.code = rc;
    }
    rc = 0;
    goto done;
fail:
    return input_fail(&r->failed, rows, rc, false, e);
}

uint64_t csv_reader_line(const struct csv_reader *r)
{
    return r->line;
}

void csv_reader_free(struct csv_reader *r)
{
    if (r == NULL) {
        return;
    }
    if (r->cd != (iconv_t)-1) {
        iconv_close(r->cd);
    }
    free(r->name);
    free(r->inb);
    free(r->sbt);
    free(r->notes);
    free(r->tb);
    buf_release(&r->ub);
    free(r->roff);
    free(r);
}

/* ---------------------------------------------------------------------------------------------
 * The CSV reader as an input format (input/input.h).
 */

static int input_csv_open(void **impl, struct source *src, const struct ingest_spec *spec,
                          struct err *e)
{
    struct csv_options o = {spec->encoding, spec->delimiter, spec->quote, spec->escape};
    struct csv_reader *r = NULL;
    int rc = csv_reader_open(&r, src, &o, e);
    *impl = r;
    return rc;
}

static int input_csv_next(void *impl, struct record_block *b, size_t max_rows, struct err *e)
{
    return csv_reader_next(impl, b, max_rows, e);
}

static uint64_t input_csv_position(const void *impl)
{
    return csv_reader_line(impl);
}

static void input_csv_free(void *impl)
{
    csv_reader_free(impl);
}

static const char *input_csv_refusal(const void *impl)
{
    return csv_reader_bom_refused(impl) ? "encoding" : NULL;
}

const struct input_ops input_csv_ops = {
    .name = "csv",
    .refusal_check = "record_length",
    .refusal = input_csv_refusal,
    .open = input_csv_open,
    .next = input_csv_next,
    .position = input_csv_position,
    .free = input_csv_free,
};
