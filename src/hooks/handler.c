/*
 * handler.c: the content handler.  Checks the target, has route.c decide
 * what runs and where, takes the request's snapshot (snapshot.c), and
 * either hands it to a daemon process group (request/daemon_client.c) or
 * enters the application group's interpreter here and makes the WSGI call
 * (py/call.c) over Apache's I/O (request/io_apache.c).
 */
#include "hookscript.h"
#include "hooks.h"
#include "request/io_apache.h"

#include "http_core.h"

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
    if (!wsl_route_embedded(&route))
        return wsl_daemon_client_run(r, &route, snap);
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
    call.script_reloading = wsl_config_flag(dconf->script_reloading, 1);
    call.apache_request = r;
    wsl_io_apache_attach(&call, r);
    status = wsl_call_run(&call, route.script, route.finfo, route.callable,
                          snap);
    wsl_interp_leave();
    wsl_io_apache_send_pending(&call);
    return status;
}
