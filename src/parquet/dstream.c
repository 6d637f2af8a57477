/*
 * dstream.c - streaming page decompression (dstream.h): a raw snappy decoder of our own, and
 * zstd, zlib and plain copies driven a piece at a time. Every codec writes at most the page's
 * declared size into the caller's buffer; bytes beyond it go to a one-byte scratch and are
 * reported as an error, so a page that inflates past its header is caught without a write past
 * the buffer.
 */
#include "parquet/dstream.h"
#include "parquet/pq.h"

#include <limits.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

/* ------------------------------------------------------------------ raw snappy */

enum { SN_LEN, SN_TAG, SN_LIT, SN_COPY };

void pq_snappy_init(struct pq_snappy *s)
{
    memset(s, 0, sizeof(*s));
    s->state = SN_LEN;
}

bool pq_snappy_has_total(const struct pq_snappy *s)
{
    return s->state != SN_LEN;
}

bool pq_snappy_done(const struct pq_snappy *s)
{
    return s->state == SN_TAG && s->tag_have == 0 && s->produced == s->total;
}

/* The bytes that follow a tag byte (format_description.txt §2.1, §2.2.1-3): a literal of more
 * than 60 bytes stores len - 1 in 1..4 bytes (tag values 60..63); copies store their offset in
 * 1, 2 or 4 bytes. */
static size_t tag_extra(uint8_t t)
{
    switch (t & 3) {
    case 0: return (t >> 2) < 60 ? 0 : (size_t)(t >> 2) - 59;
    case 1: return 1;
    case 2: return 2;
    default: return 4;
    }
}

/* Starts the element whose tag and extra bytes are t[0..1 + tag_extra(t[0])). */
static int sn_begin(struct pq_snappy *s, const uint8_t *t)
{
    uint8_t b = t[0];
    uint64_t len, off = 0;
    switch (b & 3) {
    case 0:
        if ((b >> 2) < 60) {
            len = (uint64_t)(b >> 2) + 1;
        } else {
            len = 0;
            for (size_t k = 0; k < (size_t)(b >> 2) - 59; k++) {
                len |= (uint64_t)t[1 + k] << (8 * k);
            }
            len += 1;
        }
        break;
    case 1: /* length 4..11 in bits 2..4, offset bits 8..10 in bits 5..7 */
        len = 4 + (uint64_t)((b >> 2) & 7);
        off = ((uint64_t)(b >> 5) << 8) | t[1];
        break;
    case 2:
        len = (uint64_t)(b >> 2) + 1;
        off = (uint64_t)t[1] | (uint64_t)t[2] << 8;
        break;
    default:
        len = (uint64_t)(b >> 2) + 1;
        off = (uint64_t)t[1] | (uint64_t)t[2] << 8 | (uint64_t)t[3] << 16 | (uint64_t)t[4] << 24;
        break;
    }
    if (len > s->total - s->produced) {
        return AE_FORMAT; /* past the declared length */
    }
    if ((b & 3) != 0) {
        /* §2.2: an offset of 0, or one before the start of the output, is not allowed. */
        if (off == 0 || off > s->produced) {
            return AE_FORMAT;
        }
        s->offset = off;
        s->state = SN_COPY;
    } else {
        s->state = SN_LIT;
    }
    s->left = len;
    return 0;
}

/* Copies k bytes from offset bytes back in front of d: the ranges overlap when offset < k, and
 * then the copy repeats the last offset bytes (§2.2: "a form of run-length encoding"). */
static void sn_copy(uint8_t *d, size_t offset, size_t k)
{
    const uint8_t *src = d - offset;
    if (offset >= k) {
        memcpy(d, src, k);
        return;
    }
    size_t i = 0;
    if (offset >= 8) {
        /* Each 8-byte piece reads bytes written before it. */
        for (; i + 8 <= k; i += 8) {
            memcpy(d + i, src + i, 8);
        }
    }
    for (; i < k; i++) {
        d[i] = src[i];
    }
}

