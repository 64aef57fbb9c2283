/*
 * stack.c: the Python stack of another thread of this process, as text
 * for the error log: what a daemon process's main thread writes when a
 * request runs past request-timeout (src/daemon/process.c), so that the
 * log says where the application is stuck, not only that it is.
 *
 * sys._current_frames() from the main interpreter: it holds the frames
 * of every interpreter's threads (one GIL is the whole process's before
 * own-GIL interpreters, which this is not used with), and a frame is read
 * under that GIL only, never kept past it.
 */
#include "gil.h"
#include "lifecycle.h"

const char *wsl_py_thread_stack(unsigned long ident, apr_pool_t *p)
{
    PyObject *frames, *key, *frame, *traceback = NULL, *lines = NULL,
             *empty = NULL, *text = NULL;
    const char *out = NULL;

    /* A state of this thread's own in the main interpreter. */
    wsl_gil_enter(wsl_gil_interp(0));
    frames = PySys_GetObject("_current_frames")
             ? PyObject_CallNoArgs(PySys_GetObject("_current_frames"))
             : NULL;
    key = PyLong_FromUnsignedLong(ident);
    frame = frames && key ? PyDict_GetItemWithError(frames, key) : NULL;
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
    Py_XDECREF(key);
    Py_XDECREF(frames);
    wsl_gil_leave();
    return out;
}
