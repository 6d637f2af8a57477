/*
 * decode.c - RLE/bit-packed hybrid decoding, UTF-8 validation, big-endian decimals and page
 * decompression for the reader. Nothing here trusts a length: every run, group and stream is
 * checked against the bytes actually present.
 */
#include "parquet/decode.h"

#include "parquet/encode.h"

#include "parquet/dstream.h"

#include <string.h>
#include <zstd.h>

/* ------------------------------------------------------------------ RLE / bit-packed hybrid */

int pq_rle_init(struct pq_rle *r, const void *p, size_t n, int bw)
{
    memset(r, 0, sizeof(*r));
    r->p = (const uint8_t *)p;
    r->end = r->p + n;
    r->bw = bw;
    return bw >= 0 && bw <= 32 ? 0 : AE_FORMAT;
}

/* Reads the next run header. Encodings.md: header = ULEB128; low bit 1 = bit-packed run of
 * (header >> 1) groups of 8 values, each group bw bytes; low bit 0 = RLE run of (header >> 1)
 * repeats of one value stored in ceil(bw / 8) little-endian bytes. Empty runs are skipped. */
static int next_run(struct pq_rle *r)
{
    while (r->p < r->end) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (r->p >= r->end || shift > 35) {
                return AE_FORMAT;
            }
            uint8_t b = *r->p++;
            h |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (h & 1) {
            uint64_t groups = h >> 1;
            uint64_t avail = (uint64_t)(r->end - r->p);
            uint64_t nbytes = groups * (uint64_t)r->bw;
            uint64_t count = groups * 8;
            if (nbytes > avail) {
                /* A last run shorter than its header says: keep the whole values present
                 * (writers may drop the padding of the final group). */
                nbytes = avail;
                count = r->bw ? avail * 8 / (uint64_t)r->bw : count;
            }
            if (count == 0) {
                r->p += nbytes;
                continue;
            }
            r->packed = true;
            r->bits = r->p;
            r->bitpos = 0;
            r->left = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
            r->p += nbytes;
            return 0;
        }
        uint64_t count = h >> 1;
        size_t vb = (size_t)(r->bw + 7) / 8;
        if ((size_t)(r->end - r->p) < vb) {
            return AE_FORMAT;
        }
        uint32_t v = 0;
        for (size_t i = 0; i < vb; i++) {
            v |= (uint32_t)r->p[i] << (8 * i);
        }
        r->p += vb;
        if (r->bw < 32 && (v >> r->bw) != 0) {
            return AE_FORMAT; /* the value does not fit the bit width */
        }
        if (count == 0) {
            continue;
        }
        r->packed = false;
        r->value = v;
        r->left = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
        return 0;
    }
    return AE_FORMAT;
}

/* One bit-packed value (LSB first). The run's byte range was checked in next_run, and left
 * counts only values whose bits lie inside it. */
static inline uint32_t unpack_one(struct pq_rle *r)
{
    uint64_t pos = r->bitpos;
    r->bitpos += (uint64_t)r->bw;
    const uint8_t *q = r->bits + (pos >> 3);
    unsigned shift = (unsigned)(pos & 7);
    unsigned need = (shift + (unsigned)r->bw + 7) / 8;
    uint64_t w = 0;
    for (unsigned i = 0; i < need; i++) {
        w |= (uint64_t)q[i] << (8 * i);
    }
    uint64_t mask = r->bw == 32 ? 0xffffffffu : ((1u << r->bw) - 1u);
    return (uint32_t)((w >> shift) & mask);
}

int pq_rle_get(struct pq_rle *r, uint32_t *out, size_t n)
{
    while (n > 0) {
        if (r->left == 0 && next_run(r) != 0) {
            return AE_FORMAT;
        }
        size_t take = r->left < n ? r->left : n;
        if (!r->packed) {
            for (size_t i = 0; i < take; i++) {
                out[i] = r->value;
            }
        } else if (r->bw == 0) {
            memset(out, 0, take * sizeof(*out));
        } else {
            for (size_t i = 0; i < take; i++) {
                out[i] = unpack_one(r);
            }
        }
        out += take;
        n -= take;
        r->left -= (uint32_t)take;
    }
    return 0;
}

