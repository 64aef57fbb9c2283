/*
 * hookscript.h: what the hooks of src/hooks/ share: running a function of
 * a script outside the content handler (hookscript.c, for auth.c and
 * dispatch.c) and WSGIDispatchScript's questions (dispatch.c, for
 * handler.c).
 */
#ifndef WSL_HOOKSCRIPT_H
#define WSL_HOOKSCRIPT_H

#include "py/py.h"
#include "request/request.h"

/* ------------------------------------------------------------------ */
/* hookscript.c: scripts run outside the content handler (auth.c,       */
/* dispatch.c): one interpreter entry, one module, one environ.         */

typedef struct {
    request_rec *r;
    const wsl_hook_script *script;
    const char *directive;      /* names the script in log entries */
    /* Set by wsl_hook_enter: */
    wsl_interp *interp;
    const char *group;          /* application group, "" = %{GLOBAL} */
    PyObject *module;
    PyObject *environ;          /* no wsgi.input: no request body */
    wsl_guard *guard;           /* of wsgi.errors, ended on leave */
    PyObject *errors;
} wsl_hook;

/* Enter the script's interpreter (GIL held), load or reload the script
 * and build its environ.  0, or -1 with the failure logged and nothing
 * held (the interpreter is left). */
int wsl_hook_enter(wsl_hook *hook);
/* Call function(environ[, arg1[, arg2]]).  1 with *result a new
 * reference; 0 if the script does not define it (logged when required);
 * -1 on failure, logged with its traceback. */
int wsl_hook_call(wsl_hook *hook, const char *function, int required,
                  PyObject *arg1, PyObject *arg2, PyObject **result);
/* Log that function returned something it must not. */
void wsl_hook_bad_result(wsl_hook *hook, const char *function,
                         PyObject *result, const char *expected);
/* Release what wsl_hook_enter took and leave the interpreter. */
void wsl_hook_leave(wsl_hook *hook);

/* dispatch.c: ask WSGIDispatchScript's functions.  OK, or the status to
 * answer (logged); route.c decides what the answers mean. */
int wsl_dispatch(request_rec *r, wsl_dispatch_answer *answer);


#endif /* WSL_HOOKSCRIPT_H */
