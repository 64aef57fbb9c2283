/*
 * daemon.h: daemon mode's processes, as mod_wsgi_lite.c registers them
 * (src/daemon/).  Free of Python.
 *
 *   supervisor.c  the Apache parent's side: each group's listening socket,
 *                 its processes started, restarted when they die (with a
 *                 back-off), stopped with Apache
 *   process.c     one daemon process: its user, group, directory and
 *                 name, Python, the connection loop and worker threads,
 *                 the signals that stop it
 *   worker.c      one request read from a connection and run by the WSGI
 *                 call (py/call.c) over the socket's I/O table
 *   status.c      the status board (common/board.h: each process's state
 *                 and figures in shared memory) on mod_status's page
 *
 * The Apache child's side of the socket is request/daemon_client.c; the
 * frames both speak are common/wire.h.
 */
#ifndef WSL_DAEMON_H
#define WSL_DAEMON_H

#include "config/config.h"

/* post_config, in the parent (the real start, not configtest): make each
 * group's socket and start its processes.  OK, or an error status that
 * stops Apache (a socket it cannot make). */
int wsl_daemon_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *main_server);

/* child_init, in each Apache child: what it must not keep of the
 * daemons' (their herald's pipe; write access to the status board). */
void wsl_daemon_child_init(void);

/* status.c: mod_status's status_hook, in an Apache child: the daemon
 * processes from the status board (board.c). */
int wsl_daemon_status_hook(request_rec *r, int flags);

#endif /* WSL_DAEMON_H */
