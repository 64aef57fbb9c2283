/*
 * request.h: the Apache side of one request (src/request/) that needs no
 * Python, for the hooks: the snapshot of the request (snapshot.c).  The
 * I/O over Apache, which holds Python objects, is in io_apache.h.
 */
#ifndef WSL_REQUEST_H
#define WSL_REQUEST_H

#include "config/config.h"
#include "common/snapshot.h"

/*
 * The request's snapshot, in r->pool.  Needs no Python and no GIL: the
 * handler takes it before it waits for the GIL.  group is the application
 * group ("" for %{GLOBAL}); callable (mod_wsgi.callable_object) and
 * handler_script (mod_wsgi.handler_script) are NULL for the scripts run
 * before the handler, which get neither.  Cannot fail.
 */
wsl_snapshot *wsl_snapshot_take(request_rec *r, const char *group,
                                const char *callable,
                                const char *handler_script);

/*
 * daemon_client.c: run the request in its daemon process group
 * (route->process_group, which route.c checked exists), sending it snap.
 * OK when a response went out, else the status to answer (logged).
 */
int wsl_daemon_client_run(request_rec *r, const wsl_route *route,
                          const wsl_snapshot *snap);

#endif /* WSL_REQUEST_H */
