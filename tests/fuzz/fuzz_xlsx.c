/*
 * fuzz_xlsx.c - libFuzzer entry point for the xlsx reader (input/xlsx.c), driven as the engine
 * drives it: input_open_with on a file, input_next until the end. Built by the fuzz build (cmake
 * -DCMAKE_C_COMPILER=clang -DASTRO_FUZZ=ON) and run by tests/fuzz/run.sh; seeds in
 * tests/fuzz/seeds/xlsx.
 *
 * Random bytes are almost never a zip, so the first input byte picks how the rest is used: bit 0
 * clear, the rest is the file itself (libzip's refusals must come back as clean AE_FORMAT
 * errors); bit 0 set, the rest is up to four XML parts separated by NUL bytes (the worksheet,
 * sharedStrings.xml, styles.xml, workbook.xml; an absent or empty part gets a minimal default)
 * that libzip packs into a workbook, so the fuzzer works on the XML this file's handlers read.
 * Bit 1 names the sheet in the spec (sheet: Data) instead of taking the first; bits 2-7 set the
 * rows per call of the second read. Besides memory errors it checks the reader's invariants:
 * reading one row per call or many gives the same records (fields, flags, lines) and the same
 * verdict, every readable record after the header has the header's field count and every field
 * lies inside the block, a failure is AE_FORMAT, and the byte count and sha256 cover the whole
 * file.
 */
#include "batch/records.h"
#include "input/input.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zip.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const default_parts[] = {
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row><row r=\"2\"><c r=\"A2\"><v>1</v></c></row>"
    "</sheetData></worksheet>",
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><si><t>a</t></si>"
    "</sst>",
    "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><cellXfs>"
    "<xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>",
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
    "<sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
};
static const char *const part_names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                         "xl/styles.xml", "xl/workbook.xml"};
static const char rels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
static const char wb_rels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/styles\" Target=\"styles.xml\"/></Relationships>";

static void add(zip_t *z, const char *name, const void *p, size_t n)
{
    zip_source_t *s = zip_source_buffer(z, p, n, 0);
    if (s == NULL || zip_file_add(z, name, s, ZIP_FL_OVERWRITE) < 0) {
        abort();
    }
}

/* A file descriptor holding the file to read: the bytes as they are, or a workbook of the parts. */
static int make_file(const uint8_t *d, size_t n, bool pack)
{
    char path[] = "/tmp/fuzz_xlsx.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        abort();
    }
    if (!pack) {
        unlink(path);
        if ((n > 0 && write(fd, d, n) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0) {
            abort();
        }
        return fd;
    }
    close(fd);
    int ze = 0;
    zip_t *z = zip_open(path, ZIP_TRUNCATE, &ze);
    if (z == NULL) {
        abort();
    }
    add(z, "_rels/.rels", rels, strlen(rels));
    add(z, "xl/_rels/workbook.xml.rels", wb_rels, strlen(wb_rels));
    const uint8_t *p = d, *end = d + n;
    for (size_t k = 0; k < 4; k++) {
        const uint8_t *z0 = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
        const uint8_t *stop = z0 != NULL ? z0 : end;
        if (stop > p) {
            add(z, part_names[k], p, (size_t)(stop - p));
        } else {
            add(z, part_names[k], default_parts[k], strlen(default_parts[k]));
        }
        p = z0 != NULL ? z0 + 1 : end;
    }
    if (zip_close(z) != 0) {
        abort();
    }
    fd = open(path, O_RDONLY);
    unlink(path);
    if (fd < 0) {
        abort();
    }
    return fd;
}

/* Appends a self-delimiting description of rows to a growing malloc'd string; *ncols is the
 * header's field count (0 until the header is seen). */
