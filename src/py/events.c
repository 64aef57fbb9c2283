/*
 * events.c: mod_wsgi's event callbacks.  mod_wsgi.subscribe_events(cb)
 * adds cb to the interpreter's mod_wsgi.event_callbacks; each event then
 * calls cb(name, **fields), with mod_wsgi 4.9.4's names and fields:
 *
 *   request_started    before the application is called; a callback that
 *                      returns {'application_object': wrapper} has the
 *                      wrapper called instead (APM agents do this)
 *   response_started   start_response() succeeded
 *   request_exception  the application failed (after its traceback is
 *                      logged), with exception_info = (type, value, tb)
 *   request_finished   the response is over: sizes, counts and times
 *   process_stopping   the child exits; shutdown_callbacks hear it too
 *
 * A callback that returns a dict adds its items to the fields the next
 * callbacks get.  One that raises is logged with its traceback and the
 * request goes on as if it had not been there.  With no subscriber each
 * publisher costs one dict probe and builds nothing.
 *
 * Every function here runs with the GIL held and no exception pending.
 */
#include "pymodule.h"

int wsl_events_subscribed(wsl_interp *interp)
{
    return wsl_pymodule_list(interp, PM_EVENT_CALLBACKS) != NULL;
}

/* Log the pending exception of something done for event `ev`. */
static void log_failure(wsl_interp *interp, request_rec *r, server_rec *s,
                        wsl_event ev, const char *doing, PyObject *id)
{
    PyObject *name = PyTuple_GET_ITEM(interp->pymodule->event_args[ev], 0);
    PyObject *type, *value, *tb;
    const char *id_text, *name_text;
    char what[160];

    /* The names are ASCII str, but no C API call with an exception
     * pending. */
    PyErr_Fetch(&type, &value, &tb);
    id_text = id ? PyUnicode_AsUTF8(id) : NULL;
    name_text = PyUnicode_AsUTF8(name);
    PyErr_Clear();
    apr_snprintf(what, sizeof(what), "%s '%s'%s%s", doing,
                 name_text ? name_text : "?", id_text ? " of request " : "",
                 id_text ? id_text : "");
    PyErr_Restore(type, value, tb);
    if (r)
        wsl_log_python_error(r, interp, what);
    else
        wsl_log_python_error_server(s, interp, what);
}

/* cb(name, **event) for each callback in `list` (borrowed), in order;
 * the list may change under us (a callback subscribing another). */
static void call_each(wsl_interp *interp, request_rec *r, server_rec *s,
                      PyObject *list, wsl_event ev, PyObject *event,
                      PyObject *id)
{
    PyObject *args = interp->pymodule->event_args[ev];
    Py_ssize_t i;

    Py_INCREF(list);
    for (i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *cb = Py_NewRef(PyList_GET_ITEM(list, i));
        PyObject *res = PyObject_Call(cb, args, event);

        Py_DECREF(cb);
        if (res && PyDict_Check(res) && PyDict_Update(event, res) < 0)
            Py_CLEAR(res);
        if (!res)
            log_failure(interp, r, s, ev, "the event callback for", id);
        Py_XDECREF(res);
    }
    Py_DECREF(list);
}

static void publish(wsl_interp *interp, request_rec *r, server_rec *s,
                    wsl_event ev, PyObject *event, PyObject *id)
{
    PyObject *list = wsl_pymodule_list(interp, PM_EVENT_CALLBACKS);

    if (list)
        call_each(interp, r, s, list, ev, event, id);
    if (ev == WSL_EV_PROCESS_STOPPING &&
        (list = wsl_pymodule_list(interp, PM_SHUTDOWN_CALLBACKS)))
        call_each(interp, r, s, list, ev, event, id);
}

