/*
 * log.c: everything Python says goes to Apache's error log, with context.
 *
 * One file-like type serves as wsgi.errors (bound to a request through its
 * guard, so each line carries the client and the request, and a thread
 * that writes after the request ended gets RuntimeError rather than a
 * freed request_rec) and as sys.stdout / sys.stderr
 * (bound to the server: print() in an app must never reach the client or
 * the terminal Apache was started from).  Text is buffered until a newline,
 * and each complete line becomes one log entry.
 *
 * Tracebacks are written by wsl_log_python_error and nowhere else: never
 * PyErr_Print (stderr, no request), never into the response.
 */
#include "wsl.h"

typedef struct {
    PyObject_HEAD
    wsl_guard *guard;       /* its request; NULL for server scope */
    server_rec *s;
    int level;
    const char *restricted; /* WSGIRestrictStdout/Stdin: refuse, saying */
    char *buf;              /* a partial line, PyMem_Raw */
    size_t len, cap;
} wsl_py_log;

static void log_text(request_rec *r, server_rec *s, int level,
                     const char *text, size_t len)
{
    if (r)
        ap_log_rerror(APLOG_MARK, level, 0, r, "%.*s", (int)len, text);
    else
        ap_log_error(APLOG_MARK, level, 0, s, "%.*s", (int)len, text);
}

PyObject *wsl_log_new(wsl_guard *guard, server_rec *s, int level)
{
    wsl_py_log *self = PyObject_New(wsl_py_log, &wsl_py_log_type);

    if (!self)
        return NULL;
    self->guard = guard ? wsl_guard_ref(guard) : NULL;
    self->s = s;
    self->level = level;
    self->restricted = NULL;
    self->buf = NULL;
    self->len = self->cap = 0;
    return (PyObject *)self;
}

static void log_flush_partial(wsl_py_log *self, request_rec *r)
{
    if (self->len) {
        log_text(r, self->s, self->level, self->buf, self->len);
        self->len = 0;
    }
}

/* Start a write: the request to log for (NULL for server scope), or -1
 * with the error set.  A request-scoped object enters its guard. */
static int log_enter(wsl_py_log *self, request_rec **r)
{
    *r = NULL;
    if (self->restricted) {
        PyErr_SetString(PyExc_OSError, self->restricted);
        return -1;
    }
    if (self->guard && !(*r = wsl_guard_enter(self->guard, "wsgi.errors")))
        return -1;
    return 0;
}

static void log_leave(wsl_py_log *self)
{
    if (self->guard)
        wsl_guard_leave(self->guard);
}

void wsl_log_flush(PyObject *obj)
{
    wsl_py_log *self = (wsl_py_log *)obj;
    request_rec *r;

    if (log_enter(self, &r) < 0) {
        PyErr_Clear();
        return;
    }
    log_flush_partial(self, r);
    log_leave(self);
}

static void log_dealloc(wsl_py_log *self)
{
    /* What is left of a request's line after its end goes to the server
     * log: the request_rec is gone. */
    log_flush_partial(self, NULL);
    wsl_guard_unref(self->guard);
    PyMem_RawFree(self->buf);
    PyObject_Free(self);
}

/* Append text, then log every complete line (for r, or the server). */
static int log_append(wsl_py_log *self, request_rec *r, const char *text,
                      size_t len)
{
    const char *nl;

    while (len && (nl = memchr(text, '\n', len))) {
        size_t part = (size_t)(nl - text);

        if (self->len) {
            /* Join the buffered start of the line with its end. */
            if (self->len + part > self->cap) {
                char *nbuf = PyMem_RawRealloc(self->buf, self->len + part);

                if (!nbuf) {
                    PyErr_NoMemory();
                    return -1;
                }
                self->buf = nbuf;
                self->cap = self->len + part;
            }
            memcpy(self->buf + self->len, text, part);
            log_text(r, self->s, self->level, self->buf, self->len + part);
            self->len = 0;
        }
        else {
            log_text(r, self->s, self->level, text, part);
        }
        text += part + 1;
        len -= part + 1;
    }
    if (len) {
        if (self->len + len > self->cap) {
            size_t ncap = (self->len + len) * 2;
            char *nbuf = PyMem_RawRealloc(self->buf, ncap);

            if (!nbuf) {
                PyErr_NoMemory();
                return -1;
            }
            self->buf = nbuf;
            self->cap = ncap;
        }
        memcpy(self->buf + self->len, text, len);
        self->len += len;
    }
    return 0;
}

