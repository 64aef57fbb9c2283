/*
 * script.c: a WSGI script file loaded as a module, once per application
 * group, and reloaded in place when its modification time changes
 * (WSGIScriptReloading, default On).
 *
 * Each script becomes the module `_wsgi_lite_<md5 of path>` in sys.modules
 * (mod_wsgi's scheme, so two scripts never share globals).  The time
 * checked is r->finfo.mtime, which Apache's directory walk has already
 * read: no extra stat per request.
 */
#include "py.h"
#include "lifecycle.h"

#include "apr_md5.h"

static PyObject *read_and_compile(apr_pool_t *pool, const char *path,
                                  apr_off_t size)
{
    apr_file_t *file;
    apr_size_t got = 0;
    apr_status_t rv;
    char *source;

    rv = apr_file_open(&file, path, APR_FOPEN_READ, 0, pool);
    if (rv == APR_SUCCESS) {
        source = apr_palloc(pool, (apr_size_t)size + 1);
        rv = apr_file_read_full(file, source, (apr_size_t)size, &got);
        apr_file_close(file);
        if (APR_STATUS_IS_EOF(rv))
            rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        char buf[120];

        PyErr_Format(PyExc_OSError, "cannot read '%s': %s", path,
                     apr_strerror(rv, buf, sizeof(buf)));
        return NULL;
    }
    source[got] = '\0';
    return Py_CompileStringExFlags(source, path, Py_file_input, NULL, -1);
}

/* Execute the script as a fresh module registered in sys.modules under
 * `name`; new reference, or NULL with an exception set (and no trace of
 * the half-run module left in sys.modules). */
static PyObject *script_exec(apr_pool_t *pool, const char *path,
                             apr_off_t size, PyObject *name)
{
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *code, *module = NULL, *dict, *file = NULL, *res;

    if (!(code = read_and_compile(pool, path, size)))
        return NULL;
    if (!(module = PyModule_NewObject(name)))
        goto fail;
    dict = PyModule_GetDict(module);
    if (!(file = PyUnicode_DecodeFSDefault(path)) ||
        PyDict_SetItemString(dict, "__file__", file) < 0 ||
        PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto fail;
    /* Registered before it runs, as import does, so the script can be
     * found by name (pickle, self-imports) while it executes. */
    if (PyDict_SetItem(modules, name, module) < 0)
        goto fail;
    res = PyEval_EvalCode(code, dict, dict);
    if (!res) {
        PyObject *type, *value, *tb;

        PyErr_Fetch(&type, &value, &tb);
        if (PyDict_GetItemWithError(modules, name) == module)
            PyDict_DelItem(modules, name);
        PyErr_Restore(type, value, tb);
        goto fail;
    }
    Py_DECREF(res);
    Py_DECREF(file);
    Py_DECREF(code);
    return module;

fail:
    Py_XDECREF(file);
    Py_XDECREF(module);
    Py_DECREF(code);
    return NULL;
}

static PyObject *module_name(const char *path)
{
    unsigned char digest[APR_MD5_DIGESTSIZE];
    char hex[2 * APR_MD5_DIGESTSIZE + 1];
    int i;

    apr_md5(digest, path, strlen(path));
    for (i = 0; i < APR_MD5_DIGESTSIZE; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return PyUnicode_FromFormat("_wsgi_lite_%s", hex);
}

/* The loaded module for path if it is current; borrowed, or NULL (no
 * exception) when it must be (re)loaded. */
static PyObject *cached_module(wsl_interp *interp, PyObject *key,
                               apr_time_t mtime, int reload)
{
    PyObject *entry = PyDict_GetItemWithError(interp->scripts, key);

    if (!entry)
        return NULL;
    if (reload &&
        PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 1)) != (long long)mtime)
        return NULL;
    return PyTuple_GET_ITEM(entry, 0);
}

/* Scripts loaded, and loads failed, in this process (startup-timeout). */
static int scripts_loaded, scripts_failed;

void wsl_script_load_state(int *loaded, int *failed)
{
    *loaded = __atomic_load_n(&scripts_loaded, __ATOMIC_RELAXED);
    *failed = __atomic_load_n(&scripts_failed, __ATOMIC_RELAXED);
}

PyObject *wsl_script_module(wsl_interp *interp, const char *path,
                            const apr_finfo_t *finfo, int reload,
                            int case_sensitive, apr_pool_t *pool)
{
    PyObject *key, *module, *entry, *name;
    const char *id = path;

    /* WSGICaseSensitivity Off: one module however the URL spelled it. */
    if (!case_sensitive) {
        char *lower = apr_pstrdup(pool, path);

        ap_str_tolower(lower);
        id = lower;
    }
    if (!(key = PyUnicode_DecodeFSDefault(id)))
        return NULL;
    module = cached_module(interp, key, finfo->mtime, reload);
    if (!module && !PyErr_Occurred()) {
        /* Load under the group's lock so two threads never run the same
         * script at once; the GIL is dropped while waiting for it, since
         * the loading thread may itself release the GIL (imports do). */
        PyThreadState *ts = wsl_gil_release();

        apr_thread_mutex_lock(interp->load_lock);
        wsl_gil_reacquire(ts);
        module = cached_module(interp, key, finfo->mtime, reload);
        if (!module && !PyErr_Occurred() && (name = module_name(id))) {
            PyObject *fresh = script_exec(pool, path, finfo->size, name);

            Py_DECREF(name);
            __atomic_store_n(fresh ? &scripts_loaded : &scripts_failed, 1,
                             __ATOMIC_RELAXED);
            if (fresh) {
                entry = Py_BuildValue("(NL)", fresh,
                                      (long long)finfo->mtime);
                if (entry && PyDict_SetItem(interp->scripts, key, entry) == 0)
                    module = fresh;
                Py_XDECREF(entry);
            }
        }
        apr_thread_mutex_unlock(interp->load_lock);
    }
    Py_DECREF(key);
    return module;
}

