/*
 * daemon_client.c: a request handed to a daemon process group, from the
 * Apache child's side (daemon mode).  No Python here.
 *
 * The request goes as one REQUEST frame: the snapshot the handler took
 * (never re-parsed as CGI text on the other side) and the route.  Then
 * the child follows the daemon's frames until END: a READ is answered
 * with request body read from the client (so 100-continue goes out only
 * when the application first reads, and the body streams), HEAD is
 * checked again here (the daemon runs application code, perhaps as
 * another user: nothing it says reaches the client unchecked) and set on
 * r, DATA goes down Apache's output filters, SHARED does too (its bytes
 * are in the connection's ring, common/ring.h, which the child makes
 * and passes with a new connection's first request), FILE is a
 * descriptor the daemon passed, sent as a file bucket (sendfile), and
 * END says how the response ended.  A connection that fails before END
 * is a daemon that died or timed out: 502 or 504 before the head, a
 * truncated response after (never a complete-looking one).
 *
 * Connections are kept per process and group, and reused: no connect()
 * per request.  Each knows the daemon process it leads to (from END),
 * and a request takes one to the process with the fewest requests, if
 * it has a thread free.  One taken from the idle list is not checked
 * (idle_take): a request that a process sent back or closed unread (it
 * closes idle connections when it stops) is sent again, on a new
 * connection; one it read and did not answer is not.
 */
#include "request.h"
#include "common/board.h"
#include "common/clock.h"
#include "common/fdpass.h"
#include "common/ring.h"
#include "common/wire.h"
#include "common/validate.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_main.h"
#include "apr_strings.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* Idle connections kept per group, per process. */
#define WSL_IDLE_MAX 256
/* Response bytes gathered before they are passed on, when more frames
 * are already here. */
#define WSL_CLIENT_PASS_AT (128 * 1024)
/* How many times a request is sent again on END "send it again". */
#define WSL_RESEND_MAX 5

/* An idle connection, with the socket timeout set on it (set again only
 * when a request wants another: two setsockopt calls per request saved),
 * and the daemon process it leads to (the pid its last END gave). */
typedef struct {
    int fd;
    wsl_ring *ring;
    apr_interval_time_t timeout;
    int pid;
} idle_conn;

/* Requests of this Apache process now on connections to a daemon
 * process: the status board's figures lag by the moment a daemon takes
 * to see a request come in, and these do not. */
#define WSL_PEERS_MAX 64
typedef struct {
    int pid;
    int running;
} peer_load;

typedef struct {
    idle_conn conns[WSL_IDLE_MAX];
    int n;
    peer_load peers[WSL_PEERS_MAX];
} idle_list;

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static idle_list *idle;         /* by group index */
static int nidle;

/* The connection and what came with it. */
typedef struct {
    int fd;
    wsl_ring *ring;             /* the connection's, or NULL */
    int ring_fd;                /* to pass with the first request, or -1 */
    apr_interval_time_t timeout;    /* SO_RCVTIMEO/SO_SNDTIMEO set on fd,
                                     * or -1 */
    const wsl_daemon_group *g;
    int pid;                    /* the daemon process fd leads to, 0
                                 * until an END says */
    int counted;                /* counted in its peer_load */
    int reused;
    char buf[16384];
    size_t start, end;
    int exact;                  /* read no more than asked (see conn_read) */
    int fds[16];                /* descriptors received, in order */
    int nfds;
    int failed;                 /* errno of the failure, or -1 for EOF */
} daemon_conn;

static void conn_drop_fds(daemon_conn *dc)
{
    while (dc->nfds > 0)
        close(dc->fds[--dc->nfds]);
}

/* recvmsg into dst, keeping any descriptor that rides along. */
static ssize_t recv_some(daemon_conn *dc, char *dst, size_t len)
{
    ssize_t n = wsl_fd_recv(dc->fd, dst, len, dc->fds,
                            (int)(sizeof(dc->fds) / sizeof(int)), &dc->nfds);

    if (n <= 0)
        dc->failed = n == 0 ? -1 : errno;
    return n;
}