void wsl_events_request_started(wsl_call *call, PyObject **app,
                                PyObject *environ)
{
    wsl_interp *interp = call->interp;
    PyObject **k = interp->pymodule->key, *event, *obj;

    wsl_metrics_thread_cpu(&call->cpu_user, &call->cpu_system);
    if (!(event = PyDict_New()) ||
        wsl_dict_steal(event, k[PM_REQUEST_ID],
            Py_NewRef(call->request_id)) < 0 ||
        wsl_dict_steal(event, k[PM_THREAD_ID],
            PyLong_FromLong(wsl_metrics_thread_id(call->thread))) < 0 ||
        wsl_dict_steal(event, k[PM_DAEMON_CONNECTS], PyLong_FromLong(0)) < 0 ||
        wsl_dict_steal(event, k[PM_DAEMON_RESTARTS], PyLong_FromLong(0)) < 0 ||
        wsl_dict_steal(event, k[PM_REQUEST_START],
            PyFloat_FromDouble(seconds(call->r->request_time))) < 0 ||
        /* Embedded mode: no queue, no daemon; mod_wsgi says 0.0. */
        wsl_dict_steal(event, k[PM_QUEUE_START],
            PyFloat_FromDouble(0.0)) < 0 ||
        wsl_dict_steal(event, k[PM_DAEMON_START],
            PyFloat_FromDouble(0.0)) < 0 ||
        wsl_dict_steal(event, k[PM_APPLICATION_OBJECT], Py_NewRef(*app)) < 0 ||
        wsl_dict_steal(event, k[PM_REQUEST_ENVIRON], Py_NewRef(environ)) < 0 ||
        wsl_dict_steal(event, k[PM_APPLICATION_START],
            PyFloat_FromDouble(seconds(call->app_start))) < 0 ||
        wsl_dict_steal(event, k[PM_REQUEST_DATA],
            Py_NewRef(call->request_data)) < 0) {
        log_failure(interp, call->r, NULL, WSL_EV_REQUEST_STARTED,
                    "building the event", NULL);
        Py_XDECREF(event);
        return;
    }
    publish(interp, call->r, NULL, WSL_EV_REQUEST_STARTED, event,
            call->request_id);
    /* A callback's wrapper stands in for the application. */
    obj = PyDict_GetItemWithError(event, k[PM_APPLICATION_OBJECT]);
    if (obj && obj != *app)
        Py_SETREF(*app, Py_NewRef(obj));
    PyErr_Clear();
    Py_DECREF(event);
}

void wsl_events_response_started(wsl_interp *interp, server_rec *s,
                                 PyObject *request_id,
                                 PyObject *request_data, PyObject *status,
                                 PyObject *headers, PyObject *exc_info)
{
    PyObject **k, *event;

    if (!wsl_events_subscribed(interp))
        return;
    k = interp->pymodule->key;
    if (!(event = PyDict_New()) ||
        wsl_dict_steal(event, k[PM_REQUEST_ID], Py_NewRef(request_id)) < 0 ||
        wsl_dict_steal(event, k[PM_RESPONSE_STATUS], Py_NewRef(status)) < 0 ||
        wsl_dict_steal(event, k[PM_RESPONSE_HEADERS],
            Py_NewRef(headers)) < 0 ||
        wsl_dict_steal(event, k[PM_EXCEPTION_INFO], Py_NewRef(exc_info)) < 0 ||
        wsl_dict_steal(event, k[PM_REQUEST_DATA],
            Py_NewRef(request_data)) < 0) {
        log_failure(interp, NULL, s, WSL_EV_RESPONSE_STARTED,
                    "building the event", request_id);
        Py_XDECREF(event);
        return;
    }
    publish(interp, NULL, s, WSL_EV_RESPONSE_STARTED, event, request_id);
    Py_DECREF(event);
}

void wsl_events_log_exception(wsl_call *call, const char *what)
{
    wsl_interp *interp = call->interp;
    PyObject **k, *type, *value, *tb, *info = NULL, *event;
    int subscribed;

    /* The application's exception is pending: set it aside while the
     * module's dict is probed (a probe may raise and clear). */
    PyErr_Fetch(&type, &value, &tb);
    subscribed = wsl_events_subscribed(interp);
    PyErr_Restore(type, value, tb);
    if (subscribed) {
        /* The triple as sys.exc_info() would give it, taken before the
         * log consumes the exception. */
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb && value)
            PyException_SetTraceback(value, tb);
        if (type && !(info = Py_BuildValue("(OOO)", type,
                                           value ? value : Py_None,
                                           tb ? tb : Py_None)))
            PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    wsl_log_python_error(call->r, interp, what);
    if (!info)
        return;
    k = interp->pymodule->key;
    if (!(event = PyDict_New()) ||
        wsl_dict_steal(event, k[PM_REQUEST_ID],
            Py_NewRef(call->request_id)) < 0 ||
        wsl_dict_steal(event, k[PM_EXCEPTION_INFO], Py_NewRef(info)) < 0 ||
        wsl_dict_steal(event, k[PM_REQUEST_DATA],
            Py_NewRef(call->request_data)) < 0)
        log_failure(interp, call->r, NULL, WSL_EV_REQUEST_EXCEPTION,
                    "building the event", NULL);
    else
        publish(interp, call->r, NULL, WSL_EV_REQUEST_EXCEPTION, event,
                call->request_id);
    Py_XDECREF(event);
    Py_DECREF(info);
}

