/*
 * config.c: the configuration records, their create and merge functions,
 * and the directive setters that need more than Apache's stock ones.
 *
 * Directive names and contexts follow mod_wsgi, so existing configurations
 * work unchanged.  Errors are returned from the setters with the directive's
 * name, so `apachectl configtest` reports them.  Adding a directive means:
 * a field here (WSL_UNSET by default, inherited in the merge), a line in the
 * table in mod_wsgi_lite.c, and its use where a request reads it.
 */
#include "config.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_lib.h"
#include "apr_strings.h"

void *wsl_config_create_server(apr_pool_t *p, server_rec *s)
{
    wsl_server_config *conf = apr_pcalloc(p, sizeof(*conf));

    conf->aliases = apr_array_make(p, 4, sizeof(wsl_alias));
    conf->python_path = apr_array_make(p, 2, sizeof(const char *));
    conf->python_optimize = WSL_UNSET;
    conf->python_warnings = apr_array_make(p, 2, sizeof(const char *));
    conf->lazy_initialization = WSL_UNSET;
    conf->restrict_stdout = WSL_UNSET;
    conf->restrict_stdin = WSL_UNSET;
    conf->restrict_signal = WSL_UNSET;
    conf->destroy_interpreter = WSL_UNSET;
    conf->import_scripts = apr_array_make(p, 2, sizeof(wsl_import_script));
    conf->case_sensitivity = WSL_UNSET;
    conf->server_metrics = WSL_UNSET;
    conf->dont_write_bytecode = WSL_UNSET;
    conf->verbose_debugging = WSL_UNSET;
    conf->restrict_embedded = WSL_UNSET;
    conf->socket_rotation = WSL_UNSET;
    return conf;
}

void *wsl_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    wsl_server_config *base = basev, *add = addv;
    wsl_server_config *conf = apr_pmemdup(p, base, sizeof(*conf));

    /* A virtual host's own aliases are tried before the main server's,
     * as mod_alias does.  The process-wide settings are only ever read
     * from the main server, so the copy of base carries them. */
    conf->aliases = apr_array_append(p, add->aliases, base->aliases);
    conf->import_scripts = apr_array_append(p, base->import_scripts,
                                            add->import_scripts);
    if (add->case_sensitivity != WSL_UNSET)
        conf->case_sensitivity = add->case_sensitivity;
    conf->python_required = base->python_required || add->python_required;
    return conf;
}

void *wsl_config_create_dir(apr_pool_t *p, char *dir)
{
    wsl_dir_config *conf = apr_pcalloc(p, sizeof(*conf));

    conf->pass_authorization = WSL_UNSET;
    conf->chunked_request = WSL_UNSET;
    conf->script_reloading = WSL_UNSET;
    conf->error_override = WSL_UNSET;
    conf->map_head_to_get = WSL_UNSET;
    conf->group_authoritative = WSL_UNSET;
    conf->pass_apache_request = WSL_UNSET;
    conf->enable_sendfile = WSL_UNSET;
    conf->ignore_activity = WSL_UNSET;
    return conf;
}

#define WSL_MERGE_PTR(field) conf->field = add->field ? add->field : base->field
#define WSL_MERGE_INT(field) \
    conf->field = add->field != WSL_UNSET ? add->field : base->field

void *wsl_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    wsl_dir_config *base = basev, *add = addv;
    wsl_dir_config *conf = apr_pcalloc(p, sizeof(*conf));

    WSL_MERGE_PTR(callable_object);
    WSL_MERGE_PTR(group);
    WSL_MERGE_PTR(process_group);
    WSL_MERGE_INT(pass_authorization);
    WSL_MERGE_INT(chunked_request);
    WSL_MERGE_INT(script_reloading);
    WSL_MERGE_INT(error_override);
    WSL_MERGE_INT(map_head_to_get);
    WSL_MERGE_PTR(trusted_proxy_headers);
    WSL_MERGE_PTR(trusted_proxies);
    WSL_MERGE_PTR(access_script);
    WSL_MERGE_PTR(auth_user_script);
    WSL_MERGE_PTR(auth_group_script);
    WSL_MERGE_PTR(dispatch_script);
    WSL_MERGE_INT(group_authoritative);
    WSL_MERGE_INT(pass_apache_request);
    WSL_MERGE_INT(enable_sendfile);
    WSL_MERGE_INT(ignore_activity);
    WSL_MERGE_PTR(restrict_process);
    if (base->handler_scripts && add->handler_scripts)
        conf->handler_scripts = apr_table_overlay(p, add->handler_scripts,
                                                  base->handler_scripts);
    else
        WSL_MERGE_PTR(handler_scripts);
    return conf;
}

