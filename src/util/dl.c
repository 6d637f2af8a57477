/*
 * dl.c - shared libraries loaded when first needed (dl.h).
 */
#include "util/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define DL_MAX_SYMS 64

int dl_load(const char *soname, const struct dl_sym *syms, size_t n, char *why, size_t whyn)
{
    void *found[DL_MAX_SYMS];
    if (n > DL_MAX_SYMS) {
        snprintf(why, whyn, "%s: more than %d functions asked for", soname, DL_MAX_SYMS);
        return -1;
    }
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *msg = dlerror();
        snprintf(why, whyn, "%s", msg != NULL ? msg : soname);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        found[i] = dlsym(h, syms[i].name);
        if (found[i] == NULL) {
            snprintf(why, whyn, "%s has no %s", soname, syms[i].name);
            dlclose(h);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(syms[i].slot, &found[i], sizeof(found[i])); /* POSIX: a function's address fits */
    }
    return 0;
}
