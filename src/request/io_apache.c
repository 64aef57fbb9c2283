/*
 * io_apache.c: the I/O seam's operations (wsl_io_ops, py.h) over the
 * request_rec: status and headers onto r, the body through one brigade
 * to Apache's output filters, the request body from its input filters.
 * Embedded mode's half of every WSGI call; the WSGI half (response.c,
 * output.c, input.c) decides what to send and when.
 *
 * Large body chunks go in as transient buckets that point into Python
 * bytes objects; small ones are copied.  Every object a bucket points
 * into is held by a reference of the request's own from the moment its
 * bucket is made until ap_pass_brigade has returned and the brigade is
 * empty (a filter that keeps data longer sets it aside, copying it); the
 * references are dropped with the GIL held.  Nothing borrowed survives a
 * GIL release: another thread may empty the list the application
 * returned while Apache sends it.  The GIL is dropped exactly around
 * ap_pass_brigade and ap_get_brigade.
 *
 * The last pass of a response that no longer points into Python memory
 * (small bodies, file buckets) waits until the handler has left Python,
 * so that a small response costs one GIL acquisition in all.
 */
#include "io_apache.h"

#include "http_core.h"
#include "http_connection.h"

#include <unistd.h>

/* Large chunks held for one pass of a stream (the held array's first
 * size). */
#define WSL_HELD_FIRST 16
/* The most asked of Apache's input filters at once.  The core input filter
 * is greedy: asked for 1 MiB it reads the socket 8 KB at a time until it has
 * that much or the socket is dry, into as many fresh bucket buffers, which
 * are cold by the time they are copied out.  64 KiB at a time the same few
 * buffers are reused while still in cache: a 1 MiB POST costs 1.18x Apache's
 * own discard of it in server CPU instead of 1.32x (8 KiB: 1.43x, more
 * trips through the filters). */
#define WSL_READ_CHUNK (64 * 1024)
/* A whole body up to this size that still points into Python objects at
 * its end is copied out of them instead (finish), so that it goes out
 * after the GIL is dropped for good: passing it with the GIL released and
 * taking the GIL back to drop the objects would make every such request
 * wait for the GIL twice, behind the requests of the other threads (the
 * cpu benchmark's 48 KB page: 2 ms of Python, then that second wait). */
#define WSL_COPY_AT_END (256 * 1024)

struct wsl_io {
    request_rec *r;
    apr_bucket_brigade *bb;     /* the one brigade for the body */
    apr_bucket_brigade *in;     /* for reading the request body */
    apr_table_t *base_headers;  /* headers_out before the app's own */
    PyObject **held;            /* objects bb points into */
    int nheld, capheld;
    int send_pending;           /* bb ends the response; it is passed
                                 * after the GIL is dropped */
};

/* Keep `owner` alive until the brigade that points into it has been
 * passed (release_held); -1 with MemoryError set. */
static int hold(wsl_io *io, PyObject *owner)
{
    if (io->nheld == io->capheld) {
        int ncap = io->capheld ? io->capheld * 2 : WSL_HELD_FIRST;
        PyObject **nheld = PyMem_Realloc(io->held,
                                         (size_t)ncap * sizeof(*nheld));

        if (!nheld) {
            PyErr_NoMemory();
            return -1;
        }
        io->held = nheld;
        io->capheld = ncap;
    }
    io->held[io->nheld++] = Py_NewRef(owner);
    return 0;
}

/* The brigade no longer points into Python memory: drop what it held.
 * GIL held. */
static void release_held(wsl_io *io)
{
    while (io->nheld > 0)
        Py_DECREF(io->held[--io->nheld]);
}

static void set_response(wsl_call *call, int status,
                         const char *status_line, const wsl_header *headers,
                         int nheaders, const char *content_type,
                         int close_connection)
{
    wsl_io *io = call->io;
    request_rec *r = io->r;
    apr_table_t *out;
    int i;

    /* Each start_response starts again from what Apache had set (an
     * exc_info restart must not keep the first call's headers). */
    if (!io->base_headers)
        io->base_headers = apr_table_copy(r->pool, r->headers_out);
    out = apr_table_copy(r->pool, io->base_headers);
    for (i = 0; i < nheaders; i++) {
        if (headers[i].replace)
            apr_table_setn(out, headers[i].name, headers[i].value);
        else
            apr_table_addn(out, headers[i].name, headers[i].value);
    }
    r->status = status;
    r->status_line = status_line;
    r->headers_out = out;
    if (content_type)
        ap_set_content_type(r, content_type);
    if (close_connection)
        r->connection->keepalive = AP_CONN_CLOSE;
}

