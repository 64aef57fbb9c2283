/*
 * interp.c: Python's life in an Apache child: initialisation, the
 * application groups (sub-interpreters) and their set-up, and the end.
 *
 * Python is initialised in each child (lazy initialisation, mod_wsgi's
 * default), never in the parent: the parent forks and unloads modules on
 * restart, neither of which an initialised interpreter survives.  With
 * WSGIRestrictEmbedded On it is not initialised at all unless a script
 * directive needs it (config.c decides, as mod_wsgi does).
 *
 * Not here: thread states and the GIL (gil.c), loading scripts and
 * WSGIImportScript (script.c), building the environ (environ.c).
 */
#include "gil.h"
#include "lifecycle.h"
#include "restrict.h"
#include "common/memory.h"

#include "ap_mpm.h"

#include <dlfcn.h>
#include <unistd.h>

/*
 * An application group's interpreters: one, or a pool of
 * WSGIInterpreterCount, each loading the application itself.  Each made
 * on first use, by the first thread bound to it.
 */
typedef struct {
    const char *name;
    wsl_interp_options options;  /* own_gil, count (at most the threads of
                                  * the process: see pool_of) */
    wsl_interp **members;        /* options.count; NULL until made */
    int index;                   /* pools made before this one */
    int next_thread;             /* member for the next thread bound */
} group_pool;

/* What this child knows about Python. */
static struct {
    server_rec *server;
    apr_pool_t *pool;            /* the child pool */
    apr_thread_mutex_t *lock;    /* groups, threads_bound */
    apr_hash_t *groups;          /* name -> group_pool (sub-interpreters) */
    int npools;                  /* group_pools made */
    int threads;                 /* worker threads a process has */
    int threads_bound;           /* threads given an ordinal so far */
    int ready;                   /* Python is initialised and usable */
    int not_required;            /* WSGIRestrictEmbedded On and nothing
                                    else needs Python: never started */
} wsl_py;

/* The group this thread entered last: most threads serve one. */
static _Thread_local wsl_interp *thread_last_interp;
/*
 * This thread's member of each pool, for the life of the thread: thread
 * states never move between interpreters (a state belongs to one).  A
 * daemon's worker k is given k (wsl_interp_bind_thread) and takes member
 * k % count, which the daemon's hand-out balances.  Other threads (an
 * Apache child's) are dealt to each pool's members in turn as they first
 * need it, per pool (one count for all pools would let a thread that
 * serves two of them skew both): thread_member[pool index] is member + 1,
 * 0 while unbound; pools past the first WSL_POOLS_TRACKED fall back to a
 * number per thread, thread_ordinal % count.
 */
#define WSL_POOLS_TRACKED 16
static _Thread_local int thread_fixed = -1;
static _Thread_local unsigned char thread_member[WSL_POOLS_TRACKED];
static _Thread_local int thread_ordinal = -1;

/* WSGIPythonEggs: PYTHON_EGG_CACHE in os.environ, which a
 * sub-interpreter has its own copy of.  0, or -1 with the exception set. */
static int set_egg_cache(const char *dir)
{
    PyObject *os, *environ = NULL, *value = NULL;
    int rc = -1;

    if (!(os = PyImport_ImportModule("os")))
        return -1;
    if ((environ = PyObject_GetAttrString(os, "environ")) &&
        (value = PyUnicode_DecodeFSDefault(dir)))
        rc = PyMapping_SetItemString(environ, "PYTHON_EGG_CACHE", value);
    Py_XDECREF(value);
    Py_XDECREF(environ);
    Py_DECREF(os);
    return rc;
}

/*
 * WSGINewRelicConfigFile: newrelic.agent.initialize(file, environment) in
 * every interpreter, as mod_wsgi does.  The agent is the site's add-on: if
 * it is missing or fails, that is logged (with its traceback) and the
 * interpreter serves anyway.
 */
static void newrelic_initialize(wsl_interp *interp,
                                const wsl_server_config *sconf)
{
    PyObject *agent, *file = NULL, *env = NULL, *res = NULL;
    const char *group = interp->index ? interp->name : "%{GLOBAL}";

    if (!(agent = PyImport_ImportModule("newrelic.agent")))
        goto fail;
    if (!(file = PyUnicode_DecodeFSDefault(sconf->newrelic_config_file)))
        goto fail;
    if (sconf->newrelic_environment)
        env = PyUnicode_DecodeFSDefault(sconf->newrelic_environment);
    else
        env = Py_NewRef(Py_None);
    if (!env)
        goto fail;
    if (!(res = PyObject_CallMethod(agent, "initialize", "OO", file, env)))
        goto fail;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, wsl_py.server,
                 "WSL00165: newrelic.agent initialised with '%s' in "
                 "application group '%s' (pid %d)",
                 sconf->newrelic_config_file, group, (int)getpid());
    goto done;
