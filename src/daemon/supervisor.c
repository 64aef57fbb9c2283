/*
 * supervisor.c: daemon process groups, from the Apache parent.
 *
 * Each configuration generation makes, for each WSGIDaemonProcess, one
 * listening UNIX socket and its processes=N processes, forked from the
 * parent (so they share its loaded configuration, as Apache's own
 * children do).  The parent keeps the listening socket: connections that
 * wait in its backlog survive a daemon process that dies or restarts,
 * and are accepted by the next one.
 *
 * The socket lives in a directory of its own, mode 0700 and owned by the
 * user Apache's children connect as (socket-user=, else Apache's User;
 * Apache's own uid when it is not started as root, as its children then):
 * no other local user can reach it, whatever WSGISocketPrefix names
 * (mod_wsgi's sockets once sat in a world-writable directory).  The
 * daemon checks each peer's credentials as well (process.c).
 *
 * Each process is an "other child" of the parent's (mod_cgid's way): the
 * MPM reports its death, and another is started, at once after a
 * requested restart, after a growing delay when processes keep dying
 * young (no fork storm).  The delay is the new process's to wait, so the
 * parent never sleeps.  When the configuration pool goes (a stop, a
 * restart of either kind) every process is sent SIGTERM, then SIGKILL
 * after shutdown-timeout; a daemon whose parent dies gets SIGTERM from
 * the kernel (PR_SET_PDEATHSIG), and its watchdog ends it within
 * shutdown-timeout and a few seconds whatever it is doing (process.c).
 */
#include "daemon.h"
#include "common/board.h"
#include "common/clock.h"
#include "process.h"

#include "ap_listen.h"
#include "http_main.h"
#include "ap_mpm.h"
#include "mpm_common.h"
#include "unixd.h"
#include "apr_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* A process that lived less than this died young: back off. */
#define WSL_DAEMON_YOUNG apr_time_from_sec(10)
#define WSL_DAEMON_BACKOFF_FIRST apr_time_from_msec(200)
#define WSL_DAEMON_BACKOFF_MAX apr_time_from_sec(30)

typedef struct daemon_slot daemon_slot;

/* A process of a slot: the slot's, or, while that one hands over to it,
 * its replacement.  The two use the slot's two halves in turn. */
typedef struct {
    daemon_slot *ds;
    int half;                   /* 0, 1: its half of the board's slot */
    apr_proc_t proc;
    int running;
    int registered;             /* an other child of APR's (unregistering
                                 * one that is not would crash) */
    apr_time_t started;         /* forked (wsl_clock_now()): the back-off
                                 * of one that dies young */
} daemon_proc;

struct daemon_slot {
    const wsl_daemon_group *group;
    int slot;                   /* 0 .. processes-1 */
    int listen_fd;
    daemon_proc procs[2];
    apr_interval_time_t backoff;    /* the next delay if it dies young */
};

/* This generation's processes, in pconf. */
static struct {
    apr_array_header_t *slots;  /* daemon_slot * */
    apr_array_header_t *fds;    /* int: every group's listening socket */
    apr_pool_t *pconf;
    server_rec *server;
    pid_t parent;
    int stopping;
    /* The herald: a process of the parent's that only waits on a pipe.
     * A daemon that wants its replacement started writes to the pipe;
     * the herald exits, and the MPM, which reaps the parent's children
     * once a second, has the parent run herald_ended(), where the
     * replacements are forked.  The parent has no other way to be woken
     * for a module (its loop sleeps in the MPM). */
    apr_proc_t herald;
    int herald_running, herald_registered;
    int herald_pipe[2];         /* -1: none (no replacement first) */
} sup = {
    /* Not 0: with no daemon group post_config never sets them, and
     * every Apache child closes them (wsl_daemon_child_init). */
    .herald_pipe = { -1, -1 },
};

static int generation;

