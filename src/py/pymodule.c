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
 * embedded-mode values.
 *
 * mod_wsgi_lite is a multi-phase module (PEP 489) with a state: each
 * interpreter's has its own copy of the module's Python types (py.h's
 * wsl_types), made from the specs of the files that define them, so that
 * no object is shared between interpreters and the module may declare
 * itself fit for interpreters with a GIL of their own (3.12+).  It is not
 * found by an import: it is made here, from its definition and a spec,
 * when the interpreter is set up.
 *
 * Not here: the callbacks' publishing (events.c), the counters behind
 * request_data() and the *_metrics() functions (metrics.c).
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

/* The spec of each of the module's types, by wsl_type_id. */
static PyType_Spec *const type_specs[WSL_TYPE_COUNT] = {
    [WSL_TYPE_LOG] = &wsl_py_log_spec,
    [WSL_TYPE_LOG_BUFFER] = &wsl_py_log_buffer_spec,
    [WSL_TYPE_INPUT] = &wsl_py_input_spec,
    [WSL_TYPE_START_RESPONSE] = &wsl_py_start_response_spec,
    [WSL_TYPE_FILE_WRAPPER] = &wsl_py_file_wrapper_spec,
};

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
      "Apache's scoreboard and the daemon groups (daemon_groups) as a "
      "dict; None unless WSGIServerMetrics On." },
    { "request_metrics", wsl_py_request_metrics, METH_NOARGS,
      "Request timings since the previous call (the first call starts "
      "the sampling and returns {})." },
    { NULL }
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

/* The attributes that are the same in every interpreter
 * (application_group is added by wsl_pymodule_init). */
static int fill_mod_wsgi(PyObject *m, wsl_types *types)
{
    return (add(m, "version",
                Py_BuildValue("(iii)", WSL_MOD_WSGI_VERSION_TUPLE))
            || add(m, "lite_version",
                   Py_BuildValue("(iii)", WSL_VERSION_TUPLE))
            || add(m, "process_group", latin1(wsl_process_group_name()))
            || add(m, "maximum_processes",
                   PyLong_FromLong(wsl_process_processes()))
            || add(m, "threads_per_process",
                   PyLong_FromLong(wsl_process_threads()))
            || add(m, "FileWrapper",
                   Py_NewRef((PyObject *)
                             types->type[WSL_TYPE_FILE_WRAPPER]))
            || add(m, "event_callbacks", PyList_New(0))
            || add(m, "shutdown_callbacks", PyList_New(0))
            || add(m, "active_requests", PyDict_New())) ? -1 : 0;
}

/* Py_mod_exec: the interpreter's own types, then the attributes. */
static int module_exec(PyObject *m)
{
    wsl_types *types = PyModule_GetState(m);
    int i;

    if (!types)
        return -1;
    for (i = 0; i < WSL_TYPE_COUNT; i++) {
        PyObject *type = PyType_FromModuleAndSpec(m, type_specs[i], NULL);

        if (!type)
            return -1;
        types->type[i] = (PyTypeObject *)type;
    }
    return fill_mod_wsgi(m, types);
}

/* The state holds the types; each type refers back to the module (its
 * PyType_GetModule), so the collector must see both ways. */
static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    wsl_types *types = PyModule_GetState(m);
    int i;

    for (i = 0; types && i < WSL_TYPE_COUNT; i++)
        Py_VISIT(types->type[i]);
    return 0;
}

static int module_clear(PyObject *m)
{
    wsl_types *types = PyModule_GetState(m);
    int i;

    for (i = 0; types && i < WSL_TYPE_COUNT; i++)
        Py_CLEAR(types->type[i]);
    return 0;
}

static void module_free(void *m)
{
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    { Py_mod_exec, module_exec },
#if PY_VERSION_HEX >= 0x030C0000
    /* Nothing of the module's is shared between interpreters, and what
     * the process shares (metrics.c's counters) has a lock of its own. */
    { Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED },
#endif
    { 0, NULL }
};

/* One definition for every interpreter, as PEP 489 intends: what differs
 * between them is in each module's state. */
static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "mod_wsgi_lite",
    .m_doc = "mod_wsgi_lite: the hosting Apache module, also importable "
             "as mod_wsgi.",
    .m_size = sizeof(wsl_types),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

/* mod_wsgi_lite made and executed in the current interpreter (new
 * reference), as an import would, from a spec that only names it. */
static PyObject *module_create(void)
{
    PyObject *machinery, *spec, *m = NULL;

    if (!(machinery = PyImport_ImportModule("importlib.machinery")))
        return NULL;
    spec = PyObject_CallMethod(machinery, "ModuleSpec", "sO",
                               module_def.m_name, Py_None);
    Py_DECREF(machinery);
    if (!spec)
        return NULL;
    m = PyModule_FromDefAndSpec(&module_def, spec);
    Py_DECREF(spec);
    if (m && PyModule_ExecDef(m, &module_def) < 0)
        Py_CLEAR(m);
    return m;
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
    if (!(pm->module = module_create()))
        return -1;
    pm->dict = PyModule_GetDict(pm->module);
    interp->types = PyModule_GetState(pm->module);
    if (add(pm->module, "application_group", latin1(interp->name)) < 0)
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
    if (rc < 0) {
        interp->types = NULL;
        Py_CLEAR(pm->module);
    }
    return rc;
}

void wsl_pymodule_release(wsl_interp *interp)
{
    wsl_pymodule *pm = interp->pymodule;
    int i;

    if (!pm)
        return;
    /* The types live on in the module's state as long as sys.modules, or
     * an object of theirs, keeps them. */
    interp->types = NULL;
    Py_CLEAR(pm->module);
    pm->dict = NULL;
    for (i = 0; i < PM_KEY_COUNT; i++)
        Py_CLEAR(pm->key[i]);
    for (i = 0; i < WSL_EV_COUNT; i++)
        Py_CLEAR(pm->event_args[i]);
    interp->pymodule = NULL;
}
