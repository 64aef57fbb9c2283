/*
 * input.c: wsgi.input, the request body streamed from the server (PEP
 * 3333 "Input and Error Streams") through the I/O seam's read
 * (call->io_ops, py.h; io_apache.c pulls it through Apache's input
 * filters, the GIL released while Apache waits on the client).
 *
 * Nothing is read up front: each call pulls what it needs.  Apache's HTTP
 * input filter does the de-chunking and enforces LimitRequestBody; a read
 * error is kept on the request so the handler can answer with the status
 * it maps to (413, 400, 408) rather than a 500.
 * read() and read(n) fill the final bytes object directly; only readline()
 * needs a look-ahead buffer.
 *
 * Every method runs inside the request's guard (guard.c): two threads
 * reading at once take turns, and a read after the request ended (or
 * one still blocked in the server when it ends) never touches a freed
 * request.
 */
#include "py.h"

typedef struct {
    PyObject_HEAD
    wsl_guard *guard;
    char *buf;                  /* look-ahead for readline, PyMem_Raw */
    size_t pos, len, cap;
    int eof;
} wsl_py_input;

#define WSL_READ_BLOCK 8192
#define WSL_READ_TRUST (16 * 1024 * 1024)

/* _PyBytes_Resize where it is known to be (py.h); elsewhere the same
 * contract from public calls, at the cost of a copy: *bytes becomes an
 * object of `size` bytes holding the old ones' start, or on failure is
 * released and set to NULL (-1, MemoryError). */
static int bytes_resize(PyObject **bytes, Py_ssize_t size)
{
#if WSL_PRIVATE_API
    return _PyBytes_Resize(bytes, size);
#else
    Py_ssize_t old = PyBytes_GET_SIZE(*bytes);
    PyObject *resized = PyBytes_FromStringAndSize(NULL, size);

    if (resized)
        memcpy(PyBytes_AS_STRING(resized), PyBytes_AS_STRING(*bytes),
               (size_t)(old < size ? old : size));
    Py_DECREF(*bytes);
    *bytes = resized;
    return resized ? 0 : -1;
#endif
}

/* Enter the guard: the handler's request state, or NULL with
 * RuntimeError set. */
static wsl_call *input_enter(wsl_py_input *self)
{
    wsl_call *call;

    if (!wsl_guard_enter(self->guard, "wsgi.input"))
        return NULL;
    call = wsl_guard_request(self->guard);
    /* Once the application's response has ended, so has its use of the
     * body: a thread that reads on (while the server still sends a large
     * response, before the request itself ends) gets the error it would
     * get a moment later, not a body the response no longer depends on. */
    if (call->body_done) {
        wsl_guard_leave(self->guard);
        PyErr_SetString(PyExc_RuntimeError, "wsgi.input used after the "
                        "response body ended");
        return NULL;
    }
    return call;
}

static void input_leave(wsl_py_input *self)
{
    wsl_guard_leave(self->guard);
}

/*
 * Read up to `want` bytes from the server into dst: the count, 0 at the end of
 * the body, -1 with OSError set.  With `fill`, keeps reading until `want`
 * bytes or the end of the body, all in one release of the GIL (read() and
 * read(n) must return that much anyway); without it, returns as soon as
 * some bytes are there (readline() must not wait for data the client may
 * only send after it has seen a reply).
 */
static Py_ssize_t read_from_server(wsl_py_input *self, wsl_call *call,
                                   char *dst, apr_size_t want, int fill)
{
    apr_size_t got = 0;
    apr_status_t rv;
    int eos = 0;

    if (self->eof || want == 0)
        return 0;
    /* request_finished's input_reads and input_length (the I/O counts
     * input_time). */
    call->input_reads++;
    rv = call->io_ops->read(call, dst, want, fill, &got, &eos);
    call->input_bytes += (apr_int64_t)got;

    if (rv != APR_SUCCESS) {
        char msg[120];

        if (call->input_error == APR_SUCCESS)
            call->input_error = rv;
        self->eof = 1;
        PyErr_Format(PyExc_OSError, "error reading the request body: %s",
                     apr_strerror(rv, msg, sizeof(msg)));
        return -1;
    }
    if (eos)
        self->eof = 1;
    return (Py_ssize_t)got;
}