static void describe(char **out, size_t *len, const struct record_block *rows, size_t *ncols)
{
    for (size_t i = 0; i < rows->nrows; i++) {
        uint32_t first = rows->row_first[i], end = rows->row_first[i + 1];
        if (first > end || end > rows->nfields) {
            abort();
        }
        if (*ncols == 0) {
            *ncols = end - first;
        } else if (!(rows->row_flags[i] & REC_R_UNREADABLE) && end - first != *ncols) {
            abort();
        }
        size_t need = 64 + rows->raw_len[i];
        for (uint32_t f = first; f < end; f++) {
            need += 16 + rows->fields[f].len;
        }
        char *p = realloc(*out, *len + need);
        if (p == NULL) {
            abort();
        }
        *out = p;
        *len += (size_t)sprintf(p + *len, "%llu/%u:", (unsigned long long)rows->line[i],
                                rows->row_flags[i]);
        for (uint32_t f = first; f < end; f++) {
            const struct record_field *fd = &rows->fields[f];
            *len += (size_t)sprintf(p + *len, "|%u/%u:", fd->flags, fd->len);
            if (fd->len > 0) {
                memcpy(p + *len, fd->p, fd->len);
            }
            *len += fd->len;
        }
        if (rows->raw_len[i] > 0) {
            memcpy(p + *len, rows->raw[i], rows->raw_len[i]);
            *len += rows->raw_len[i];
        }
        p[(*len)++] = '\n';
    }
}

static char *run(int fd, const struct ingest_spec *spec, size_t max_rows, size_t *len,
                 int *rc_out)
{
    struct input in = {0};
    struct record_block rows = {0};
    struct err e = {0};
    char *out = NULL;
    size_t ncols = 0;
    *len = 0;
    if (lseek(fd, 0, SEEK_SET) != 0) {
        abort();
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        abort();
    }
    int rc = input_open_with(&in, &input_xlsx_ops, fd, "fuzz.xlsx", spec, &e);
    if (rc == 0) {
        for (;;) {
            rc = input_next(&in, &rows, max_rows, &e);
            if (rc != 0 || rows.nrows == 0) {
                break;
            }
            describe(&out, len, &rows, &ncols);
        }
        if (rc != 0 && rc != AE_FORMAT) {
            abort();
        }
        if (input_bytes(&in) != (uint64_t)size) {
            abort(); /* the whole file is read (hashed) before the zip is opened */
        }
    }
    record_block_release(&rows);
    input_close(&in);
    *rc_out = rc;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t a = data[0];
    int fd = make_file(data + 1, size - 1, (a & 1) != 0);
    struct ingest_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.format = INPUT_XLSX;
    spec.has_header = true;
    spec.sheet = (a & 2) ? "Data" : NULL;
    size_t max_rows = 1 + (a >> 2);
    size_t n1, n2;
    int rc1, rc2;
    char *whole = run(fd, &spec, 100000, &n1, &rc1);
    char *small = run(fd, &spec, max_rows, &n2, &rc2);
    /* A failure may come at a different call, so only successful reads are compared. */
    if (rc1 == 0 && rc2 == 0 && (n1 != n2 || (n1 > 0 && memcmp(whole, small, n1) != 0))) {
        abort();
    }
    if ((rc1 == 0) != (rc2 == 0)) {
        abort();
    }
    if (!(a & 1)) {
        /* The sha256 of a plain file is that of its bytes. */
        struct input in = {0};
        struct record_block rows = {0};
        struct err e = {0};
        if (lseek(fd, 0, SEEK_SET) != 0 ||
            input_open_with(&in, &input_xlsx_ops, fd, "fuzz.xlsx", &spec, &e) != 0) {
            abort();
        }
        (void)input_next(&in, &rows, 1, &e);
        unsigned char h1[32], h2[32];
        input_sha256(&in, h1);
        SHA256(data + 1, size - 1, h2);
        if (memcmp(h1, h2, 32) != 0) {
            abort();
        }
        record_block_release(&rows);
        input_close(&in);
    }
    free(whole);
    free(small);
    close(fd);
    return 0;
}
