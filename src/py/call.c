/*
 * call.c: one WSGI call, written once for embedded mode (hooks/handler.c)
 * and daemon mode (daemon/worker.c): load the script's callable, build
 * the environ from the request's snapshot, call the application, stream
 * its result, call close(), and turn any Python failure into one logged
 * traceback plus a status (or, once the headers have gone, a response
 * the client sees truncated).  It talks to the outside world only through
 * the call's I/O table (wsl_io_ops).
 */
#include "py.h"

/* PEP 3333: close() is called once, however the response ended.  Returns
 * -1 with its exception set if close() itself failed. */
static int call_close(PyObject *result)
{
    PyObject *close, *res;

    /* The common answer, a list, has no close(): skip the lookup and the
     * AttributeError it would build and throw away. */
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
        return 0;
    if (!(close = PyObject_GetAttrString(result, "close"))) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    res = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    if (!res)
        return -1;
    Py_DECREF(res);
    return 0;
}

/* Status for a failed application: a 500 unless the failure came from
 * reading the body.  That one is the client's, as for mod_cgi: Apache maps
 * what it knows (413 over LimitRequestBody, 408, 501), and anything else,
 * such as a body cut short of its Content-Length, is a 400. */
static int failure_status(wsl_call *call)
{
    request_rec *r = call->r;

    if (call->headers_sent) {
        call->io_ops->discard(call);
        call->io_ops->truncate(call);
        return OK;
    }
    call->io_ops->discard(call);
    r->status = HTTP_OK;
    r->status_line = NULL;
    if (call->input_error != APR_SUCCESS)
        return ap_map_http_request_error(call->input_error,
                                         HTTP_BAD_REQUEST);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* The body is over, whatever happens next: a write() from close() (or
 * from a thread) must not add to a response that has ended. */
static void end_body(wsl_call *call)
{
    if (wsl_guard_enter(call->guard, "the response")) {
        call->body_done = 1;
        wsl_guard_leave(call->guard);
    }
}

/* environ, with the keys mod_wsgi sets only for the application. */
static PyObject *build_environ(wsl_call *call, const wsl_snapshot *snap,
                               PyObject *input, PyObject *errors)
{
    PyObject *environ = wsl_environ_build(snap, call->interp, input, errors,
                                          call->apache_request);

    if (environ && wsl_environ_add_handler_keys(environ, call, snap) < 0)
        Py_CLEAR(environ);
    return environ;
}

/*
 * Everything the request does in Python, GIL held.  The end of the
 * response may be left for the caller to send (the I/O's own business:
 * io_apache.c sends it once the handler has dropped the GIL).
 *
 * The objects handed to the application reach the request only through
 * its guard, and the guard is ended before anything here touches the
 * request again: from then on no other thread can, and no call of theirs
 * is in progress.  Event callbacks (events.c) run on this thread, with
 * the guard not held: request_started before the application, and
 * request_finished once the guard has ended, so that what the request
 * counted is final and nothing a callback keeps reaches the request.
 */
int wsl_call_run(wsl_call *call, const char *script,
                 const apr_finfo_t *finfo, const char *callable,
                 const wsl_snapshot *snap)
{
    request_rec *r = call->r;
    wsl_interp *interp = call->interp;
    PyObject *app = NULL, *input = NULL, *errors = NULL, *sr = NULL;
    PyObject *environ = NULL, *result = NULL;
    apr_time_t finish = 0, finish_clock = 0;
    int status = OK, load_status, rc = -1;

    /* Before the script loads: code run at its import may already ask
     * for mod_wsgi.request_data(), as under mod_wsgi. */
    if (wsl_metrics_request_begin(call) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    app = wsl_script_callable(r, interp, script, finfo, callable,
                              call->script_reloading, &load_status);
    if (!app) {
        status = load_status;
        goto done;
    }
    if (!(call->guard = wsl_guard_new(r, call))) {
        wsl_log_python_error(r, interp, "setting up the request");
        status = HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    if ((input = wsl_input_new(call)) &&
        (errors = wsl_log_new(interp, call->guard, r->server, APLOG_ERR)) &&
        (sr = wsl_start_response_new(call))) {
        call->app_start = apr_time_now();    /* mod_wsgi.script_start */
        call->app_clock = wsl_clock_now();
        environ = build_environ(call, snap, input, errors);
    }
    if (environ) {
        /* Set before any callback can hand the environ to a thread. */
        if ((call->timed = wsl_events_subscribed(interp)))
            wsl_events_request_started(call, &app, environ);
        wsl_metrics_application_called(call);
        if ((result = PyObject_CallFunctionObjArgs(app, environ, sr, NULL)))
            rc = wsl_output_result(call, result);
    }

    if (result) {
        /* close() runs even when iterating failed.  Its own failure is
         * logged, but a body that was complete stays complete: the
         * response is right, only the application's clean-up went wrong. */
        PyObject *type, *value, *tb;

        PyErr_Fetch(&type, &value, &tb);
        end_body(call);
        if (call_close(result) < 0)
            wsl_events_log_exception(call, "close() of the response");
        if (type)
            PyErr_Restore(type, value, tb);
    }
    if (rc < 0)
        wsl_events_log_exception(call,
                                 apr_psprintf(r->pool, "the WSGI application "
                                              "in '%s'", script));
    if (errors)
        wsl_log_flush(errors);
    wsl_guard_end(call->guard);

    if (rc < 0) {
        status = failure_status(call);
    }
    else if (call->discard_body) {
        /* WSGIErrorOverride: Apache answers with its ErrorDocument. */
        status = r->status;
        r->status = HTTP_OK;
        r->status_line = NULL;
    }
    if (environ && wsl_events_subscribed(interp)) {
        /* mod_wsgi's request_finished comes after the last byte, and its
         * output_time counts the last pass. */
        call->io_ops->send_pending(call);
        finish = apr_time_now();         /* application_finish */
        finish_clock = wsl_clock_now();
        wsl_events_request_finished(call, finish, finish_clock);
    }

    Py_XDECREF(result);
    Py_XDECREF(environ);
    Py_XDECREF(sr);
    Py_XDECREF(errors);
    Py_XDECREF(input);
    call->io_ops->release(call);
    wsl_guard_unref(call->guard);
    call->guard = NULL;
done:
    Py_XDECREF(app);
    wsl_metrics_request_end(call, finish_clock ? finish_clock
                                               : wsl_clock_now());
    return status;
}

