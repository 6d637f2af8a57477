/*
 * hint.h - what probably fixes a failure, when it is obvious: one short imperative sentence shown
 * beside the failure's message (the console summary, `astro validate`, errors/NAME.jsonl and the
 * failure-cases CSV) and beside a problem of the folder check.
 *
 * Every rule is one row of one table in hint.c, so the rules can be read, and extended, in one
 * place. A rule looks only at what the failure already holds (the column's dtype, the value, a
 * file name); it never reads the file again. No rule fires unless its pattern is unambiguous: a
 * hint that sends a user the wrong way is worse than none.
 */
#ifndef ASTRO_VALIDATE_HINT_H
#define ASTRO_VALIDATE_HINT_H

#include "batch/dtype.h"

#include <stdbool.h>
#include <stddef.h>

/* Spellings of "no value" that exports write where a value belongs: one table for both uses.
 * hint_for_value() matches every word case-insensitively; `astro schema infer` (infer.c) proposes
 * the words marked infer, spelled exactly, as a column's null_values (not NaN: it reads as a
 * float; nor the rarer spellings a schema would rather not accept unseen). At most 32 words. */
struct hint_null_word {
    const char *word;
    bool infer;
};
extern const struct hint_null_word hint_null_words[];
extern const size_t hint_n_null_words;

/* The hint for the value (vlen bytes) that failed to parse as dtype id (check
 * coerce_dtype('...')), written into buf (n bytes, NUL-terminated, cut to fit); returns buf, or
 * NULL when no rule applies (buf is then ""). Rules: a spelling of "no value" (N/A, NA, -, NULL,
 * None, ...) in any column that is not str -> "add 'N/A' to null_values"; a number with thousands
 * separators in a numeric column ("3,779", "1.234,5", "1 234") -> "set thousands: ','" (and the
 * decimal mark when it is not '.'). */
const char *hint_for_value(enum dtype id, const char *value, size_t vlen, char *buf, size_t n);

/* The hint for a file name of the source folder that no spec expects: a name that marks a file
 * still being written (.part, .tmp, .partial, .filepart, .crdownload, a trailing ~), hidden or
 * not -> "an upload is still running?". A static string, or NULL. */
const char *hint_for_file_name(const char *name);

#endif