fail:
    wsl_log_python_error_server(wsl_py.server, interp,
                                apr_psprintf(wsl_py.pool,
                                             "WSGINewRelicConfigFile '%s': "
                                             "newrelic.agent.initialize() "
                                             "in application group '%s'",
                                             sconf->newrelic_config_file,
                                             group));
done:
    Py_XDECREF(res);
    Py_XDECREF(env);
    Py_XDECREF(file);
    Py_XDECREF(agent);
}

/* A daemon process's python-path, else WSGIPythonPath. */
static const apr_array_header_t *python_path(const wsl_server_config *sconf)
{
    const wsl_daemon_group *group = wsl_process_daemon();

    if (group && group->python_path && group->python_path->nelts)
        return group->python_path;
    return sconf->python_path;
}

/* A daemon process's python-home, else WSGIPythonHome; NULL for none. */
static const char *python_home(const wsl_server_config *sconf)
{
    const wsl_daemon_group *group = wsl_process_daemon();

    if (group && group->python_home)
        return group->python_home;
    return sconf->python_home;
}

/* Set up what every interpreter needs; GIL held, interp current. */
static int interp_setup(wsl_interp *interp)
{
    wsl_server_config *sconf =
        ap_get_module_config(wsl_py.server->module_config, &wsgi_lite_module);
    const apr_array_header_t *path = python_path(sconf);
    const char **dirs = (const char **)path->elts;
    PyObject *mod = NULL, *res;
    int i;

    if (!(interp->scripts = PyDict_New()))
        goto fail;
    /* Before anything runs Python code of the site's (a .pth file's
     * import lines under WSGIPythonPath): mod_wsgi is importable from
     * the start.  Before the environ's keys too: its constants hold this
     * interpreter's wsgi.file_wrapper type. */
    if (wsl_pymodule_init(interp) < 0)
        goto fail;
    if (wsl_environ_keys_init(interp) < 0)
        goto fail;
    if (!(mod = PyImport_ImportModule("traceback")))
        goto fail;
    interp->format_exception = PyObject_GetAttrString(mod, "format_exception");
    Py_CLEAR(mod);
    if (!interp->format_exception)
        goto fail;
    if (wsl_log_std_install(interp, wsl_py.server,
                            wsl_config_flag(sconf->restrict_stdout, 0),
                            wsl_config_flag(sconf->restrict_stdin, 1)) < 0)
        goto fail;
    if (wsl_restrict_install(wsl_py.server,
                          wsl_config_flag(sconf->restrict_signal, 1)) < 0)
        goto fail;
    /* Before the path: a .pth file there may already use the cache. */
    if (sconf->python_eggs && set_egg_cache(sconf->python_eggs) < 0)
        goto fail;

    /* WSGIPythonPath: site.addsitedir, so .pth files there count too. */
    if (path->nelts) {
        if (!(mod = PyImport_ImportModule("site")))
            goto fail;
        for (i = 0; i < path->nelts; i++) {
            res = PyObject_CallMethod(mod, "addsitedir", "s", dirs[i]);
            if (!res)
                goto fail;
            Py_DECREF(res);
        }
        Py_CLEAR(mod);
    }
    /* Last, as in mod_wsgi: the agent may live on WSGIPythonPath. */
    if (sconf->newrelic_config_file)
        newrelic_initialize(interp, sconf);
    if (apr_thread_mutex_create(&interp->load_lock, APR_THREAD_MUTEX_DEFAULT,
                                wsl_py.pool) != APR_SUCCESS) {
        PyErr_SetString(PyExc_RuntimeError, "cannot create the load lock");
        goto fail;
    }
    return 0;

fail:
    Py_XDECREF(mod);
    wsl_log_python_error_server(wsl_py.server, interp,
                                apr_psprintf(wsl_py.pool, "setting up "
                                             "application group '%s'",
                                             interp->name));
    return -1;
}

/* This process's resident memory in KiB (0 if unknown): what a new
 * interpreter costs goes in the log line that says it was made. */
static long rss_kib(void)
{
    wsl_memory m;

    wsl_memory_self(&m);
    return (long)(m.resident / 1024);
}

static void set_switch_interval(server_rec *s, double seconds,
                                const char *whose);

/* The server's WSGISwitchInterval (0: Python's). */
static double pool_server_interval(void)
{
    const wsl_server_config *sconf =
        ap_get_module_config(wsl_py.server->module_config,
                             &wsgi_lite_module);

    return sconf->switch_interval;
}

/* Create and set up member k of a group's pool.  Caller holds `lock`
 * and not the GIL. */
