/*
 * fuzz_config.c - libFuzzer entry point for the configuration loader: astro.yaml (config_load)
 * and Pandera schema files (config_load_schema_file) are outside input. Built with
 * -DASTRO_FUZZ=ON (see tests/fuzz/run.sh and scripts/fuzz); seeds in tests/fuzz/seeds/config and
 * tests/data/config.
 *
 * The input is the whole file, written to a private temp folder and loaded both ways. Besides
 * memory errors and leaks it checks the loader's promises (config.h): a load gives either a
 * config or exactly one error, never both; the error is AE_CONFIG (content) or AE_IO (a
 * schema_file that cannot be read), with a message; a failed schema load leaves the struct
 * zeroed. test_config_fuzz.c runs fixed mutations of the fixtures in every build; this target
 * explores beyond them.
 */
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[96];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

static void check_error(int rc, const struct err *e)
{
    if ((rc != AE_CONFIG && rc != AE_IO) || e->code != rc || e->msg[0] == '\0') {
        fprintf(stderr, "fuzz_config: rc %d, code %d, message [%s]\n", rc, e->code, e->msg);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/astro-fuzz-config.XXXXXX");
        if (mkdtemp(dir) == NULL) {
            abort();
        }
        snprintf(path, sizeof(path), "%s/astro.yaml", dir);
        atexit(cleanup);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        abort();
    }

    struct err e = {0};
    struct config *c = NULL;
    int rc = config_load(path, &c, &e);
    if ((rc == 0) != (c != NULL)) {
        abort();
    }
    if (rc != 0) {
        check_error(rc, &e);
    }
    config_free(c);

    struct err e2 = {0};
    struct schema s;
    rc = config_load_schema_file(path, &s, &e2);
    if (rc == 0) {
        schema_release(&s);
    } else {
        check_error(rc, &e2);
        if (s.cols != NULL) {
            abort();
        }
    }
    return 0;
}
