/*
 * mod_wsgi_lite.c: the module record, the directive table and the hook
 * registration.  Wiring only: the work happens in src/, one job per file
 * (see src/py/py.h for the map).  Directive names are mod_wsgi's, so an
 * existing mod_wsgi configuration loads unchanged.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_request.h"
#include "apr_optional.h"
#include "apr_optional_hooks.h"
#include "mod_status.h"

#define WSL_MODULE_RECORD 1   /* AP_DECLARE_MODULE below */
#include "config/config.h"
#include "hooks/hooks.h"
#include "py/lifecycle.h"
#include "daemon/daemon.h"

#define WSL_FIELD(field) ((void *)APR_OFFSETOF(wsl_dir_config, field))
#define WSL_GLOBAL(field) ((void *)APR_OFFSETOF(wsl_server_config, field))

static const command_rec wsl_commands[] = {
    /* URL mapping and scripts */
    AP_INIT_RAW_ARGS("WSGIScriptAlias", wsl_cmd_script_alias, NULL,
                     RSRC_CONF, "URL-path, WSGI script file, and optional "
                     "application-group=, callable-object= options"),
    AP_INIT_RAW_ARGS("WSGIScriptAliasMatch", wsl_cmd_script_alias_match,
                     NULL, RSRC_CONF, "URL regex, WSGI script file ($1..$9) "
                     "and options"),
    AP_INIT_RAW_ARGS("WSGIHandlerScript", wsl_cmd_handler_script, NULL,
                     RSRC_CONF | ACCESS_CONF, "Handler name, WSGI script "
                     "file and options"),
    AP_INIT_RAW_ARGS("WSGIImportScript", wsl_cmd_import_script, NULL,
                     RSRC_CONF, "WSGI script to preload at child start, "
                     "with application-group= and process-group="),
    AP_INIT_TAKE1("WSGIApplicationGroup", wsl_cmd_application_group, NULL,
                  RSRC_CONF | ACCESS_CONF, "Application group (interpreter): "
                  "%{GLOBAL}, %{SERVER}, %{RESOURCE}, %{ENV:VAR} or a name"),
    AP_INIT_TAKE1("WSGICallableObject", wsl_cmd_callable_object, NULL,
                  OR_FILEINFO, "Name of the WSGI application in the script "
                  "(default: application)"),
    AP_INIT_FLAG("WSGIScriptReloading", ap_set_flag_slot,
                 WSL_FIELD(script_reloading), OR_FILEINFO,
                 "On: reload a script when its modification time changes"),
    AP_INIT_FLAG("WSGICaseSensitivity", wsl_cmd_global_flag,
                 WSL_GLOBAL(case_sensitivity), RSRC_CONF,
                 "Off: script paths are compared without case"),

    /* Requests and responses */
    AP_INIT_FLAG("WSGIPassAuthorization", ap_set_flag_slot,
                 WSL_FIELD(pass_authorization), OR_FILEINFO,
                 "On: pass the Authorization header as HTTP_AUTHORIZATION"),
    AP_INIT_FLAG("WSGIChunkedRequest", ap_set_flag_slot,
                 WSL_FIELD(chunked_request), OR_FILEINFO,
                 "On: accept chunked request bodies (else 411)"),
    AP_INIT_FLAG("WSGIErrorOverride", ap_set_flag_slot,
                 WSL_FIELD(error_override), OR_FILEINFO,
                 "On: Apache's ErrorDocument replaces an app's error page"),
    AP_INIT_TAKE1("WSGIMapHEADToGET", wsl_cmd_map_head_to_get, NULL,
                  OR_FILEINFO, "Off, On or Auto: present HEAD as GET"),
    AP_INIT_ITERATE("WSGITrustedProxyHeaders",
                    wsl_cmd_trusted_proxy_headers, NULL, OR_FILEINFO,
                    "Proxy headers honoured from trusted proxies"),
    AP_INIT_ITERATE("WSGITrustedProxies", wsl_cmd_trusted_proxies, NULL,
                    OR_FILEINFO, "Addresses or networks of trusted proxies"),

    /* Apache's access control and dispatch, decided by Python (auth.c,
     * dispatch.c) */
    AP_INIT_RAW_ARGS("WSGIAccessScript", wsl_cmd_hook_script,
                     WSL_FIELD(access_script), OR_AUTHCFG,
                     "Script whose allow_access(environ, host) allows or "
                     "denies the client"),
    AP_INIT_RAW_ARGS("WSGIAuthUserScript", wsl_cmd_hook_script,
                     WSL_FIELD(auth_user_script), OR_AUTHCFG,
                     "Script with check_password / get_realm_hash for "
                     "AuthBasicProvider / AuthDigestProvider wsgi"),
    AP_INIT_RAW_ARGS("WSGIAuthGroupScript", wsl_cmd_hook_script,
                     WSL_FIELD(auth_group_script), OR_AUTHCFG,
                     "Script with groups_for_user for Require wsgi-group"),
    AP_INIT_FLAG("WSGIGroupAuthoritative", ap_set_flag_slot,
                 WSL_FIELD(group_authoritative), OR_AUTHCFG,
                 "Off: a user in none of the groups is no decision, "
                 "other Require lines decide"),
    AP_INIT_RAW_ARGS("WSGIDispatchScript", wsl_cmd_hook_script,
                     WSL_FIELD(dispatch_script), RSRC_CONF | ACCESS_CONF,
                     "Script whose application_group / callable_object "
                     "pick where a request goes"),
    AP_INIT_FLAG("WSGIPassApacheRequest", ap_set_flag_slot,
                 WSL_FIELD(pass_apache_request), RSRC_CONF | ACCESS_CONF,
                 "On: environ['apache.request_rec'] holds the request_rec "
                 "as a capsule"),
    AP_INIT_FLAG("WSGIEnableSendfile", ap_set_flag_slot,
                 WSL_FIELD(enable_sendfile), OR_FILEINFO,
                 "On: wsgi.file_wrapper files may go out by sendfile()"),
    AP_INIT_FLAG("WSGIIgnoreActivity", ap_set_flag_slot,
                 WSL_FIELD(ignore_activity), OR_FILEINFO,
                 "On: these requests do not reset a daemon's "
                 "inactivity-timeout"),

    /* The embedded interpreter (process-wide) */
    AP_INIT_ITERATE("WSGIPythonPath", wsl_cmd_python_path, NULL, RSRC_CONF,
                    "Directories (':'-separated) added to sys.path in "
                    "every interpreter"),
    AP_INIT_TAKE1("WSGIPythonHome", wsl_cmd_global_string,
                  WSL_GLOBAL(python_home), RSRC_CONF,
                  "Python prefix (sys.prefix) to use"),
    AP_INIT_TAKE1("WSGIPythonOptimize", wsl_cmd_python_optimize, NULL,
                  RSRC_CONF, "Python optimisation level: 0, 1 or 2"),
    AP_INIT_TAKE1("WSGIPythonHashSeed", wsl_cmd_python_hash_seed, NULL,
                  RSRC_CONF, "Python hash seed: random or a number"),
    AP_INIT_TAKE1("WSGIPythonWarnings", wsl_cmd_python_warnings, NULL,
                  RSRC_CONF, "A Python warnings filter (as -W)"),
    AP_INIT_FLAG("WSGILazyInitialization", wsl_cmd_global_flag,
                 WSL_GLOBAL(lazy_initialization), RSRC_CONF,
                 "On: initialise Python in each child, not the parent"),
    AP_INIT_FLAG("WSGIRestrictStdout", wsl_cmd_global_flag,
                 WSL_GLOBAL(restrict_stdout), RSRC_CONF,
                 "On: writing to sys.stdout raises an error"),
    AP_INIT_FLAG("WSGIRestrictStdin", wsl_cmd_global_flag,
                 WSL_GLOBAL(restrict_stdin), RSRC_CONF,
                 "On: reading sys.stdin raises an error"),
    AP_INIT_FLAG("WSGIRestrictSignal", wsl_cmd_global_flag,
                 WSL_GLOBAL(restrict_signal), RSRC_CONF,
                 "On: signal.signal() from an application is ignored "
                 "(logged); signals belong to Apache"),
    AP_INIT_FLAG("WSGIDestroyInterpreter", wsl_cmd_global_flag,
                 WSL_GLOBAL(destroy_interpreter), RSRC_CONF,
                 "On: finalise Python when a child exits"),
    AP_INIT_FLAG("WSGIServerMetrics", wsl_cmd_global_flag,
                 WSL_GLOBAL(server_metrics), RSRC_CONF,
                 "On: mod_wsgi.server_metrics() reads Apache's scoreboard "
                 "and the daemon processes' status board"),
    AP_INIT_FLAG("WSGIDontWriteBytecode", wsl_cmd_global_flag,
                 WSL_GLOBAL(dont_write_bytecode), RSRC_CONF,
                 "On: imported modules write no .pyc files"),
    AP_INIT_TAKE1("WSGIPythonEggs", wsl_cmd_global_string,
                  WSL_GLOBAL(python_eggs), RSRC_CONF,
                  "Python eggs cache directory (PYTHON_EGG_CACHE)"),
    AP_INIT_TAKE1("WSGISwitchInterval", wsl_cmd_switch_interval, NULL,
                  RSRC_CONF, "Python's GIL switch interval, in seconds "
                  "(sys.setswitchinterval)"),
    AP_INIT_FLAG("WSGIVerboseDebugging", wsl_cmd_global_flag,
                 WSL_GLOBAL(verbose_debugging), RSRC_CONF,
                 "On: log each Python thread state made (at debug level)"),
    AP_INIT_FLAG("WSGIRestrictEmbedded", wsl_cmd_global_flag,
                 WSL_GLOBAL(restrict_embedded), RSRC_CONF,
                 "On: embedded mode is disabled; WSGI requests fail"),
    AP_INIT_TAKE1("WSGINewRelicConfigFile", wsl_cmd_global_string,
                  WSL_GLOBAL(newrelic_config_file), RSRC_CONF,
                  "New Relic agent configuration file, for "
                  "newrelic.agent.initialize() in every interpreter"),
    AP_INIT_TAKE1("WSGINewRelicEnvironment", wsl_cmd_global_string,
                  WSL_GLOBAL(newrelic_environment), RSRC_CONF,
                  "New Relic agent environment (section of its file)"),

    /* Interpreters (src/config/interp_options.c) */
    AP_INIT_RAW_ARGS("<WSGIInterpreterOptions", wsl_cmd_interp_options, NULL,
                     RSRC_CONF, "Container: the interpreters of "
                     "[process-group=NAME] [application-group=NAME]"),
    AP_INIT_FLAG("WSGIPerInterpreterGIL", wsl_cmd_per_interpreter_gil, NULL,
                 RSRC_CONF, "On: sub-interpreters get a GIL of their own "
                 "(Python 3.12+)"),
    AP_INIT_TAKE1("WSGIInterpreterCount", wsl_cmd_interpreter_count, NULL,
                  RSRC_CONF, "Interpreters serving each application group "
                  "(a pool; each worker thread bound to one)"),

    /* Daemon mode (src/daemon/) */
    AP_INIT_RAW_ARGS("WSGIDaemonProcess", wsl_cmd_daemon_process, NULL,
                     RSRC_CONF, "Daemon process group: a name, then "
                     "option=value (processes=, threads=, user=, ...)"),
    AP_INIT_TAKE1("WSGIProcessGroup", wsl_cmd_process_group, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "Process group: %{GLOBAL} (here) or a WSGIDaemonProcess"),
    AP_INIT_TAKE1("WSGISocketPrefix", wsl_cmd_socket_prefix, NULL,
                  RSRC_CONF, "Path prefix of the daemon processes' "
                  "sockets (relative to ServerRoot)"),
    AP_INIT_FLAG("WSGISocketRotation", wsl_cmd_global_flag,
                 WSL_GLOBAL(socket_rotation), RSRC_CONF,
                 "Daemon sockets renamed on each restart (always: Off "
                 "has no effect)"),
    AP_INIT_TAKE1("WSGIAcceptMutex", wsl_cmd_accept_mutex, NULL, RSRC_CONF,
                  "Daemon processes' accept mutex (none is used: no "
                  "effect)"),
    AP_INIT_RAW_ARGS("WSGIRestrictProcess", wsl_cmd_restrict_process, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "Process groups WSGIProcessGroup may select here"),

    /* mod_wsgi 4.9.4 leaves these out of an Apache 2.4, Python 3 build:
     * refused, saying why, rather than as unknown commands. */
    AP_INIT_RAW_ARGS("WSGIUserAuthoritative", wsl_cmd_unavailable,
                     "not available with Apache 2.4 (mod_wsgi leaves it out "
                     "there too): an unknown user (None from check_password) "
                     "already lets the next AuthBasicProvider decide",
                     RSRC_CONF | ACCESS_CONF | OR_AUTHCFG,
                     "Not available with Apache 2.4"),
    AP_INIT_RAW_ARGS("WSGIPy3kWarningFlag", wsl_cmd_unavailable,
                     "Python 2 only (mod_wsgi leaves it out for Python 3)",
                     RSRC_CONF, "Python 2 only"),
    { NULL }
};

