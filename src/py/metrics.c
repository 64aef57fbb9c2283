/*
 * metrics.c: what mod_wsgi counts, and reports through its module, in
 * embedded mode: a record per worker thread (its id, the requests it ran,
 * the running request's data for request_data()), the process's counters
 * (requests done and running, busy time), the request's id and its entry
 * in mod_wsgi.active_requests, and process_metrics(), server_metrics()
 * (Apache's scoreboard, and every daemon group from the status board)
 * and request_metrics() (timings per sample).
 *
 * The process's counters (proc, sample) are the process's, whichever
 * interpreter runs the request, and interpreters with a GIL of their own
 * (3.12+) run at once: they have a lock of their own, proc_lock, held for
 * a few additions or copies and never across a Python call (which could
 * collect garbage and run a __del__ that calls process_metrics()), so a
 * thread that holds it never waits for a GIL.  A thread's record is its
 * own, except its request_count, which process_metrics() reads from any
 * thread: atomic.  A request costs two clock reads, two lock round trips
 * and a few additions here; the per-sample timings are kept only once
 * request_metrics() has been called, as in mod_wsgi.
 *
 * Durations (busy time, running time, a sample's period, the
 * application's time) are counted on wsl_clock_now(), which a step of
 * the wall clock does not move; what is reported as a time of day (as
 * seconds since the epoch) is apr_time_now()'s, and so is the server
 * time, which counts from Apache's r->request_time.
 *
 * Not here: the events (events.c), the module's attributes (pymodule.c).
 */
#include "pymodule.h"
#include "common/board.h"
#include "common/memory.h"

#include "ap_mpm.h"
#include "scoreboard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <unistd.h>

struct wsl_thread_info {
    int thread_id;              /* 1, 2 ... in the order threads first
                                 * ran a request, as mod_wsgi numbers them;
                                 * its index in proc.threads + 1 */
    /* Applications called on this thread; written by it alone. */
    _Atomic(apr_int64_t) request_count;
    PyObject *request_data;     /* the running request's (its wsl_call
                                 * holds the reference); NULL in between */
};

static _Thread_local wsl_thread_info *thread_info;

/* mod_wsgi's time buckets per request_metrics() sample. */
#define WSL_TIME_BUCKETS 16

/* proc's and sample's, below (but proc.total, read per request by the
 * environ, is atomic). */
static pthread_mutex_t proc_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    server_rec *server;
    apr_time_t restart_time;        /* the child started (time of day) */
    apr_time_t restart_clock;       /* the same on wsl_clock_now() */
    int server_metrics;             /* WSGIServerMetrics On */
    wsl_thread_info **threads;      /* malloc'd, freed at child exit */
    int nthreads, capthreads;
    int active;                     /* requests running */
    _Atomic(apr_uint64_t) total;    /* requests done */
    double busy;                    /* request-seconds up to busy_last */
    apr_time_t busy_last;           /* wsl_clock_now()'s */
    apr_uint64_t id_seq;            /* ids when no generator gave one */
} proc;

/* request_metrics(): what is summed between two calls. */
typedef struct {
    int enabled;                    /* the first call happened */
    double start_time, start_busy, start_user, start_system;
    apr_time_t start_clock;         /* start_time on wsl_clock_now() */
    apr_uint64_t start_count;
    apr_uint64_t samples;
    double server_total, application_total;
    int server_buckets[WSL_TIME_BUCKETS];
    int application_buckets[WSL_TIME_BUCKETS];
    int *thread_buckets;            /* by thread_id - 1; malloc'd */
    int threads_max;
} wsl_sample;

static wsl_sample sample;

int wsl_mpm_threads_per_process(void)
{
    int threaded = AP_MPMQ_NOT_SUPPORTED, threads = 0;

    ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
    if (threaded != AP_MPMQ_NOT_SUPPORTED)
        ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    return threads > 0 ? threads : 1;
}

int wsl_mpm_maximum_processes(void)
{
    int forked = AP_MPMQ_NOT_SUPPORTED, procs = 0;

    ap_mpm_query(AP_MPMQ_IS_FORKED, &forked);
    if (forked != AP_MPMQ_NOT_SUPPORTED) {
        ap_mpm_query(AP_MPMQ_MAX_DAEMON_USED, &procs);
        if (procs == -1)
            ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &procs);
    }
    return procs > 0 ? procs : 1;
}