int wsl_config_flag(int value, int dflt)
{
    return value == WSL_UNSET ? dflt : value;
}

/* A Python identifier path such as `application` or `app.wsgi_app`'s
 * first part: mod_wsgi looks the name up as a module attribute. */
static const char *check_callable_name(cmd_parms *cmd, const char *name)
{
    const char *c;

    if (!*name || apr_isdigit(*name))
        goto bad;
    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_')
            goto bad;
    }
    return NULL;
bad:
    return apr_psprintf(cmd->pool, "%s: '%s' is not a valid Python name",
                        cmd->cmd->name, name);
}

const char *wsl_group_parse(apr_pool_t *p, const char *arg,
                            wsl_group_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    if (!*arg)
        return "the group name is empty";
    if (!strcmp(arg, "%{GLOBAL}")) {
        spec->kind = WSL_GROUP_GLOBAL;
    }
    else if (!strcmp(arg, "%{SERVER}")) {
        spec->kind = WSL_GROUP_SERVER;
    }
    else if (!strcmp(arg, "%{RESOURCE}")) {
        spec->kind = WSL_GROUP_RESOURCE;
    }
    else if (!strncmp(arg, "%{ENV:", 6)) {
        apr_size_t len = strlen(arg);

        if (len <= 7 || arg[len - 1] != '}')
            return apr_psprintf(p, "malformed '%s', expected "
                                "%%{ENV:VARIABLE}", arg);
        spec->kind = WSL_GROUP_ENV;
        spec->value = apr_pstrndup(p, arg + 6, len - 7);
    }
    else if (arg[0] == '%' && arg[1] == '{') {
        return apr_psprintf(p, "unknown '%s'; expected %%{GLOBAL}, "
                            "%%{SERVER}, %%{RESOURCE}, %%{ENV:VARIABLE} or "
                            "a name", arg);
    }
    else {
        spec->kind = WSL_GROUP_NAMED;
        spec->value = apr_pstrdup(p, arg);
    }
    return NULL;
}

static const char *parse_group(cmd_parms *cmd, const char *arg,
                               const wsl_group_spec **out)
{
    wsl_group_spec *spec = apr_pcalloc(cmd->pool, sizeof(*spec));
    const char *err = wsl_group_parse(cmd->pool, arg, spec);

    if (err)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    *out = spec;
    return NULL;
}

/*
 * mod_wsgi's name=value options after a script path (WSGIScriptAlias,
 * WSGIScriptAliasMatch, WSGIImportScript, WSGIHandlerScript).
 */
static const char *parse_script_options(cmd_parms *cmd, const char *args,
                                        const wsl_group_spec **group,
                                        const char **callable_object,
                                        const char **process_group)
{
    const char *err;

    while (*args) {
        const char *word = ap_getword_conf(cmd->temp_pool, &args);
        const char *eq = strchr(word, '=');
        const char *value;
        apr_size_t nlen;

        if (!*word)
            break;
        if (!eq)
            return apr_psprintf(cmd->pool, "%s: option '%s' is not of the "
                                "form name=value", cmd->cmd->name, word);
        value = apr_pstrdup(cmd->pool, eq + 1);
        nlen = (apr_size_t)(eq - word);
        if (nlen == 17 && !strncmp(word, "application-group", nlen)) {
            if ((err = parse_group(cmd, value, group)))
                return err;
        }
        else if (nlen == 15 && !strncmp(word, "callable-object", nlen) &&
                 callable_object) {
            if ((err = check_callable_name(cmd, value)))
                return err;
            *callable_object = value;
        }
        else if (nlen == 13 && !strncmp(word, "process-group", nlen)) {
            /* The empty name and %{GLOBAL} both mean this process, as in
 * mod_wsgi; a daemon group's name is looked up when a request
             * is routed (route.c, WSL00051), as for WSGIProcessGroup, or,
             * for WSGIImportScript, once the configuration is read
             * (wsl_config_check_imports).  The access, auth and dispatch
             * scripts run in Apache's children only. */
            if (process_group)
                *process_group = value;
            else if (*value && strcmp(value, "%{GLOBAL}"))
                return apr_psprintf(cmd->pool, "%s: process-group=%s: "
                                    "this script runs in Apache's "
                                    "children, never in a daemon process",
                                    cmd->cmd->name, value);
        }
        else {
            return apr_psprintf(cmd->pool, "%s: unknown option '%s'",
                                cmd->cmd->name, word);
        }
    }
    return NULL;
}

