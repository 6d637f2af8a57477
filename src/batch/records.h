/*
 * records.h - the record block: records as an input reader hands them to the validator, before
 * any typing. Every input format fills the same block (CSV, NDJSON, JSON): a record is a list of fields,
 * each a slice of UTF-8 text with flags, plus the record's source position and its raw text for
 * failure reports. The validator types the fields into a struct batch (batch.h).
 *
 * Ownership: the block owns the text its fields and raw pointers point into. A reader hands each
 * fill's text over to the block it fills (and takes back the buffers that block held before), so
 * blocks filled by one reader stay valid side by side and can be validated on other threads while
 * the reader goes on; a block's pointers die only when that same block is filled again or
 * released. Start from a zeroed struct ({0}); arrays are reused from fill to fill.
 */
#ifndef ASTRO_BATCH_RECORDS_H
#define ASTRO_BATCH_RECORDS_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reader ends a block once it holds this many fields (a block holds at least one record): a
 * file of thousands of columns gets fewer records per block, so that memory follows the data
 * rather than the column count (the engine sizes its batches the same way: batch.h). */
#define REC_BLOCK_MAX_FIELDS ((size_t)1 << 20)

/* Field flags. The JSON type of a value (REC_F_JSON_*) is a 4-bit code under REC_F_JSON_MASK,
 * compared as (flags & REC_F_JSON_MASK) == REC_F_JSON_x: the JSON readers set exactly one on
 * every field, CSV none; the validator then maps JSON types to dtypes strictly (validate.h). A
 * JSON string is also REC_F_QUOTED (so "" is an empty string); a JSON null or a missing key is an
 * empty unquoted field; a number is its JSON text; a bool is "true" or "false"; an object or array
 * (REC_F_JSON_COMPOSITE) is its compact JSON text, for the report. The Parquet reader uses the
 * same classes for its typed values (string, number, bool, null) plus REC_F_TYPED_TIME, and sets
 * REC_F_PARQUET on every field so that messages name the right format. Bit 0x80 is also the CSV
 * reader's own, inside a call (CSV sets no type code). */
enum {
    REC_F_QUOTED = 1, /* the field was quoted in the source ("" is an empty string, not null) */
    REC_F_BAD_ENCODING = 2, /* the field's bytes were not valid in the declared encoding */
    REC_F_NUL = 4,          /* the field holds a NUL byte (valid UTF-8, but no SQL database keeps
                               it in text: the validator fails it) */
    REC_F_JSON_STRING = 1 << 3,
    REC_F_JSON_NUMBER = 2 << 3,
    REC_F_JSON_BOOL = 3 << 3,
    REC_F_JSON_NULL = 4 << 3,
    REC_F_JSON_COMPOSITE = 5 << 3,
    /* The worksheet reader (format xlsx) types its cells with the same code: a text cell is
     * REC_F_JSON_STRING, a boolean REC_F_JSON_BOOL ("true"/"false"), an empty cell
     * REC_F_JSON_NULL, and these two are its own. A number is its shortest text (whole numbers
     * below 1e17 as digits); the validator maps it to str as that text and to date and datetime
     * columns as an Excel serial day number (record_block.sheet_date1904 says which system).
     * An error cell (#N/A, #DIV/0!) holds the error's text and fits no column. */
    REC_F_CELL_NUMBER = 6 << 3,
    REC_F_CELL_ERROR = 7 << 3,
    REC_F_TYPED_TIME = 8 << 3, /* a date or timestamp of a typed format (Parquet): its ISO text */
    REC_F_JSON_MASK = 15 << 3,
    /* xlsx: the number's cell has a date or time number format (only `astro schema infer` uses
     * it: such a column is a date or datetime column). */
    REC_F_CELL_DATE = 1 << 7,
    REC_F_PARQUET = 1 << 8, /* the value (and its REC_F_JSON_* class) comes from a Parquet file */
    /* The field holds a typed value's storage bytes (dtype.h: 1, 8 or 16 bytes), not its text:
     * its type is record_field.dt (and .scale for a decimal). Only in a block whose consumer
     * asked for them (record_block.binary); a Parquet reader's value whose text the validator
     * would only parse back (validate.c, bin_value). It keeps its REC_F_* class and
     * REC_F_PARQUET; dtype_format_value makes its text, the text the field would otherwise
     * hold. */
    REC_F_BINARY = 1 << 9
};

