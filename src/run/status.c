/*
 * status.c - the words of the run record's statuses and their parsing. Each parse walks the same
 * switch as its *_name(), so a word and its enumerator cannot drift apart.
 */
#include "run/status.h"

#include <stddef.h>
#include <string.h>

const char *run_status_name(enum run_status s)
{
    switch (s) {
    case RUN_STATUS_INGESTING: return "ingesting";
    case RUN_STATUS_INGESTED: return "ingested";
    case RUN_STATUS_RUNNING: return "running";
    case RUN_STATUS_COMPLETED: return "completed";
    case RUN_STATUS_FAILED: return "failed";
    case RUN_STATUS_ABANDONED: return "abandoned";
    case RUN_STATUS_UNKNOWN: return "unknown";
    }
    return "unknown";
}

const char *run_phase_name(enum run_phase p)
{
    switch (p) {
    case RUN_PHASE_NONE: return NULL;
    case RUN_PHASE_INGEST: return "ingest";
    case RUN_PHASE_RUN: return "run";
    }
    return NULL;
}

const char *file_status_name(enum file_status s)
{
    switch (s) {
    case FILE_STATUS_INGESTED: return "ingested";
    case FILE_STATUS_FAILED: return "failed";
    }
    return "failed";
}

const char *step_status_name(enum step_status s)
{
    switch (s) {
    case STEP_STATUS_PENDING: return "pending";
    case STEP_STATUS_RUNNING: return "running";
    case STEP_STATUS_DONE: return "done";
    case STEP_STATUS_SKIPPED: return "skipped";
    case STEP_STATUS_FAILED: return "failed";
    }
    return "failed";
}

/* True when word is name (both may be NULL: a NULL name matches nothing). */
static bool is_word(const char *word, const char *name)
{
    return word != NULL && name != NULL && strcmp(word, name) == 0;
}

bool run_status_parse(const char *word, enum run_status *out)
{
    for (int s = RUN_STATUS_INGESTING; s < RUN_STATUS_UNKNOWN; s++) {
        if (is_word(word, run_status_name((enum run_status)s))) {
            *out = (enum run_status)s;
            return true;
        }
    }
    return false;
}

bool run_phase_parse(const char *word, enum run_phase *out)
{
    for (int p = RUN_PHASE_INGEST; p <= RUN_PHASE_RUN; p++) {
        if (is_word(word, run_phase_name((enum run_phase)p))) {
            *out = (enum run_phase)p;
            return true;
        }
    }
    return false;
}

bool file_status_parse(const char *word, enum file_status *out)
{
    for (int s = FILE_STATUS_INGESTED; s <= FILE_STATUS_FAILED; s++) {
        if (is_word(word, file_status_name((enum file_status)s))) {
            *out = (enum file_status)s;
            return true;
        }
    }
    return false;
}

bool step_status_parse(const char *word, enum step_status *out)
{
    for (int s = STEP_STATUS_PENDING; s <= STEP_STATUS_FAILED; s++) {
        if (is_word(word, step_status_name((enum step_status)s))) {
            *out = (enum step_status)s;
            return true;
        }
    }
    return false;
}

bool run_status_active(enum run_status s)
{
    switch (s) {
    case RUN_STATUS_INGESTING:
    case RUN_STATUS_RUNNING: return true;
    case RUN_STATUS_INGESTED:
    case RUN_STATUS_COMPLETED:
    case RUN_STATUS_FAILED:
    case RUN_STATUS_ABANDONED:
    case RUN_STATUS_UNKNOWN: return false;
    }
    return false;
}
