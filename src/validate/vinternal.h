/*
 * vinternal.h - the validator's internal structures, shared by its units (private to
 * src/validate): checks.c compiles a schema into struct vcolumn / struct vcheck, header.c maps a
 * file's header onto output columns (struct vout), validate.c runs batches.
 *
 * Ownership: every struct here is owned by its struct validator (or by the caller of
 * vcol_compile() for validate_schema_check()). Strings taken from the schema (names, check
 * arguments, patterns) are borrowed: the validator borrows the ingest_spec for its lifetime.
 */
#ifndef ASTRO_VALIDATE_VINTERNAL_H
#define ASTRO_VALIDATE_VINTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "validate/unique.h"
#include "validate/validate.h"
#include "validate/vparse.h"

enum ck_kind {
    CK_EQ,
    CK_NE,
    CK_GT,
    CK_GE,
    CK_LT,
    CK_LE,
    CK_RANGE,
    CK_ISIN,
    CK_NOTIN,
    CK_MATCHES,
    CK_CONTAINS,
    CK_STARTS,
    CK_ENDS,
    CK_LENGTH,
    CK_UNIQUE_EQ,
    CK_EMAIL
};

/* One compiled check of a column. */
struct vcheck {
    enum ck_kind kind;
    const struct check_spec *spec;
    char *label; /* owned: Pandera-style name with arguments, "greater_than_or_equal_to(0)" */
    char *shown; /* owned: the arguments as shown in messages ("0", "['a', 'b']", "[0, 10]") */
    union vp_val lo, hi; /* comparison operands (lo also for eq/ne/gt/ge, hi for lt/le) */
    bool inc_lo, inc_hi;
    union vp_val *set; /* owned, sorted: isin / notin / unique_values_eq values */
    size_t nset;
    const char *lit; /* str_startswith / str_endswith (borrowed from the spec) */
    size_t litlen;
    int64_t len_min, len_max; /* str_length; -1 = no bound */
    pcre2_code *re;
    pcre2_match_data *md; /* allocated once per check: matching allocates nothing */
    pcre2_match_context *mctx; /* owned: the VCK_* limits */
    struct rx *rx;        /* owned (rx.h): DFA answering like re, NULL when rx refused it */
    /* unique_values_eq state over the whole file */
    uint8_t *seen; /* owned, nset flags */
    bool extra;
    uint64_t extra_line;
    char *extra_val; /* owned copy of the first value outside the set */
    uint64_t nreported; /* cases emitted so far (the spec's n_failure_cases caps them) */
};

/* One compiled schema column. */
struct vcolumn {
    const struct column_spec *spec;
    struct vp_col pc;
    struct vp_fmt *fmts;   /* owned: pc.nfmt compiled formats (pc.fmt points here) */
    struct vcheck *checks; /* owned */
    size_t nchecks;
    bool has_default;    /* Pandera `default`: fills nulls (and a column add_missing_columns
                            adds); typed once here */
    union vp_val defval; /* str: points at the spec's text */
    pcre2_code *name_re; /* regex: true columns (anchored at the start, as re.match) */
    pcre2_match_data *name_md;
    pcre2_match_context *name_mctx; /* owned: the VCK_* limits */
    struct tz *tz; /* owned: the zone of a datetime64[ns, Zone/Name] column (pc.tz), or NULL */
};

/* Compiles column cs (checks typed against its dtype, formats, number separators, regex name).
 * loc is a "C" locale or (locale_t)0; thousands and decimal are the file's number separators (0:
 * none, '.'), which the column's own override. Fails with AE_CONFIG naming the place in the
 * schema, or AE_NOMEM (vc then holds nothing to release). */
int vcol_compile(struct vcolumn *vc, const struct column_spec *cs, locale_t loc, char thousands,
                 char decimal, struct err *e);
void vcol_release(struct vcolumn *vc);

/* PCRE2's limits for str_matches / str_contains, set explicitly so that a value costs bounded
 * time whatever the library's build defaults: backtracking steps, backtracking depth (the
 * interpreter; JIT ignores it) and heap in KiB. */
#define VCK_MATCH_LIMIT 1000000
#define VCK_DEPTH_LIMIT 10000
#define VCK_HEAP_LIMIT_KIB 16384

