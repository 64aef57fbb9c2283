/*
 * worker.c: one request in a daemon process.  Reads the REQUEST frame an
 * Apache child sent, makes the request as this process knows it, and
 * runs the one WSGI call (py/call.c) over the I/O table below, which
 * speaks the frames of common/wire.h on the connection.
 *
 * The request as the daemon knows it is a request_rec of its own making,
 * with only what the error log and the Python layer read: the pool, the
 * server, the URI, the method, the client's address, the log id and the
 * request time.  Those files log through ap_log_rerror and take memory
 * from r->pool, and Apache's log code needs no more; so the WSGI call
 * stays one piece of code for both modes.  Nothing here touches Apache's
 * filters: the response leaves as frames, and the child that sent the
 * request passes them to its client.
 *
 * Output is gathered between sends as iovecs (copies of small chunks in
 * one buffer, large bytes objects pointed into and held, files as
 * descriptors) and written with one writev per send, the GIL released;
 * a small response (head, body, END) is written once, after the
 * application's Python work is over.
 */
#include "process.h"
#include "common/fdpass.h"
#include "common/ring.h"
#include "common/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* One piece of output, in order. */
typedef enum { OUT_COPY, OUT_HELD, OUT_FILE } out_kind;

typedef struct {
    out_kind kind;
    const char *data;           /* OUT_HELD: into owner */
    size_t offset;              /* OUT_COPY: into io->copy */
    size_t len;
    PyObject *owner;            /* OUT_HELD: a reference of ours */
    int fd;                     /* OUT_FILE: ours, closed once sent */
    apr_off_t file_offset, file_length;
} out_item;

/* This file's I/O state (the seam's opaque wsl_io: io_apache.c has its
 * own, and the two never meet). */
struct wsl_io {
    int fd;                     /* the connection */
    wsl_ring *ring;             /* its ring, or NULL (common/ring.h) */
    int64_t timeout_us;         /* socket-timeout, for the ring's wait */
    request_rec *r;
    int broken;                 /* the connection failed: close it */
    wsl_wire_head head;         /* the last start_response's */
    int head_set, head_sent;
    out_item *items;
    int nitems, capitems;
    char *copy;                 /* OUT_COPY bytes (malloc) */
    size_t copy_len, copy_cap;
    int end_pending;            /* finish() left the END to send */
    int ended;                  /* END went */
    int in_eos;                 /* the request body has ended */
};

static void *pool_alloc(void *ctx, size_t size)
{
    return apr_palloc(ctx, size);
}

