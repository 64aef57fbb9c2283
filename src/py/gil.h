/*
 * gil.h: the interpreters of this process and each thread's state in
 * them (gil.c), as interp.c (Python's life in the child) and restrict.c
 * (os.fork's error message) use them.  The request path needs only
 * wsl_gil_release / wsl_gil_reacquire, in py.h.
 */
#ifndef WSL_GIL_H
#define WSL_GIL_H

#include "py.h"

/* Child start, before any other call here.  -1 if the lock cannot be
 * made (nothing here is usable then). */
int wsl_gil_child_init(apr_pool_t *pchild, server_rec *s, int verbose);

/* Register the main interpreter, whose state this thread (the child's
 * main thread, Python just initialised, GIL held) has: interp index 0. */
wsl_interp *wsl_gil_add_main(void);

/* Set-up of the main interpreter is over: drop the GIL, keeping this
 * thread's state as the one child exit comes back with. */
void wsl_gil_main_setup_done(void);

/*
 * Make a sub-interpreter of a group: member (0..) of its pool of
 * `members`, with a GIL of its own if own_gil (3.12+; ignored before).
 * GIL not held.  On success it is
 * registered and this thread is in it with the GIL, still "in set-up" (a
 * signal that ends the child now must not finalise Python under it):
 * finish with wsl_gil_setup_done(), or wsl_gil_setup_failed() which ends
 * it again.  NULL (logged) with the GIL not held if Python refused.
 */
wsl_interp *wsl_gil_new_interpreter(const char *name, int member,
                                    int members, int own_gil);
void wsl_gil_setup_done(void);
void wsl_gil_setup_failed(wsl_interp *interp);

/* Take the GIL with this thread's own state for interp (made on first
 * use), or give it back.  interp.c pairs them for every caller. */
void wsl_gil_enter(wsl_interp *interp);
void wsl_gil_leave(void);
/* The same without a turn of interp's queue (turns.c): for a look at
 * what runs there (a stack dump), which must not wait behind the thread
 * it looks at.  Left with wsl_gil_leave. */
void wsl_gil_enter_unqueued(wsl_interp *interp);
/* The switch interval an own-GIL interpreter was given, which paces its
 * queue of turns (turns.h). */
void wsl_gil_set_turn_interval(wsl_interp *interp,
                               apr_interval_time_t interval);

/* How many interpreters have been registered, and one by index (0 is the
 * main interpreter; one whose istate is NULL has ended or never worked).
 * From any thread, with or without a GIL. */
int wsl_gil_count(void);
wsl_interp *wsl_gil_interp(int index);

/* The application group of an interpreter of this process (NULL if it
 * is none of ours), and how many sub-interpreters are live. */
const char *wsl_interp_group_of(PyInterpreterState *istate);
int wsl_interp_subinterpreters(void);

/* ---- child exit (interp.c), in this order ---- */

/* Is this thread inside Python, in a request or in set-up?  Then the
 * process is dying under a call and Python must be left alone. */
int wsl_gil_busy(void);
/* Take the GIL back with the state of wsl_gil_main_setup_done(). */
void wsl_gil_enter_exit(void);
/* Sleep ms with the GIL dropped, so application threads can run. */
void wsl_gil_pause_ms(int ms);
/* The thread states of interp that are neither ours nor `also_ours`:
 * the application's threads.  Main GIL held. */
int wsl_gil_foreign_threads(wsl_interp *interp, PyThreadState *also_ours);
/* Run in a sub-interpreter from the exit thread: a state made for the
 * purpose, current (with that interpreter's GIL) until
 * wsl_gil_visit_end(), which deletes it and attaches the exit thread's
 * main state again. */
PyThreadState *wsl_gil_visit(wsl_interp *interp);
void wsl_gil_visit_end(wsl_interp *interp, PyThreadState *visit);
/* With visit current: delete every state we made for interp, and say
 * whether visit is now its only state (1), so that it can be ended. */
int wsl_gil_visit_alone(wsl_interp *interp, PyThreadState *visit);
/* End interp from visit, its only state; the exit thread's own state is
 * current again.  Or, when it cannot be ended, just go back to that
 * state (visit stays: an interpreter needs one). */
void wsl_gil_end_visited(wsl_interp *interp, PyThreadState *visit);
void wsl_gil_visit_abandon(wsl_interp *interp);
/* Delete the worker states of the main interpreter (before
 * Py_FinalizeEx), and after it, free the bookkeeping. */
void wsl_gil_drop_main_workers(void);
void wsl_gil_child_done(void);

#endif /* WSL_GIL_H */
