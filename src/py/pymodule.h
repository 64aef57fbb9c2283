/*
 * pymodule.h: what pymodule.c (the mod_wsgi_lite module), events.c (its
 * event callbacks) and metrics.c (its counters and *_metrics() functions)
 * share.  Nothing outside those three files includes it.
 */
#ifndef WSL_PYMODULE_H
#define WSL_PYMODULE_H

#include "py.h"

/* Names interned once per interpreter: the module's own attributes that
 * are looked up per request, the event names and the events' fields. */
enum {
    PM_EVENT_CALLBACKS, PM_SHUTDOWN_CALLBACKS, PM_ACTIVE_REQUESTS,
    /* event fields */
    PM_REQUEST_ID, PM_THREAD_ID, PM_DAEMON_CONNECTS, PM_DAEMON_RESTARTS,
    PM_REQUEST_START, PM_QUEUE_START, PM_DAEMON_START,
    PM_APPLICATION_OBJECT, PM_REQUEST_ENVIRON, PM_APPLICATION_START,
    PM_REQUEST_DATA, PM_RESPONSE_STATUS, PM_RESPONSE_HEADERS,
    PM_EXCEPTION_INFO, PM_INPUT_READS, PM_INPUT_LENGTH, PM_INPUT_TIME,
    PM_OUTPUT_LENGTH, PM_OUTPUT_WRITES, PM_OUTPUT_TIME, PM_CPU_USER_TIME,
    PM_CPU_SYSTEM_TIME, PM_APPLICATION_FINISH, PM_APPLICATION_TIME,
    PM_SHUTDOWN_REASON,
    PM_KEY_COUNT
};

/* The events, in mod_wsgi's names. */
typedef enum {
    WSL_EV_REQUEST_STARTED, WSL_EV_RESPONSE_STARTED, WSL_EV_REQUEST_EXCEPTION,
    WSL_EV_REQUEST_FINISHED, WSL_EV_PROCESS_STOPPING,
    WSL_EV_COUNT
} wsl_event;

struct wsl_pymodule {
    PyObject *module;           /* mod_wsgi_lite = sys.modules['mod_wsgi'] */
    PyObject *dict;             /* its __dict__, borrowed from it */
    PyObject *key[PM_KEY_COUNT];
    PyObject *event_args[WSL_EV_COUNT];  /* (name,): a callback's args */
};

/* An APR time or interval as the float seconds mod_wsgi's fields hold. */
static inline double seconds(apr_time_t t)
{
    return (double)t / APR_USEC_PER_SEC;
}

/* metrics.c, for the module's functions and attributes. */
PyObject *wsl_py_request_data(PyObject *module, PyObject *unused);
PyObject *wsl_py_process_metrics(PyObject *module, PyObject *unused);
PyObject *wsl_py_server_metrics(PyObject *module, PyObject *unused);
PyObject *wsl_py_request_metrics(PyObject *module, PyObject *unused);
/* The MPM's process and thread counts, computed as mod_wsgi does (for
 * maximum_processes, threads_per_process and request_metrics()). */
int wsl_mpm_maximum_processes(void);
int wsl_mpm_threads_per_process(void);

/* The list in the module's attribute `key` (event_callbacks,
 * shutdown_callbacks) if it is a non-empty list, else NULL; borrowed, no
 * exception.  Inline, as events.c reads it per request: a look into the
 * struct above, not a call back into pymodule.c. */
static inline PyObject *wsl_pymodule_list(wsl_interp *interp, int key)
{
    wsl_pymodule *pm = interp->pymodule;
    PyObject *list;

    if (!pm)
        return NULL;
    /* Looked up each time, as mod_wsgi does: an application may replace
     * the list.  The key is interned, so this is one hash probe. */
    list = PyDict_GetItemWithError(pm->dict, pm->key[key]);
    if (!list) {
        PyErr_Clear();
        return NULL;
    }
    return PyList_Check(list) && PyList_GET_SIZE(list) > 0 ? list : NULL;
}

#endif /* WSL_PYMODULE_H */
