/*
 * dl.h - a shared library loaded when a feature first needs it (dlopen), not linked. For the
 * libraries few runs use (libpq to connect to PostgreSQL, libsystemd under systemd, libsnappy to
 * write snappy pages): linked, each costs every run its mapping and relocation, and those of the
 * libraries it brings. The caller keeps typed function pointers (declared with __typeof__ from
 * the library's header) and describes them in a static struct dl_lib:
 *
 *   static struct { __typeof__(snappy_compress) *compress; } lsn;
 *   static const struct dl_sym lsn_syms[] = {{"snappy_compress", &lsn.compress}};
 *   static struct dl_lib lsn_lib = DL_LIB("libsnappy.so.1", lsn_syms);
 *   ...
 *   const char *why = dl_ready(&lsn_lib); (NULL: lsn.compress is set)
 */
#ifndef ASTRO_UTIL_DL_H
#define ASTRO_UTIL_DL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* One function of the library: its name, and where its address goes (the address of the
 * caller's function pointer). */
struct dl_sym {
    const char *name;
    void *slot;
};

/* A library and the functions it is loaded for, loaded at most once per process. */
struct dl_lib {
    const char *soname;
    const struct dl_sym *syms;
    size_t nsyms;
    pthread_mutex_t mu;
    bool tried;
    char problem[512]; /* after a failed load: why ("" once loaded) */
};

#define DL_LIB(soname, syms)                                                                       \
    {(soname), (syms), sizeof(syms) / sizeof((syms)[0]), PTHREAD_MUTEX_INITIALIZER, false, ""}

/* Loads lib on the first call (any thread), storing the address of each of its functions in
 * its slot: all of them, or none. NULL once loaded; otherwise why not (dlerror's message, or the
 * function the library lacks), the same at every later call. The library stays open until the
 * process ends. */
const char *dl_ready(struct dl_lib *lib);

#endif
