/*
 * fs.c - durable output files, directories, small reads, time and randomness.
 */
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fs_mkdirs(const char *dir, struct err *e)
{
    char *p = strdup(dir);
    if (p == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                rc = err_errno(e, errno, "cannot create directory %s", p);
                break;
            }
            *s = c;
            if (c == '\0') {
                break;
            }
        }
    }
    if (rc == 0) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = err_set(e, AE_IO, "%s exists and is not a directory", dir);
        }
    }
    free(p);
    return rc;
}

int fs_fsync_dir(const char *dir, struct err *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return err_errno(e, errno, "cannot open directory %s", dir);
    }
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL) {
        rc = err_errno(e, errno, "cannot fsync directory %s", dir);
    }
    close(fd);
    return rc;
}

int fs_write_all(int fd, const void *p, size_t n, const char *what, struct err *e)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return err_errno(e, errno, "cannot write %s", what);
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_read_at(int fd, void *p, size_t n, uint64_t off, const char *what, struct err *e)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = pread(fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return err_errno(e, errno, "cannot read %s", what);
        }
        if (r == 0) {
            return err_set(e, AE_IO, "cannot read %s: the file ends early", what);
        }
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int fs_tmp_unlinked(const char *dir, const char *prefix, int *fd, struct err *e)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%sXXXXXX", dir, prefix);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return err_set(e, AE_IO, "folder name too long: %s", dir);
    }
    *fd = mkostemp(path, O_CLOEXEC);
    if (*fd < 0) {
        return err_errno(e, errno, "cannot create a scratch file in %s", dir);
    }
    (void)unlink(path);
    return 0;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        return NULL;
    }
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

int atomic_file_open(struct atomic_file *f, const char *path, struct err *e)
{
    f->fd = -1;
    f->tmp_path = NULL;
    f->final_path = strdup(path);
    char *copy = strdup(path);
    char *dir = dir_of(path);
    int rc = 0;
    if (f->final_path == NULL || copy == NULL || dir == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    unsigned char rnd[6];
    char hex[13];
    rc = fs_random(rnd, sizeof(rnd), e);
    if (rc != 0) {
        goto out;
    }
    fs_hex(rnd, sizeof(rnd), hex);
    const char *base = basename(copy);
    size_t n = strlen(dir) + strlen(base) + sizeof(hex) + 16;
    f->tmp_path = malloc(n);
    if (f->tmp_path == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    snprintf(f->tmp_path, n, "%s/.%s.%s.tmp", dir, base, hex);
    f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        rc = err_errno(e, errno, "cannot create %s", f->tmp_path);
    }
out:
    free(copy);
    free(dir);
    if (rc != 0) {
        free(f->tmp_path);
        free(f->final_path);
        f->tmp_path = NULL;
        f->final_path = NULL;
    }
    return rc;
}

bool fs_is_atomic_tmp(const char *name)
{
    static const char tail[] = ".tmp";
    size_t n = strlen(name);
    const size_t nhex = 12;
    /* "." + at least one character + "." + 12 hex digits + ".tmp" */
    if (n < 1 + 1 + 1 + nhex + 4 || name[0] != '.' || strcmp(name + n - 4, tail) != 0) {
        return false;
    }
    const char *hex = name + n - 4 - nhex;
    if (hex[-1] != '.') {
        return false;
    }
    for (size_t i = 0; i < nhex; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

int fs_remove_atomic_tmps(const char *dir, size_t *removed, struct err *e)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT ? 0 : err_errno(e, errno, "cannot read %s", dir);
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!fs_is_atomic_tmp(de->d_name)) {
            continue;
        }
        if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
            (*removed)++;
        } else if (errno != ENOENT) {
            rc = err_errno(e, errno, "cannot remove %s/%s", dir, de->d_name);
        }
    }
    closedir(d);
    return rc;
}