int pq_rle_get_u8(struct pq_rle *r, uint8_t *out, size_t n, size_t *ones)
{
    size_t k = 0;
    while (n > 0) {
        if (r->left == 0 && next_run(r) != 0) {
            return AE_FORMAT;
        }
        size_t take = r->left < n ? r->left : n;
        if (!r->packed) {
            if (r->value > 1) {
                return AE_FORMAT;
            }
            memset(out, (int)r->value, take);
            k += r->value ? take : 0;
        } else if (r->bw == 1) {
            for (size_t i = 0; i < take; i++) {
                uint64_t pos = r->bitpos++;
                uint8_t bit = (uint8_t)((r->bits[pos >> 3] >> (pos & 7)) & 1);
                out[i] = bit;
                k += bit;
            }
        } else {
            for (size_t i = 0; i < take; i++) {
                uint32_t v = r->bw ? unpack_one(r) : 0;
                if (v > 1) {
                    return AE_FORMAT;
                }
                out[i] = (uint8_t)v;
                k += v;
            }
        }
        out += take;
        n -= take;
        r->left -= (uint32_t)take;
    }
    *ones = k;
    return 0;
}

/* ------------------------------------------------------------------ DELTA_BINARY_PACKED */

static int uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *p = *pp;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) {
            return AE_FORMAT;
        }
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *pp = p;
            *out = v;
            return 0;
        }
    }
    return AE_FORMAT;
}

int pq_delta_init(struct pq_delta *d, const void *p, size_t n)
{
    memset(d, 0, sizeof(*d));
    d->p = (const uint8_t *)p;
    d->end = d->p + n;
    uint64_t block, nminis, total, first;
    if (uleb(&d->p, d->end, &block) != 0 || uleb(&d->p, d->end, &nminis) != 0 ||
        uleb(&d->p, d->end, &total) != 0 || uleb(&d->p, d->end, &first) != 0) {
        return AE_FORMAT;
    }
    /* Encodings.md: the block size is a multiple of 128 and the miniblock size of 32; here
     * only what the decoder relies on is required (whole bytes per miniblock). */
    if (block == 0 || nminis == 0 || nminis > block || block % nminis != 0 ||
        (block / nminis) % 8 != 0 || block > (1u << 24)) {
        return AE_FORMAT;
    }
    d->per_mini = block / nminis;
    d->nminis = (uint32_t)nminis;
    d->total = total;
    d->last = (first >> 1) ^ (0 - (first & 1)); /* zigzag */
    return 0;
}

static int delta_next_mini(struct pq_delta *d)
{
    if (d->widths == NULL || d->mini == d->nminis) {
        uint64_t zz;
        if (uleb(&d->p, d->end, &zz) != 0 || (size_t)(d->end - d->p) < d->nminis) {
            return AE_FORMAT;
        }
        d->min_delta = (zz >> 1) ^ (0 - (zz & 1));
        d->widths = d->p;
        d->p += d->nminis;
        d->mini = 0;
    }
    int bw = d->widths[d->mini++];
    if (bw > 64) {
        return AE_FORMAT;
    }
    /* Only the values still to come need bytes: a writer may end the stream inside the last
     * miniblock's padding. */
    uint64_t rem = d->total - d->done;
    uint64_t use = rem < d->per_mini ? rem : d->per_mini;
    uint64_t need = (use * (uint64_t)bw + 7) / 8;
    uint64_t full = d->per_mini * (uint64_t)bw / 8;
    uint64_t avail = (uint64_t)(d->end - d->p);
    if (need > avail) {
        return AE_FORMAT;
    }
    d->bw = bw;
    d->bits = d->p;
    d->bitpos = 0;
    d->p += full < avail ? full : avail;
    d->mini_left = use;
    return 0;
}

