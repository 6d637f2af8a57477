/*
 * dl.h - a shared library loaded when a feature first needs it (dlopen), not linked. For the
 * libraries few runs use (libpq to connect to PostgreSQL, libsystemd under systemd, libsnappy to
 * write snappy pages): linked, each costs every run its mapping and relocation, and those of the
 * libraries it brings. The caller keeps typed function pointers (declared with __typeof__ from
 * the library's header) and loads them once, under pthread_once when threads may race.
 */
#ifndef ASTRO_UTIL_DL_H
#define ASTRO_UTIL_DL_H

#include <stddef.h>

/* One function of the library: its name, and where its address goes (the address of the
 * caller's function pointer). */
struct dl_sym {
    const char *name;
    void *slot;
};

/* Opens soname and stores the address of each of the n functions in its slot: all of them, or
 * none (0 or -1). On -1, why (whyn bytes) says what is missing: dlerror's message, or the
 * function the library lacks. The library stays open until the process ends. */
int dl_load(const char *soname, const struct dl_sym *syms, size_t n, char *why, size_t whyn);

#endif
