/*
 * log.c: everything Python says goes to Apache's error log, with context.
 *
 * Two types share one line buffer (text is held until its newline, and
 * each complete line becomes one log entry):
 *
 * - mod_wsgi_lite.Log is wsgi.errors (PEP 3333: write, writelines,
 *   flush), bound to its request through the guard, so each line carries
 *   the client and the request, and a thread that writes after the
 *   request ended gets RuntimeError rather than a freed request_rec.
 *
 * - mod_wsgi_lite.LogBuffer is the binary buffer under sys.stdout,
 *   sys.stderr and a restricted sys.stdin, which are real
 *   io.TextIOWrapper objects, as in mod_wsgi, because libraries reach
 *   for sys.stdin.buffer, sys.stdout.encoding or .reconfigure() at import
 *   time.  Bound to the server: print() in an app must never reach the
 *   client or the terminal Apache was started from.  One set per
 *   interpreter, made when it is set up; the interpreter keeps the
 *   buffers so that child exit can log what is left of a line.
 *
 * Tracebacks are written by wsl_log_python_error and nowhere else: never
 * PyErr_Print (stderr, no request), never into the response.
 *
 * Many threads may write to one object at once.  The GIL (of the
 * object's interpreter, whose threads alone can reach it) serialises them:
 * nothing here calls back into Python or drops the GIL between taking the
 * bytes and logging the line, and io.TextIOWrapper's C write with
 * write_through passes each write straight on, under the same GIL.
 */
#include "py.h"

#include <unistd.h>

/* A partial line waiting for its newline, and where its lines go. */
typedef struct {
    server_rec *s;
    int level;
    char *buf;              /* PyMem_Raw */
    size_t len, cap;
} wsl_lines;

static void log_text(request_rec *r, server_rec *s, int level,
                     const char *text, size_t len)
{
    if (r)
        ap_log_rerror(APLOG_MARK, level, 0, r, "%.*s", (int)len, text);
    else
        ap_log_error(APLOG_MARK, level, 0, s, "%.*s", (int)len, text);
}

static void lines_init(wsl_lines *lines, server_rec *s, int level)
{
    lines->s = s;
    lines->level = level;
    lines->buf = NULL;
    lines->len = lines->cap = 0;
}

/* Log the partial line, if any (for r, or the server). */
static void lines_flush(wsl_lines *lines, request_rec *r)
{
    if (lines->len) {
        log_text(r, lines->s, lines->level, lines->buf, lines->len);
        lines->len = 0;
    }
}

static void lines_free(wsl_lines *lines)
{
    PyMem_RawFree(lines->buf);
    lines->buf = NULL;
    lines->len = lines->cap = 0;
}

/* Room for `need` bytes in the buffer; -1 with MemoryError set. */
static int lines_reserve(wsl_lines *lines, size_t need)
{
    char *nbuf;

    if (need <= lines->cap)
        return 0;
    if (!(nbuf = PyMem_RawRealloc(lines->buf, need * 2))) {
        PyErr_NoMemory();
        return -1;
    }
    lines->buf = nbuf;
    lines->cap = need * 2;
    return 0;
}