int wsl_process_threads(void)
{
    const wsl_daemon_group *group = wsl_process_daemon();

    return group ? group->threads : wsl_mpm_threads_per_process();
}

int wsl_process_processes(void)
{
    const wsl_daemon_group *group = wsl_process_daemon();

    return group ? group->processes : wsl_mpm_maximum_processes();
}

/* Child exit: the records are malloc'd (a pool would need a lock of its
 * own), and freed so that valgrind sees them freed, but only once Python
 * is finalised: otherwise an application thread may still call
 * process_metrics() or request_metrics() (interp.c's exit returns early
 * when a request thread is outside the GIL, as prefork's just_die). */
static apr_status_t metrics_child_exit(void *data)
{
    int i;

    if (Py_IsInitialized())
        return APR_SUCCESS;
    for (i = 0; i < proc.nthreads; i++)
        free(proc.threads[i]);
    free(proc.threads);
    proc.threads = NULL;
    proc.nthreads = proc.capthreads = 0;
    free(sample.thread_buckets);
    sample.thread_buckets = NULL;
    return APR_SUCCESS;
}

void wsl_metrics_child_init(apr_pool_t *pchild, server_rec *s)
{
    wsl_server_config *sconf =
        ap_get_module_config(s->module_config, &wsgi_lite_module);

    proc.server = s;
    proc.restart_time = apr_time_now();
    proc.restart_clock = wsl_clock_now();
    /* A daemon group's server-metrics=, else WSGIServerMetrics (as in
     * mod_wsgi). */
    proc.server_metrics =
        wsl_process_daemon() &&
        wsl_process_daemon()->server_metrics != WSL_UNSET
        ? wsl_process_daemon()->server_metrics
        : wsl_config_flag(sconf->server_metrics, 0);
    /* Registered before interp.c's exit cleanup, so it runs after it. */
    apr_pool_cleanup_register(pchild, NULL, metrics_child_exit,
                              apr_pool_cleanup_null);
}

/* mod_wsgi's utilisation: busy time is the integral of the number of
 * running requests over time.  `adjust` requests start (+1) or end (-1)
 * at `now` (wsl_clock_now()'s); returns the busy time so far and, in
 * *count, the requests done.  Caller holds proc_lock. */
static double utilization(apr_time_t now, int adjust, apr_uint64_t *count)
{
    if (proc.busy_last && now > proc.busy_last)
        proc.busy += proc.active * seconds(now - proc.busy_last);
    proc.busy_last = now;
    proc.active += adjust;
    if (adjust < 0)
        proc.total += (apr_uint64_t)-adjust;
    if (count)
        *count = proc.total;
    return proc.busy;
}

/* This thread's record, made on its first request. */
static wsl_thread_info *this_thread(void)
{
    wsl_thread_info *t = thread_info;

    if (t)
        return t;
    if (!(t = calloc(1, sizeof(*t))))
        return NULL;
    pthread_mutex_lock(&proc_lock);
    if (proc.nthreads == proc.capthreads) {
        int cap = proc.capthreads ? proc.capthreads * 2 : 16;
        wsl_thread_info **threads = realloc(proc.threads,
                                            (size_t)cap * sizeof(*threads));

        if (!threads) {
            pthread_mutex_unlock(&proc_lock);
            free(t);
            return NULL;
        }
        proc.threads = threads;
        proc.capthreads = cap;
    }
    t->thread_id = proc.nthreads + 1;
    proc.threads[proc.nthreads++] = t;
    pthread_mutex_unlock(&proc_lock);
    thread_info = t;
    return t;
}

/* An id for a request that has none (r->log_id unset). */
static apr_uint64_t next_request_id(void)
{
    apr_uint64_t id;

    pthread_mutex_lock(&proc_lock);
    id = ++proc.id_seq;
    pthread_mutex_unlock(&proc_lock);
    return id;
}

/* The module's active_requests dict (borrowed), if it still is one. */
static PyObject *active_requests(wsl_interp *interp)
{
    wsl_pymodule *pm = interp->pymodule;
    PyObject *dict;

    if (!pm)
        return NULL;
    dict = PyDict_GetItemWithError(pm->dict, pm->key[PM_ACTIVE_REQUESTS]);
    if (!dict)
        PyErr_Clear();
    return dict && PyDict_Check(dict) ? dict : NULL;
}

