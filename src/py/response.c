/*
 * response.c: start_response(status, response_headers, exc_info=None) and
 * the write() callable it returns (PEP 3333 "The start_response()
 * Callable").
 *
 * Everything the application says is validated before Apache sees any of
 * it: the status line and every header are str, latin-1, free of CR, LF,
 * NUL and other controls (response splitting), names are HTTP tokens, and
 * hop-by-hop headers, which only the server may set, are refused, except
 * `Connection: close`, which asks for no more than Apache can do itself
 * (Mercurial's hgweb sends it): it closes the connection after this
 * response and Apache writes its own Connection header.  Values
 * are copied into the request's pool while the GIL is held: nothing handed
 * to the server points into a Python object (mod_wsgi's CVE-2014-0242).
 *
 * The status and headers go to the I/O (call->io_ops->set_response) at
 * once, but nothing is sent until the first body bytes are (output.c), so
 * PEP 3333's "replace with exc_info before headers are sent" is a
 * re-application.
 * A header a response may carry once (Content-Length, Location...) given
 * twice with different values is the application's error, never two
 * headers on the wire.
 *
 * Both callables may be kept by the application and called from any
 * thread: each call runs inside the request's guard (guard.c), and
 * fails with RuntimeError once the request, or its body, has ended.
 */
#include "py.h"
#include "common/validate.h"

typedef struct {
    PyObject_HEAD
    wsl_guard *guard;
} wsl_py_start_response;

/*
 * The latin-1 bytes of a native string, copied into the pool, or NULL
 * with ValueError/TypeError set.  `what` names it in the message.
 */
static const char *native_string(apr_pool_t *pool, PyObject *obj,
                                 const char *what, int token)
{
    const unsigned char *data;
    Py_ssize_t len, i;

    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %s", what,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (PyUnicode_READY(obj) < 0)
        return NULL;
    if (PyUnicode_KIND(obj) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "%s %R has characters outside "
                     "latin-1", what, obj);
        return NULL;
    }
    data = PyUnicode_1BYTE_DATA(obj);
    len = PyUnicode_GET_LENGTH(obj);
    if (token && len == 0) {
        PyErr_Format(PyExc_ValueError, "%s is empty", what);
        return NULL;
    }
    i = (Py_ssize_t)(token ? wsl_token_span(data, (size_t)len)
                           : wsl_text_span(data, (size_t)len));
    if (i < len) {
        PyErr_Format(PyExc_ValueError, "%s %R contains a forbidden "
                     "character (0x%02x)", what, obj, data[i]);
        return NULL;
    }
    return apr_pstrmemdup(pool, (const char *)data, (apr_size_t)len);
}

/* "200 OK" -> 200; -1 with ValueError set. */
static int parse_status(const char *line)
{
    int code = wsl_status_code(line);

    if (code == WSL_STATUS_MALFORMED)
        PyErr_Format(PyExc_ValueError, "status '%s' is not of the form "
                     "'200 OK'", line);
    else if (code == WSL_STATUS_RANGE)
        PyErr_Format(PyExc_ValueError, "status '%s' is not between 100 "
                     "and 599", line);
    return code < 0 ? -1 : code;
}

/*
 * The exc_info argument, checked: 0 with *triple NULL for None and for
 * (None, None, None) (sys.exc_info() outside an except block: there is no
 * error to report), 0 with *triple set for a real (type, value, traceback)
 * triple as sys.exc_info() gives, -1 with TypeError for anything else.
 */
static int check_exc_info(PyObject *exc_info, PyObject **triple)
{
    PyObject *type, *value, *tb;

    *triple = NULL;
    if (exc_info == Py_None)
        return 0;
    if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3)
        goto bad;
    type = PyTuple_GET_ITEM(exc_info, 0);
    value = PyTuple_GET_ITEM(exc_info, 1);
    tb = PyTuple_GET_ITEM(exc_info, 2);
    if (type == Py_None && value == Py_None && tb == Py_None)
        return 0;
    if (!PyExceptionClass_Check(type) ||
        !PyObject_TypeCheck(value, (PyTypeObject *)type) ||
        (tb != Py_None && !PyTraceBack_Check(tb)))
        goto bad;
    *triple = exc_info;
    return 0;

bad:
    PyErr_Format(PyExc_TypeError, "exc_info must be None or the (type, "
                 "value, traceback) of an exception, as sys.exc_info() "
                 "gives it, not %.200s", Py_TYPE(exc_info)->tp_name);
    return -1;
}