int wsl_script_changed(wsl_interp *interp, const char *path,
                       const apr_finfo_t *finfo, int case_sensitive)
{
    PyObject *key, *entry;
    char *lower;
    int changed = 0;

    if (!case_sensitive) {
        lower = strdup(path);
        if (lower)
            ap_str_tolower(lower);
        key = PyUnicode_DecodeFSDefault(lower ? lower : path);
        free(lower);
    }
    else {
        key = PyUnicode_DecodeFSDefault(path);
    }
    if (!key) {
        PyErr_Clear();
        return 0;
    }
    entry = PyDict_GetItemWithError(interp->scripts, key);
    if (entry)
        changed = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 1)) !=
                  (long long)finfo->mtime;
    PyErr_Clear();
    Py_DECREF(key);
    return changed;
}

PyObject *wsl_script_callable(request_rec *r, wsl_interp *interp,
                              const char *path, const apr_finfo_t *finfo,
                              const char *callable, int reload, int *status)
{
    const wsl_server_config *sconf =
        ap_get_module_config(r->server->module_config, &wsgi_lite_module);
    PyObject *module, *app;

    *status = HTTP_INTERNAL_SERVER_ERROR;
    module = wsl_script_module(interp, path, finfo, reload,
                               wsl_config_flag(sconf->case_sensitivity, 1),
                               r->pool);
    if (!module)
        goto error;
    app = PyObject_GetAttrString(module, callable);
    if (!app) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00021: WSGI script '%s' does not define the "
                          "callable '%s' (for '%s')", path, callable,
                          r->uri);
            return NULL;
        }
        goto error;
    }
    return app;

error:
    wsl_log_python_error(r, interp,
                         apr_psprintf(r->pool, "loading the WSGI script "
                                      "'%s'", path));
    return NULL;
}

/*
 * WSGIImportScript: run each script in its group as the process starts,
 * so the first request finds it loaded.  Each process runs the scripts
 * meant for it, as in mod_wsgi: an Apache child those of no process group
 * (or %{GLOBAL}), a daemon process those whose process-group= is its
 * WSGIDaemonProcess.  A server's list includes what it inherited from the
 * main server, so each script is run once.
 */
void wsl_script_preload(server_rec *main_server, apr_pool_t *pchild)
{
    const wsl_daemon_group *daemon = wsl_process_daemon();
    apr_hash_t *done = apr_hash_make(pchild);
    server_rec *s;
    int i;

    for (s = main_server; s; s = s->next) {
        wsl_server_config *sconf =
            ap_get_module_config(s->module_config, &wsgi_lite_module);
        wsl_import_script *scripts =
            (wsl_import_script *)sconf->import_scripts->elts;

        for (i = 0; i < sconf->import_scripts->nelts; i++) {
            wsl_import_script *script = &scripts[i];
            const char *group = wsl_route_import_group(s, script->group,
                                                       pchild);
            const char *what;
            apr_finfo_t finfo;
            wsl_interp *interp;
            apr_status_t rv;
            int k, members;

            if (daemon ? !script->process_group ||
                         strcmp(script->process_group, daemon->name)
                       : script->process_group != NULL)
                continue;
            if (apr_hash_get(done, script, sizeof(*script)))
                continue;
            apr_hash_set(done, apr_pmemdup(pchild, script, sizeof(*script)),
                         sizeof(*script), script);
            rv = apr_stat(&finfo, script->path,
                          APR_FINFO_MTIME | APR_FINFO_SIZE, pchild);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                             "WSL00007: WSGIImportScript: cannot read '%s'",
                             script->path);
                continue;
            }
            /* Into every interpreter of the group's pool: each loads
             * the application itself. */
            members = wsl_interp_pool_size(group);
            for (k = 0; k < members; k++) {
                if (!(interp = wsl_interp_enter_member(s, group, k)))
                    continue;
                what = apr_psprintf(pchild, "WSGIImportScript '%s'%s",
                                    script->path, members > 1
                                    ? apr_psprintf(pchild, " (interpreter "
                                                   "%d of %d)", k + 1,
                                                   members) : "");
                if (!wsl_script_module(interp, script->path, &finfo, 1,
                                       wsl_config_flag(
                                           sconf->case_sensitivity, 1),
                                       pchild))
                    wsl_log_python_error_server(s, interp, what);
                wsl_interp_leave();
            }
        }
    }
}
