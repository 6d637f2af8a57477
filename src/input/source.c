/*
 * source.c - delivered bytes with their running sha256 and count, decompressed on the way out
 * when the file is compressed (source.h).
 *
 * Invariants: every byte read from the descriptor is hashed and counted at once, whatever happens
 * to it later. The first read decides the codec (dcodec_sniff on the first bytes); until then,
 * and for a plain file, the bytes of rb[rpos..rlen) are handed out as they are. A decoding error
 * is sticky: every later read repeats it.
 */
#include "input/source.h"

#include "input/decompress.h"

#include <errno.h>
#include <stdio.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Raw reads of a compressed file (the decoder's output goes straight to the reader's buffer). */
#define SOURCE_RAW_CHUNK ((size_t)256 << 10)
/* Enough bytes to recognise every codec's magic (bzip2 needs 10). */
#define SOURCE_SNIFF 16

struct source {
    int fd;
    char *name;
    uint64_t nbytes;
    EVP_MD_CTX *md;
    EVP_MD_CTX *md5;             /* NULL unless source_add_md5 asked for it */
    bool nohash;                 /* source_skip_hash: bytes are counted, not hashed */
    bool started;                /* the codec is decided */
    const struct dcodec_ops *dc; /* NULL: plain */
    void *dst;                   /* the decoder's state */
    uint8_t *rb;                 /* raw bytes read but not yet handed on */
    size_t rlen, rpos, rcap;
    bool raw_eof;
    bool done; /* the decoder reached the end of its last member */
    bool decode_failed;
    struct err failed; /* sticky decoding error */
};

int source_open(struct source **out, int fd, const char *name, struct err *e)
{
    *out = NULL;
    struct source *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    s->fd = fd;
    s->name = strdup(name != NULL ? name : "(input)");
    s->md = EVP_MD_CTX_new();
    if (s->name == NULL || s->md == NULL) {
        source_free(s);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
        source_free(s);
        return err_set(e, AE_INTERNAL, "%s: cannot start sha256", name);
    }
    *out = s;
    return 0;
}