/* Take up to `want` buffered bytes into dst. */
static size_t take_buffered(wsl_py_input *self, char *dst, size_t want)
{
    size_t n = self->len - self->pos;

    if (n > want)
        n = want;
    memcpy(dst, self->buf + self->pos, n);
    self->pos += n;
    return n;
}

/* read(size=-1): all of the rest, or exactly size bytes unless the body
 * ends first. */
static PyObject *read_body(wsl_py_input *self, wsl_call *call,
                           Py_ssize_t size)
{
    Py_ssize_t have, got, cap;
    PyObject *result;

    if (size < 0) {
        /* Content-Length, when known, sizes the object right away; but a
         * client's say-so allocates no more than WSL_READ_TRUST up front. */
        apr_off_t expect = call->body_length;

        if (expect <= 0)
            expect = WSL_READ_BLOCK;
        else if (expect > WSL_READ_TRUST)
            expect = WSL_READ_TRUST;
        cap = (Py_ssize_t)(self->len - self->pos) + (Py_ssize_t)expect;
    }
    else {
        cap = size;
    }
    if (!(result = PyBytes_FromStringAndSize(NULL, cap)))
        return NULL;
    have = (Py_ssize_t)take_buffered(self, PyBytes_AS_STRING(result),
                                     (size_t)cap);
    for (;;) {
        if (have == cap) {
            if (size >= 0 || self->eof)
                break;
            cap *= 2;
            if (bytes_resize(&result, cap) < 0)
                return NULL;
        }
        got = read_from_server(self, call, PyBytes_AS_STRING(result) + have,
                               (apr_size_t)(cap - have), 1);
        if (got < 0) {
            Py_DECREF(result);
            return NULL;
        }
        if (got == 0)
            break;
        have += got;
    }
    if (have != cap && bytes_resize(&result, have) < 0)
        return NULL;
    return result;
}

static PyObject *input_read(wsl_py_input *self, PyObject *args)
{
    Py_ssize_t size = -1;
    wsl_call *call;
    PyObject *result;

    if (!PyArg_ParseTuple(args, "|n:read", &size) ||
        !(call = input_enter(self)))
        return NULL;
    result = read_body(self, call, size);
    input_leave(self);
    return result;
}

/* Make sure the buffer holds a newline, `limit` bytes, or the end. */
static int fill_line(wsl_py_input *self, wsl_call *call, Py_ssize_t limit)
{
    for (;;) {
        size_t avail = self->len - self->pos;
        Py_ssize_t got;

        if (memchr(self->buf + self->pos, '\n', avail) ||
            (limit >= 0 && avail >= (size_t)limit) || self->eof)
            return 0;
        if (self->pos) {
            memmove(self->buf, self->buf + self->pos, avail);
            self->pos = 0;
            self->len = avail;
        }
        if (self->cap - self->len < WSL_READ_BLOCK) {
            size_t ncap = self->cap ? self->cap * 2 : 2 * WSL_READ_BLOCK;
            char *nbuf = PyMem_RawRealloc(self->buf, ncap);

            if (!nbuf) {
                PyErr_NoMemory();
                return -1;
            }
            self->buf = nbuf;
            self->cap = ncap;
        }
        got = read_from_server(self, call, self->buf + self->len,
                               self->cap - self->len, 0);
        if (got < 0)
            return -1;
        self->len += (size_t)got;
    }
}

/* One line, inside the guard. */
static PyObject *read_line(wsl_py_input *self, wsl_call *call,
                           Py_ssize_t limit)
{
    const char *start, *nl;
    size_t n;

    if (fill_line(self, call, limit) < 0)
        return NULL;
    start = self->buf + self->pos;
    n = self->len - self->pos;
    if (n && (nl = memchr(start, '\n', n)))
        n = (size_t)(nl - start) + 1;
    if (limit >= 0 && n > (size_t)limit)
        n = (size_t)limit;
    self->pos += n;
    return PyBytes_FromStringAndSize(n ? start : "", (Py_ssize_t)n);
}

