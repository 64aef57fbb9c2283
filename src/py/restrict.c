/*
 * restrict.c: Python functions an application must not use as it would in a
 * process of its own, replaced in every interpreter (main and sub) when
 * interp.c sets it up.  Each replacement is a C function whose `self` is
 * the original.
 *
 * signal.signal (WSGIRestrictSignal On, the default, as in mod_wsgi):
 * signals belong to Apache.  Under prefork a request runs on Python's main
 * thread, where Python's own signal.signal() would replace Apache's
 * SIGTERM, SIGHUP or SIGUSR1 handler: a stop would then wait for Apache's
 * SIGKILL and an old child would outlive a graceful restart.  The call is
 * logged and returns the handler it was given, as mod_wsgi's does.
 *
 * os.fork and os.forkpty (always): CPython 3.11 cannot fork a
 * sub-interpreter, nor the main interpreter of a process that has
 * sub-interpreters (PyOS_AfterFork_Child dies with "not main interpreter",
 * or the forked child hangs).  In either case they raise RuntimeError in
 * the parent, before anything is forked; subprocess, which does not use
 * os.fork, keeps working.  In a process with only the main interpreter
 * they fork as in plain Python.
 */
#include "restrict.h"
#include "gil.h"

/* Where WSL00013 is logged: the child's main server, set by the first
 * install (the main interpreter's, at child start, before any other
 * interpreter or request exists) and only read after, so that
 * interpreters running at once never race on it. */
static server_rec *restrict_server;

/* signal.signal(signalnum, handler) and _signal.signal: a logged no-op. */
static PyObject *restricted_signal(PyObject *orig, PyObject *args)
{
    int signum;
    PyObject *handler;

    if (!PyArg_ParseTuple(args, "iO:signal", &signum, &handler))
        return NULL;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, restrict_server,
                 "WSL00013: signal.signal(%d) by the application ignored "
                 "(WSGIRestrictSignal On)", signum);
    Py_INCREF(handler);
    return handler;
}

static PyMethodDef restricted_signal_def = {
    "signal", (PyCFunction)restricted_signal, METH_VARARGS,
    "signal(signalnum, handler): ignored, signals belong to Apache "
    "(WSGIRestrictSignal On); returns handler."
};

/* os.fork() and os.forkpty(): refused where the child could not survive.
 * GIL held, so no sub-interpreter can be made while we look or fork. */
static PyObject *guarded_fork(PyObject *orig, const char *name)
{
    PyInterpreterState *istate = PyInterpreterState_Get();
    int subs;

    if (istate != PyInterpreterState_Main()) {
        const char *group = wsl_interp_group_of(istate);

        PyErr_Format(PyExc_RuntimeError, "os.%s() is not supported in a "
                     "sub-interpreter of an Apache child (application "
                     "group '%s'); use subprocess", name,
                     group ? group : "?");
        return NULL;
    }
    if ((subs = wsl_interp_subinterpreters()) > 0) {
        PyErr_Format(PyExc_RuntimeError, "os.%s() is not supported in the "
                     "main interpreter of an Apache child that has "
                     "sub-interpreters (application group '%%{GLOBAL}', %d "
                     "sub-interpreter%s beside it); use subprocess", name,
                     subs, subs > 1 ? "s" : "");
        return NULL;
    }
    return PyObject_CallNoArgs(orig);
}

static PyObject *guarded_os_fork(PyObject *orig, PyObject *unused)
{
    return guarded_fork(orig, "fork");
}

static PyObject *guarded_os_forkpty(PyObject *orig, PyObject *unused)
{
    return guarded_fork(orig, "forkpty");
}

static PyMethodDef guarded_fork_def = {
    "fork", (PyCFunction)guarded_os_fork, METH_NOARGS,
    "fork(): as os.fork, but RuntimeError in a sub-interpreter or beside "
    "one (mod_wsgi_lite); use subprocess."
};

static PyMethodDef guarded_forkpty_def = {
    "forkpty", (PyCFunction)guarded_os_forkpty, METH_NOARGS,
    "forkpty(): as os.forkpty, but RuntimeError in a sub-interpreter or "
    "beside one (mod_wsgi_lite); use subprocess."
};

/* Replace module.name with a C function of def whose self is the
 * original.  A module that is missing, or lacks the name, is left alone. */
static int replace(const char *module, const char *name, PyMethodDef *def)
{
    PyObject *mod, *orig, *func;
    int rc;

    if (!(mod = PyImport_ImportModule(module))) {
        PyErr_Clear();
        return 0;
    }
    if (!(orig = PyObject_GetAttrString(mod, name))) {
        PyErr_Clear();
        Py_DECREF(mod);
        return 0;
    }
    func = PyCFunction_NewEx(def, orig, NULL);
    Py_DECREF(orig);
    if (!func) {
        Py_DECREF(mod);
        return -1;
    }
    rc = PyObject_SetAttrString(mod, name, func);
    Py_DECREF(func);
    Py_DECREF(mod);
    return rc;
}

int wsl_restrict_install(server_rec *s, int restrict_signal)
{
    if (!restrict_server)
        restrict_server = s;
    /* os re-exports posix's functions: both, as for signal. */
    if (replace("os", "fork", &guarded_fork_def) < 0 ||
        replace("posix", "fork", &guarded_fork_def) < 0 ||
        replace("os", "forkpty", &guarded_forkpty_def) < 0 ||
        replace("posix", "forkpty", &guarded_forkpty_def) < 0)
        return -1;
    if (restrict_signal) {
        /* signal.py's signal() calls _signal.signal(): both, so neither
         * way round reaches the real one. */
        if (replace("signal", "signal", &restricted_signal_def) < 0 ||
            replace("_signal", "signal", &restricted_signal_def) < 0)
            return -1;
    }
    return 0;
}
