/*
 * checksum.c - reading checksum side files (checksum.h). Only the side file's text is parsed
 * here; the digests of the data file are computed by its source while it is read
 * (input/source.h) and compared by the engine.
 */
#include "ingest/checksum.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECKSUM_MAX_TEXT ((size_t)64 << 10)

const char *checksum_algo_name(enum checksum_algo a)
{
    switch (a) {
    case CHECKSUM_MD5: return "md5";
    case CHECKSUM_SHA256: return "sha256";
    }
    return "md5";
}

/* The side-file suffix of each algorithm. */
static const struct {
    const char *ext;
    enum checksum_algo algo;
} exts[] = {{".md5", CHECKSUM_MD5}, {".sha256", CHECKSUM_SHA256}};

static size_t hex_len(enum checksum_algo a)
{
    return a == CHECKSUM_MD5 ? 32 : 64;
}

bool checksum_side_name(const char *name, enum checksum_algo *algo, size_t *base_len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t k = strlen(exts[i].ext);
        if (n > k && strcmp(name + n - k, exts[i].ext) == 0) {
            *algo = exts[i].algo;
            *base_len = n - k;
            return true;
        }
    }
    return false;
}

static bool is_hex_run(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

/* The name of a listed file without its folders ("./x/orders.csv" -> "orders.csv"). */
static bool same_name(const char *listed, size_t n, const char *data_name)
{
    const char *slash = memrchr(listed, '/', n);
    if (slash != NULL) {
        n -= (size_t)(slash + 1 - listed);
        listed = slash + 1;
    }
    return strlen(data_name) == n && memcmp(listed, data_name, n) == 0;
}

/* One line: the digest at *hex (len bytes of hex, unchecked length) and the name it lists (NULL
 * when none). False when the line is not a checksum line at all. */
static bool parse_line(const char *p, size_t n, enum checksum_algo algo, const char **hex,
                       size_t *hlen, const char **name, size_t *nlen)
{
    const char *tag = algo == CHECKSUM_MD5 ? "MD5 (" : "SHA256 (";
    size_t tl = strlen(tag);
    *name = NULL;
    *nlen = 0;
    if (n > tl && memcmp(p, tag, tl) == 0) {
        /* --tag form: "MD5 (NAME) = HEX"; the name may hold ") = " itself, so take the last. */
        const char *eq = NULL;
        for (size_t i = tl; i + 4 <= n; i++) {
            if (memcmp(p + i, ") = ", 4) == 0) {
                eq = p + i;
            }
        }
        if (eq == NULL) {
            return false;
        }
        *name = p + tl;
        *nlen = (size_t)(eq - *name);
        *hex = eq + 4;
        *hlen = (size_t)(p + n - *hex);
        return true;
    }
    size_t i = 0;
    while (i < n && p[i] != ' ' && p[i] != '\t') {
        i++;
    }
    *hex = p;
    *hlen = i;
    if (i == 0 || !is_hex_run(p, i)) {
        return false;
    }
    if (i < n) {
        /* "HEX  NAME" (text mode) or "HEX *NAME" (binary mode), as md5sum prints them. */
        size_t k = i + 1;
        if (k < n && (p[k] == ' ' || p[k] == '*')) {
            k++;
        }
        *name = p + k;
        *nlen = n - k;
    }
    return true;
}

int checksum_read(const char *path, const char *file_name, const char *data_name,
                  enum checksum_algo algo, struct checksum *c, struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->algo = algo;
    snprintf(c->file, sizeof(c->file), "%s", file_name);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return err_errno(e, errno, "cannot open the checksum file %s", path);
    }
    char *text = NULL;
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = err_errno(e, errno, "cannot stat the checksum file %s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CHECKSUM_MAX_TEXT) {
        snprintf(c->problem, sizeof(c->problem),
                 "%s is not a checksum file (%s): expected one line as %ssum prints it", file_name,
                 S_ISREG(st.st_mode) ? "over 64 KiB" : "not a regular file",
                 checksum_algo_name(algo));
        goto out;
    }
    text = malloc((size_t)st.st_size + 1);
    if (text == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t got = read(fd, text + len, (size_t)st.st_size - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            rc = err_errno(e, errno, "cannot read the checksum file %s", path);
            goto out;
        }
        if (got == 0) {
            break;
        }
        len += (size_t)got;
    }
    const char *only = NULL; /* the digest of the one checksum line, when there is one */
    size_t only_len = 0;
    size_t lines = 0;
    const char *chosen = NULL;
    size_t chosen_len = 0;
    for (size_t pos = 0; pos < len && chosen == NULL;) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - p) : len - pos;
        pos += n + 1;
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) {
            n--;
        }
        if (n == 0 || p[0] == '#') {
            continue;
        }
        const char *hex = NULL;
        const char *name = NULL;
        size_t hlen = 0;
        size_t nlen = 0;
        if (!parse_line(p, n, algo, &hex, &hlen, &name, &nlen)) {
            continue;
        }
        lines++;
        only = hex;
        only_len = hlen;
        if (name != NULL && same_name(name, nlen, data_name)) {
            chosen = hex;
            chosen_len = hlen;
        }
    }
    if (chosen == NULL && lines == 1) {
        chosen = only;
        chosen_len = only_len;
    }
    if (chosen == NULL && lines == 0) {
        snprintf(c->problem, sizeof(c->problem),
                 "%s holds no %s checksum line for %s (expected 'HEX  %s' as %ssum prints it)",
                 file_name, checksum_algo_name(algo), data_name, data_name,
                 checksum_algo_name(algo));
        goto out;
    }
    if (chosen == NULL) {
        snprintf(c->problem, sizeof(c->problem),
                 "%s lists %zu checksums but none for %s (expected a line 'HEX  %s')", file_name,
                 lines, data_name, data_name);
        goto out;
    }
    if (chosen_len != hex_len(algo) || !is_hex_run(chosen, chosen_len)) {
        snprintf(c->problem, sizeof(c->problem),
                 "%s: '%.*s' is not a %s digest (%zu hexadecimal digits)", file_name,
                 (int)(chosen_len < 80 ? chosen_len : 80), chosen, checksum_algo_name(algo),
                 hex_len(algo));
        goto out;
    }
    for (size_t i = 0; i < chosen_len; i++) {
        char ch = chosen[i];
        c->hex[i] = (char)(ch >= 'A' && ch <= 'F' ? ch + 32 : ch);
    }
    c->hex[chosen_len] = '\0';
out:
    free(text);
    close(fd);
    return rc;
}

int checksum_find(const char *path, struct checksum out[2], size_t *n, struct err *e)
{
    *n = 0;
    const char *slash = strrchr(path, '/');
    const char *data_name = slash != NULL ? slash + 1 : path;
    for (size_t k = 0; k < sizeof(exts) / sizeof(exts[0]); k++) {
        size_t len = strlen(path) + strlen(exts[k].ext) + 1;
        char *side = malloc(len);
        if (side == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        snprintf(side, len, "%s%s", path, exts[k].ext);
        struct stat st;
        int rc = 0;
        if (lstat(side, &st) == 0 && S_ISREG(st.st_mode)) {
            const char *leaf = strrchr(side, '/');
            rc = checksum_read(side, leaf != NULL ? leaf + 1 : side, data_name, exts[k].algo,
                               &out[*n], e);
            if (rc == 0) {
                (*n)++;
            }
        }
        free(side);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}
