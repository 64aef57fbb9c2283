/*
 * dispatch.c: WSGIDispatchScript.  Before a WSGI request runs, the
 * script's optional functions, each called with the request's environ
 * (no body), may redirect it:
 *
 *   application_group(environ)  the application group (a name or
 *                               %{GLOBAL}, %{SERVER}, %{RESOURCE}, %{ENV:X};
 *                               '' is %{GLOBAL}, as in mod_wsgi)
 *   callable_object(environ)    the name of the callable in the script
 *   process_group(environ)      the process group, expanded as
 *                               WSGIProcessGroup is ('' and %{GLOBAL} are
 *                               this process; a daemon group fails the
 *                               request until daemon mode exists)
 *
 * None keeps what the configuration says.  As in mod_wsgi the script runs
 * in %{GLOBAL} unless its application-group= says otherwise.  A failure or
 * a result of the wrong type is logged and fails the request with a 500.
 * This file only asks; route.c decides what the answers mean, and checks
 * the process group (WSGIRestrictProcess, daemon mode) as for any other.
 */
#include "hookscript.h"

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

int wsl_dispatch(request_rec *r, wsl_dispatch_answer *answer)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    wsl_hook hook;
    int rc;

    memset(answer, 0, sizeof(*answer));
    hook.r = r;
    hook.script = dconf->dispatch_script;
    hook.directive = "WSGIDispatchScript";
    if (wsl_hook_enter(&hook) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    rc = ask(&hook, "process_group", &answer->process_group);
    if (rc == 0)
        rc = ask(&hook, "application_group", &answer->application_group);
    if (rc == 0)
        rc = ask(&hook, "callable_object", &answer->callable_object);
    wsl_hook_leave(&hook);
    return rc < 0 ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