/* Exactly len bytes; -1 on EOF or failure (dc->failed says which). */
static int conn_read(daemon_conn *dc, void *dst, size_t len)
{
    char *p = dst;
    size_t have = dc->end - dc->start;

    if (have) {
        size_t n = have < len ? have : len;

        memcpy(p, dc->buf + dc->start, n);
        dc->start += n;
        p += n;
        len -= n;
    }
    if (dc->start == dc->end)
        dc->start = dc->end = 0;
    while (len) {
        ssize_t n;

        if (len < sizeof(dc->buf) && !dc->exact) {
            /* Small reads go through the buffer: the next frames often
             * came in the same segment.  Not while large DATA frames
             * come (exact): the buffer would take the first 16 KiB of
             * each payload, to be copied again into its bucket (a
             * quarter of a stream of 64 KiB chunks). */
            if ((n = recv_some(dc, dc->buf, sizeof(dc->buf))) <= 0)
                return -1;
            dc->end = (size_t)n;
            n = (size_t)n < len ? n : (ssize_t)len;
            memcpy(p, dc->buf, (size_t)n);
            dc->start = (size_t)n;
        }
        else if ((n = recv_some(dc, p, len)) <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void *pool_alloc(void *pool, size_t size)
{
    return apr_palloc(pool, size);
}

/* The request; the ring's descriptor rides on its first byte (once a
 * connection: then it is closed, the mapping stays). */
static int conn_write(daemon_conn *dc, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        struct iovec iov = { (void *)p, len };
        ssize_t n = wsl_fd_send(dc->fd, &iov, 1, dc->ring_fd);

        if (n < 0) {
            dc->failed = errno;
            return -1;
        }
        if (dc->ring_fd >= 0) {
            close(dc->ring_fd);
            dc->ring_fd = -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Every byte of iov[0..n) (which it changes as it goes), with as few
 * sendmsg calls as the socket takes: a BODY frame's header and the
 * buckets of its payload in one, not a send each.  -1 on failure. */
static int conn_writev(daemon_conn *dc, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr mh;
        ssize_t done;

        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)(n > IOV_MAX ? IOV_MAX : n);
        done = sendmsg(dc->fd, &mh, MSG_NOSIGNAL);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            dc->failed = errno;
            return -1;
        }
        wsl_iov_advance(&iov, &n, (size_t)done);
    }
    return 0;
}

static void set_timeout(int fd, int which, apr_interval_time_t t)
{
    struct timeval tv;

    tv.tv_sec = (time_t)apr_time_sec(t);
    tv.tv_usec = (suseconds_t)apr_time_usec(t);
    setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv));
}

/* The group's lists (idle_lock held); NULL if they cannot be made. */
static idle_list *idle_of(const wsl_daemon_group *g)
{
    if (!idle) {
        apr_array_header_t *groups = wsl_daemon_groups();

        nidle = groups ? groups->nelts : 0;
        idle = calloc((size_t)(nidle ? nidle : 1), sizeof(*idle));
    }
    return idle && g->index < nidle ? &idle[g->index] : NULL;
}

/* pid's entry (idle_lock held); with add, one made if there is none
 * (taking one no request uses).  NULL if none. */
static peer_load *peer_of(idle_list *l, int pid, int add)
{
    peer_load *spare = NULL;
    int i;

    for (i = 0; i < WSL_PEERS_MAX; i++) {
        if (l->peers[i].pid == pid)
            return &l->peers[i];
        if (!spare && l->peers[i].running == 0)
            spare = &l->peers[i];
    }
    if (add && spare) {
        spare->pid = pid;
        spare->running = 0;
        return spare;
    }
    return NULL;
}

/* How many requests daemon process pid has (idle_lock held): the more
 * of what the status board says (running and queued there) and what
 * this Apache process has sent it.  -1 if the process takes no more
 * requests (stopping, or gone: its connections are dead). */
static int peer_requests(const wsl_daemon_group *g, idle_list *l, int pid)
{
    peer_load *p = peer_of(l, pid, 0);
    int mine = p ? p->running : 0, slot, half, any = 0;

    for (slot = 0; slot < g->processes; slot++) {
        wsl_board_slot *bs = wsl_board_slot_of(g->index, slot);

        if (!bs)
            break;
        any = 1;
        for (half = 0; half < 2; half++) {
            wsl_board_proc *bp = &bs->half[half];
            int state, board;

            if (atomic_load_explicit(&bp->pid, memory_order_relaxed) != pid)
                continue;
            state = atomic_load_explicit(&bp->state, memory_order_relaxed);
            if (!wsl_board_takes_requests(state))
                return -1;
            board = atomic_load_explicit(&bp->active, memory_order_relaxed) +
                    atomic_load_explicit(&bp->queued, memory_order_relaxed);
            return board > mine ? board : mine;
        }
    }
    /* No board: what this process knows. */
    return any ? -1 : mine;
}

/* Into dc, a kept connection of the group's to the daemon process with
 * the fewest requests, if that one has a free thread; dc->fd -1 if
 * none, and a new connection goes to a process that accepts it (a full
 * one stops accepting).  Taking the last one given back, as a stack,
 * would pile requests onto one process while another has threads idle.
 * Those to processes that take no more requests are closed here.  A
 * connection is not checked (a recv with MSG_PEEK was one more system
 * call per request): one the daemon closed makes the request's write
 * fail with EPIPE, one it sent END "send it again" on answers with that
 * END, and either way the request goes again on a new connection. */
