/*
 * project.h - what every command that works on runs needs: astro.yaml loaded and checked, the
 * project folder (absolute, the folder of astro.yaml), .working/ and .astro/stats.db.
 */
#ifndef ASTRO_RUN_PROJECT_H
#define ASTRO_RUN_PROJECT_H

#include "config/config.h"
#include "stats/stats.h"

struct project {
    struct config *cfg;
    char *dir;     /* absolute */
    char *working; /* dir/.working */
    struct stats *stats; /* NULL until project_open_stats() */
};

/* Loads config_path (every schema checked too). Creates nothing on disk. */
int project_open(struct project *p, const char *config_path, struct err *e) ASTRO_WUR;

/* Opens (creating it if needed) .astro/stats.db into p->stats. */
int project_open_stats(struct project *p, struct err *e) ASTRO_WUR;
void project_close(struct project *p);

#endif
