/*
 * handler.c: the content handler.  Checks the target, has route.c decide
 * what runs and whether this process may run it, takes the request's
 * snapshot (snapshot.c), enters the application group's interpreter,
 * builds the environ from the snapshot, calls the application, streams
 * its result, calls close(), and turns any Python failure into one logged
 * traceback plus a 500 (or, once the headers have gone, a closed
 * connection so the client sees a truncated response).
 */
#include "hookscript.h"
#include "hooks.h"
#include "request/io_apache.h"

#include "http_core.h"

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
                                          call->r);

    if (environ && wsl_environ_add_handler_keys(environ, call, snap) < 0)
        Py_CLEAR(environ);
    return environ;
}

/*
 * Everything the request does in Python, GIL held.  The end of the
 * response may be left for the caller to send (wsl_io_apache_send_pending).
 *
 * The objects handed to the application reach the request only through
 * its guard, and the guard is ended before anything here touches the
 * request again: from then on no other thread can, and no call of theirs
 * is in progress.  Event callbacks (events.c) run on this thread, with
 * the guard not held: request_started before the application, and
 * request_finished once the guard has ended, so that what the request
 * counted is final and nothing a callback keeps reaches the request.
 */
static int run_application(wsl_call *call, const wsl_route *route,
                           const wsl_snapshot *snap)
{
    request_rec *r = call->r;
    wsl_interp *interp = call->interp;
    PyObject *app = NULL, *input = NULL, *errors = NULL, *sr = NULL;
    PyObject *environ = NULL, *result = NULL;
    apr_time_t finish = 0;
    int status = OK, load_status, rc = -1;

    /* Before the script loads: code run at its import may already ask
     * for mod_wsgi.request_data(), as under mod_wsgi. */
    if (wsl_metrics_request_begin(call) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    app = wsl_script_callable(r, interp, route->script, route->finfo,
                              route->callable, &load_status);
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
                                              "in '%s'", route->script));
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
        wsl_io_apache_send_pending_now(call);
        finish = apr_time_now();
        wsl_events_request_finished(call, finish);
    }

    Py_XDECREF(result);
    Py_XDECREF(environ);
    Py_XDECREF(sr);
    Py_XDECREF(errors);
    Py_XDECREF(input);
    wsl_io_apache_done(call);
    wsl_guard_unref(call->guard);
    call->guard = NULL;
done:
    Py_XDECREF(app);
    wsl_metrics_request_end(call, finish ? finish : apr_time_now());
    return status;
}

/* The WSGIHandlerScript named by r->handler, if any. */
static const wsl_handler_script *handler_script(request_rec *r,
                                                const wsl_dir_config *dconf)
{
    if (!dconf->handler_scripts)
        return NULL;
    return (const wsl_handler_script *)apr_table_get(dconf->handler_scripts,
                                                     r->handler);
}

/* Checks on the file the URL maps to; OK or the status to answer. */
static int check_target(request_rec *r, int by_handler_script)
{
    if (r->finfo.filetype == APR_NOFILE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00040: target '%s' not found (for '%s')",
                      r->filename, r->uri);
        return HTTP_NOT_FOUND;
    }
    if (r->finfo.filetype != APR_REG) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00041: target '%s' is not a regular file",
                      r->filename);
        return HTTP_FORBIDDEN;
    }
    /* As for CGI: a script found by URL mapping runs only where the admin
     * allowed it; WSGIScriptAlias and WSGIHandlerScript are that
     * permission in themselves. */
    if (!by_handler_script && !wsl_request_is_aliased(r) &&
        !(ap_allow_options(r) & OPT_EXECCGI)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00042: Options ExecCGI is off in this directory: "
                      "%s", r->filename);
        return HTTP_FORBIDDEN;
    }
    return OK;
}

int wsl_handler(request_rec *r)
{
    const wsl_dir_config *dconf;
    const wsl_handler_script *hs = NULL;
    apr_finfo_t hs_finfo;
    wsl_dispatch_answer answer;
    wsl_route route;
    const wsl_snapshot *snap;
    wsl_interp *interp;
    wsl_call call;
    apr_status_t rv;
    int status;

    if (!r->handler)
        return DECLINED;
    dconf = ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    if (strcmp(r->handler, WSL_HANDLER) && strcmp(r->handler, WSL_HANDLER_MIME)
        && !(hs = handler_script(r, dconf)))
        return DECLINED;
    if ((status = check_target(r, hs != NULL)) != OK)
        return status;

    if (hs) {
        rv = apr_stat(&hs_finfo, hs->path, APR_FINFO_MTIME | APR_FINFO_SIZE,
                      r->pool);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "WSL00043: WSGIHandlerScript %s: cannot read '%s'",
                          hs->name, hs->path);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    wsl_route_configured(r, hs, &hs_finfo, &route);
    if (dconf->dispatch_script &&
        (status = wsl_dispatch(r, &answer)) != OK)
        return status;
    if ((status = wsl_route_decide(r, dconf->dispatch_script ? &answer : NULL,
                                   &route)) != OK)
        return status;

    status = ap_setup_client_block(r,
                                   wsl_config_flag(dconf->chunked_request, 0)
                                   ? REQUEST_CHUNKED_DECHUNK
                                   : REQUEST_CHUNKED_ERROR);
    if (status != OK)
        return status;

    /* The id Apache logs with %L is mod_wsgi.request_id; mod_wsgi makes
     * one when no one has (an ErrorLogFormat with %L, mod_unique_id).
     * Made here, before the GIL, which every thread queues for; so is the
     * request's snapshot, everything the environ holds but its Python
     * objects. */
    if (!r->log_id)
        ap_run_generate_log_id(r->connection, r, &r->log_id);
    snap = wsl_snapshot_take(r, route.group ? route.group : "",
                             route.callable, route.handler_script);
    if (!(interp = wsl_interp_enter(r, route.group)))
        return HTTP_INTERNAL_SERVER_ERROR;
    memset(&call, 0, sizeof(call));
    call.r = r;
    call.pool = r->pool;
    call.server = r->server;
    call.uri = r->uri;
    call.head_only = r->header_only;
    call.body_length = r->remaining > 0 ? r->remaining : -1;
    call.interp = interp;
    call.content_length = -1;
    call.cpu_user = call.cpu_system = -1;  /* unknown until request_started */
    call.error_override = wsl_config_flag(dconf->error_override, 0);
    wsl_io_apache_attach(&call, r);
    status = run_application(&call, &route, snap);
    wsl_interp_leave();
    wsl_io_apache_send_pending(&call);
    return status;
}