static wsl_interp *interp_create(group_pool *pool, int k)
{
    const char *name = pool->name;
    int own_gil = pool->options.own_gil;
    long rss_before = rss_kib();
    wsl_interp *interp;

    if (!(interp = wsl_gil_new_interpreter(name, k, pool->options.count,
                                           own_gil)))
        return NULL;
    if (interp_setup(interp) < 0) {
        /* Keep it registered but unusable would hide the failure on every
         * request; instead fail this request and retry setup next time. */
        wsl_log_std_release(interp);
        wsl_pymodule_release(interp);
        wsl_gil_setup_failed(interp);
        return NULL;
    }
    /* Its own GIL starts at Python's 5 ms: WSGISwitchInterval of the
     * container that matched, else the server's, sets it (a shared GIL
     * is the main interpreter's, set once at start-up). */
    if (!own_gil && pool->options.switch_interval > 0.0 && k == 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wsl_py.server,
                     "WSL00214: WSGISwitchInterval %.6f of "
                     "<WSGIInterpreterOptions> not set for application "
                     "group '%s': its interpreters share the main GIL, "
                     "whose interval is the server's (pid %d)",
                     pool->options.switch_interval, name, (int)getpid());
    if (own_gil) {
        double seconds = pool->options.switch_interval > 0.0
                         ? pool->options.switch_interval
                         : pool_server_interval();

        if (seconds > 0.0) {
            set_switch_interval(wsl_py.server, seconds,
                                apr_psprintf(wsl_py.pool, "application "
                                             "group '%s' (interpreter %d "
                                             "of %d):", name, k + 1,
                                             pool->options.count));
            wsl_gil_set_turn_interval(interp,
                                      (apr_interval_time_t)(seconds * 1e6));
        }
    }
    pool->members[k] = interp;
    __atomic_store_n(&interp->serving, 1, __ATOMIC_RELEASE);
    wsl_gil_setup_done();
    /* The memory of an interpreter set up, before any script is loaded:
     * what each member of a pool adds (its application comes on top). */
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, wsl_py.server,
                 "WSL00003: created application group '%s' (pid %d), "
                 "interpreter %d of %d, %s GIL, RSS +%ld KiB", name,
                 (int)getpid(), k + 1, pool->options.count,
                 own_gil ? "its own" : "the shared",
                 rss_kib() - rss_before);
    return interp;
}

/* A group's pool record, made on first use.  Caller holds `lock`. */
static group_pool *pool_of(const char *group)
{
    group_pool *pool = apr_hash_get(wsl_py.groups, group,
                                    APR_HASH_KEY_STRING);

    if (pool)
        return pool;
    pool = apr_pcalloc(wsl_py.pool, sizeof(*pool));
    pool->name = apr_pstrdup(wsl_py.pool, group);
    pool->index = wsl_py.npools++;
    pool->options = wsl_interp_options_for(wsl_process_group_name(), group);
#if PY_VERSION_HEX < 0x030C0000
    pool->options.own_gil = 0;      /* said once at start-up */
#endif
    /* A member no thread is bound to would only hold a copy of the
     * application (WSGIImportScript loads every member): a prefork child
     * has one thread, a daemon its threads=. */
    if (pool->options.count > wsl_py.threads) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, wsl_py.server,
                     "WSL00213: application group '%s': WSGIInterpreterCount "
                     "%d, but this process has %d thread%s; %d "
                     "interpreter%s (pid %d)", group, pool->options.count,
                     wsl_py.threads, wsl_py.threads > 1 ? "s" : "",
                     wsl_py.threads, wsl_py.threads > 1 ? "s" : "",
                     (int)getpid());
        pool->options.count = wsl_py.threads;
    }
    pool->members = apr_pcalloc(wsl_py.pool, sizeof(wsl_interp *) *
                                (apr_size_t)pool->options.count);
    apr_hash_set(wsl_py.groups, pool->name, APR_HASH_KEY_STRING, pool);
    return pool;
}

/* Member k of the group (k < 0: this thread's), made if need be.
 * Caller holds `lock`. */
static wsl_interp *member_of(const char *group, int k)
{
    group_pool *pool = pool_of(group);

    if (k < 0 && pool->options.count == 1) {
        k = 0;
    }
    else if (k < 0 && thread_fixed >= 0) {
        k = thread_fixed % pool->options.count;
    }
    else if (k < 0 && pool->index < WSL_POOLS_TRACKED) {
        if (!thread_member[pool->index])
            thread_member[pool->index] =
                (unsigned char)(1 + pool->next_thread++ % pool->options.count);
        k = thread_member[pool->index] - 1;
    }
    else if (k < 0) {
        if (thread_ordinal < 0)
            thread_ordinal = wsl_py.threads_bound++;
        k = thread_ordinal % pool->options.count;
    }
    if (k >= pool->options.count)
        return NULL;
    return pool->members[k] ? pool->members[k] : interp_create(pool, k);
}

void wsl_interp_bind_thread(int ordinal)
{
    thread_fixed = ordinal;
}