static void start_proc(daemon_proc *dpr, apr_interval_time_t delay,
                       pid_t replaces);
static void herald_start(void);

/*
 * The exit status, or the number of the signal that killed the process,
 * from what the other-child callback is given.  That is not always a
 * wait status: the MPM's main loop passes ap_wait_or_timeout's exit code
 * (the status or the signal's number, and not which), APR's
 * apr_proc_other_child_refresh (the MPM's, as it stops or restarts) the
 * wait status itself.  A wait status of an exit with a status other
 * than 0, or of a core dump, cannot be a signal's number; one of a
 * signal alone is its number either way.
 */
static int end_code(apr_wait_t status)
{
    if (status > 255 && WIFEXITED(status))
        return WEXITSTATUS(status);
    if (status > 128 && status < 256 && WIFSIGNALED(status))
        return WTERMSIG(status);
    return status;
}

/* What a process's end says, for the log (code: end_code's).  The
 * daemon's own exits are numbered above any signal; any other end below
 * NSIG is told both ways. */
/* In buf, not a pool: the parent says this once per process end, for
 * as long as a configuration lives. */
#define WSL_EXIT_TEXT 96

static const char *exit_text(char buf[WSL_EXIT_TEXT], int reason, int code)
{
    if (reason == APR_OC_REASON_LOST)
        return "was lost";
    switch (code) {
    case WSL_DAEMON_EXIT_RESTART:
        return "restarted";
    case WSL_DAEMON_EXIT_FATAL:
        return "could not set itself up (see above)";
    }
    if (code > 0 && code < NSIG)
        apr_snprintf(buf, WSL_EXIT_TEXT, "was killed by signal %d (%s), or "
                     "exited with status %d", code,
                     apr_signal_description_get(code), code);
    else
        apr_snprintf(buf, WSL_EXIT_TEXT, "exited with status %d", code);
    return buf;
}

/* A process has ended: its slot's history keeps why (the process's own
 * words, else how it ended), and its half is emptied for the next. */
static void board_ended(daemon_proc *dpr, const char *how)
{
    wsl_board_slot *bs = wsl_board_slot_of(dpr->ds->group->index,
                                           dpr->ds->slot);
    wsl_board_proc *e;
    wsl_board_view v;

    if (!bs)
        return;
    e = &bs->half[dpr->half];
    wsl_board_read(bs, dpr->half, &v);
    wsl_board_set_text(&bs->last, v.pid == dpr->proc.pid && v.why[0]
                                  ? v.why : how);
    atomic_fetch_add_explicit(&bs->recycles, 1, memory_order_relaxed);
    atomic_store_explicit(&e->state, WSL_BOARD_EMPTY, memory_order_relaxed);
    atomic_store_explicit(&e->pid, 0, memory_order_relaxed);
    atomic_store_explicit(&e->active, 0, memory_order_relaxed);
    atomic_store_explicit(&e->queued, 0, memory_order_relaxed);
    atomic_store_explicit(&e->fresh, 0, memory_order_relaxed);
    atomic_store_explicit(&e->oldest_queued, 0, memory_order_relaxed);
    atomic_store_explicit(&e->wants_replacement, 0, memory_order_relaxed);
}

/* Whether the parent may start processes: not once Apache stops or
 * restarts (it signals its whole process group, daemons included, and
 * stop_all follows), as in mod_wsgi. */
static int may_start(void)
{
    int mpm_state;

    return !sup.stopping &&
           ap_mpm_query(AP_MPMQ_MPM_STATE, &mpm_state) == APR_SUCCESS &&
           mpm_state != AP_MPMQ_STOPPING;
}

