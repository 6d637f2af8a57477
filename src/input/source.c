/*
 * source.c - delivered bytes with their running sha256 and count (source.h).
 */
#include "input/source.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct source {
    int fd;
    char *name;
    uint64_t nbytes;
    EVP_MD_CTX *md;
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

int source_read(struct source *s, void *dst, size_t want, size_t *got, struct err *e)
{
    ssize_t n;
    *got = 0;
    do {
        n = read(s->fd, dst, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return err_errno(e, errno, "%s: read", s->name);
    }
    if (n > 0 && EVP_DigestUpdate(s->md, dst, (size_t)n) != 1) {
        return err_set(e, AE_INTERNAL, "%s: sha256 update failed", s->name);
    }
    s->nbytes += (uint64_t)n;
    *got = (size_t)n;
    return 0;
}

uint64_t source_bytes(const struct source *s)
{
    return s->nbytes;
}

void source_sha256(const struct source *s, unsigned char out[32])
{
    memset(out, 0, 32);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL) {
        return;
    }
    /* Finish a copy, so the running hash can still be updated and asked again. */
    unsigned int n = 0;
    if (EVP_MD_CTX_copy_ex(c, s->md) == 1) {
        (void)EVP_DigestFinal_ex(c, out, &n);
    }
    EVP_MD_CTX_free(c);
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
    EVP_MD_CTX_free(s->md);
    free(s->name);
    free(s);
}