static int append(wsl_call *call, const char *data, apr_size_t len,
                  PyObject *owner)
{
    wsl_io *io = call->io;

    if (!owner) {
        apr_brigade_write(io->bb, NULL, NULL, data, len);
        return 0;
    }
    if (hold(io, owner) < 0)
        return -1;
    APR_BRIGADE_INSERT_TAIL(io->bb,
        apr_bucket_transient_create(data, len, io->bb->bucket_alloc));
    return 0;
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

static int append_file(wsl_call *call, int fd, apr_off_t offset,
                       apr_off_t length)
{
    wsl_io *io = call->io;
    request_rec *r = io->r;
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    apr_os_file_t osfd = fd;
    apr_file_t *file;
    apr_bucket *b;

    /* Closed with the request pool: the core output filter may still be
     * sending (event MPM write completion) after the application has
     * closed its file, and the EOR bucket keeps the request pool alive
     * until then. */
    apr_pool_cleanup_register(r->pool, (void *)(apr_uintptr_t)fd, close_fd,
                              apr_pool_cleanup_null);
    if (length <= 0)
        return 0;
    /* WSGIEnableSendfile, as in mod_wsgi, is the one switch: Apache's
     * EnableSendfile applies to the files Apache itself opens. */
    if (apr_os_file_put(&file, &osfd,
                        APR_FOPEN_READ |
                        (wsl_config_flag(dconf->enable_sendfile, 0)
                         ? APR_FOPEN_SENDFILE_ENABLED : 0),
                        r->pool) != APR_SUCCESS)
        return -1;
    b = apr_brigade_insert_file(io->bb, file, offset, length, r->pool);
#if APR_HAS_MMAP
    apr_bucket_file_enable_mmap(b, core->enable_mmap != ENABLE_MMAP_OFF);
#else
    (void)b;
    (void)core;
#endif
    return 0;
}

/* Pass the brigade on; the caller holds no GIL.  A failure means the
 * client is gone (or a filter gave up): stop producing, nothing to
 * report beyond an info entry. */
static void pass(wsl_call *call)
{
    wsl_io *io = call->io;
    apr_time_t start = call->timed ? wsl_clock_now() : 0;
    apr_status_t rv;

    call->headers_sent = 1;
    rv = ap_pass_brigade(io->r->output_filters, io->bb);
    apr_brigade_cleanup(io->bb);
    /* request_finished's output_time: only measured for a subscriber. */
    if (call->timed)
        call->output_time += wsl_clock_now() - start;
    if (rv != APR_SUCCESS && !call->aborted) {
        call->aborted = 1;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, io->r,
                      "WSL00031: client went away while sending the "
                      "response for '%s'", io->r->uri);
    }
}

/* Pass the brigade on with the GIL released around it, then drop what it
 * held. */
static void pass_released(wsl_call *call)
{
    wsl_io *io = call->io;
    PyThreadState *ts;

    if (APR_BRIGADE_EMPTY(io->bb))
        return;
    ts = wsl_gil_release();
    pass(call);
    wsl_gil_reacquire(ts);
    release_held(io);
}

/* The body's buckets that point into held objects copied to the heap,
 * and the objects dropped, if it is small enough (WSL_COPY_AT_END): 1,
 * else 0 and nothing changed.  GIL held. */
static int copy_held(wsl_io *io)
{
    apr_off_t len;
    apr_bucket *b;

    if (apr_brigade_length(io->bb, 0, &len) != APR_SUCCESS ||
        len < 0 || len > WSL_COPY_AT_END)
        return 0;
    for (b = APR_BRIGADE_FIRST(io->bb); b != APR_BRIGADE_SENTINEL(io->bb);
         b = APR_BUCKET_NEXT(b)) {
        /* A transient bucket's set-aside is a heap copy of its bytes. */
        if (APR_BUCKET_IS_TRANSIENT(b) &&
            apr_bucket_setaside(b, io->r->pool) != APR_SUCCESS)
            return 0;
    }
    release_held(io);
    return 1;
}

static void send_body(wsl_call *call, int flush)
{
    wsl_io *io = call->io;

    if (flush && !APR_BRIGADE_EMPTY(io->bb))
        APR_BRIGADE_INSERT_TAIL(io->bb,
            apr_bucket_flush_create(io->bb->bucket_alloc));
    pass_released(call);
}

