/*
 * match.c - matching the entries of SOURCE_DIR against the ingest specs.
 */
#include "ingest/match.h"

#include "util/fs.h"
#include "validate/hint.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the entry names of dir (without . and ..), sorted. */
static int list_dir(const char *dir, char ***out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return err_errno(e, errno, "cannot read source folder %s", dir);
    }
    char **names = NULL;
    size_t count = 0;
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nn = realloc(names, ncap * sizeof(*nn));
            if (nn == NULL) {
                rc = err_set(e, AE_NOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = ncap;
        }
        names[count] = strdup(de->d_name);
        if (names[count] == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        count++;
    }
    closedir(d);
    if (rc != 0) {
        for (size_t i = 0; i < count; i++) {
            free(names[i]);
        }
        free(names);
        return rc;
    }
    if (count > 1) {
        qsort(names, count, sizeof(*names), cmp_str);
    }
    *out = names;
    *n = count;
    return 0;
}

/* Classifies the entry path (named name): *regular when it is a regular file or a link to one; a
 * link additionally gets its resolved path in *real (the caller frees it). A dangling link is not
 * a regular file. */
static int entry_kind(const char *path, bool *regular, bool *is_dir, char **real, struct err *e)
{
    *regular = false;
    *is_dir = false;
    *real = NULL;
    struct stat st;
    if (lstat(path, &st) != 0) {
        return err_errno(e, errno, "cannot stat %s", path);
    }
    if (!S_ISLNK(st.st_mode)) {
        *regular = S_ISREG(st.st_mode);
        *is_dir = S_ISDIR(st.st_mode);
        return 0;
    }
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) {
            return 0; /* dangling or looping: not a regular file */
        }
        return err_errno(e, errno, "cannot stat %s", path);
    }
    *regular = S_ISREG(st.st_mode);
    *is_dir = S_ISDIR(st.st_mode);
    if (*regular) {
        *real = realpath(path, NULL);
        if (*real == NULL) {
            return err_errno(e, errno, "cannot resolve the link %s", path);
        }
    }
    return 0;
}