int wsl_metrics_request_begin(wsl_call *call)
{
    request_rec *r = call->r;
    wsl_thread_info *t = this_thread();
    PyObject *active;

    if (!t) {
        PyErr_NoMemory();
        wsl_log_python_error(r, call->interp, "setting up the request");
        return -1;
    }
    /* r->log_id: made by the handler before it took the GIL. */
    call->request_id = r->log_id
        ? PyUnicode_DecodeLatin1(r->log_id, strlen(r->log_id), NULL)
        : PyUnicode_FromFormat("%llu",
                               (unsigned long long)next_request_id());
    if (!call->request_id || !(call->request_data = PyDict_New())) {
        Py_CLEAR(call->request_id);
        wsl_log_python_error(r, call->interp, "setting up the request");
        return -1;
    }
    if ((active = active_requests(call->interp)) &&
        PyDict_SetItem(active, call->request_id, call->request_data) < 0)
        wsl_log_python_error(r, call->interp,
                             "adding the request to "
                             "mod_wsgi.active_requests");
    call->thread = t;
    call->outer_request_data = t->request_data;
    t->request_data = call->request_data;
    pthread_mutex_lock(&proc_lock);
    utilization(wsl_clock_now(), 1, NULL);
    pthread_mutex_unlock(&proc_lock);
    return 0;
}

void wsl_metrics_application_called(wsl_call *call)
{
    atomic_fetch_add_explicit(&call->thread->request_count, 1,
                              memory_order_relaxed);
}

/* mod_wsgi's bucket for a duration in seconds: <= 5 ms, <= 10 ms ...
 * <= 40.96 s, then one for anything longer (its 16th stays empty). */
static void count_in_bucket(int *buckets, double duration)
{
    double limit = 0.005;
    int i;

    for (i = 0; i < WSL_TIME_BUCKETS - 2; i++, limit *= 2) {
        if (duration <= limit) {
            buckets[i]++;
            return;
        }
    }
    buckets[WSL_TIME_BUCKETS - 2]++;
}

/* Seconds of each.  Caller holds proc_lock. */
static void record_times(double server, double application)
{
    sample.samples++;
    sample.server_total += server;
    sample.application_total += application;
    count_in_bucket(sample.server_buckets, server);
    count_in_bucket(sample.application_buckets, application);
}

void wsl_metrics_request_end(wsl_call *call, apr_time_t finish)
{
    wsl_thread_info *t = call->thread;
    PyObject *active;

    if (!t)
        return;
    if ((active = active_requests(call->interp)) &&
        PyDict_DelItem(active, call->request_id) < 0)
        PyErr_Clear();      /* the application took it out itself */
    t->request_data = call->outer_request_data;
    Py_CLEAR(call->request_data);
    Py_CLEAR(call->request_id);
    pthread_mutex_lock(&proc_lock);
    if (sample.enabled && call->app_start)
        /* Embedded mode has no queue or daemon time: from the request
         * to the application is all server time, from Apache's
         * request_time, a time of day, to app_start, one too. */
        record_times(seconds(call->app_start - call->r->request_time),
                     seconds(finish - call->app_clock));
    if (sample.thread_buckets && t->thread_id <= sample.threads_max)
        sample.thread_buckets[t->thread_id - 1]++;
    utilization(finish, -1, NULL);
    pthread_mutex_unlock(&proc_lock);
    call->thread = NULL;
}

int wsl_metrics_thread_id(const wsl_thread_info *thread)
{
    return thread->thread_id;
}

apr_int64_t wsl_metrics_thread_requests(const wsl_thread_info *thread)
{
    return atomic_load_explicit(&thread->request_count,
                                memory_order_relaxed);
}

apr_uint64_t wsl_metrics_total_requests(void)
{
    return atomic_load_explicit(&proc.total, memory_order_relaxed);
}

