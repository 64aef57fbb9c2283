/*
 * auth.c: Apache's own access control, decided by Python (mod_wsgi's
 * names and signatures, so existing scripts work):
 *
 *   AuthBasicProvider wsgi   check_password(environ, user, password)
 *   AuthDigestProvider wsgi  get_realm_hash(environ, user, realm)
 *   Require wsgi-group ...   groups_for_user(environ, user)
 *   WSGIAccessScript         allow_access(environ, host)
 *
 * Because these are Apache providers and an access check, they protect
 * whatever the URL maps to: static files, other modules' content and WSGI
 * applications alike.
 *
 * Failure never grants: an exception, a missing function or a result of
 * the wrong type is logged once (hookscript.c, or here for the type) and
 * the request fails with a 500.  Only the documented values decide.
 * User names, passwords and group names are native strings (latin-1), as
 * headers are in the environ.
 */
#include "hookscript.h"
#include "hooks.h"

#include "mod_auth.h"

static const wsl_dir_config *dir_config(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
}

static PyObject *native(const char *text)
{
    return PyUnicode_DecodeLatin1(text, strlen(text), NULL);
}

/* A latin-1 str or bytes result as a C string in r->pool; NULL (logged
 * as a wrong result) for anything else, including an empty string. */
static const char *result_string(wsl_hook *hook, const char *function,
                                 PyObject *result, const char *expected)
{
    PyObject *bytes = NULL;
    const char *value = NULL;

    if (PyUnicode_Check(result)) {
        if (!(bytes = PyUnicode_AsLatin1String(result))) {
            wsl_log_python_error(hook->r, hook->interp,
                                 apr_psprintf(hook->r->pool, "the result "
                                              "of %s()", function));
            return NULL;
        }
    }
    else if (PyBytes_Check(result)) {
        bytes = Py_NewRef(result);
    }
    if (bytes && PyBytes_GET_SIZE(bytes) > 0 &&
        strlen(PyBytes_AS_STRING(bytes)) == (size_t)PyBytes_GET_SIZE(bytes))
        value = apr_pstrdup(hook->r->pool, PyBytes_AS_STRING(bytes));
    else
        wsl_hook_bad_result(hook, function, result, expected);
    Py_XDECREF(bytes);
    return value;
}

/*
 * Enter the WSGIAuthUserScript and call function(environ, user, arg).
 * -1: not entered (logged).  Otherwise the hook is entered (the caller
 * leaves it) and the result is 1 with *result a new reference, or 0 when
 * the call failed (logged).
 */
static int ask_user_script(wsl_hook *hook, request_rec *r,
                           const char *provider, const char *function,
                           const char *user, const char *arg,
                           PyObject **result)
{
    PyObject *py_user, *py_arg;
    int rc = 0;

    *result = NULL;
    hook->r = r;
    hook->script = dir_config(r)->auth_user_script;
    hook->directive = "WSGIAuthUserScript";
    if (!hook->script) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00073: %s wsgi is configured but no "
                      "WSGIAuthUserScript applies to '%s'", provider,
                      r->uri);
        return -1;
    }
    if (wsl_hook_enter(hook) < 0)
        return -1;
    py_user = native(user);
    py_arg = py_user ? native(arg) : NULL;
    if (!py_arg)
        wsl_log_python_error(r, hook->interp, "decoding the credentials");
    else
        rc = wsl_hook_call(hook, function, 1, py_user, py_arg, result) > 0;
    Py_XDECREF(py_arg);
    Py_XDECREF(py_user);
    return rc;
}

static authn_status check_password(request_rec *r, const char *user,
                                   const char *password)
{
    static const char expected[] = "True, False, None or a user name";
    authn_status status = AUTH_GENERAL_ERROR;
    PyObject *result;
    const char *name;
    wsl_hook hook;
    int rc = ask_user_script(&hook, r, "AuthBasicProvider",
                             "check_password", user, password, &result);

    if (rc < 0)
        return AUTH_GENERAL_ERROR;
    if (rc > 0) {
        if (result == Py_True) {
            status = AUTH_GRANTED;
        }
        else if (result == Py_False) {
            status = AUTH_DENIED;
        }
        else if (result == Py_None) {
            status = AUTH_USER_NOT_FOUND;
        }
        else if (!PyUnicode_Check(result)) {
            wsl_hook_bad_result(&hook, "check_password", result, expected);
        }
        else if ((name = result_string(&hook, "check_password", result,
                                       expected))) {
            /* mod_wsgi: a string grants and names the user. */
            r->user = (char *)name;
            status = AUTH_GRANTED;
        }
        Py_DECREF(result);
    }
    wsl_hook_leave(&hook);
    return status;
}

static authn_status get_realm_hash(request_rec *r, const char *user,
                                   const char *realm, char **rethash)
{
    authn_status status = AUTH_GENERAL_ERROR;
    PyObject *result;
    const char *hash;
    wsl_hook hook;
    int rc = ask_user_script(&hook, r, "AuthDigestProvider",
                             "get_realm_hash", user, realm, &result);

    if (rc < 0)
        return AUTH_GENERAL_ERROR;
    if (rc > 0) {
        if (result == Py_None) {
            status = AUTH_USER_NOT_FOUND;
        }
        else if ((hash = result_string(&hook, "get_realm_hash", result,
                                       "None or the hex MD5 of "
                                       "'user:realm:password'"))) {
            *rethash = (char *)hash;
            status = AUTH_USER_FOUND;
        }
        Py_DECREF(result);
    }
    wsl_hook_leave(&hook);
    return status;
}