static wsl_interp *interp_find(const char *group)
{
    wsl_interp *interp;

    if (!group)
        return wsl_gil_interp(0);
    /* Most threads serve one group: no lock on the common path.  A
     * thread's member of a pool never changes, so this is it. */
    interp = thread_last_interp;
    if (interp && !strcmp(interp->name, group))
        return interp;

    apr_thread_mutex_lock(wsl_py.lock);
    interp = member_of(group, -1);
    apr_thread_mutex_unlock(wsl_py.lock);
    if (interp)
        thread_last_interp = interp;
    return interp;
}

/* Python must be up; r or s says where to log that it is not. */
static int python_ready(request_rec *r, server_rec *s)
{
    if (!wsl_py.ready) {
        const char *why = wsl_py.not_required
            ? "WSL00004: Python is not started in this process: "
              "WSGIRestrictEmbedded On, and no script directive of the "
              "server configuration needs it (one in .htaccess cannot "
              "start it)"
            : "WSL00004: Python is not available in this process (see the "
              "start-up errors above)";

        if (r)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s", why);
        else
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "%s", why);
        return 0;
    }
    return 1;
}

wsl_interp *wsl_interp_enter(request_rec *r, const char *group)
{
    wsl_interp *interp;

    if (!python_ready(r, r->server) || !(interp = interp_find(group)))
        return NULL;
    wsl_gil_enter(interp);
    return interp;
}

int wsl_interp_pool_size(const char *group)
{
    int n;

    if (!group || !wsl_py.ready)
        return 1;
    apr_thread_mutex_lock(wsl_py.lock);
    n = pool_of(group)->options.count;
    apr_thread_mutex_unlock(wsl_py.lock);
    return n;
}

wsl_interp *wsl_interp_enter_member(server_rec *s, const char *group, int k)
{
    wsl_interp *interp;

    if (!python_ready(NULL, s))
        return NULL;
    if (!group) {
        interp = wsl_gil_interp(0);
    }
    else {
        apr_thread_mutex_lock(wsl_py.lock);
        interp = member_of(group, k);
        apr_thread_mutex_unlock(wsl_py.lock);
    }
    if (interp)
        wsl_gil_enter(interp);
    return interp;
}

void wsl_interp_leave(void)
{
    wsl_gil_leave();
}

/* Child exit: how long application threads get to finish, in all, and
 * how often we look (with the GIL released in between, so they can run).
 * Well inside the 3 s after which Apache signals a child again. */
#define WSL_EXIT_GRACE_MS 1000
#define WSL_EXIT_POLL_MS 20

/* Live non-daemon threads of the main interpreter (current, GIL held),
 * other than threading's main thread: what Py_FinalizeEx would wait for
 * forever in threading._shutdown().  Daemon threads do not count: Python
 * finalises with them. */
static int main_nondaemon_threads(void)
{
    PyObject *name, *threading, *all = NULL, *main_thread = NULL;
    Py_ssize_t i;
    int n = 0;

    if (!(name = PyUnicode_FromString("threading")))
        goto done;
    threading = PyImport_GetModule(name);
    Py_DECREF(name);
    if (!threading)
        goto done;          /* never imported: no threading threads */
    all = PyObject_CallMethod(threading, "enumerate", NULL);
    main_thread = PyObject_CallMethod(threading, "main_thread", NULL);
    Py_DECREF(threading);
    if (!all || !main_thread || !PyList_Check(all))
        goto done;
    for (i = 0; i < PyList_GET_SIZE(all); i++) {
        PyObject *t = PyList_GET_ITEM(all, i), *v;
        int daemon, alive;

        if (t == main_thread)
            continue;
        if (!(v = PyObject_GetAttrString(t, "daemon")))
            break;
        daemon = PyObject_IsTrue(v);
        Py_DECREF(v);
        if (daemon)
            continue;
        if (!(v = PyObject_CallMethod(t, "is_alive", NULL)))
            break;
        alive = PyObject_IsTrue(v);
        Py_DECREF(v);
        if (alive > 0)
            n++;
    }
done:
    PyErr_Clear();
    Py_XDECREF(all);
    Py_XDECREF(main_thread);
    return n;
}

/* Would finalising have to wait for (or crash on) an application thread?
 * GIL held, main interpreter current. */
static int exit_blocked(void)
{
    int i;

    for (i = 1; i < wsl_gil_count(); i++) {
        wsl_interp *interp = wsl_gil_interp(i);

        if (interp->istate && wsl_gil_foreign_threads(interp, NULL))
            return 1;
    }
    return main_nondaemon_threads() > 0;
}

/* Append to the WSL00014 list (a fixed buffer: the child pool is being
 * destroyed). */
