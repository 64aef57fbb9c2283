/*
 * output.c: the response body, from the application's iterable to the
 * server (PEP 3333 "Buffering and Streaming"), through the I/O seam
 * (call->io_ops, py.h): what goes out and when is decided here, how is
 * the I/O's business (io_apache.c in embedded mode).
 *
 * Small body chunks are copied; large ones are handed over with the bytes
 * object that owns them, which the I/O keeps alive until they are sent:
 * another thread may empty the list the application returned while the
 * server sends it.
 *
 * Every function here that touches the request runs inside its guard
 * (guard.c): write() from the application's threads and the handler's
 * own iteration take turns.
 *
 * A list or tuple is already in memory, so all of it goes down in one pass
 * with the end of the body: Apache then computes Content-Length itself and
 * keeps the connection alive.  Any other iterable is streamed: each block
 * is sent and flushed as it is produced, because PEP 3333 forbids delaying
 * a block while the application computes the next.
 *
 * wsgi.file_wrapper over a real file is handed to the I/O as a descriptor
 * range (sent with sendfile() under WSGIEnableSendfile On, else read and
 * written).
 */
#include "py.h"

#include <sys/stat.h>
#include <unistd.h>

/* Chunks smaller than this are copied (and coalesce); larger ones are
 * passed as they are, held. */
#define WSL_COPY_MAX (8 * 1024)
/* Coalesced bytes that are passed on without waiting for more. */
#define WSL_COALESCE_MAX (32 * 1024)
/* A chunk that took longer than this to produce is flushed at once. */
#define WSL_SLOW_CHUNK apr_time_from_msec(2)
/* Large chunks held for one pass of a stream. */
#define WSL_HELD_MAX 16

/* Bytes of `len` that still fit in the app's Content-Length; logs the
 * first overrun (PEP 3333: a server must not send more than it said). */
static apr_size_t clamp_to_length(wsl_call *call, apr_size_t len)
{
    apr_off_t room;

    if (call->content_length < 0)
        return len;
    room = call->content_length - call->bytes_sent;
    if ((apr_off_t)len <= room)
        return len;
    if (!call->overflow_logged) {
        call->overflow_logged = 1;
        call->io_ops->log(call, APLOG_ERR, 0,
                         apr_psprintf(call->pool, "WSL00030: the application "
                                      "for '%s' returned more body than its "
                                      "Content-Length of %" APR_OFF_T_FMT
                                      "; the excess was not sent", call->uri,
                                      call->content_length));
    }
    return room > 0 ? (apr_size_t)room : 0;
}

/*
 * Append one body chunk.  Small chunks are copied (consecutive ones
 * coalesce); a large one is handed over with its bytes object, which the
 * I/O holds until it is sent.  0, or -1 with an exception set.
 */
static int append_bytes(wsl_call *call, PyObject *bytes)
{
    apr_size_t len;

    if (!PyBytes_Check(bytes)) {
        PyErr_Format(PyExc_TypeError, "WSGI response body must be an "
                     "iterable of bytes, got %s", Py_TYPE(bytes)->tp_name);
        return -1;
    }
    if (!call->status_set && PyBytes_GET_SIZE(bytes)) {
        PyErr_SetString(PyExc_RuntimeError, "response body produced before "
                        "start_response() was called");
        return -1;
    }
    if (PyBytes_GET_SIZE(bytes))
        call->output_writes++;       /* request_finished's output_writes */
    if (call->discard_body)
        return 0;
    len = clamp_to_length(call, (apr_size_t)PyBytes_GET_SIZE(bytes));
    if (!len)
        return 0;
    if (call->io_ops->append(call, PyBytes_AS_STRING(bytes), len,
                            len < WSL_COPY_MAX ? NULL : bytes) < 0)
        return -1;
    if (len >= WSL_COPY_MAX)
        call->borrowed++;
    call->bytes_sent += len;
    call->pending += len;
    return 0;
}

/* The application's Content-Length has been sent in full: iterating on
 * would only produce bytes to throw away (or never end: a file wrapper
 * over /dev/zero). */
static int length_reached(const wsl_call *call)
{
    return call->content_length >= 0 &&
           call->bytes_sent >= call->content_length;
}

/* Send what was appended since the last send. */
static void send_appended(wsl_call *call, int flush)
{
    call->pending = 0;
    call->borrowed = 0;
    call->io_ops->send(call, flush);
}

int wsl_output_write(wsl_call *call, PyObject *bytes)
{
    if (call->body_done) {
        PyErr_SetString(PyExc_RuntimeError, "write() called after the "
                        "response body ended");
        return -1;
    }
    if (call->aborted)
        return 0;
    if (append_bytes(call, bytes) < 0)
        return -1;
    send_appended(call, 1);
    return 0;
}

