/*
 * json.h - what the NDJSON and JSON readers (json.c, behind input.h) offer beyond input_ops: the
 * key paths of a file's objects, for `astro schema infer`.
 */
#ifndef ASTRO_INPUT_JSON_H
#define ASTRO_INPUT_JSON_H

#include "batch/records.h"
#include "config/config.h"
#include "input/source.h"

#include <stddef.h>
#include <stdint.h>

/* A file with more distinct key paths than this is refused by json_list_keys (AE_FORMAT). */
#define JSON_MAX_KEYS 4096

/* Lists the key paths of the objects in src (borrowed; f is INPUT_NDJSON or INPUT_JSON), in order
 * of first appearance: nested objects are flattened to dotted paths (customer.email); arrays and
 * scalars are leaves. Reads at most max_rows records (0 = every record); records that are not
 * objects are skipped. *keys (owned by the caller: free each, then the array) holds *n paths.
 * Fails with the reader's errors (AE_IO, AE_FORMAT for a broken array or compressed data),
 * AE_FORMAT beyond JSON_MAX_KEYS paths, or AE_NOMEM; then *keys is NULL. */
int json_list_keys(struct source *src, enum input_format f, uint64_t max_rows, char ***keys,
                   size_t *n, struct err *e) ASTRO_WUR;

/* Parses one record, text[0..n) (borrowed), as the readers of spec's columns do (array: format
 * json's messages, else ndjson's), into b (reset first; one row, line 1, offset 0; b keeps its
 * own copy of the text). reference: with jansson alone, instead of astro's own parser (which
 * hands jansson only the records it defers). Both must give the same fields, flags and reasons:
 * tests/unit/test_input_formats.c and tests/fuzz/fuzz_json.c compare them. AE_CONFIG for a spec
 * the readers refuse, AE_NOMEM. */
int json_parse_one(const struct ingest_spec *spec, bool array, bool reference, const char *text,
                   size_t n, struct record_block *b, struct err *e) ASTRO_WUR;

#endif