int atomic_file_commit(struct atomic_file *f, struct err *e)
{
    int rc = 0;
    char *dir = NULL;
    if (fsync(f->fd) != 0) {
        rc = err_errno(e, errno, "cannot fsync %s", f->tmp_path);
        goto fail;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        rc = err_errno(e, errno, "cannot close %s", f->tmp_path);
        goto fail;
    }
    f->fd = -1;
    if (rename(f->tmp_path, f->final_path) != 0) {
        rc = err_errno(e, errno, "cannot rename %s to %s", f->tmp_path, f->final_path);
        goto fail;
    }
    dir = dir_of(f->final_path);
    if (dir == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else {
        rc = fs_fsync_dir(dir, e);
    }
    free(dir);
    free(f->tmp_path);
    free(f->final_path);
    f->tmp_path = NULL;
    f->final_path = NULL;
    return rc;
fail:
    atomic_file_abort(f);
    return rc;
}

void atomic_file_abort(struct atomic_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->tmp_path != NULL) {
        unlink(f->tmp_path);
    }
    free(f->tmp_path);
    free(f->final_path);
    f->tmp_path = NULL;
    f->final_path = NULL;
}

int fs_write_atomic(const char *path, const void *data, size_t n, struct err *e)
{
    struct atomic_file f;
    int rc = atomic_file_open(&f, path, e);
    if (rc != 0) {
        return rc;
    }
    rc = fs_write_all(f.fd, data, n, f.tmp_path, e);
    if (rc != 0) {
        atomic_file_abort(&f);
        return rc;
    }
    return atomic_file_commit(&f, e);
}

/* What kind of file a mode is, for messages. */
static const char *fs_kind(mode_t m)
{
    if (S_ISDIR(m)) {
        return "a directory";
    }
    if (S_ISFIFO(m)) {
        return "a FIFO";
    }
    if (S_ISSOCK(m)) {
        return "a socket";
    }
    if (S_ISCHR(m) || S_ISBLK(m)) {
        return "a device";
    }
    return "a special file";
}

int fs_open_regular(const char *path, int *fd, struct err *e)
{
    *fd = -1;
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0) {
        return err_errno(e, errno, "cannot open %s", path);
    }
    struct stat st;
    if (fstat(f, &st) != 0) {
        int rc = err_errno(e, errno, "cannot stat %s", path);
        close(f);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return err_set(e, AE_CONFIG, "%s is %s, not a regular file", path, fs_kind(st.st_mode));
    }
    int flags = fcntl(f, F_GETFL);
    if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int rc = err_errno(e, errno, "cannot read %s", path);
        close(f);
        return rc;
    }
    *fd = f;
    return 0;
}

int fs_fopen_regular(const char *path, FILE **fp, struct err *e)
{
    int fd = -1;
    int rc = fs_open_regular(path, &fd, e);
    if (rc != 0) {
        return rc;
    }
    *fp = fdopen(fd, "rb");
    if (*fp == NULL) {
        rc = err_errno(e, errno, "cannot open %s", path);
        close(fd);
    }
    return rc;
}

int fs_read_file(const char *path, char **out, size_t *len, struct err *e)
{
    *out = NULL;
    FILE *fp = NULL;
    int rc = fs_fopen_regular(path, &fp, e);
    if (rc != 0) {
        return rc;
    }
    size_t cap = 4096;
    size_t n = 0;
    char *p = malloc(cap);
    if (p == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *q = realloc(p, cap * 2);
            if (q == NULL) {
                rc = err_set(e, AE_NOMEM, "out of memory");
                goto out;
            }
            p = q;
            cap *= 2;
        }
        size_t r = fread(p + n, 1, cap - n - 1, fp);
        n += r;
        if (r == 0) {
            if (ferror(fp)) {
                rc = err_errno(e, errno, "cannot read %s", path);
            }
            break;
        }
    }
out:
    fclose(fp);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p[n] = '\0';
    *out = p;
    if (len != NULL) {
        *len = n;
    }
    return 0;
}

char *fs_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, a, la);
    size_t pos = la;
    if (la > 0 && a[la - 1] != '/') {
        p[pos++] = '/';
    }
    memcpy(p + pos, b, lb + 1);
    return p;
}

int fs_random(void *buf, size_t n, struct err *e)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return err_errno(e, errno, "cannot read random bytes");
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

const char *fs_now_iso(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
    return buf;
}

double fs_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fs_hex(const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}