int pq_delta_get(struct pq_delta *d, int64_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (d->done >= d->total) {
            return AE_FORMAT;
        }
        if (d->done > 0) {
            if (d->mini_left == 0 && delta_next_mini(d) != 0) {
                return AE_FORMAT;
            }
            uint64_t v = 0;
            if (d->bw > 0) {
                /* bw bits LSB first at bitpos, inside the checked miniblock bytes. */
                uint64_t pos = d->bitpos;
                const uint8_t *q = d->bits + (pos >> 3);
                unsigned shift = (unsigned)(pos & 7);
                unsigned nb = (shift + (unsigned)d->bw + 7) / 8;
                unsigned __int128 w = 0;
                for (unsigned k = 0; k < nb; k++) {
                    w |= (unsigned __int128)q[k] << (8 * k);
                }
                v = (uint64_t)(w >> shift);
                if (d->bw < 64) {
                    v &= ((uint64_t)1 << d->bw) - 1;
                }
                d->bitpos += (uint64_t)d->bw;
            }
            d->mini_left--;
            d->last += d->min_delta + v; /* wrapping, as the spec says */
        }
        out[i] = (int64_t)d->last;
        d->done++;
    }
    return 0;
}

int pq_delta_skip(struct pq_delta *d)
{
    if (d->done == 0 && d->total > 0) {
        d->done = 1; /* the first value lives in the header */
    }
    d->done += d->mini_left;
    d->mini_left = 0;
    while (d->done < d->total) {
        if (delta_next_mini(d) != 0) {
            return AE_FORMAT;
        }
        d->done += d->mini_left;
        d->mini_left = 0;
    }
    return 0;
}

const uint8_t *pq_delta_end(const struct pq_delta *d)
{
    return d->p;
}

/* ------------------------------------------------------------------ UTF-8, decimals */

bool pq_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, eight bytes at a time. */
        while (i + 8 <= n && (pq_get_u64le(p + i) & 0x8080808080808080ull) == 0) {
            i += 8;
        }
        if (i >= n) {
            break;
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) {
                lo = 0xa0; /* overlong */
            } else if (c == 0xed) {
                hi = 0x9f; /* surrogates */
            }
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) {
                lo = 0x90;
            } else if (c == 0xf4) {
                hi = 0x8f; /* above U+10FFFF */
            }
        } else {
            return false;
        }
        if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

__int128 pq_get_i128be(const uint8_t *p, size_t n)
{
    if (n == 0) {
        return 0;
    }
    /* Sign-extend from the first byte, then shift the rest in (unsigned to avoid UB). */
    unsigned __int128 v = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return (__int128)v;
}

/* ------------------------------------------------------------------ decompression */

/* parquet.thrift CompressionCodec. */
enum { CODEC_NONE = 0, CODEC_SNAPPY = 1, CODEC_GZIP = 2, CODEC_ZSTD = 6, CODEC_LZ4_RAW = 7 };

const char *pq_codec_name(int codec)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    if (codec >= 0 && codec < (int)(sizeof(names) / sizeof(names[0]))) {
        return names[codec];
    }
    return "unknown";
}

bool pq_codec_supported(int codec)
{
    return codec == CODEC_NONE || codec == CODEC_SNAPPY || codec == CODEC_GZIP ||
           codec == CODEC_ZSTD || codec == CODEC_LZ4_RAW;
}

void pq_decompressor_init(struct pq_decompressor *d)
{
    memset(d, 0, sizeof(*d));
}

void pq_decompressor_release(struct pq_decompressor *d)
{
    if (d->zstd != NULL) {
        ZSTD_freeDCtx(d->zstd);
        d->zstd = NULL;
    }
    if (d->z_ready) {
        inflateEnd(&d->z);
        d->z_ready = false;
    }
}

int pq_decompressor_gzip(struct pq_decompressor *d, struct err *e)
{
    if (!d->z_ready) {
        memset(&d->z, 0, sizeof(d->z));
        if (inflateInit2(&d->z, 32 + 15) != Z_OK) {
            return err_set(e, AE_NOMEM, "cannot initialise zlib");
        }
        d->z_ready = true;
    } else if (inflateReset(&d->z) != Z_OK) {
        return err_set(e, AE_INTERNAL, "zlib inflateReset failed");
    }
    return 0;
}

