/*
 * stop.c - SIGINT and SIGTERM read from a signalfd while a driver works (stop.h).
 */
#include "cli/stop.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* True when sig is ignored by the process (inherited SIG_IGN): then it is left alone. */
static bool ignored(int sig)
{
    struct sigaction sa;
    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

int stop_signals_begin(struct stop_signals *s, struct err *e)
{
    s->fd = -1;
    s->caught = 0;
    sigemptyset(&s->set);
    if (!ignored(SIGINT)) {
        sigaddset(&s->set, SIGINT);
    }
    if (!ignored(SIGTERM)) {
        sigaddset(&s->set, SIGTERM);
    }
    int rc = pthread_sigmask(SIG_BLOCK, &s->set, &s->saved);
    if (rc != 0) {
        return err_errno(e, rc, "cannot block SIGINT and SIGTERM");
    }
    s->fd = signalfd(-1, &s->set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->fd < 0) {
        rc = err_errno(e, errno, "cannot open a signalfd");
        pthread_sigmask(SIG_SETMASK, &s->saved, NULL);
        return rc;
    }
    return 0;
}

/* Reads one pending signal, if any, into s->caught (the first one stays). */
static void poll_fd(struct stop_signals *s)
{
    struct signalfd_siginfo si;
    while (s->fd >= 0 && read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (s->caught == 0) {
            s->caught = (int)si.ssi_signo;
        }
    }
}

int stop_signals_check(void *ctx, struct err *e)
{
    struct stop_signals *s = ctx;
    if (s->caught == 0) {
        poll_fd(s);
    }
    if (s->caught == 0) {
        return 0;
    }
    return err_set(e, AE_CANCELLED,
                   "interrupted: astro received %s and stopped before finishing; its temporary "
                   "files were removed",
                   s->caught == SIGINT ? "SIGINT" : "SIGTERM");
}

int stop_signals_end(struct stop_signals *s)
{
    if (s->fd < 0) {
        return s->caught;
    }
    poll_fd(s);
    close(s->fd);
    s->fd = -1;
    pthread_sigmask(SIG_SETMASK, &s->saved, NULL);
    return s->caught;
}

void stop_signals_reraise(int sig)
{
    if (sig == 0) {
        return;
    }
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
}