static void left_append(char *buf, apr_size_t size, const char *fmt, ...)
{
    apr_size_t len = strlen(buf);
    va_list ap;

    if (len + 1 >= size)
        return;
    va_start(ap, fmt);
    apr_vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* Log what is left of interp's standard streams.  Main GIL held; an
 * interpreter with a GIL of its own is visited for it, since its threads
 * may be writing to them meanwhile. */
static void flush_std(wsl_interp *interp)
{
    PyThreadState *visit;

    if (!interp->own_gil || !interp->istate) {
        wsl_log_std_flush(interp);
        return;
    }
    visit = wsl_gil_visit(interp);
    wsl_log_std_flush(interp);
    wsl_gil_visit_end(interp, visit);
}

/*
 * Child exit, GIL held with the main interpreter's state: tell every
 * interpreter's subscribers (mod_wsgi's process_stopping, to
 * event_callbacks and shutdown_callbacks) before anything is torn down,
 * so that a callback can still stop the threads it started.  A
 * sub-interpreter is entered with a thread state made for the purpose.
 */
static void publish_process_stopping(void)
{
    int i;

    for (i = 0; i < wsl_gil_count(); i++) {
        wsl_interp *interp = wsl_gil_interp(i);
        PyThreadState *visit;

        if (!interp->istate || !interp->pymodule)
            continue;
        if (i == 0) {
            wsl_events_process_stopping(interp, wsl_py.server);
            continue;
        }
        visit = wsl_gil_visit(interp);
        wsl_events_process_stopping(interp, wsl_py.server);
        wsl_gil_visit_end(interp, visit);
    }
}

/*
 * Child exit: end every sub-interpreter (their atexit callbacks run), then
 * finalise the main one.  The MPMs destroy the child pool after joining
 * their workers, so no request is in Python here, except when a signal
 * cuts this very thread short inside Python (a prefork request, or any
 * child still starting up): then the process is dying mid-call and
 * finalising would deadlock on our own GIL or crash in the interrupted
 * interpreter.
 *
 * Threads the application started get WSL_EXIT_GRACE_MS to finish.  A
 * sub-interpreter that still has one cannot be ended (Py_EndInterpreter
 * requires its last thread; a non-daemon one it would wait for forever),
 * and with one left Py_FinalizeEx aborts ("remaining subinterpreters"); a
 * non-daemon thread in the main interpreter would make Py_FinalizeEx wait
 * forever.  Then the interpreters that can be ended are, Python is not
 * finalised, WSL00014 names what was left, and we return with the GIL
 * held: the remaining threads stay frozen while the process exits.
 */
static apr_status_t interp_child_exit(void *data)
{
    int i, waited = 0, left = 0, main_threads, main_nondaemon;
    wsl_interp *main_interp;
    char what[1024] = "";

    wsl_server_config *sconf =
        ap_get_module_config(wsl_py.server->module_config, &wsgi_lite_module);

    if (!wsl_py.ready || wsl_gil_busy())
        return APR_SUCCESS;
    wsl_py.ready = 0;
    wsl_gil_enter_exit();
    publish_process_stopping();
    if (!wsl_config_flag(sconf->destroy_interpreter, 1)) {
        /* Python is left as it is, but a line print() began is not.  The
         * GIL stays ours, as below: an application thread that ran on
         * while the process exits could print a line that is never
         * logged, or touch what exit() is freeing. */
        for (i = 0; i < wsl_gil_count(); i++)
            flush_std(wsl_gil_interp(i));
        return APR_SUCCESS;
    }
    while (waited < WSL_EXIT_GRACE_MS && exit_blocked()) {
        wsl_gil_pause_ms(WSL_EXIT_POLL_MS);
        waited += WSL_EXIT_POLL_MS;
    }
    /* From here on the application's threads never run again (the GIL
     * stays ours, or Python ends): what is left of their lines in the
     * standard streams is logged now, or as each interpreter ends.  The
     * threads of an interpreter with a GIL of its own are the exception:
     * that GIL is not ours to keep, so one left there runs on while the
     * process exits (README: WSL00014). */
    for (i = wsl_gil_count() - 1; i > 0; i--) {
        wsl_interp *interp = wsl_gil_interp(i);
        PyThreadState *visit;
        int n;

        if (!interp->istate)
            continue;
        if ((n = wsl_gil_foreign_threads(interp, NULL)) > 0) {
            flush_std(interp);
            left_append(what, sizeof(what), "%sapplication group '%s' "
                        "(%d thread%s)", left++ ? ", " : "", interp->name,
                        n, n > 1 ? "s" : "");
            continue;
        }
        visit = wsl_gil_visit(interp);
        if (wsl_gil_visit_alone(interp, visit)) {
            wsl_log_std_release(interp);
            wsl_pymodule_release(interp);
            wsl_gil_end_visited(interp, visit);
        }
        else {
            /* A state that is neither ours nor an application thread's
             * (a C extension's): it cannot be ended either. */
            wsl_log_std_flush(interp);
            left_append(what, sizeof(what), "%sapplication group '%s' "
                        "(a foreign thread state)", left++ ? ", " : "",
                        interp->name);
            wsl_gil_visit_abandon(interp);
        }
    }
    main_interp = wsl_gil_interp(0);
    main_threads = wsl_gil_foreign_threads(main_interp, NULL);
    main_nondaemon = main_nondaemon_threads();
    if (left || main_nondaemon) {
        if (main_threads || main_nondaemon)
            left_append(what, sizeof(what), "%s%%{GLOBAL} (%d thread%s, "
                        "%d non-daemon)", left ? ", " : "",
                        main_threads > main_nondaemon ? main_threads
                                                      : main_nondaemon,
                        main_threads > 1 || main_nondaemon > 1 ? "s" : "",
                        main_nondaemon);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wsl_py.server,
                     "WSL00014: Python threads still running %d ms after "
                     "child exit began; not finalising Python (pid %d), "
                     "left: %s", waited, (int)getpid(), what);
        wsl_log_std_flush(main_interp);
        return APR_SUCCESS;     /* the GIL stays ours */
    }
    wsl_gil_drop_main_workers();
    wsl_log_std_release(main_interp);
    wsl_pymodule_release(main_interp);
    if (Py_FinalizeEx() < 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, wsl_py.server,
                     "WSL00006: errors while finalising Python");
    }
    wsl_gil_child_done();
    return APR_SUCCESS;
}

