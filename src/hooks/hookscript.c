/*
 * hookscript.c: running a function from a script that Apache calls
 * outside the content handler (WSGIAuthUserScript, WSGIAuthGroupScript,
 * WSGIAccessScript, WSGIDispatchScript).
 *
 * Such a script is loaded and reloaded exactly like an application script
 * (script.c), in its own application group (%{GLOBAL} unless it says
 * application-group=, as in mod_wsgi), and its functions get an environ
 * built by snapshot.c and environ.c, without wsgi.input: the body belongs
 * to the application.  What the results mean is the caller's business
 * (auth.c, dispatch.c); failures to load or call are logged here, once.
 */
#include "hookscript.h"

int wsl_hook_enter(wsl_hook *hook)
{
    request_rec *r = hook->r;
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    const wsl_server_config *sconf =
        ap_get_module_config(r->server->module_config, &wsgi_lite_module);
    const char *group;
    const wsl_snapshot *snap;
    apr_finfo_t finfo;
    apr_status_t rv;
    PyObject *module;

    hook->module = hook->environ = hook->errors = NULL;
    hook->guard = NULL;
    group = wsl_route_hook_group(r, hook->script);
    hook->group = group ? group : "";

    /* The script is not the request's file: no stat from the directory
     * walk to reuse, so one here (it also drives reloading). */
    rv = apr_stat(&finfo, hook->script->path,
                  APR_FINFO_MTIME | APR_FINFO_SIZE, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "WSL00070: %s: cannot read '%s' (for '%s')",
                      hook->directive, hook->script->path, r->uri);
        return -1;
    }
    /* Before the GIL, as for the handler; no callable, no handler script:
     * mod_wsgi gives hook scripts neither. */
    snap = wsl_snapshot_take(r, hook->group, NULL, NULL);
    if (!(hook->interp = wsl_interp_enter(r, group)))
        return -1;

    module = wsl_script_module(hook->interp, hook->script->path, &finfo,
                               wsl_config_flag(dconf->script_reloading, 1),
                               wsl_config_flag(sconf->case_sensitivity, 1),
                               r->pool);
    if (!module) {
        wsl_log_python_error(r, hook->interp,
                             apr_psprintf(r->pool, "loading the %s '%s'",
                                          hook->directive,
                                          hook->script->path));
        goto fail;
    }
    /* Our own reference: a reload by another thread replaces the entry
     * in the script cache while we still use this one. */
    hook->module = Py_NewRef(module);
    if (!(hook->guard = wsl_guard_new(r, NULL)) ||
        !(hook->errors = wsl_log_new(hook->interp, hook->guard, r->server,
                                     APLOG_ERR)) ||
        !(hook->environ = wsl_environ_build(snap, hook->interp, NULL,
                                            hook->errors, r))) {
        wsl_log_python_error(r, hook->interp,
                             apr_psprintf(r->pool, "building the environ "
                                          "for the %s", hook->directive));
        goto fail;
    }
    return 0;

fail:
    wsl_hook_leave(hook);
    return -1;
}

int wsl_hook_call(wsl_hook *hook, const char *function, int required,
                  PyObject *arg1, PyObject *arg2, PyObject **result)
{
    request_rec *r = hook->r;
    PyObject *func = PyObject_GetAttrString(hook->module, function);

    *result = NULL;
    if (!func) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            goto error;
        PyErr_Clear();
        if (!required)
            return 0;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00071: %s '%s' does not define %s() (for '%s')",
                      hook->directive, hook->script->path, function, r->uri);
        return -1;
    }
    /* arg1 and arg2 may be NULL: the list simply ends there. */
    *result = PyObject_CallFunctionObjArgs(func, hook->environ, arg1, arg2,
                                           NULL);
    Py_DECREF(func);
    if (*result)
        return 1;

error:
    wsl_log_python_error(r, hook->interp,
                         apr_psprintf(r->pool, "%s() in the %s '%s'",
                                      function, hook->directive,
                                      hook->script->path));
    return -1;
}

void wsl_hook_bad_result(wsl_hook *hook, const char *function,
                         PyObject *result, const char *expected)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, hook->r,
                  "WSL00072: %s() in the %s '%s' returned a value of type "
                  "'%s'; it must return %s (for '%s')", function,
                  hook->directive, hook->script->path,
                  Py_TYPE(result)->tp_name, expected, hook->r->uri);
}

void wsl_hook_leave(wsl_hook *hook)
{
    /* The script may keep the environ: its wsgi.errors must not outlive
     * the request it logs for. */
    if (hook->errors)
        wsl_log_flush(hook->errors);
    if (hook->guard) {
        wsl_guard_end(hook->guard);
        wsl_guard_unref(hook->guard);
        hook->guard = NULL;
    }
    Py_CLEAR(hook->environ);
    Py_CLEAR(hook->errors);
    Py_CLEAR(hook->module);
    wsl_interp_leave();
}