static PyObject *log_write(wsl_py_log *self, PyObject *arg)
{
    const char *text;
    Py_ssize_t len;
    request_rec *r;
    int rc;

    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be str, not %s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (!(text = PyUnicode_AsUTF8AndSize(arg, &len)))
        return NULL;
    if (log_enter(self, &r) < 0)
        return NULL;
    rc = log_append(self, r, text, (size_t)len);
    log_leave(self);
    if (rc < 0)
        return NULL;
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(arg));
}

static PyObject *log_writelines(wsl_py_log *self, PyObject *lines)
{
    PyObject *iter = PyObject_GetIter(lines), *item, *res;

    if (!iter)
        return NULL;
    while ((item = PyIter_Next(iter))) {
        res = log_write(self, item);
        Py_DECREF(item);
        if (!res) {
            Py_DECREF(iter);
            return NULL;
        }
        Py_DECREF(res);
    }
    Py_DECREF(iter);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* The checks of a call that does nothing else. */
static int log_check(wsl_py_log *self)
{
    request_rec *r;

    if (log_enter(self, &r) < 0)
        return -1;
    log_leave(self);
    return 0;
}

static PyObject *log_flush(wsl_py_log *self, PyObject *unused)
{
    /* A partial line stays buffered until its newline or the end of the
     * request: flushing it would split one message into two entries. */
    if (log_check(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Reading: only sys.stdin under WSGIRestrictStdin is ever asked. */
static PyObject *log_read(wsl_py_log *self, PyObject *args)
{
    if (log_check(self) < 0)
        return NULL;
    PyErr_SetString(PyExc_OSError, "not readable");
    return NULL;
}

static PyObject *log_false(wsl_py_log *self, PyObject *unused)
{
    Py_RETURN_FALSE;
}

static PyObject *log_true(wsl_py_log *self, PyObject *unused)
{
    Py_RETURN_TRUE;
}

static PyObject *log_get_closed(wsl_py_log *self, void *unused)
{
    return PyBool_FromLong(self->guard && wsl_guard_ended(self->guard));
}

static PyObject *log_get_encoding(wsl_py_log *self, void *unused)
{
    return PyUnicode_FromString("utf-8");
}

static PyMethodDef log_methods[] = {
    { "write", (PyCFunction)log_write, METH_O, "Log text." },
    { "writelines", (PyCFunction)log_writelines, METH_O, "Log lines." },
    { "flush", (PyCFunction)log_flush, METH_NOARGS, "No-op." },
    { "read", (PyCFunction)log_read, METH_VARARGS, "Not readable." },
    { "readline", (PyCFunction)log_read, METH_VARARGS, "Not readable." },
    { "readlines", (PyCFunction)log_read, METH_VARARGS, "Not readable." },
    { "isatty", (PyCFunction)log_false, METH_NOARGS, "False." },
    { "readable", (PyCFunction)log_false, METH_NOARGS, "False." },
    { "seekable", (PyCFunction)log_false, METH_NOARGS, "False." },
    { "writable", (PyCFunction)log_true, METH_NOARGS, "True." },
    { NULL }
};

static PyGetSetDef log_getset[] = {
    { "closed", (getter)log_get_closed, NULL, NULL, NULL },
    { "encoding", (getter)log_get_encoding, NULL, NULL, NULL },
    { NULL }
};

PyTypeObject wsl_py_log_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_wsgi_lite.Log",
    .tp_basicsize = sizeof(wsl_py_log),
    .tp_dealloc = (destructor)log_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Writes lines to Apache's error log.",
    .tp_methods = log_methods,
    .tp_getset = log_getset,
};

/* sys.stdout and sys.stderr to the error log; with WSGIRestrictStdout
 * or WSGIRestrictStdin, stdout or stdin refuse with a clear error. */
int wsl_log_redirect_std(server_rec *s, int restrict_stdout,
                         int restrict_stdin)
{
    wsl_py_log *out = (wsl_py_log *)wsl_log_new(NULL, s, APLOG_ERR);
    wsl_py_log *err = (wsl_py_log *)wsl_log_new(NULL, s, APLOG_ERR);
    wsl_py_log *in = (wsl_py_log *)wsl_log_new(NULL, s, APLOG_ERR);
    int rc = -1;

    if (out && err && in) {
        if (restrict_stdout)
            out->restricted = "sys.stdout access restricted by "
                              "WSGIRestrictStdout On";
        in->restricted = "sys.stdin access restricted by "
                         "WSGIRestrictStdin On";
        if (PySys_SetObject("stdout", (PyObject *)out) == 0 &&
            PySys_SetObject("stderr", (PyObject *)err) == 0 &&
            (!restrict_stdin ||
             PySys_SetObject("stdin", (PyObject *)in) == 0))
            rc = 0;
    }
    Py_XDECREF(out);
    Py_XDECREF(err);
    Py_XDECREF(in);
    return rc;
}

/*
 * The pending exception and its traceback, one log entry per line, the
 * first naming what failed.  Consumes the exception.
 */
static void log_exception(request_rec *r, server_rec *s, wsl_interp *interp,
                          const char *what)
{
    PyObject *type, *value, *tb, *lines = NULL;
    Py_ssize_t i, n;

    PyErr_Fetch(&type, &value, &tb);
    if (!type)
        return;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb)
        PyException_SetTraceback(value, tb);

    if (r)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00010: %s failed for '%s'; Python traceback "
                      "follows", what, r->uri);
    else
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "WSL00011: %s failed; Python traceback follows", what);

    if (interp && interp->format_exception)
        lines = PyObject_CallFunctionObjArgs(interp->format_exception, type,
                                             value ? value : Py_None,
                                             tb ? tb : Py_None, NULL);
    if (lines && PyList_Check(lines)) {
        n = PyList_GET_SIZE(lines);
        for (i = 0; i < n; i++) {
            Py_ssize_t len;
            const char *text = PyUnicode_AsUTF8AndSize(
                PyList_GET_ITEM(lines, i), &len);
            const char *end;

            if (!text)
                break;
            /* An item may hold several lines (the source line under each
             * frame); keep one log line per text line. */
            while (len > 0) {
                end = memchr(text, '\n', (size_t)len);
                if (!end)
                    end = text + len;
                log_text(r, s, APLOG_ERR, text, (size_t)(end - text));
                len -= (end - text) + 1;
                text = end + 1;
            }
        }
    }
    else {
        PyObject *str;

        /* traceback itself failed: say at least what the exception was. */
        PyErr_Clear();
        str = value ? PyObject_Str(value) : NULL;
        const char *msg = str ? PyUnicode_AsUTF8(str) : NULL;

        log_text(r, s, APLOG_ERR, msg ? msg : "(unprintable exception)",
                 strlen(msg ? msg : "(unprintable exception)"));
        Py_XDECREF(str);
    }
    PyErr_Clear();
    Py_XDECREF(lines);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

void wsl_log_python_error(request_rec *r, wsl_interp *interp,
                          const char *what)
{
    log_exception(r, r->server, interp, what);
}

void wsl_log_python_error_server(server_rec *s, wsl_interp *interp,
                                 const char *what)
{
    log_exception(NULL, s, interp, what);
}
