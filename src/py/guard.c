/*
 * guard.c: the guard that every request-scoped Python object goes
 * through (wsgi.input, wsgi.errors, start_response and write()).
 *
 * Applications hand these objects to threads of their own, keep them in
 * globals, and call them after the request is over.  Their C state (the
 * brigade, r->pool, the input look-ahead) is not thread-safe, and the
 * request_rec is gone once the handler returns.  So every call enters the
 * guard: one lock per request serialises the calls from all threads, the
 * request's end waits for the call in progress (which is bounded by
 * Apache's Timeout, the only thing such a call can block on), and every
 * call after the end fails with RuntimeError.  The guard itself is on the
 * heap and reference counted by the objects, so it outlives the request.
 *
 * Lock order: the request lock before the GIL.  A thread that holds the
 * GIL never blocks on the request lock: it tries it, and when that fails
 * it drops the GIL to wait.  The holder may drop and retake the GIL while
 * it waits on Apache (that is the point: the client is slow, Python runs
 * on).  `owner` is read and written only with the GIL held, so a thread
 * that calls back into the guard from inside a guarded call (a header's
 * __repr__ that calls write()) gets an error instead of a deadlock.
 */
#include "py.h"

#include <pthread.h>

struct wsl_guard {
    pthread_mutex_t lock;
    request_rec *r;             /* NULL once the request has ended */
    wsl_call *call;           /* the handler's state; NULL for hooks */
    pthread_t owner;            /* valid while `owned`; GIL held */
    int owned;
    int refs;                   /* GIL held */
};

wsl_guard *wsl_guard_new(request_rec *r, wsl_call *call)
{
    wsl_guard *guard = PyMem_RawCalloc(1, sizeof(*guard));

    if (!guard) {
        PyErr_NoMemory();
        return NULL;
    }
    pthread_mutex_init(&guard->lock, NULL);
    guard->r = r;
    guard->call = call;
    guard->refs = 1;
    return guard;
}

wsl_guard *wsl_guard_ref(wsl_guard *guard)
{
    guard->refs++;
    return guard;
}

void wsl_guard_unref(wsl_guard *guard)
{
    if (!guard || --guard->refs > 0)
        return;
    pthread_mutex_destroy(&guard->lock);
    PyMem_RawFree(guard);
}

/* Take the lock, dropping the GIL while waiting for it. */
static void lock_guard(wsl_guard *guard)
{
    PyThreadState *ts;

    if (pthread_mutex_trylock(&guard->lock) == 0)
        return;
    ts = wsl_gil_release();
    pthread_mutex_lock(&guard->lock);
    wsl_gil_reacquire(ts);
}

request_rec *wsl_guard_enter(wsl_guard *guard, const char *what)
{
    if (guard->owned && pthread_equal(guard->owner, pthread_self())) {
        PyErr_Format(PyExc_RuntimeError, "%s called from inside another "
                     "call on the same request", what);
        return NULL;
    }
    if (guard->r) {
        lock_guard(guard);
        /* Checked again under the lock: the end may have come while this
         * thread waited for it. */
        if (!guard->r)
            pthread_mutex_unlock(&guard->lock);
    }
    if (!guard->r) {
        PyErr_Format(PyExc_RuntimeError, "%s called after its request "
                     "ended", what);
        return NULL;
    }
    guard->owner = pthread_self();
    guard->owned = 1;
    return guard->r;
}

void wsl_guard_leave(wsl_guard *guard)
{
    guard->owned = 0;
    pthread_mutex_unlock(&guard->lock);
}

wsl_call *wsl_guard_request(wsl_guard *guard)
{
    return guard->call;
}

int wsl_guard_ended(const wsl_guard *guard)
{
    return guard->r == NULL;
}

void wsl_guard_end(wsl_guard *guard)
{
    lock_guard(guard);
    guard->r = NULL;
    guard->call = NULL;
    pthread_mutex_unlock(&guard->lock);
}