/* Append text, then log every complete line (for r, or the server). */
static int lines_append(wsl_lines *lines, request_rec *r, const char *text,
                        size_t len)
{
    const char *nl;

    while (len && (nl = memchr(text, '\n', len))) {
        size_t part = (size_t)(nl - text);

        if (lines->len) {
            /* Join the buffered start of the line with its end. */
            if (lines_reserve(lines, lines->len + part) < 0)
                return -1;
            memcpy(lines->buf + lines->len, text, part);
            log_text(r, lines->s, lines->level, lines->buf,
                     lines->len + part);
            lines->len = 0;
        }
        else {
            log_text(r, lines->s, lines->level, text, part);
        }
        text += part + 1;
        len -= part + 1;
    }
    if (len) {
        if (lines_reserve(lines, lines->len + len) < 0)
            return -1;
        memcpy(lines->buf + lines->len, text, len);
        lines->len += len;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* wsgi.errors                                                         */

typedef struct {
    PyObject_HEAD
    wsl_guard *guard;       /* its request; NULL for server scope */
    wsl_lines lines;
} wsl_py_log;

PyObject *wsl_log_new(wsl_interp *interp, wsl_guard *guard, server_rec *s,
                      int level)
{
    wsl_py_log *self = PyObject_New(wsl_py_log,
                                    wsl_type(interp, WSL_TYPE_LOG));

    if (!self)
        return NULL;
    self->guard = guard ? wsl_guard_ref(guard) : NULL;
    lines_init(&self->lines, s, level);
    return (PyObject *)self;
}

/* Start a call: the request to log for (NULL for server scope), or -1
 * with the error set.  A request-scoped object enters its guard. */
static int log_enter(wsl_py_log *self, request_rec **r)
{
    *r = NULL;
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
    lines_flush(&self->lines, r);
    log_leave(self);
}

static void log_dealloc(wsl_py_log *self)
{
    PyTypeObject *type = Py_TYPE(self);

    /* What is left of a request's line after its end goes to the server
     * log: the request_rec is gone. */
    lines_flush(&self->lines, NULL);
    wsl_guard_unref(self->guard);
    lines_free(&self->lines);
    PyObject_Free(self);
    Py_DECREF(type);        /* a heap type: each instance holds it */
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
    rc = lines_append(&self->lines, r, text, (size_t)len);
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

static PyObject *log_read(wsl_py_log *self, PyObject *args)
{
    if (log_check(self) < 0)
        return NULL;
    PyErr_SetString(PyExc_OSError, "not readable");
    return NULL;
}

static PyObject *log_false(PyObject *self, PyObject *unused)
{
    Py_RETURN_FALSE;
}

static PyObject *log_true(PyObject *self, PyObject *unused)
{
    Py_RETURN_TRUE;
}

static PyObject *log_get_closed(wsl_py_log *self, void *unused)
{
    return PyBool_FromLong(self->guard && wsl_guard_ended(self->guard));
}

static PyObject *log_get_encoding(PyObject *self, void *unused)
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
    { "isatty", log_false, METH_NOARGS, "False." },
    { "readable", log_false, METH_NOARGS, "False." },
    { "seekable", log_false, METH_NOARGS, "False." },
    { "writable", log_true, METH_NOARGS, "True." },
    { NULL }
};

static PyGetSetDef log_getset[] = {
    { "closed", (getter)log_get_closed, NULL, NULL, NULL },
    { "encoding", log_get_encoding, NULL, NULL, NULL },
    { NULL }
};

static PyType_Slot log_slots[] = {
    { Py_tp_dealloc, log_dealloc },
    { Py_tp_doc, "Writes lines to Apache's error log." },
    { Py_tp_methods, log_methods },
    { Py_tp_getset, log_getset },
    { 0, NULL }
};

/* Made only by the module (wsl_log_new), never subclassed or changed by
 * an application: what a static type was. */
PyType_Spec wsl_py_log_spec = {
    .name = "mod_wsgi_lite.Log",
    .basicsize = sizeof(wsl_py_log),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = log_slots,
};

/* ------------------------------------------------------------------ */
/* sys.stdout, sys.stderr, sys.stdin                                   */

/*
 * The buffer of one standard stream: stdout and stderr write lines to the
 * server's error log; stdin (only under WSGIRestrictStdin) reads nothing.
 * `restricted` is the refusal under WSGIRestrictStdout or
 * WSGIRestrictStdin, raised by the stream's one operation (write, or
 * read).  Server scope, so there is no request to enter: the GIL alone
 * serialises callers.
 */
typedef struct {
    PyObject_HEAD
    const char *name;       /* "<stdout>", as sys.stdout.name says */
    int writable;           /* stdout, stderr; stdin is the reader */
    const char *restricted;
    int closed;
    wsl_lines lines;
} wsl_py_log_buffer;

static PyObject *buffer_new(wsl_interp *interp, server_rec *s,
                            const char *name, int writable,
                            const char *restricted)
{
    wsl_py_log_buffer *self =
        PyObject_New(wsl_py_log_buffer, wsl_type(interp,
                                                 WSL_TYPE_LOG_BUFFER));

    if (!self)
        return NULL;
    self->name = name;
    self->writable = writable;
    self->restricted = restricted;
    self->closed = 0;
    lines_init(&self->lines, s, APLOG_ERR);
    return (PyObject *)self;
}

static void buffer_dealloc(wsl_py_log_buffer *self)
{
    PyTypeObject *type = Py_TYPE(self);

    lines_flush(&self->lines, NULL);
    lines_free(&self->lines);
    PyObject_Free(self);
    Py_DECREF(type);
}

/* io.UnsupportedOperation(what); returns NULL. */
static PyObject *buffer_unsupported(const char *what)
{
    PyObject *io = PyImport_ImportModule("io"), *exc = NULL;

    if (io) {
        exc = PyObject_GetAttrString(io, "UnsupportedOperation");
        Py_DECREF(io);
    }
    if (exc) {
        PyErr_SetString(exc, what);
        Py_DECREF(exc);
    }
    return NULL;
}

/* May this call go ahead?  -1 with the error set: the stream is closed,
 * or the operation is not this stream's (`supported` false, and `what`
 * names it), or it is refused by WSGIRestrictStdout/Stdin. */
static int buffer_check(wsl_py_log_buffer *self, int supported,
                        const char *what)
{
    if (self->closed) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on closed file.");
        return -1;
    }
    if (!supported) {
        buffer_unsupported(what);
        return -1;
    }
    if (self->restricted) {
        PyErr_SetString(PyExc_OSError, self->restricted);
        return -1;
    }
    return 0;
}

/* Bytes, bytearray, memoryview: whatever a BufferedWriter takes. */
static PyObject *buffer_write(wsl_py_log_buffer *self, PyObject *arg)
{
    Py_buffer view;
    int rc;

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    rc = buffer_check(self, self->writable, "not writable");
    if (rc == 0)
        rc = lines_append(&self->lines, NULL, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (rc < 0)
        return NULL;
    return PyLong_FromSsize_t(view.len);
}

static PyObject *buffer_flush(wsl_py_log_buffer *self, PyObject *unused)
{
    /* Called after every line (line_buffering) and by Python's own
     * finalisation: it keeps a partial line, which would otherwise become
     * two entries, and never raises for a restricted stream. */
    if (self->closed) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on closed file.");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *buffer_close(wsl_py_log_buffer *self, PyObject *unused)
{
    lines_flush(&self->lines, NULL);
    self->closed = 1;
    Py_RETURN_NONE;
}

/* read, read1, readline, readinto: sys.stdin's refusal (the argument is
 * not looked at: nothing is ever read).  A reader is only ever made
 * restricted, so the check always fails; the fallback keeps the
 * exception set whatever it is made with. */
static PyObject *buffer_read(wsl_py_log_buffer *self, PyObject *args)
{
    if (buffer_check(self, !self->writable, "not readable") == 0)
        PyErr_SetString(PyExc_OSError, "nothing to read");
    return NULL;
}

static PyObject *buffer_readable(wsl_py_log_buffer *self, PyObject *unused)
{
    /* stdin's reads are refused by WSGIRestrictStdin, not unsupported:
     * io.TextIOWrapper passes a read on only to a readable buffer, and
     * only the buffer's error names the directive. */
    return PyBool_FromLong(!self->writable);
}

static PyObject *buffer_writable(wsl_py_log_buffer *self, PyObject *unused)
{
    return PyBool_FromLong(self->writable);
}

static PyObject *buffer_fileno(PyObject *self, PyObject *unused)
{
    return buffer_unsupported("the Apache error log stream has no file "
                              "descriptor");
}

static PyObject *buffer_get_closed(wsl_py_log_buffer *self, void *unused)
{
    return PyBool_FromLong(self->closed);
}

static PyObject *buffer_get_name(wsl_py_log_buffer *self, void *unused)
{
    return PyUnicode_FromString(self->name);
}

static PyMethodDef buffer_methods[] = {
    { "write", (PyCFunction)buffer_write, METH_O, "Log bytes, by line." },
    { "flush", (PyCFunction)buffer_flush, METH_NOARGS,
      "No-op: a partial line waits for its newline." },
    { "close", (PyCFunction)buffer_close, METH_NOARGS,
      "Log the partial line; later calls raise ValueError." },
    { "read", (PyCFunction)buffer_read, METH_VARARGS, "Refused." },
    { "read1", (PyCFunction)buffer_read, METH_VARARGS, "Refused." },
    { "readline", (PyCFunction)buffer_read, METH_VARARGS, "Refused." },
    { "readinto", (PyCFunction)buffer_read, METH_VARARGS, "Refused." },
    { "readable", (PyCFunction)buffer_readable, METH_NOARGS, NULL },
    { "writable", (PyCFunction)buffer_writable, METH_NOARGS, NULL },
    { "seekable", log_false, METH_NOARGS, "False." },
    { "isatty", log_false, METH_NOARGS, "False." },
    { "fileno", buffer_fileno, METH_NOARGS,
      "Raises io.UnsupportedOperation." },
    { NULL }
};

static PyGetSetDef buffer_getset[] = {
    { "closed", (getter)buffer_get_closed, NULL, NULL, NULL },
    { "name", (getter)buffer_get_name, NULL, NULL, NULL },
    { NULL }
};

static PyType_Slot buffer_slots[] = {
    { Py_tp_dealloc, buffer_dealloc },
    { Py_tp_doc, "The binary buffer of sys.stdout and sys.stderr: writes "
                 "lines to Apache's error log." },
    { Py_tp_methods, buffer_methods },
    { Py_tp_getset, buffer_getset },
    { 0, NULL }
};

PyType_Spec wsl_py_log_buffer_spec = {
    .name = "mod_wsgi_lite.LogBuffer",
    .basicsize = sizeof(wsl_py_log_buffer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = buffer_slots,
};

/* sys.<name> = TextIOWrapper(buffer) as mod_wsgi makes it: UTF-8, bad
 * characters replaced, each write passed straight to the buffer. */
static int std_install(PyObject *textio, const char *name, PyObject *buffer,
                       const char *mode)
{
    PyObject *stream, *m;
    int rc = -1;

    stream = PyObject_CallFunction(textio, "OssOOO", buffer, "utf-8",
                                   "replace", Py_None, Py_True, Py_True);
    if (!stream)
        return -1;
    /* As Python's own standard streams have it (io.open sets it too). */
    if ((m = PyUnicode_FromString(mode))) {
        if (PyObject_SetAttrString(stream, "mode", m) == 0 &&
            PySys_SetObject(name, stream) == 0)
            rc = 0;
        Py_DECREF(m);
    }
    Py_DECREF(stream);
    return rc;
}

int wsl_log_std_install(wsl_interp *interp, server_rec *s,
                        int restrict_stdout, int restrict_stdin)
{
    PyObject *io, *textio = NULL, *in = NULL;
    int rc = -1;

    if (!(io = PyImport_ImportModule("io")))
        return -1;
    textio = PyObject_GetAttrString(io, "TextIOWrapper");
    Py_DECREF(io);
    if (!textio)
        return -1;
    interp->stdout_buffer =
        buffer_new(interp, s, "<stdout>", 1, restrict_stdout
                   ? "sys.stdout access restricted by WSGIRestrictStdout On"
                   : NULL);
    interp->stderr_buffer = buffer_new(interp, s, "<stderr>", 1, NULL);
    /* WSGIRestrictStdin Off leaves Python's own sys.stdin, as mod_wsgi
     * does. */
    if (restrict_stdin)
        in = buffer_new(interp, s, "<stdin>", 0, "sys.stdin access "
                        "restricted by WSGIRestrictStdin On");
    if (interp->stdout_buffer && interp->stderr_buffer &&
        (in || !restrict_stdin) &&
        std_install(textio, "stdout", interp->stdout_buffer, "w") == 0 &&
        std_install(textio, "stderr", interp->stderr_buffer, "w") == 0 &&
        (!in || std_install(textio, "stdin", in, "r") == 0))
        rc = 0;
    Py_XDECREF(in);
    Py_DECREF(textio);
    return rc;
}

void wsl_log_std_flush(wsl_interp *interp)
{
    if (interp->stdout_buffer)
        lines_flush(&((wsl_py_log_buffer *)interp->stdout_buffer)->lines,
                    NULL);
    if (interp->stderr_buffer)
        lines_flush(&((wsl_py_log_buffer *)interp->stderr_buffer)->lines,
                    NULL);
}

void wsl_log_std_release(wsl_interp *interp)
{
    wsl_log_std_flush(interp);
    Py_CLEAR(interp->stdout_buffer);
    Py_CLEAR(interp->stderr_buffer);
}

/*
 * An interpreter with a GIL of its own refuses an extension module that
 * does not declare support for one (single-phase initialisation, or
 * Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED): CPython's ImportError says
 * "module NAME does not support loading in subinterpreters", which names
 * neither the setting that caused it nor the way out.  Said once per
 * module and interpreter, after the traceback.  `exc` and its causes are
 * looked at (the application may have re-raised it as another error);
 * GIL held.
 */
#define REFUSED_HEAD "module "
#define REFUSED_TAIL " does not support loading in subinterpreters"

static void explain_refused_extension(request_rec *r, server_rec *s,
                                      wsl_interp *interp, PyObject *exc)
{
    int depth;

    for (depth = 0; exc && depth < 8; depth++) {
        PyObject *str, *next;
        const char *msg;
        size_t len, head = strlen(REFUSED_HEAD), tail = strlen(REFUSED_TAIL);

        if (PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_ImportError) &&
            (str = PyObject_Str(exc))) {
            msg = PyUnicode_AsUTF8(str);
            len = msg ? strlen(msg) : 0;
            if (len > head + tail && !strncmp(msg, REFUSED_HEAD, head) &&
                !strcmp(msg + len - tail, REFUSED_TAIL)) {
                apr_ssize_t nlen = (apr_ssize_t)(len - head - tail);

                if (!interp->refused)
                    interp->refused = apr_hash_make(interp->pool);
                /* Copied only when new: the pool lives as long as the
                 * process, and the same import may fail on every
                 * request. */
                if (!apr_hash_get(interp->refused, msg + head, nlen)) {
                    const char *name = apr_pstrmemdup(interp->pool,
                                                      msg + head,
                                                      (apr_size_t)nlen);

                    apr_hash_set(interp->refused, name, nlen, name);
                    ap_log_error(APLOG_MARK, APLOG_ERR, 0,
                                 r ? r->server : s,
                                 "WSL00212: extension module '%s' cannot "
                                 "be imported in application group '%s' "
                                 "(interpreter %d of %d, pid %d): it does "
                                 "not support interpreters with a GIL of "
                                 "their own (WSGIPerInterpreterGIL On); "
                                 "serve an application that needs it from "
                                 "a group with WSGIPerInterpreterGIL Off, "
                                 "or from %%{GLOBAL}", name, interp->name,
                                 interp->member + 1, interp->members,
                                 (int)getpid());
                }
            }
            Py_DECREF(str);
        }
        PyErr_Clear();
        next = PyException_GetCause(exc);
        if (!next)
            next = PyException_GetContext(exc);
        /* Borrowed from then on: the chain is held by the exception the
         * walk began with. */
        Py_XDECREF(next);
        exc = next;
    }
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
    if (interp && interp->own_gil && value)
        explain_refused_extension(r, s, interp, value);
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
