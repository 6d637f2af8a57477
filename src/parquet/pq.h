/*
 * pq.h - our own Parquet writer, written from the format spec (parquet.thrift, Encodings.md,
 * LogicalTypes.md, Compression.md) and ../shared/PARQUET.md.
 *
 * Files: DataPage V1, FileMetaData.version 1, at most one dictionary page per chunk
 * (PLAIN_DICTIONARY), first, with a streaming fallback to PLAIN: when the dictionary passes
 * dict_bytes, or the chunk's first page is more than 3/4 distinct, the rest of the chunk is PLAIN
 * (before the first page: no dictionary at all; after: dictionary page, index pages, PLAIN pages);
 * a column that fell back starts the next row groups PLAIN and tries the dictionary again every
 * 8th. RLE/bit-packed definition levels for OPTIONAL columns, min/max/null_count statistics,
 * column_orders, encodings and encoding_stats listing every encoding used, key-value metadata,
 * and row groups bounded in rows and bytes.
 *
 * Memory: each data page is encoded and compressed as soon as it is full, so the writer holds
 * one row group's compressed pages, plus per column one open page (page_bytes / page_rows of raw
 * values) and the chunk's dictionary (about dict_bytes), never the raw row group; whatever the
 * number of rows written.
 */
#ifndef ASTRO_PARQUET_PQ_H
#define ASTRO_PARQUET_PQ_H

#include "batch/batch.h"

enum pq_codec { PQ_CODEC_NONE = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_GZIP = 2, PQ_CODEC_ZSTD = 6 };

struct pq_options {
    enum pq_codec codec;    /* default ZSTD */
    int level;              /* codec level; 0 = codec default (zstd 3, gzip 6) */
    size_t page_bytes;      /* target uncompressed data page size, default 1 MiB */
    size_t page_rows;       /* max rows per data page, default 20000 */
    size_t rg_rows;         /* max rows per row group, default 1048576 */
    size_t rg_bytes;        /* max raw bytes per row group (levels, PLAIN values, or indices
                             * plus dictionary: the cut, not the memory held), default 128 MiB */
    size_t dict_bytes;      /* dictionary size limit per chunk, default 1 MiB */
    const char *created_by; /* default "astro version X.Y.Z (build ...)" */
    /* Threads that encode and compress the data pages, default 1 (0 counts as 1, more than 64
     * as 64). With threads > 1 sealed pages are queued with a copy of their raw bytes (at most
     * about 2 MiB, or 256 pages) and each batch is encoded and compressed on up to that many
     * threads, each with its own compression context, then appended to the chunks in the order
     * the pages were sealed. The file is byte-identical to the one threads = 1 writes. Memory:
     * on top of what threads = 1 holds, the queue and one set of page buffers and one
     * compression context per thread. Threads are created per batch and joined before it
     * returns. */
    int threads;
    /* A folder for a scratch file (unlinked at once) that holds the row group's compressed data
     * pages until the group is written, instead of memory: the writer then holds the open pages,
     * the dictionaries and one page in flight, whatever the row group's size. NULL (the default):
     * the pages are kept in memory. Output byte-identical either way. */
    const char *spool_dir;
};

void pq_options_default(struct pq_options *o);

/* Parses "zstd", "snappy", "gzip", "none"/"uncompressed". */
int pq_codec_parse(const char *s, enum pq_codec *out, struct err *e) ASTRO_WUR;

struct pq_writer;

/* Starts a file on fd (borrowed; the caller fsyncs and closes it). cols is copied. */
int pq_writer_open(struct pq_writer **out, int fd, const struct column_desc *cols, size_t ncols,
                   const struct pq_options *o, struct err *e) ASTRO_WUR;

/* Appends the rows of b with row_ok[i] == 1; b's columns match cols one to one. A null in a
 * REQUIRED column is an AE_INTERNAL error (the validator must have rejected the row). */
int pq_writer_write(struct pq_writer *w, const struct batch *b, struct err *e) ASTRO_WUR;

/* Adds a key-value pair to the footer (keys must be unique). May be called until close. */
int pq_writer_add_kv(struct pq_writer *w, const char *key, const char *value,
                     struct err *e) ASTRO_WUR;

/* Flushes the last row group and writes the footer. *bytes gets the file size. Does not fsync. */
int pq_writer_close(struct pq_writer *w, uint64_t *bytes, struct err *e) ASTRO_WUR;

/* Rows written so far. */
uint64_t pq_writer_rows(const struct pq_writer *w);

void pq_writer_free(struct pq_writer *w);

/* Test hook: from now on every data page of column col (0-based) fails with code where it is
 * encoded and compressed (on a worker thread when threads > 1), as a compression or allocation
 * failure would. The write or close that seals or flushes the first such page fails with code
 * and a message naming the column; the writer is then failed (sticky). code 0 removes the fault.
 * Only for tests. */
void pq_writer_inject_fault(struct pq_writer *w, size_t col, int code);

/*
 * Reader: streams a flat Parquet file into batches, one row group and one page per column at a
 * time, so memory is bounded by the largest page and dictionary, never by the file size; a PLAIN
 * data page of more than 512 KiB decompressed is itself streamed in pieces of about 128 KiB
 * (reader.c, "Large PLAIN pages").
 * Supports what astro writes and what common writers produce for flat schemas (PLAIN,
 * PLAIN_DICTIONARY/RLE_DICTIONARY, RLE levels, DataPage V1 and V2, NONE/SNAPPY/GZIP/ZSTD); any
 * other feature (nested schemas, unsupported encodings or codecs) is a clean AE_FORMAT error naming
 * it, never a crash.
 */
