/*
 * input.c - the registry of input formats and the input lifecycle (input.h).
 */
#include "input/input.h"

#include <string.h>

const struct input_ops *input_ops_for(enum input_format f)
{
    /* No default: -Wswitch names this place when a format is added to the enum. */
    switch (f) {
    case INPUT_CSV: return &input_csv_ops;
    case INPUT_NDJSON: return &input_ndjson_ops;
    case INPUT_JSON: return &input_json_ops;
    case INPUT_XLSX: return &input_xlsx_ops;
    case INPUT_PARQUET: return &input_parquet_ops;
    }
    return NULL;
}

int input_open(struct input *in, int fd, const char *name, const struct ingest_spec *spec,
               struct err *e)
{
    return input_open_with(in, input_ops_for(spec->format), fd, name, spec, e);
}

int input_open_with(struct input *in, const struct input_ops *ops, int fd, const char *name,
                    const struct ingest_spec *spec, struct err *e)
{
    memset(in, 0, sizeof(*in));
    if (ops == NULL) {
        return err_set(e, AE_INTERNAL, "%s: no reader for format %d", name, (int)spec->format);
    }
    int rc = source_open(&in->src, fd, name, e);
    if (rc == 0) {
        rc = ops->open(&in->impl, in->src, spec, e);
    }
    if (rc != 0) {
        input_close(in);
        return rc;
    }
    in->ops = ops;
    return 0;
}

int input_next(struct input *in, struct record_block *b, size_t max_rows, struct err *e)
{
    int rc = input_read(in, b, max_rows, e);
    return rc != 0 ? rc : input_complete(in, b, e);
}

uint64_t input_bytes(const struct input *in)
{
    return in->src != NULL ? source_bytes(in->src) : 0;
}

void input_sha256(const struct input *in, unsigned char out[32])
{
    if (in->src == NULL) {
        memset(out, 0, 32);
        return;
    }
    source_sha256(in->src, out);
}

void input_skip_hash(struct input *in)
{
    if (in->src != NULL) {
        source_skip_hash(in->src);
    }
}

bool input_field_names(const struct input *in, const char *const **names, size_t *n)
{
    if (in->ops == NULL || in->ops->names == NULL) {
        return false;
    }
    *n = in->ops->names(in->impl, names);
    return true;
}

const uint8_t *input_field_name_flags(const struct input *in)
{
    return in->ops != NULL && in->ops->name_flags != NULL ? in->ops->name_flags(in->impl) : NULL;
}

int input_select(struct input *in, const bool *used, size_t n, struct err *e)
{
    return in->ops != NULL && in->ops->select != NULL ? in->ops->select(in->impl, used, n, e) : 0;
}

const char *input_refusal_check(const struct input *in)
{
    if (in->src != NULL && source_decode_failed(in->src)) {
        return "decompression";
    }
    if (in->ops != NULL && in->ops->refusal != NULL && in->ops->refusal(in->impl) != NULL) {
        return in->ops->refusal(in->impl);
    }
    return in->ops != NULL && in->ops->refusal_check != NULL ? in->ops->refusal_check
                                                             : "record_length";
}

uint64_t input_row_count(const struct input *in)
{
    return in->ops != NULL && in->ops->row_count != NULL ? in->ops->row_count(in->impl)
                                                         : UINT64_MAX;
}

uint64_t input_position(const struct input *in)
{
    return in->ops != NULL ? in->ops->position(in->impl) : 0;
}

void input_close(struct input *in)
{
    if (in->ops != NULL) {
        in->ops->free(in->impl);
    }
    source_free(in->src);
    memset(in, 0, sizeof(*in));
}

int input_failed(const struct err *failed, struct err *e)
{
    if (failed->code != 0 && e != NULL) {
        *e = *failed;
    }
    return failed->code;
}

int input_fail(struct err *failed, struct record_block *b, int rc, bool hand_over, struct err *e)
{
    if (e != NULL) {
        *failed = *e;
    }
    failed->code = rc;
    if (hand_over && rc == AE_FORMAT && b->nrows > 0) {
        err_clear(e);
        return 0;
    }
    b->nrows = 0;
    b->nfields = 0;
    return rc;
}