static void idle_take(daemon_conn *dc)
{
    const wsl_daemon_group *g = dc->g;
    int dead[WSL_IDLE_MAX], ndead = 0, i, best = -1, best_load = 0;
    wsl_ring *dead_ring[WSL_IDLE_MAX];
    int seen_pid[8], seen_load[8], nseen = 0;
    idle_list *l;

    dc->fd = -1;
    pthread_mutex_lock(&idle_lock);
    if ((l = idle_of(g))) {
        /* From the top: of equals, the one given back last. */
        for (i = l->n - 1; i >= 0; i--) {
            int pid = l->conns[i].pid, load, k;

            for (k = 0; k < nseen && seen_pid[k] != pid; k++)
                ;
            if (k < nseen)
                load = seen_load[k];
            else {
                load = pid ? peer_requests(g, l, pid) : -1;
                if (nseen < 8) {
                    seen_pid[nseen] = pid;
                    seen_load[nseen++] = load;
                }
            }
            if (load < 0) {
                dead_ring[ndead] = l->conns[i].ring;
                dead[ndead++] = l->conns[i].fd;
                l->conns[i].fd = -1;
            }
            else if (load < g->threads && (best < 0 || load < best_load)) {
                best = i;
                best_load = load;
            }
        }
        if (best >= 0) {
            idle_conn *ic = &l->conns[best];
            peer_load *p = peer_of(l, ic->pid, 1);

            dc->fd = ic->fd;
            dc->ring = ic->ring;
            dc->timeout = ic->timeout;
            dc->pid = ic->pid;
            if (p) {
                p->running++;
                dc->counted = 1;
            }
            ic->fd = -1;
        }
        /* Close the gaps, keeping the order. */
        if (ndead || best >= 0) {
            int n = 0;

            for (i = 0; i < l->n; i++)
                if (l->conns[i].fd >= 0)
                    l->conns[n++] = l->conns[i];
            l->n = n;
        }
    }
    pthread_mutex_unlock(&idle_lock);
    while (ndead > 0) {
        close(dead[--ndead]);
        wsl_ring_free(dead_ring[ndead]);
    }
}

/* The connection's request is done, or it failed: no longer counted in
 * its process's load (idle_lock held). */
static void uncount_locked(daemon_conn *dc)
{
    idle_list *l;
    peer_load *p;

    if (!dc->counted)
        return;
    dc->counted = 0;
    if ((l = idle_of(dc->g)) && (p = peer_of(l, dc->pid, 0)) &&
        p->running > 0)
        p->running--;
}

/* Kept for the next request (or closed, when the list is full). */
static void idle_give(daemon_conn *dc)
{
    idle_list *l;
    int fd = dc->fd;
    wsl_ring *ring = dc->ring;

    pthread_mutex_lock(&idle_lock);
    uncount_locked(dc);
    if ((l = idle_of(dc->g)) && l->n < WSL_IDLE_MAX) {
        idle_conn *ic = &l->conns[l->n++];

        ic->fd = fd;
        ic->ring = ring;
        ic->timeout = dc->timeout;
        ic->pid = dc->pid;
        fd = -1;
        ring = NULL;
    }
    pthread_mutex_unlock(&idle_lock);
    if (fd >= 0)
        close(fd);
    wsl_ring_free(ring);
    dc->fd = -1;
    dc->ring = NULL;
}

/* A new connection to the group's socket, waiting up to connect-timeout
 * for a listener (the parent holds it; a missing one is a restart in
 * progress).  -1, logged, if none. */
static int connect_new(request_rec *r, const wsl_daemon_group *g)
{
    struct sockaddr_un addr;
    apr_time_t deadline = wsl_clock_now() + g->connect_timeout;
    int fd, err;

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    apr_cpystrn(addr.sun_path, g->socket_path, sizeof(addr.sun_path));
    for (;;) {
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
            break;
        /* A full backlog blocks connect(): for connect-timeout at most. */
        set_timeout(fd, SO_SNDTIMEO, g->connect_timeout);
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return fd;
        err = errno;
        close(fd);
        if ((err != ENOENT && err != ECONNREFUSED && err != EAGAIN &&
             err != EINTR) || wsl_clock_now() >= deadline) {
            errno = err;
            break;
        }
        apr_sleep(apr_time_from_msec(20));
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r,
                  "WSL00196: WSGIDaemonProcess %s: cannot connect to its "
                  "socket '%s' within connect-timeout (for '%s')", g->name,
                  g->socket_path, r->uri);
    return -1;
}

/* Once a process: why its connections carry response bodies through
 * the socket. */
static void no_ring(request_rec *r, int err)
{
    static atomic_int said;

    if (!atomic_exchange(&said, 1))
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, err, r,
                      "WSL00217: daemon mode: no shared response ring "
                      "(memfd_create with sealing failed); response bodies "
                      "go through the daemon socket, at the cost of one "
                      "more copy");
}

static int conn_open(request_rec *r, const wsl_daemon_group *g,
                     daemon_conn *dc, int fresh)
{
    apr_interval_time_t timeout = g->socket_timeout ? g->socket_timeout
                                                    : r->server->timeout;

    dc->start = dc->end = 0;
    dc->exact = 0;
    dc->nfds = 0;
    dc->failed = 0;
    dc->reused = 0;
    dc->timeout = -1;
    dc->g = g;
    dc->pid = 0;
    dc->counted = 0;
    dc->ring = NULL;
    dc->ring_fd = -1;
    if (!fresh)
        idle_take(dc);
    if (dc->fd >= 0)
        dc->reused = 1;
    else if ((dc->fd = connect_new(r, g)) < 0)
        return -1;
    /* Without a ring (no memfd here: logged once a process), the
     * connection carries the bodies itself. */
    else if (!(dc->ring = wsl_ring_create(&dc->ring_fd)))
        no_ring(r, errno);
    /* socket-timeout: how long either side may wait on the other (the
     * server's Timeout when unset, which differs between virtual
     * hosts: so kept with the connection, and set when it changes). */
    if (dc->timeout != timeout) {
        set_timeout(dc->fd, SO_RCVTIMEO, timeout);
        set_timeout(dc->fd, SO_SNDTIMEO, timeout);
        dc->timeout = timeout;
    }
    return 0;
}

