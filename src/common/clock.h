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

#include <time.h>

/* Now, in apr_time_t's microseconds, since an unspecified start (the
 * boot): only differences and deadlines mean anything. */
static inline apr_time_t wsl_clock_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return apr_time_make(ts.tv_sec, ts.tv_nsec / 1000);
}

#endif /* WSL_COMMON_CLOCK_H */