static const char *add_alias(cmd_parms *cmd, const char *args, int regex)
{
    wsl_server_config *sconf =
        ap_get_module_config(cmd->server->module_config, &wsgi_lite_module);
    const char *location = ap_getword_conf(cmd->temp_pool, &args);
    const char *path = ap_getword_conf(cmd->temp_pool, &args);
    wsl_alias *alias;

    if (!*location || !*path)
        return apr_psprintf(cmd->pool, "%s takes a URL-%s and a file "
                            "path", cmd->cmd->name, regex ? "regex" : "path");
    if (!regex && location[0] != '/')
        return apr_psprintf(cmd->pool, "%s: URL-path '%s' must start "
                            "with '/'", cmd->cmd->name, location);

    alias = apr_array_push(sconf->aliases);
    memset(alias, 0, sizeof(*alias));
    alias->location = apr_pstrdup(cmd->pool, location);
    if (regex) {
        alias->regex = ap_pregcomp(cmd->pool, location, AP_REG_EXTENDED);
        if (!alias->regex)
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid regular "
                                "expression", cmd->cmd->name, location);
        alias->path = apr_pstrdup(cmd->pool, path);
    }
    else if (!(alias->path = ap_server_root_relative(cmd->pool, path))) {
        return apr_psprintf(cmd->pool, "%s: invalid file path '%s'",
                            cmd->cmd->name, path);
    }
    return parse_script_options(cmd, args, &alias->group,
                                &alias->callable_object,
                                &alias->process_group);
}

const char *wsl_cmd_script_alias(cmd_parms *cmd, void *dconf,
                                 const char *args)
{
    return add_alias(cmd, args, 0);
}

const char *wsl_cmd_script_alias_match(cmd_parms *cmd, void *dconf,
                                       const char *args)
{
    return add_alias(cmd, args, 1);
}