int pq_decompressor_zstd(struct pq_decompressor *d, struct err *e)
{
    if (d->zstd == NULL) {
        d->zstd = ZSTD_createDCtx();
        if (d->zstd == NULL) {
            return err_set(e, AE_NOMEM, "out of memory creating a zstd context");
        }
    }
    return 0;
}

/* Compression.md: GZIP pages are RFC 1952; some writers put several members in one page
 * (parquet-testing concatenated_gzip_members.parquet), so inflate restarts after each member
 * until the input is used up. windowBits 32 + 15 also accepts a zlib header. */
static int gunzip(struct pq_decompressor *d, const uint8_t *src, size_t n, uint8_t *dst,
                  size_t expect, struct err *e)
{
    if (n > UINT32_MAX || expect > UINT32_MAX) {
        return err_set(e, AE_FORMAT, "gzip page too large");
    }
    int irc = pq_decompressor_gzip(d, e);
    if (irc != 0) {
        return irc;
    }
    /* inflate never writes through next_out when avail_out is 0, but it needs a valid pointer. */
    uint8_t dummy = 0;
    d->z.next_in = (Bytef *)(uintptr_t)src;
    d->z.avail_in = (uInt)n;
    d->z.next_out = expect ? (Bytef *)dst : &dummy;
    d->z.avail_out = (uInt)expect;
    for (;;) {
        int rc = inflate(&d->z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            if (d->z.avail_in == 0) {
                break;
            }
            if (inflateReset(&d->z) != Z_OK) {
                return err_set(e, AE_INTERNAL, "zlib inflateReset failed");
            }
            continue;
        }
        if (rc == Z_OK && d->z.avail_in > 0 && d->z.avail_out > 0) {
            continue;
        }
        if (rc == Z_BUF_ERROR && d->z.avail_out == 0) {
            return err_set(e, AE_FORMAT, "gzip page is larger than its header says (%zu bytes)",
                           expect);
        }
        return err_set(e, AE_FORMAT, "corrupt gzip page (zlib %d%s%s)", rc, d->z.msg ? ": " : "",
                       d->z.msg ? d->z.msg : "");
    }
    if (d->z.avail_out != 0) {
        return err_set(e, AE_FORMAT, "gzip page is %zu bytes, its header says %zu",
                       expect - d->z.avail_out, expect);
    }
    return 0;
}

/* LZ4 block format (lz4/doc/lz4_Block_format.md), which LZ4_RAW pages hold with no framing:
 * sequences of token, literal length extension, literals, 2-byte offset, match length
 * extension. Every copy is checked against both buffers. */
static int lz4_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t expect, struct err *e)
{
    size_t ip = 0, op = 0;
    for (;;) {
        if (ip >= n) {
            goto corrupt;
        }
        uint8_t token = src[ip++];
        size_t lit = token >> 4;
        if (lit == 15) {
            uint8_t b;
            do {
                if (ip >= n) {
                    goto corrupt;
                }
                b = src[ip++];
                lit += b;
            } while (b == 255 && lit < SIZE_MAX / 2);
        }
        if (lit > n - ip || lit > expect - op) {
            goto corrupt;
        }
        memcpy(dst + op, src + ip, lit);
        ip += lit;
        op += lit;
        if (ip == n) {
            break; /* the last sequence has literals only */
        }
        if (n - ip < 2) {
            goto corrupt;
        }
        size_t off = (size_t)src[ip] | ((size_t)src[ip + 1] << 8);
        ip += 2;
        if (off == 0 || off > op) {
            goto corrupt;
        }
        size_t mlen = (size_t)(token & 15);
        if (mlen == 15) {
            uint8_t b;
            do {
                if (ip >= n) {
                    goto corrupt;
                }
                b = src[ip++];
                mlen += b;
            } while (b == 255 && mlen < SIZE_MAX / 2);
        }
        mlen += 4;
        if (mlen > expect - op) {
            goto corrupt;
        }
        /* Byte by byte: the match may overlap its own output. */
        for (size_t i = 0; i < mlen; i++) {
            dst[op + i] = dst[op - off + i];
        }
        op += mlen;
    }
    if (op != expect) {
        return err_set(e, AE_FORMAT, "LZ4_RAW page is %zu bytes, its header says %zu", op, expect);
    }
    return 0;
corrupt:
    return err_set(e, AE_FORMAT, "corrupt LZ4_RAW page");
}

