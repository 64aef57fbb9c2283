/*
 * pymodule.c: the Python modules an application imports to learn where
 * it runs, one of each per interpreter, made when the interpreter is:
 *
 * - mod_wsgi_lite, which is also sys.modules['mod_wsgi'] (the same object:
 *   `import mod_wsgi` and `"mod_wsgi" in sys.modules` work as under
 *   mod_wsgi, with the attributes mod_wsgi 4.9.4 gives them);
 * - apache: the server's version, description, MPM and build date.
 *
 * Attributes that only daemon mode can fill (process_group) have their
 * embedded-mode values.  Not here: the callbacks' publishing (events.c),
 * the counters behind request_data() and the *_metrics() functions
 * (metrics.c).
 */
#include "pymodule.h"

#include "ap_mpm.h"
#include "http_config.h"

static const char *const key_names[PM_KEY_COUNT] = {
    "event_callbacks", "shutdown_callbacks", "active_requests",
    "request_id", "thread_id", "daemon_connects", "daemon_restarts",
    "request_start", "queue_start", "daemon_start",
    "application_object", "request_environ", "application_start",
    "request_data", "response_status", "response_headers",
    "exception_info", "input_reads", "input_length", "input_time",
    "output_length", "output_writes", "output_time", "cpu_user_time",
    "cpu_system_time", "application_finish", "application_time",
    "shutdown_reason",
};

static const char *const event_names[WSL_EV_COUNT] = {
    "request_started", "response_started", "request_exception",
    "request_finished", "process_stopping",
};

/* The module's types, ready once per process (they are static today, so
 * shared by every interpreter). */
int wsl_pymodule_types_ready(void)
{
    if (PyType_Ready(&wsl_py_log_type) < 0 ||
        PyType_Ready(&wsl_py_log_buffer_type) < 0 ||
        PyType_Ready(&wsl_py_input_type) < 0 ||
        PyType_Ready(&wsl_py_start_response_type) < 0 ||
        PyType_Ready(&wsl_py_file_wrapper_type) < 0)
        return -1;
    return 0;
}

/* subscribe_events(callback) / subscribe_shutdown(callback): append to
 * the module's list (the one it has now). */
