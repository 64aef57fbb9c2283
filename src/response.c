/*
 * response.c: start_response(status, response_headers, exc_info=None) and
 * the write() callable it returns (PEP 3333 "The start_response()
 * Callable").
 *
 * Everything the application says is validated before Apache sees any of
 * it: the status line and every header are str, latin-1, free of CR, LF,
 * NUL and other controls (response splitting), names are HTTP tokens, and
 * hop-by-hop headers, which only the server may set, are refused.  Values
 * are copied into r->pool while the GIL is held: nothing handed to Apache
 * points into a Python object (mod_wsgi's CVE-2014-0242).
 *
 * Headers are put on the request_rec at once, but Apache sends nothing
 * until the first body bytes reach its filters (output.c), so PEP 3333's
 * "replace with exc_info before headers are sent" is a re-application.
 */
#include "wsl.h"
#include "validate.h"

typedef struct {
    PyObject_HEAD
    wsl_request *req;       /* NULL once the request has ended */
    apr_table_t *base_headers; /* headers_out before the app's own */
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

static PyObject *reraise(PyObject *exc_info)
{
    if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "exc_info must be a (type, value, traceback) tuple");
        return NULL;
    }
    /* PyErr_Restore steals, the tuple keeps its own references. */
    Py_INCREF(PyTuple_GET_ITEM(exc_info, 0));
    Py_INCREF(PyTuple_GET_ITEM(exc_info, 1));
    Py_INCREF(PyTuple_GET_ITEM(exc_info, 2));
    PyErr_Restore(PyTuple_GET_ITEM(exc_info, 0),
                  PyTuple_GET_ITEM(exc_info, 1),
                  PyTuple_GET_ITEM(exc_info, 2));
    return NULL;
}

/* Validate the headers into a fresh table; -1 with an exception set. */
static int build_headers(wsl_request *req, PyObject *headers,
                         apr_table_t *out, const char **content_type,
                         apr_off_t *content_length)
{
    request_rec *r = req->r;
    Py_ssize_t i, n;

    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "response headers must be a list, "
                     "not %s", Py_TYPE(headers)->tp_name);
        return -1;
    }
    n = PyList_GET_SIZE(headers);
    for (i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        const char *name, *value;

        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError, "response header %zd must be a "
                         "(name, value) tuple, not %R", i, item);
            return -1;
        }
        if (!(name = native_string(r->pool, PyTuple_GET_ITEM(item, 0),
                                   "header name", 1)) ||
            !(value = native_string(r->pool, PyTuple_GET_ITEM(item, 1),
                                    "header value", 0)))
            return -1;
        if (wsl_is_hop_by_hop(name)) {
            PyErr_Format(PyExc_ValueError, "hop-by-hop header '%s' may not "
                         "be set by a WSGI application", name);
            return -1;
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
        apr_table_addn(out, name, value);
    }
    return 0;
}

static PyObject *start_response_call(wsl_py_start_response *self,
                                     PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = { "status", "response_headers", "exc_info",
                              NULL };
    PyObject *status, *headers, *exc_info = Py_None;
    wsl_request *req = self->req;
    const char *status_line, *content_type = NULL;
    apr_off_t content_length = -1;
    apr_table_t *out;
    int code;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:start_response",
                                     kwlist, &status, &headers, &exc_info))
        return NULL;
    if (!req) {
        PyErr_SetString(PyExc_RuntimeError,
                        "start_response() called after its request ended");
        return NULL;
    }
    if (exc_info != Py_None) {
        /* PEP 3333: too late to change anything once headers are out. */
        if (req->headers_sent)
            return reraise(exc_info);
    }
    else if (req->status_set) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called again "
                        "without exc_info");
        return NULL;
    }

    if (!(status_line = native_string(req->r->pool, status, "status", 0)) ||
        (code = parse_status(status_line)) < 0)
        return NULL;
    if (!self->base_headers)
        self->base_headers = apr_table_copy(req->r->pool,
                                            req->r->headers_out);
    out = apr_table_copy(req->r->pool, self->base_headers);
    if (build_headers(req, headers, out, &content_type, &content_length) < 0)
        return NULL;

    req->r->status = code;
    req->r->status_line = status_line;
    req->r->headers_out = out;
    if (content_type)
        ap_set_content_type(req->r, content_type);
    req->content_length = content_length;
    req->status_set = 1;
    /* WSGIErrorOverride: Apache's ErrorDocument answers instead, so the
     * application's own error body is dropped (handler.c). */
    req->discard_body = req->error_override && code >= 400;
    return PyObject_GetAttrString((PyObject *)self, "write");
}

/* PEP 3333's write(): the imperative, unbuffered path. */
static PyObject *start_response_write(wsl_py_start_response *self,
                                      PyObject *data)
{
    wsl_request *req = self->req;

    if (!req) {
        PyErr_SetString(PyExc_RuntimeError,
                        "write() called after its request ended");
        return NULL;
    }
    if (!req->status_set) {
        PyErr_SetString(PyExc_RuntimeError,
                        "write() called before start_response()");
        return NULL;
    }
    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be bytes, "
                     "not %s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (wsl_output_write(req, data, 1) < 0)
        return NULL;
    if (req->aborted) {
        PyErr_SetString(PyExc_OSError, "client connection closed");
        return NULL;
    }
    Py_RETURN_NONE;
}

static void start_response_dealloc(wsl_py_start_response *self)
{
    PyObject_Free(self);
}

static PyMethodDef start_response_methods[] = {
    { "write", (PyCFunction)start_response_write, METH_O,
      "Write body bytes at once (PEP 3333 write())." },
    { NULL }
};

PyTypeObject wsl_py_start_response_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_wsgi_lite.StartResponse",
    .tp_basicsize = sizeof(wsl_py_start_response),
    .tp_dealloc = (destructor)start_response_dealloc,
    .tp_call = (ternaryfunc)start_response_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "start_response(status, response_headers, exc_info=None)",
    .tp_methods = start_response_methods,
};

PyObject *wsl_start_response_new(wsl_request *req)
{
    wsl_py_start_response *self =
        PyObject_New(wsl_py_start_response, &wsl_py_start_response_type);

    if (!self)
        return NULL;
    self->req = req;
    self->base_headers = NULL;
    return (PyObject *)self;
}

void wsl_start_response_detach(PyObject *sr)
{
    ((wsl_py_start_response *)sr)->req = NULL;
}
