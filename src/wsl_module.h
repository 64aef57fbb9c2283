/*
 * wsl_module.h: what the module glue (mod_wsgi_lite.c) needs from src/:
 * the configuration records, the directive setters and the hook entry
 * points.  Deliberately free of Python so the glue makes no Python calls.
 */
#ifndef WSL_MODULE_H
#define WSL_MODULE_H

#include "httpd.h"
#include "http_config.h"

#define WSL_UNSET (-1)

/* How a request picks its application group (WSGIApplicationGroup). */
typedef enum {
    WSL_GROUP_RESOURCE = 0,     /* %{RESOURCE}: host[:port]|SCRIPT_NAME */
    WSL_GROUP_GLOBAL,           /* %{GLOBAL}: the main interpreter */
    WSL_GROUP_SERVER,           /* %{SERVER}: host[:port] */
    WSL_GROUP_ENV,              /* %{ENV:VAR} */
    WSL_GROUP_NAMED             /* a literal name */
} wsl_group_kind;

typedef struct {
    wsl_group_kind kind;
    const char *value;          /* the name, or the variable for ENV */
} wsl_group_spec;

/* One WSGIScriptAlias. */
typedef struct {
    const char *location;           /* URL prefix as written */
    const char *path;               /* script file */
    const wsl_group_spec *group;    /* application-group=, or NULL */
    const char *callable_object;    /* callable-object=, or NULL */
} wsl_alias;

typedef struct {
    apr_array_header_t *aliases;    /* wsl_alias, first match wins */
    apr_array_header_t *python_path;/* const char *; main server only */
} wsl_server_config;

/* Per-directory settings; WSL_UNSET / NULL inherit from the parent. */
typedef struct {
    const char *callable_object;
    const wsl_group_spec *group;
    int pass_authorization;
    int chunked_request;
    int script_reloading;
} wsl_dir_config;

/* Set in translate_name when a WSGIScriptAlias matched. */
typedef struct {
    const wsl_alias *alias;
} wsl_request_config;

void *wsl_config_create_server(apr_pool_t *p, server_rec *s);
void *wsl_config_merge_server(apr_pool_t *p, void *base, void *add);
void *wsl_config_create_dir(apr_pool_t *p, char *dir);
void *wsl_config_merge_dir(apr_pool_t *p, void *base, void *add);

const char *wsl_cmd_script_alias(cmd_parms *cmd, void *dconf,
                                 const char *args);
const char *wsl_cmd_python_path(cmd_parms *cmd, void *dconf,
                                const char *arg);
const char *wsl_cmd_application_group(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *wsl_cmd_callable_object(cmd_parms *cmd, void *dconf,
                                    const char *arg);

/* Effective values for a request (directory config, then alias options). */
const char *wsl_config_callable(request_rec *r);
const wsl_group_spec *wsl_config_group(request_rec *r);
/* The application group name for a request; NULL means %{GLOBAL}. */
const char *wsl_config_group_name(request_rec *r);
int wsl_config_flag(int value, int dflt);

/* translate.c: SCRIPT_NAME (the URI less its path info), and whether a
 * WSGIScriptAlias mapped the request. */
const char *wsl_request_script_name(request_rec *r);
int wsl_request_is_aliased(request_rec *r);

/* Hooks. */
int wsl_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);
void wsl_child_init(apr_pool_t *pchild, server_rec *s);
int wsl_translate_name(request_rec *r);
int wsl_handler(request_rec *r);

#endif /* WSL_MODULE_H */