const char *wsl_cmd_python_path(cmd_parms *cmd, void *dconf,
                                const char *arg)
{
    wsl_server_config *sconf =
        ap_get_module_config(cmd->server->module_config, &wsgi_lite_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *paths, *dir, *state;

    if (err)
        return err;
    /* Several directories, ':'-separated, as in mod_wsgi and PYTHONPATH. */
    paths = apr_pstrdup(cmd->pool, arg);
    for (dir = apr_strtok(paths, ":", &state); dir;
         dir = apr_strtok(NULL, ":", &state)) {
        *(const char **)apr_array_push(sconf->python_path) = dir;
    }
    return NULL;
}

static wsl_server_config *global_config(cmd_parms *cmd, const char **err)
{
    *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    return ap_get_module_config(cmd->server->module_config,
                                &wsgi_lite_module);
}

/* An On/Off for the whole process; cmd->info is the field's offset. */
const char *wsl_cmd_global_flag(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err;
    wsl_server_config *sconf = global_config(cmd, &err);

    if (err)
        return err;
    *(int *)((char *)sconf + (apr_size_t)cmd->info) = flag ? 1 : 0;
    return NULL;
}

const char *wsl_cmd_global_string(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *err;
    wsl_server_config *sconf = global_config(cmd, &err);

    if (err)
        return err;
    *(const char **)((char *)sconf + (apr_size_t)cmd->info) = arg;
    return NULL;
}

const char *wsl_cmd_python_optimize(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *err;
    wsl_server_config *sconf = global_config(cmd, &err);

    if (err)
        return err;
    if (strcmp(arg, "0") && strcmp(arg, "1") && strcmp(arg, "2"))
        return apr_psprintf(cmd->pool, "%s: '%s' is not 0, 1 or 2",
                            cmd->cmd->name, arg);
    sconf->python_optimize = atoi(arg);
    return NULL;
}

const char *wsl_cmd_python_hash_seed(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err, *c;
    wsl_server_config *sconf = global_config(cmd, &err);

    if (err)
        return err;
    if (strcmp(arg, "random")) {
        for (c = arg; *c; c++) {
            if (!apr_isdigit(*c))
                break;
        }
        if (!*arg || *c || strlen(arg) > 10 ||
            apr_atoi64(arg) > APR_INT64_C(4294967295))
            return apr_psprintf(cmd->pool, "%s: '%s' is not 'random' or a "
                                "number from 0 to 4294967295",
                                cmd->cmd->name, arg);
    }
    sconf->python_hash_seed = arg;
    return NULL;
}

const char *wsl_cmd_python_warnings(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *err;
    wsl_server_config *sconf = global_config(cmd, &err);

    if (err)
        return err;
    *(const char **)apr_array_push(sconf->python_warnings) = arg;
    return NULL;
}

/*
 * The script directives that run Python outside the content handler
 * (WSGIImportScript, the access, auth and dispatch scripts): with
 * WSGIRestrictEmbedded On, Apache's children start Python only when one
 * of them is configured, as in mod_wsgi.  An .htaccess file is read while
 * a request runs, too late to start Python for it (and the server record
 * is shared by the worker threads then), so it is not counted.
 */
static void note_python_required(cmd_parms *cmd)
{
    wsl_server_config *sconf =
        ap_get_module_config(cmd->server->module_config, &wsgi_lite_module);

    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_RUN_MPM)
        sconf->python_required = 1;
}

const char *wsl_cmd_import_script(cmd_parms *cmd, void *dconf,
                                  const char *args)
{
    wsl_server_config *sconf =
        ap_get_module_config(cmd->server->module_config, &wsgi_lite_module);
    const char *path = ap_getword_conf(cmd->temp_pool, &args);
    wsl_import_script *script;
    const char *err;

    if (!*path)
        return apr_psprintf(cmd->pool, "%s takes a script path",
                            cmd->cmd->name);
    script = apr_array_push(sconf->import_scripts);
    script->group = NULL;
    script->process_group = NULL;
    script->defined_at = cmd->directive
        ? apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                       cmd->directive->line_num)
        : "";
    if (!(script->path = ap_server_root_relative(cmd->pool, path)))
        return apr_psprintf(cmd->pool, "%s: invalid file path '%s'",
                            cmd->cmd->name, path);
    if ((err = parse_script_options(cmd, args, &script->group, NULL,
                                    &script->process_group)))
        return err;
    /* "" and %{GLOBAL}: Apache's children, which then need Python (as in
     * mod_wsgi, a daemon group's script does not). */
    if (script->process_group && (!*script->process_group ||
                                  !strcmp(script->process_group,
                                          "%{GLOBAL}")))
        script->process_group = NULL;
    if (!script->process_group)
        note_python_required(cmd);
    /* At child start there is no request to name a resource after. */
    if (script->group && (script->group->kind == WSL_GROUP_RESOURCE ||
                          script->group->kind == WSL_GROUP_ENV))
        return apr_psprintf(cmd->pool, "%s: application-group must be "
                            "%%{GLOBAL}, %%{SERVER} or a name",
                            cmd->cmd->name);
    return NULL;
}

/*
 * Once the whole configuration is read (check_config: configtest too):
 * each WSGIImportScript's process-group= names a WSGIDaemonProcess that
 * its server may use, as mod_wsgi's wsgi_add_import_script requires
 * (mod_wsgi also wants the group defined first; any order works here).
 * A script is listed again in every virtual host that inherits it: each
 * is checked once, in the first server that lists it, where it was
 * written.
 */
