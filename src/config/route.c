/*
 * route.c: the one place that decides what a request runs: the script
 * file, the application group (interpreter), the callable and the process
 * group, from the configuration (WSGIScriptAlias and its options,
 * WSGIApplicationGroup, WSGICallableObject, WSGIProcessGroup,
 * WSGIHandlerScript) and then WSGIDispatchScript's answers, checked
 * against WSGIRestrictProcess and WSGIRestrictEmbedded.  The hook scripts
 * (auth, access, dispatch) and WSGIImportScript name their groups here
 * too, so a preloaded script lands in the interpreter its requests use.
 *
 * Names of groups follow mod_wsgi: %{SERVER} is the virtual host's name,
 * with :port unless the port is 80 or 443; %{RESOURCE} adds |SCRIPT_NAME.
 */
#include "config.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_lib.h"
#include "apr_strings.h"

/*
 * host plus :port unless the port is 80 or 443 (mod_wsgi's rule: not the
 * request's scheme, which a child starting up, preloading a script for
 * the server, cannot know).  The port comes from the server's own
 * configuration, never from the request: the virtual host's configured
 * port, else the port of the socket the connection arrived on (requests)
 * or of the <VirtualHost> address (start-up).  With UseCanonicalName Off
 * ap_get_server_port() follows the client's Host header, and every port a
 * client named would make a new interpreter.
 */
static const char *with_port(apr_pool_t *p, server_rec *s, conn_rec *c,
                             const char *host)
{
    apr_port_t port = s->port;

    if (!port && c && c->local_addr)
        port = c->local_addr->port;
    if (!port && s->addrs)
        port = s->addrs->host_port;
    if (!host)
        host = "";
    if (port && port != DEFAULT_HTTP_PORT && port != DEFAULT_HTTPS_PORT)
        return apr_psprintf(p, "%s:%u", host, (unsigned)port);
    return host;
}

static const char *server_part(request_rec *r)
{
    return with_port(r->pool, r->server, r->connection,
                     r->server->server_hostname);
}

static const char *group_name(request_rec *r, const wsl_group_spec *spec)
{
    const char *value;

    switch (spec->kind) {
    case WSL_GROUP_GLOBAL:
        return NULL;
    case WSL_GROUP_SERVER:
        return server_part(r);
    case WSL_GROUP_ENV:
        value = apr_table_get(r->subprocess_env, spec->value);
        if (!value)
            value = getenv(spec->value);
        /* An empty or unset variable means the main interpreter, as in
         * mod_wsgi. */
        return value && *value ? value : NULL;
    case WSL_GROUP_NAMED:
        return spec->value;
    case WSL_GROUP_RESOURCE:
    default:
        break;
    }
    return apr_pstrcat(r->pool, server_part(r), "|",
                       wsl_request_script_name(r), NULL);
}

const char *wsl_route_import_group(server_rec *s, const wsl_group_spec *spec,
                                   apr_pool_t *p)
{
    if (!spec || spec->kind == WSL_GROUP_GLOBAL)
        return NULL;
    if (spec->kind == WSL_GROUP_SERVER)
        return with_port(p, s, NULL, s->server_hostname);
    /* config.c refuses %{RESOURCE} and %{ENV:} here: no request. */
    return spec->value;
}

const char *wsl_route_hook_group(request_rec *r, const wsl_hook_script *hs)
{
    /* %{GLOBAL} unless the script says application-group=, as in
     * mod_wsgi. */
    return hs->group ? group_name(r, hs->group) : NULL;
}

/*
 * A WSGIProcessGroup value for this request, expanded as mod_wsgi does:
 * %{GLOBAL} is this process (""), %{SERVER} and %{RESOURCE} are named as
 * for application groups, %{HOST} after the request's Host, and
 * %{ENV:VAR} takes the variable (a value that is itself one of the other
 * forms is expanded in turn; an unset one leaves the text as written).
 */