/* Re-raise a checked exc_info triple (PEP 3333: headers already sent). */
static PyObject *reraise(PyObject *triple)
{
    PyObject *tb = PyTuple_GET_ITEM(triple, 2);

    /* PyErr_Restore steals; the tuple keeps its own references. */
    Py_INCREF(PyTuple_GET_ITEM(triple, 0));
    Py_INCREF(PyTuple_GET_ITEM(triple, 1));
    Py_XINCREF(tb == Py_None ? NULL : tb);
    PyErr_Restore(PyTuple_GET_ITEM(triple, 0), PyTuple_GET_ITEM(triple, 1),
                  tb == Py_None ? NULL : tb);
    return NULL;
}

/* Is a Connection value `close` (any case, optional whitespace)? */
static int is_close(const char *value)
{
    while (apr_isspace(*value))
        value++;
    if (strncasecmp(value, "close", 5))
        return 0;
    for (value += 5; apr_isspace(*value); value++)
        ;
    return *value == '\0';
}

/* Validate the headers (a tuple: the application's list, copied, so no
 * code run while checking can change it) into out (room for all of them)
 * and *nout; -1 with an exception set. */
static int build_headers(apr_pool_t *pool, PyObject *headers,
                         wsl_header *out, int *nout,
                         const char **content_type,
                         apr_off_t *content_length, int *close_connection)
{
    const char *seen[WSL_SINGLETON_COUNT] = { NULL };
    Py_ssize_t i, n = PyTuple_GET_SIZE(headers);

    *nout = 0;
    for (i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(headers, i);
        const char *name, *value;
        int single;

        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError, "response header %zd must be a "
                         "(name, value) tuple, not %.200s", i,
                         Py_TYPE(item)->tp_name);
            return -1;
        }
        if (!(name = native_string(pool, PyTuple_GET_ITEM(item, 0),
                                   "header name", 1)) ||
            !(value = native_string(pool, PyTuple_GET_ITEM(item, 1),
                                    "header value", 0)))
            return -1;
        if (!strcasecmp(name, "Connection") && is_close(value)) {
            *close_connection = 1;
            continue;
        }
        if (wsl_is_hop_by_hop(name)) {
            PyErr_Format(PyExc_ValueError, "hop-by-hop header '%s' may not "
                         "be set by a WSGI application", name);
            return -1;
        }
        if ((single = wsl_singleton_header(name)) >= 0) {
            if (seen[single]) {
                if (strcmp(seen[single], value)) {
                    PyErr_Format(PyExc_ValueError, "header '%s' given twice "
                                 "with different values ('%s', '%s')", name,
                                 seen[single], value);
                    return -1;
                }
                continue;       /* the same value again: send it once */
            }
            seen[single] = value;
        }
        if (!strcasecmp(name, "Content-Type")) {
            *content_type = value;
            continue;
        }
        if (!strcasecmp(name, "Content-Length")) {
            long long length;

            if (wsl_content_length(value, &length) < 0 ||
                (apr_off_t)length != length) {
                PyErr_Format(PyExc_ValueError, "invalid Content-Length "
                             "'%s'", value);
                return -1;
            }
            *content_length = (apr_off_t)length;
        }
        /* A singleton replaces what the server had; the others add to
         * it. */
        out[*nout].name = name;
        out[*nout].value = value;
        out[*nout].replace = single >= 0;
        (*nout)++;
    }
    return 0;
}

/* start_response's work, inside the guard. */
static int start_response(wsl_call *call, PyObject *status,
                          PyObject *headers, PyObject *exc_info)
{
    const char *status_line, *content_type = NULL;
    apr_off_t content_length = -1;
    PyObject *triple;
    wsl_header *out;
    int code, nout, close_connection = 0;

    if (check_exc_info(exc_info, &triple) < 0)
        return -1;
    if (call->body_done) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called after "
                        "the response body ended");
        return -1;
    }
    if (triple) {
        /* PEP 3333: too late to change anything once headers are out. */
        if (call->headers_sent) {
            reraise(triple);
            return -1;
        }
    }
    else if (call->status_set) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called again "
                        "without exc_info");
        return -1;
    }

    if (!(status_line = native_string(call->pool, status, "status", 0)) ||
        (code = parse_status(status_line)) < 0)
        return -1;
    out = apr_palloc(call->pool, sizeof(*out) *
                                ((apr_size_t)PyTuple_GET_SIZE(headers) + 1));
    if (build_headers(call->pool, headers, out, &nout, &content_type,
                      &content_length, &close_connection) < 0)
        return -1;

    call->io_ops->set_response(call, code, status_line, out, nout,
                              content_type, close_connection);
    call->content_length = content_length;
    call->status_set = 1;
    /* WSGIErrorOverride: Apache's ErrorDocument answers instead, so the
     * application's own error body is dropped (handler.c). */
    call->discard_body = call->error_override && code >= 400;
    return 0;
}

