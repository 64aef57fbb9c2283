/*
 * process.c: one daemon process of a WSGIDaemonProcess group, from the
 * fork in the parent (supervisor.c) to its exit.
 *
 * Set-up, in this order, each failure fatal and logged (the process exits
 * WSL_DAEMON_EXIT_FATAL and the supervisor backs off): the parent's death
 * signal, the parent's signal handlers undone, the watchdog (a thread
 * that ends the process at a deadline once its parent is gone or its
 * stop has begun, whatever its main thread is doing), Apache's
 * listeners closed, the name shown by ps (display-name), the group and
 * supplementary groups, the user (never root: a failed setuid() under
 * RLIMIT_NPROC must not leave it root, CVE-2014-8583's lesson), umask,
 * the home directory, the locale, the CPU priority; then Python, with
 * the group's python-home and python-path, and the group's
 * WSGIImportScript files.
 *
 * Then threads: one poller and threads=N workers.  The poller accepts
 * connections on the group's socket (only from the uid Apache's children
 * run as: SO_PEERCRED) and watches the idle ones; a connection with a
 * request waiting goes to the worker that went idle last (queue_push),
 * or, all busy, back to the child unread when another process of the
 * group looks free, else on the ready queue for the next one free; the
 * worker runs that request (worker.c) and gives the connection back to
 * the poller.
 * So Apache's children keep their connections open between requests at
 * no cost of a thread each, and a request waits for a worker in one
 * visible place, the queue.  A new connection comes with a request right
 * behind it, so a process accepts one only while it has a worker for it
 * (busy, queued and just-accepted connections fewer than threads=):
 * otherwise it stops watching the socket until one is free, and the
 * group's other processes accept (processes=2 threads=1 runs two
 * requests at once, not one after the other in the first process).
 *
 * Signals are taken by the main thread alone (every other thread blocks
 * them), with sigtimedwait: SIGTERM (Apache stops or restarts), SIGINT
 * (an application's os.kill(os.getpid(), SIGINT), mod_wsgi's idiom for
 * "restart me"), SIGHUP and SIGUSR1 all stop the process gracefully:
 * no new request is taken, those running get up to shutdown-timeout,
 * then Python is finalised and the process exits for the supervisor to
 * start another; SIGWINCH (Apache's graceful restart) does so with the
 * running requests given graceful-timeout.  With eviction-timeout,
 * SIGUSR1 instead lets the process go on taking requests until none runs
 * (or eviction-timeout passes), as mod_wsgi's eviction does.
 */
#include "process.h"
#include "common/board.h"
#include "common/clock.h"
#include "common/memory.h"
#include "common/wire.h"

#include "ap_listen.h"
#include "py/lifecycle.h"
#include "unixd.h"
#include "apr_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Every time below (a worker's started, a connection's queued_at, dp's)
 * is wsl_clock_now()'s: deadlines and durations, which a step of the
 * wall clock must not move (common/clock.h).  The wall clock is only
 * for the board's `started`, a time of day to show. */

/* One connection from an Apache child. */
struct conn;

/* A worker waiting for a request (take_next). */
typedef struct idle_worker {
    pthread_cond_t cond;
    struct conn *conn;          /* handed to it by queue_push */
    struct idle_worker *next;
    int slot;                   /* 0 .. threads-1 */
} idle_worker;

/* A worker thread, as the main thread watches it (check_limits()). */
typedef struct wsl_daemon_worker {
    idle_worker idle;
    unsigned long ident;        /* its pthread_self(): Python's ident */
    apr_time_t started;         /* when it took its request; 0: idle */
    wsl_daemon_seen seen;       /* that request's URI, once read */
    int late;                   /* it ran past request-timeout */
} wsl_daemon_worker;

typedef struct conn {
    int fd;
    wsl_ring *ring;             /* its response ring, once its first
                                 * request brings one */
    int busy;                   /* queued or in a worker's hands */
    int fresh;                  /* accepted, its first request not seen */
    int kept;                   /* its queued request came on it kept
                                 * (not its first): requeue_waiting may
                                 * send that one elsewhere */
    apr_time_t queued_at;       /* put on the ready queue (the board's
                                 * oldest_queued) */
    struct conn *next;          /* the ready queue */
    struct conn *prev_all, *next_all;   /* every open connection */
} conn;

static struct {
    const wsl_daemon_group *group;
    server_rec *server;
    int listen_fd, epoll_fd, wake_fd;
    pthread_mutex_t lock;
    /* Waited on with deadlines of CLOCK_MONOTONIC (wsl_clock_deadline_in), as
     * wsl_clock_cond_init() makes them. */
    pthread_cond_t idle_cond;   /* busy went to 0 */
    idle_worker *idle;          /* waiting workers, the last idle first */
    conn *ready_head, *ready_tail;  /* requests waiting for a worker */
    conn *all;                  /* every open connection */
    int busy;                   /* workers inside a request */
    int queued;                 /* connections on the ready queue */
    int fresh;                  /* connections accepted whose first
                                 * request has not come yet */
    int accepting;              /* the listening socket is watched */
    int stopping;               /* no new request is taken */
    const char *restart_why;    /* why the process restarts, when it asked
                                 * for it itself */
    int recycle;                /* ... and it is a recycle: its requests
                                 * get graceful-timeout to finish */
    wsl_daemon_worker *workers; /* threads= of them */
    /* The widest interpreter pool (WSGIInterpreterCount) a group of this
     * process may have, 1 for none; worker slot k runs in member
     * k % pool_width of a pool that wide, and member_busy counts the
     * workers busy per member (queue_push balances them). */
    int pool_width;
    int *member_busy;
    int late;                   /* workers busy past request-timeout */
    int stacks;                 /* log_stack threads not done yet */
    pthread_t gil_watch;        /* deadlock-timeout's thread */
    int gil_watching;           /* it runs */
    apr_time_t gil_watch_began;
    int gil_watch_done;         /* it has returned */
    pthread_cond_t gil_watch_cond;  /* wakes it to stop */
    long served;                /* requests done */
    apr_pool_t *watch_pool;     /* the main thread's (check_limits) */
    apr_time_t began;           /* the process started serving */
    apr_time_t active;          /* a request last began or ended */
    apr_time_t evict_until;     /* SIGUSR1 with eviction-timeout: serve on
                                 * until idle or this time; 0: not asked */
    apr_pool_t *pool;
    wsl_board_proc *board;      /* its half of its slot; NULL: none */
    wsl_board_proc *sibling;    /* the slot's other half */
    int herald_fd;              /* to ask for a replacement; -1: none */
    /* A recycle waiting for its replacement (ask_replacement): why, and
     * since when; NULL: none. */
    const char *handing_over;
    apr_time_t handing_over_since;
    pid_t parent;               /* the Apache parent that forked it */
    /* The main thread has begun to stop: the watchdog's deadline for the
     * whole stop (wsl_clock_now()'s), its requests' grace set first;
     * 0: not yet. */
    apr_interval_time_t stop_grace;
    _Atomic apr_int64_t stop_by;
} dp = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static void fatal(const char *what, int err) __attribute__((noreturn));
static void fatal(const char *what, int err)
{
    ap_log_error(APLOG_MARK, APLOG_CRIT, err, dp.server,
                 "WSL00186: daemon process %" APR_PID_T_FMT " of "
                 "WSGIDaemonProcess %s: %s; exiting", getpid(),
                 dp.group->name, what);
    _exit(WSL_DAEMON_EXIT_FATAL);
}

/* The length of the process's argument area (every argument, each
 * NUL-terminated: what /proc/PID/cmdline shows) when argv0 is where it
 * starts, the kernel's arg_start; else argv0's own.  Walking the strings
 * from argv[0] would stop at its end: Apache's process->argv is not the
 * kernel's, mpm_common's rewrite_args copies the options. */
static size_t argument_area(const char *argv0)
{
    size_t len = strlen(argv0) + 1;
    unsigned long start = 0, end = 0;
    char buf[2048], *p, *save;
    ssize_t got;
    int field, fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return len;
    got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (got <= 0)
        return len;
    buf[got] = '\0';
    /* Fields 48 and 49 (proc(5)), counted after the command's ")". */
    if (!(p = strrchr(buf, ')')))
        return len;
    for (field = 3, p = strtok_r(p + 1, " ", &save); p && field <= 49;
         p = strtok_r(NULL, " ", &save), field++) {
        if (field == 48)
            start = strtoul(p, NULL, 10);
        else if (field == 49)
            end = strtoul(p, NULL, 10);
    }
    if (start != (unsigned long)(uintptr_t)argv0 || end < start + len)
        return len;
    return end - start;
}