static void conn_close(daemon_conn *dc)
{
    if (dc->counted) {
        pthread_mutex_lock(&idle_lock);
        uncount_locked(dc);
        pthread_mutex_unlock(&idle_lock);
    }
    conn_drop_fds(dc);
    if (dc->fd >= 0)
        close(dc->fd);
    if (dc->ring_fd >= 0)
        close(dc->ring_fd);
    wsl_ring_free(dc->ring);
    dc->fd = dc->ring_fd = -1;
    dc->ring = NULL;
}

/* ------------------------------------------------------------------ */

/* The state of one request's exchange. */
typedef struct {
    request_rec *r;
    const wsl_daemon_group *g;
    daemon_conn *dc;
    apr_bucket_brigade *bb, *in;
    apr_bucket_brigade *held;   /* request body read for one READ */
    apr_size_t pending;         /* bytes in bb not yet passed */
    struct iovec *iov;          /* a BODY frame's pieces */
    int iov_cap;
    int client_eos;             /* the request body has ended */
    int read_any;               /* a READ was answered: not resendable */
    int head_done;              /* HEAD applied to r */
    int sent;                   /* something went to the client */
    int client_gone;
    apr_time_t deadline;        /* request-timeout's, or 0 (clock.h) */
} exchange;

static void pass(exchange *x, int flush)
{
    apr_status_t rv;

    if (flush)
        APR_BRIGADE_INSERT_TAIL(x->bb,
            apr_bucket_flush_create(x->bb->bucket_alloc));
    if (APR_BRIGADE_EMPTY(x->bb))
        return;
    x->sent = 1;
    rv = ap_pass_brigade(x->r->output_filters, x->bb);
    apr_brigade_cleanup(x->bb);
    x->pending = 0;
    /* The filters have sent the ring's bytes, or copied them (a
     * transient bucket is copied when set aside). */
    if (x->dc->ring)
        wsl_ring_give_back(x->dc->ring);
    if (rv != APR_SUCCESS && !x->client_gone) {
        x->client_gone = 1;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, x->r,
                      "WSL00031: client went away while sending the "
                      "response for '%s'", x->r->uri);
    }
}

/* After a DATA or SHARED frame's bytes are gathered: passed on when the
 * frame says FLUSH, or enough is gathered. */
static void pass_if_due(exchange *x, uint8_t flags)
{
    if ((flags & WSL_FRAME_FLUSH) || x->pending >= WSL_CLIENT_PASS_AT)
        pass(x, flags & WSL_FRAME_FLUSH);
}

/* Read the client's body for one READ into x->held: up to `want` bytes
 * (with fill, until want or the end).  The buckets are kept, not copied
 * into one buffer: they go to the socket as they are (answer_read).  A
 * bucket set aside is a no-op for the heap buckets Apache's input
 * filters give; a transient one is copied (and freed with the bucket). */
static apr_status_t read_client(exchange *x, apr_off_t want, int fill,
                                apr_off_t *got)
{
    apr_status_t rv = APR_SUCCESS;

    *got = 0;
    while (!x->client_eos && *got < want && (fill || !*got)) {
        apr_off_t n = want - *got, len;
        apr_bucket *e;

        if (n > 64 * 1024)
            n = 64 * 1024;
        rv = ap_get_brigade(x->r->input_filters, x->in, AP_MODE_READBYTES,
                            APR_BLOCK_READ, n);
        if (rv != APR_SUCCESS)
            break;
        x->client_eos = !APR_BRIGADE_EMPTY(x->in) &&
                        APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(x->in));
        for (e = APR_BRIGADE_FIRST(x->in);
             e != APR_BRIGADE_SENTINEL(x->in) && rv == APR_SUCCESS;
             e = APR_BUCKET_NEXT(e)) {
            rv = apr_bucket_setaside(e, x->r->pool);
            if (rv == APR_ENOTIMPL)
                rv = APR_SUCCESS;
        }
        if (rv == APR_SUCCESS)
            rv = apr_brigade_length(x->in, 1, &len);
        APR_BRIGADE_CONCAT(x->held, x->in);
        if (rv != APR_SUCCESS)
            break;
        *got += len;
    }
    return rv;
}

/* READ: up to `want` bytes of the request body (with FILL, until want or
 * the end), as one BODY frame.  Copied into the ring's body part when
 * the daemon has the ring (`ring`: the READ says so) and it fits (one
 * copy, where the socket makes two and wakes the daemon for every
 * buffer's worth); else the frame's header and the buckets read go in
 * one sendmsg (no copy of the body into a buffer of ours first: that
 * copy was nearly half of the Apache child's instructions for a 1 MiB
 * POST). */
