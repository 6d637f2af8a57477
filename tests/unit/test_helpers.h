/*
 * test_helpers.h - small shared helpers for the cmocka unit tests: temp folders and files.
 */
#ifndef ASTRO_TEST_HELPERS_H
#define ASTRO_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates a fresh temp folder; returns a malloc'd path (abort on failure). */
static inline char *th_tempdir(void)
{
    char tmpl[] = "/tmp/astro-test.XXXXXX";
    char *d = mkdtemp(tmpl);
    if (d == NULL) {
        abort();
    }
    return strdup(d);
}

/* Writes text to dir/name; returns the malloc'd path. */
static inline char *th_write(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f == NULL) {
        abort();
    }
    fputs(text, f);
    fclose(f);
    return p;
}

/* rm -rf dir (test folders only). */
static inline void th_rmrf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        abort();
    }
}

#endif