void wsl_metrics_thread_cpu(double *user, double *system)
{
    struct rusage ru;

    if (getrusage(RUSAGE_THREAD, &ru) < 0) {
        *user = *system = -1;
        return;
    }
    *user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *system = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

PyObject *wsl_py_request_data(PyObject *module, PyObject *unused)
{
    wsl_thread_info *t = thread_info;

    if (!t || !t->request_data) {
        PyErr_SetString(PyExc_RuntimeError, "no active request for thread");
        return NULL;
    }
    return Py_NewRef(t->request_data);
}

/* ------------------------------------------------------------------ */
/* process_metrics()                                                   */

static long long peak_rss(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? (long long)ru.ru_maxrss * 1024
                                            : 0;
}

static long long current_rss(void)
{
    wsl_memory m;

    wsl_memory_self(&m);
    return m.resident;
}

static void process_cpu(double *user, double *system)
{
    struct tms t;
    double tick = (double)sysconf(_SC_CLK_TCK);

    times(&t);
    *user = t.tms_utime / tick;
    *system = t.tms_stime / tick;
}

/* process_metrics()'s "threads" from the request counts copied under
 * the lock (counts[i] is thread i + 1's). */
static PyObject *thread_list(const apr_int64_t *counts, int n)
{
    PyObject *list = PyList_New(n);
    int i;

    for (i = 0; list && i < n; i++) {
        PyObject *entry = Py_BuildValue("{s:i,s:L}", "thread_id", i + 1,
                                        "request_count",
                                        (long long)counts[i]);

        if (!entry) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, entry);
    }
    return list;
}

/* Text from the status board: ours, but a torn read must not raise. */
static PyObject *board_text(const char *text)
{
    return PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
}

/* A daemon group as the status board (common/board.h) and mod_status
 * show it: each of its processes, and the connections waiting in its
 * socket for one of them. */
static PyObject *daemon_group_metrics(const wsl_daemon_group *g)
{
    /* The board's oldest_queued is wsl_clock_now()'s (board.h). */
    apr_time_t now = wsl_clock_now();
    PyObject *list = PyList_New(0);
    int slot, h;

    for (slot = 0; list && slot < g->processes; slot++) {
        wsl_board_slot *bs = wsl_board_slot_of(g->index, slot);
        int current = bs ? wsl_board_current(bs) : -1;

        /* The slot's process first, then one handing over to it. */
        for (h = 0; list && current >= 0 && h < 2; h++) {
            int half = h ? !current : current;
            wsl_board_view v;
            PyObject *entry;

            wsl_board_read(bs, half, &v);
            if (!v.pid)
                continue;
            entry = Py_BuildValue(
                "{s:i,s:i,s:s,s:O,s:d,s:L,s:i,s:i,s:d,s:L,s:N,s:N}",
                "process", slot + 1, "pid", v.pid,
                "state", wsl_board_state_name(v.state),
                "retiring", h ? Py_True : Py_False,
                "start_time", seconds(v.started),
                "request_count", (long long)v.served,
                "active_requests", v.active, "queued_requests", v.queued,
                "oldest_queued_age", v.oldest_queued && now > v.oldest_queued
                                     ? seconds(now - v.oldest_queued) : 0.0,
                "recycles", (long long)v.recycles,
                "last_recycle", board_text(v.last),
                "stopping_because", board_text(v.why));
            if (!entry || PyList_Append(list, entry) < 0)
                Py_CLEAR(list);
            Py_XDECREF(entry);
        }
    }
    if (!list)
        return NULL;
    return Py_BuildValue("{s:N,s:i,s:N}", "name", board_text(g->name),
                         "backlog",
                         wsl_socket_backlog(wsl_board_socket(g->index)),
                         "processes", list);
}

