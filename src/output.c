/*
 * output.c: the response body, from the application's iterable to
 * Apache's output filters (PEP 3333 "Buffering and Streaming").
 *
 * One brigade per request.  Large body chunks go in as transient buckets
 * that point into the Python bytes objects; small ones are copied.  Every
 * object a bucket points into is held by a reference of the request's own
 * (hold()) from the moment its bucket is made until ap_pass_brigade has
 * returned and the brigade is empty (a filter that keeps data longer sets
 * it aside, copying it); the references are dropped with the GIL held.
 * Nothing borrowed survives a GIL release: another thread may empty the
 * list the application returned while Apache sends it.  The GIL is dropped
 * exactly around ap_pass_brigade.
 *
 * Every function here that touches the request runs inside its guard
 * (request.c): write() from the application's threads and the handler's
 * own iteration take turns on the brigade.  The last pass of a response that no longer points
 * into Python memory (small bodies, file buckets) waits until the handler
 * has left Python, so it needs no second GIL acquisition.
 *
 * A list or tuple is already in memory, so all of it goes down in one pass
 * with the EOS: Apache then computes Content-Length itself and keeps the
 * connection alive.  Any other iterable is streamed: each block is passed
 * and flushed as it is produced, because PEP 3333 forbids delaying a block
 * while the application computes the next.
 *
 * wsgi.file_wrapper over a real file becomes a file bucket, sent with
 * sendfile() under WSGIEnableSendfile On (else read and written).
 */
#include "wsl.h"

#include "http_core.h"
#include "http_connection.h"

#include <sys/stat.h>
#include <unistd.h>

/* Chunks smaller than this are copied (and coalesce); larger ones are
 * passed as they are, held. */
#define WSL_COPY_MAX (8 * 1024)
/* Coalesced bytes that are passed on without waiting for more. */
#define WSL_COALESCE_MAX (32 * 1024)
/* A chunk that took longer than this to produce is flushed at once. */
#define WSL_SLOW_CHUNK apr_time_from_msec(2)
/* Large chunks held for one pass of a stream (also the held array's
 * first size). */
#define WSL_HELD_MAX 16

/* Bytes of `len` that still fit in the app's Content-Length; logs the
 * first overrun (PEP 3333: a server must not send more than it said). */
static apr_size_t clamp_to_length(wsl_request *req, apr_size_t len)
{
    apr_off_t room;

    if (req->content_length < 0)
        return len;
    room = req->content_length - req->bytes_sent;
    if ((apr_off_t)len <= room)
        return len;
    if (!req->overflow_logged) {
        req->overflow_logged = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, req->r,
                      "WSL00030: the application for '%s' returned more "
                      "body than its Content-Length of %" APR_OFF_T_FMT
                      "; the excess was not sent", req->r->uri,
                      req->content_length);
    }
    return room > 0 ? (apr_size_t)room : 0;
}

/* Keep `bytes` alive until the brigade that points into it has been
 * passed (release_held); -1 with MemoryError set. */
static int hold(wsl_request *req, PyObject *bytes)
{
    if (req->nheld == req->capheld) {
        int ncap = req->capheld ? req->capheld * 2 : WSL_HELD_MAX;
        PyObject **nheld = PyMem_Realloc(req->held,
                                         (size_t)ncap * sizeof(*nheld));

        if (!nheld) {
            PyErr_NoMemory();
            return -1;
        }
        req->held = nheld;
        req->capheld = ncap;
    }
    Py_INCREF(bytes);
    req->held[req->nheld++] = bytes;
    return 0;
}

/* The brigade no longer points into Python memory: drop what it held.
 * GIL held. */
static void release_held(wsl_request *req)
{
    while (req->nheld > 0)
        Py_DECREF(req->held[--req->nheld]);
}

/* Empty the brigade without sending it (a failure before the headers). */
static void discard_brigade(wsl_request *req)
{
    apr_brigade_cleanup(req->bb);
    release_held(req);
}

/*
 * Append one body chunk.  Small chunks are copied into the brigade's heap
 * buckets, where consecutive ones coalesce; a large one goes in as a
 * transient bucket pointing into the bytes object, which is held until the
 * brigade is passed.  0, or -1 with an exception set.
 */