static PyObject *subscribe(PyObject *module, PyObject *callback,
                           const char *name)
{
    PyObject *list = PyObject_GetAttrString(module, name);
    int rc;

    if (!list)
        return NULL;
    if (!PyList_Check(list)) {
        PyErr_Format(PyExc_TypeError, "mod_wsgi.%s must be a list, not "
                     "%.200s", name, Py_TYPE(list)->tp_name);
        Py_DECREF(list);
        return NULL;
    }
    rc = PyList_Append(list, callback);
    Py_DECREF(list);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_subscribe_events(PyObject *module, PyObject *callback)
{
    return subscribe(module, callback, "event_callbacks");
}

static PyObject *py_subscribe_shutdown(PyObject *module, PyObject *callback)
{
    return subscribe(module, callback, "shutdown_callbacks");
}

static PyMethodDef module_methods[] = {
    { "subscribe_events", py_subscribe_events, METH_O,
      "subscribe_events(callback): callback(name, **fields) for each "
      "event (request_started, response_started, request_exception, "
      "request_finished, process_stopping)." },
    { "subscribe_shutdown", py_subscribe_shutdown, METH_O,
      "subscribe_shutdown(callback): callback('process_stopping', "
      "shutdown_reason=...) when the process exits." },
    { "request_data", wsl_py_request_data, METH_NOARGS,
      "The current request's data dict (RuntimeError outside a request)." },
    { "process_metrics", wsl_py_process_metrics, METH_NOARGS,
      "This process's counters: requests, busy time, memory, CPU, "
      "threads." },
    { "server_metrics", wsl_py_server_metrics, METH_NOARGS,
      "Apache's scoreboard as a dict; None unless WSGIServerMetrics On." },
    { "request_metrics", wsl_py_request_metrics, METH_NOARGS,
      "Request timings since the previous call (the first call starts "
      "the sampling and returns {})." },
    { NULL }
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "mod_wsgi_lite",
    .m_doc = "mod_wsgi_lite: the hosting Apache module, also importable "
             "as mod_wsgi.",
    .m_size = 0,
    .m_methods = module_methods,
};

/* module.name = value; `value` is stolen (NULL means an error is set). */
static int add(PyObject *module, const char *name, PyObject *value)
{
    int rc;

    if (!value)
        return -1;
    rc = PyModule_AddObjectRef(module, name, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *latin1(const char *text)
{
    return PyUnicode_DecodeLatin1(text, strlen(text), NULL);
}

static int fill_mod_wsgi(PyObject *m, const char *group)
{
    return (add(m, "version",
                Py_BuildValue("(iii)", WSL_MOD_WSGI_VERSION_TUPLE))
            || add(m, "lite_version",
                   Py_BuildValue("(iii)", WSL_VERSION_TUPLE))
            || add(m, "process_group", latin1(""))
            || add(m, "application_group", latin1(group))
            || add(m, "maximum_processes",
                   PyLong_FromLong(wsl_mpm_maximum_processes()))
            || add(m, "threads_per_process",
                   PyLong_FromLong(wsl_mpm_threads_per_process()))
            || add(m, "FileWrapper",
                   Py_NewRef((PyObject *)&wsl_py_file_wrapper_type))
            || add(m, "event_callbacks", PyList_New(0))
            || add(m, "shutdown_callbacks", PyList_New(0))
            || add(m, "active_requests", PyDict_New())) ? -1 : 0;
}

static int fill_apache(PyObject *m)
{
    ap_version_t v;

    /* The Apache that runs, not the headers this was built with. */
    ap_get_server_revision(&v);
    return (add(m, "version", Py_BuildValue("(iii)", v.major, v.minor,
                                            v.patch))
            || add(m, "maximum_processes",
                   PyLong_FromLong(wsl_mpm_maximum_processes()))
            || add(m, "threads_per_process",
                   PyLong_FromLong(wsl_mpm_threads_per_process()))
            || add(m, "description", latin1(ap_get_server_description()))
            || add(m, "mpm_name", latin1(ap_show_mpm()))
            || add(m, "build_date", latin1(ap_get_server_built())))
           ? -1 : 0;
}

static int intern_names(wsl_pymodule *pm)
{
    int i;

    for (i = 0; i < PM_KEY_COUNT; i++) {
        if (!(pm->key[i] = PyUnicode_InternFromString(key_names[i])))
            return -1;
    }
    for (i = 0; i < WSL_EV_COUNT; i++) {
        if (!(pm->event_args[i] = Py_BuildValue("(s)", event_names[i])))
            return -1;
    }
    return 0;
}

int wsl_pymodule_init(wsl_interp *interp)
{
    wsl_pymodule *pm = apr_pcalloc(interp->pool, sizeof(*pm));
    PyObject *modules = PyImport_GetModuleDict(), *apache = NULL;
    int rc = -1;

    /* Recorded at once, so that wsl_pymodule_release() frees what a
     * failed set-up made. */
    interp->pymodule = pm;
    if (intern_names(pm) < 0)
        return -1;
    if (!(pm->module = PyModule_Create(&module_def)))
        return -1;
    pm->dict = PyModule_GetDict(pm->module);
    if (fill_mod_wsgi(pm->module, interp->name) < 0)
        goto done;
    if (!(apache = PyModule_New("apache")) || fill_apache(apache) < 0)
        goto done;
    /* One object under both names: `mod_wsgi is mod_wsgi_lite`, so a
     * callback subscribed through either is seen by both. */
    if (PyDict_SetItemString(modules, "mod_wsgi_lite", pm->module) < 0 ||
        PyDict_SetItemString(modules, "mod_wsgi", pm->module) < 0 ||
        PyDict_SetItemString(modules, "apache", apache) < 0)
        goto done;
    rc = 0;

done:
    Py_XDECREF(apache);
    if (rc < 0)
        Py_CLEAR(pm->module);
    return rc;
}

void wsl_pymodule_release(wsl_interp *interp)
{
    wsl_pymodule *pm = interp->pymodule;
    int i;

    if (!pm)
        return;
    Py_CLEAR(pm->module);
    pm->dict = NULL;
    for (i = 0; i < PM_KEY_COUNT; i++)
        Py_CLEAR(pm->key[i]);
    for (i = 0; i < WSL_EV_COUNT; i++)
        Py_CLEAR(pm->event_args[i]);
    interp->pymodule = NULL;
}