/* Record flags. */
enum {
    REC_R_UNTERMINATED = 1, /* the file ended inside a quoted field of this record */
    REC_R_MULTILINE = 2,    /* the record holds line breaks (quoted or escaped): it spans more
                               than one physical line */
    REC_R_LOOSE_QUOTE = 4,  /* a quoted field has text after its closing quote (`"ab"c`) */
    REC_R_UNREADABLE = 8    /* the reader could not read this record (a JSON line that does not
                               parse, or is not an object): it has exactly one field, holding the
                               reader's reason; raw is the record's text */
};

/* One field: p points at len bytes of UTF-8 (unescaped, quotes removed), valid as long as the
 * block holding it (see above). Bytes that were invalid in the declared encoding are kept as they
 * were (so a report can show them) and the field is flagged REC_F_BAD_ENCODING. */
struct record_field {
    union {
        const char *p;
        size_t off; /* reader-internal: where p will point, while its buffers may still move */
    };
    uint32_t len;
    uint16_t flags; /* REC_F_* */
    uint8_t dt;     /* REC_F_BINARY: the value's enum dtype */
    uint8_t scale;  /* REC_F_BINARY, DT_DECIMAL: its scale (the struct is 16 bytes either way) */
};

struct record_block {
    size_t nrows;
    struct record_field *fields; /* all fields of all rows, row by row */
    size_t nfields;
    uint32_t *row_first; /* nrows+1 entries: fields of row i are [row_first[i], row_first[i+1]) */
    uint64_t *line;      /* physical 1-based line where row i starts */
    uint8_t *row_flags;  /* REC_R_* */
    const char **raw;    /* raw[i], raw_len[i]: the record's text as decoded UTF-8, including */
    uint32_t *raw_len;   /*   quotes, without the final line break */
    uint64_t *offset;    /* NULL, or offset[i]: the byte offset of row i's first byte in the
                            file's text (after decompression; a BOM counts), for failure
                            reports. The JSON readers fill it (cap_rows entries); the CSV reader
                            leaves it NULL (a block is only ever filled by one reader). */
    /* reader-internal: capacity bookkeeping and the owned text (decoded records, unescaped
     * fields); record_block_release frees them */
    size_t cap_rows;
    size_t cap_fields;
    char *text;
    size_t text_cap;
    struct buf utext;
    /* Worksheet input (format xlsx); 0 for every other format. line is then the sheet's row
     * number, and field k of a row is the cell in column sheet_col0 + k (1-based: A is 1), so
     * failures name the cell (C17). */
    uint32_t sheet_col0;
    bool sheet_date1904; /* serial day numbers count from 1904-01-01 (workbookPr date1904) */
    /* Set by the block's consumer before it is filled: fields may be REC_F_BINARY. The
     * validator reads them; a consumer that reads the fields' text (schema inference) leaves
     * it false. */
    bool binary;
};

/* For readers: room for rows more records (the row arrays, row_first with its closing entry) and
 * fields more fields. 0, or AE_NOMEM (what was there is kept). */
int record_block_reserve(struct record_block *b, size_t rows, size_t fields) ASTRO_WUR;

/* For a reader that keeps byte offsets (JSON): gives b an offset array, which from then on
 * grows with the row arrays (record_block_reserve). 0, or AE_NOMEM. */
int record_block_want_offsets(struct record_block *b) ASTRO_WUR;

/* Frees every array and the owned text; the block is zeroed and may be filled again. */
void record_block_release(struct record_block *rows);

/* Overwrites the arrays rows already has with zeros, in bulk, before a thread refills them.
 * Arrays last used on another core otherwise cost a cache-line transfer at every scattered write
 * of the refill: on the benchmark machine reading a block into arrays another core had validated
 * took twice as long (bench/README.md). Changes nothing visible; rows is to be refilled next. */
void record_block_claim(struct record_block *rows);

#endif
