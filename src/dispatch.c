/*
 * dispatch.c: WSGIDispatchScript.  Before a WSGI request runs, the
 * script's optional functions, each called with the request's environ
 * (no body), may redirect it:
 *
 *   application_group(environ)  the application group (a name or
 *                               %{GLOBAL}, %{SERVER}, %{RESOURCE}, %{ENV:X};
 *                               '' is %{GLOBAL}, as in mod_wsgi)
 *   callable_object(environ)    the name of the callable in the script
 *   process_group(environ)      daemon mode is not supported: anything but
 *                               None, '' or %{GLOBAL} fails the request;
 *                               those two pick this process, whatever
 *                               WSGIProcessGroup says (WSGIRestrictProcess
 *                               still applies)
 *
 * None keeps what the configuration says.  As in mod_wsgi the script runs
 * in %{GLOBAL} unless its application-group= says otherwise.  A failure or
 * a result of the wrong type is logged and fails the request with a 500.
 */
#include "wsl.h"

/* A str result in r->pool, NULL for None; -1 (logged) for anything
 * else. */
static int string_result(wsl_hook *hook, const char *function,
                         PyObject *result, const char **value)
{
    const char *text;

    *value = NULL;
    if (result == Py_None)
        return 0;
    if (!PyUnicode_Check(result)) {
        wsl_hook_bad_result(hook, function, result, "a str or None");
        return -1;
    }
    if (!(text = PyUnicode_AsUTF8(result))) {
        wsl_log_python_error(hook->r, hook->interp,
                             apr_psprintf(hook->r->pool, "the result of "
                                          "%s()", function));
        return -1;
    }
    *value = apr_pstrdup(hook->r->pool, text);
    return 0;
}

/* Call one optional function; 0 with *value (NULL: keep the default),
 * -1 on failure (logged). */
static int ask(wsl_hook *hook, const char *function, const char **value)
{
    PyObject *result;
    int rc = wsl_hook_call(hook, function, 0, NULL, NULL, &result);

    *value = NULL;
    if (rc <= 0)
        return rc;
    rc = string_result(hook, function, result, value);
    Py_DECREF(result);
    return rc;
}

int wsl_dispatch(request_rec *r, const char **group, const char **callable,
                 const char **process_group)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    const char *new_group = NULL, *new_callable = NULL, *process = NULL;
    wsl_group_spec spec;
    const char *err;
    wsl_hook hook;
    int rc;

    hook.r = r;
    hook.script = dconf->dispatch_script;
    hook.directive = "WSGIDispatchScript";
    if (wsl_hook_enter(&hook) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    rc = ask(&hook, "process_group", &process);
    if (rc == 0)
        rc = ask(&hook, "application_group", &new_group);
    if (rc == 0)
        rc = ask(&hook, "callable_object", &new_callable);
    wsl_hook_leave(&hook);
    if (rc < 0)
        return HTTP_INTERNAL_SERVER_ERROR;

    if (process && *process && strcmp(process, "%{GLOBAL}")) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00077: WSGIDispatchScript '%s' chose process "
                      "group '%s': daemon mode is not supported yet (for "
                      "'%s')", dconf->dispatch_script->path, process,
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (process)
        *process_group = "";
    if (new_group && !*new_group) {
        /* mod_wsgi's name for the main interpreter. */
        *group = NULL;
    }
    else if (new_group) {
        if ((err = wsl_group_parse(r->pool, new_group, &spec))) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00078: application_group() in the "
                          "WSGIDispatchScript '%s': %s (for '%s')",
                          dconf->dispatch_script->path, err, r->uri);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        *group = wsl_group_name(r, &spec);
    }
    if (new_callable) {
        if (!*new_callable) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00079: callable_object() in the "
                          "WSGIDispatchScript '%s' returned an empty name "
                          "(for '%s')", dconf->dispatch_script->path,
                          r->uri);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        *callable = new_callable;
    }
    return OK;
}
