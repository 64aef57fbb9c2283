/*
 * snapshot.c (common): the names of the snapshot's values, by index
 * (snapshot.h).  The format's own data, shared by the side that takes a
 * snapshot (request/snapshot.c) and the side that reads one
 * (py/environ.c); daemon mode will have both in different processes.
 */
#include "snapshot.h"

#include <string.h>

const char *const wsl_snapshot_names[WSL_SV_COUNT] = {
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO",
    "QUERY_STRING", "REQUEST_URI", "SERVER_NAME",
    "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_ADDR",
    "SERVER_ADMIN", "SERVER_SIGNATURE", "REMOTE_ADDR",
    "REMOTE_PORT", "REMOTE_HOST", "REMOTE_USER",
    "AUTH_TYPE", "DOCUMENT_ROOT", "REQUEST_SCHEME",
    "CONTEXT_PREFIX", "CONTEXT_DOCUMENT_ROOT",
    "SCRIPT_FILENAME", "wsgi.url_scheme",
    "mod_wsgi_lite.application_group", "mod_wsgi_lite.script_reloading",
    "mod_wsgi_lite.request_start", "mod_wsgi_lite.callable_object",
    "mod_wsgi.application_group", "mod_wsgi.script_reloading",
    "mod_wsgi.request_start", "mod_wsgi.callable_object",
    "mod_wsgi.request_handler", "mod_wsgi.handler_script",
    "mod_wsgi.enable_sendfile", "mod_wsgi.ignore_activity",
    "mod_wsgi.listener_host", "mod_wsgi.listener_port",
    "mod_wsgi.request_id", "mod_wsgi.connection_id",
    "mod_wsgi.script_name", "mod_wsgi.path_info",
};

const char *const wsl_snapshot_constant_names[WSL_SC_COUNT] = {
    "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "wsgi.version",
    "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
    "wsgi.file_wrapper", "mod_wsgi_lite.process_group",
    "mod_wsgi.process_group", "mod_wsgi_lite.version", "mod_wsgi.version",
    "apache.version", "mod_wsgi_lite.interpreter",
};

/* The index of the variable named name (nlen bytes), or -1. */
static int var_index(const wsl_snapshot *snap, const char *name, size_t nlen)
{
    int i;

    for (i = 0; i < snap->nvars; i++)
        if (snap->vars[i].name.len == nlen &&
            !memcmp(snap->vars[i].name.data, name, nlen))
            return i;
    return -1;
}

int wsl_snapshot_set_var(wsl_snapshot *snap, const char *name,
                         const char *value,
                         void *(*alloc)(void *ctx, size_t size), void *ctx)
{
    size_t nlen = strlen(name);
    wsl_snapshot_var *vars;
    int i = var_index(snap, name, nlen), at;

    if (i >= 0) {
        snap->vars[i].value.data = value;
        snap->vars[i].value.len = strlen(value);
        return 0;
    }
    if (!(vars = alloc(ctx, (size_t)(snap->nvars + 1) * sizeof(*vars))))
        return -1;
    at = snap->nvars - snap->nlate;
    if (at)
        memcpy(vars, snap->vars, (size_t)at * sizeof(*vars));
    if (snap->nlate)
        memcpy(vars + at + 1, snap->vars + at,
               (size_t)snap->nlate * sizeof(*vars));
    vars[at].name.data = name;
    vars[at].name.len = nlen;
    vars[at].value.data = value;
    vars[at].value.len = strlen(value);
    vars[at].hash = wsl_snapshot_hash(name, nlen);
    vars[at].fixed = -1;
    snap->vars = vars;
    snap->nvars++;
    return 0;
}
