/*
 * lifecycle.h: Python's part in the process life cycle, as
 * mod_wsgi_lite.c registers it and a daemon process (src/daemon/) runs
 * it.  Free of Python.
 */
#ifndef WSL_LIFECYCLE_H
#define WSL_LIFECYCLE_H

#include "config/config.h"

/* interp.c: checks and reports once per configuration, from the parent
 * (and Python there under WSGILazyInitialization Off). */
int wsl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);
/* interp.c: check_config (configtest included), once per configuration:
 * what WSGIPerInterpreterGIL and WSGIInterpreterCount cannot have with
 * the Python built against (warnings; never fails). */
void wsl_check_interp_options(server_rec *s);
/* interp.c: Python in a new child; 1 when it is up and usable. */
int wsl_child_init(apr_pool_t *pchild, server_rec *s);
/* interp.c: bind the calling thread, before its first request, to member
 * ordinal % N of every pool of N interpreters it serves (a daemon's
 * worker k takes ordinal k).  Threads never bound take the next ordinal
 * as they first need a pool. */
void wsl_interp_bind_thread(int ordinal);
/* script.c: WSGIImportScript, every server's import scripts loaded in
 * their groups as the child starts (Python is up). */
void wsl_script_preload(server_rec *main_server, apr_pool_t *pchild);

/* gil.c, for a daemon's deadlock-timeout: take and give back the GIL of
 * every interpreter (the main one's, and each own GIL), noting when
 * (from a thread of its own: it may wait for a GIL forever); and the
 * first GIL not taken for more than `limit`, as text, or NULL.  Times
 * are wsl_clock_now()'s, watch_began too. */
void wsl_py_gil_touch(void);
const char *wsl_py_gil_stalled(apr_interval_time_t limit,
                               apr_time_t watch_began, apr_pool_t *p);
/* script.c, for a daemon's startup-timeout: whether a WSGI script has
 * been loaded in this process, and whether loading one has failed. */
void wsl_script_load_state(int *loaded, int *failed);

/* stack.c: the Python stack (traceback's format) of the thread whose
 * ident (pthread_self) is given, or NULL if it runs no Python code now.
 * From any thread not holding the GIL: it takes it, and may wait for it
 * as long as another thread keeps it. */
const char *wsl_py_thread_stack(unsigned long ident, apr_pool_t *p);

#endif /* WSL_LIFECYCLE_H */