/* One read() of the delivered file, hashed and counted. */
static int raw_read(struct source *s, void *dst, size_t want, size_t *got, struct err *e)
{
    ssize_t n;
    *got = 0;
    do {
        n = read(s->fd, dst, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return err_errno(e, errno, "%s: read", s->name);
    }
    if (n > 0 && !s->nohash && EVP_DigestUpdate(s->md, dst, (size_t)n) != 1) {
        return err_set(e, AE_INTERNAL, "%s: sha256 update failed", s->name);
    }
    if (n > 0 && !s->nohash && s->md5 != NULL && EVP_DigestUpdate(s->md5, dst, (size_t)n) != 1) {
        return err_set(e, AE_INTERNAL, "%s: md5 update failed", s->name);
    }
    s->nbytes += (uint64_t)n;
    *got = (size_t)n;
    return 0;
}

/* Refills rb with up to cap raw bytes (rb is empty: rpos == rlen). */
static int raw_fill(struct source *s, size_t cap, struct err *e)
{
    if (s->rcap < cap) {
        uint8_t *nb = realloc(s->rb, cap);
        if (nb == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        s->rb = nb;
        s->rcap = cap;
    }
    s->rpos = 0;
    s->rlen = 0;
    size_t got = 0;
    int rc = raw_read(s, s->rb, cap, &got, e);
    if (rc != 0) {
        return rc;
    }
    s->rlen = got;
    s->raw_eof = got == 0;
    return 0;
}

static int decode_fail(struct source *s, struct err *e, const char *msg)
{
    s->decode_failed = true;
    err_set(&s->failed, AE_FORMAT, "%s: %s", s->name, msg);
    if (e != NULL) {
        *e = s->failed;
    }
    return AE_FORMAT;
}

/* The first read: gathers the first bytes (a pipe may deliver them one by one), then decides the
 * codec by the magic bytes. A name promising compression with other bytes inside is refused. */
static int start(struct source *s, struct err *e)
{
    int rc = raw_fill(s, SOURCE_RAW_CHUNK, e);
    while (rc == 0 && !s->raw_eof && s->rlen < SOURCE_SNIFF) {
        size_t got = 0;
        rc = raw_read(s, s->rb + s->rlen, s->rcap - s->rlen, &got, e);
        s->rlen += got;
        s->raw_eof = got == 0;
    }
    if (rc != 0) {
        return rc;
    }
    s->started = true;
    enum dcodec c = dcodec_sniff(s->rb, s->rlen);
    enum dcodec named = dcodec_by_name(s->name);
    if (c == DCODEC_NONE && named != DCODEC_NONE) {
        const char *cn = dcodec_ops_for(named)->name;
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "the name says %s but the file does not start with %s's magic bytes%s", cn, cn,
                 s->rlen == 0 ? " (the file is empty)" : "");
        return decode_fail(s, e, msg);
    }
    s->dc = dcodec_ops_for(c);
    if (s->dc != NULL && (s->dst = s->dc->init()) == NULL) {
        return err_set(e, AE_NOMEM, "%s: out of memory starting the %s decoder", s->name,
                       s->dc->name);
    }
    return 0;
}

int source_read(struct source *s, void *dst, size_t want, size_t *got, struct err *e)
{
    *got = 0;
    if (s->failed.code != 0) {
        if (e != NULL) {
            *e = s->failed;
        }
        return s->failed.code;
    }
    if (!s->started) {
        int rc = start(s, e);
        if (rc != 0) {
            return rc;
        }
    }
    if (s->dc == NULL) {
        if (s->rpos < s->rlen) {
            size_t n = s->rlen - s->rpos < want ? s->rlen - s->rpos : want;
            memcpy(dst, s->rb + s->rpos, n);
            s->rpos += n;
            *got = n;
            if (s->rpos == s->rlen) {
                free(s->rb); /* a plain file needs no raw buffer after its first bytes */
                s->rb = NULL;
                s->rcap = s->rlen = s->rpos = 0;
            }
            return 0;
        }
        if (s->raw_eof) {
            return 0;
        }
        return raw_read(s, dst, want, got, e);
    }
    while (!s->done) {
        if (s->rpos == s->rlen && !s->raw_eof) {
            int rc = raw_fill(s, SOURCE_RAW_CHUNK, e);
            if (rc != 0) {
                return rc;
            }
        }
        size_t in_len = s->rlen - s->rpos;
        size_t out_len = want;
        char why[256] = "";
        int st = s->dc->step(s->dst, s->rb + s->rpos, &in_len, dst, &out_len, s->raw_eof, why,
                             sizeof(why));
        s->rpos = s->rlen - in_len;
        if (st == DC_ERROR) {
            char msg[400];
            snprintf(msg, sizeof(msg), "%s (at compressed byte %llu)", why,
                     (unsigned long long)(s->nbytes - in_len));
            return decode_fail(s, e, msg);
        }
        if (out_len < want) {
            *got = want - out_len;
            return 0;
        }
        if (st == DC_END) {
            s->done = true;
        }
    }
    return 0;
}

bool source_decode_failed(const struct source *s)
{
    return s->decode_failed;
}

const char *source_codec(const struct source *s)
{
    return s->dc != NULL ? s->dc->name : NULL;
}

uint64_t source_bytes(const struct source *s)
{
    return s->nbytes;
}

/* Finishes a copy of the running digest md into out, so it can still be updated and asked
 * again; out is zeroed when that fails. */
static void digest_now(const EVP_MD_CTX *md, unsigned char *out, size_t n)
{
    memset(out, 0, n);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL) {
        return;
    }
    unsigned int len = 0;
    if (EVP_MD_CTX_copy_ex(c, md) == 1) {
        (void)EVP_DigestFinal_ex(c, out, &len);
    }
    EVP_MD_CTX_free(c);
}

void source_sha256(const struct source *s, unsigned char out[32])
{
    digest_now(s->md, out, 32);
}

void source_skip_hash(struct source *s)
{
    s->nohash = true;
}

int source_add_md5(struct source *s, struct err *e)
{
    if (s->nbytes > 0 || s->started) {
        return err_set(e, AE_INTERNAL, "%s: md5 asked for after the first read", s->name);
    }
    if (s->md5 != NULL) {
        return 0;
    }
    s->md5 = EVP_MD_CTX_new();
    if (s->md5 == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    if (EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(s->md5);
        s->md5 = NULL;
        return err_set(e, AE_INTERNAL, "%s: cannot start md5", s->name);
    }
    return 0;
}

bool source_md5(const struct source *s, unsigned char out[16])
{
    if (s->md5 == NULL) {
        memset(out, 0, 16);
        return false;
    }
    digest_now(s->md5, out, 16);
    return true;
}

const char *source_name(const struct source *s)
{
    return s->name;
}

void source_free(struct source *s)
{
    if (s == NULL) {
        return;
    }
    if (s->dc != NULL && s->dst != NULL) {
        s->dc->free(s->dst);
    }
    free(s->rb);
    EVP_MD_CTX_free(s->md);
    EVP_MD_CTX_free(s->md5);
    free(s->name);
    free(s);
}

int source_fd(const struct source *s)
{
    return s->fd;
}
