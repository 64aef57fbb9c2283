/*
 * translate.c: URL mapping for WSGIScriptAlias, and the SCRIPT_NAME /
 * PATH_INFO split that the environ and the application group names share.
 *
 * A matching alias sets r->filename to the script and r->path_info to what
 * follows the mount point, exactly as mod_alias's ScriptAlias does for CGI,
 * so the rest of Apache (<Directory> sections, the directory walk, auth)
 * sees an ordinary request for the script file.
 */
#include "config.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "common/validate.h"

/* Point the request at the script: filename, path info, our handler. */
static int map_to_script(request_rec *r, const wsl_alias *alias,
                         const char *path, apr_size_t matched)
{
    wsl_alias_match *match = apr_pcalloc(r->pool, sizeof(*match));

    /* PATH_INFO keeps its leading '/': a mount at "/" or "/app/" gives
     * SCRIPT_NAME "" or "/app" (PEP 3333, and what mod_wsgi does). */
    if (matched && r->uri[matched - 1] == '/')
        matched--;
    r->filename = (char *)path;
    r->path_info = apr_pstrdup(r->pool, r->uri + matched);
    r->handler = WSL_HANDLER;
    /* Keeps mod_mime's AddHandler from overriding the alias's handler. */
    apr_table_setn(r->notes, "alias-forced-type", r->handler);

    match->alias = alias;
    ap_set_module_config(r->request_config, &wsgi_lite_module, match);
    return OK;
}

int wsl_translate_name(request_rec *r)
{
    wsl_server_config *sconf =
        ap_get_module_config(r->server->module_config, &wsgi_lite_module);
    const wsl_alias *aliases = (const wsl_alias *)sconf->aliases->elts;
    ap_regmatch_t regm[AP_MAX_REG_MATCH];
    apr_size_t matched;
    const char *path;
    int i;

    if (r->uri[0] != '/')
        return DECLINED;
    for (i = 0; i < sconf->aliases->nelts; i++) {
        const wsl_alias *alias = &aliases[i];

        if (!alias->regex) {
            if ((matched = wsl_alias_match_length(r->uri, alias->location)))
                return map_to_script(r, alias,
                                     apr_pstrdup(r->pool, alias->path),
                                     matched);
            continue;
        }
        /* WSGIScriptAliasMatch: $1..$9 from the URL; what follows the
         * match is PATH_INFO, as in mod_wsgi. */
        if (ap_regexec(alias->regex, r->uri, AP_MAX_REG_MATCH, regm, 0))
            continue;
        path = ap_pregsub(r->pool, alias->path, r->uri, AP_MAX_REG_MATCH,
                          regm);
        if (path)
            return map_to_script(r, alias, path, (apr_size_t)regm[0].rm_eo);
    }
    return DECLINED;
}

const char *wsl_request_script_name(request_rec *r)
{
    apr_size_t ulen = strlen(r->uri);
    apr_size_t plen = r->path_info ? strlen(r->path_info) : 0;

    if (plen && plen <= ulen && !strcmp(r->uri + ulen - plen, r->path_info))
        return apr_pstrndup(r->pool, r->uri, ulen - plen);
    return r->uri;
}

int wsl_request_is_aliased(request_rec *r)
{
    wsl_alias_match *match =
        ap_get_module_config(r->request_config, &wsgi_lite_module);

    return match && match->alias;
}