/* What vck_eval says of a value. */
enum { VCK_FAIL = 0, VCK_PASS = 1, VCK_LIMIT = 2 /* the pattern hit a PCRE2 limit: no verdict */ };

/* Evaluates a check on a non-null value (for str, v->s is the field's text): VCK_PASS, VCK_FAIL,
 * or VCK_LIMIT when PCRE2 gave up on a limit (the value is then neither a match nor a non-match).
 * Updates unique_values_eq state (line is the row's line). */
int vck_eval(struct vcheck *ck, const struct vp_col *pc, const union vp_val *v, uint64_t line);

/* The default failure message of ck for value (NULL for a null value). */
void vck_message(const struct vcheck *ck, char *buf, size_t n, const char *value, size_t vlen);

/* A schema error at loc: "file:line:col: path: message". Returns AE_CONFIG. */
int verr_at(struct err *e, const struct cfg_loc *loc, const char *fmt, ...) ASTRO_PRINTF(3, 4);

#define VOUT_MISSING SIZE_MAX

/* One output column. */
struct vout {
    char *name;            /* owned copy of the header name */
    size_t field;          /* index of the field in the file's records, VOUT_MISSING for a
                              column add_missing_columns added (every value its default or null) */
    struct vcolumn *vc;    /* compiled schema column, NULL for an undeclared (extra) column */
    struct vp_col pc;      /* copy of vc->pc, or a plain str column for extras */
    enum dtype_storage st; /* storage of pc.type, looked up once */
    bool nullable;
    bool unique;
    struct record_field missing; /* VOUT_MISSING: the field every record is read as (the default's
                                 text, or empty) */
    struct kset uset;            /* unique: true, report_duplicates: exclude_first (one pass) */
    struct kdups dups; /* unique: true, the other modes: every repeat, found by the pre-pass */
    /* extra null markers: the spec's, then the column's (borrowed) */
    char *const *nv_spec;
    size_t n_nv_spec;
    char *const *nv_col;
    size_t n_nv_col;
    uint64_t nv_lens; /* bit k set when a marker has length k (k < 64); bit 63 also for longer */
    /* A binary field (records.h, REC_F_BINARY) of the column's own dtype may be taken as it is
     * (validate.c, bin_value): a declared column without null markers, formats, separators,
     * bool spellings or a time zone, the things its text would be read through. */
    bool binok;
    unsigned __int128 dec_lim; /* DT_DECIMAL: 10^precision, the bound of its unscaled values */
};

/* report_duplicates: which occurrences of a repeated key fail (Pandera's meaning). */
enum vdup_mode {
    VDUP_EXCLUDE_FIRST, /* every occurrence but the first (astro's default: one pass) */
    VDUP_ALL,           /* every occurrence (needs a pre-pass) */
    VDUP_EXCLUDE_LAST   /* every occurrence but the last (needs a pre-pass) */
};

/* A frame-level unique set (schema.unique). */
struct vuset {
    size_t *cols; /* owned: output column indices */
    size_t ncols;
    char *label; /* owned: "a, b" */
    struct kset set;
    struct kdups dups; /* pre-pass (see struct vout) */
};

/* Kinds of failure cases. */
enum vf_kind {
    VF_FIELD_COUNT,
    VF_UNTERMINATED,
    VF_RECORD_LINES, /* a record spanning more than max_record_lines lines */
    VF_ENCODING,
    VF_NUL_BYTE, /* a field holding a NUL byte (REC_F_NUL) */
    VF_QUOTING,  /* a warning: text after a closing quote (REC_R_LOOSE_QUOTE, one line) */
    VF_NULL,
    VF_DTYPE,
    VF_CHECK,
    VF_CHECK_NULL, /* a null failing a check with ignore_na: false */
    VF_UNIQUE,
    VF_FRAME_UNIQUE,
    VF_JSON_TYPE,  /* a JSON value whose type does not fit the dtype (status: enum vjson_fit) */
    VF_UNREADABLE, /* a record the reader could not read (REC_R_UNREADABLE) */
    VF_INDEX       /* a check of the schema's index (the 0-based row position) */
};