/* Once per configuration, in the parent: the daemon groups get Apache's
 * User and Group where they name none (each pass: a group that would run
 * as root stops the start); Python's part; then, in the real start only
 * (not configtest, nor the first, checking pass of httpd's two), the note
 * of the groups' options not acted on yet, and their processes started. */
static int wsl_start(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s)
{
    int rc = wsl_daemon_groups_resolve(s);

    if (rc == OK)
        rc = wsl_post_config(pconf, plog, ptemp, s);
    if (rc != OK ||
        ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return rc;
    wsl_daemon_groups_report(s);
    if (ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL)
        return rc;
    return wsl_daemon_post_config(pconf, ptemp, s);
}

/* The whole configuration read, configtest included: what one directive
 * alone could not check. */
static int wsl_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    /* httpd reads the configuration twice at a start (once in
     * configtest): said on the pass that counts. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG ||
        ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST)
        wsl_check_interp_options(s);
    return wsl_config_check_imports(ptemp, s);
}

/* A new child: Python, then the WSGIImportScript preloads in it. */
static void wsl_child_start(apr_pool_t *pchild, server_rec *s)
{
    wsl_daemon_child_init();
    if (wsl_child_init(pchild, s))
        wsl_script_preload(s, pchild);
}

static void wsl_register_hooks(apr_pool_t *p)
{
    /* URL mapping runs after mod_alias, as in mod_wsgi, so that a more
     * specific Alias (say /static/) wins over WSGIScriptAlias / ; and
     * before mod_userdir and mod_vhost_alias, which would claim the URL. */
    static const char *const after_alias[] = { "mod_alias.c", NULL };
    static const char *const before_userdir[] = { "mod_userdir.c",
                                                  "mod_vhost_alias.c", NULL };

    ap_hook_check_config(wsl_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(wsl_start, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(wsl_child_start, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(wsl_translate_name, after_alias, before_userdir,
                           APR_HOOK_MIDDLE);
    ap_hook_handler(wsl_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* auth.c's providers and access check.  Per configuration: Apache may
     * then skip the checks for a sub-request whose configuration is the
     * same as its parent's. */
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "wsgi",
                              AUTHN_PROVIDER_VERSION, &wsl_authn_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "wsgi-group",
                              AUTHZ_PROVIDER_VERSION, &wsl_authz_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_access(wsl_check_access, NULL, NULL, APR_HOOK_MIDDLE,
                         AP_AUTH_INTERNAL_PER_CONF);
    /* The daemon processes on mod_status's page, when it is loaded. */
    APR_OPTIONAL_HOOK(ap, status_hook, wsl_daemon_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
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