/* What ps shows: the whole argument area rewritten (ps -f, ps aux), and
 * the thread name (ps -o comm, top), 15 bytes of it. */
static void set_display_name(const wsl_daemon_group *g, server_rec *s)
{
    const char *name;

    if (!g->display_name)
        return;
    name = g->display_name;
    if (!strcmp(name, "%{GROUP}"))
        name = apr_pstrcat(s->process->pool, "(wsgi:", g->name, ")", NULL);
    wsl_daemon_set_title(s, name);
}

void wsl_daemon_set_title(server_rec *s, const char *name)
{
    char *start;
    size_t len;

    prctl(PR_SET_NAME, name, 0, 0, 0);
    if (s->process->argc < 1)
        return;
    start = (char *)s->process->argv[0];
    len = argument_area(start);
    memset(start, 0, len);
    apr_cpystrn(start, name, len);
}

static void become_user(const wsl_daemon_group *g)
{
    struct passwd *pw = getpwuid(g->uid);
    const char *home = g->home;
    int as_root = geteuid() == 0;

    /* As in mod_wsgi, user= and group= apply when Apache starts as root;
     * otherwise the daemon is Apache's own user already. */
    if (!as_root)
        goto identity_done;
    if (g->uid == 0)
        fatal("a daemon process never runs as root", 0);
    if (setgid(g->gid) < 0)
        fatal(apr_psprintf(dp.pool, "setgid(%ld) failed", (long)g->gid),
              errno);
    if (g->supplementary_groups) {
        /* As mod_wsgi's list: the primary group first, then the named
         * ones (the kernel does not add the gid to getgroups() itself). */
        int n = g->supplementary_groups->nelts;
        gid_t *gids = apr_palloc(dp.pool, sizeof(gid_t) * (apr_size_t)(n + 1));

        gids[0] = g->gid;
        memcpy(gids + 1, g->supplementary_groups->elts,
               sizeof(gid_t) * (apr_size_t)n);
        if (setgroups((size_t)n + 1, gids) < 0)
            fatal("setgroups() of supplementary-groups failed", errno);
    }
    else if (!pw) {
        if (setgroups(0, NULL) < 0)
            fatal("setgroups() failed", errno);
    }
    else if (initgroups(pw->pw_name, g->gid) < 0) {
        fatal(apr_psprintf(dp.pool, "initgroups(%s) failed", pw->pw_name),
              errno);
    }
    if (setuid(g->uid) < 0)
        fatal(apr_psprintf(dp.pool, "setuid(%ld) failed", (long)g->uid),
              errno);
identity_done:
    if (getuid() == 0 || geteuid() == 0)
        fatal("still root after setuid()", 0);
    if (g->umask >= 0)
        umask((mode_t)g->umask);
    /* mod_wsgi's default: the home directory of the user it runs as. */
    if (!home) {
        pw = as_root ? pw : getpwuid(geteuid());
        if (!pw || !pw->pw_dir)
            fatal(apr_psprintf(dp.pool, "no home directory known for uid "
                               "%ld (set home=)", (long)geteuid()), 0);
        home = pw->pw_dir;
    }
    if (chdir(home) < 0)
        fatal(apr_psprintf(dp.pool, "cannot change to its home directory "
                           "'%s'%s", home, g->home ? "" :
                           " (the user's: set home= to choose another)"),
              errno);
    if (g->lang)
        setenv("LANG", g->lang, 1);
    if (g->locale) {
        setenv("LC_ALL", g->locale, 1);
        if (!setlocale(LC_ALL, g->locale))
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, dp.server,
                         "WSL00187: WSGIDaemonProcess %s: locale '%s' is "
                         "not available", g->name, g->locale);
    }
    if (g->cpu_priority &&
        setpriority(PRIO_PROCESS, 0, g->cpu_priority) < 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, dp.server,
                     "WSL00187: WSGIDaemonProcess %s: cannot set "
                     "cpu-priority=%d", g->name, g->cpu_priority);
}

/* ------------------------------------------------------------------ */

/* Stop watching the listening socket while every worker has a request
 * to run or coming (dp.lock held), so that the group's other processes
 * are woken for new connections instead. */
static void accept_pause_if_full(void)
{
    if (dp.accepting &&
        dp.busy + dp.queued + dp.fresh >= dp.group->threads &&
        epoll_ctl(dp.epoll_fd, EPOLL_CTL_DEL, dp.listen_fd, NULL) == 0)
        dp.accepting = 0;
}

/* Watch the listening socket again once a worker is free for a new
 * connection (dp.lock held). */
static void accept_resume(void)
{
    struct epoll_event ev;

    if (dp.accepting || dp.stopping ||
        dp.busy + dp.queued + dp.fresh >= dp.group->threads)
        return;
    ev.events = EPOLLIN;
    ev.data.ptr = &dp.listen_fd;
    if (epoll_ctl(dp.epoll_fd, EPOLL_CTL_ADD, dp.listen_fd, &ev) == 0)
        dp.accepting = 1;
}

/* The status board's figures, from dp's (dp.lock held): each is one
 * store, a reader may see them a moment apart. */
static void board_figures(void)
{
    if (!dp.board)
        return;
    atomic_store_explicit(&dp.board->active, dp.busy, memory_order_relaxed);
    atomic_store_explicit(&dp.board->queued, dp.queued, memory_order_relaxed);
    atomic_store_explicit(&dp.board->fresh, dp.fresh, memory_order_relaxed);
    atomic_store_explicit(&dp.board->oldest_queued,
                          dp.ready_head ? dp.ready_head->queued_at : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&dp.board->served, dp.served, memory_order_relaxed);
}

static void board_state(wsl_board_state state)
{
    if (dp.board)
        atomic_store_explicit(&dp.board->state, state, memory_order_relaxed);
}

/* A connection no longer on dp.all: closed, its ring unmapped. */
static void conn_free(conn *c)
{
    close(c->fd);
    wsl_ring_free(c->ring);
    free(c);
}

/* A request that was queued and will not run here: the child sends it
 * to the group's next process. */
static void send_back(int fd)
{
    wsl_wire_end end = wsl_wire_end_of(0);
    wsl_frame f = wsl_frame_make(WSL_FRAME_END, WSL_END_RESEND,
                                 sizeof(end));
    struct iovec iov[2] = { { &f, sizeof(f) }, { &end, sizeof(end) } };

    /* On failure the child sees the connection close instead. */
    (void)!writev(fd, iov, 2);
    shutdown(fd, SHUT_RDWR);
}

/* The same for a connection no longer on dp.all (conn_unlink), which is
 * then closed and freed; dp.lock not held. */
static void conn_send_back(conn *c)
{
    send_back(c->fd);
    conn_free(c);
}

/*
 * The idle worker to take a request: the one that went idle last (a
 * stack: its stack and caches are warm, its Python thread state made; a
 * mostly idle process keeps using the same few threads, as mod_wsgi's
 * daemons do).  With an interpreter pool, the last idle of those whose
 * interpreter has the fewest requests running: the last idle alone would
 * keep handing requests that come at once to the same few threads,
 * which may all be bound to one interpreter, and run them one at a time
 * under its GIL.  Unlinked from the idle list; NULL for none.  Under
 * dp.lock.
 */
static idle_worker *idle_take(void)
{
    idle_worker *w, **link, **best = NULL;

    if (dp.pool_width <= 1) {
        if ((w = dp.idle))
            dp.idle = w->next;
        return w;
    }
    for (link = &dp.idle; *link; link = &(*link)->next) {
        if (!best || dp.member_busy[(*link)->slot % dp.pool_width] <
                     dp.member_busy[(*best)->slot % dp.pool_width])
            best = link;
    }
    if (!best)
        return NULL;
    w = *best;
    *best = w->next;
    return w;
}

/* A worker begins a request (busy and member_busy counted), and ends
 * it.  Under dp.lock. */
static void worker_busy(int slot)
{
    dp.busy++;
    if (dp.pool_width > 1)
        dp.member_busy[slot % dp.pool_width]++;
}

/* c off the list of open connections (dp.lock held): drain() no longer
 * sees it, and it is the caller's to close and free. */
static void conn_unlink(conn *c)
{
    if (c->fresh) {
        c->fresh = 0;
        dp.fresh--;
        accept_resume();
    }
    if (c->prev_all)
        c->prev_all->next_all = c->next_all;
    else
        dp.all = c->next_all;
    if (c->next_all)
        c->next_all->prev_all = c->prev_all;
}

