/*
 * gil.c: the interpreters of this child, each thread's state in each of
 * them, and the only code that takes or drops the GIL.  It calls nothing
 * else of the module's: interp.c decides when interpreters are made, set
 * up and ended; this file does the thread-state work of each step.
 *
 * Thread states: every worker thread keeps one PyThreadState per
 * interpreter, created on its first request for that interpreter and reused
 * for the life of the child.  A thread's main-interpreter state is always
 * created first, so the PyGILState_* binding of the thread (the first state
 * wins, see CPython's _PyGILState_NoteThreadState) is the main
 * interpreter's: C extensions that use PyGILState_Ensure work in %{GLOBAL},
 * and a %{GLOBAL} request can never land in a sub-interpreter.  We never
 * call PyGILState_* ourselves; we always restore our own state.
 *
 * An interpreter with a GIL of its own (WSGIPerInterpreterGIL, 3.12+) is
 * entered by attaching a thread state (PyEval_RestoreThread, which takes
 * that interpreter's GIL) and left by detaching it (PyEval_SaveThread),
 * never by PyThreadState_Swap: what a swap does to the GIL differs
 * between versions (3.11's never touches it; 3.12's and 3.13's release
 * the old state's and take the new one's), and the swaps below are only
 * used where both states have the one shared GIL.  Py_EndInterpreter of
 * such an interpreter leaves no GIL held and no state current, and the
 * main interpreter is attached again afterwards.
 *
 * Request threads enter an own-GIL interpreter through its queue of
 * turns (turns.c), a turn taken before the GIL and given back after it.
 * The deadlock watch and the stack dump take the GIL without a turn:
 * what they look at may be the thread holding it.
 */
#include "gil.h"
#include "lifecycle.h"
#include "turns.h"

/* Thread states we created, per interpreter, to delete at child exit. */
typedef struct {
    PyThreadState **states;
    int count, cap;
} tstate_list;

static struct {
    server_rec *server;          /* for WSGIVerboseDebugging's lines */
    apr_pool_t *pool;            /* the child pool */
    /* interps, ninterps, owned and each interp's istate, below: a new
     * interpreter may be registered (and the array moved) while another
     * runs, each under a GIL of its own once interpreters have one.  Never
     * held while waiting for a GIL. */
    apr_thread_mutex_t *lock;
    wsl_interp *main_interp;     /* set once, before any worker runs */
    wsl_interp **interps;        /* by index; 0 is the main interpreter */
    int ninterps, capinterps;
    tstate_list *owned;          /* by interp index */
    int owned_cap;
    /* Every thread's thread_tstates array, so child exit can free them
     * after the workers are gone (a thread-local pointer dies with its
     * thread). */
    PyThreadState ***thread_arrays;
    int nthread_arrays, thread_arrays_cap;
    PyThreadState *main_tstate; /* the child main thread's, from init */
    int verbose;                 /* WSGIVerboseDebugging */
} gil;

/* This thread's state per interpreter index, and how many enters it is
 * inside (more than one while a subrequest runs from inside a request's
 * own I/O: the inner leave must not make the outer request look done to
 * wsl_gil_busy). */
static _Thread_local PyThreadState **thread_tstates;
static _Thread_local int thread_ntstates;
static _Thread_local int thread_depth;
/* Set while this thread is inside Python outside a request: child start
 * and sub-interpreter creation.  A child killed right then (Apache's
 * SIGTERM handler exits at once while a child is still starting) must not
 * try to finalise the interpreter it interrupted. */
static _Thread_local int thread_in_setup;
static _Thread_local int thread_slot = -1;   /* in gil.thread_arrays */
/* thread_depth once this thread had taken the turn it holds
 * (wsl_turns_held; a subrequest run from inside a request's own I/O
 * enters again): the turn goes back at the leave of that enter. */
static _Thread_local int thread_turn_depth;

/* Append to a growable pointer array; aborts only on malloc failure,
 * which an Apache child cannot recover from anyway. */
static void *grow(void *array, int *cap, int need, size_t elem)
{
    int newcap;

    if (need <= *cap)
        return array;
    newcap = *cap ? *cap * 2 : 8;
    while (newcap < need)
        newcap *= 2;
    array = realloc(array, (size_t)newcap * elem);
    if (!array)
        abort();
    memset((char *)array + (size_t)*cap * elem, 0,
           (size_t)(newcap - *cap) * elem);
    *cap = newcap;
    return array;
}

int wsl_gil_child_init(apr_pool_t *pchild, server_rec *s, int verbose)
{
    gil.server = s;
    gil.pool = pchild;
    gil.verbose = verbose;
    return apr_thread_mutex_create(&gil.lock, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) == APR_SUCCESS ? 0 : -1;
}