static int answer_read(exchange *x, uint32_t want, int fill, int ring)
{
    wsl_frame f;
    apr_off_t got;
    apr_status_t rv;
    apr_bucket *e;
    int32_t err;
    char *space;
    int n = 0, rc;

    if (want > WSL_WIRE_DATA_MAX)
        want = WSL_WIRE_DATA_MAX;
    x->read_any = 1;
    rv = read_client(x, want, fill, &got);
    for (e = APR_BRIGADE_FIRST(x->held);
         rv == APR_SUCCESS && e != APR_BRIGADE_SENTINEL(x->held);
         e = APR_BUCKET_NEXT(e))
        n++;
    if (rv == APR_SUCCESS && n + 1 > x->iov_cap) {
        x->iov_cap = n + 1 > 64 ? n + 1 : 64;
        x->iov = apr_palloc(x->r->pool, (size_t)x->iov_cap *
                                        sizeof(*x->iov));
    }
    n = 1;
    for (e = APR_BRIGADE_FIRST(x->held);
         rv == APR_SUCCESS && e != APR_BRIGADE_SENTINEL(x->held);
         e = APR_BUCKET_NEXT(e)) {
        const char *data;
        apr_size_t len;

        if (APR_BUCKET_IS_METADATA(e))
            continue;
        if ((rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ))
            == APR_SUCCESS && len) {
            x->iov[n].iov_base = (void *)data;
            x->iov[n++].iov_len = len;
        }
    }
    if (rv != APR_SUCCESS) {
        struct iovec iov[2] = { { &f, sizeof(f) }, { &err, sizeof(err) } };

        apr_brigade_cleanup(x->held);
        f = wsl_frame_make(WSL_FRAME_BODY, WSL_FRAME_ERROR, sizeof(err));
        err = rv;
        return conn_writev(x->dc, iov, 2);
    }
    if (got >= WSL_RING_MIN && ring && x->dc->ring &&
        (space = wsl_ring_body_space(x->dc->ring, (size_t)got))) {
        /* Into the ring's body part: a copy of ours in place of the
         * socket's two. */
        uint32_t count = (uint32_t)got;
        struct iovec iov[2] = { { &f, sizeof(f) },
                                { &count, sizeof(count) } };
        int k;

        for (k = 1; k < n; k++) {
            memcpy(space, x->iov[k].iov_base, x->iov[k].iov_len);
            space += x->iov[k].iov_len;
        }
        wsl_ring_body_sent(x->dc->ring, (size_t)got);
        f = wsl_frame_make(WSL_FRAME_BODY, WSL_FRAME_IN_RING |
                           (x->client_eos ? WSL_FRAME_EOS : 0),
                           sizeof(count));
        rc = conn_writev(x->dc, iov, 2);
        apr_brigade_cleanup(x->held);
        return rc;
    }
    f = wsl_frame_make(WSL_FRAME_BODY, x->client_eos ? WSL_FRAME_EOS : 0,
                       (size_t)got);
    x->iov[0].iov_base = &f;
    x->iov[0].iov_len = sizeof(f);
    rc = conn_writev(x->dc, x->iov, n);
    apr_brigade_cleanup(x->held);
    return rc;
}

static int valid_text(const wsl_bytes *b)
{
    return wsl_text_span((const unsigned char *)b->data, b->len) == b->len;
}

/* HEAD: checked as if it came from the application itself, then set on
 * r as embedded mode sets it.  NULL, or what is wrong. */
