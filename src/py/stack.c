/*
 * stack.c: the Python stack of another thread of this process, as text
 * for the error log: what a daemon process's main thread writes when a
 * request runs past request-timeout (src/daemon/process.c), so that the
 * log says where the application is stuck, not only that it is.
 *
 * Each interpreter is looked at from inside, under its own GIL: the
 * thread's state there with a frame is the one it runs in, and the frame
 * is formatted by that interpreter's traceback module, never kept past
 * its GIL.  Not sys._current_frames() from the main interpreter: it walks
 * every interpreter's threads and makes frame objects for them, which for
 * an interpreter with a GIL of its own would touch a running thread's
 * objects under a lock that is not theirs.
 */
#include "gil.h"
#include "lifecycle.h"

/* The stack of thread `ident` in the interpreter this thread is in now
 * (its GIL held), or NULL if that thread runs no Python code here. */
static const char *stack_here(unsigned long ident, apr_pool_t *p)
{
    PyThreadState *ts;
    PyFrameObject *frame = NULL;
    PyObject *traceback = NULL, *lines = NULL, *empty = NULL, *text = NULL;
    const char *out = NULL;

    for (ts = PyInterpreterState_ThreadHead(PyThreadState_Get()->interp);
         ts && !frame; ts = PyThreadState_Next(ts)) {
        if (ts->thread_id == ident)
            frame = PyThreadState_GetFrame(ts);
    }
    if (frame && (traceback = PyImport_ImportModule("traceback")) &&
        (lines = PyObject_CallMethod(traceback, "format_stack", "O", frame))
        && (empty = PyUnicode_FromString("")) &&
        (text = PyUnicode_Join(empty, lines))) {
        const char *utf8 = PyUnicode_AsUTF8(text);

        if (utf8)
            out = apr_pstrdup(p, utf8);
    }
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(traceback);
    Py_XDECREF(frame);
    return out;
}

const char *wsl_py_thread_stack(unsigned long ident, apr_pool_t *p)
{
    const char *out = NULL;
    int i;

    for (i = 0; !out && i < wsl_gil_count(); i++) {
        wsl_interp *interp = wsl_gil_interp(i);

        if (!interp || !interp->istate)
            continue;
        /* A state of this thread's own there, made on first use; no
         * turn: the thread looked at may hold it. */
        wsl_gil_enter_unqueued(interp);
        out = stack_here(ident, p);
        wsl_gil_leave();
    }
    return out;
}