/* Caller holds gil.lock. */
static wsl_interp *add_interp(const char *name, PyInterpreterState *istate)
{
    wsl_interp *interp = apr_pcalloc(gil.pool, sizeof(*interp));

    interp->name = apr_pstrdup(gil.pool, name);
    interp->index = gil.ninterps;
    interp->members = 1;
    interp->istate = istate;
    /*
     * The group's C memory, used under its own interpreter's GIL only
     * (environ.c's header keys grow in it per request).  Unmanaged, with
     * an allocator of its own: it shares no free list with the child pool
     * or another group's pool, which interpreters running at once would
     * race on; and it is not one of the child pool's subpools, which APR
     * destroys before the child pool's cleanups run, among them child
     * exit (interp.c), which still reads it.  wsl_gil_child_done destroys
     * it, after Python.
     */
    if (apr_pool_create_unmanaged_ex(&interp->pool, NULL, NULL)
        != APR_SUCCESS)
        abort();
    gil.interps = grow(gil.interps, &gil.capinterps, gil.ninterps + 1,
                       sizeof(wsl_interp *));
    gil.interps[gil.ninterps++] = interp;
    return interp;
}

/* Record ts as this thread's state for interp.  Caller holds gil.lock. */
static void own_tstate(wsl_interp *interp, PyThreadState *ts)
{
    tstate_list *list;
    int thread_cap = thread_ntstates;

    gil.owned = grow(gil.owned, &gil.owned_cap, interp->index + 1,
                     sizeof(tstate_list));
    list = &gil.owned[interp->index];
    list->states = grow(list->states, &list->cap, list->count + 1,
                        sizeof(PyThreadState *));
    list->states[list->count++] = ts;

    thread_tstates = grow(thread_tstates, &thread_cap, interp->index + 1,
                          sizeof(PyThreadState *));
    thread_ntstates = thread_cap;
    thread_tstates[interp->index] = ts;
    if (thread_slot < 0) {
        gil.thread_arrays = grow(gil.thread_arrays, &gil.thread_arrays_cap,
                                 gil.nthread_arrays + 1,
                                 sizeof(*gil.thread_arrays));
        thread_slot = gil.nthread_arrays++;
    }
    gil.thread_arrays[thread_slot] = thread_tstates;
    /* What mod_wsgi's WSGIVerboseDebugging logs in embedded mode. */
    if (gil.verbose)
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, gil.server,
                     "WSL00164: thread %d: new Python thread state for "
                     "application group '%s' (pid %d)", thread_slot,
                     interp->index ? interp->name : "%{GLOBAL}",
                     (int)getpid());
}

/* This thread's main-interpreter state, made if it has none.  Caller
 * holds gil.lock. */
static PyThreadState *main_tstate_of_thread(void)
{
    if (thread_ntstates == 0 || !thread_tstates[0])
        own_tstate(gil.interps[0], PyThreadState_New(gil.interps[0]->istate));
    return thread_tstates[0];
}

/* This thread's state for interp, created on first use (GIL not held). */
static PyThreadState *thread_tstate(wsl_interp *interp)
{
    PyThreadState *ts;

    if (interp->index < thread_ntstates && thread_tstates[interp->index])
        return thread_tstates[interp->index];

    apr_thread_mutex_lock(gil.lock);
    /* Main interpreter first: it must own the GILState binding. */
    if (interp->index != 0)
        main_tstate_of_thread();
    ts = PyThreadState_New(interp->istate);
    own_tstate(interp, ts);
    apr_thread_mutex_unlock(gil.lock);
    return ts;
}

wsl_interp *wsl_gil_add_main(void)
{
    wsl_interp *interp;

    apr_thread_mutex_lock(gil.lock);
    interp = add_interp("", PyThreadState_Get()->interp);
    own_tstate(interp, PyThreadState_Get());
    gil.main_interp = interp;
    apr_thread_mutex_unlock(gil.lock);
    thread_in_setup++;
    return interp;
}

void wsl_gil_main_setup_done(void)
{
    gil.main_tstate = PyEval_SaveThread();
    thread_in_setup--;
}

/*
 * The sub-interpreter, with the calling thread's state for it current.
 * Called with the main interpreter's GIL; returns with the new
 * interpreter's (its own, the main one released, when own_gil) or, on
 * failure, with NULL and the main interpreter's state current again.
 */