PyObject *wsl_py_process_metrics(PyObject *module, PyObject *unused)
{
    apr_uint64_t count;
    apr_time_t now = apr_time_now(), clock_now = wsl_clock_now();
    apr_int64_t *counts;
    double busy, user, system;
    int i, nthreads, active;
    PyObject *result;

    /* Copied under the lock, built into Python objects after it. */
    pthread_mutex_lock(&proc_lock);
    busy = utilization(clock_now, 0, &count);
    nthreads = proc.nthreads;
    active = proc.active;
    counts = malloc((size_t)(nthreads ? nthreads : 1) * sizeof(*counts));
    for (i = 0; counts && i < nthreads; i++)
        counts[i] = atomic_load_explicit(&proc.threads[i]->request_count,
                                         memory_order_relaxed);
    pthread_mutex_unlock(&proc_lock);
    if (!counts)
        return PyErr_NoMemory();
    process_cpu(&user, &system);
    result = Py_BuildValue("{s:i,s:d,s:K,s:L,s:L,s:d,s:d,s:d,s:d,s:L,s:i,"
                         "s:i,s:N}",
                         "pid", (int)getpid(),
                         "request_busy_time", busy,
                         "request_count", (unsigned long long)count,
                         "memory_max_rss", peak_rss(),
                         "memory_rss", current_rss(),
                         "cpu_user_time", user,
                         "cpu_system_time", system,
                         "restart_time", seconds(proc.restart_time),
                         "current_time", seconds(now),
                         "running_time",
                         (long long)((clock_now - proc.restart_clock)
                                     / APR_USEC_PER_SEC),
                         "request_threads", nthreads,
                         "active_requests", active,
                         "threads", thread_list(counts, nthreads));
    free(counts);
    /* In a daemon: its group, as mod_status shows it. */
    if (result && wsl_process_daemon() &&
        wsl_board_slot_of(wsl_process_daemon()->index, 0)) {
        PyObject *group = daemon_group_metrics(wsl_process_daemon());

        if (!group || PyDict_SetItemString(result, "daemon_group", group) < 0)
            Py_CLEAR(result);
        Py_XDECREF(group);
    }
    return result;
}

/* ------------------------------------------------------------------ */
/* server_metrics(): Apache's scoreboard, as mod_status reads it.      */

static const char *status_flag(int status)
{
    static const char *const flags[SERVER_NUM_STATUS] = {
        [SERVER_DEAD] = ".", [SERVER_STARTING] = "S", [SERVER_READY] = "_",
        [SERVER_BUSY_READ] = "R", [SERVER_BUSY_WRITE] = "W",
        [SERVER_BUSY_KEEPALIVE] = "K", [SERVER_BUSY_LOG] = "L",
        [SERVER_BUSY_DNS] = "D", [SERVER_CLOSING] = "C",
        [SERVER_GRACEFUL] = "G", [SERVER_IDLE_KILL] = "I",
    };

    return status >= 0 && status < SERVER_NUM_STATUS && flags[status]
           ? flags[status] : "?";
}

/* A scoreboard string field (a fixed array, written by other processes:
 * bounded, whatever it holds). */
static PyObject *field_str(const char *field, size_t size)
{
    return PyUnicode_DecodeLatin1(field, (Py_ssize_t)strnlen(field, size),
                                  NULL);
}

static PyObject *worker_dict(int process, int thread)
{
    worker_score *ws = ap_get_scoreboard_worker_from_indexes(process,
                                                             thread);

    if (!ws)
        Py_RETURN_NONE;
    return Py_BuildValue("{s:i,s:i,s:s,s:l,s:K,s:d,s:d,s:d,s:N,s:N,s:N}",
                         "thread_num", ws->thread_num,
                         "generation", (int)ws->generation,
                         "status", status_flag(ws->status),
                         "access_count", (long)ws->access_count,
                         "bytes_served",
                         (unsigned long long)ws->bytes_served,
                         "start_time", seconds(ws->start_time),
                         "stop_time", seconds(ws->stop_time),
                         "last_used", seconds(ws->last_used),
                         "client", field_str(ws->client,
                                             sizeof(ws->client)),
                         "request", field_str(ws->request,
                                              sizeof(ws->request)),
                         "vhost", field_str(ws->vhost, sizeof(ws->vhost)));
}

static PyObject *process_dict(int i, int thread_limit)
{
    process_score *ps = ap_get_scoreboard_process(i);
    PyObject *workers;
    int j;

    if (!ps)
        Py_RETURN_NONE;
    workers = PyList_New(thread_limit);

    for (j = 0; workers && j < thread_limit; j++) {
        PyObject *w = worker_dict(i, j);

        if (!w) {
            Py_CLEAR(workers);
            break;
        }
        PyList_SET_ITEM(workers, j, w);
    }
    if (!workers)
        return NULL;
    return Py_BuildValue("{s:i,s:i,s:i,s:O,s:N}", "process_num", i,
                         "pid", (int)ps->pid,
                         "generation", (int)ps->generation,
                         "quiescing", ps->quiescing ? Py_True : Py_False,
                         "workers", workers);
}