/* The common case, kept out of the state machine: whole short elements at hand (a literal of at
 * most 60 bytes, a copy of at most 64) and room for 64 bytes more plus slack, so that each is
 * copied in whole 8- or 64-byte moves that may run past its end inside the buffers. Stops
 * before anything else (a long literal, a copy the history cannot serve, the buffers' ends),
 * which the state machine then handles. */
static int sn_fast(struct pq_snappy *s, const uint8_t *in, size_t n, size_t *ipp, uint8_t *out,
                   size_t *opp, size_t cap)
{
    size_t ip = *ipp, o = *opp;
    uint64_t produced = s->produced;
    int rc = 0;
    while (n - ip >= 69 && cap - o >= 80 && s->total - produced >= 80) {
        uint8_t t = in[ip];
        size_t len, off, tlen;
        switch (t & 3) {
        case 0:
            if (t >= (60 << 2)) {
                goto out;
            }
            len = (size_t)(t >> 2) + 1;
            memcpy(out + o, in + ip + 1, 64); /* n - ip >= 69 and cap - o >= 80 */
            ip += 1 + len;
            o += len;
            produced += len;
            continue;
        case 1:
            len = 4 + (size_t)((t >> 2) & 7);
            off = ((size_t)(t >> 5) << 8) | in[ip + 1];
            tlen = 2;
            break;
        case 2:
            len = (size_t)(t >> 2) + 1;
            off = (size_t)in[ip + 1] | (size_t)in[ip + 2] << 8;
            tlen = 3;
            break;
        default:
            len = (size_t)(t >> 2) + 1;
            off = (size_t)in[ip + 1] | (size_t)in[ip + 2] << 8 | (size_t)in[ip + 3] << 16 |
                  (size_t)in[ip + 4] << 24;
            tlen = 5;
            break;
        }
        if (off == 0 || off > produced) {
            rc = AE_FORMAT;
            goto out;
        }
        if (off > o) {
            goto out; /* beyond the history: the state machine reports it */
        }
        ip += tlen;
        uint8_t *d = out + o;
        const uint8_t *src = d - off;
        if (off >= 8) {
            /* Each 8-byte move reads bytes written before it; it may write up to 7 bytes past
             * len, inside the room checked above. */
            for (size_t i = 0; i < len; i += 8) {
                memcpy(d + i, src + i, 8);
            }
        } else {
            for (size_t i = 0; i < len; i++) {
                d[i] = src[i];
            }
        }
        o += len;
        produced += len;
    }
out:
    s->produced = produced;
    *ipp = ip;
    *opp = o;
    return rc;
}

static size_t min3(uint64_t a, size_t b, size_t c)
{
    size_t m = b < c ? b : c;
    return a < m ? (size_t)a : m;
}