static const char *apply_head(exchange *x, const char *payload, size_t len)
{
    request_rec *r = x->r;
    wsl_wire_head h;
    apr_table_t *out;
    const char *err;
    uint32_t i;

    if ((err = wsl_wire_decode_head(payload, len, &h,
                                    pool_alloc,
                                    r->pool)))
        return err;
    if (h.status < 100 || h.status > 599 || !valid_text(&h.status_line) ||
        wsl_status_code(h.status_line.data) != h.status)
        return "a bad status line";
    if (h.content_type.data && !valid_text(&h.content_type))
        return "a bad Content-Type";
    out = apr_table_copy(r->pool, r->headers_out);
    for (i = 0; i < h.nheaders; i++) {
        const wsl_bytes *name = &h.names[i], *value = &h.values[i];

        if (!name->len ||
            wsl_token_span((const unsigned char *)name->data, name->len)
            != name->len || !valid_text(value))
            return "a header name or value that is not allowed";
        if (wsl_is_hop_by_hop(name->data))
            return apr_psprintf(r->pool, "the hop-by-hop header %s",
                                name->data);
        if (h.replace[i])
            apr_table_setn(out, name->data, value->data);
        else
            apr_table_addn(out, name->data, value->data);
    }
    r->status = h.status;
    r->status_line = h.status_line.data;
    r->headers_out = out;
    if (h.content_type.data)
        ap_set_content_type(r, h.content_type.data);
    if (h.close_connection)
        r->connection->keepalive = AP_CONN_CLOSE;
    x->head_done = 1;
    return NULL;
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

/* FILE: the descriptor the daemon passed, as a file bucket. */
static const char *add_file(exchange *x, const int64_t range[2])
{
    request_rec *r = x->r;
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    apr_os_file_t osfd;
    apr_file_t *file;
    int fd;

    if (!x->dc->nfds)
        return "a file frame without its descriptor";
    fd = x->dc->fds[0];
    memmove(x->dc->fds, x->dc->fds + 1,
            (size_t)--x->dc->nfds * sizeof(int));
    /* Closed with the request pool (the core output filter may still be
     * sending it after the handler has returned). */
    apr_pool_cleanup_register(r->pool, (void *)(apr_uintptr_t)fd, close_fd,
                              apr_pool_cleanup_null);
    if (range[0] < 0 || range[1] <= 0)
        return range[1] == 0 ? NULL : "a bad file range";
    osfd = fd;
    if (apr_os_file_put(&file, &osfd,
                        APR_FOPEN_READ |
                        (wsl_config_flag(dconf->enable_sendfile, 0)
                         ? APR_FOPEN_SENDFILE_ENABLED : 0),
                        r->pool) != APR_SUCCESS)
        return "a file it could not use";
    apr_brigade_insert_file(x->bb, file, (apr_off_t)range[0],
                            (apr_off_t)range[1], r->pool);
    x->pending += WSL_CLIENT_PASS_AT;  /* pass it before reading on */
    return NULL;
}

/* The response was cut short after its head: the client must see it
 * truncated (an error bucket stops the chunk filter's last chunk), and
 * the connection closes. */
static void truncate_response(exchange *x)
{
    x->r->connection->keepalive = AP_CONN_CLOSE;
    if (x->client_gone)
        return;
    APR_BRIGADE_INSERT_TAIL(x->bb,
        ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, x->r->pool,
                               x->bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(x->bb, apr_bucket_eos_create(x->bb->bucket_alloc));
    pass(x, 0);
}

/* An exchange that cannot go on: the connection is dropped, and the
 * client gets status before the head, the truncated response after it. */
static int give_up(exchange *x, int status)
{
    /* Truncated first: what is gathered may point into the ring. */
    if (x->head_done || x->sent) {
        truncate_response(x);
        conn_close(x->dc);
        return OK;
    }
    conn_close(x->dc);
    return status;
}

/* What a failed exchange answers: before the head, a status (502, or
 * 504 for a timeout); after it, the truncated response. */
static int failed(exchange *x, const char *what)
{
    daemon_conn *dc = x->dc;
    int timeout = dc->failed == EAGAIN || dc->failed == EWOULDBLOCK;

    ap_log_rerror(APLOG_MARK, APLOG_ERR, dc->failed > 0 ? dc->failed : 0,
                  x->r, "WSL00198: WSGIDaemonProcess %s: %s (for '%s')%s",
                  x->g->name, what, x->r->uri,
                  timeout ? ": socket-timeout passed"
                  : dc->failed == -1 ? ": the daemon process closed the "
                                       "connection (did it die?)" : "");
    return give_up(x, timeout ? HTTP_GATEWAY_TIME_OUT : HTTP_BAD_GATEWAY);
}

/* request-timeout: wait for the daemon's next bytes until the deadline;
 * 0 once it has passed.  Checked between frames (a frame once begun gets
 * socket-timeout for each read of it). */
static int wait_until_deadline(exchange *x)
{
    struct pollfd pfd = { x->dc->fd, POLLIN, 0 };
    int rc;

    for (;;) {
        apr_interval_time_t left = x->deadline - wsl_clock_now();
        /* In ms, rounded up: a deadline is never polled for too short. */
        int ms;

        if (left <= 0)
            return 0;
        ms = left / 1000 >= INT_MAX ? INT_MAX : (int)((left + 999) / 1000);
        rc = poll(&pfd, 1, ms);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return 1;           /* the read that follows says what failed */
    }
}

/* The response did not end within request-timeout: 504, or the response
 * truncated if it had begun.  The daemon process sees the request run on
 * too; it logs the application's stack and is recycled (process.c). */
static int timed_out(exchange *x)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r,
                  "WSL00201: WSGIDaemonProcess %s: the response to '%s' "
                  "did not end within request-timeout=%d%s", x->g->name,
                  x->r->uri, (int)apr_time_sec(x->g->request_timeout),
                  x->head_done || x->sent ? ": truncated" : ": 504");
    return give_up(x, HTTP_GATEWAY_TIME_OUT);
}

/* Follow the daemon's frames to END.  OK, a status, or -1: the request
 * may be sent again (the process closed the connection unread, or said
 * END "send it again"). */