int wsl_config_check_imports(apr_pool_t *ptemp, server_rec *main_server)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    server_rec *s;
    int i;

    for (s = main_server; s; s = s->next) {
        wsl_server_config *sconf =
            ap_get_module_config(s->module_config, &wsgi_lite_module);

        for (i = 0; i < sconf->import_scripts->nelts; i++) {
            const wsl_import_script *script =
                &APR_ARRAY_IDX(sconf->import_scripts, i, wsl_import_script);
            const wsl_daemon_group *g;
            const char *why, *key;

            if (!script->process_group)
                continue;
            key = apr_pstrcat(ptemp, script->defined_at, "|", script->path,
                              "|", script->process_group, NULL);
            if (apr_hash_get(seen, key, APR_HASH_KEY_STRING))
                continue;
            apr_hash_set(seen, key, APR_HASH_KEY_STRING, "");
            g = wsl_daemon_group_find(script->process_group);
            if (g && wsl_daemon_group_allowed(g, s))
                continue;
            why = g ? apr_psprintf(ptemp, "that WSGIDaemonProcess (%s) "
                                   "belongs to another virtual host, and "
                                   "serves only its ServerName",
                                   g->defined_at)
                    : "no WSGIDaemonProcess of that name";
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         "WSL00053: WSGIImportScript '%s' (%s): "
                         "process-group=%s: %s", script->path,
                         script->defined_at, script->process_group, why);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

const char *wsl_cmd_handler_script(cmd_parms *cmd, void *dconf,
                                   const char *args)
{
    wsl_dir_config *conf = dconf;
    const char *name = ap_getword_conf(cmd->pool, &args);
    const char *path = ap_getword_conf(cmd->temp_pool, &args);
    wsl_handler_script *script;

    if (!*name || !*path)
        return apr_psprintf(cmd->pool, "%s takes a handler name and a "
                            "script path", cmd->cmd->name);
    script = apr_pcalloc(cmd->pool, sizeof(*script));
    script->name = name;
    if (!(script->path = ap_server_root_relative(cmd->pool, path)))
        return apr_psprintf(cmd->pool, "%s: invalid file path '%s'",
                            cmd->cmd->name, path);
    if (!conf->handler_scripts)
        conf->handler_scripts = apr_table_make(cmd->pool, 2);
    /* The table holds strings; the record's address travels as one. */
    apr_table_setn(conf->handler_scripts, name, (const char *)script);
    return parse_script_options(cmd, args, &script->group,
                                &script->callable_object,
                                &script->process_group);
}

/* WSGIAccessScript, WSGIAuthUserScript, WSGIAuthGroupScript and
 * WSGIDispatchScript: a path and application-group=; cmd->info is the
 * field's offset in the directory config. */
const char *wsl_cmd_hook_script(cmd_parms *cmd, void *dconf,
                                const char *args)
{
    const char *path = ap_getword_conf(cmd->temp_pool, &args);
    wsl_hook_script *script;

    if (!*path)
        return apr_psprintf(cmd->pool, "%s takes a script path",
                            cmd->cmd->name);
    script = apr_pcalloc(cmd->pool, sizeof(*script));
    if (!(script->path = ap_server_root_relative(cmd->pool, path)))
        return apr_psprintf(cmd->pool, "%s: invalid file path '%s'",
                            cmd->cmd->name, path);
    *(const wsl_hook_script **)((char *)dconf + (apr_size_t)cmd->info) =
        script;
    note_python_required(cmd);
    return parse_script_options(cmd, args, &script->group, NULL, NULL);
}

const char *wsl_cmd_map_head_to_get(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    wsl_dir_config *conf = dconf;

    if (!strcasecmp(arg, "Off"))
        conf->map_head_to_get = WSL_HEAD_OFF;
    else if (!strcasecmp(arg, "On"))
        conf->map_head_to_get = WSL_HEAD_ON;
    else if (!strcasecmp(arg, "Auto"))
        conf->map_head_to_get = WSL_HEAD_AUTO;
    else
        return apr_psprintf(cmd->pool, "%s must be Off, On or Auto",
                            cmd->cmd->name);
    return NULL;
}

const char *wsl_cmd_trusted_proxy_headers(cmd_parms *cmd, void *dconf,
                                          const char *arg)
{
    static const char *const known[] = {
        "X-Forwarded-For", "X-Client-IP", "X-Real-IP",
        "X-Forwarded-Proto", "X-Forwarded-Scheme", "X-Forwarded-SSL",
        "X-Forwarded-HTTPS", "X-Forwarded-Host", "X-Forwarded-Server",
        "X-Forwarded-Port", "X-Script-Name", NULL
    };
    wsl_dir_config *conf = dconf;
    char *key, *c;
    int i;

    for (i = 0; known[i]; i++) {
        if (!strcasecmp(arg, known[i]))
            break;
    }
    if (!known[i])
        return apr_psprintf(cmd->pool, "%s: '%s' is not a supported proxy "
                            "header", cmd->cmd->name, arg);
    key = apr_pstrcat(cmd->pool, "HTTP_", known[i], NULL);
    for (c = key; *c; c++)
        *c = *c == '-' ? '_' : apr_toupper(*c);
    if (!conf->trusted_proxy_headers)
        conf->trusted_proxy_headers = apr_array_make(cmd->pool, 4,
                                                     sizeof(char *));
    *(const char **)apr_array_push(conf->trusted_proxy_headers) = key;
    return NULL;
}

const char *wsl_cmd_trusted_proxies(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    wsl_dir_config *conf = dconf;
    apr_ipsubnet_t *subnet;
    char *ip = apr_pstrdup(cmd->temp_pool, arg), *mask;
    apr_status_t rv;

    if ((mask = ap_strchr(ip, '/')))
        *mask++ = '\0';
    rv = apr_ipsubnet_create(&subnet, ip, mask, cmd->pool);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: '%s' is not an IP address or "
                            "network", cmd->cmd->name, arg);
    if (!conf->trusted_proxies)
        conf->trusted_proxies = apr_array_make(cmd->pool, 4,
                                               sizeof(apr_ipsubnet_t *));
    *(apr_ipsubnet_t **)apr_array_push(conf->trusted_proxies) = subnet;
    return NULL;
}

