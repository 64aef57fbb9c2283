/*
 * process.h: what the files of src/daemon/ use of each other.
 */
#ifndef WSL_DAEMON_PROCESS_H
#define WSL_DAEMON_PROCESS_H

#include "py/py.h"
#include "common/ring.h"

#include <stdatomic.h>

/* How a daemon process ends (its exit status, for the supervisor).
 * The MPM tells the supervisor one number, the exit status or the signal
 * that killed the process, so these are above any signal's (and are
 * none of Apache's own APEXIT_ codes, which the MPM acts on: 15 would
 * stop Apache). */
#define WSL_DAEMON_EXIT_RESTART 101 /* asked to (a signal, a changed
                                     * script): start another at once */
#define WSL_DAEMON_EXIT_FATAL 102   /* could not set itself up: start
                                     * another only after a back-off */

/* process.c: the daemon process's life; never returns.  The supervisor
 * calls it in the forked child, for the slot's half (common/board.h) the
 * process has; replaces: the pid of the process it replaces (which
 * waits for it to serve), 0 for none; herald_fd, -1 for none, is where
 * it asks for its replacement to be started (supervisor.c).  delay:
 * wait this long first (the back-off after quick deaths). */
void wsl_daemon_process_main(const wsl_daemon_group *group, int slot,
                             int half, pid_t replaces, int listen_fd,
                             int herald_fd, pid_t parent, apr_pool_t *pconf,
                             server_rec *main_server,
                             apr_interval_time_t delay)
    __attribute__((noreturn));
/* The name ps shows for this process (argv overwritten, as
 * display-name does), and its thread name. */
void wsl_daemon_set_title(server_rec *s, const char *name);

/* What worker.c says of the request it runs, for process.c's watch: the
 * URI (request-timeout's log) and when the child handed it on (the
 * child's request-timeout counts from then; wsl_clock_now()'s), once
 * read.  ready is set after them (release), and the watch reads them
 * only once it sees it (acquire); process.c clears it before the
 * worker's next request.  A request is counted (maximum-requests,
 * inactivity) only if it was read: not a connection that was closed. */
typedef struct {
    char uri[256];
    apr_time_t handed_on;
    atomic_int ready;
} wsl_daemon_seen;

/* worker.c: one request on the connection fd, read, run, answered; ring:
 * the connection's response ring (common/ring.h), set when the request
 * brings one, freed by the caller with the connection.  1 to
 * keep the connection for the next request, 0 to close it, -1 to restart
 * the process: its WSGI script changed, and the request, not run, is for
 * the caller to send back (END "send it again") once this process takes
 * no more requests, so that it goes to the next process.  A request
 * that waited longer than queue-timeout is answered 503 unrun. */
int wsl_daemon_worker_serve(int fd, wsl_ring **ring, apr_pool_t *pool,
                            server_rec *main_server,
                            const wsl_daemon_group *group,
                            wsl_daemon_seen *seen);

#endif /* WSL_DAEMON_PROCESS_H */