static PyObject *scoreboard_dict(global_score *gs, apr_time_t now)
{
    PyObject *processes = PyList_New(gs->server_limit);
    int i;

    for (i = 0; processes && i < gs->server_limit; i++) {
        PyObject *p = process_dict(i, gs->thread_limit);

        if (!p) {
            Py_CLEAR(processes);
            break;
        }
        PyList_SET_ITEM(processes, i, p);
    }
    if (!processes)
        return NULL;
    /* Apache's restart_time is a time of day: running_time counts from
     * it as mod_status does. */
    return Py_BuildValue("{s:i,s:i,s:i,s:d,s:d,s:L,s:N}",
                         "server_limit", gs->server_limit,
                         "thread_limit", gs->thread_limit,
                         "running_generation", (int)gs->running_generation,
                         "restart_time", seconds(gs->restart_time),
                         "current_time", seconds(now),
                         "running_time",
                         (long long)((now - gs->restart_time)
                                     / APR_USEC_PER_SEC),
                         "processes", processes);
}

/* Every WSGIDaemonProcess of the server (this process's configuration
 * generation), in definition order, each as daemon_group_metrics()
 * shows it: [] when there is none, None when there is no status board
 * (WSL00203).  The board is mapped in every Apache child (read-only)
 * and daemon. */
static PyObject *daemon_groups_metrics(void)
{
    const apr_array_header_t *groups = wsl_daemon_groups();
    PyObject *list;
    int i;

    if (!groups)
        return PyList_New(0);
    if (!wsl_board_slot_of(
            APR_ARRAY_IDX(groups, 0, const wsl_daemon_group *)->index, 0))
        Py_RETURN_NONE;
    list = PyList_New(groups->nelts);
    for (i = 0; list && i < groups->nelts; i++) {
        PyObject *g = daemon_group_metrics(
            APR_ARRAY_IDX(groups, i, const wsl_daemon_group *));

        if (!g) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, g);
    }
    return list;
}

/* Off (a daemon's server-metrics=, else WSGIServerMetrics): None, as in
 * mod_wsgi.  On: Apache's scoreboard where this process can read it,
 * and daemon_groups.  An Apache child always can; a daemon only when it
 * was forked after Apache made the scoreboard (the MPM does, after the
 * first configuration's post_config has forked the first daemons):
 * without it, current_time and daemon_groups alone.  With neither the
 * scoreboard nor a group to show (a daemon after WSL00203), None, as
 * mod_wsgi without a scoreboard. */
PyObject *wsl_py_server_metrics(PyObject *module, PyObject *unused)
{
    global_score *gs = NULL;
    apr_time_t now = apr_time_now();
    PyObject *groups, *result;

    if (!proc.server_metrics)
        Py_RETURN_NONE;
    if (ap_exists_scoreboard_image())
        gs = ap_get_scoreboard_global();
    if (!(groups = daemon_groups_metrics()))
        return NULL;
    if (!gs && (groups == Py_None || !PyList_GET_SIZE(groups))) {
        Py_DECREF(groups);
        Py_RETURN_NONE;
    }
    result = gs ? scoreboard_dict(gs, now)
                : Py_BuildValue("{s:d}", "current_time", seconds(now));
    if (result && PyDict_SetItemString(result, "daemon_groups", groups) < 0)
        Py_CLEAR(result);
    Py_DECREF(groups);
    return result;
}

/* ------------------------------------------------------------------ */
/* request_metrics(): the first call starts sampling and returns {};   */
/* each later one reports on the time since the previous call and      */
/* starts the next sample.                                             */

