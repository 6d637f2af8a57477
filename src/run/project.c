/*
 * project.c - opening a pipeline project.
 */
#include "run/project.h"

#include "util/fs.h"
#include "validate/validate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int project_open(struct project *p, const char *config_path, struct err *e)
{
    memset(p, 0, sizeof(*p));
    int rc = config_load(config_path, &p->cfg, e);
    for (size_t i = 0; rc == 0 && i < p->cfg->ningest; i++) {
        rc = validate_spec_check(&p->cfg->ingest[i], e);
    }
    if (rc != 0) {
        goto fail;
    }
    /* Runs live next to astro.yaml; absolute paths make every message and record usable as is. */
    p->dir = realpath(p->cfg->dir, NULL);
    if (p->dir == NULL) {
        rc = err_errno(e, errno, "project folder %s", p->cfg->dir);
        goto fail;
    }
    p->working = fs_join(p->dir, ".working");
    if (p->working == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    return 0;
fail:
    project_close(p);
    return rc;
}

int project_open_stats(struct project *p, struct err *e)
{
    char *path = fs_join(p->dir, ".astro/stats.db");
    if (path == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = stats_open(path, &p->stats, e);
    free(path);
    return rc;
}

void project_close(struct project *p)
{
    stats_close(p->stats);
    config_free(p->cfg);
    free(p->dir);
    free(p->working);
    memset(p, 0, sizeof(*p));
}