/* Append a byte string to a PyConfig wide-string list. */
static PyStatus append_wide(PyConfig *config, PyWideStringList *list,
                            const char *value)
{
    wchar_t *wide = Py_DecodeLocale(value, NULL);
    PyStatus status;

    if (!wide)
        return PyStatus_NoMemory();
    status = PyWideStringList_Append(list, wide);
    PyMem_RawFree(wide);
    return status;
}

/* WSGISwitchInterval: the GIL is the whole process's in 3.11, so once,
 * from the main interpreter (GIL held).  A failure is logged and Python's
 * default stays. */
static void set_switch_interval(server_rec *s, double seconds,
                                const char *whose)
{
    PyObject *sys = PyImport_ImportModule("sys"), *res = NULL;

    if (sys)
        res = PyObject_CallMethod(sys, "setswitchinterval", "d", seconds);
    if (res) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "WSL00166: %s GIL switch interval set to %.6f s "
                     "(WSGISwitchInterval, pid %d)", whose, seconds,
                     (int)getpid());
    }
    else {
        PyErr_Clear();
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WSL00167: cannot set %s GIL switch interval to "
                     "%.6f s (WSGISwitchInterval, pid %d)", whose, seconds,
                     (int)getpid());
    }
    Py_XDECREF(res);
    Py_XDECREF(sys);
}

/*
 * Python's home.  A virtual environment (`python3 -m venv`: a pyvenv.cfg
 * at its top) holds no standard library, so Python must find it as the
 * venv's own python would: from the venv's bin/python3, whose
 * pyvenv.cfg names the base installation and adds the venv's
 * site-packages (what mod_wsgi 4.x does for a venv).  Any other directory
 * is PYTHONHOME, prefix and exec_prefix.
 */
static PyStatus set_home(PyConfig *config, const char *home)
{
    char path[4096];

    /* No pool here: the parent may initialise Python (lazy
     * initialisation Off) before any pool of the module's exists. */
    snprintf(path, sizeof(path), "%s/pyvenv.cfg", home);
    if (access(path, R_OK) == 0) {
        snprintf(path, sizeof(path), "%s/bin/python3", home);
        return PyConfig_SetBytesString(config, &config->program_name, path);
    }
    return PyConfig_SetBytesString(config, &config->home, home);
}