const authn_provider wsl_authn_provider = {
    check_password,
    get_realm_hash,
};

/* Is any word of the Require line among the user's groups?  1 yes, 0 no,
 * -1 when groups_for_user() failed or returned something else than an
 * iterable of strings (logged). */
static int user_in_groups(wsl_hook *hook, const char *require_args)
{
    request_rec *r = hook->r;
    static const char expected[] = "an iterable of group names (str or "
                                   "bytes)";
    apr_table_t *groups = apr_table_make(r->pool, 8);
    PyObject *py_user, *result = NULL, *iter = NULL, *item;
    const char *word, *args = require_args, *name;
    int rc = -1;

    if (!(py_user = native(r->user))) {
        wsl_log_python_error(r, hook->interp, "decoding the user name");
        return -1;
    }
    if (wsl_hook_call(hook, "groups_for_user", 1, py_user, NULL,
                      &result) <= 0)
        goto done;
    /* A str is iterable too, but as characters: never a group list. */
    if (PyUnicode_Check(result) || PyBytes_Check(result) ||
        !(iter = PyObject_GetIter(result))) {
        PyErr_Clear();
        wsl_hook_bad_result(hook, "groups_for_user", result, expected);
        goto done;
    }
    while ((item = PyIter_Next(iter))) {
        /* result_string logs a wrong item itself. */
        name = result_string(hook, "groups_for_user", item, expected);
        Py_DECREF(item);
        if (!name)
            goto done;
        apr_table_setn(groups, name, "1");
    }
    if (PyErr_Occurred()) {
        wsl_log_python_error(r, hook->interp, "iterating the result of "
                             "groups_for_user()");
        goto done;
    }
    rc = 0;
    while (*(word = ap_getword_conf(r->pool, &args))) {
        if (apr_table_get(groups, word)) {
            rc = 1;
            break;
        }
    }

done:
    Py_XDECREF(iter);
    Py_XDECREF(result);
    Py_DECREF(py_user);
    return rc;
}

static authz_status check_group(request_rec *r, const char *require_args,
                                const void *parsed_require_line)
{
    const wsl_dir_config *dconf = dir_config(r);
    wsl_hook hook;
    int member;

    /* Ask for credentials first: authz_core then runs authentication. */
    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    hook.r = r;
    hook.script = dconf->auth_group_script;
    hook.directive = "WSGIAuthGroupScript";
    if (!hook.script) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00074: Require wsgi-group is used but no "
                      "WSGIAuthGroupScript applies to '%s'", r->uri);
        return AUTHZ_GENERAL_ERROR;
    }
    if (wsl_hook_enter(&hook) < 0)
        return AUTHZ_GENERAL_ERROR;
    member = user_in_groups(&hook, require_args);
    wsl_hook_leave(&hook);

    if (member < 0)
        return AUTHZ_GENERAL_ERROR;
    if (member)
        return AUTHZ_GRANTED;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "WSL00075: user '%s' is in none of the groups '%s' "
                  "(for '%s')", r->user, require_args, r->uri);
    /* WSGIGroupAuthoritative Off: not a member is no decision, and other
     * Require lines of the same <RequireAll>/<RequireAny> decide. */
    return wsl_config_flag(dconf->group_authoritative, 1) ? AUTHZ_DENIED
                                                          : AUTHZ_NEUTRAL;
}

const authz_provider wsl_authz_provider = {
    check_group,
    NULL,
};

/*
 * WSGIAccessScript: allow_access(environ, host) with host the client's
 * name when HostnameLookups gave one, else its address.  True allows,
 * False forbids (403), None leaves it to the rest of the configuration.
 */
int wsl_check_access(request_rec *r)
{
    static const char expected[] = "True, False or None";
    const wsl_dir_config *dconf = dir_config(r);
    const char *host;
    PyObject *py_host, *result;
    wsl_hook hook;
    int status = HTTP_INTERNAL_SERVER_ERROR;

    if (!dconf->access_script)
        return DECLINED;
    host = ap_get_useragent_host(r, REMOTE_HOST, NULL);
    if (!host)
        host = r->useragent_ip;
    hook.r = r;
    hook.script = dconf->access_script;
    hook.directive = "WSGIAccessScript";
    if (wsl_hook_enter(&hook) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (!(py_host = native(host))) {
        wsl_log_python_error(r, hook.interp, "decoding the client host");
    }
    else if (wsl_hook_call(&hook, "allow_access", 1, py_host, NULL,
                           &result) > 0) {
        if (result == Py_True)
            status = OK;
        else if (result == Py_None)
            status = DECLINED;
        else if (result == Py_False)
            status = HTTP_FORBIDDEN;
        else
            wsl_hook_bad_result(&hook, "allow_access", result, expected);
        Py_DECREF(result);
    }
    Py_XDECREF(py_host);
    wsl_hook_leave(&hook);

    if (status == HTTP_FORBIDDEN)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00076: client '%s' denied by the WSGIAccessScript "
                      "'%s' (for '%s')", host, dconf->access_script->path,
                      r->uri);
    return status;
}