/*
 * Reader details (src/parquet/reader.c): types map back as the README's "Parquet output" table
 * says, plus INT32/INT64 without annotation (int32/int64), INT_x/UINT_x ConvertedTypes,
 * TIMESTAMP MILLIS/NANOS (converted to microseconds; nanoseconds round toward negative
 * infinity), the legacy TIMESTAMP_MILLIS/MICROS ConvertedTypes (UTC), INT96 (naive timestamp,
 * Spark's Julian-day arithmetic; truncated to microseconds unless pq_reader_keep_nanos),
 * DECIMAL on BYTE_ARRAY, and BYTE_ARRAY without annotation (str:
 * a value that is not valid UTF-8 is an AE_FORMAT error naming the row). Also read: LZ4_RAW
 * pages and the DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
 * BYTE_STREAM_SPLIT encodings. Page CRCs, when present, are checked. An error from
 * pq_reader_next is sticky.
 */
struct pq_reader;

/* Opens path and reads its footer. Fails with AE_IO (cannot read) or AE_FORMAT (not Parquet,
 * corrupt, or a feature we do not read, named in the message). */
int pq_reader_open(struct pq_reader **out, const char *path, struct err *e) ASTRO_WUR;

/* As pq_reader_open, on fd (borrowed: the reader reads a duplicate of it with pread, so fd's
 * offset is never used or moved); name is used in messages (copied). */
int pq_reader_open_fd(struct pq_reader **out, int fd, const char *name, struct err *e) ASTRO_WUR;

/* As pq_reader_open_fd, but a column astro cannot read (nested: a list, struct or map; or of a
 * type astro has no dtype for) does not fail the open: pq_reader_column_problem says why, the
 * column's type is a nullable str, and pq_reader_next fails with AE_FORMAT and that message while
 * the column is selected (every column is, until pq_reader_select). The leaves of a nested
 * column are never read. */
int pq_reader_open_fd_any(struct pq_reader **out, int fd, const char *name,
                          struct err *e) ASTRO_WUR;

/* Why column i cannot be read (owned by the reader), or NULL when it can. */
const char *pq_reader_column_problem(const struct pq_reader *r, size_t i);

/* True when the name of column i in the file holds a NUL byte (pq_reader_column's name is cut
 * there). */
bool pq_reader_column_name_nul(const struct pq_reader *r, size_t i);

/* Selects column i (on: read, the default) or not (its chunks are never read, and pq_reader_next
 * gives every one of its values as null): a projection, so that a file's columns nobody uses cost
 * no I/O or decoding. Call it before the first pq_reader_next (a column deselected later stops
 * being read; one selected again after that would read from where it stopped). */
void pq_reader_select(struct pq_reader *r, size_t i, bool on);

/* From now on, BYTE_ARRAY values that are not valid UTF-8 are returned as they are instead of
 * failing the read: the caller checks them (Parquet input reports each as a value failure). */
void pq_reader_allow_binary(struct pq_reader *r);

/* From now on (call it before the first pq_reader_next), TIMESTAMP(NANOS) columns hold their
 * values in nanoseconds, not rounded to microseconds, and pq_reader_column_nanos(r, i) is true for
 * them, and INT96 columns keep their nanoseconds too (pq_reader_batch_type): the caller decides
 * what digits beyond the microsecond mean (Parquet input fails a value that has any, as for
 * CSV). */
void pq_reader_keep_nanos(struct pq_reader *r);
bool pq_reader_column_nanos(const struct pq_reader *r, size_t i);

/* The type the caller gives column i of the batches it passes to pq_reader_next: the column's
 * type, except for an INT96 column after pq_reader_keep_nanos, which is read into i128 storage
 * (decimal(38,3)) holding its microseconds (Spark's arithmetic, as without keep_nanos) times 1000
 * plus the nanoseconds beyond the microsecond (-999..999), so that no digit is lost and no range
 * is narrowed; pq_reader_column still says timestamp, and pq_reader_column_nanos is true. */
struct dtype_info pq_reader_batch_type(const struct pq_reader *r, size_t i);

/* The row groups of the file and the rows of row group i (0 when i is out of range). */
size_t pq_reader_nrow_groups(const struct pq_reader *r);
uint64_t pq_reader_row_group_rows(const struct pq_reader *r, size_t i);

/* The file's columns, mapped back to astro dtypes (name and storage owned by the reader). */
size_t pq_reader_ncols(const struct pq_reader *r);
const struct column_desc *pq_reader_column(const struct pq_reader *r, size_t i);

uint64_t pq_reader_nrows(const struct pq_reader *r);

/* The most page memory one column held so far, in bytes: the capacity of its decompressed-page
 * buffer plus that of its window of compressed file bytes, at their largest (a measure for
 * tests: large PLAIN pages must not raise it to their size). */
size_t pq_reader_page_peak(const struct pq_reader *r);

/* Test hook: PLAIN data pages of more than min_page bytes decompressed are streamed (512 KiB by
 * default; 0 streams every one the reader can), and streamed snappy pages keep the last history
 * bytes of output for their copies (64 KiB by default; less makes ordinary files take the
 * whole-page fallback of a copy reaching further back). Call it before the first
 * pq_reader_next. Only for tests. */
void pq_reader_stream_tune(struct pq_reader *r, size_t min_page, size_t history);

/* The size of the file in bytes, when it was opened. */
uint64_t pq_reader_size(const struct pq_reader *r);

/* The footer key-value metadata value for key, or NULL. */
const char *pq_reader_kv(const struct pq_reader *r, const char *key);

/* Fills b (batch_init'ed by the caller with the reader's column types, any cap) with the next up
 * to b->cap rows; row_ok is 1 and line is the 1-based row number for every row. b->nrows == 0
 * at the end of the file. */
int pq_reader_next(struct pq_reader *r, struct batch *b, struct err *e) ASTRO_WUR;

void pq_reader_free(struct pq_reader *r);

#endif
