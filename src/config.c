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
#include "wsl.h"

void *wsl_config_create_server(apr_pool_t *p, server_rec *s)
{
    wsl_server_config *conf = apr_pcalloc(p, sizeof(*conf));

    conf->aliases = apr_array_make(p, 4, sizeof(wsl_alias));
    conf->python_path = apr_array_make(p, 2, sizeof(const char *));
    return conf;
}

void *wsl_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    wsl_server_config *base = basev, *add = addv;
    wsl_server_config *conf = apr_pcalloc(p, sizeof(*conf));

    /* A virtual host's own aliases are tried before the main server's,
     * as mod_alias does. */
    conf->aliases = apr_array_append(p, add->aliases, base->aliases);
    conf->python_path = base->python_path;
    return conf;
}

void *wsl_config_create_dir(apr_pool_t *p, char *dir)
{
    wsl_dir_config *conf = apr_pcalloc(p, sizeof(*conf));

    conf->pass_authorization = WSL_UNSET;
    conf->chunked_request = WSL_UNSET;
    conf->script_reloading = WSL_UNSET;
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
    WSL_MERGE_INT(pass_authorization);
    WSL_MERGE_INT(chunked_request);
    WSL_MERGE_INT(script_reloading);
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

static const char *parse_group(cmd_parms *cmd, const char *arg,
                               const wsl_group_spec **out)
{
    wsl_group_spec *spec = apr_pcalloc(cmd->pool, sizeof(*spec));

    if (!*arg)
        return apr_psprintf(cmd->pool, "%s: the group name is empty",
                            cmd->cmd->name);
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
            return apr_psprintf(cmd->pool, "%s: malformed '%s', expected "
                                "%%{ENV:VARIABLE}", cmd->cmd->name, arg);
        spec->kind = WSL_GROUP_ENV;
        spec->value = apr_pstrndup(cmd->pool, arg + 6, len - 7);
    }
    else if (arg[0] == '%' && arg[1] == '{') {
        return apr_psprintf(cmd->pool, "%s: unknown '%s'; expected "
                            "%%{GLOBAL}, %%{SERVER}, %%{RESOURCE}, "
                            "%%{ENV:VARIABLE} or a name",
                            cmd->cmd->name, arg);
    }
    else {
        spec->kind = WSL_GROUP_NAMED;
        spec->value = arg;
    }
    *out = spec;
    return NULL;
}

const char *wsl_cmd_script_alias(cmd_parms *cmd, void *dconf,
                                 const char *args)
{
    wsl_server_config *sconf =
        ap_get_module_config(cmd->server->module_config, &wsgi_lite_module);
    const char *location = ap_getword_conf(cmd->temp_pool, &args);
    const char *path = ap_getword_conf(cmd->temp_pool, &args);
    wsl_alias *alias;
    const char *err;

    if (!*location || !*path)
        return apr_psprintf(cmd->pool, "%s takes a URL-path and a file "
                            "path", cmd->cmd->name);
    if (location[0] != '/')
        return apr_psprintf(cmd->pool, "%s: URL-path '%s' must start "
                            "with '/'", cmd->cmd->name, location);

    alias = apr_array_push(sconf->aliases);
    memset(alias, 0, sizeof(*alias));
    alias->location = apr_pstrdup(cmd->pool, location);
    alias->path = ap_server_root_relative(cmd->pool, path);
    if (!alias->path)
        return apr_psprintf(cmd->pool, "%s: invalid file path '%s'",
                            cmd->cmd->name, path);

    /* mod_wsgi's per-alias options: name=value words after the path. */
    while (*args) {
        const char *word = ap_getword_conf(cmd->temp_pool, &args);
        const char *eq = strchr(word, '=');
        const char *value;

        if (!*word)
            break;
        if (!eq)
            return apr_psprintf(cmd->pool, "%s: option '%s' is not of the "
                                "form name=value", cmd->cmd->name, word);
        value = apr_pstrdup(cmd->pool, eq + 1);
        if (!strncmp(word, "application-group=", eq - word + 1)) {
            if ((err = parse_group(cmd, value, &alias->group)))
                return err;
        }
        else if (!strncmp(word, "callable-object=", eq - word + 1)) {
            if ((err = check_callable_name(cmd, value)))
                return err;
            alias->callable_object = value;
        }
        else if (!strncmp(word, "process-group=", eq - word + 1)) {
            /* Embedded mode only: the empty name (or %{GLOBAL}, which is
             * what mod_wsgi calls embedded) is the only process group. */
            if (*value && strcmp(value, "%{GLOBAL}"))
                return apr_psprintf(cmd->pool, "%s: process-group=%s: "
                                    "daemon mode is not supported yet",
                                    cmd->cmd->name, value);
        }
        else {
            return apr_psprintf(cmd->pool, "%s: unknown option '%s'",
                                cmd->cmd->name, word);
        }
    }
    return NULL;
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
    wsl_request_config *rconf =
        ap_get_module_config(r->request_config, &wsgi_lite_module);

    return rconf ? rconf->alias : NULL;
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

/* host, plus :port when it is not the scheme's default, as mod_wsgi
 * names %{SERVER} and the first half of %{RESOURCE}. */
static const char *server_part(request_rec *r)
{
    apr_port_t port = ap_get_server_port(r);
    const char *host = r->server->server_hostname;

    if (!host)
        host = "";
    if (port != ap_default_port(r))
        return apr_psprintf(r->pool, "%s:%u", host, (unsigned)port);
    return host;
}

const char *wsl_config_group_name(request_rec *r)
{
    const wsl_group_spec *spec = wsl_config_group(r);
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