/* WSGIProcessGroup, kept as written: route.c expands it per request
 * (%{ENV:VAR} and the like).  The daemon groups themselves: daemons.c. */
const char *wsl_cmd_process_group(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    wsl_dir_config *conf = dconf;

    conf->process_group = arg;
    return NULL;
}

/* WSGIAcceptMutex: the mechanisms Apache's AcceptMutex knows that this
 * APR has, as mod_wsgi lists them.  Kept for the start-up note only until
 * daemon processes exist to share one. */
const char *wsl_cmd_accept_mutex(cmd_parms *cmd, void *dconf,
                                 const char *arg)
{
    static const char *const known[] = {
        "default",
#if APR_HAS_FLOCK_SERIALIZE
        "flock",
#endif
#if APR_HAS_FCNTL_SERIALIZE
        "fcntl",
#endif
#if APR_HAS_SYSVSEM_SERIALIZE
        "sysvsem",
#endif
#if APR_HAS_POSIXSEM_SERIALIZE
        "posixsem",
#endif
#if APR_HAS_PROC_PTHREAD_SERIALIZE
        "pthread",
#endif
        NULL
    };
    const char *err, *valid = NULL;
    wsl_server_config *sconf = global_config(cmd, &err);
    int i;

    if (err)
        return err;
    for (i = 0; known[i]; i++) {
        if (!strcasecmp(arg, known[i])) {
            sconf->accept_mutex = known[i];
            return NULL;
        }
        valid = valid ? apr_pstrcat(cmd->temp_pool, valid, ", ", known[i],
                                    NULL)
                      : known[i];
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not a lock mechanism of "
                        "this platform (%s)", cmd->cmd->name, arg, valid);
}

/* WSGIRestrictProcess: the process groups WSGIProcessGroup (and the
 * options and dispatch script that override it) may select here, by name;
 * %{GLOBAL} is this process, which mod_wsgi names "". */