static const char *process_group_name(request_rec *r, const char *value)
{
    const char *var, *found;
    apr_size_t len;

    if (!value || !strcmp(value, "%{GLOBAL}"))
        return "";
    if (value[0] != '%')
        return value;
    if (!strcmp(value, "%{SERVER}"))
        return server_part(r);
    if (!strcmp(value, "%{RESOURCE}"))
        return apr_pstrcat(r->pool, server_part(r), "|",
                           wsl_request_script_name(r), NULL);
    if (!strcmp(value, "%{HOST}"))
        return with_port(r->pool, r->server, r->connection,
                         r->hostname && *r->hostname
                         ? r->hostname : r->server->server_hostname);
    len = strlen(value);
    if (strncmp(value, "%{ENV:", 6) || len <= 7 || value[len - 1] != '}')
        return value;
    var = apr_pstrndup(r->pool, value + 6, len - 7);
    if (!(found = apr_table_get(r->notes, var)) &&
        !(found = apr_table_get(r->subprocess_env, var))) {
        /* Copied: an application's os.environ may change it meanwhile. */
        if (!(found = getenv(var)))
            return value;
        found = apr_pstrdup(r->pool, found);
    }
    /* Not %{ENV:..} again (as in mod_wsgi), so this cannot loop. */
    if (found[0] == '%' && strncmp(found, "%{ENV:", 6))
        return process_group_name(r, found);
    return found;
}

/* What WSGIDispatchScript answered, applied over the configuration's
 * route.  OK or the status to answer (logged). */
static int apply_dispatch(request_rec *r, const wsl_dispatch_answer *answer,
                          const char *script, wsl_route *route)
{
    wsl_group_spec spec;
    const char *err;

    if (answer->process_group) {
        route->process_group = process_group_name(r, answer->process_group);
        route->process_group_from = "WSGIDispatchScript";
    }
    if (answer->application_group && !*answer->application_group) {
        /* mod_wsgi's name for the main interpreter. */
        route->group = NULL;
    }
    else if (answer->application_group) {
        if ((err = wsl_group_parse(r->pool, answer->application_group,
                                   &spec))) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00078: application_group() in the "
                          "WSGIDispatchScript '%s': %s (for '%s')",
                          script, err, r->uri);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        route->group = group_name(r, &spec);
    }
    if (answer->callable_object) {
        if (!*answer->callable_object) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00079: callable_object() in the "
                          "WSGIDispatchScript '%s' returned an empty name "
                          "(for '%s')", script, r->uri);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        route->callable = answer->callable_object;
    }
    return OK;
}

/*
 * Which process runs the request, checked as mod_wsgi checks it: first
 * WSGIRestrictProcess, whatever the group, then that a daemon group
 * exists and serves this server, or else WSGIRestrictEmbedded for this
 * process.  OK or the
 * status to answer (logged).
 */
static int check_process(request_rec *r, const wsl_route *route)
{
    const wsl_server_config *sconf =
        ap_get_module_config(r->server->module_config, &wsgi_lite_module);

    if (!wsl_config_process_allowed(r, route->process_group)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00160: process group '%s' is not one that "
                      "WSGIRestrictProcess allows here (for '%s')",
                      wsl_route_embedded(route) ? "%{GLOBAL}"
                                                : route->process_group,
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!wsl_route_embedded(route)) {
        const wsl_daemon_group *g =
            wsl_daemon_group_find(route->process_group);

        if (!g) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00051: %s %s: no WSGIDaemonProcess of that "
                          "name (for '%s')", route->process_group_from,
                          route->process_group, r->uri);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!wsl_daemon_group_allowed(g, r->server)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WSL00052: %s %s: that WSGIDaemonProcess was "
                          "defined in another virtual host, and serves "
                          "only its ServerName (for '%s')",
                          route->process_group_from, route->process_group,
                          r->uri);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        return OK;
    }
    if (wsl_config_flag(sconf->restrict_embedded, 0)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WSL00161: embedded mode is disabled "
                      "(WSGIRestrictEmbedded On) and no daemon process "
                      "group serves the request: '%s' is not run (for '%s')",
                      route->script, r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void wsl_route_configured(request_rec *r, const wsl_handler_script *hs,
                          const apr_finfo_t *hs_finfo, wsl_route *route)
{
    if (hs) {
        route->script = hs->path;
        route->finfo = hs_finfo;
        route->group = group_name(r, hs->group
                                               ? hs->group
                                               : wsl_config_group(r));
        route->callable = hs->callable_object ? hs->callable_object
                                              : wsl_config_callable(r);
        route->handler_script = hs->path;
    }
    else {
        route->script = r->filename;
        route->finfo = &r->finfo;
        route->group = group_name(r, wsl_config_group(r));
        route->callable = wsl_config_callable(r);
        route->handler_script = "";
    }
    route->process_group =
        process_group_name(r, wsl_config_process_group(r, hs));
    route->process_group_from = "WSGIProcessGroup";
}

int wsl_route_decide(request_rec *r, const wsl_dispatch_answer *answer,
                     wsl_route *route)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    int status;

    if (answer &&
        (status = apply_dispatch(r, answer, dconf->dispatch_script->path,
                                 route)) != OK)
        return status;
    return check_process(r, route);
}