static PyObject *start_response_call(wsl_py_start_response *self,
                                     PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = { "status", "response_headers", "exc_info",
                              NULL };
    PyObject *status, *list, *headers, *exc_info = Py_None;
    PyObject *request_id = NULL, *request_data = NULL;
    wsl_interp *interp = NULL;
    server_rec *s = NULL;
    wsl_call *call;
    int rc;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:start_response",
                                     kwlist, &status, &list, &exc_info))
        return NULL;
    if (!PyList_Check(list)) {
        PyErr_Format(PyExc_TypeError, "response headers must be a list, "
                     "not %.200s", Py_TYPE(list)->tp_name);
        return NULL;
    }
    if (!(headers = PyList_AsTuple(list)))
        return NULL;
    if (!wsl_guard_enter(self->guard, "start_response()")) {
        Py_DECREF(headers);
        return NULL;
    }
    call = wsl_guard_request(self->guard);
    rc = start_response(call, status, headers, exc_info);
    if (rc == 0 && wsl_events_subscribed(call->interp)) {
        /* Published once the guard is left: a callback may write(). */
        interp = call->interp;
        s = call->server;
        request_id = Py_NewRef(call->request_id);
        request_data = Py_NewRef(call->request_data);
    }
    wsl_guard_leave(self->guard);
    Py_DECREF(headers);
    if (rc < 0)
        return NULL;
    if (request_id) {
        wsl_events_response_started(interp, s, request_id, request_data,
                                    status, list, exc_info);
        Py_DECREF(request_id);
        Py_DECREF(request_data);
    }
    return PyObject_GetAttrString((PyObject *)self, "write");
}

/* PEP 3333's write(): the imperative, unbuffered path. */
static PyObject *start_response_write(wsl_py_start_response *self,
                                      PyObject *data)
{
    wsl_call *call;
    int rc = -1;

    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be bytes, "
                     "not %.200s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (!wsl_guard_enter(self->guard, "write()"))
        return NULL;
    call = wsl_guard_request(self->guard);
    if (!call->status_set)
        PyErr_SetString(PyExc_RuntimeError,
                        "write() called before start_response()");
    else if ((rc = wsl_output_write(call, data)) == 0 && call->aborted) {
        PyErr_SetString(PyExc_OSError, "client connection closed");
        rc = -1;
    }
    wsl_guard_leave(self->guard);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static void start_response_dealloc(wsl_py_start_response *self)
{
    PyTypeObject *type = Py_TYPE(self);

    wsl_guard_unref(self->guard);
    PyObject_Free(self);
    Py_DECREF(type);        /* a heap type: each instance holds it */
}

static PyMethodDef start_response_methods[] = {
    { "write", (PyCFunction)start_response_write, METH_O,
      "Write body bytes at once (PEP 3333 write())." },
    { NULL }
};

static PyType_Slot start_response_slots[] = {
    { Py_tp_dealloc, start_response_dealloc },
    { Py_tp_call, start_response_call },
    { Py_tp_doc, "start_response(status, response_headers, exc_info=None)" },
    { Py_tp_methods, start_response_methods },
    { 0, NULL }
};

/* Made only by the module, never subclassed or changed by an
 * application: what a static type was. */
PyType_Spec wsl_py_start_response_spec = {
    .name = "mod_wsgi_lite.StartResponse",
    .basicsize = sizeof(wsl_py_start_response),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = start_response_slots,
};

PyObject *wsl_start_response_new(wsl_call *call)
{
    wsl_py_start_response *self =
        PyObject_New(wsl_py_start_response,
                     wsl_type(call->interp, WSL_TYPE_START_RESPONSE));

    if (!self)
        return NULL;
    self->guard = wsl_guard_ref(call->guard);
    return (PyObject *)self;
}