bool source_path_inside(const char *dir, const char *real)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    return strncmp(real, dir, n) == 0 && (real[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* The data file name i is a checksum side file of: the index of that name in the sorted names,
 * when name[i] is NAME.md5 or NAME.sha256, NAME is in the folder, is not ignored and belongs to
 * exactly one spec; SIZE_MAX otherwise. */
static size_t side_file_of(const struct config *c, char *const *names, size_t n, size_t i,
                           enum checksum_algo *algo)
{
    size_t base_len = 0;
    if (!checksum_side_name(names[i], algo, &base_len)) {
        return SIZE_MAX;
    }
    char *base = strndup(names[i], base_len);
    if (base == NULL) {
        return SIZE_MAX;
    }
    const struct ingest_spec *first = NULL;
    char *const *hit = bsearch(&base, names, n, sizeof(*names), cmp_str);
    bool data =
        hit != NULL && !config_ignored(c, base) && config_match_ingest(c, base, &first) == 1;
    free(base);
    return data ? (size_t)(hit - names) : SIZE_MAX;
}

/* Records path as a checksum side file of the data file f (the paths are kept per entry index
 * until the data files are known). */
static int add_side(struct source_file *f, char *path, enum checksum_algo algo)
{
    if (f->nchecksums >= SOURCE_MAX_CHECKSUMS) {
        free(path);
        return 0;
    }
    f->checksum_paths[f->nchecksums] = path;
    f->checksum_algos[f->nchecksums] = algo;
    f->nchecksums++;
    return 0;
}

int source_match(const struct config *c, const char *dir, struct source_file **out,
                 struct buf *problems, struct err *e)
{
    *out = NULL;
    char **names = NULL;
    char **shown = NULL; /* names in their printable form, for the problem lines */
    size_t n = 0;
    char *real_dir = NULL;
    int rc = list_dir(dir, &names, &n, e);
    if (rc != 0) {
        return rc;
    }
    struct source_file *files = calloc(c->ningest ? c->ningest : 1, sizeof(*files));
    size_t *hits = calloc(c->ningest ? c->ningest : 1, sizeof(*hits));
    shown = calloc(n ? n : 1, sizeof(*shown));
    /* side[i]: checksum side files of entry i, until the entry's spec is known */
    struct source_file *side = calloc(n ? n : 1, sizeof(*side));
    bool *taken = calloc(n ? n : 1, sizeof(*taken));
    bool bad = false;
    if (files == NULL || hits == NULL || shown == NULL || side == NULL || taken == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        shown[i] = buf_name_str(names[i]);
        if (shown[i] == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto out;
        }
    }
    real_dir = realpath(dir, NULL);
    if (real_dir == NULL) {
        rc = err_errno(e, errno, "cannot resolve source folder %s", dir);
        goto out;
    }
    /* Checksum side files first: they sort after their data file. One that is not a regular
     * file inside the folder is left to the check below (extra, not a regular file). */
    for (size_t i = 0; i < n && rc == 0; i++) {
        enum checksum_algo algo = CHECKSUM_MD5;
        size_t data = side_file_of(c, names, n, i, &algo);
        if (data == SIZE_MAX) {
            continue;
        }
        char *path = fs_join(dir, names[i]);
        bool regular = false;
        bool is_dir = false;
        char *real = NULL;
        rc = path != NULL ? entry_kind(path, &regular, &is_dir, &real, e)
                          : err_set(e, AE_NOMEM, "out of memory");
        if (rc == 0 && regular && (real == NULL || source_path_inside(real_dir, real))) {
            rc = add_side(&side[data], path, algo);
            path = NULL;
            taken[i] = true; /* not data, not extra */
        }
        free(real);
        free(path);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (taken[i] || config_ignored(c, names[i])) {
            continue; /* README.txt, _SUCCESS: neither data nor extra */
        }
        char *path = fs_join(dir, names[i]);
        if (path == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            break;
        }
        /* A link to a regular file counts as that file (ingest only reads it) when it resolves
         * inside the source folder, or anywhere with allow_symlinks_outside; a dangling link is
         * "not a regular file". */
        bool regular = false;
        bool is_dir = false;
        char *real = NULL;
        rc = entry_kind(path, &regular, &is_dir, &real, e);
        if (rc != 0) {
            free(path);
            break;
        }
        if (!regular) {
            bad = true;
            rc = buf_printf(problems, "not a regular file: %s%s (the source folder must hold only "
                                      "the expected files)\n",
                            shown[i], is_dir ? "/" : "");
            free(path);
            continue;
        }
        size_t matched = 0;
        size_t first = 0;
        for (size_t s = 0; s < c->ningest; s++) {
            if (config_spec_matches(&c->ingest[s], names[i])) {
                if (matched == 0) {
                    first = s;
                }
                matched++;
                hits[s]++;
            }
        }
        if (matched == 0) {
            bad = true;
            const char *hint = hint_for_file_name(names[i]);
            rc = buf_printf(problems, "extra: %s matches no ingest file's source_pattern%s%s\n",
                            shown[i], hint ? "; hint: " : "", hint ? hint : "");
        } else if (matched > 1) {
            bad = true;
            rc = buf_printf(problems, "ambiguous: %s matches the source_pattern of %zu ingest "
                                      "files (",
                            shown[i], matched);
            const char *sep = "";
            for (size_t s = 0; s < c->ningest && rc == 0; s++) {
                if (config_spec_matches(&c->ingest[s], names[i])) {
                    rc = buf_printf(problems, "%s%s", sep, c->ingest[s].name);
                    sep = ", ";
                }
            }
            if (rc == 0) {
                rc = buf_puts(problems, ")\n");
            }
        } else if (real != NULL && !c->ingest[first].allow_symlinks_outside &&
                   !source_path_inside(real_dir, real)) {
            bad = true;
            char *target = buf_name_str(real);
            rc = target == NULL
                     ? AE_NOMEM
                     : buf_printf(problems,
                                  "link outside the source folder: %s -> %s (set "
                                  "allow_symlinks_outside: true on ingest file %s to allow it)\n",
                                  shown[i], target, c->ingest[first].name);
            free(target);
        } else if (files[first].path == NULL) {
            files[first].spec = &c->ingest[first];
            files[first].path = path;
            path = NULL;
            files[first].nchecksums = side[i].nchecksums;
            for (size_t k = 0; k < side[i].nchecksums; k++) {
                files[first].checksum_paths[k] = side[i].checksum_paths[k];
                files[first].checksum_algos[k] = side[i].checksum_algos[k];
            }
            side[i].nchecksums = 0;
        }
        free(real);
        free(path);
    }
    for (size_t s = 0; s < c->ningest && rc == 0; s++) {
        if (hits[s] == 0) {
            bad = true;
            rc = buf_printf(problems, "missing: %s (source_pattern \"%s\") matches no file\n",
                            c->ingest[s].name, c->ingest[s].source_pattern);
        } else if (hits[s] > 1) {
            bad = true;
            rc = buf_printf(problems, "ambiguous: %s (source_pattern \"%s\") matches %zu files:",
                            c->ingest[s].name, c->ingest[s].source_pattern, hits[s]);
            const char *hint = NULL;
            size_t hinted = 0;
            for (size_t i = 0; i < n && rc == 0; i++) {
                if (!taken[i] && config_spec_matches(&c->ingest[s], names[i])) {
                    rc = buf_printf(problems, " %s", shown[i]);
                    if (hint == NULL && hint_for_file_name(names[i]) != NULL) {
                        hint = hint_for_file_name(names[i]);
                        hinted = i;
                    }
                }
            }
            if (rc == 0 && hint != NULL) {
                rc = buf_printf(problems, "; hint: %s: %s", shown[hinted], hint);
            }
            if (rc == 0) {
                rc = buf_putc(problems, '\n');
            }
        }
    }
    if (rc == 0 && bad) {
        char *shown_dir = buf_name_str(dir);
        rc = err_set(e, AE_DATA, "%s does not hold exactly the expected files",
                     shown_dir ? shown_dir : dir);
        free(shown_dir);
    } else if (rc == AE_NOMEM) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
        if (shown != NULL) {
            free(shown[i]);
        }
    }
    free(names);
    free(shown);
    free(hits);
    free(taken);
    if (side != NULL) {
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < side[i].nchecksums; k++) {
                free(side[i].checksum_paths[k]);
            }
        }
        free(side);
    }
    free(real_dir);
    if (rc != 0) {
        source_files_free(files, c->ningest);
        return rc;
    }
    *out = files;
    return 0;
}

void source_files_free(struct source_file *files, size_t n)
{
    if (files == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(files[i].path);
        for (size_t k = 0; k < files[i].nchecksums; k++) {
            free(files[i].checksum_paths[k]);
        }
    }
    free(files);
}