static int exchange_run(exchange *x)
{
    daemon_conn *dc = x->dc;
    int frames = 0;

    for (;;) {
        wsl_frame f;
        char *payload = NULL;
        const char *err = NULL;

        /* About to wait on the daemon: what is here goes out first. */
        if (x->pending && dc->start == dc->end)
            pass(x, 0);
        if (x->deadline && dc->start == dc->end && !wait_until_deadline(x))
            return timed_out(x);
        if (conn_read(dc, &f, sizeof(f)) < 0) {
            /* A connection the daemon closed, or a process that died,
             * before it read the request: Linux reports the close of a
             * UNIX socket with unread data as ECONNRESET, so the request
             * never ran and may go again, whatever its method (no body
             * was read: that starts with a READ).  A plain EOF is a
             * daemon that read the request and died running it: sending
             * it again would run it twice (a request that kills its
             * process would kill the next one too). */
            if (!frames && !x->read_any && dc->failed == ECONNRESET) {
                conn_close(dc);
                return -1;
            }
            return failed(x, "no complete response came");
        }
        frames++;
        if (f.version != WSL_WIRE_VERSION)
            return failed(x, apr_psprintf(x->r->pool, "a frame of wire "
                                          "version %u, where this build's is "
                                          "%u (a daemon of another build of "
                                          "the module)", f.version,
                                          WSL_WIRE_VERSION));
        switch (f.type) {
        case WSL_FRAME_READ: {
            uint32_t want;

            if (f.length != sizeof(want) || conn_read(dc, &want,
                                                      sizeof(want)) < 0)
                return failed(x, "a bad READ frame");
            if (answer_read(x, want, f.flags & WSL_FRAME_FILL,
                            f.flags & WSL_FRAME_RING) < 0)
                return failed(x, "the request body could not be sent");
            break;
        }
        case WSL_FRAME_HEAD:
            if (f.length > WSL_WIRE_HEAD_MAX || x->head_done)
                return failed(x, "a bad HEAD frame");
            payload = apr_palloc(x->r->pool, f.length ? f.length : 1);
            if (conn_read(dc, payload, f.length) < 0)
                return failed(x, "no complete head came");
            if ((err = apply_head(x, payload, f.length))) {
                dc->failed = 0;
                return failed(x, apr_pstrcat(x->r->pool, "the response "
                                             "head had ", err, NULL));
            }
            break;
        case WSL_FRAME_DATA: {
            char *data;

            if (f.length > WSL_WIRE_DATA_MAX || !x->head_done)
                return failed(x, "a bad DATA frame");
            data = apr_bucket_alloc(f.length ? f.length : 1,
                                    x->bb->bucket_alloc);
            /* A large payload is read straight into its bucket, and so
             * is the next frame's header: large frames come in a row. */
            dc->exact = f.length >= sizeof(dc->buf);
            if (conn_read(dc, data, f.length) < 0) {
                apr_bucket_free(data);
                return failed(x, "the response body was cut short");
            }
            if (x->client_gone || !f.length) {
                apr_bucket_free(data);
            }
            else {
                APR_BRIGADE_INSERT_TAIL(x->bb,
                    apr_bucket_heap_create(data, f.length, apr_bucket_free,
                                           x->bb->bucket_alloc));
                x->pending += f.length;
            }
            pass_if_due(x, f.flags);
            break;
        }
        case WSL_FRAME_SHARED: {
            uint32_t piece[2];
            const char *data;

            if (f.length != sizeof(piece) || !x->head_done || !dc->ring ||
                conn_read(dc, piece, sizeof(piece)) < 0)
                return failed(x, "a bad SHARED frame");
            if (!(data = wsl_ring_take(dc->ring, piece[0], piece[1]))) {
                dc->failed = 0;
                return failed(x, "a SHARED frame out of its ring's order");
            }
            if (piece[1]) {
                APR_BRIGADE_INSERT_TAIL(x->bb,
                    apr_bucket_transient_create(data, piece[1],
                                                x->bb->bucket_alloc));
                x->pending += piece[1];
            }
            pass_if_due(x, f.flags);
            break;
        }
        case WSL_FRAME_FILE: {
            int64_t range[2];

            if (f.length != sizeof(range) || !x->head_done ||
                conn_read(dc, range, sizeof(range)) < 0)
                return failed(x, "a bad FILE frame");
            if ((err = add_file(x, range))) {
                dc->failed = 0;
                return failed(x, err);
            }
            break;
        }
        case WSL_FRAME_END: {
            wsl_wire_end end;
            int32_t status;

            if (f.length != sizeof(end) ||
                conn_read(dc, &end, sizeof(end)) < 0)
                return failed(x, "a bad END frame");
            status = end.status;
            dc->pid = end.pid;
            if (f.flags & WSL_END_RESEND) {
                /* Only for a request not begun: what is gathered may
                 * point into this connection's ring. */
                if (x->head_done || x->sent || !APR_BRIGADE_EMPTY(x->bb)) {
                    dc->failed = 0;
                    return failed(x, "END \"send it again\" after the "
                                  "response had begun");
                }
                conn_close(dc);
                return -1;
            }
            if (f.flags & WSL_END_TRUNCATED) {
                truncate_response(x);
                status = OK;
            }
            else if (!status && !x->head_done) {
                dc->failed = 0;
                return failed(x, "the response ended before its head");
            }
            else if (!status) {
                /* Flushed, as embedded mode does: a pipelined request is
                 * then read sooner.  The flush before the EOS: with the
                 * whole body and the EOS in one brigade, Apache's
                 * content-length filter sets Content-Length. */
                APR_BRIGADE_INSERT_TAIL(x->bb,
                    apr_bucket_flush_create(x->bb->bucket_alloc));
                APR_BRIGADE_INSERT_TAIL(x->bb,
                    apr_bucket_eos_create(x->bb->bucket_alloc));
                pass(x, 0);
            }
            if (x->client_gone || dc->nfds)
                conn_close(dc);
            return status;
        }
        default:
            return failed(x, apr_psprintf(x->r->pool, "a frame of unknown "
                                          "type %d", f.type));
        }
        if (x->client_gone) {
            /* The daemon sees its next write fail and stops the
             * application (close() runs once, there). */
            conn_close(dc);
            return OK;
        }
    }
}