/* End of body: EOS, checks against Content-Length.  Inside the guard. */
static int output_finish(wsl_call *call)
{
    call->body_done = 1;
    if (!call->status_set) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the application never called start_response()");
        return -1;
    }
    if (call->aborted || call->discard_body)
        return 0;
    if (call->content_length >= 0 && call->bytes_sent < call->content_length &&
        !call->head_only) {
        call->io_ops->log(call, APLOG_ERR, 0,
                         apr_psprintf(call->pool, "WSL00032: the application "
                                      "for '%s' returned %" APR_OFF_T_FMT
                                      " bytes, less than its Content-Length "
                                      "of %" APR_OFF_T_FMT "; closing the "
                                      "connection", call->uri,
                                      call->bytes_sent, call->content_length));
        /* What was produced goes out first, without the end of the body,
         * so that Apache's content-length filter leaves the application's
         * header alone (given the whole body in one brigade it would count
         * it and send a consistent, complete-looking response). */
        send_appended(call, 1);
        call->io_ops->truncate(call);
        return 0;
    }
    call->io_ops->finish(call);
    return 0;
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

/* Hand real_file's descriptor to the I/O, inside the guard: 1 if done,
 * 0 if the wrapper must be iterated instead. */
static int output_file(wsl_call *call, int fd, apr_off_t offset,
                       apr_off_t size)
{
    apr_off_t length = size - offset;

    /* The I/O owns fd from here on, and closes it with the request. */
    if (!call->status_set || call->aborted || call->body_done) {
        call->io_ops->append_file(call, fd, 0, 0);
        return 0;
    }
    if (call->discard_body) {
        call->io_ops->append_file(call, fd, 0, 0);
        return 1;
    }
    /* Sending part of a file by setting Content-Length is legitimate
     * (PEP 3333 asks the server to honour it), so no overrun is logged. */
    if (call->content_length >= 0 &&
        length > call->content_length - call->bytes_sent)
        length = call->content_length - call->bytes_sent;
    if (call->io_ops->append_file(call, fd, offset, length) < 0)
        return 0;
    if (length > 0)
        call->bytes_sent += length;
    return 1;
}

/*
 * A list or tuple, all in one pass with the EOS.  The sequence is walked
 * without the GIL ever being dropped (append_bytes does not pass), and the
 * large items it points into are held (hold()), so another thread that
 * empties the list while Apache sends it changes nothing on the wire.
 */
static int output_sequence(wsl_call *call, PyObject *seq)
{
    Py_ssize_t i;

    for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        if (append_bytes(call, PySequence_Fast_GET_ITEM(seq, i)) < 0)
            return -1;
    }
    return output_finish(call);
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

static int output_iterator(wsl_call *call, PyObject *result)
{
    PyObject *iter = PyObject_GetIter(result), *item;
    apr_time_t before, after;
    int first = 1, rc = 0, done = 0;

    if (!iter)
        return -1;
    while (!done) {
        int flush;

        before = wsl_clock_now();
        item = PyIter_Next(iter);
        if (!item)
            break;
        after = wsl_clock_now();
        if (!wsl_guard_enter(call->guard, "the response iterable")) {
            Py_DECREF(item);
            break;
        }
        if (append_bytes(call, item) < 0) {
            wsl_guard_leave(call->guard);
            Py_DECREF(item);
            break;
        }
        flush = PyBytes_GET_SIZE(item) == 0 ||
                (first && call->pending) || after - before > WSL_SLOW_CHUNK;
        Py_DECREF(item);
        if (call->pending)
            first = 0;
        if (flush || call->borrowed >= WSL_HELD_MAX ||
            call->pending >= (call->borrowed ? WSL_BORROW_MAX
                                           : WSL_COALESCE_MAX))
            send_appended(call, flush);
        done = call->aborted || length_reached(call);
        wsl_guard_leave(call->guard);
    }
    Py_DECREF(iter);
    if (!wsl_guard_enter(call->guard, "the response iterable"))
        return -1;
    if (PyErr_Occurred()) {
        /* What is in the brigade is never sent (the handler answers 500
         * or truncates), and write() must not add to it. */
        call->body_done = 1;
        call->io_ops->discard(call);
        rc = -1;
    }
    else {
        rc = output_finish(call);
    }
    wsl_guard_leave(call->guard);
    return rc;
}

int wsl_output_result(wsl_call *call, PyObject *result)
{
    int rc;

    if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
        if (!wsl_guard_enter(call->guard, "the response"))
            return -1;
        rc = output_sequence(call, result);
        wsl_guard_leave(call->guard);
        return rc;
    }
    /* This interpreter's type: each has its own (py.h). */
    if (Py_TYPE(result) == wsl_type(call->interp, WSL_TYPE_FILE_WRAPPER)) {
        apr_off_t offset, size;
        int fd = real_file(wsl_file_wrapper_filelike(result), &offset,
                           &size);

        if (fd >= 0) {
            if (!wsl_guard_enter(call->guard, "the response")) {
                close(fd);
                return -1;
            }
            rc = output_file(call, fd, offset, size) > 0
                 ? output_finish(call) : 1;
            wsl_guard_leave(call->guard);
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
    return output_iterator(call, result);
}
