/*
 * fs.h - file-system helpers that keep the safety rules: outputs are written under a temporary
 * name, fsynced, then renamed into place, and the directory is fsynced so the rename survives a
 * crash. A reader never sees a half-written file under its final name.
 */
#ifndef ASTRO_UTIL_FS_H
#define ASTRO_UTIL_FS_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Creates dir and its missing parents (mode 0777 & ~umask). Existing directories are fine. */
int fs_mkdirs(const char *dir, struct err *e) ASTRO_WUR;

/* fsyncs a directory so that entries created or renamed in it are durable. */
int fs_fsync_dir(const char *dir, struct err *e) ASTRO_WUR;

/* Writes n bytes of data to path atomically (temp file in the same directory, fsync, rename,
 * fsync of the directory). On failure path is untouched and the temp file removed. */
int fs_write_atomic(const char *path, const void *data, size_t n, struct err *e) ASTRO_WUR;

/* An output being written: fd is open on tmp_path; commit renames it to final_path. */
struct atomic_file {
    int fd;
    char *tmp_path;
    char *final_path;
};

/* Creates "<dir of path>/.<name>.<random>.tmp" for writing (random: 12 lowercase hex digits). */
int atomic_file_open(struct atomic_file *f, const char *path, struct err *e) ASTRO_WUR;

/* True when name (a directory entry) is the temporary name atomic_file_open gives. */
bool fs_is_atomic_tmp(const char *name);

/* Removes every atomic_file temporary (fs_is_atomic_tmp) directly in dir: what a process killed
 * while writing left behind. The caller makes sure no live process writes there (a run's lock).
 * *removed counts them. A missing dir is fine; AE_IO when dir cannot be read or a file removed. */
int fs_remove_atomic_tmps(const char *dir, size_t *removed, struct err *e) ASTRO_WUR;

/* fsync, close, rename into place, fsync the directory. Frees the paths on success and failure. */
int atomic_file_commit(struct atomic_file *f, struct err *e) ASTRO_WUR;

/* Closes and removes the temp file; safe on a zeroed or already committed struct. */
void atomic_file_abort(struct atomic_file *f);

/* Writes all n bytes (retrying on EINTR and short writes). */
int fs_write_all(int fd, const void *p, size_t n, const char *what, struct err *e) ASTRO_WUR;

/* Reads exactly n bytes at offset off (retrying on EINTR and short reads); AE_IO on an error or
 * when the file ends first. */
int fs_read_at(int fd, void *p, size_t n, uint64_t off, const char *what, struct err *e) ASTRO_WUR;

/* Creates a scratch file in dir (named "<prefix>XXXXXX", close-on-exec) and unlinks it at once,
 * so nothing is left behind, even after a crash: *fd (the caller closes it), or AE_IO. */
int fs_tmp_unlinked(const char *dir, const char *prefix, int *fd, struct err *e) ASTRO_WUR;

/* Opens path for reading (O_RDONLY, close-on-exec) and checks that it is a regular file, without
 * ever blocking: the open is non-blocking, so a FIFO, a socket or a device is refused instead of
 * waiting for a writer, then the descriptor is made blocking again. *fd receives the descriptor
 * (the caller closes it); -1 on failure. Fails with AE_IO (the path and the system's reason) when
 * it cannot be opened, AE_CONFIG when it is not a regular file (naming what it is). */
int fs_open_regular(const char *path, int *fd, struct err *e) ASTRO_WUR;

/* fs_open_regular() as a stdio stream for reading ("rb"), which the caller fcloses. */
int fs_fopen_regular(const char *path, FILE **fp, struct err *e) ASTRO_WUR;

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer. */
int fs_read_file(const char *path, char **out, size_t *len, struct err *e) ASTRO_WUR;

/* Joins a and b with one '/' into a malloc'd string (NULL on allocation failure). */
char *fs_join(const char *a, const char *b);

/* Fills buf with n random bytes from the kernel. */
int fs_random(void *buf, size_t n, struct err *e) ASTRO_WUR;

/* Current UTC time as "2026-05-22T14:30:00.123456+00:00" (buf of at least 40 bytes). */
const char *fs_now_iso(char *buf, size_t n);

/* Monotonic clock in seconds. */
double fs_monotonic(void);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void fs_hex(const unsigned char *p, size_t n, char *out);

#endif