/* ------------------------------------------------------------------ */
/* The socket, GIL released.                                           */

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len) {
        ssize_t n = recv(fd, p, len, 0);

        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Write every byte of iov[0..n); -1 on failure. */
static int write_iov(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t done = writev(fd, iov, n > IOV_MAX ? IOV_MAX : n);

        if (done < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        wsl_iov_advance(&iov, &n, (size_t)done);
    }
    return 0;
}

/* A FILE frame, the descriptor on its first byte. */
static int send_file_frame(int fd, const out_item *item)
{
    struct {
        wsl_frame f;
        int64_t range[2];
    } msg;
    struct iovec iov = { &msg, sizeof(msg) };
    ssize_t n;

    msg.f = wsl_frame_make(WSL_FRAME_FILE, 0, sizeof(msg.range));
    msg.range[0] = item->file_offset;
    msg.range[1] = item->file_length;
    if ((n = wsl_fd_send(fd, &iov, 1, item->fd)) < 0)
        return -1;
    /* The rest of a short write carries no descriptor. */
    if ((size_t)n < sizeof(msg)) {
        struct iovec rest = { (char *)&msg + n, sizeof(msg) - (size_t)n };

        return write_iov(fd, &rest, 1);
    }
    return 0;
}

/*
 * Write the head (if not yet sent), the pending output, and END if
 * `end` (status, flags), GIL released.  Data goes in DATA frames of at
 * most WSL_WIRE_DATA_MAX bytes, or, from an item of WSL_RING_MIN or more
 * when the connection has a ring, copied into the ring and sent as
 * SHARED frames of at most WSL_RING_PIECE; the last flagged FLUSH when
 * asked.  The frames go in one writev at the end, or when the ring is
 * full and the child must see them to give room back.
 */
static int write_out(wsl_io *io, int flush, const int32_t *end,
                     uint8_t end_flags)
{
    wsl_wire_buf head = { NULL, 0, 0, pool_alloc, io->r->pool, 0 };
    struct iovec *iov;
    wsl_frame *frames, end_frame;
    wsl_wire_end end_body;
    uint32_t (*pieces)[2];
    int niov = 0, nframes = 0, i, maxiov;

    if (io->head_set && !io->head_sent) {
        wsl_wire_encode_head(&head, &io->head);
        if (head.failed)
            return -1;
        io->head_sent = 1;
    }
    /* Every item may split into pieces of WSL_WIRE_DATA_MAX, or in the
     * ring into pieces of at least WSL_RING_MIN (room is waited for in
     * 64 KiB) plus one cut at the ring's end per lap; bounded by what is
     * pending. */
    maxiov = 4;
    for (i = 0; i < io->nitems; i++)
        maxiov += 4 + (int)(io->items[i].len /
                            (io->ring && io->items[i].len >= WSL_RING_MIN
                             ? WSL_RING_MIN : WSL_WIRE_DATA_MAX)) * 2;
    iov = apr_palloc(io->r->pool, (size_t)maxiov * sizeof(*iov));
    frames = apr_palloc(io->r->pool, (size_t)maxiov * sizeof(*frames));
    pieces = apr_palloc(io->r->pool, (size_t)maxiov * sizeof(*pieces));
    if (head.len) {
        iov[niov].iov_base = head.data;
        iov[niov++].iov_len = head.len;
    }
    for (i = 0; i < io->nitems; i++) {
        out_item *item = &io->items[i];
        const char *data;
        size_t left;

        if (item->kind == OUT_FILE) {
            if (write_iov(io->fd, iov, niov) < 0 ||
                send_file_frame(io->fd, item) < 0)
                return -1;
            niov = 0;
            continue;
        }
        data = item->kind == OUT_COPY ? io->copy + item->offset : item->data;
        left = item->len;
        while (left) {
            size_t n = left > WSL_WIRE_DATA_MAX ? WSL_WIRE_DATA_MAX : left;
            int shared = io->ring && item->len >= WSL_RING_MIN;
            char *dst = NULL;
            uint32_t at = 0;
            uint8_t flags;

            if (shared &&
                !(n = wsl_ring_room(io->ring, left, &dst, &at))) {
                /* The ring is full: what is gathered goes (the child
                 * gives back the room its frames take), then wait. */
                if (write_iov(io->fd, iov, niov) < 0 ||
                    wsl_ring_wait(io->ring, left, io->fd,
                                  io->timeout_us) < 0)
                    return -1;
                niov = nframes = 0;
                continue;
            }
            /* An END that follows says more than a flush: the child then
             * passes the whole body with its EOS at once (and Apache can
             * count its Content-Length). */
            flags = n == left && i == io->nitems - 1 && flush && !end
                    ? WSL_FRAME_FLUSH : 0;
            if (shared) {
                memcpy(dst, data, n);
                wsl_ring_put(io->ring, n);
                pieces[nframes][0] = at;
                pieces[nframes][1] = (uint32_t)n;
                frames[nframes] = wsl_frame_make(WSL_FRAME_SHARED, flags,
                                                 sizeof(pieces[0]));
                iov[niov].iov_base = &frames[nframes];
                iov[niov++].iov_len = sizeof(wsl_frame);
                iov[niov].iov_base = pieces[nframes++];
                iov[niov++].iov_len = sizeof(pieces[0]);
            }
            else {
                frames[nframes] = wsl_frame_make(WSL_FRAME_DATA, flags, n);
                iov[niov].iov_base = &frames[nframes++];
                iov[niov++].iov_len = sizeof(wsl_frame);
                iov[niov].iov_base = (char *)data;
                iov[niov++].iov_len = n;
            }
            data += n;
            left -= n;
        }
    }
    if (end) {
        end_body = wsl_wire_end_of(*end);
        end_frame = wsl_frame_make(WSL_FRAME_END, end_flags,
                                   sizeof(end_body));
        iov[niov].iov_base = &end_frame;
        iov[niov++].iov_len = sizeof(end_frame);
        iov[niov].iov_base = &end_body;
        iov[niov++].iov_len = sizeof(end_body);
    }
    if (write_iov(io->fd, iov, niov) < 0)
        return -1;
    if (end)
        io->ended = 1;
    return 0;
}

/* The pending output is gone: drop its references and descriptors.  GIL
 * held when any item is held. */
static void clear_out(wsl_io *io)
{
    int i;

    for (i = 0; i < io->nitems; i++) {
        if (io->items[i].kind == OUT_HELD)
            Py_DECREF(io->items[i].owner);
        else if (io->items[i].kind == OUT_FILE)
            close(io->items[i].fd);
    }
    io->nitems = 0;
    io->copy_len = 0;
}

static int holds_python(const wsl_io *io)
{
    int i;

    for (i = 0; i < io->nitems; i++)
        if (io->items[i].kind == OUT_HELD)
            return 1;
    return 0;
}

/* Send, from inside the call: the GIL dropped around the write. */
static void flush_released(wsl_call *call, int flush, const int32_t *end,
                           uint8_t end_flags)
{
    wsl_io *io = call->io;
    apr_time_t start = call->timed ? wsl_clock_now() : 0;
    PyThreadState *ts;
    int rc;

    if (io->broken)
        return;
    ts = wsl_gil_release();
    rc = write_out(io, flush, end, end_flags);
    wsl_gil_reacquire(ts);
    if (call->timed)
        call->output_time += wsl_clock_now() - start;
    clear_out(io);
    if (rc < 0) {
        io->broken = 1;
        if (!call->aborted) {
            call->aborted = 1;
            ap_log_rerror(APLOG_MARK, APLOG_INFO, errno, io->r,
                          "WSL00193: the Apache child went away while the "
                          "response for '%s' was sent", io->r->uri);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The I/O table.                                                      */

static void set_response(wsl_call *call, int status,
                         const char *status_line, const wsl_header *headers,
                         int nheaders, const char *content_type,
                         int close_connection)
{
    wsl_io *io = call->io;
    wsl_wire_head *h = &io->head;
    int i;

    h->status = status;
    h->close_connection = (uint8_t)close_connection;
    h->status_line.data = status_line;
    h->status_line.len = status_line ? strlen(status_line) : 0;
    h->content_type.data = content_type;
    h->content_type.len = content_type ? strlen(content_type) : 0;
    h->nheaders = (uint32_t)nheaders;
    h->names = apr_palloc(call->pool, (size_t)(nheaders + 1) *
                                      sizeof(wsl_bytes));
    h->values = apr_palloc(call->pool, (size_t)(nheaders + 1) *
                                       sizeof(wsl_bytes));
    h->replace = apr_palloc(call->pool, (size_t)nheaders + 1);
    for (i = 0; i < nheaders; i++) {
        h->names[i].data = headers[i].name;
        h->names[i].len = strlen(headers[i].name);
        h->values[i].data = headers[i].value;
        h->values[i].len = strlen(headers[i].value);
        h->replace[i] = (uint8_t)headers[i].replace;
    }
    io->head_set = 1;
    /* call.c answers WSGIErrorOverride's error status from here. */
    io->r->status = status;
    io->r->status_line = status_line;
}

static out_item *new_item(wsl_io *io)
{
    if (io->nitems == io->capitems) {
        int cap = io->capitems ? io->capitems * 2 : 16;
        out_item *items = realloc(io->items, (size_t)cap * sizeof(*items));

        if (!items)
            return NULL;
        io->items = items;
        io->capitems = cap;
    }
    return &io->items[io->nitems++];
}

static int append(wsl_call *call, const char *data, apr_size_t len,
                  PyObject *owner)
{
    wsl_io *io = call->io;
    out_item *item, *last = io->nitems ? &io->items[io->nitems - 1] : NULL;

    if (!owner) {
        if (io->copy_len + len > io->copy_cap) {
            size_t cap = io->copy_cap ? io->copy_cap * 2 : 16384;
            char *copy;

            while (cap < io->copy_len + len)
                cap *= 2;
            if (!(copy = realloc(io->copy, cap))) {
                PyErr_NoMemory();
                return -1;
            }
            io->copy = copy;
            io->copy_cap = cap;
        }
        memcpy(io->copy + io->copy_len, data, len);
        /* Consecutive copies are one piece. */
        if (last && last->kind == OUT_COPY &&
            last->offset + last->len == io->copy_len) {
            last->len += len;
            io->copy_len += len;
            return 0;
        }
        if (!(item = new_item(io))) {
            PyErr_NoMemory();
            return -1;
        }
        item->kind = OUT_COPY;
        item->offset = io->copy_len;
        item->len = len;
        io->copy_len += len;
        return 0;
    }
    if (!(item = new_item(io))) {
        PyErr_NoMemory();
        return -1;
    }
    item->kind = OUT_HELD;
    item->data = data;
    item->len = len;
    item->owner = Py_NewRef(owner);
    return 0;
}

static int append_file(wsl_call *call, int fd, apr_off_t offset,
                       apr_off_t length)
{
    wsl_io *io = call->io;
    out_item *item;

    if (length <= 0 || !(item = new_item(io))) {
        close(fd);
        return length <= 0 ? 0 : -1;
    }
    item->kind = OUT_FILE;
    item->len = 0;
    item->fd = fd;
    item->file_offset = offset;
    item->file_length = length;
    return 0;
}

static void send_body(wsl_call *call, int flush)
{
    wsl_io *io = call->io;

    if (!io->nitems)
        return;
    call->headers_sent = 1;
    flush_released(call, flush, NULL, 0);
}

static const int32_t status_ok = 0;

static void finish(wsl_call *call)
{
    wsl_io *io = call->io;

    call->headers_sent = 1;
    /* Nothing points into Python: the last write can wait until the
     * worker has left Python (one GIL acquisition for the request). */
    if (!holds_python(io))
        io->end_pending = 1;
    else
        flush_released(call, 1, &status_ok, 0);
}

static void truncate_response(wsl_call *call)
{
    flush_released(call, 1, &status_ok, WSL_END_TRUNCATED);
}

static void discard(wsl_call *call)
{
    clear_out(call->io);
    call->io->end_pending = 0;
}

static apr_status_t read_body(wsl_call *call, char *dst, apr_size_t want,
                              int fill, apr_size_t *got, int *eos)
{
    wsl_io *io = call->io;
    apr_time_t start = call->timed ? wsl_clock_now() : 0;
    apr_status_t rv = APR_SUCCESS;
    PyThreadState *ts;

    *got = 0;
    *eos = io->in_eos;
    if (io->in_eos || !want)
        return APR_SUCCESS;
    if (io->broken)
        return APR_ECONNABORTED;
    ts = wsl_gil_release();
    do {
        struct {
            wsl_frame f;
            uint32_t want;
        } ask;
        wsl_frame f;
        apr_size_t n = want - *got;

        if (n > WSL_WIRE_DATA_MAX)
            n = WSL_WIRE_DATA_MAX;
        ask.f = wsl_frame_make(WSL_FRAME_READ,
                               (fill ? WSL_FRAME_FILL : 0) |
                               (io->ring ? WSL_FRAME_RING : 0),
                               sizeof(ask.want));
        ask.want = (uint32_t)n;
        if (send(io->fd, &ask, sizeof(ask), MSG_NOSIGNAL) != sizeof(ask) ||
            read_full(io->fd, &f, sizeof(f)) <= 0) {
            rv = APR_ECONNABORTED;
            break;
        }
        if (f.version != WSL_WIRE_VERSION || f.type != WSL_FRAME_BODY ||
            (f.flags & (WSL_FRAME_ERROR | WSL_FRAME_IN_RING)
             ? f.length != sizeof(uint32_t) : f.length > n) ||
            (f.flags & WSL_FRAME_IN_RING && !io->ring)) {
            rv = APR_EGENERAL;
            break;
        }
        if (f.flags & WSL_FRAME_ERROR) {
            int32_t err;

            if (read_full(io->fd, &err, sizeof(err)) <= 0)
                err = APR_ECONNABORTED;
            rv = err ? err : APR_EGENERAL;
            break;
        }
        if (f.flags & WSL_FRAME_IN_RING) {
            /* In the ring's body part: copied out at once, before the
             * next READ (the child answers there only once it is). */
            uint32_t count;
            const char *src;

            if (read_full(io->fd, &count, sizeof(count)) <= 0) {
                rv = APR_ECONNABORTED;
                break;
            }
            if (count > n || !(src = wsl_ring_body(io->ring, count))) {
                rv = APR_EGENERAL;
                break;
            }
            memcpy(dst + *got, src, count);
            wsl_ring_body_done(io->ring, count);
            f.length = count;
        }
        else if (f.length &&
                 read_full(io->fd, dst + *got, f.length) <= 0) {
            rv = APR_ECONNABORTED;
            break;
        }
        *got += f.length;
        if (f.flags & WSL_FRAME_EOS)
            *eos = io->in_eos = 1;
    } while (!*eos && *got < want && (fill || !*got));
    if (call->timed)
        call->input_time += wsl_clock_now() - start;
    wsl_gil_reacquire(ts);
    /* The child's own failure to read its client (a 413, a timeout) is
     * the client's; anything else is the connection's. */
    if (rv == APR_ECONNABORTED || rv == APR_EGENERAL)
        io->broken = 1;
    return rv;
}

static void log_request(wsl_call *call, int level, apr_status_t rv,
                        const char *message)
{
    ap_log_rerror(APLOG_MARK, level, rv, call->io->r, "%s", message);
}

static void send_pending(wsl_call *call)
{
    wsl_io *io = call->io;

    if (!io->end_pending)
        return;
    io->end_pending = 0;
    flush_released(call, 1, &status_ok, 0);
}

static void release(wsl_call *call)
{
    wsl_io *io = call->io;

    /* What a failed call left: references, descriptors (the END, if
     * pending, goes after the GIL is dropped: see serve). */
    if (!io->end_pending)
        clear_out(io);
}

static const wsl_io_ops socket_ops = {
    set_response, append, append_file, send_body, finish, truncate_response,
    discard, read_body, log_request, send_pending, release,
};

/* ------------------------------------------------------------------ */

/* r->server: the request's server, by its place in the list (the parent
 * and its daemons read the same configuration). */
static server_rec *server_at(server_rec *main_server, int index)
{
    server_rec *s = main_server;

    while (index-- > 0 && s->next)
        s = s->next;
    return index < 0 ? s : main_server;
}

static const char client_mark;

/*
 * The client's address with its port, as the error log shows it; NULL if
 * ip is not a literal (never a DNS lookup) or there is no port.  The
 * family is given: with APR_UNSPEC, APR asks getaddrinfo for AI_ADDRCONFIG,
 * and glibc then asks the kernel which families have an address (a
 * netlink socket: socket, bind, getsockname, sendto, two recvmsg and
 * close, per request: strace -c of a hello request counted them).
 */
static apr_sockaddr_t *client_address(const char *ip, const char *port,
                                      apr_pool_t *pool)
{
    unsigned char bin[sizeof(struct in6_addr)];
    apr_int32_t family = APR_INET;
    apr_sockaddr_t *sa;

#if APR_HAVE_IPV6
    if (strchr(ip, ':'))
        family = APR_INET6;
#endif
    if (!port || inet_pton(family, ip, bin) != 1 ||
        apr_sockaddr_info_get(&sa, ip, family, (apr_port_t)atoi(port), 0,
                              pool) != APR_SUCCESS)
        return NULL;
    return sa;
}

/* The request as this process knows it (see the top of the file). */
static request_rec *make_request(apr_pool_t *pool, server_rec *s,
                                 const wsl_wire_request *wr)
{
    request_rec *r = apr_pcalloc(pool, sizeof(*r));
    conn_rec *c = apr_pcalloc(pool, sizeof(*c));

    c->pool = pool;
    c->base_server = s;
    c->client_ip = (char *)(wr->client_ip.data ? wr->client_ip.data : "-");
    c->client_addr = client_address(
        c->client_ip, wr->snapshot.value[WSL_SV_REMOTE_PORT].data, pool);
    /* Apache's log writes "[client ...]" for a connection with a
     * scoreboard handle, "[remote ...]" (a backend) without: this is the
     * client's request.  Only tested for NULL; nothing here updates the
     * scoreboard. */
    c->sbh = (void *)&client_mark;
    c->local_ip = "";
    c->notes = apr_table_make(pool, 1);
    c->conn_config = ap_create_conn_config(pool);
    r->pool = pool;
    r->connection = c;
    r->server = s;
    r->uri = (char *)wr->uri.data;
    r->unparsed_uri = r->uri;
    r->method = wr->method.data;
    r->the_request = apr_pstrcat(pool, wr->method.data, " ", wr->uri.data,
                                 NULL);
    r->request_time = wr->request_time;
    r->log_id = wr->log_id.data;
    r->useragent_ip = c->client_ip;
    r->useragent_addr = c->client_addr;
    r->status = HTTP_OK;
    r->header_only = wr->head_only;
    r->headers_in = apr_table_make(pool, 1);
    r->headers_out = apr_table_make(pool, 1);
    r->err_headers_out = apr_table_make(pool, 1);
    r->subprocess_env = apr_table_make(pool, 1);
    r->notes = apr_table_make(pool, 1);
    r->per_dir_config = s->lookup_defaults;
    r->request_config = ap_create_request_config(pool);
    return r;
}

static int send_end(int fd, int32_t status, uint8_t flags)
{
    struct {
        wsl_frame f;
        wsl_wire_end body;
    } end;

    end.f = wsl_frame_make(WSL_FRAME_END, flags, sizeof(end.body));
    end.body = wsl_wire_end_of(status);
    return send(fd, &end, sizeof(end), MSG_NOSIGNAL) == sizeof(end) ? 0 : -1;
}

/* Run the request with the GIL (taken and dropped here, the one place
 * in this file); the status for END. */
static int run(request_rec *r, const wsl_wire_request *wr,
               const apr_finfo_t *finfo, wsl_io *io, int *resend)
{
    const wsl_server_config *sconf =
        ap_get_module_config(r->server->module_config, &wsgi_lite_module);
    wsl_interp *interp;
    wsl_call call;
    int status;

    if (!(interp = wsl_interp_enter(r, wr->group.data)))
        return HTTP_INTERNAL_SERVER_ERROR;
    /* mod_wsgi's daemon-mode reloading: a changed script restarts the
     * process, and the request goes to the next one. */
    if (wr->script_reloading &&
        wsl_script_changed(interp, wr->script.data, finfo,
                           wsl_config_flag(sconf->case_sensitivity, 1))) {
        wsl_interp_leave();
        *resend = 1;
        return OK;
    }
    memset(&call, 0, sizeof(call));
    call.r = r;
    call.pool = r->pool;
    call.server = r->server;
    call.uri = r->uri;
    call.head_only = wr->head_only;
    call.body_length = wr->body_length;
    call.interp = interp;
    call.content_length = -1;
    call.cpu_user = call.cpu_system = -1;
    call.error_override = wr->error_override;
    call.script_reloading = wr->script_reloading;
    call.io = io;
    call.io_ops = &socket_ops;
    status = wsl_call_run(&call, wr->script.data, finfo, wr->callable.data,
                          &wr->snapshot);
    wsl_interp_leave();
    if (io->end_pending && !io->broken) {
        io->end_pending = 0;
        if (write_out(io, 1, &status_ok, 0) < 0)
            io->broken = 1;
        clear_out(io);
    }
    return status;
}

/* The first read of a request: the whole REQUEST frame, nearly always
 * (the snapshot of a request is a few KiB). */
#define WSL_REQUEST_FIRST_READ 16384

/*
 * The REQUEST frame, its header and payload in one recv when it fits
 * (one system call per request less than reading the header first).  The
 * child sends nothing after it until asked (a READ), so bytes beyond the
 * frame are a broken peer.  NULL on success, with *payload in pool; else
 * what was wrong, or "" when the connection closed or failed before a
 * whole frame (a child that closes an idle connection: normal).  A
 * descriptor that came with it is in *passed (else -1), the caller's.
 */
static const char *read_request(int fd, apr_pool_t *pool, wsl_frame *f,
                                char **payload, int *passed)
{
    char *buf = apr_palloc(pool, WSL_REQUEST_FIRST_READ);
    size_t have = 0, got;

    *passed = -1;
    while (have < sizeof(*f)) {
        /* The first descriptor kept, any more closed. */
        int npassed = *passed >= 0;
        ssize_t n = wsl_fd_recv(fd, buf + have,
                                WSL_REQUEST_FIRST_READ - have, passed, 1,
                                &npassed);

        if (n <= 0)
            return "";
        have += (size_t)n;
    }
    memcpy(f, buf, sizeof(*f));
    if (f->version != WSL_WIRE_VERSION)
        return apr_psprintf(pool, "a frame of wire version %u, where this "
                            "build's is %u (a child of another build of the "
                            "module, from before a graceful restart)",
                            f->version, WSL_WIRE_VERSION);
    if (f->type != WSL_FRAME_REQUEST || f->length > WSL_WIRE_REQUEST_MAX)
        return apr_psprintf(pool, "a frame of type %d and %u bytes where a "
                            "request was expected", f->type, f->length);
    got = have - sizeof(*f);
    if (got > f->length)
        return apr_psprintf(pool, "%lu bytes after a request frame of %u",
                            (unsigned long)(got - f->length), f->length);
    if (sizeof(*f) + f->length <= WSL_REQUEST_FIRST_READ) {
        *payload = buf + sizeof(*f);
    }
    else {
        *payload = apr_palloc(pool, f->length);
        memcpy(*payload, buf + sizeof(*f), got);
    }
    if (read_full(fd, *payload + got, f->length - got) <= 0)
        return "";
    return NULL;
}

/* The ring the connection's first request brought, if it is one. */
static void attach_ring(wsl_ring **ring, int passed,
                        const wsl_daemon_group *group, server_rec *s)
{
    if (passed < 0)
        return;
    if (!*ring && !(*ring = wsl_ring_attach(passed)))
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s,
                     "WSL00216: WSGIDaemonProcess %s: the ring an Apache "
                     "child passed with a request cannot be used; that "
                     "connection's bodies go through the socket",
                     group->name);
    close(passed);
}

int wsl_daemon_worker_serve(int fd, wsl_ring **ring, apr_pool_t *pool,
                            server_rec *main_server,
                            const wsl_daemon_group *group,
                            wsl_daemon_seen *seen)
{
    wsl_wire_request wr;
    apr_finfo_t finfo;
    request_rec *r;
    wsl_frame f;
    wsl_io io;
    const char *err;
    char *payload = NULL;
    apr_status_t rv;
    apr_time_t now, taken;
    apr_interval_time_t waited;
    int status, resend = 0, passed;

    err = read_request(fd, pool, &f, &payload, &passed);
    attach_ring(ring, passed, group, main_server);
    if (err) {
        /* "": the child closed it (normal) or the read failed. */
        if (*err)
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                         "WSL00194: WSGIDaemonProcess %s: %s; closing the "
                         "connection", group->name, err);
        return 0;
    }
    if ((err = wsl_wire_decode_request(payload, f.length, &wr, pool_alloc,
                                       pool))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                     "WSL00194: WSGIDaemonProcess %s: a malformed request "
                     "(%s); closing the connection", group->name, err);
        return 0;
    }
    /* mod_wsgi.daemon_start: when this process took the request, a time
     * of day for the application. */
    now = apr_time_now();
    if (wsl_snapshot_set_var(&wr.snapshot, "mod_wsgi.daemon_start",
                             apr_psprintf(pool, "%" APR_TIME_T_FMT, now),
                             pool_alloc, pool) < 0)
        return 0;
    r = make_request(pool, server_at(main_server, wr.server_index), &wr);
    apr_cpystrn(seen->uri, r->uri, sizeof(seen->uri));
    /* When the child handed the request on, on the clock of deadlines
     * (wire.h: the machine's, the child's as this process's); a stamp
     * not yet come is taken as now. */
    taken = wsl_clock_now();
    seen->handed_on = wr.handed_on > 0 && wr.handed_on <= taken
                      ? wr.handed_on : taken;
    atomic_store_explicit(&seen->ready, 1, memory_order_release);
    waited = taken - seen->handed_on;
    /* request-timeout passed while it waited: the child has answered 504
     * and gone; running it would be for no one. */
    if (group->request_timeout && waited > group->request_timeout)
        return 0;
    /* queue-timeout: from the child's hand-off to a worker free for it.
     * Not run: the client is told to come back later, and the worker is
     * free for one that has not waited as long. */
    if (group->queue_timeout && waited > group->queue_timeout) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00202: WSGIDaemonProcess %s: the request for '%s' "
                      "waited %.1f s for a free thread, longer than "
                      "queue-timeout=%d: 503, not run", group->name, r->uri,
                      (double)waited / APR_USEC_PER_SEC,
                      (int)apr_time_sec(group->queue_timeout));
        return send_end(fd, HTTP_SERVICE_UNAVAILABLE, 0) == 0;
    }
    rv = apr_stat(&finfo, wr.script.data, APR_FINFO_MTIME | APR_FINFO_SIZE,
                  pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "WSL00195: WSGIDaemonProcess %s: the daemon process "
                      "cannot read the WSGI script '%s' (for '%s')",
                      group->name, wr.script.data, r->uri);
        return send_end(fd, HTTP_INTERNAL_SERVER_ERROR, 0) == 0;
    }
    memset(&io, 0, sizeof(io));
    io.fd = fd;
    io.ring = *ring;
    io.timeout_us = group->socket_timeout ? group->socket_timeout
                                          : main_server->timeout;
    io.r = r;
    status = run(r, &wr, &finfo, &io, &resend);
    free(io.items);
    free(io.copy);
    if (resend)
        return -1;
    if (io.broken)
        return 0;
    if (!io.ended &&
        send_end(fd, status == OK ? 0 : status,
                 status == OK && io.head_sent ? WSL_END_TRUNCATED : 0) < 0)
        return 0;
    return 1;
}
