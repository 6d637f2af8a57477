/*
 * dl.c - shared libraries loaded when first needed (dl.h).
 */
#include "util/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define DL_MAX_SYMS 64

/* Opens lib and fills every slot, or none, leaving lib->problem empty or saying why. */
static void dl_load(struct dl_lib *lib)
{
    void *found[DL_MAX_SYMS];
    if (lib->nsyms > DL_MAX_SYMS) {
        snprintf(lib->problem, sizeof(lib->problem), "%s: more than %d functions asked for",
                 lib->soname, DL_MAX_SYMS);
        return;
    }
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *msg = dlerror();
        snprintf(lib->problem, sizeof(lib->problem), "%s", msg != NULL ? msg : lib->soname);
        return;
    }
    for (size_t i = 0; i < lib->nsyms; i++) {
        found[i] = dlsym(h, lib->syms[i].name);
        if (found[i] == NULL) {
            snprintf(lib->problem, sizeof(lib->problem), "%s has no %s", lib->soname,
                     lib->syms[i].name);
            dlclose(h);
            return;
        }
    }
    for (size_t i = 0; i < lib->nsyms; i++) {
        memcpy(lib->syms[i].slot, &found[i], sizeof(found[i])); /* POSIX: a function fits */
    }
}

const char *dl_ready(struct dl_lib *lib)
{
    pthread_mutex_lock(&lib->mu);
    if (!lib->tried) {
        dl_load(lib);
        lib->tried = true;
    }
    pthread_mutex_unlock(&lib->mu);
    return lib->problem[0] != '\0' ? lib->problem : NULL;
}