static int python_initialize(server_rec *s)
{
    wsl_server_config *sconf =
        ap_get_module_config(s->module_config, &wsgi_lite_module);
    const char *home = python_home(sconf);
    const char **warnings = (const char **)sconf->python_warnings->elts;
    PyPreConfig preconfig;
    PyConfig config;
    PyStatus status;
    static char *argv[] = { "mod_wsgi_lite", NULL };
    int i;

    /* Apache's environment is the shell of whoever started it, not a
     * Python configuration: a PYTHONHOME from a pyenv shell would send
     * this libpython to another installation's standard library.  Nor may
     * Python touch the locale variables Apache hands to CGI children. */
    PyPreConfig_InitPythonConfig(&preconfig);
    preconfig.use_environment = 0;
    preconfig.coerce_c_locale = 0;
#ifdef WSL_SANITIZE
    /* make asan: every Python object from malloc rather than pymalloc's
     * arenas, so AddressSanitizer sees the bounds of the bytes objects the
     * module writes into (wsgi.input) and reads from (the body). */
    preconfig.allocator = PYMEM_ALLOCATOR_MALLOC;
#endif
    status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status))
        goto fail;

    PyConfig_InitPythonConfig(&config);
    config.use_environment = 0;
    config.install_signal_handlers = 0;   /* signals belong to Apache */
    config.parse_argv = 0;
    config.user_site_directory = 0;
    if (wsl_config_flag(sconf->dont_write_bytecode, 0))
        config.write_bytecode = 0;     /* sys.dont_write_bytecode */
    if (sconf->python_optimize != WSL_UNSET)
        config.optimization_level = sconf->python_optimize;
    if (sconf->python_hash_seed) {
        config.use_hash_seed = strcmp(sconf->python_hash_seed, "random") != 0;
        config.hash_seed = config.use_hash_seed
            ? (unsigned long)apr_atoi64(sconf->python_hash_seed) : 0;
    }
    status = PyConfig_SetBytesString(&config, &config.program_name,
                                     WSL_PYTHON_PROGRAM);
    if (!PyStatus_Exception(status) && home)
        status = set_home(&config, home);
    for (i = 0; i < sconf->python_warnings->nelts &&
                !PyStatus_Exception(status); i++)
        status = append_wide(&config, &config.warnoptions, warnings[i]);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesArgv(&config, 1, argv);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        goto fail;
    if (sconf->switch_interval > 0.0)
        set_switch_interval(s, sconf->switch_interval, "Python's");
    return 0;

fail:
    ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                 "WSL00001: cannot initialise Python (%s%s%s): %s",
                 WSL_PYTHON_PROGRAM,
                 home ? ", python home " : "", home ? home : "",
                 status.err_msg ? status.err_msg : "unknown error");
    return -1;
}

/*
 * WSGILazyInitialization Off: the parent initialises Python once per
 * configuration cycle (finalising it when the cycle ends) and the children
 * inherit the interpreter through fork.  This is the thread state the
 * parent released the GIL with.
 */
static PyThreadState *parent_tstate;

static apr_status_t parent_finalize(void *data)
{
    if (parent_tstate) {
        wsl_gil_reacquire(parent_tstate);
        parent_tstate = NULL;
        Py_FinalizeEx();
    }
    return APR_SUCCESS;
}

static void parent_initialize(apr_pool_t *pconf, server_rec *s)
{
    Dl_info info;

    if (parent_tstate)
        return;
    /* Extension modules loaded now stay mapped after a restart unloads
     * this module; their libpython must stay mapped with them. */
    if (dladdr((void *)Py_InitializeFromConfig, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
    if (python_initialize(s) < 0)
        return;
    parent_tstate = wsl_gil_release();
    apr_pool_cleanup_register(pconf, NULL, parent_finalize,
                              apr_pool_cleanup_null);
}

int wsl_child_init(apr_pool_t *pchild, server_rec *s)
{
    const wsl_server_config *sconf =
        ap_get_module_config(s->module_config, &wsgi_lite_module);
    const wsl_daemon_group *group;
    wsl_interp *main_interp;
    int threaded = 0, threads = 1, daemons = 1;

    wsl_py.server = s;
    wsl_py.pool = pchild;
    wsl_py.groups = apr_hash_make(pchild);
    wsl_metrics_child_init(pchild, s);
    if (apr_thread_mutex_create(&wsl_py.lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS ||
        wsl_gil_child_init(pchild, s,
                           wsl_config_flag(sconf->verbose_debugging, 0)) < 0)
        return 0;
    if (!wsl_process_daemon() && !wsl_config_python_required(s)) {
        /* WSGIRestrictEmbedded On: no Python in Apache's children (the
         * start-up log says so once, from the parent). */
        wsl_py.not_required = 1;
        return 0;
    }
    if (parent_tstate) {
        /* Inherited from the parent: make it this process's own. */
        wsl_gil_reacquire(parent_tstate);
#if PY_VERSION_HEX >= 0x030D0000
        /* 3.13's PyOS_AfterFork_Child releases the import and runtime
         * locks PyOS_BeforeFork took; Apache forked without it, so take
         * them first (this process is alone with them). */
        PyOS_BeforeFork();
#endif
        PyOS_AfterFork_Child();
        parent_tstate = NULL;
    }
    else if (python_initialize(s) < 0) {
        return 0;
    }

    if ((group = wsl_process_daemon())) {
        /* mod_wsgi's rule: wsgi.multiprocess once processes= is given,
         * even processes=1. */
        wsl_environ_set_process_model(group->threads > 1,
                                      group->multiprocess ||
                                      group->processes > 1);
        wsl_py.threads = group->threads > 1 ? group->threads : 1;
    }
    else {
        ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
        ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
        ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons);
        wsl_environ_set_process_model(threaded != AP_MPMQ_NOT_SUPPORTED &&
                                      threads > 1, daemons > 1);
        wsl_py.threads = threaded != AP_MPMQ_NOT_SUPPORTED && threads > 1
                         ? threads : 1;
    }

    /* The main interpreter is set up first, alone: the first
     * mod_wsgi_lite is made before any other interpreter exists (its
     * first use readies the module definition all of them share). */
    main_interp = wsl_gil_add_main();
    if (interp_setup(main_interp) < 0) {
        PyErr_Clear();
        wsl_gil_main_setup_done();
        return 0;
    }
    __atomic_store_n(&main_interp->serving, 1, __ATOMIC_RELEASE);
    wsl_gil_main_setup_done();
    wsl_py.ready = 1;
    apr_pool_cleanup_register(pchild, NULL, interp_child_exit,
                              apr_pool_cleanup_null);
    return 1;
}

/* Report a bad WSGIPythonHome or WSGIPythonPath once, from the parent,
 * rather than once per child. */
static void check_python_paths(apr_pool_t *ptemp, server_rec *s)
{
    wsl_server_config *sconf =
        ap_get_module_config(s->module_config, &wsgi_lite_module);
    const char **dirs = (const char **)sconf->python_path->elts;
    apr_finfo_t finfo;
    int i;

    if (sconf->python_home &&
        (apr_stat(&finfo, sconf->python_home, APR_FINFO_TYPE, ptemp)
         != APR_SUCCESS || finfo.filetype != APR_DIR))
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "WSL00008: WSGIPythonHome '%s' is not a directory; "
                     "Python will fail to start", sconf->python_home);
    for (i = 0; i < sconf->python_path->nelts; i++) {
        if (apr_stat(&finfo, dirs[i], APR_FINFO_TYPE, ptemp) != APR_SUCCESS ||
            finfo.filetype != APR_DIR)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "WSL00009: WSGIPythonPath directory '%s' does not "
                         "exist", dirs[i]);
    }
}