/* How many threads the group's other processes, as the board shows
 * them, have free for one more request (only those that take requests;
 * a connection one has accepted counts as a request coming).  The
 * figures may be a moment old: it is only a hint (see queue_push). */
static int others_room(void)
{
    int slot, half, room = 0;

    if (!dp.board || dp.group->processes < 2)
        return 0;
    for (slot = 0; slot < dp.group->processes; slot++) {
        wsl_board_slot *bs = wsl_board_slot_of(dp.group->index, slot);

        for (half = 0; bs && half < 2; half++) {
            wsl_board_proc *bp = &bs->half[half];
            int state = atomic_load_explicit(&bp->state,
                                             memory_order_relaxed);
            int taken;

            if (bp == dp.board || !wsl_board_takes_requests(state))
                continue;
            taken = atomic_load_explicit(&bp->active, memory_order_relaxed)
                    + atomic_load_explicit(&bp->queued, memory_order_relaxed)
                    + atomic_load_explicit(&bp->fresh, memory_order_relaxed);
            if (taken < dp.group->threads)
                room += dp.group->threads - taken;
        }
    }
    return room;
}

/*
 * A connection with a request goes to an idle worker (idle_take), else
 * waits on the ready queue for the next worker to finish.
 *
 * But a request on a kept connection that finds every worker taken goes
 * back to the child, to come again on a new connection, when another
 * process of the group looks free: a child picks a kept connection by
 * figures that lag (two children may both pick this process for its
 * last free thread, and a new connection this process accepted may
 * already hold it), while a new connection is accepted only by a
 * process with a thread for it.  Queued here, it would wait for one of
 * these threads while another process had threads idle (six 1 s
 * requests on processes=2 threads=3 took 2 s).  With no process free,
 * it queues here: the connection is kept, and the next free thread of
 * this process takes it.
 */
static void queue_push(conn *c)
{
    idle_worker *w;
    int kept;

    pthread_mutex_lock(&dp.lock);
    kept = !c->fresh;
    if (c->fresh) {
        c->fresh = 0;
        dp.fresh--;
    }
    if (dp.stopping) {
        /* drain() has passed this one: it goes to another process. */
        c->busy = 0;
        send_back(c->fd);
        pthread_mutex_unlock(&dp.lock);
        return;
    }
    if (kept && dp.busy + dp.queued + dp.fresh >= dp.group->threads &&
        others_room() > 0) {
        conn_unlink(c);
        pthread_mutex_unlock(&dp.lock);
        conn_send_back(c);
        return;
    }
    c->busy = 1;
    if ((w = idle_take())) {
        /* Busy from now: drain() must wait for it even before the worker
         * wakes. */
        worker_busy(w->slot);
        w->conn = c;
    }
    else {
        c->next = NULL;
        c->kept = kept;
        c->queued_at = wsl_clock_now();
        if (dp.ready_tail)
            dp.ready_tail->next = c;
        else
            dp.ready_head = c;
        dp.ready_tail = c;
        dp.queued++;
    }
    accept_pause_if_full();
    board_figures();
    pthread_mutex_unlock(&dp.lock);
    /* After the unlock: the worker wakes to a free lock (it checks
     * w->conn, set above, under it). */
    if (w)
        pthread_cond_signal(&w->cond);
}

/* A request queued this long may be sent to another process that shows
 * a thread free (requeue_waiting), and the poller looks that often while
 * requests wait: long enough for the figures to settle, short against a
 * request that holds a thread. */
#define WSL_REQUEUE_AFTER apr_time_from_msec(5)
#define WSL_REQUEUE_LOOK_MS 5

/*
 * Requests that have waited here a while go back to the child while the
 * group's other processes show threads free (one request for each): the
 * figures a request was queued by may have been a moment old (a worker
 * of the other process still counted busy as it finished), and queued it
 * would wait here for a whole request to end.  Only requests on kept
 * connections go back, as in queue_push, so that none goes back twice.
 * Called by the poller after each wake; returns how long the poller may
 * sleep before the next look (ms; -1: nothing queued, or nowhere else to
 * send one).
 */
static int requeue_waiting(void)
{
    conn *back = NULL, *c, *prev = NULL, *next;
    apr_time_t now;
    int room, timeout;

    if (dp.group->processes < 2 || !dp.board)
        return -1;
    /* The board is read without dp.lock (atomics, and the group's fixed
     * figures). */
    room = others_room();
    pthread_mutex_lock(&dp.lock);
    if (dp.stopping || !dp.ready_head) {
        pthread_mutex_unlock(&dp.lock);
        return -1;
    }
    now = wsl_clock_now();
    /* Only while every worker runs a request: one between two requests
     * (worker_next) takes the head of the queue in a moment.  Only
     * requests that came on a kept connection: a first request on a new
     * one may be a request sent back already, and each sending back
     * uses one of the child's few tries (WSL_RESEND_MAX).  The queue is
     * in the order the requests came, the oldest first. */
    for (c = dp.ready_head;
         c && room > 0 && dp.busy >= dp.group->threads &&
         now - c->queued_at >= WSL_REQUEUE_AFTER; c = next) {
        next = c->next;
        if (!c->kept) {
            prev = c;
            continue;
        }
        if (prev)
            prev->next = next;
        else
            dp.ready_head = next;
        if (dp.ready_tail == c)
            dp.ready_tail = prev;
        dp.queued--;
        c->busy = 0;
        conn_unlink(c);
        c->next = back;
        back = c;
        room--;
    }
    if (back) {
        accept_resume();
        board_figures();
    }
    timeout = dp.ready_head ? WSL_REQUEUE_LOOK_MS : -1;
    pthread_mutex_unlock(&dp.lock);
    while ((c = back)) {
        back = c->next;
        conn_send_back(c);
    }
    return timeout;
}

/* The next connection with a request, NULL once the process stops
 * (dp.lock held; the wait for one lets it go).  The caller counts as
 * busy until request_uncount. */
static conn *take_next(wsl_daemon_worker *self)
{
    idle_worker *w = &self->idle;
    conn *c = NULL;

    if (!dp.stopping && (c = dp.ready_head)) {
        if (!(dp.ready_head = c->next))
            dp.ready_tail = NULL;
        dp.queued--;
        worker_busy(w->slot);
    }
    else if (!dp.stopping) {
        /* queue_push counts it busy as it hands it over. */
        w->conn = NULL;
        w->next = dp.idle;
        dp.idle = w;
        while (!w->conn && !dp.stopping)
            pthread_cond_wait(&w->cond, &dp.lock);
        c = w->conn;
        w->conn = NULL;
    }
    if (c) {
        /* For check_limits: its request began now, not read yet. */
        self->started = wsl_clock_now();
        atomic_store_explicit(&self->seen.ready, 0, memory_order_relaxed);
        board_figures();
    }
    return c;
}

/* A worker's request ended: busy no more (dp.lock held). */
static void request_uncount(wsl_daemon_worker *self)
{
    if (dp.pool_width > 1)
        dp.member_busy[self->idle.slot % dp.pool_width]--;
    if (--dp.busy <= dp.late)
        pthread_cond_broadcast(&dp.idle_cond);
    accept_resume();
    board_figures();
}

/* Watch c for its next request (one event, then it is the worker's). */
static int watch(conn *c, int op)
{
    struct epoll_event ev;

    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = c;
    return epoll_ctl(dp.epoll_fd, op, c->fd, &ev);
}

/* A connection accepted: kept, or (the process is stopping) sent back
 * at once; -1 then, and c is the caller's to free. */
static int conn_add(conn *c)
{
    pthread_mutex_lock(&dp.lock);
    if (dp.stopping) {
        pthread_mutex_unlock(&dp.lock);
        send_back(c->fd);
        return -1;
    }
    c->busy = 0;
    c->fresh = 1;
    dp.fresh++;
    accept_pause_if_full();
    board_figures();
    c->prev_all = NULL;
    if ((c->next_all = dp.all))
        dp.all->prev_all = c;
    dp.all = c;
    pthread_mutex_unlock(&dp.lock);
    return 0;
}

static void conn_close(conn *c)
{
    pthread_mutex_lock(&dp.lock);
    conn_unlink(c);
    pthread_mutex_unlock(&dp.lock);
    conn_free(c);
}

/* Whether the socket is still watched: a worker is free for another
 * new connection. */