static void maintenance(int reason, void *data, apr_wait_t status)
{
    daemon_proc *dpr = data, *other = &dpr->ds->procs[!dpr->half];
    daemon_slot *ds = dpr->ds;
    apr_interval_time_t delay = 0;
    char text[WSL_EXIT_TEXT], wait_text[32] = "";
    const char *how;
    int requested, code;

    switch (reason) {
    case APR_OC_REASON_RESTART:
        /* Only ap_reclaim_child_processes says this: Apache is stopping
         * or restarting, and the pool cleanup below stops the daemons;
         * one that ends meanwhile is not replaced. */
        sup.stopping = 1;
        break;
    case APR_OC_REASON_UNREGISTER:
        dpr->registered = 0;
        break;
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(dpr);
        dpr->running = 0;
        if (!may_start())
            return;
        code = end_code(status);
        requested = reason == APR_OC_REASON_DEATH &&
                    code == WSL_DAEMON_EXIT_RESTART;
        how = exit_text(text, reason, code);
        board_ended(dpr, how);
        /* One that failed to fork once is tried again here. */
        if (!sup.herald_running)
            herald_start();
        if (!requested && wsl_clock_now() - dpr->started < WSL_DAEMON_YOUNG) {
            delay = ds->backoff;
            ds->backoff = ds->backoff * 2 > WSL_DAEMON_BACKOFF_MAX
                          ? WSL_DAEMON_BACKOFF_MAX : ds->backoff * 2;
        }
        else {
            ds->backoff = WSL_DAEMON_BACKOFF_FIRST;
        }
        if (delay)
            apr_snprintf(wait_text, sizeof(wait_text), "%.1f s",
                         (double)delay / APR_USEC_PER_SEC);
        if (other->running) {
            wsl_board_slot *bs = wsl_board_slot_of(ds->group->index,
                                                   ds->slot);
            int replacing = dpr->started > other->started;

            /* A process that handed over (or died handing over): its
             * replacement serves.  Or the replacement died while the one
             * it was to replace serves on: another is started for it,
             * after the back-off if it died young (no fork storm). */
            ap_log_error(APLOG_MARK, requested ? APLOG_INFO : APLOG_ERR, 0,
                         sup.server,
                         "WSL00181: daemon process %" APR_PID_T_FMT " of "
                         "WSGIDaemonProcess %s %s; %s %" APR_PID_T_FMT
                         " serves%s", dpr->proc.pid, ds->group->name,
                         how, replacing ? "the process it was to replace,"
                                   : "its replacement,",
                         other->proc.pid, replacing ? " on" : "");
            /* ... and may itself want a replacement, which
             * start_replacements() left while this half was taken. */
            if (bs && atomic_load_explicit(&bs->half[other->half]
                                                .wants_replacement,
                                           memory_order_relaxed))
                start_proc(dpr, replacing ? delay : 0, other->proc.pid);
            return;
        }
        ap_log_error(APLOG_MARK, requested ? APLOG_INFO : APLOG_ERR, 0,
                     sup.server,
                     "WSL00181: daemon process %" APR_PID_T_FMT " of "
                     "WSGIDaemonProcess %s %s; starting another%s%s",
                     dpr->proc.pid, ds->group->name,
                     how, delay ? " in " : "", wait_text);
        start_proc(dpr, delay, 0);
        break;
    default:
        /* UNWRITABLE, RUNNING: nothing to do. */
        break;
    }
}

static void start_proc(daemon_proc *dpr, apr_interval_time_t delay,
                       pid_t replaces)
{
    daemon_slot *ds = dpr->ds;
    apr_status_t rv;

    rv = apr_proc_fork(&dpr->proc, sup.pconf);
    if (rv == APR_INCHILD) {
        int i;

        /* Only the daemon's own socket stays open in it, and the
         * herald's pipe to write to. */
        for (i = 0; i < sup.fds->nelts; i++)
            if (APR_ARRAY_IDX(sup.fds, i, int) != ds->listen_fd)
                close(APR_ARRAY_IDX(sup.fds, i, int));
        if (sup.herald_pipe[0] >= 0)
            close(sup.herald_pipe[0]);
        wsl_daemon_process_main(ds->group, ds->slot, dpr->half, replaces,
                                ds->listen_fd, sup.herald_pipe[1],
                                sup.parent, sup.pconf, sup.server, delay);
    }
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_ALERT, rv, sup.server,
                     "WSL00182: WSGIDaemonProcess %s: cannot fork a daemon "
                     "process", ds->group->name);
        return;
    }
    dpr->running = 1;
    dpr->started = wsl_clock_now();
    apr_proc_other_child_register(&dpr->proc, maintenance, dpr, NULL,
                                  sup.pconf);
    dpr->registered = 1;
}