static PyThreadState *new_interpreter(int own_gil, const char **why)
{
    *why = "Py_NewInterpreter() failed";
#if PY_VERSION_HEX >= 0x030C0000
    if (own_gil) {
        PyThreadState *ts = NULL;
        /*
         * CPython's isolated configuration: an own GIL needs the
         * interpreter's own object allocator, which needs every extension
         * module checked for multi-interpreter support.  fork, exec and
         * daemon threads are refused there, as in CPython's default for
         * such interpreters: a fork from one interpreter while another
         * runs would copy a process mid-call.
         */
        PyInterpreterConfig config = {
            .use_main_obmalloc = 0,
            .allow_fork = 0,
            .allow_exec = 0,
            .allow_threads = 1,
            .allow_daemon_threads = 0,
            .check_multi_interp_extensions = 1,
            .gil = PyInterpreterConfig_OWN_GIL,
        };
        PyStatus status = Py_NewInterpreterFromConfig(&ts, &config);

        if (PyStatus_Exception(status)) {
            *why = status.err_msg ? status.err_msg
                                  : "Py_NewInterpreterFromConfig() failed";
            ts = NULL;
        }
        return ts;
    }
#else
    (void)own_gil;
#endif
    return Py_NewInterpreter();
}

/*
 * Py_NewInterpreter needs the GIL, which we take with this thread's
 * main-interpreter state; the state it returns becomes this thread's state
 * for the new interpreter.
 */
wsl_interp *wsl_gil_new_interpreter(const char *name, int member,
                                    int members, int own_gil)
{
    PyThreadState *main_ts, *ts;
    wsl_interp *interp;
    const char *why;

    apr_thread_mutex_lock(gil.lock);
    main_ts = main_tstate_of_thread();
    apr_thread_mutex_unlock(gil.lock);
    thread_in_setup++;
    PyEval_RestoreThread(main_ts);
    if (!(ts = new_interpreter(own_gil, &why))) {
        PyThreadState_Swap(main_ts);
        PyEval_SaveThread();
        thread_in_setup--;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, gil.server,
                     "WSL00002: cannot create a Python sub-interpreter for "
                     "application group '%s' (interpreter %d of %d%s): %s",
                     name, member + 1, members,
                     own_gil ? ", its own GIL" : "", why);
        return NULL;
    }
    apr_thread_mutex_lock(gil.lock);
    interp = add_interp(name, ts->interp);
    interp->member = member;
    interp->members = members;
    interp->own_gil = own_gil;
    if (own_gil)
        interp->turns = wsl_turns_new();
    own_tstate(interp, ts);
    apr_thread_mutex_unlock(gil.lock);
    return interp;
}

void wsl_gil_setup_done(void)
{
    PyEval_SaveThread();
    thread_in_setup--;
}

/* Keep the interpreter registered (its index is in every thread's table)
 * but unusable, so that the next request tries afresh. */
void wsl_gil_setup_failed(wsl_interp *interp)
{
    Py_EndInterpreter(PyThreadState_Get());
    if (!interp->own_gil) {
        /* No state is current: make this thread's main state current
         * (3.11: the shared GIL is still held; 3.12+: the swap takes it)
         * and give the GIL back with it.  An own GIL ended with its
         * interpreter, and nothing is held. */
        PyThreadState_Swap(thread_tstates[0]);
        PyEval_SaveThread();
    }
    apr_thread_mutex_lock(gil.lock);
    thread_tstates[interp->index] = NULL;
    gil.owned[interp->index].count = 0;
    interp->istate = NULL;
    apr_thread_mutex_unlock(gil.lock);
    thread_in_setup--;
}

void wsl_gil_set_turn_interval(wsl_interp *interp,
                               apr_interval_time_t interval)
{
    if (interp->turns)
        wsl_turns_set_interval(interp->turns, interval);
}

/* Into interp with its GIL: a turn first if it has turns and this
 * thread holds none (one held already is kept, never a second). */
static void enter(wsl_interp *interp, int with_turn)
{
    thread_depth++;
    if (with_turn && interp->turns && !wsl_turns_held()) {
        wsl_turns_take(interp->turns);
        thread_turn_depth = thread_depth;
    }
    PyEval_RestoreThread(thread_tstate(interp));
}

void wsl_gil_enter(wsl_interp *interp)
{
    enter(interp, 1);
}

void wsl_gil_enter_unqueued(wsl_interp *interp)
{
    enter(interp, 0);
}

void wsl_gil_leave(void)
{
    wsl_turns *held;

    PyEval_SaveThread();
    if ((held = wsl_turns_held()) && thread_depth == thread_turn_depth)
        wsl_turns_give(held);
    if (thread_depth > 0)
        thread_depth--;
}