static int accept_room(void)
{
    int room;

    pthread_mutex_lock(&dp.lock);
    room = dp.accepting;
    pthread_mutex_unlock(&dp.lock);
    return room;
}

/* New connections: only from the user Apache's children run as. */
static void accept_all(void)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct timeval tv;
    apr_interval_time_t timeout;
    conn *c;
    int fd;

    while (accept_room() &&
           (fd = accept4(dp.listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
            cred.uid != dp.group->peer_uid) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, dp.server,
                         "WSL00188: WSGIDaemonProcess %s: refused a "
                         "connection from uid %ld (pid %ld): only uid %ld, "
                         "Apache's children, may send requests",
                         dp.group->name, (long)cred.uid, (long)cred.pid,
                         (long)dp.group->peer_uid);
            close(fd);
            continue;
        }
        /* socket-timeout: how long a read or write of either side may
         * block (the child's reply to a READ, a response write). */
        timeout = dp.group->socket_timeout ? dp.group->socket_timeout
                                           : dp.server->timeout;
        tv.tv_sec = (time_t)apr_time_sec(timeout);
        tv.tv_usec = (suseconds_t)apr_time_usec(timeout);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (dp.group->send_buffer_size)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &dp.group->send_buffer_size,
                       sizeof(int));
        if (dp.group->receive_buffer_size)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF,
                       &dp.group->receive_buffer_size, sizeof(int));
        if (!(c = malloc(sizeof(*c)))) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->ring = NULL;
        if (conn_add(c) < 0)
            conn_free(c);
        else if (watch(c, EPOLL_CTL_ADD) < 0)
            conn_close(c);
        len = sizeof(cred);
    }
}

static void *poller(void *arg)
{
    struct epoll_event ev[64];
    int i, n, timeout = -1;

    (void)arg;
    for (;;) {
        n = epoll_wait(dp.epoll_fd, ev, 64, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (i = 0; i < n; i++) {
            if (ev[i].data.ptr == &dp.listen_fd)
                accept_all();
            else if (ev[i].data.ptr == &dp.wake_fd)
                return NULL;
            else
                queue_push(ev[i].data.ptr);
        }
        timeout = requeue_waiting();
    }
    return NULL;
}

/* The process takes no more requests (dp.lock held): the board says so
 * to the children. */
static void begin_stopping(void)
{
    dp.stopping = 1;
    board_state(WSL_BOARD_DRAINING);
}

/* The idle workers are woken, to see dp.stopping and end (dp.lock
 * held). */
static void wake_idle(void)
{
    idle_worker *w;

    for (w = dp.idle; w; w = w->next)
        pthread_cond_signal(&w->cond);
    dp.idle = NULL;
}

/* Stop taking requests, to restart (dp.lock held): why, for the log;
 * recycle, whether the requests running get graceful-timeout.  At once,
 * not when the main thread gets to drain(): a request sent back from
 * here must not be accepted here again. */
static void stop_for(const char *why, int recycle)
{
    if (!dp.restart_why) {
        dp.restart_why = why;
        dp.recycle = recycle;
    }
    begin_stopping();
    if (dp.accepting &&
        epoll_ctl(dp.epoll_fd, EPOLL_CTL_DEL, dp.listen_fd, NULL) == 0)
        dp.accepting = 0;
    wake_idle();
}

/*
 * A recycle that can wait for its replacement (dp.lock held): the
 * process goes on serving while the parent starts the next process of
 * its slot (supervisor.c's herald), which tells it (SIGUSR2) once it
 * serves; then it stops as stop_for(why, 1) does, its queued requests
 * going to the replacement.  So a recycle never leaves the group with a
 * process fewer while one starts.  Without a board or a herald, or
 * once the process stops anyway, it is stop_for() at once; 0 then, and
 * the caller wakes the main thread.  1 if the replacement is asked for
 * (or was already).
 */
static int ask_replacement(const char *why)
{
    static const char byte = 'r';

    if (dp.stopping || !dp.board || dp.herald_fd < 0) {
        stop_for(why, 1);
        return 0;
    }
    if (dp.handing_over)
        return 1;
    dp.handing_over = apr_pstrdup(dp.pool, why);
    dp.handing_over_since = wsl_clock_now();
    board_state(WSL_BOARD_HANDING_OVER);
    atomic_store_explicit(&dp.board->wants_replacement, 1,
                          memory_order_relaxed);
    wsl_board_set_text(&dp.board->why, why);
    /* Full, the pipe has a byte already: the herald is woken all the
     * same. */
    (void)!write(dp.herald_fd, &byte, 1);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, dp.server,
                 "WSL00189: daemon process %" APR_PID_T_FMT " of "
                 "WSGIDaemonProcess %s recycled (%s): serving until its "
                 "replacement does", getpid(), dp.group->name, why);
    return 1;
}

/* The longest a recycle waits for its replacement (one that cannot
 * start, say) before the process stops all the same. */
#define WSL_DAEMON_HANDOVER_MAX apr_time_from_sec(30)

/* The main thread: SIGUSR2 came (the replacement serves), or a tick
 * (late: it stops without it).  The recycle's why once it stops now;
 * NULL to go on. */
static const char *handover_due(int replaced)
{
    const char *why = NULL;

    pthread_mutex_lock(&dp.lock);
    if (dp.handing_over && !dp.stopping &&
        (replaced ||
         wsl_clock_now() - dp.handing_over_since > WSL_DAEMON_HANDOVER_MAX)) {
        why = replaced ? dp.handing_over
              : apr_psprintf(dp.pool, "%s; its replacement did not serve "
                             "within %d s", dp.handing_over,
                             (int)apr_time_sec(WSL_DAEMON_HANDOVER_MAX));
        stop_for(why, 1);
    }
    pthread_mutex_unlock(&dp.lock);
    return why;
}

/* From a worker (the script changed): stop taking requests, and have the
 * main thread, in its signal wait, restart the process. */
static void restart(const char *why)
{
    pthread_mutex_lock(&dp.lock);
    stop_for(why, 0);
    pthread_mutex_unlock(&dp.lock);
    kill(getpid(), SIGINT);
}

/* The request is counted as served (dp.lock held): maximum-requests
 * reached?  The reason the caller wakes the main thread for, or NULL. */
static const char *request_count(wsl_daemon_worker *w)
{
    const char *why = NULL;

    if (w->late) {
        w->late = 0;
        dp.late--;
    }
    w->started = 0;
    /* A connection the child closed is no request. */
    if (!atomic_load_explicit(&w->seen.ready, memory_order_acquire))
        return NULL;
    dp.active = wsl_clock_now();
    dp.served++;
    if (dp.group->maximum_requests && !dp.stopping && !dp.handing_over &&
        dp.served >= dp.group->maximum_requests) {
        why = apr_psprintf(dp.pool, "maximum-requests=%d reached",
                           dp.group->maximum_requests);
        if (ask_replacement(why))
            why = NULL;
    }
    return why;
}

/*
 * After a request on c (keep: wsl_daemon_worker_serve's verdict): the
 * request counted, c watched for its next request or closed, and the
 * next request taken, in one hold of dp.lock where there were four: each
 * was a chance to meet the poller or another worker on it, a futex
 * sleep and wake-up more (hello: 5.84 futex calls per request in the
 * daemon before, 5.12 after, strace -c).  NULL once the process stops.
 */
static conn *worker_next(wsl_daemon_worker *self, conn *c, int keep)
{
    const char *why;
    int drop = keep <= 0;
    conn *next;

    pthread_mutex_lock(&dp.lock);
    why = request_count(self);
    if (!drop) {
        /* Stopping, the child opens another to the group's next
         * process. */
        c->busy = 0;
        drop = dp.stopping || watch(c, EPOLL_CTL_MOD) < 0;
    }
    if (drop)
        conn_unlink(c);
    request_uncount(self);
    if (why || drop) {
        pthread_mutex_unlock(&dp.lock);
        if (why)
            kill(getpid(), SIGINT);
        if (drop)
            conn_free(c);
        pthread_mutex_lock(&dp.lock);
    }
    next = take_next(self);
    pthread_mutex_unlock(&dp.lock);
    return next;
}