/* How a JSON value's type fits a column (validate.h, "JSON values"). */
enum vjson_fit {
    VJ_OK,
    VJ_COMPOSITE,
    VJ_STRING,
    VJ_NUMBER,
    VJ_BOOL,
    VJ_FRACTION,
    VJ_CELL_ERROR,
    VJ_TIME
};

/* A failure case recorded during a batch; messages are built when the batch is emitted, in
 * (row, recording order) order, so the cases come out in line order. */
struct vfail {
    uint32_t row;   /* row index in the record_block block */
    uint32_t seq;   /* recording order */
    uint32_t col;   /* output column, or frame-unique set index, or UINT32_MAX (row-level) */
    uint16_t check; /* check index (VF_CHECK*) */
    uint8_t kind;
    uint8_t status; /* VP_* status (VF_DTYPE) or 1 = warning (VF_CHECK*) */
    uint64_t aux;   /* VF_FIELD_COUNT: fields found; VF_*UNIQUE: line of the first occurrence;
                       VF_RECORD_LINES: lines spanned; VF_CHECK*: 1 when the pattern hit
                       PCRE2's match limit (no verdict on the value) */
};

struct validator {
    const struct ingest_spec *spec;
    struct failure_sink fs;
    locale_t c_locale;
    struct vcolumn *vcols; /* one per schema column */
    size_t nvcols;
    bool has_index;           /* the schema has an index block: ivc checks the row position */
    struct column_spec ispec; /* shallow copy of the schema's index (name "index" when null) */
    struct vcolumn ivc;
    struct vcolumn *xvcs; /* owned: one per undeclared column kept, compiled from the schema's
                             extra rule (frame dtype and checks), or NULL when it has none */
    size_t nxvcs;
    struct vout *outs;
    size_t nout;
    struct vuset *usets;
    size_t nusets;
    size_t nheader;
    char **header; /* owned copy of the header names, for validator_clone */
    uint8_t *header_flags; /* owned: the reader's REC_F_* flags of each name, or NULL */
    uint64_t header_line;
    bool header_failed;
    bool finished;
    enum vdup_mode dup_mode;
    bool prepass_done;
    /* The pre-pass decided the verdicts of the unique columns / of the frame-level sets (struct
     * kdups in memory, or the spill): the main pass computes no keys for them and probes nothing.
     * Copied to clones. */
    bool judged_cols, judged_frames;
    /* validator_keys_optimistic: no pre-pass; the sets it would judge are probed in the main
     * pass, and the first repeated key stops the file with keys_retry set. */
    bool optimistic, keys_retry;
    uint64_t key_cap; /* optimistic: the bytes the key sets may grow to (kset_cap) */
    struct batch pbatch; /* pre-pass: typed key columns of one block */
    bool pbatch_ready;
    bool fail_fast;      /* stop at the row of the first error case */
    bool stopped;        /* fail_fast stopped */
    uint64_t block_row0; /* rows read before the current block (for struct failure.row) */
    size_t block_first;  /* index of the current block's first data row in its record_block */
    struct validate_counts counts;
    /* The block in progress; its fails and skip arrays belong to a struct vblock and are swapped
     * in for the duration of validator_run_local / validator_commit. */
    struct vfail *fails;
    size_t nfails, capfails;
    uint8_t *skip; /* per row of the current block: 1 = row-level failure, values not checked */
    size_t capskip;
    struct vblock *own_block; /* validator_run's block */
    struct vkey *keys;        /* per row of the current block: the key of one set */
    size_t capkeys;
    struct kspill *spill; /* the key check spilled to disk (validator_plan_keys), or NULL */
    size_t ugroups;       /* validator_unique_groups: partition groups probed in parallel, or 0 */
    uint32_t *kcol;       /* per key set (key_sets order): output column, or nout + frame set */
    /* optimistic: per key set, the sequence of consecutive integers its keys have been so far
     * (struct kseq, validate.c), followed in the commit (kseqs) or by each partition group
     * (gseqs: ugroups x sets); allocated when first needed. */
    struct kseq *kseqs, *gseqs;
    struct buf scratch;
};

/* header.c: maps header onto v->outs and emits header failures. */
int vheader_map(struct validator *v, const char *const *header, size_t nheader, struct err *e);

/* validate.c: emits one failure through the sink, counting it. */
int vemit(struct validator *v, const struct failure *f, struct err *e);

#endif