/* The turn is kept: the module's own I/O is short when the client keeps
 * up, and a thread blocked in it is seen asleep and lets the next one
 * in (turns.c).  Giving it up and taking it back there was two more
 * hand-offs per request, each a wake. */
PyThreadState *wsl_gil_release(void)
{
    return PyEval_SaveThread();
}

void wsl_gil_reacquire(PyThreadState *tstate)
{
    PyEval_RestoreThread(tstate);
}

/* Under gil.lock, which a GIL does not replace: a request of %{GLOBAL}
 * asks for the main interpreter without any GIL, and another thread may
 * be registering a new group (moving the array) meanwhile.  The main
 * interpreter, asked for on every such request, is read without it: it
 * is set once, at child start. */
int wsl_gil_count(void)
{
    int n;

    apr_thread_mutex_lock(gil.lock);
    n = gil.ninterps;
    apr_thread_mutex_unlock(gil.lock);
    return n;
}

wsl_interp *wsl_gil_interp(int index)
{
    wsl_interp *interp = NULL;

    if (index == 0)
        return gil.main_interp;
    apr_thread_mutex_lock(gil.lock);
    if (index > 0 && index < gil.ninterps)
        interp = gil.interps[index];
    apr_thread_mutex_unlock(gil.lock);
    return interp;
}

const char *wsl_interp_group_of(PyInterpreterState *istate)
{
    const char *group = NULL;
    int i;

    apr_thread_mutex_lock(gil.lock);
    for (i = 0; i < gil.ninterps; i++) {
        if (gil.interps[i]->istate == istate) {
            group = i ? gil.interps[i]->name : "%{GLOBAL}";
            break;
        }
    }
    apr_thread_mutex_unlock(gil.lock);
    return group;
}

int wsl_interp_subinterpreters(void)
{
    int i, n = 0;

    apr_thread_mutex_lock(gil.lock);
    for (i = 1; i < gil.ninterps; i++) {
        if (gil.interps[i]->istate)
            n++;
    }
    apr_thread_mutex_unlock(gil.lock);
    return n;
}

/* Interpreters that share the main GIL are covered by the main one. */
static int has_own_lock(const wsl_interp *interp)
{
    return interp->index == 0 || interp->own_gil;
}

void wsl_py_gil_touch(void)
{
    int i, n = wsl_gil_count();

    for (i = 0; i < n; i++) {
        wsl_interp *interp = wsl_gil_interp(i);

        if (!interp || !interp->istate || !has_own_lock(interp) ||
            !__atomic_load_n(&interp->serving, __ATOMIC_ACQUIRE))
            continue;
        wsl_gil_enter_unqueued(interp);
        wsl_gil_leave();
        __atomic_store_n(&interp->gil_seen, wsl_clock_now(),
                         __ATOMIC_RELAXED);
    }
}

const char *wsl_py_gil_stalled(apr_interval_time_t limit,
                               apr_time_t watch_began, apr_pool_t *p)
{
    apr_time_t now = wsl_clock_now();
    int i, n = wsl_gil_count();

    for (i = 0; i < n; i++) {
        wsl_interp *interp = wsl_gil_interp(i);
        apr_time_t seen;

        if (!interp || !interp->istate || !has_own_lock(interp) ||
            !__atomic_load_n(&interp->serving, __ATOMIC_ACQUIRE))
            continue;
        /* Not taken by the watch yet: waited for since the watch began
         * (or since the process did, for a GIL stuck from the start). */
        if (!(seen = __atomic_load_n(&interp->gil_seen, __ATOMIC_RELAXED)))
            seen = watch_began;
        if (now - seen > limit)
            return apr_psprintf(p, "the GIL of %s%s%s has not been free "
                                "for %d s", i ? "application group '" : "",
                                i ? interp->name : "the main interpreter",
                                i ? "'" : "", (int)apr_time_sec(now - seen));
    }
    return NULL;
}

/* ---- child exit ---- */

int wsl_gil_busy(void)
{
    return thread_depth > 0 || thread_in_setup;
}

void wsl_gil_enter_exit(void)
{
    PyEval_RestoreThread(gil.main_tstate);
}

void wsl_gil_pause_ms(int ms)
{
    Py_BEGIN_ALLOW_THREADS
    apr_sleep(apr_time_from_msec(ms));
    Py_END_ALLOW_THREADS
}

/* Is ts one of the thread states we made for interp? */
static int owned_by_us(wsl_interp *interp, PyThreadState *ts)
{
    tstate_list *list;
    int i;

    if (!gil.owned || interp->index >= gil.owned_cap)
        return 0;
    list = &gil.owned[interp->index];
    for (i = 0; i < list->count; i++) {
        if (list->states[i] == ts)
            return 1;
    }
    return 0;
}