const char *wsl_cmd_restrict_process(cmd_parms *cmd, void *dconf,
                                     const char *args)
{
    wsl_dir_config *conf = dconf;
    apr_table_t *allowed = apr_table_make(cmd->pool, 4);

    while (*args) {
        const char *name = ap_getword_conf(cmd->pool, &args);

        if (!*name)
            break;
        if (!strcmp(name, "%{GLOBAL}"))
            name = "";
        apr_table_setn(allowed, name, name);
    }
    /* mod_wsgi takes an empty list as "no group at all", which refuses
     * every request, embedded ones too: more likely a mistake. */
    if (apr_is_empty_table(allowed))
        return apr_psprintf(cmd->pool, "%s takes one or more process group "
                            "names (%%{GLOBAL} for this process)",
                            cmd->cmd->name);
    conf->restrict_process = allowed;
    return NULL;
}

/* WSGISwitchInterval (mod_wsgi 5): seconds, for sys.setswitchinterval.
 * Bounded above so the microseconds CPython stores it as cannot
 * overflow. */
const char *wsl_cmd_switch_interval(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *err = NULL;
    int inside = wsl_interp_options_reading(cmd);
    wsl_server_config *sconf = inside ? NULL : global_config(cmd, &err);
    char *end;
    double seconds;

    if (err)
        return err;
    seconds = strtod(arg, &end);
    /* !(a && b) also refuses NaN. */
    if (end == arg || *end || !(seconds > 0.0 && seconds <= 86400.0))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a positive number "
                            "of seconds (at most 86400)", cmd->cmd->name,
                            arg);
    /* Inside <WSGIInterpreterOptions>: that scope's interpreters with a
     * GIL of their own (interp.c). */
    if (inside)
        wsl_interp_options_set_switch_interval(seconds);
    else
        sconf->switch_interval = seconds;
    return NULL;
}

/* A mod_wsgi directive that mod_wsgi itself leaves out of this build
 * (Apache 2.4, Python 3); cmd->info says why and what to use. */
const char *wsl_cmd_unavailable(cmd_parms *cmd, void *dconf,
                                const char *args)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name,
                        (const char *)cmd->info);
}

const char *wsl_cmd_application_group(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    wsl_dir_config *conf = dconf;

    return parse_group(cmd, arg, &conf->group);
}

const char *wsl_cmd_callable_object(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    wsl_dir_config *conf = dconf;
    const char *err = check_callable_name(cmd, arg);

    if (err)
        return err;
    conf->callable_object = arg;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Effective settings for one request.                                  */

static const wsl_alias *request_alias(request_rec *r)
{
    wsl_alias_match *match =
        ap_get_module_config(r->request_config, &wsgi_lite_module);

    return match ? match->alias : NULL;
}

const char *wsl_config_callable(request_rec *r)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    const wsl_alias *alias = request_alias(r);

    if (alias && alias->callable_object)
        return alias->callable_object;
    return dconf->callable_object ? dconf->callable_object : "application";
}

const wsl_group_spec *wsl_config_group(request_rec *r)
{
    static const wsl_group_spec resource = { WSL_GROUP_RESOURCE, NULL };
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    const wsl_alias *alias = request_alias(r);

    if (alias && alias->group)
        return alias->group;
    return dconf->group ? dconf->group : &resource;
}

const char *wsl_config_process_group(request_rec *r,
                                     const wsl_handler_script *hs)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    const wsl_alias *alias = request_alias(r);
    const char *value = dconf->process_group;

    /* An option of the alias, or of the handler script that runs the
     * request, overrides the directive. */
    if (hs) {
        if (hs->process_group)
            value = hs->process_group;
    }
    else if (alias && alias->process_group) {
        value = alias->process_group;
    }
    return value;
}

int wsl_config_process_allowed(request_rec *r, const char *process_group)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);

    /* Names compare as mod_wsgi's apr_table does: without case. */
    return !dconf->restrict_process ||
           apr_table_get(dconf->restrict_process, process_group) != NULL;
}

int wsl_config_python_required(server_rec *main_server)
{
    wsl_server_config *sconf =
        ap_get_module_config(main_server->module_config, &wsgi_lite_module);
    server_rec *s;

    if (!wsl_config_flag(sconf->restrict_embedded, 0))
        return 1;
    for (s = main_server; s; s = s->next) {
        sconf = ap_get_module_config(s->module_config, &wsgi_lite_module);
        if (sconf->python_required)
            return 1;
    }
    return 0;
}