static void finish(wsl_call *call)
{
    wsl_io *io = call->io;

    /* Flush, or the core output filter keeps a small response back until
     * Apache has looked for a pipelined request: the client, which waits
     * for this response before sending its next request, has then sent
     * nothing yet, and the connection makes a round trip through the
     * event MPM's listener.  Written now, the next request is usually
     * there by the time Apache looks (as for a static file). */
    APR_BRIGADE_INSERT_TAIL(io->bb,
                            apr_bucket_flush_create(io->bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(io->bb,
                            apr_bucket_eos_create(io->bb->bucket_alloc));
    if (io->nheld && !copy_held(io))
        pass_released(call);
    else
        io->send_pending = 1;
}

/* An error bucket stops the chunk filter from writing the last chunk (as
 * mod_proxy does for a broken backend), and the connection is closed. */
static void truncate_response(wsl_call *call)
{
    wsl_io *io = call->io;

    io->r->connection->keepalive = AP_CONN_CLOSE;
    if (call->aborted)
        return;
    APR_BRIGADE_INSERT_TAIL(io->bb,
        ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, io->r->pool,
                               io->bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(io->bb,
                            apr_bucket_eos_create(io->bb->bucket_alloc));
    pass_released(call);
}

static void discard(wsl_call *call)
{
    wsl_io *io = call->io;

    apr_brigade_cleanup(io->bb);
    release_held(io);
    io->send_pending = 0;
}

/* The GIL is dropped for the whole read: with `fill` that may be several
 * trips through the filters (read() and read(n) must return that much
 * anyway); without, it returns as soon as some data came (readline() must
 * not wait for more than the client has sent: a client may only send
 * after it has seen a reply). */
static apr_status_t read_body(wsl_call *call, char *dst, apr_size_t want,
                              int fill, apr_size_t *got, int *eos)
{
    wsl_io *io = call->io;
    apr_time_t start = call->timed ? wsl_clock_now() : 0;
    apr_status_t rv;
    PyThreadState *ts;

    *got = 0;
    *eos = 0;
    ts = wsl_gil_release();
    do {
        apr_size_t n = want - *got;

        if (n > WSL_READ_CHUNK)
            n = WSL_READ_CHUNK;
        rv = ap_get_brigade(io->r->input_filters, io->in, AP_MODE_READBYTES,
                            APR_BLOCK_READ, n);
        if (rv != APR_SUCCESS)
            break;
        *eos = !APR_BRIGADE_EMPTY(io->in) &&
               APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(io->in));
        rv = apr_brigade_flatten(io->in, dst + *got, &n);
        apr_brigade_cleanup(io->in);
        *got += n;
        /* A filter may hand back an empty brigade (a 100-continue, a
         * chunk header): ask again until data or the end. */
    } while (rv == APR_SUCCESS && !*eos && *got < want && (fill || !*got));
    /* request_finished's input_time, for a subscriber: the wait on the
     * client, not on the GIL after it. */
    if (call->timed)
        call->input_time += wsl_clock_now() - start;
    wsl_gil_reacquire(ts);
    return rv;
}

static void log_request(wsl_call *call, int level, apr_status_t rv,
                        const char *message)
{
    ap_log_rerror(APLOG_MARK, level, rv, call->io->r, "%s", message);
}

static void send_pending_now(wsl_call *call)
{
    if (!call->io->send_pending)
        return;
    call->io->send_pending = 0;
    pass_released(call);
}

static void release(wsl_call *call)
{
    wsl_io *io = call->io;

    release_held(io);
    PyMem_Free(io->held);
    io->held = NULL;
    io->capheld = 0;
}

static const wsl_io_ops apache_ops = {
    set_response, append, append_file, send_body, finish, truncate_response,
    discard, read_body, log_request, send_pending_now, release,
};

int wsl_io_apache_attach(wsl_call *call, request_rec *r)
{
    wsl_io *io = apr_pcalloc(r->pool, sizeof(*io));

    io->r = r;
    io->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    io->in = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    call->io = io;
    call->io_ops = &apache_ops;
    return 0;
}

void wsl_io_apache_send_pending(wsl_call *call)
{
    if (!call->io->send_pending)
        return;
    call->io->send_pending = 0;
    pass(call);
}