static void *worker(void *arg)
{
    wsl_daemon_worker *self = arg;
    apr_pool_t *pool;
    conn *c;

    wsl_clock_cond_init(&self->idle.cond);
    self->idle.conn = NULL;
    self->idle.next = NULL;
    self->ident = (unsigned long)pthread_self();
    /* Its interpreter in every pool, for its life: slot % pool size. */
    wsl_interp_bind_thread(self->idle.slot);
    apr_pool_create(&pool, dp.pool);
    pthread_mutex_lock(&dp.lock);
    c = take_next(self);
    pthread_mutex_unlock(&dp.lock);
    while (c) {
        int keep = wsl_daemon_worker_serve(c->fd, &c->ring, pool,
                                           dp.server, dp.group,
                                           &self->seen);

        apr_pool_clear(pool);
        if (keep < 0) {
            restart("its WSGI script changed");
            send_back(c->fd);
        }
        c = worker_next(self, c, keep);
    }
    return NULL;
}


static void start_threads(void)
{
    struct epoll_event ev;
    pthread_attr_t attr;
    pthread_t tid;
    int i;

    dp.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    dp.wake_fd = eventfd(0, EFD_CLOEXEC);
    if (dp.epoll_fd < 0 || dp.wake_fd < 0)
        fatal("cannot make its poller", errno);
    /* Not EPOLLEXCLUSIVE: that wakes the first process waiting, which
     * would take every new connection while the others idle, or, once it
     * has no worker free, leave one in the backlog that no other process
     * was woken for.  Only processes with a worker free watch the socket
     * (accept_resume), and the few that do race for each connection;
     * connections are kept, so new ones are rare. */
    ev.events = EPOLLIN;
    ev.data.ptr = &dp.listen_fd;
    if (epoll_ctl(dp.epoll_fd, EPOLL_CTL_ADD, dp.listen_fd, &ev) < 0)
        fatal("cannot watch its socket", errno);
    dp.accepting = 1;
    ev.events = EPOLLIN;
    ev.data.ptr = &dp.wake_fd;
    epoll_ctl(dp.epoll_fd, EPOLL_CTL_ADD, dp.wake_fd, &ev);

    /* Before the poller, which reads them in queue_push. */
    dp.pool_width = wsl_interp_options_widest(dp.group->name);
    if (dp.pool_width > 1)
        dp.member_busy = apr_pcalloc(dp.pool, sizeof(int) *
                                              (apr_size_t)dp.pool_width);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (dp.group->stack_size)
        pthread_attr_setstacksize(&attr, dp.group->stack_size);
    if (pthread_create(&tid, &attr, poller, NULL) != 0)
        fatal("cannot start its poller thread", errno);
    dp.workers = apr_pcalloc(dp.pool, sizeof(*dp.workers) *
                                      (apr_size_t)dp.group->threads);
    dp.began = dp.active = wsl_clock_now();
    for (i = 0; i < dp.group->threads; i++) {
        dp.workers[i].idle.slot = i;
        if (pthread_create(&tid, &attr, worker, &dp.workers[i]) != 0)
            fatal("cannot start its worker threads", errno);
    }
    pthread_attr_destroy(&attr);
}


/* Stop taking requests, let those running finish (within timeout; not
 * waiting for those past request-timeout, which may never end); 1 if
 * every worker is idle, else 0 and *late_left: those still running are
 * all past request-timeout (or a stack is still being taken). */
/* Wait up to `timeout` for the log_stack threads to end. */
static void stacks_wait(apr_interval_time_t timeout)
{
    struct timespec until = wsl_clock_deadline_in(timeout);

    pthread_mutex_lock(&dp.lock);
    while (dp.stacks > 0 &&
           pthread_cond_timedwait(&dp.idle_cond, &dp.lock, &until) == 0)
        ;
    pthread_mutex_unlock(&dp.lock);
}

static void drain_late(void);

static int drain(apr_interval_time_t timeout, int *late_left)
{
    apr_time_t end = wsl_clock_now() + timeout;
    uint64_t one = 1;
    conn *c;
    int idle;

    /* On failure the poller stops at its next event at worst. */
    (void)!write(dp.wake_fd, &one, sizeof(one));
    pthread_mutex_lock(&dp.lock);
    begin_stopping();
    /* Under the lock: no worker watches it again (accept_resume). */
    close(dp.listen_fd);
    wake_idle();
    /* A request already waiting on the queue is sent back unread (END
     * "send it again"), to go to another process; so is one that a child
     * may have just written on an idle connection, which the poller has
     * not seen: each idle connection gets the same END and is closed.  A
     * child that had sent nothing there finds the END when it next takes
     * the connection, and drops it unused.  (A plain close would look,
     * to a child waiting for its answer, like a daemon that died running
     * the request, which must not be sent again.) */
    for (c = dp.ready_head; c; c = c->next)
        c->busy = 0;
    dp.ready_head = dp.ready_tail = NULL;
    dp.queued = 0;
    board_figures();
    for (c = dp.all; c; c = c->next_all)
        if (!c->busy)
            send_back(c->fd);
    /* With request-timeout, in steps of a tenth of a second: a request
     * that passes it meanwhile is stuck, and must not hold the process
     * (and its slot's half, which the next replacement needs) for all
     * of graceful-timeout. */
    while (dp.busy > dp.late) {
        apr_interval_time_t left = end - wsl_clock_now();
        struct timespec step;
        int rc;

        if (left <= 0)
            break;
        if (dp.group->request_timeout && left > apr_time_from_msec(100))
            left = apr_time_from_msec(100);
        step = wsl_clock_deadline_in(left);
        rc = pthread_cond_timedwait(&dp.idle_cond, &dp.lock, &step);
        if (rc == ETIMEDOUT && wsl_clock_now() >= end)
            break;
        if (dp.group->request_timeout)
            drain_late();
    }
    idle = dp.busy == 0;
    *late_left = dp.busy > 0 && dp.busy <= dp.late;
    pthread_mutex_unlock(&dp.lock);
    return idle;
}

/* A request past request-timeout, as the main thread logs it. */
typedef struct {
    unsigned long ident;
    char uri[256];
    apr_interval_time_t ran;
} late_request;

/* A thread of its own (check_limits): the stuck thread's Python stack,
 * a log entry per line, as tracebacks are (py/log.c). */
static void *log_stack(void *arg)
{
    late_request *l = arg;
    apr_pool_t *p;
    char *stack = NULL, *line, *last;

    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) == APR_SUCCESS) {
        stack = (char *)wsl_py_thread_stack(l->ident, p);
        for (line = stack ? apr_strtok(stack, "\n", &last) : NULL; line;
             line = apr_strtok(NULL, "\n", &last))
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, dp.server,
                         "WSL00200: %s", line);
        if (!stack)
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, dp.server,
                         "WSL00200: (the request for '%s' runs no Python "
                         "code now)", l->uri);
        apr_pool_destroy(p);
    }
    free(l);
    pthread_mutex_lock(&dp.lock);
    dp.busy--;
    dp.late--;
    dp.stacks--;
    pthread_cond_broadcast(&dp.idle_cond);
    pthread_mutex_unlock(&dp.lock);
    return NULL;
}

/*
 * deadlock-timeout: a thread of its own takes and gives back each GIL of
 * the process once a second (the main interpreter's, and each of an
 * interpreter that has its own), and check_limits recycles the process
 * once one of them has not been free for the timeout: its Python is stuck
 * (a C extension that holds the GIL and waits, a deadlock between two
 * locks), and no request of it can run.  The watch may itself wait for a
 * GIL forever; it is never joined without a bound.
 */
static void *gil_watch(void *unused)
{
    struct timespec until;

    (void)unused;
    pthread_mutex_lock(&dp.lock);
    while (!dp.stopping) {
        pthread_mutex_unlock(&dp.lock);
        wsl_py_gil_touch();
        pthread_mutex_lock(&dp.lock);
        until = wsl_clock_deadline_in(apr_time_from_sec(1));
        while (!dp.stopping &&
               pthread_cond_timedwait(&dp.gil_watch_cond, &dp.lock,
                                      &until) == 0)
            ;
    }
    dp.gil_watch_done = 1;
    pthread_cond_broadcast(&dp.idle_cond);
    pthread_mutex_unlock(&dp.lock);
    return NULL;
}

/* Stop the watch before Python is finalised: 1 once it has returned
 * (within 2 s), else 0 (it waits for a GIL that never came: Python must
 * be left as it is).  Main thread, dp.stopping set. */
static int gil_watch_stop(void)
{
    struct timespec until;
    int done;

    if (!dp.gil_watching)
        return 1;
    until = wsl_clock_deadline_in(apr_time_from_sec(2));
    pthread_mutex_lock(&dp.lock);
    pthread_cond_broadcast(&dp.gil_watch_cond);
    while (!dp.gil_watch_done &&
           pthread_cond_timedwait(&dp.idle_cond, &dp.lock, &until) == 0)
        ;
    done = dp.gil_watch_done;
    pthread_mutex_unlock(&dp.lock);
    if (done)
        pthread_join(dp.gil_watch, NULL);
    return done;
}