int pq_decompress(struct pq_decompressor *d, int codec, const void *src, size_t n, size_t expect,
                  struct buf *dst, struct err *e)
{
    buf_reset(dst);
    if (!pq_codec_supported(codec)) {
        return err_set(e, AE_FORMAT, "compression codec %s is not supported", pq_codec_name(codec));
    }
    /* Before allocating what the header claims, refuse sizes the codec cannot reach: deflate
     * expands at most 1032:1 (zlib's technical details), an LZ4 sequence at most ~255:1, and
     * snappy stores the exact length up front. */
    struct pq_snappy sn; /* CODEC_SNAPPY: astro's own decoder (dstream.c), on the whole page */
    size_t sn_used = 0;
    if ((codec == CODEC_GZIP && expect / 1032 > n + 64) ||
        (codec == CODEC_LZ4_RAW && expect / 255 > n + 16)) {
        return err_set(e, AE_FORMAT,
                       "a %s page of %zu bytes cannot hold the %zu bytes its "
                       "header says",
                       pq_codec_name(codec), n, expect);
    }
    if (codec == CODEC_SNAPPY) {
        /* The length the stream declares: its preamble, read with no room for output yet (the
         * decoding goes on from there below). */
        pq_snappy_init(&sn);
        uint8_t none[1];
        size_t op = 0;
        if (pq_snappy_decode(&sn, src, n, &sn_used, none, &op, 0) != 0 ||
            !pq_snappy_has_total(&sn)) {
            return err_set(e, AE_FORMAT, "corrupt snappy page");
        }
        if (sn.total != expect) {
            return err_set(e, AE_FORMAT, "snappy page is %llu bytes, its header says %zu",
                           (unsigned long long)sn.total, expect);
        }
    }
    if (buf_reserve(dst, expect) != 0) {
        return err_set(e, AE_NOMEM, "out of memory for a page of %zu bytes", expect);
    }
    uint8_t *out = (uint8_t *)dst->data;
    int rc = 0;
    switch (codec) {
    case CODEC_NONE:
        if (n != expect) {
            return err_set(e, AE_FORMAT, "uncompressed page is %zu bytes but its header says %zu",
                           n, expect);
        }
        if (n > 0) {
            memcpy(out, src, n);
        }
        break;
    case CODEC_SNAPPY: {
        /* The whole page's output is at hand, so every copy finds what it reads. */
        size_t used = 0, op = 0;
        if (pq_snappy_decode(&sn, (const uint8_t *)src + sn_used, n - sn_used, &used, out, &op,
                             expect) != 0 ||
            sn_used + used != n || op != expect || !pq_snappy_done(&sn)) {
            return err_set(e, AE_FORMAT, "corrupt snappy page");
        }
        break;
    }
    case CODEC_GZIP: rc = gunzip(d, src, n, out, expect, e); break;
    case CODEC_ZSTD: {
        rc = pq_decompressor_zstd(d, e);
        if (rc != 0) {
            return rc;
        }
        /* ZSTD_decompressDCtx reads every frame of the page and fails if they exceed expect. */
        size_t r = ZSTD_decompressDCtx(d->zstd, out, expect, src, n);
        if (ZSTD_isError(r)) {
            return err_set(e, AE_FORMAT, "corrupt zstd page: %s", ZSTD_getErrorName(r));
        }
        if (r != expect) {
            return err_set(e, AE_FORMAT, "zstd page is %zu bytes, its header says %zu", r, expect);
        }
        break;
    }
    case CODEC_LZ4_RAW: rc = lz4_raw(src, n, out, expect, e); break;
    default: break;
    }
    if (rc != 0) {
        return rc;
    }
    dst->len = expect;
    dst->data[expect] = '\0';
    return 0;
}
