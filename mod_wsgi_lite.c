/*
 * mod_wsgi_lite.c: the module record, the directive table and the hook
 * registration.  Wiring only: the work happens in src/, one job per file
 * (see src/wsl.h for the map).  Directive names are mod_wsgi's, so an
 * existing mod_wsgi configuration loads unchanged.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "apr_optional.h"

#include "src/wsl_module.h"

static const command_rec wsl_commands[] = {
    AP_INIT_RAW_ARGS("WSGIScriptAlias", wsl_cmd_script_alias, NULL,
                     RSRC_CONF,
                     "URL-path, WSGI script file, and optional "
                     "application-group=, callable-object= options"),
    AP_INIT_ITERATE("WSGIPythonPath", wsl_cmd_python_path, NULL, RSRC_CONF,
                    "Directories (':'-separated) added to sys.path in "
                    "every interpreter"),
    AP_INIT_TAKE1("WSGIApplicationGroup", wsl_cmd_application_group, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "Application group (interpreter): %{GLOBAL}, %{SERVER}, "
                  "%{RESOURCE}, %{ENV:VAR} or a name"),
    AP_INIT_TAKE1("WSGICallableObject", wsl_cmd_callable_object, NULL,
                  OR_FILEINFO,
                  "Name of the WSGI application in the script "
                  "(default: application)"),
    AP_INIT_FLAG("WSGIPassAuthorization", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(wsl_dir_config, pass_authorization),
                 OR_FILEINFO,
                 "On: pass the Authorization header as HTTP_AUTHORIZATION"),
    AP_INIT_FLAG("WSGIChunkedRequest", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(wsl_dir_config, chunked_request),
                 OR_FILEINFO,
                 "On: accept chunked request bodies (else 411)"),
    AP_INIT_FLAG("WSGIScriptReloading", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(wsl_dir_config, script_reloading),
                 OR_FILEINFO,
                 "On: reload a script when its modification time changes"),
    { NULL }
};

static void wsl_register_hooks(apr_pool_t *p)
{
    /* Before mod_alias, so WSGIScriptAlias wins over a covering Alias,
     * as in mod_wsgi. */
    static const char *const before_alias[] = { "mod_alias.c", NULL };

    ap_hook_post_config(wsl_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(wsl_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(wsl_translate_name, NULL, before_alias,
                           APR_HOOK_MIDDLE);
    ap_hook_handler(wsl_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(wsgi_lite) = {
    STANDARD20_MODULE_STUFF,
    wsl_config_create_dir,
    wsl_config_merge_dir,
    wsl_config_create_server,
    wsl_config_merge_server,
    wsl_commands,
    wsl_register_hooks
};
