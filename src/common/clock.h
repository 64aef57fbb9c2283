/*
 * clock.h: the clock of deadlines and timeouts.  CLOCK_MONOTONIC, not
 * the wall clock (apr_time_now()): a step of that one (NTP's, an
 * administrator's date) must neither extend nor cut a timeout.  The wall
 * clock stays for times shown to people (a process's start on the status
 * board, mod_wsgi.queue_start).  CLOCK_MONOTONIC is the machine's, the
 * same in every process of it: the status board and the request frame
 * (wire.h) carry its times between Apache's children and the daemons.
 * Plain C and APR.
 */
#ifndef WSL_COMMON_CLOCK_H
#define WSL_COMMON_CLOCK_H

#include "apr_time.h"

#include <pthread.h>
#include <time.h>

/* Now, in apr_time_t's microseconds, since an unspecified start (the
 * boot): only differences and deadlines mean anything. */
static inline apr_time_t wsl_clock_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return apr_time_make(ts.tv_sec, ts.tv_nsec / 1000);
}

/* A condition whose timed waits take this clock's deadlines: with the
 * default clock (CLOCK_REALTIME), a step of the wall clock would move
 * every deadline of wsl_clock_deadline_in(). */
static inline void wsl_clock_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* `in` from now, as pthread_cond_timedwait() takes a deadline of a
 * wsl_clock_cond_init() condition. */
static inline struct timespec wsl_clock_deadline_in(apr_interval_time_t in)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)apr_time_sec(in);
    ts.tv_nsec += (long)apr_time_usec(in) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif /* WSL_COMMON_CLOCK_H */