/* The herald has ended: each process that asked for its replacement
 * (board.h's wants_replacement) gets it, in its slot's other half; then
 * another herald waits. */
static void start_replacements(void)
{
    int i, h;

    for (i = 0; i < sup.slots->nelts; i++) {
        daemon_slot *ds = APR_ARRAY_IDX(sup.slots, i, daemon_slot *);
        wsl_board_slot *bs = wsl_board_slot_of(ds->group->index, ds->slot);

        for (h = 0; bs && h < 2; h++) {
            daemon_proc *dpr = &ds->procs[h], *next = &ds->procs[!h];

            if (!dpr->running || next->running ||
                !atomic_load_explicit(&bs->half[h].wants_replacement,
                                      memory_order_relaxed) ||
                atomic_load_explicit(&bs->half[h].pid,
                                     memory_order_relaxed) != dpr->proc.pid)
                continue;
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, sup.server,
                         "WSL00181: daemon process %" APR_PID_T_FMT " of "
                         "WSGIDaemonProcess %s is recycled: starting its "
                         "replacement first", dpr->proc.pid,
                         ds->group->name);
            start_proc(next, 0, dpr->proc.pid);
        }
    }
}

static void herald_ended(int reason, void *data, apr_wait_t status)
{
    (void)data;
    (void)status;
    switch (reason) {
    case APR_OC_REASON_RESTART:
        sup.stopping = 1;
        break;
    case APR_OC_REASON_UNREGISTER:
        sup.herald_registered = 0;
        break;
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(&sup.herald);
        sup.herald_running = 0;
        if (!may_start())
            return;
        /* What woke it: drained, so the next herald waits. */
        {
            char buf[64];

            while (read(sup.herald_pipe[0], buf, sizeof(buf)) > 0)
                ;
        }
        start_replacements();
        herald_start();
        break;
    default:
        break;
    }
}

/* Its pipe closed, when there is one. */
static void herald_pipe_close(void)
{
    if (sup.herald_pipe[0] >= 0) {
        close(sup.herald_pipe[0]);
        close(sup.herald_pipe[1]);
        sup.herald_pipe[0] = sup.herald_pipe[1] = -1;
    }
}

static void herald_start(void)
{
    apr_status_t rv;

    if (sup.herald_pipe[0] < 0)
        return;
    rv = apr_proc_fork(&sup.herald, sup.pconf);
    if (rv == APR_INCHILD) {
        struct pollfd wait = { sup.herald_pipe[0], POLLIN, 0 };

        /* It waits: a byte in the pipe (left for the parent to read),
         * or its parent's death, ends it.  poll, as the pipe is
         * non-blocking for the parent, whose open file it shares. */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != sup.parent)
            _exit(0);
        /* Not to be taken for one of Apache's children (ps, and whoever
         * counts them by their command line). */
        wsl_daemon_set_title(sup.server, "(wsgi-herald)");
        while (poll(&wait, 1, -1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, sup.server,
                     "WSL00182: cannot fork the daemon processes' herald: a "
                     "recycled process stops before its replacement starts");
        return;
    }
    sup.herald_running = 1;
    /* Its data is what unregistering finds it by (APR crashes on one it
     * cannot find). */
    apr_proc_other_child_register(&sup.herald, herald_ended, &sup.herald,
                                  NULL, sup.pconf);
    sup.herald_registered = 1;
}