int wsl_daemon_client_run(request_rec *r, const wsl_route *route,
                          const wsl_snapshot *snap)
{
    const wsl_daemon_group *g = wsl_daemon_group_find(route->process_group);
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    wsl_wire_buf buf = { NULL, 0, 0, pool_alloc,
                         r->pool, 0 };
    wsl_wire_request wr;
    daemon_conn *dc = apr_palloc(r->pool, sizeof(*dc));
    exchange x;
    server_rec *s;
    apr_time_t queue_start;
    int status, attempt, index = 0;

    memset(&wr, 0, sizeof(wr));
    for (s = ap_server_conf; s && s != r->server; s = s->next)
        index++;
    wr.server_index = s ? index : 0;
    wr.request_time = r->request_time;
    wr.body_length = r->remaining > 0 ? r->remaining : -1;
    wr.head_only = (uint8_t)r->header_only;
    wr.error_override = (uint8_t)wsl_config_flag(dconf->error_override, 0);
    wr.script_reloading =
        (uint8_t)wsl_config_flag(dconf->script_reloading, 1);
#define SET(field, s) (wr.field.data = (s), \
                       wr.field.len = (s) ? strlen(s) : 0)
    SET(uri, r->uri);
    SET(method, r->method);
    SET(client_ip, r->useragent_ip);
    SET(log_id, r->log_id);
    SET(script, route->script);
    SET(group, route->group);
    SET(callable, route->callable);
    SET(handler_script, route->handler_script);
#undef SET
    wr.snapshot = *snap;
    /* The hand-off twice: the deadlines' clock, and the wall clock's
     * time of day for mod_wsgi.queue_start. */
    wr.handed_on = wsl_clock_now();
    queue_start = apr_time_now();
    /* mod_wsgi's daemon-mode keys that the child sets: when the request
     * was handed on (APM agents read the queue time from it), and how
     * many connects and restarts it took (always one and none here: a
     * resend is not counted). */
    if (wsl_snapshot_set_var(&wr.snapshot, "mod_wsgi.queue_start",
                             apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                          queue_start),
                             pool_alloc, r->pool) < 0 ||
        wsl_snapshot_set_var(&wr.snapshot, "mod_wsgi.daemon_connects", "1",
                             pool_alloc, r->pool) < 0 ||
        wsl_snapshot_set_var(&wr.snapshot, "mod_wsgi.daemon_restarts", "0",
                             pool_alloc, r->pool) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    wsl_wire_encode_request(&buf, &wr);
    if (buf.failed)
        return HTTP_INTERNAL_SERVER_ERROR;

    memset(&x, 0, sizeof(x));
    x.r = r;
    x.g = g;
    x.dc = dc;
    x.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    x.in = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    x.held = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    /* request-timeout counts from the hand-off, as the daemon does. */
    if (g->request_timeout)
        x.deadline = wr.handed_on + g->request_timeout;
    for (attempt = 0; attempt <= WSL_RESEND_MAX; attempt++) {
        /* The first try may reuse a connection; a second uses a new one. */
        if (conn_open(r, g, dc, attempt > 0) < 0)
            return HTTP_SERVICE_UNAVAILABLE;
        /* A resend after request-timeout: too late. */
        if (x.deadline && wsl_clock_now() >= x.deadline)
            return timed_out(&x);
        if (conn_write(dc, buf.data, buf.len) < 0) {
            /* Not read: the process closed the connection as it stopped
             * (an idle one, or a new one it had just accepted). */
            conn_close(dc);
            continue;
        }
        if ((status = exchange_run(&x)) != -1)
            break;
    }
    if (attempt > WSL_RESEND_MAX) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00199: WSGIDaemonProcess %s: the request was sent "
                      "back or refused unread %d times (processes "
                      "restarting): giving up (for '%s')", g->name,
                      WSL_RESEND_MAX + 1, r->uri);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (dc->fd >= 0) {
        /* Whatever the exchange left of the ring is not passed now. */
        if (dc->ring)
            wsl_ring_give_back(dc->ring);
        idle_give(dc);
    }
    return status;
}