/* Under dp.lock. */
static const char *stalled_gil(const wsl_daemon_group *g, apr_pool_t *p)
{
    const char *what = wsl_py_gil_stalled(g->deadlock_timeout,
                                          dp.gil_watch_began, p);

    return what ? apr_psprintf(p, "deadlock-timeout=%d passed: %s",
                               (int)apr_time_sec(g->deadlock_timeout), what)
                : NULL;
}

/* startup-timeout: a process where loading a WSGI script has failed and
 * none has loaded since it began serving S seconds ago is recycled; a
 * load that fails may leave the application half imported (Django's
 * apps registry is one that cannot be populated twice), and a new process
 * starts afresh.  Under dp.lock. */
static const char *not_started(const wsl_daemon_group *g, apr_time_t now,
                               apr_pool_t *p)
{
    int loaded, failed;

    if (now - dp.began < g->startup_timeout)
        return NULL;
    wsl_script_load_state(&loaded, &failed);
    if (loaded || !failed)
        return NULL;
    return apr_psprintf(p, "startup-timeout=%d passed: its WSGI script "
                        "failed to load, and none has loaded",
                        (int)apr_time_sec(g->startup_timeout));
}

/* Requests past request-timeout not counted yet (dp.lock held): each
 * marked late (drain() waits no longer for it) and copied into late[],
 * at most max; how many. */
static int mark_late(apr_time_t now, late_request *late, int max)
{
    const wsl_daemon_group *g = dp.group;
    int i, nlate = 0;

    for (i = 0; g->request_timeout && i < g->threads; i++) {
        wsl_daemon_worker *w = &dp.workers[i];

        int read = atomic_load_explicit(&w->seen.ready,
                                        memory_order_acquire);
        /* From the child's hand-off, as the child counts its 504. */
        apr_time_t since = !w->started ? 0
                           : read ? w->seen.handed_on : w->started;

        if (since && !w->late && now - since > g->request_timeout &&
            nlate < max) {
            w->late = 1;
            dp.late++;
            late[nlate].ident = w->ident;
            /* Its URI cannot change under us: the worker's next request
             * begins only after this one ends, under dp.lock. */
            apr_cpystrn(late[nlate].uri,
                        read ? w->seen.uri : "(its request not read yet)",
                        sizeof(late[nlate].uri));
            late[nlate].ran = now - since;
            nlate++;
        }
    }
    return nlate;
}

/* Those late requests, logged (dp.lock not held). */
static void log_late(const late_request *late, int nlate)
{
    const wsl_daemon_group *g = dp.group;
    int i;

    /* The stack is taken by a thread of its own, which this one does not
     * wait for: the GIL may never come back from the very thread that is
     * stuck (a regular expression that backtracks, an extension that
     * loops, keep it).  Counted busy and late meanwhile, so the process
     * never finalises Python under it, nor waits for it to exit. */
    for (i = 0; i < nlate; i++) {
        late_request *copy = malloc(sizeof(*copy));
        pthread_attr_t attr;
        pthread_t tid;

        ap_log_error(APLOG_MARK, APLOG_ERR, 0, dp.server,
                     "WSL00200: daemon process %" APR_PID_T_FMT " of "
                     "WSGIDaemonProcess %s: the request for '%s' has run "
                     "%.1f s, past request-timeout=%d; the process is "
                     "recycled (its other requests may finish). Its "
                     "thread's Python stack follows", getpid(), g->name,
                     late[i].uri, (double)late[i].ran / APR_USEC_PER_SEC,
                     (int)apr_time_sec(g->request_timeout));
        if (!copy)
            continue;
        *copy = late[i];
        pthread_mutex_lock(&dp.lock);
        dp.busy++;
        dp.late++;
        dp.stacks++;
        pthread_mutex_unlock(&dp.lock);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&tid, &attr, log_stack, copy) != 0) {
            free(copy);
            pthread_mutex_lock(&dp.lock);
            dp.busy--;
            dp.late--;
            dp.stacks--;
            pthread_mutex_unlock(&dp.lock);
        }
        pthread_attr_destroy(&attr);
    }
}

/* drain()'s look, dp.lock held (and held again on return): a request
 * that passes request-timeout while the process stops is logged, and
 * waited for no longer, as one that passed it while it served. */
static void drain_late(void)
{
    late_request late[8];
    int nlate = mark_late(wsl_clock_now(), late,
                          (int)(sizeof(late) / sizeof(late[0])));

    if (!nlate)
        return;
    pthread_mutex_unlock(&dp.lock);
    log_late(late, nlate);
    pthread_mutex_lock(&dp.lock);
}

/*
 * memory-limit (resident), virtual-memory-limit (address space) and
 * cpu-time-limit (user + system, all threads, since the process began):
 * the first one the process is past, as why it is recycled, or NULL.
 * Checked each time the main thread looks (every second, or every tenth
 * of one with a timeout set).  mod_wsgi sets them as rlimits instead,
 * where an allocation past the limit fails (MemoryError mid-request) and
 * the CPU limit's SIGXCPU kills the process with its requests: here the
 * process is recycled as for maximum-requests, its requests finishing.
 *
 * A recycle serves on until its replacement serves (a second or so;
 * longer while the slot's previous process still finishes its
 * requests), so memory may grow past the limit meanwhile: past half as
 * much again, *hard is set and the process stops taking requests at
 * once (a replacement asked for still comes; else the parent starts
 * one when it exits), so that a fast leak cannot take the machine's
 * memory.
 */
static const char *resource_limit(const wsl_daemon_group *g, apr_pool_t *p,
                                  int *hard)
{
    *hard = 0;
    if (g->memory_limit || g->virtual_memory_limit) {
        wsl_memory m;

        /* Unreadable is 0 bytes: no limit passed. */
        wsl_memory_self(&m);
        if (g->memory_limit && m.resident > g->memory_limit) {
            *hard = m.resident > g->memory_limit + g->memory_limit / 2;
            return apr_psprintf(p, "memory-limit=%" APR_INT64_T_FMT
                                " passed: %" APR_INT64_T_FMT " bytes "
                                "resident", g->memory_limit,
                                (apr_int64_t)m.resident);
        }
        if (g->virtual_memory_limit && m.size > g->virtual_memory_limit) {
            *hard = m.size > g->virtual_memory_limit +
                             g->virtual_memory_limit / 2;
            return apr_psprintf(p, "virtual-memory-limit=%" APR_INT64_T_FMT
                                " passed: %" APR_INT64_T_FMT " bytes of "
                                "address space", g->virtual_memory_limit,
                                (apr_int64_t)m.size);
        }
    }
    if (g->cpu_time_limit) {
        struct rusage ru;
        double used;

        if (getrusage(RUSAGE_SELF, &ru) == 0) {
            used = (double)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
            if (used > g->cpu_time_limit)
                return apr_psprintf(p, "cpu-time-limit=%d passed: %.1f s "
                                    "of CPU", g->cpu_time_limit, used);
        }
    }
    return NULL;
}

/*
 * The main thread's look at the process, between its signal waits: a
 * request that ran past request-timeout is logged once, with the Python
 * stack of its thread (the thread cannot be stopped: the process is
 * recycled, its other requests given graceful-timeout); and the process
 * is recycled once it has run restart-interval, or been idle for
 * inactivity-timeout.  Why it is to be recycled now, or NULL.
 */
