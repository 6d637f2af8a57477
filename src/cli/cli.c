/*
 * cli.c - global options, command dispatch and the mapping of error codes to exit statuses.
 */
#include "cli/cli.h"

#include "cli/commands.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        return 1;
    }
    return n > CLI_MAX_DEFAULT_THREADS ? CLI_MAX_DEFAULT_THREADS : (int)n;
}

int cli_parse_threads(const char *arg, int *out, struct err *e)
{
    char *end = NULL;
    long n = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || n < 1 || n > CLI_MAX_THREADS) {
        return err_set(e, AE_CONFIG, "--threads takes a whole number from 1 to %d, not '%s'",
                       CLI_MAX_THREADS, arg);
    }
    *out = (int)n;
    return 0;
}

int cli_parse_memory_limit(const char *arg, uint64_t *out, struct err *e)
{
    char *end = NULL;
    unsigned long long n = strtoull(arg, &end, 10);
    unsigned shift = 0;
    if (end != arg && (*end == 'K' || *end == 'k')) {
        shift = 10;
    } else if (end != arg && (*end == 'M' || *end == 'm')) {
        shift = 20;
    } else if (end != arg && (*end == 'G' || *end == 'g')) {
        shift = 30;
    }
    if (shift != 0) {
        end++;
        if (*end == 'B' || *end == 'b') {
            end++;
        }
    }
    if (end == arg || *end != '\0' || arg[0] == '-' || n == 0 || n > (UINT64_MAX >> 30) ||
        (n << shift) < ((uint64_t)1 << 20)) {
        return err_set(e, AE_CONFIG,
                       "--memory-limit takes a size of at least 1M, such as 256M or 2G, not '%s'",
                       arg);
    }
    *out = (uint64_t)n << shift;
    return 0;
}

int cli_exit_code(int ae_code)
{
    switch (ae_code) {
    case AE_OK: return EXIT_OK;
    case AE_DATA: return EXIT_DATA;
    case AE_CONFIG: return EXIT_USAGE;
    case AE_BUSY: return EXIT_REFUSED;
    default: return EXIT_ENV;
    }
}

static void usage(FILE *out)
{
    fputs("usage: astro [--config PATH] [--log-format text|json] [-q|-v] COMMAND [ARGS]\n"
          "\n"
          "Commands:\n"
          "  ingest SOURCE_DIR   validate the expected files of SOURCE_DIR and write typed\n"
          "                      Parquet into a new run folder .working/RUN_ID/\n"
          "  run [RUN_ID]        execute the pipeline's steps (load, sql, exec) for an ingested\n"
          "                      run; resumable; all done -> completed\n"
          "  runs                list the runs\n"
          "  status [RUN_ID]     show one run (default the newest): files, row counts, steps\n"
          "  validate FILE       validate one file against its spec, without a run or output\n"
          "  schema infer FILE   print a Pandera YAML schema inferred from a CSV file\n"
          "  watch [DATA_ROOT]   the drop-zone service: take in, validate, load and move each\n"
          "                      file that lands in DATA_ROOT/incoming/\n"
          "\n"
          "Global options (before or after the command):\n"
          "  --config PATH       pipeline definition (default ./astro.yaml)\n"
          "  --log-format FMT    text (default) or json, for the console and astro.log\n"
          "  -q, --quiet         only warnings and errors on the console\n"
          "  -v, --verbose       debug messages too\n"
          "  --version           print the version\n"
          "  --help              this text; `astro COMMAND --help` for a command\n"
          "\n"
          "Exit status: 0 success, 1 data failed validation, 2 usage or configuration error,\n"
          "3 environment error (I/O, database), 4 refused by the execution mode.\n",
          out);
}

/* Applies the global option at argv[*i] to g, consuming its value when it takes one. Returns 1
 * when argv[*i] is a global option (applied), 0 when it is not, or an exit status + 2 (so never
 * 0 or 1) when it is one with a bad value. --version and --help are not handled here. */
static int global_option(struct cli_globals *g, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        g->level = LOG_WARN;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        g->level = LOG_DEBUG;
    } else if (strcmp(a, "--config") == 0 && *i + 1 < argc) {
        g->config_path = argv[++*i];
    } else if (strncmp(a, "--config=", 9) == 0) {
        g->config_path = a + 9;
    } else if ((strcmp(a, "--log-format") == 0 && *i + 1 < argc) ||
               strncmp(a, "--log-format=", 13) == 0) {
        const char *v = a[12] == '=' ? a + 13 : argv[++*i];
        if (strcmp(v, "json") == 0) {
            g->log_json = true;
        } else if (strcmp(v, "text") == 0) {
            g->log_json = false;
        } else {
            fprintf(stderr, "astro: --log-format must be text or json, not '%s'\n", v);
            return EXIT_USAGE + 2;
        }
    } else {
        return 0;
    }
    return 1;
}

int cli_main(int argc, char **argv)
{
    struct cli_globals g = {"astro.yaml", false, LOG_INFO};
    int i = 1;
    /* Global options may come before the command ... */
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        int r = global_option(&g, argc, argv, &i);
        if (r > 1) {
            return r - 2;
        }
        if (r == 1) {
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            printf("astro %s\n", ASTRO_VERSION);
            return EXIT_OK;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "astro: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* ... or anywhere after it (`astro ingest d -q`): they are taken out of the command's
     * arguments, up to a `--`, after which every argument is the command's. A command option
     * whose value looks like a global option must be written --opt=VALUE. */
    char **cargv = calloc((size_t)(argc - i + 1), sizeof(*cargv));
    if (cargv == NULL) {
        fprintf(stderr, "astro: out of memory\n");
        return EXIT_ENV;
    }
    int cargc = 0;
    cargv[cargc++] = argv[i];
    bool rest = false;
    for (int j = i + 1; j < argc; j++) {
        int r = rest ? 0 : global_option(&g, argc, argv, &j);
        if (r > 1) {
            free(cargv);
            return r - 2;
        }
        if (r == 0) {
            rest = rest || strcmp(argv[j], "--") == 0;
            cargv[cargc++] = argv[j];
        }
    }
    cargv[cargc] = NULL;
    const char *cmd = cargv[0];
    int rc;
    if (strcmp(cmd, "ingest") == 0) {
        rc = cmd_ingest(&g, cargc, cargv);
    } else if (strcmp(cmd, "validate") == 0) {
        rc = cmd_validate(&g, cargc, cargv);
    } else if (strcmp(cmd, "schema") == 0) {
        rc = cmd_schema(&g, cargc, cargv);
    } else if (strcmp(cmd, "run") == 0) {
        rc = cmd_run(&g, cargc, cargv);
    } else if (strcmp(cmd, "runs") == 0) {
        rc = cmd_runs(&g, cargc, cargv);
    } else if (strcmp(cmd, "status") == 0) {
        rc = cmd_status(&g, cargc, cargv);
    } else if (strcmp(cmd, "watch") == 0) {
        rc = cmd_watch(&g, cargc, cargv);
    } else {
        fprintf(stderr,
                "astro: unknown command '%s' (commands: ingest, validate, schema, run, runs, "
                "status, watch)\n",
                cmd);
        free(cargv);
        return EXIT_USAGE;
    }
    free(cargv);
    return cli_exit_code(rc);
}