/*
 * Apache's graceful restart keeps each group's socket for the next
 * configuration: connections waiting in it, and requests the stopping
 * processes send back, are taken by the next generation's processes of
 * the group of the same name (make_socket), never refused.
 *
 * Nothing of this module's own outlives a restart: mod_so unloads the
 * module with the configuration pool and loads it again, so its static
 * variables start afresh and its functions may be mapped elsewhere.  The
 * list therefore hangs off ap_pglobal (userdata: plain data, malloc'd,
 * no function pointer), and the processes left finishing their requests
 * are given to the MPM (ap_register_extra_mpm_process), which reaps
 * them and stops them with Apache, rather than registered as other
 * children with a callback that the next load would leave dangling.
 * Before, each restart lost the list and made a new socket at the same
 * path: the few requests sent in the moment between the old processes'
 * stop and the new socket's bind waited in the old socket, which no
 * process read, until request-timeout (soak/daemon.py found them).
 */
typedef struct kept_socket {
    char *path, *group;
    uid_t uid;
    int fd;
    struct kept_socket *next;
} kept_socket;

#define WSL_KEPT_KEY "mod_wsgi_lite:kept-daemon-sockets"

static int keeping;             /* stop_all kept the sockets: do not
                                 * unlink them */

/* The head of the list, in ap_pglobal (made on first use). */
static kept_socket **kept_list(void)
{
    void *head = NULL;

    apr_pool_userdata_get(&head, WSL_KEPT_KEY, ap_pglobal);
    if (!head) {
        head = apr_pcalloc(ap_pglobal, sizeof(kept_socket *));
        apr_pool_userdata_set(head, WSL_KEPT_KEY, apr_pool_cleanup_null,
                              ap_pglobal);
    }
    return head;
}

/* Whether this configuration goes for a graceful restart (SIGUSR1), not
 * a stop or a restart (SIGHUP).  The configuration is destroyed for a
 * restart, the process is exiting for a stop; the MPM's own pconf
 * cleanup (unixd.c's unset_signals, registered after this module's) has
 * already turned "restart pending, not ungraceful" into was_graceful. */
static int graceful_restart(void)
{
    ap_unixd_mpm_retained_data *mpm = ap_unixd_mpm_get_retained_data();

    return mpm && ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_DESTROY_CONFIG
           && (mpm->was_graceful ||
               (mpm->restart_pending && !mpm->is_ungraceful));
}

/* A graceful restart: each process is told (SIGWINCH) to take no more
 * requests and finish those it runs within graceful-timeout, and is left
 * to do so while the next configuration starts (the MPM reaps it, and
 * stops it with Apache); the sockets are kept for the next generation. */
static void stop_all_gracefully(void)
{
    kept_socket **kept = kept_list();
    ap_generation_t gen = 0;
    int i, h;

    ap_mpm_query(AP_MPMQ_GENERATION, &gen);

    for (i = 0; i < sup.slots->nelts; i++) {
        daemon_slot *ds = APR_ARRAY_IDX(sup.slots, i, daemon_slot *);

        for (h = 0; h < 2; h++) {
            daemon_proc *dpr = &ds->procs[h];

            if (!dpr->running)
                continue;
            if (dpr->registered)
                apr_proc_other_child_unregister(dpr);
            dpr->running = 0;
            kill(dpr->proc.pid, SIGWINCH);
            ap_register_extra_mpm_process(dpr->proc.pid, gen);
        }
    }
    for (i = 0; i < sup.slots->nelts; i++) {
        daemon_slot *ds = APR_ARRAY_IDX(sup.slots, i, daemon_slot *);
        kept_socket *k;

        /* One per group: its slot 0. */
        if (ds->slot != 0 || !ds->group->socket_path ||
            !(k = calloc(1, sizeof(*k))))
            continue;
        k->path = strdup(ds->group->socket_path);
        k->group = strdup(ds->group->name);
        if (!k->path || !k->group) {
            free(k->path);
            free(k->group);
            free(k);
            continue;
        }
        k->uid = ds->group->peer_uid;
        k->fd = ds->listen_fd;
        k->next = *kept;
        *kept = k;
    }
    keeping = 1;
}