static const char *check_limits(apr_pool_t *p)
{
    const wsl_daemon_group *g = dp.group;
    late_request late[8];
    apr_time_t now = wsl_clock_now();
    const char *why = NULL;
    int nlate = 0, recycle, immediate = 0, hard = 0;

    pthread_mutex_lock(&dp.lock);
    nlate = mark_late(now, late, (int)(sizeof(late) / sizeof(late[0])));
    if (nlate)
        why = apr_psprintf(p, "request-timeout=%d passed",
                           (int)apr_time_sec(g->request_timeout));
    else if (g->restart_interval && now - dp.began >= g->restart_interval)
        why = apr_psprintf(p, "restart-interval=%d passed",
                           (int)apr_time_sec(g->restart_interval));
    else if (g->inactivity_timeout && !dp.busy && !dp.queued &&
             now - dp.active >= g->inactivity_timeout)
        why = apr_psprintf(p, "inactivity-timeout=%d: no request for %d s",
                           (int)apr_time_sec(g->inactivity_timeout),
                           (int)apr_time_sec(now - dp.active));
    else if ((why = resource_limit(g, p, &hard)))
        immediate = hard;
    else if (g->deadlock_timeout && dp.gil_watching)
        immediate = (why = stalled_gil(g, p)) != NULL;
    if (!why && g->startup_timeout)
        immediate = (why = not_started(g, now, p)) != NULL;
    recycle = 1;
    /* An eviction ends at the first moment with no request, or at its
     * deadline, when those running get shutdown-timeout, not
     * graceful-timeout (mod_wsgi's rule). */
    if (!why && dp.evict_until && !dp.busy && !dp.queued) {
        why = "evicted (SIGUSR1): no request running";
        immediate = 1;
    }
    else if (!why && dp.evict_until && now >= dp.evict_until) {
        why = apr_psprintf(p, "evicted (SIGUSR1): eviction-timeout=%d "
                           "passed", (int)apr_time_sec(g->eviction_timeout));
        recycle = 0;
        immediate = 1;
    }
    /* A process whose GIL is stuck, or whose application did not load,
     * must not serve on while its replacement starts; nor one evicted.
     * The other recycles wait for their replacement. */
    if (why && !dp.stopping) {
        if (immediate)
            stop_for(why, recycle);
        else if (ask_replacement(why))
            why = NULL;
    }
    pthread_mutex_unlock(&dp.lock);
    log_late(late, nlate);
    return why;
}

/*
 * A daemon process never outlives Apache, nor its own stop, by more than
 * a bound, whatever its main thread is doing.  The stop signals, the
 * kernel's death signal among them (PR_SET_PDEATHSIG), are taken by the
 * main thread alone, in its loop's sigtimedwait; a main thread
 * elsewhere takes none, and a process whose parent was killed would
 * live on for ever: one stuck in a WSGIImportScript that never returns,
 * or, once its stop has begun, in Python's finalisation (an atexit
 * handler or shutdown callback that blocks, a GIL that an application's
 * thread never gives back: interp_child_exit() waits for each); and a
 * recycled process stuck there would keep its slot's half for ever.
 *
 * So a thread of its own, the watchdog, started before anything that
 * can block, ends the process with _exit() at a deadline.  It runs no
 * Python, takes none of dp's locks (dp.stop_by is an atomic) and has
 * the stop signals blocked as every thread does.  Once a second it looks
 * at getppid(): the parent's death reparents the process, which changes
 * it (polled, not waited for: the death signal is the main thread's to
 * take).  Its deadlines:
 *   - its parent gone: shutdown-timeout and WSL_DAEMON_EXIT_MARGIN from
 *     then (the main thread, in its loop, stops meanwhile as for
 *     SIGTERM);
 *   - its stop begun (the main loop ended): the grace its requests get
 *     (shutdown-timeout or graceful-timeout) and the margin, which is
 *     for what follows drain(): the stack and deadlock watches' 2 s at
 *     most each, and Python's exit.  The parent, when it stops the
 *     process itself, sends SIGKILL a second after shutdown-timeout
 *     (supervisor.c); this bound is for the stops it does not end
 *     itself: a recycle's, and any after its death.
 * The earlier of the two counts.  mod_wsgi's daemons have the same kind
 * of thread for their shutdown-timeout.  Before it exits it logs one
 * line, a write to the error log (which blocks only on a piped logger
 * that stopped reading).
 */
#define WSL_DAEMON_EXIT_MARGIN apr_time_from_sec(5)

static void *watchdog(void *unused)
{
    const wsl_daemon_group *g = dp.group;
    apr_time_t orphan_by = 0, stop_by, now, by;
    struct timespec nap;

    (void)unused;
    for (;;) {
        now = wsl_clock_now();
        if (!orphan_by && getppid() != dp.parent) {
            orphan_by = now + g->shutdown_timeout + WSL_DAEMON_EXIT_MARGIN;
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, dp.server,
                         "WSL00215: daemon process %" APR_PID_T_FMT " of "
                         "WSGIDaemonProcess %s: its parent (pid %"
                         APR_PID_T_FMT ") is gone: it exits within %d s "
                         "(shutdown-timeout and %d s), whatever it is "
                         "doing", getpid(), g->name, dp.parent,
                         (int)apr_time_sec(orphan_by - now),
                         (int)apr_time_sec(WSL_DAEMON_EXIT_MARGIN));
        }
        stop_by = atomic_load_explicit(&dp.stop_by, memory_order_acquire);
        by = stop_by && (!orphan_by || stop_by < orphan_by) ? stop_by
                                                            : orphan_by;
        if (by && now >= by) {
            if (by == orphan_by)
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, dp.server,
                             "WSL00215: daemon process %" APR_PID_T_FMT
                             " of WSGIDaemonProcess %s did not end within "
                             "%d s of its parent's death: exiting",
                             getpid(), g->name,
                             (int)apr_time_sec(g->shutdown_timeout +
                                               WSL_DAEMON_EXIT_MARGIN));
            else
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, dp.server,
                             "WSL00215: daemon process %" APR_PID_T_FMT
                             " of WSGIDaemonProcess %s did not end within "
                             "%d s of its stop (its requests' %d s and %d "
                             "s for Python's exit): exiting", getpid(),
                             g->name,
                             (int)apr_time_sec(dp.stop_grace +
                                               WSL_DAEMON_EXIT_MARGIN),
                             (int)apr_time_sec(dp.stop_grace),
                             (int)apr_time_sec(WSL_DAEMON_EXIT_MARGIN));
            _exit(WSL_DAEMON_EXIT_RESTART);
        }
        /* A second, or to the deadline if it is nearer (a signal, such
         * as glibc's for setuid() in every thread, wakes it early). */
        by = by && by - now < APR_USEC_PER_SEC ? by - now : APR_USEC_PER_SEC;
        nap.tv_sec = (time_t)apr_time_sec(by);
        nap.tv_nsec = (long)apr_time_usec(by) * 1000;
        clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
    }
    return NULL;
}

static void start_watchdog(void)
{
    pthread_attr_t attr;
    pthread_t tid;
    int rv;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* It only logs: not the default 8 MiB (virtual-memory-limit counts
     * them). */
    pthread_attr_setstacksize(&attr, 256 * 1024);
    rv = pthread_create(&tid, &attr, watchdog, NULL);
    pthread_attr_destroy(&attr);
    if (rv != 0)
        fatal("cannot start its watchdog thread", rv);
}

