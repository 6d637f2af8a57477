/*
 * csv.h - CSV bytes to raw records, streaming, with exact physical line numbers.
 *
 * The reader reads a source (input/source.h) in chunks, transcodes to UTF-8 when the declared
 * encoding is not UTF-8 (iconv), strips a leading BOM, and splits RFC 4180 records: quoted fields
 * with delimiters, doubled quotes and line breaks (kept byte for byte, CRLF included), LF or CRLF
 * record ends, a last record without a line break. It knows nothing of schemas or types. Memory is
 * bounded by the rows asked for per call and the longest record (capped: see CSV_MAX_RECORD_BYTES),
 * never by the file size. The source hashes and counts the bytes.
 *
 * Dialect details (defined here so every caller sees the same behaviour):
 * - Records end at LF or CR LF; the CR of a CR LF is part of neither the field nor raw. A CR not
 *   followed by LF is an ordinary byte. Only a quote as the very first byte of a field opens a
 *   quoted field; a quote elsewhere in an unquoted field is an ordinary byte.
 * - Text between a closing quote and the next delimiter or line break (`"ab"c,`) is appended to
 *   the value as written (value `abc`), and the field is still REC_F_QUOTED: lenient, and the
 *   same result as Python's csv module; the record is flagged REC_R_LOOSE_QUOTE (the validator
 *   warns).
 * - A field holding a NUL byte is flagged REC_F_NUL. Each read is searched once (memchr); only
 *   after a NUL was seen are the fields of each record searched one by one.
 * - A call ends its block once it holds REC_BLOCK_MAX_FIELDS fields (records.h).
 * - With an escape byte, the byte after it is taken literally, inside quotes and in unquoted
 *   fields (a delimiter, quote, CR or LF included); doubled quotes keep working inside quotes.
 *   An escape equal to the quote is the same as no escape.
 * - Encodings: UTF-8 text is not converted, but every field is validated (RFC 3629: overlongs,
 *   surrogates and code points above U+10FFFF are invalid) and an invalid field is flagged
 *   REC_F_BAD_ENCODING with its bytes kept. Other encodings go through iconv to UTF-8; a source
 *   byte iconv rejects (EILSEQ, or an incomplete sequence at end of file) is written to the text
 *   unchanged and remembered, and the field that holds it is flagged REC_F_BAD_ENCODING (even if
 *   the raw bytes happen to look like valid UTF-8). A rejected byte equal to the delimiter, quote,
 *   escape, CR or LF is written as 0xFF instead, so a broken sequence cannot change the records.
 *   For UTF-16/UCS-2 (UTF-32/UCS-4) names a rejected unit is 2 (4) bytes, keeping the alignment.
 *   A UTF-8 BOM at the start of the decoded text is dropped (iconv's "UTF-16" consumes its BOM).
 *   glibc's CP1252 rejects 0x81 0x8D 0x8F 0x90 0x9D, so those bytes are flagged.
 */
#ifndef ASTRO_INPUT_CSV_H
#define ASTRO_INPUT_CSV_H

#include "batch/records.h"
#include "input/source.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record longer than this (decoded bytes) fails the file with AE_FORMAT: it is almost always an
 * unbalanced quote in a huge file, and holding it would defeat bounded memory. */
#define CSV_MAX_RECORD_BYTES (64u << 20)

/* A record with more fields than this fails the file with AE_FORMAT too (at most this many, and at
 * most twice, is ever held): no header astro accepts is that wide (VALIDATE_MAX_COLUMNS), and
 * 64 MiB of delimiters would otherwise take 1 GiB of field slots. */
#define CSV_MAX_RECORD_FIELDS ((size_t)1 << 20)

/* A NULL struct csv_options means: UTF-8, ',' '"', no escape. */
struct csv_options {
    const char *encoding; /* iconv name; NULL, "utf-8", "utf8" = UTF-8 (validated, not converted);
                             case-insensitive; Python spellings (utf_8, utf-8-sig, latin_1,
                             latin-1) are accepted */
    char delimiter;       /* default ',' ('\0' also means ','); ASCII, not CR or LF */
    char quote;           /* default '"'; '\0' disables quoting */
    char escape;          /* '\0' = none (a quote inside quotes is doubled); else e.g. '\\' */
};

struct csv_reader;

/* Starts reading src (borrowed: it must outlive the reader; messages use its name). Fails with
 * AE_CONFIG for an encoding iconv does not know ("unknown encoding 'x'") and for a dialect whose
 * delimiter, quote and escape are not distinct ASCII bytes other than CR and LF. */
int csv_reader_open(struct csv_reader **out, struct source *src, const struct csv_options *o,
                    struct err *e) ASTRO_WUR;

/* Fills rows with up to max_rows records (rows is reset first). At end of file returns 0 with
 * rows->nrows == 0. Fails with AE_IO on read errors and AE_FORMAT when a record exceeds
 * CSV_MAX_RECORD_BYTES or has more than CSV_MAX_RECORD_FIELDS fields (reported once it reaches
 * between that and twice that; the records before it are returned first; the call after them
 * fails).
 * Blank lines (a record of one empty unquoted field made of nothing but the
 * line break) are skipped, but still counted in line numbers. */
int csv_reader_next(struct csv_reader *r, struct record_block *rows, size_t max_rows,
                    struct err *e) ASTRO_WUR;
/* (max_rows must be at least 1: 0 fails with AE_INTERNAL. A failure is final: later calls return
 * the same error. The text of all records of one call is held at once, so memory is about
 * max_rows times the record size, plus one read chunk, per record_block kept.) */

/* True when the reader refused the file because it starts with a byte-order mark that
 * contradicts the declared encoding (a UTF-16 BOM in a file declared utf-8 or latin-1: the
 * AE_FORMAT of csv_reader_next says "this file is UTF-16 ...: set encoding: utf-16"). */
bool csv_reader_bom_refused(const struct csv_reader *r);

/* Tests and tools: the size of each read() (default 256 KiB; 0 restores it). A record longer than
 * the chunk makes the next read at least as long as the record, so long records stay linear. */
void csv_reader_set_chunk_size(struct csv_reader *r, size_t n);

/* Tests: lowers the record size limit below CSV_MAX_RECORD_BYTES (0 restores the default). */
void csv_reader_set_max_record(struct csv_reader *r, size_t n);

/* The physical line where the next record starts; after a failure, the line of the record that
 * failed (the error is sticky). */
uint64_t csv_reader_line(const struct csv_reader *r);

void csv_reader_free(struct csv_reader *r);

#endif