/* post_config: the kept socket of a group of that name and peer, taken
 * out of the list; NULL if none. */
static kept_socket *take_kept(const wsl_daemon_group *g)
{
    kept_socket **link, *k;

    for (link = kept_list(); (k = *link); link = &k->next)
        if (!strcmp(k->group, g->name) && k->uid == g->peer_uid) {
            *link = k->next;
            return k;
        }
    return NULL;
}

/* post_config, once every group has its socket: those of groups gone
 * from the configuration are closed and removed. */
static void drop_kept(void)
{
    kept_socket **kept = kept_list();

    while (*kept) {
        kept_socket *k = *kept;

        *kept = k->next;
        close(k->fd);
        unlink(k->path);
        free(k->path);
        free(k->group);
        free(k);
    }
}

/* The configuration is going (stop, restart): every process of this
 * generation gets SIGTERM, and SIGKILL once shutdown-timeout has passed;
 * for a graceful restart, stop_all_gracefully(). */
static apr_status_t stop_all(void *data)
{
    apr_interval_time_t longest = 0;
    apr_time_t deadline;
    int i, h, left;

    (void)data;
    if (getpid() != sup.parent)
        return APR_SUCCESS;     /* a forked process never stops them */
    sup.stopping = 1;
    if (sup.herald_running) {
        if (sup.herald_registered)
            apr_proc_other_child_unregister(&sup.herald);
        kill(sup.herald.pid, SIGKILL);
        waitpid(sup.herald.pid, NULL, 0);
        sup.herald_running = 0;
    }
    herald_pipe_close();
    if (graceful_restart()) {
        stop_all_gracefully();
        return APR_SUCCESS;
    }
    for (i = 0; i < sup.slots->nelts; i++) {
        daemon_slot *ds = APR_ARRAY_IDX(sup.slots, i, daemon_slot *);

        for (h = 0; h < 2; h++) {
            daemon_proc *dpr = &ds->procs[h];

            if (!dpr->running)
                continue;
            if (dpr->registered)
                apr_proc_other_child_unregister(dpr);
            kill(dpr->proc.pid, SIGTERM);
            if (ds->group->shutdown_timeout > longest)
                longest = ds->group->shutdown_timeout;
        }
    }
    /* The processes' own bound, and a second for Python's exit. */
    deadline = wsl_clock_now() + longest + apr_time_from_sec(1);
    do {
        left = 0;
        for (i = 0; i < sup.slots->nelts; i++) {
            daemon_slot *ds = APR_ARRAY_IDX(sup.slots, i, daemon_slot *);

            for (h = 0; h < 2; h++) {
                daemon_proc *dpr = &ds->procs[h];

                if (dpr->running) {
                    if (waitpid(dpr->proc.pid, NULL, WNOHANG) != 0)
                        dpr->running = 0;
                    else
                        left++;
                }
            }
        }
        if (left)
            apr_sleep(apr_time_from_msec(10));
    } while (left && wsl_clock_now() < deadline);
    for (i = 0; i < sup.slots->nelts; i++) {
        daemon_slot *ds = APR_ARRAY_IDX(sup.slots, i, daemon_slot *);

        for (h = 0; h < 2; h++) {
            daemon_proc *dpr = &ds->procs[h];

            if (!dpr->running)
                continue;
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sup.server,
                         "WSL00183: daemon process %" APR_PID_T_FMT " of "
                         "WSGIDaemonProcess %s did not stop within its "
                         "shutdown-timeout: killed", dpr->proc.pid,
                         ds->group->name);
            kill(dpr->proc.pid, SIGKILL);
            waitpid(dpr->proc.pid, NULL, 0);
            dpr->running = 0;
        }
    }
    for (i = 0; i < sup.fds->nelts; i++)
        close(APR_ARRAY_IDX(sup.fds, i, int));
    return APR_SUCCESS;
}