static PyObject *int_list(int *values, int n, int *nonzero)
{
    PyObject *list = PyList_New(n);
    int i;

    for (i = 0; list && i < n; i++) {
        PyObject *v = PyLong_FromLong(values ? values[i] : 0);

        if (!v) {
            Py_CLEAR(list);
            break;
        }
        if (nonzero && values && values[i])
            (*nonzero)++;
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

/* Start the next sample (the first, or after a report) at now, a time
 * of day in seconds, and clock_now (wsl_clock_now()).  Caller holds
 * proc_lock. */
static void sample_start(double now, apr_time_t clock_now, double busy,
                         apr_uint64_t count, double user, double system)
{
    sample.start_time = now;
    sample.start_clock = clock_now;
    sample.start_busy = busy;
    sample.start_count = count;
    sample.start_user = user;
    sample.start_system = system;
    sample.samples = 0;
    sample.server_total = sample.application_total = 0;
    memset(sample.server_buckets, 0, sizeof(sample.server_buckets));
    memset(sample.application_buckets, 0,
           sizeof(sample.application_buckets));
    memset(sample.thread_buckets, 0,
           (size_t)sample.threads_max * sizeof(int));
}

PyObject *wsl_py_request_metrics(PyObject *module, PyObject *unused)
{
    apr_uint64_t count, requests, samples;
    apr_time_t clock_now = wsl_clock_now();
    double busy, now = seconds(apr_time_now());
    double user, system, period, server_avg = 0, app_avg = 0;
    int threads_active = 0, threads_started, *threads;
    wsl_sample prev;
    PyObject *server_buckets, *app_buckets, *zeros, *zeros2, *thread_buckets;
    PyObject *result;

    process_cpu(&user, &system);
    /* The sample is copied and the next one started under the lock; the
     * report is built from the copy after it. */
    pthread_mutex_lock(&proc_lock);
    busy = utilization(clock_now, 0, &count);
    if (!sample.enabled) {
        int max = wsl_process_threads();

        if (!(sample.thread_buckets = calloc((size_t)max, sizeof(int)))) {
            pthread_mutex_unlock(&proc_lock);
            return PyErr_NoMemory();
        }
        sample.threads_max = max;
        sample.enabled = 1;
        sample_start(now, clock_now, busy, count, user, system);
        pthread_mutex_unlock(&proc_lock);
        return PyDict_New();
    }
    prev = sample;
    if (!(threads = malloc((size_t)prev.threads_max * sizeof(int)))) {
        pthread_mutex_unlock(&proc_lock);
        return PyErr_NoMemory();
    }
    memcpy(threads, sample.thread_buckets,
           (size_t)prev.threads_max * sizeof(int));
    threads_started = proc.nthreads;
    sample_start(now, clock_now, busy, count, user, system);
    pthread_mutex_unlock(&proc_lock);

    period = seconds(clock_now - prev.start_clock);
    requests = count - prev.start_count;
    samples = prev.samples;
    if (samples) {
        server_avg = prev.server_total / samples;
        app_avg = prev.application_total / samples;
    }
    server_buckets = int_list(prev.server_buckets, WSL_TIME_BUCKETS, NULL);
    app_buckets = int_list(prev.application_buckets, WSL_TIME_BUCKETS,
                           NULL);
    zeros = int_list(NULL, WSL_TIME_BUCKETS, NULL);
    zeros2 = int_list(NULL, WSL_TIME_BUCKETS, NULL);
    thread_buckets = int_list(threads, prev.threads_max, &threads_active);
    free(threads);
    result = (server_buckets && app_buckets && zeros && zeros2 &&
              thread_buckets)
        ? Py_BuildValue("{s:i,s:d,s:d,s:d,s:d,s:d,s:L,s:L,s:i,s:i,s:d,"
                        "s:K,s:d,s:O,s:O,s:O,s:O,s:O,s:i,s:d,s:O,s:O,s:d}",
                        "pid", (int)getpid(),
                        "start_time", prev.start_time,
                        "stop_time", now,
                        "sample_period", period,
                        "cpu_user_time", period > 0
                            ? (user - prev.start_user) / period : 0.0,
                        "cpu_system_time", period > 0
                            ? (system - prev.start_system) / period : 0.0,
                        "memory_max_rss", peak_rss(),
                        "memory_rss", current_rss(),
                        "request_threads_maximum", prev.threads_max,
                        "request_threads_started", threads_started,
                        "capacity_utilization", period > 0
                            ? (busy - prev.start_busy) / period
                              / prev.threads_max : 0.0,
                        "request_count", (unsigned long long)requests,
                        "request_throughput", period > 0
                            ? requests / period : 0.0,
                        "server_time_buckets", server_buckets,
                        "queue_time_buckets", zeros,
                        "daemon_time_buckets", zeros2,
                        "application_time_buckets", app_buckets,
                        "request_threads_buckets", thread_buckets,
                        "request_threads_active", threads_active,
                        "server_time", server_avg,
                        "queue_time", Py_None,
                        "daemon_time", Py_None,
                        "application_time", app_avg)
        : NULL;
    Py_XDECREF(server_buckets);
    Py_XDECREF(app_buckets);
    Py_XDECREF(zeros);
    Py_XDECREF(zeros2);
    Py_XDECREF(thread_buckets);
    return result;
}