int pq_snappy_decode(struct pq_snappy *s, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                     size_t *op, size_t cap)
{
    size_t ip = 0, o = *op;
    int rc = 0;
    for (;;) {
        if (s->state == SN_LEN) {
            /* §1: a little-endian varint of at most 32 bits (5 bytes). */
            while (ip < n) {
                uint8_t b = in[ip++];
                if (s->len_shift == 28 && (b & 0xf0) != 0) {
                    rc = AE_FORMAT;
                    goto out;
                }
                s->total |= (uint64_t)(b & 0x7f) << s->len_shift;
                s->len_shift += 7;
                if ((b & 0x80) == 0) {
                    s->state = SN_TAG;
                    break;
                }
            }
            if (s->state == SN_LEN) {
                goto out;
            }
            continue;
        }
        if (s->state == SN_TAG) {
            if (ip >= n) {
                goto out;
            }
            if (s->produced == s->total) {
                rc = AE_FORMAT; /* data after the declared length */
                goto out;
            }
            if (s->tag_have == 0 && n - ip >= 69 && cap - o >= 80) {
                rc = sn_fast(s, in, n, &ip, out, &o, cap);
                if (rc != 0 || ip >= n) {
                    goto out;
                }
                if (s->produced == s->total) {
                    rc = AE_FORMAT; /* data after the declared length */
                    goto out;
                }
            }
            const uint8_t *t;
            if (s->tag_have == 0) {
                size_t need = 1 + tag_extra(in[ip]);
                if (n - ip < need) {
                    memcpy(s->tag, in + ip, n - ip);
                    s->tag_have = (uint8_t)(n - ip);
                    s->tag_need = (uint8_t)need;
                    ip = n;
                    goto out;
                }
                t = in + ip;
                ip += need;
            } else {
                size_t k = (size_t)(s->tag_need - s->tag_have);
                if (k > n - ip) {
                    k = n - ip;
                }
                memcpy(s->tag + s->tag_have, in + ip, k);
                s->tag_have = (uint8_t)(s->tag_have + k);
                ip += k;
                if (s->tag_have < s->tag_need) {
                    goto out;
                }
                s->tag_have = 0;
                t = s->tag;
            }
            rc = sn_begin(s, t);
            if (rc != 0) {
                goto out;
            }
            continue;
        }
        size_t k;
        if (s->state == SN_LIT) {
            k = min3(s->left, n - ip, cap - o);
            if (k == 0) {
                goto out;
            }
            memcpy(out + o, in + ip, k);
            ip += k;
        } else {
            if (s->offset > o) {
                rc = PQ_STREAM_FAR; /* the rest of the copy is not written */
                goto out;
            }
            k = min3(s->left, cap - o, SIZE_MAX);
            if (k == 0) {
                goto out;
            }
            sn_copy(out + o, (size_t)s->offset, k);
        }
        o += k;
        s->left -= k;
        s->produced += k;
        if (s->left == 0) {
            s->state = SN_TAG;
        }
    }
out:
    *used = ip;
    *op = o;
    return rc;
}

/* ------------------------------------------------------------------ zstd frame header */

size_t pq_zstd_window(const uint8_t *p, size_t n)
{
    /* Magic_Number 0xFD2FB528, Frame_Header_Descriptor, [Window_Descriptor], [Dictionary_ID],
     * [Frame_Content_Size]. */
    if (n < 5 || p[0] != 0x28 || p[1] != 0xb5 || p[2] != 0x2f || p[3] != 0xfd) {
        return SIZE_MAX;
    }
    uint8_t fhd = p[4];
    int fcs_flag = fhd >> 6;
    bool single = (fhd >> 5) & 1;
    static const size_t did_len[] = {0, 1, 2, 4};
    static const size_t fcs_len[] = {0, 2, 4, 8};
    size_t at = 5, wsize = 0;
    if (!single) {
        if (at >= n) {
            return SIZE_MAX;
        }
        uint8_t wd = p[at++];
        unsigned wlog = 10u + (wd >> 3);
        if (wlog > 41) {
            return SIZE_MAX;
        }
        uint64_t base = (uint64_t)1 << wlog;
        uint64_t w = base + (base / 8) * (wd & 7);
        wsize = w > SIZE_MAX ? SIZE_MAX : (size_t)w;
    }
    at += did_len[fhd & 3];
    size_t fl = fcs_flag == 0 && single ? 1 : fcs_len[fcs_flag];
    if (fl == 0) {
        return single ? SIZE_MAX : wsize;
    }
    if (at + fl > n) {
        return SIZE_MAX;
    }
    uint64_t fcs = 0;
    for (size_t k = 0; k < fl; k++) {
        fcs |= (uint64_t)p[at + k] << (8 * k);
    }
    if (fl == 2) {
        fcs += 256;
    }
    if (single || fcs < wsize) {
        return fcs > SIZE_MAX ? SIZE_MAX : (size_t)fcs;
    }
    return wsize;
}

/* ------------------------------------------------------------------ page streams */


void pq_dstream_init(struct pq_dstream *d)
{
    memset(d, 0, sizeof(*d));
    pq_decompressor_init(&d->ctx);
}

bool pq_dstream_codec(int codec)
{
    return codec == PQ_CODEC_NONE || codec == PQ_CODEC_SNAPPY || codec == PQ_CODEC_GZIP ||
           codec == PQ_CODEC_ZSTD;
}

void pq_dstream_release(struct pq_dstream *d)
{
    pq_decompressor_release(&d->ctx);
}