void wsl_daemon_process_main(const wsl_daemon_group *group, int slot,
                             int half, pid_t replaces, int listen_fd,
                             int herald_fd, pid_t parent, apr_pool_t *pconf,
                             server_rec *main_server,
                             apr_interval_time_t delay)
{
    apr_pool_t *pchild;
    sigset_t stop_signals;
    struct timespec tick = { 1, 0 };
    const char *why = NULL;
    apr_interval_time_t grace;
    wsl_board_slot *bs;
    siginfo_t info;
    int sig = 0, i, late_left = 0;
    static const int reset[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2,
                                 SIGCHLD, SIGALRM, SIGWINCH, SIGQUIT };

    dp.group = group;
    dp.server = main_server;
    dp.listen_fd = listen_fd;
    dp.herald_fd = herald_fd;
    dp.parent = parent;
    /* Before any thread is started that waits on them. */
    wsl_clock_cond_init(&dp.idle_cond);
    wsl_clock_cond_init(&dp.gil_watch_cond);
    apr_pool_create(&dp.pool, pconf);
    /* Never outlive the parent, even one killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    /* A process group of its own: the signals the MPM sends its children
     * through theirs (prefork's graceful SIGUSR1, its SIGTERM at a stop)
     * are not for daemons, which the supervisor stops itself. */
    setpgid(0, 0);
    if (getppid() != parent)
        _exit(0);
    /* The slot's entry is this process's from now (the parent emptied it
     * when the last one ended). */
    if ((bs = wsl_board_slot_of(group->index, slot))) {
        dp.board = &bs->half[half & 1];
        dp.sibling = &bs->half[!(half & 1)];
        wsl_board_set_text(&dp.board->why, "");
        atomic_store_explicit(&dp.board->wants_replacement, 0,
                              memory_order_relaxed);
        atomic_store_explicit(&dp.board->served, 0, memory_order_relaxed);
        /* A time of day, as process_metrics() shows it; began is for
         * the uptime and for which half began last. */
        atomic_store_explicit(&dp.board->started, apr_time_now(),
                              memory_order_relaxed);
        atomic_store_explicit(&dp.board->began, wsl_clock_now(),
                              memory_order_relaxed);
        atomic_store_explicit(&dp.board->pid, (int)getpid(),
                              memory_order_relaxed);
        board_state(WSL_BOARD_STARTING);
    }
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    sigaddset(&stop_signals, SIGUSR1);
    sigaddset(&stop_signals, SIGUSR2);   /* its replacement serves */
    sigaddset(&stop_signals, SIGWINCH);  /* Apache restarts gracefully */
    /* Every thread made from here on (workers, the application's) has
     * them blocked: only sigtimedwait below takes them.  Blocked before
     * the parent's handlers are undone, so that none arriving between
     * the two takes its default action (the end of the process). */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* The parent's handlers would act on the parent's state. */
    for (i = 0; i < (int)(sizeof(reset) / sizeof(reset[0])); i++)
        apr_signal(reset[i], SIG_DFL);
    apr_signal(SIGPIPE, SIG_IGN);
    /* With the stop signals blocked, as every thread after it. */
    start_watchdog();
    ap_close_listeners();
    if (delay) {
        /* The back-off is waited for the stop signals, which are blocked
         * now: asleep, a process would outlive a stop (SIGTERM) or its
         * killed parent (the death signal) by the whole delay. */
        struct timespec wait = { (time_t)apr_time_sec(delay),
                                 (long)apr_time_usec(delay) * 1000 };

        if (sigtimedwait(&stop_signals, NULL, &wait) > 0 ||
            getppid() != parent)
            _exit(WSL_DAEMON_EXIT_RESTART);
    }
    set_display_name(group, main_server);
    become_user(group);

    apr_pool_create(&pchild, dp.pool);
    /* The main thread's own, allocator and all: workers allocate from
     * pchild's family as they make application groups. */
    if (apr_pool_create_unmanaged_ex(&dp.watch_pool, NULL, NULL) !=
        APR_SUCCESS)
        fatal("cannot make a pool", 0);
    wsl_process_set_daemon(group);
    if (!wsl_child_init(pchild, main_server))
        fatal("Python did not start (see above)", 0);
    wsl_script_preload(main_server, pchild);
    start_threads();
    dp.gil_watch_began = wsl_clock_now();
    if (group->deadlock_timeout &&
        pthread_create(&dp.gil_watch, NULL, gil_watch, NULL) == 0)
        dp.gil_watching = 1;
    pthread_mutex_lock(&dp.lock);
    if (!dp.stopping && !dp.handing_over)
        board_state(WSL_BOARD_SERVING);
    pthread_mutex_unlock(&dp.lock);
    /* A replacement: the process it replaces (the parent said which) may
     * stop now, if it still waits for it (its half still has its pid:
     * the parent empties it when it reaps it, so the pid is not another
     * process's). */
    if (replaces > 0 && dp.sibling &&
        atomic_load_explicit(&dp.sibling->pid, memory_order_relaxed) ==
            (int)replaces &&
        atomic_load_explicit(&dp.sibling->wants_replacement,
                             memory_order_relaxed)) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_server,
                     "WSL00189: daemon process %" APR_PID_T_FMT " of "
                     "WSGIDaemonProcess %s serving in place of %"
                     APR_PID_T_FMT, getpid(), group->name, replaces);
        kill(replaces, SIGUSR2);
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_server,
                 "WSL00189: daemon process %" APR_PID_T_FMT " of "
                 "WSGIDaemonProcess %s (%d of %d) serving, %d threads",
                 getpid(), group->name, slot + 1, group->processes,
                 group->threads);

    /* check_limits()'s timeouts are seconds; a tenth of one is close
     * enough. */
    if (group->request_timeout || group->restart_interval ||
        group->inactivity_timeout) {
        tick.tv_sec = 0;
        tick.tv_nsec = 100 * 1000 * 1000;
    }
    while (!sig && !why) {
        sig = sigtimedwait(&stop_signals, &info, &tick);
        if (sig == SIGUSR2) {
            /* Only its replacement's word counts (an application's stray
             * os.kill does not end a hand-over). */
            if (dp.sibling && info.si_pid > 0 &&
                atomic_load_explicit(&dp.sibling->pid, memory_order_relaxed)
                    == (int)info.si_pid)
                why = handover_due(1);
            sig = 0;
            continue;
        }
        if (sig == SIGWINCH) {
            /* Apache's graceful restart (supervisor.c): the next
             * configuration's processes take over its socket, and its
             * running requests get graceful-timeout, as a recycle's. */
            pthread_mutex_lock(&dp.lock);
            if (!dp.stopping)
                stop_for("Apache restarts gracefully", 1);
            why = dp.restart_why;
            pthread_mutex_unlock(&dp.lock);
            sig = 0;
            continue;
        }
        if (sig == SIGUSR1 && group->eviction_timeout) {
            /* mod_wsgi's eviction: a graceful restart that goes on
             * taking requests until none runs, or eviction-timeout. */
            pthread_mutex_lock(&dp.lock);
            /* A process handing over is on its way out already. */
            if (!dp.evict_until && !dp.stopping && !dp.handing_over) {
                dp.evict_until = wsl_clock_now() + group->eviction_timeout;
                board_state(WSL_BOARD_EVICTING);
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_server,
                             "WSL00189: daemon process %" APR_PID_T_FMT
                             " of WSGIDaemonProcess %s evicted (SIGUSR1): "
                             "serving until no request runs, "
                             "eviction-timeout=%d at most", getpid(),
                             group->name,
                             (int)apr_time_sec(group->eviction_timeout));
            }
            pthread_mutex_unlock(&dp.lock);
            tick.tv_sec = 0;
            tick.tv_nsec = 100 * 1000 * 1000;
            sig = -1;
        }
        if (sig < 0) {
            sig = 0;
            if (getppid() != parent)
                sig = SIGTERM;
            else if (!(why = check_limits(dp.watch_pool)))
                why = handover_due(0);
        }
    }
    pthread_mutex_lock(&dp.lock);
    /* No request is taken from now (a signal left it to drain()): a
     * worker must not ask for a replacement meanwhile. */
    if (!dp.stopping)
        begin_stopping();
    why = dp.restart_why;
    /* A recycle of its own gives its requests graceful-timeout, and
     * Apache's shutdown-timeout bounds a stop. */
    grace = dp.recycle && group->graceful_timeout ? group->graceful_timeout
                                                  : group->shutdown_timeout;
    pthread_mutex_unlock(&dp.lock);
    /* The whole stop is bounded (the watchdog), Python's exit included. */
    dp.stop_grace = grace;
    atomic_store_explicit(&dp.stop_by,
                          wsl_clock_now() + grace + WSL_DAEMON_EXIT_MARGIN,
                          memory_order_release);
    if (!why)
        why = sig == SIGINT ? "SIGINT: a restart asked for"
              : sig == SIGTERM ? "SIGTERM: Apache stops or restarts"
              : sig == SIGUSR1 ? "SIGUSR1: a graceful restart asked for"
              : "SIGHUP: a restart asked for";
    if (dp.board)
        wsl_board_set_text(&dp.board->why, why);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_server,
                 "WSL00189: daemon process %" APR_PID_T_FMT " of "
                 "WSGIDaemonProcess %s stopping (%s)", getpid(), group->name,
                 why);
    if (!drain(grace, &late_left)) {
        /* A request still runs Python: finalising under it would crash.
         * A stack being taken gets a moment to reach the log (it waits
         * for the GIL of the very thread that is stuck, and may never). */
        stacks_wait(apr_time_from_sec(2));
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     "WSL00189: daemon process %" APR_PID_T_FMT " of "
                     "WSGIDaemonProcess %s: requests still running after "
                     "%s; exiting without finalising Python",
                     getpid(), group->name,
                     late_left ? "request-timeout (stuck)"
                     : grace == group->graceful_timeout && dp.recycle
                     ? "graceful-timeout" : "shutdown-timeout");
        _exit(WSL_DAEMON_EXIT_RESTART);
    }
    board_state(WSL_BOARD_STOPPING);
    if (!gil_watch_stop()) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     "WSL00189: daemon process %" APR_PID_T_FMT " of "
                     "WSGIDaemonProcess %s: a GIL is still held (the "
                     "deadlock watch waits for it); exiting without "
                     "finalising Python", getpid(), group->name);
        _exit(WSL_DAEMON_EXIT_RESTART);
    }
    apr_pool_destroy(pchild);
    _exit(WSL_DAEMON_EXIT_RESTART);
}