static PyObject *readline_limit(wsl_py_input *self, Py_ssize_t limit)
{
    wsl_call *call = input_enter(self);
    PyObject *line;

    if (!call)
        return NULL;
    line = read_line(self, call, limit);
    input_leave(self);
    return line;
}

static PyObject *input_readline(wsl_py_input *self, PyObject *args)
{
    Py_ssize_t limit = -1;
    PyObject *arg = Py_None;

    if (!PyArg_ParseTuple(args, "|O:readline", &arg))
        return NULL;
    if (arg != Py_None && (limit = PyLong_AsSsize_t(arg)) == -1 &&
        PyErr_Occurred())
        return NULL;
    return readline_limit(self, limit);
}

/* All lines in one call, so another thread's read cannot fall between
 * two of them. */
static PyObject *read_lines(wsl_py_input *self, wsl_call *call,
                            Py_ssize_t hint)
{
    Py_ssize_t total = 0;
    PyObject *lines, *line;

    if (!(lines = PyList_New(0)))
        return NULL;
    while ((line = read_line(self, call, -1))) {
        Py_ssize_t n = PyBytes_GET_SIZE(line);

        if (n == 0 || PyList_Append(lines, line) < 0) {
            Py_DECREF(line);
            break;
        }
        Py_DECREF(line);
        total += n;
        if (hint > 0 && total >= hint)
            break;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(lines);
        return NULL;
    }
    return lines;
}

static PyObject *input_readlines(wsl_py_input *self, PyObject *args)
{
    Py_ssize_t hint = -1;
    wsl_call *call;
    PyObject *lines;

    if (!PyArg_ParseTuple(args, "|n:readlines", &hint) ||
        !(call = input_enter(self)))
        return NULL;
    lines = read_lines(self, call, hint);
    input_leave(self);
    return lines;
}

static PyObject *input_iternext(wsl_py_input *self)
{
    PyObject *line = readline_limit(self, -1);

    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL;    /* StopIteration */
    }
    return line;
}

static void input_dealloc(wsl_py_input *self)
{
    PyTypeObject *type = Py_TYPE(self);

    wsl_guard_unref(self->guard);
    PyMem_RawFree(self->buf);
    PyObject_Free(self);
    Py_DECREF(type);        /* a heap type: each instance holds it */
}

static PyMethodDef input_methods[] = {
    { "read", (PyCFunction)input_read, METH_VARARGS,
      "read(size=-1) -> bytes" },
    { "readline", (PyCFunction)input_readline, METH_VARARGS,
      "readline(size=-1) -> bytes" },
    { "readlines", (PyCFunction)input_readlines, METH_VARARGS,
      "readlines(hint=-1) -> list of bytes" },
    { NULL }
};

static PyType_Slot input_slots[] = {
    { Py_tp_dealloc, input_dealloc },
    { Py_tp_doc, "wsgi.input: the request body" },
    { Py_tp_iter, PyObject_SelfIter },
    { Py_tp_iternext, input_iternext },
    { Py_tp_methods, input_methods },
    { 0, NULL }
};

/* Made only by the module, never subclassed or changed by an
 * application: what a static type was. */
PyType_Spec wsl_py_input_spec = {
    .name = "mod_wsgi_lite.Input",
    .basicsize = sizeof(wsl_py_input),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = input_slots,
};

PyObject *wsl_input_new(wsl_call *call)
{
    wsl_py_input *self = PyObject_New(wsl_py_input,
                                      wsl_type(call->interp, WSL_TYPE_INPUT));

    if (!self)
        return NULL;
    self->guard = wsl_guard_ref(call->guard);
    self->buf = NULL;
    self->pos = self->len = self->cap = 0;
    self->eof = 0;
    return (PyObject *)self;
}