int pq_dstream_start(struct pq_dstream *d, int codec, size_t total, struct err *e)
{
    if (!pq_dstream_codec(codec)) {
        return err_set(e, AE_INTERNAL, "codec %d cannot be streamed", codec);
    }
    d->codec = codec;
    d->total = total;
    d->produced = 0;
    d->zret = 0;
    d->z_end = false;
    pq_snappy_init(&d->sn);
    if (codec == PQ_CODEC_ZSTD) {
        int rc = pq_decompressor_zstd(&d->ctx, e);
        if (rc != 0) {
            return rc;
        }
        ZSTD_DCtx_reset(d->ctx.zstd, ZSTD_reset_session_only);
        /* A frame's window is the memory its streaming costs. A writer compressing the page in
         * one call gets a window of at most the page's size rounded up to a power of two (zstd
         * fits it to the known input size); one more than twice that (a hostile header may ask
         * for 128 MiB) is refused here and the page is decompressed whole instead
         * (PQ_STREAM_FAR), which needs no window. */
        int wlog = 10;
        while (wlog < 26 && ((size_t)1 << wlog) < total) {
            wlog++;
        }
        size_t zr = ZSTD_DCtx_setParameter(d->ctx.zstd, ZSTD_d_windowLogMax, wlog + 1);
        if (ZSTD_isError(zr)) {
            return err_set(e, AE_INTERNAL, "zstd: %s", ZSTD_getErrorName(zr));
        }
    } else if (codec == PQ_CODEC_GZIP) {
        return pq_decompressor_gzip(&d->ctx, e);
    }
    return 0;
}

static int too_large(const struct pq_dstream *d, const char *codec, struct err *e)
{
    return err_set(e, AE_FORMAT, "%s page is larger than its header says (%zu bytes)", codec,
                   d->total);
}

/* Compression.md: a GZIP page may hold several members (parquet-testing
 * concatenated_gzip_members.parquet): inflate restarts after each one while input follows. The
 * output goes to out[0..room), or to a one-byte scratch once the page is complete. */
static int gz_step(struct pq_dstream *d, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                   size_t room, size_t *wrote, struct err *e)
{
    uint8_t scratch = 0;
    size_t ip = 0, o = 0;
    for (;;) {
        if (d->z_end) {
            if (ip == n) {
                break;
            }
            if (inflateReset(&d->ctx.z) != Z_OK) {
                return err_set(e, AE_INTERNAL, "zlib inflateReset failed");
            }
            d->z_end = false;
        }
        bool over = o == room;
        size_t ain = n - ip > UINT_MAX ? UINT_MAX : n - ip;
        size_t aout = over ? 1 : (room - o > UINT_MAX ? UINT_MAX : room - o);
        d->ctx.z.next_in = (Bytef *)(uintptr_t)(in + ip);
        d->ctx.z.avail_in = (uInt)ain;
        d->ctx.z.next_out = over ? &scratch : out + o;
        d->ctx.z.avail_out = (uInt)aout;
        int rc = inflate(&d->ctx.z, Z_NO_FLUSH);
        size_t got = aout - d->ctx.z.avail_out;
        ip += ain - d->ctx.z.avail_in;
        if (over && got > 0) {
            return too_large(d, "gzip", e);
        }
        o += got;
        if (rc == Z_STREAM_END) {
            d->z_end = true;
            continue;
        }
        if (rc == Z_BUF_ERROR) {
            break; /* no progress possible without more input or room */
        }
        if (rc != Z_OK) {
            return err_set(e, AE_FORMAT, "corrupt gzip page (zlib %d%s%s)", rc,
                           d->ctx.z.msg ? ": " : "", d->ctx.z.msg ? d->ctx.z.msg : "");
        }
        if (ip == n || (!over && o == room)) {
            break;
        }
    }
    *used = ip;
    *wrote = o;
    return 0;
}