void wsl_check_interp_options(server_rec *s)
{
    const char *at;

#if PY_VERSION_HEX < 0x030C0000
    if ((at = wsl_interp_options_own_gil_at()))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WSL00210: WSGIPerInterpreterGIL On (%s): Python %d.%d "
                     "has one GIL for all its interpreters (3.12 is the "
                     "first with one each); sub-interpreters share it, and "
                     "a pool (WSGIInterpreterCount) runs one request's "
                     "Python at a time", at, PY_MAJOR_VERSION,
                     PY_MINOR_VERSION);
#endif
    if ((at = wsl_interp_options_global_at()))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WSL00211: <WSGIInterpreterOptions "
                     "application-group=%%{GLOBAL}> (%s): the main "
                     "interpreter is one and keeps the process's GIL; its "
                     "WSGIPerInterpreterGIL and WSGIInterpreterCount have "
                     "no effect", at);
}

/*
 * Once per configuration, from the parent: what a setting that changes
 * how the module runs, or that does nothing yet, does here.  Never a
 * directive silently ignored.
 */
static void report_settings(server_rec *s)
{
    wsl_server_config *sconf =
        ap_get_module_config(s->module_config, &wsgi_lite_module);

    if (wsl_config_flag(sconf->restrict_embedded, 0))
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "WSL00162: WSGIRestrictEmbedded On: embedded mode is "
                     "disabled, a WSGI request not sent to a daemon process "
                     "group fails with a 500; %s",
                     wsl_config_python_required(s)
                     ? "Python is started in Apache's children only for "
                       "the import, access, auth and dispatch scripts"
                     : "Python is not started in Apache's children");
    if (sconf->accept_mutex)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WSL00163: WSGIAcceptMutex %s: no effect, daemon "
                     "processes accept on their socket without one (each "
                     "only while it has a worker free)",
                     sconf->accept_mutex);
    if (sconf->socket_rotation == 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WSL00163: WSGISocketRotation Off: no effect, each "
                     "configuration generation makes its daemon sockets "
                     "anew (as with On)");
}

int wsl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    wsl_server_config *sconf =
        ap_get_module_config(s->module_config, &wsgi_lite_module);

    /* post_config runs twice at start-up; act on the real pass only. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        check_python_paths(ptemp, s);
        report_settings(s);
        if (!wsl_config_flag(sconf->lazy_initialization, 1) &&
            wsl_config_python_required(s))
            parent_initialize(pconf, s);
    }

    /* SERVER_SOFTWARE names us and the Python we embed, as mod_wsgi's
     * does (shown when ServerTokens allows). */
    ap_add_version_component(pconf, "mod_wsgi_lite/" WSL_VERSION_STRING
                             " Python/" WSL_STRINGIFY(PY_MAJOR_VERSION) "."
                             WSL_STRINGIFY(PY_MINOR_VERSION));
    return OK;
}
