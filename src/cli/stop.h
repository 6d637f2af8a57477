/*
 * stop.h - SIGINT and SIGTERM as a request to stop, for a driver that must clean up and record
 * why before it ends (ingest; later watch).
 *
 * While a struct stop_signals is active, both signals are blocked in every thread and read from
 * a signalfd: no signal handler runs at all, so there is nothing to keep async-signal-safe, and
 * the engine's threads (created later) inherit the mask. The driver asks stop_signals_check()
 * between blocks; once it reports a signal the driver stops, removes its temporary files and
 * records the run as failed with the reason. stop_signals_end() restores the signal mask; when a
 * signal was caught, stop_signals_reraise() then ends the process by that signal with its default
 * action, so a shell or scheduler sees what it asked for (exit status 128 + N). A signal that was
 * ignored when the driver started (nohup, a scheduler's SIG_IGN) stays ignored.
 */
#ifndef ASTRO_CLI_STOP_H
#define ASTRO_CLI_STOP_H

#include "util/err.h"

#include <signal.h>

struct stop_signals {
    int fd;         /* the signalfd; -1 when inactive */
    int caught;     /* the first signal read, 0 while none */
    sigset_t set;   /* the signals taken over */
    sigset_t saved; /* the mask before stop_signals_begin */
};

/* Blocks SIGINT and SIGTERM (those not ignored) and opens the signalfd. AE_IO when the system
 * refuses (then nothing is changed). */
int stop_signals_begin(struct stop_signals *s, struct err *e) ASTRO_WUR;

/* The interrupt callback of the engine and the delivery (engine.h): 0 to go on, AE_CANCELLED
 * with e filled ("interrupted: astro received SIGINT ...") once a signal arrived. ctx is a
 * struct stop_signals. Called by one thread at a time. */
int stop_signals_check(void *ctx, struct err *e);

/* Reads a signal still pending, closes the signalfd and restores the mask. Returns the signal
 * caught (0: none). Safe on an inactive struct. */
int stop_signals_end(struct stop_signals *s);

/* Ends the process by signal sig with its default action (after stop_signals_end). Returns only
 * if that did not end it. */
void stop_signals_reraise(int sig);

#endif