static apr_status_t unlink_socket(void *path)
{
    if (getpid() == sup.parent && !keeping)
        unlink(path);
    return APR_SUCCESS;
}

/* The directory of the sockets Apache's children reach as uid: made (or
 * taken over) mode 0700, owned by uid, never through a symbolic link. */
static const char *socket_dir(apr_pool_t *p, server_rec *s, uid_t uid)
{
    const char *dir = apr_psprintf(p, "%s.%" APR_PID_T_FMT ".u%ld",
                                   wsl_daemon_socket_prefix(p), getpid(),
                                   (long)uid);
    struct stat st;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s,
                     "WSL00184: cannot make the daemon socket directory "
                     "'%s' (WSGISocketPrefix)", dir);
        return NULL;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
        (st.st_uid != uid && st.st_uid != geteuid()) ||
        chown(dir, uid, (gid_t)-1) < 0 || chmod(dir, 0700) < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s,
                     "WSL00184: '%s' is not a directory of root's or of "
                     "uid %ld, or cannot be made private to it: refusing "
                     "to put daemon sockets there", dir, (long)uid);
        return NULL;
    }
    return dir;
}

/* The listening socket of group g; -1 (logged) on failure. */
static int make_socket(apr_pool_t *pconf, server_rec *s,
                       wsl_daemon_group *g)
{
    struct sockaddr_un addr;
    const char *dir, *path;
    kept_socket *k;
    int fd;

    /* socket-user= (and User) apply when Apache starts as root; otherwise
     * its children are this very user.  The daemons check their peers
     * against the same uid (process.c). */
    g->peer_uid = geteuid() == 0 ? g->socket_uid : geteuid();
    if (!(dir = socket_dir(pconf, s, g->peer_uid)))
        return -1;
    if ((k = take_kept(g))) {
        /* Apache restarted gracefully: the same socket, connections
         * waiting in it and all.  Its backlog is the first
         * configuration's (listen() again to change it). */
        g->socket_path = apr_pstrdup(pconf, k->path);
        fd = k->fd;
        free(k->path);
        free(k->group);
        free(k);
        listen(fd, g->listen_backlog);
        apr_pool_cleanup_register(pconf, (void *)g->socket_path,
                                  unlink_socket, apr_pool_cleanup_null);
        return fd;
    }
    path = apr_psprintf(pconf, "%s/%d.%d.sock", dir, generation, g->index);
    if (strlen(path) >= sizeof(addr.sun_path)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WSL00185: WSGIDaemonProcess %s: the socket path '%s' "
                     "is longer than a UNIX socket's %d bytes: set a "
                     "shorter WSGISocketPrefix", g->name, path,
                     (int)sizeof(addr.sun_path) - 1);
        return -1;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path);
    unlink(path);
    /* Non-blocking: the group's processes all wait on it, and one that
     * loses the race to accept must not block. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        chown(path, g->peer_uid, (gid_t)-1) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, g->listen_backlog) < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s,
                     "WSL00185: WSGIDaemonProcess %s: cannot listen on "
                     "'%s'", g->name, path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* The daemons inherit it through fork, not exec. */
    g->socket_path = path;
    apr_pool_cleanup_register(pconf, (void *)path, unlink_socket,
                              apr_pool_cleanup_null);
    return fd;
}

/* An Apache child only reads the board (mod_status) and never asks for a
 * replacement: the herald's pipe is closed and the board made
 * read-only, so that code running in a child (an embedded application,
 * another module) cannot forge a process's state or wake the parent. */