static int zstd_step(struct pq_dstream *d, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                     size_t room, size_t *wrote, struct err *e)
{
    uint8_t scratch = 0;
    ZSTD_inBuffer ib = {in, n, 0};
    size_t o = 0;
    for (;;) {
        bool over = o == room;
        ZSTD_outBuffer ob = {over ? &scratch : out + o, over ? 1 : room - o, 0};
        size_t before = ib.pos;
        size_t r = ZSTD_decompressStream(d->ctx.zstd, &ob, &ib);
        if (ZSTD_isError(r) && ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
            *used = ib.pos;
            *wrote = o;
            return PQ_STREAM_FAR;
        }
        if (ZSTD_isError(r)) {
            return err_set(e, AE_FORMAT, "corrupt zstd page: %s", ZSTD_getErrorName(r));
        }
        if (over && ob.pos > 0) {
            return too_large(d, "zstd", e);
        }
        o += ob.pos;
        if (r == 0 || ob.pos > 0 || ib.pos > before) {
            /* A call that does nothing after a frame ended returns the next frame's header
             * size: the frame still ended. */
            d->zret = r;
        }
        /* zstd's contract: with its input used up and room left, it flushed all it could. */
        if ((ob.pos == 0 && ib.pos == before) || (!over && o == room) ||
            (ib.pos == ib.size && ob.pos < ob.size)) {
            break;
        }
    }
    *used = ib.pos;
    *wrote = o;
    return 0;
}

int pq_dstream_step(struct pq_dstream *d, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                    size_t *op, size_t cap, struct err *e)
{
    *used = 0;
    size_t o = *op;
    size_t room = cap - o;
    if (room > d->total - d->produced) {
        room = d->total - d->produced;
    }
    size_t wrote = 0;
    int rc = 0;
    switch (d->codec) {
    case PQ_CODEC_NONE:
        if (n > d->total - d->produced) {
            return err_set(e, AE_FORMAT, "uncompressed page is larger than its header says (%zu)",
                           d->total);
        }
        wrote = n < room ? n : room;
        if (wrote > 0) {
            memcpy(out + o, in, wrote);
        }
        *used = wrote;
        break;
    case PQ_CODEC_SNAPPY: {
        size_t o2 = o;
        rc = pq_snappy_decode(&d->sn, in, n, used, out, &o2, o + room);
        wrote = o2 - o;
        if (rc == AE_FORMAT) {
            return err_set(e, AE_FORMAT, "corrupt snappy page");
        }
        if (pq_snappy_has_total(&d->sn) && d->sn.total != d->total) {
            return err_set(e, AE_FORMAT, "snappy page is %llu bytes, its header says %zu",
                           (unsigned long long)d->sn.total, d->total);
        }
        break;
    }
    case PQ_CODEC_GZIP: rc = gz_step(d, in, n, used, out + o, room, &wrote, e); break;
    case PQ_CODEC_ZSTD: rc = zstd_step(d, in, n, used, out + o, room, &wrote, e); break;
    default: return err_set(e, AE_INTERNAL, "codec %d cannot be streamed", d->codec);
    }
    d->produced += wrote;
    *op = o + wrote;
    return rc;
}

int pq_dstream_end(struct pq_dstream *d, struct err *e)
{
    static const uint8_t none[1] = {0};
    uint8_t sink[1];
    size_t used = 0, op = 0;
    /* Let zstd and zlib finish what their last input began (a frame epilogue, a gzip trailer),
     * with no room for output. */
    int rc = 0;
    if (d->codec == PQ_CODEC_GZIP || d->codec == PQ_CODEC_ZSTD) {
        rc = pq_dstream_step(d, none, 0, &used, sink, &op, 0, e);
    }
    if (rc == 0 && d->produced != d->total) {
        rc = err_set(e, AE_FORMAT, "the page ends after %zu of the %zu bytes its header says",
                     d->produced, d->total);
    }
    if (rc == 0) {
        bool done =
            d->codec == PQ_CODEC_NONE || (d->codec == PQ_CODEC_SNAPPY && pq_snappy_done(&d->sn)) ||
            (d->codec == PQ_CODEC_GZIP && d->z_end) || (d->codec == PQ_CODEC_ZSTD && d->zret == 0);
        if (!done) {
            rc = err_set(e, AE_FORMAT, "the page's compressed data is truncated");
        }
    }
    pq_dstream_release(d);
    return rc;
}