static int append_bytes(wsl_request *req, PyObject *bytes)
{
    apr_size_t len;

    if (!PyBytes_Check(bytes)) {
        PyErr_Format(PyExc_TypeError, "WSGI response body must be an "
                     "iterable of bytes, got %s", Py_TYPE(bytes)->tp_name);
        return -1;
    }
    if (!req->status_set && PyBytes_GET_SIZE(bytes)) {
        PyErr_SetString(PyExc_RuntimeError, "response body produced before "
                        "start_response() was called");
        return -1;
    }
    if (PyBytes_GET_SIZE(bytes))
        req->output_writes++;       /* request_finished's output_writes */
    if (req->discard_body)
        return 0;
    len = clamp_to_length(req, (apr_size_t)PyBytes_GET_SIZE(bytes));
    if (!len)
        return 0;
    if (len < WSL_COPY_MAX) {
        apr_brigade_write(req->bb, NULL, NULL, PyBytes_AS_STRING(bytes), len);
    }
    else {
        if (hold(req, bytes) < 0)
            return -1;
        APR_BRIGADE_INSERT_TAIL(req->bb,
            apr_bucket_transient_create(PyBytes_AS_STRING(bytes), len,
                                        req->bb->bucket_alloc));
    }
    req->bytes_sent += len;
    req->pending += len;
    return 0;
}

/* The application's Content-Length has been sent in full: iterating on
 * would only produce bytes to throw away (or never end: a file wrapper
 * over /dev/zero). */
static int length_reached(const wsl_request *req)
{
    return req->content_length >= 0 &&
           req->bytes_sent >= req->content_length;
}

/* Pass the brigade on; the caller holds no GIL.  A failure means the
 * client is gone (or a filter gave up): stop producing, nothing to
 * report beyond an info entry. */
static void send_brigade(wsl_request *req)
{
    apr_time_t start = req->timed ? apr_time_now() : 0;
    apr_status_t rv;

    req->headers_sent = 1;
    req->pending = 0;
    rv = ap_pass_brigade(req->r->output_filters, req->bb);
    apr_brigade_cleanup(req->bb);
    /* request_finished's output_time: only measured for a subscriber. */
    if (req->timed)
        req->output_time += apr_time_now() - start;
    if (rv != APR_SUCCESS && !req->aborted) {
        req->aborted = 1;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, req->r,
                      "WSL00031: client went away while sending the "
                      "response for '%s'", req->r->uri);
    }
}

/* Pass the brigade on with the GIL released around it, then drop what it
 * held. */
static void pass_brigade(wsl_request *req, int flush)
{
    PyThreadState *ts;

    if (flush && !APR_BRIGADE_EMPTY(req->bb))
        APR_BRIGADE_INSERT_TAIL(req->bb,
            apr_bucket_flush_create(req->bb->bucket_alloc));
    if (APR_BRIGADE_EMPTY(req->bb))
        return;
    ts = wsl_gil_release();
    send_brigade(req);
    wsl_gil_reacquire(ts);
    release_held(req);
}

int wsl_output_write(wsl_request *req, PyObject *bytes)
{
    if (req->body_done) {
        PyErr_SetString(PyExc_RuntimeError, "write() called after the "
                        "response body ended");
        return -1;
    }
    if (req->aborted)
        return 0;
    if (append_bytes(req, bytes) < 0)
        return -1;
    pass_brigade(req, 1);
    return 0;
}

/* End the response so that the client sees it truncated, never complete:
 * an error bucket stops the chunk filter from writing the last chunk (as
 * mod_proxy does for a broken backend), and the connection is closed. */