void wsl_daemon_child_init(void)
{
    herald_pipe_close();
    wsl_board_read_only();
}

int wsl_daemon_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *main_server)
{
    apr_array_header_t *groups = wsl_daemon_groups();
    apr_status_t rv;
    int i, n, *processes;

    if (!groups || !groups->nelts) {
        drop_kept();
        keeping = 0;
        sup.herald_pipe[0] = sup.herald_pipe[1] = -1;
        return OK;
    }
    generation++;
    keeping = 0;
    sup.slots = apr_array_make(pconf, 4, sizeof(daemon_slot *));
    sup.fds = apr_array_make(pconf, groups->nelts, sizeof(int));
    sup.pconf = pconf;
    sup.server = main_server;
    sup.parent = getpid();
    sup.stopping = 0;
    for (i = 0; i < groups->nelts; i++) {
        wsl_daemon_group *g = APR_ARRAY_IDX(groups, i, wsl_daemon_group *);
        int fd;

        /* An Apache not started as root changes no ids: its children and
         * its daemons all run as the user who started it, whatever User
         * (default "#-1") and socket-user say, and only that user may
         * connect (as in mod_wsgi, user= and group= then do nothing). */
        if (geteuid() != 0) {
            g->uid = g->socket_uid = geteuid();
            g->gid = getegid();
        }
        fd = make_socket(pconf, main_server, g);

        if (fd < 0)
            return HTTP_INTERNAL_SERVER_ERROR;
        APR_ARRAY_PUSH(sup.fds, int) = fd;
        for (n = 0; n < g->processes; n++) {
            daemon_slot *ds = apr_pcalloc(pconf, sizeof(*ds));

            ds->group = g;
            ds->slot = n;
            ds->listen_fd = fd;
            ds->backoff = WSL_DAEMON_BACKOFF_FIRST;
            ds->procs[0].ds = ds->procs[1].ds = ds;
            ds->procs[1].half = 1;
            APR_ARRAY_PUSH(sup.slots, daemon_slot *) = ds;
        }
    }
    processes = apr_palloc(ptemp, sizeof(int) * (apr_size_t)groups->nelts);
    for (i = 0; i < groups->nelts; i++) {
        wsl_daemon_group *g = APR_ARRAY_IDX(groups, i, wsl_daemon_group *);

        processes[g->index] = g->processes;
    }
    if ((rv = wsl_board_create(pconf, processes, groups->nelts))
        != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, main_server,
                     "WSL00203: no shared memory for the daemon processes' "
                     "status board: mod_status and server_metrics() will "
                     "not show them");
    for (i = 0; i < groups->nelts; i++) {
        struct stat st;

        if (fstat(APR_ARRAY_IDX(sup.fds, i, int), &st) == 0)
            wsl_board_set_socket(
                APR_ARRAY_IDX(groups, i, wsl_daemon_group *)->index,
                (unsigned long)st.st_ino);
    }
    drop_kept();
    /* Registered before the processes start, so it runs after the other
     * children's own cleanups are set (cleanups run last first). */
    apr_pool_cleanup_register(pconf, NULL, stop_all, apr_pool_cleanup_null);
    /* Without a board no one can ask for a replacement: no herald. */
    sup.herald_running = sup.herald_registered = 0;
    sup.herald_pipe[0] = sup.herald_pipe[1] = -1;
    if (rv == APR_SUCCESS &&
        pipe2(sup.herald_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, main_server,
                     "WSL00182: cannot make the daemon processes' herald "
                     "pipe: a recycled process stops before its replacement "
                     "starts");
        sup.herald_pipe[0] = sup.herald_pipe[1] = -1;
    }
    herald_start();
    for (i = 0; i < sup.slots->nelts; i++)
        start_proc(&APR_ARRAY_IDX(sup.slots, i, daemon_slot *)->procs[0], 0,
                   0);
    return OK;
}