/* Under interp's GIL: its thread states are made and deleted with it
 * held. */
static int count_foreign(wsl_interp *interp, PyThreadState *also_ours)
{
    PyThreadState *ts;
    int n = 0;

    for (ts = PyInterpreterState_ThreadHead(interp->istate); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts != also_ours && !owned_by_us(interp, ts))
            n++;
    }
    return n;
}

/* Main GIL held.  Another interpreter's own GIL is taken for the count:
 * its threads run on meanwhile, making and ending states. */
int wsl_gil_foreign_threads(wsl_interp *interp, PyThreadState *also_ours)
{
    PyThreadState *visit;
    int n;

    if (!interp->own_gil)
        return count_foreign(interp, also_ours);
    visit = wsl_gil_visit(interp);
    n = count_foreign(interp, visit);
    wsl_gil_visit_end(interp, visit);
    return n;
}

/* Delete the thread states we made for interp, except `keep`.  GIL held
 * with `keep` (or another state of the process) current. */
static void drop_owned(wsl_interp *interp, PyThreadState *keep)
{
    tstate_list *list;
    int i;

    if (!gil.owned || interp->index >= gil.owned_cap)
        return;
    list = &gil.owned[interp->index];
    for (i = 0; i < list->count; i++) {
        if (list->states[i] == keep || !list->states[i])
            continue;
        PyThreadState_Clear(list->states[i]);
        PyThreadState_Delete(list->states[i]);
    }
    list->count = 0;
}

PyThreadState *wsl_gil_visit(wsl_interp *interp)
{
    PyThreadState *visit = PyThreadState_New(interp->istate);

    if (interp->own_gil) {
        PyEval_SaveThread();
        PyEval_RestoreThread(visit);
    }
    else {
        PyThreadState_Swap(visit);
    }
    return visit;
}

void wsl_gil_visit_end(wsl_interp *interp, PyThreadState *visit)
{
    PyThreadState_Clear(visit);
    if (interp->own_gil) {
        PyThreadState_DeleteCurrent();      /* and its GIL released */
        PyEval_RestoreThread(gil.main_tstate);
        return;
    }
    PyThreadState_Swap(gil.main_tstate);
    PyThreadState_Delete(visit);
}

/* Every worker's state goes first, because threading._shutdown() waits
 * for the thread that first imported threading (a worker, long idle)
 * until its state is deleted. */
int wsl_gil_visit_alone(wsl_interp *interp, PyThreadState *visit)
{
    drop_owned(interp, visit);
    return PyInterpreterState_ThreadHead(interp->istate) == visit &&
           PyThreadState_Next(visit) == NULL;
}

void wsl_gil_end_visited(wsl_interp *interp, PyThreadState *visit)
{
    Py_EndInterpreter(visit);
    apr_thread_mutex_lock(gil.lock);
    interp->istate = NULL;
    apr_thread_mutex_unlock(gil.lock);
    if (interp->own_gil)
        PyEval_RestoreThread(gil.main_tstate);
    else
        PyThreadState_Swap(gil.main_tstate);
}

void wsl_gil_visit_abandon(wsl_interp *interp)
{
    if (interp->own_gil) {
        PyEval_SaveThread();
        PyEval_RestoreThread(gil.main_tstate);
    }
    else {
        PyThreadState_Swap(gil.main_tstate);
    }
}

void wsl_gil_drop_main_workers(void)
{
    drop_owned(gil.interps[0], gil.main_tstate);
}

/* Python finalised and the workers joined: free the bookkeeping arrays
 * (malloc'd, so no pool frees them; valgrind counted them as lost once
 * the module was unloaded). */
void wsl_gil_child_done(void)
{
    int i;

    for (i = 0; i < gil.nthread_arrays; i++)
        free(gil.thread_arrays[i]);
    free(gil.thread_arrays);
    gil.thread_arrays = NULL;
    gil.nthread_arrays = gil.thread_arrays_cap = 0;
    for (i = 0; i < gil.owned_cap; i++)
        free(gil.owned[i].states);
    free(gil.owned);
    gil.owned = NULL;
    gil.owned_cap = 0;
    thread_tstates = NULL;
    thread_ntstates = 0;
    thread_slot = -1;
    for (i = 0; i < gil.ninterps; i++) {
        apr_pool_destroy(gil.interps[i]->pool);
        wsl_turns_free(gil.interps[i]->turns);
        gil.interps[i]->turns = NULL;
    }
    free(gil.interps);          /* the wsl_interp themselves are pooled */
    gil.interps = NULL;
    gil.ninterps = gil.capinterps = 0;
    gil.main_interp = NULL;
}