/* This request's share of its thread's CPU, as mod_wsgi reports it: no
 * more than the application's wall time in all. */
static int add_cpu(PyObject *event, PyObject **k, const wsl_call *call,
                   double app_time)
{
    double user, system, total;

    if (call->cpu_user < 0)
        return 0;
    wsl_metrics_thread_cpu(&user, &system);
    if (user < 0)
        return 0;
    user = user - call->cpu_user > 0 ? user - call->cpu_user : 0;
    system = system - call->cpu_system > 0 ? system - call->cpu_system : 0;
    total = user + system;
    if (total > app_time && total > 0) {
        user = user / total * app_time;
        system = app_time - user;
    }
    return (wsl_dict_steal(event, k[PM_CPU_USER_TIME],
                           PyFloat_FromDouble(user)) < 0 ||
            wsl_dict_steal(event, k[PM_CPU_SYSTEM_TIME],
                           PyFloat_FromDouble(system)) < 0) ? -1 : 0;
}

void wsl_events_request_finished(wsl_call *call, apr_time_t finish,
                                 apr_time_t finish_clock)
{
    wsl_interp *interp = call->interp;
    double app_time;
    PyObject **k, *event;

    if (!wsl_events_subscribed(interp))
        return;
    k = interp->pymodule->key;
    app_time = finish_clock > call->app_clock
               ? seconds(finish_clock - call->app_clock) : 0.0;
    if (!(event = PyDict_New()) ||
        wsl_dict_steal(event, k[PM_REQUEST_ID],
            Py_NewRef(call->request_id)) < 0 ||
        wsl_dict_steal(event, k[PM_INPUT_READS],
            PyLong_FromLongLong(call->input_reads)) < 0 ||
        wsl_dict_steal(event, k[PM_INPUT_LENGTH],
            PyLong_FromLongLong(call->input_bytes)) < 0 ||
        wsl_dict_steal(event, k[PM_INPUT_TIME],
            PyFloat_FromDouble(seconds(call->input_time))) < 0 ||
        wsl_dict_steal(event, k[PM_OUTPUT_LENGTH],
            PyLong_FromLongLong(call->bytes_sent)) < 0 ||
        wsl_dict_steal(event, k[PM_OUTPUT_WRITES],
            PyLong_FromLongLong(call->output_writes)) < 0 ||
        add_cpu(event, k, call, app_time) < 0 ||
        wsl_dict_steal(event, k[PM_OUTPUT_TIME],
            PyFloat_FromDouble(seconds(call->output_time))) < 0 ||
        wsl_dict_steal(event, k[PM_APPLICATION_FINISH],
            PyFloat_FromDouble(seconds(finish))) < 0 ||
        wsl_dict_steal(event, k[PM_APPLICATION_TIME],
            PyFloat_FromDouble(app_time)) < 0
        ||
        wsl_dict_steal(event, k[PM_REQUEST_DATA],
            Py_NewRef(call->request_data)) < 0) {
        log_failure(interp, call->r, NULL, WSL_EV_REQUEST_FINISHED,
                    "building the event", NULL);
        Py_XDECREF(event);
        return;
    }
    publish(interp, call->r, NULL, WSL_EV_REQUEST_FINISHED, event,
            call->request_id);
    Py_DECREF(event);
}

void wsl_events_process_stopping(wsl_interp *interp, server_rec *s)
{
    PyObject **k, *event;

    if (!wsl_pymodule_list(interp, PM_EVENT_CALLBACKS) &&
        !wsl_pymodule_list(interp, PM_SHUTDOWN_CALLBACKS))
        return;
    k = interp->pymodule->key;
    /* Embedded mode has no reason to give (mod_wsgi's is '' too): the
     * child stops because Apache stops or replaces it. */
    if (!(event = PyDict_New()) ||
        wsl_dict_steal(event, k[PM_SHUTDOWN_REASON],
            PyUnicode_FromString("")) < 0) {
        log_failure(interp, NULL, s, WSL_EV_PROCESS_STOPPING,
                    "building the event", NULL);
        Py_XDECREF(event);
        return;
    }
    publish(interp, NULL, s, WSL_EV_PROCESS_STOPPING, event, NULL);
    Py_DECREF(event);
}