static void truncate_response(wsl_request *req)
{
    req->r->connection->keepalive = AP_CONN_CLOSE;
    if (req->aborted)
        return;
    APR_BRIGADE_INSERT_TAIL(req->bb,
        ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, req->r->pool,
                               req->bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(req->bb,
                            apr_bucket_eos_create(req->bb->bucket_alloc));
    pass_brigade(req, 0);
}

/* End of body: EOS, checks against Content-Length.  Inside the guard. */
static int output_finish(wsl_request *req)
{
    req->body_done = 1;
    if (!req->status_set) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the application never called start_response()");
        return -1;
    }
    if (req->aborted || req->discard_body)
        return 0;
    if (req->content_length >= 0 && req->bytes_sent < req->content_length &&
        !req->r->header_only) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, req->r,
                      "WSL00032: the application for '%s' returned %"
                      APR_OFF_T_FMT " bytes, less than its Content-Length "
                      "of %" APR_OFF_T_FMT "; closing the connection",
                      req->r->uri, req->bytes_sent, req->content_length);
        /* What was produced goes out first, without the EOS, so that
         * Apache's content-length filter leaves the application's header
         * alone (given the whole body in one brigade it would count it and
         * send a consistent, complete-looking response). */
        pass_brigade(req, 1);
        truncate_response(req);
        return 0;
    }
    /* Flush, or the core output filter keeps a small response back until
     * Apache has looked for a pipelined request: the client, which waits
     * for this response before sending its next request, has then sent
     * nothing yet, and the connection makes a round trip through the
     * event MPM's listener.  Written now, the next request is usually
     * there by the time Apache looks (as for a static file). */
    APR_BRIGADE_INSERT_TAIL(req->bb,
                            apr_bucket_flush_create(req->bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(req->bb,
                            apr_bucket_eos_create(req->bb->bucket_alloc));
    if (req->nheld)
        pass_brigade(req, 0);
    else
        req->send_pending = 1;
    return 0;
}

void wsl_output_send_pending(wsl_request *req)
{
    if (!req->send_pending)
        return;
    req->send_pending = 0;
    send_brigade(req);
}

void wsl_output_send_pending_now(wsl_request *req)
{
    if (!req->send_pending)
        return;
    req->send_pending = 0;
    pass_brigade(req, 0);
}

void wsl_output_discard(wsl_request *req)
{
    discard_brigade(req);
    req->send_pending = 0;
}

void wsl_output_abort(wsl_request *req)
{
    wsl_output_discard(req);
    truncate_response(req);
}

void wsl_output_done(wsl_request *req)
{
    release_held(req);
    PyMem_Free(req->held);
    req->held = NULL;
    req->capheld = 0;
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

/*
 * A descriptor of our own for the file (a dup, so that the application
 * closing its file, from any thread, cannot pull it from under Apache) and
 * its logical position; -1 when the file-like object is not a regular
 * file (then it is iterated instead).  Calls the application's fileno()
 * and tell(), so it runs outside the guard.
 */
static int real_file(PyObject *filelike, apr_off_t *offset,
                     apr_off_t *size)
{
    PyObject *res;
    struct stat st;
    long long pos;
    long value;
    int fd = -1;

    if (!(res = PyObject_CallMethod(filelike, "fileno", NULL)))
        goto not_a_file;
    value = PyLong_Check(res) ? PyLong_AsLong(res) : -1;
    Py_DECREF(res);
    /* Checked before the cast: 2**32 + 3 must not become descriptor 3. */
    if (value < 0 || value > INT_MAX || (fd = dup((int)value)) < 0)
        goto not_a_file;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        goto not_a_file;
    /* tell(), not lseek(): a buffered reader's descriptor may be ahead
     * of what the application has consumed. */
    if (!(res = PyObject_CallMethod(filelike, "tell", NULL)))
        goto not_a_file;
    pos = PyLong_AsLongLong(res);
    Py_DECREF(res);
    if (pos < 0 || pos > (long long)st.st_size)
        goto not_a_file;
    *offset = (apr_off_t)pos;
    *size = (apr_off_t)st.st_size;
    return fd;

not_a_file:
    PyErr_Clear();
    if (fd >= 0)
        close(fd);
    return -1;
}

/* A file bucket for real_file's descriptor, which it takes over, inside
 * the guard: 1 if done, 0 if the wrapper must be iterated instead. */
static int output_file(wsl_request *req, apr_os_file_t fd,
                       apr_off_t offset, apr_off_t size)
{
    request_rec *r = req->r;
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    apr_off_t length;
    apr_file_t *file;
    apr_bucket *b;

    /* Closed with the request pool: the core output filter may still be
     * sending (event MPM write completion) after the application has
     * closed its file, and the EOR bucket keeps the request pool alive
     * until then. */
    apr_pool_cleanup_register(r->pool, (void *)(apr_uintptr_t)fd,
                              close_fd, apr_pool_cleanup_null);
    if (!req->status_set || req->aborted || req->body_done)
        return 0;
    if (req->discard_body)
        return 1;
    length = size - offset;
    /* Sending part of a file by setting Content-Length is legitimate
     * (PEP 3333 asks the server to honour it), so no overrun is logged. */
    if (req->content_length >= 0 &&
        length > req->content_length - req->bytes_sent)
        length = req->content_length - req->bytes_sent;

    /* WSGIEnableSendfile, as in mod_wsgi, is the one switch: Apache's
     * EnableSendfile applies to the files Apache itself opens. */
    if (apr_os_file_put(&file, &fd,
                        APR_FOPEN_READ |
                        (wsl_config_flag(dconf->enable_sendfile, 0)
                         ? APR_FOPEN_SENDFILE_ENABLED : 0),
                        r->pool) != APR_SUCCESS)
        return 0;
    if (length > 0) {
        b = apr_brigade_insert_file(req->bb, file, offset, length, r->pool);
#if APR_HAS_MMAP
        apr_bucket_file_enable_mmap(b, core->enable_mmap != ENABLE_MMAP_OFF);
#else
        (void)b;
#endif
        req->bytes_sent += length;
    }
    return 1;
}

/*
 * A list or tuple, all in one pass with the EOS.  The sequence is walked
 * without the GIL ever being dropped (append_bytes does not pass), and the
 * large items it points into are held (hold()), so another thread that
 * empties the list while Apache sends it changes nothing on the wire.
 */
static int output_sequence(wsl_request *req, PyObject *seq)
{
    Py_ssize_t i;

    for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        if (append_bytes(req, PySequence_Fast_GET_ITEM(seq, i)) < 0)
            return -1;
    }
    return output_finish(req);
}

/*
 * Any other iterable: stream it.  Chunks that the application produces
 * back to back are coalesced and passed on in batches (a flush per
 * 100-byte chunk costs a system call and a chunk header each; a pass per
 * 64 KiB chunk, a trip through the filters and a GIL hand-off each): small
 * ones are copied up to WSL_COALESCE_MAX, large ones are held by reference
 * up to WSL_BORROW_MAX.  A chunk is flushed at once when waiting for the
 * next one could hold it back: the first chunk (headers out early), a
 * chunk whose production took longer than WSL_SLOW_CHUNK (a producer that
 * waits on something, such as a server-sent event stream), and at an
 * explicit flush point, an empty bytes object, as PEP 3333 allows for a
 * server that buffers.  write() always flushes.
 *
 * The guard is entered per chunk, never across the application's own
 * code (next() may call write(), or hand the request to a thread).
 */
/* 1 MiB: 16 chunks of 64 KiB per write.  Against 256 KiB, a 10 MiB stream
 * takes 18 writes instead of 46 and, in two bench runs, some 9% less server
 * CPU; the memory held is the application's own chunks, for one write. */
#define WSL_BORROW_MAX (1024 * 1024)

static int output_iterator(wsl_request *req, PyObject *result)
{
    PyObject *iter = PyObject_GetIter(result), *item;
    apr_time_t before, after;
    int first = 1, rc = 0, done = 0;

    if (!iter)
        return -1;
    while (!done) {
        int flush;

        before = apr_time_now();
        item = PyIter_Next(iter);
        if (!item)
            break;
        after = apr_time_now();
        if (!wsl_guard_enter(req->guard, "the response iterable")) {
            Py_DECREF(item);
            break;
        }
        if (append_bytes(req, item) < 0) {
            wsl_guard_leave(req->guard);
            Py_DECREF(item);
            break;
        }
        flush = PyBytes_GET_SIZE(item) == 0 ||
                (first && req->pending) || after - before > WSL_SLOW_CHUNK;
        Py_DECREF(item);
        if (req->pending)
            first = 0;
        if (flush || req->nheld >= WSL_HELD_MAX ||
            req->pending >= (req->nheld ? WSL_BORROW_MAX
                                        : WSL_COALESCE_MAX))
            pass_brigade(req, flush);
        done = req->aborted || length_reached(req);
        wsl_guard_leave(req->guard);
    }
    Py_DECREF(iter);
    if (!wsl_guard_enter(req->guard, "the response iterable"))
        return -1;
    if (PyErr_Occurred()) {
        /* What is in the brigade is never sent (the handler answers 500
         * or truncates), and write() must not add to it. */
        req->body_done = 1;
        discard_brigade(req);
        rc = -1;
    }
    else {
        rc = output_finish(req);
    }
    wsl_guard_leave(req->guard);
    return rc;
}

int wsl_output_result(wsl_request *req, PyObject *result)
{
    int rc;

    if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
        if (!wsl_guard_enter(req->guard, "the response"))
            return -1;
        rc = output_sequence(req, result);
        wsl_guard_leave(req->guard);
        return rc;
    }
    /* This interpreter's type: each has its own (wsl.h). */
    if (Py_TYPE(result) == wsl_type(req->interp, WSL_TYPE_FILE_WRAPPER)) {
        apr_off_t offset, size;
        int fd = real_file(wsl_file_wrapper_filelike(result), &offset,
                           &size);

        if (fd >= 0) {
            if (!wsl_guard_enter(req->guard, "the response")) {
                close(fd);
                return -1;
            }
            rc = output_file(req, fd, offset, size) > 0
                 ? output_finish(req) : 1;
            wsl_guard_leave(req->guard);
            if (rc <= 0)
                return rc;
        }
    }
    if (PyUnicode_Check(result) || PyBytes_Check(result)) {
        /* Iterating would send it a character or byte at a time. */
        PyErr_Format(PyExc_TypeError, "WSGI application returned %s; it "
                     "must return an iterable of bytes, such as [body]",
                     Py_TYPE(result)->tp_name);
        return -1;
    }
    return output_iterator(req, result);
}
