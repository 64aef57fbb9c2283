/*
 * config.h: the configuration layer (src/config/): the configuration
 * records and the directive setters (config.c), the daemon process groups
 * (daemons.c: WSGIDaemonProcess, WSGISocketPrefix), URL mapping
 * (translate.c) and what a request runs (route.c), as every layer above
 * uses them and mod_wsgi_lite.c's directive table.  Free of Python, like
 * everything in src/config/.
 */
#ifndef WSL_CONFIG_H
#define WSL_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#define WSL_UNSET (-1)

/* The handler names a WSGI script goes by: what WSGIScriptAlias sets
 * (translate.c), and mod_wsgi's MIME type for AddHandler-less setups. */
#define WSL_HANDLER "wsgi-script"
#define WSL_HANDLER_MIME "application/x-httpd-wsgi"

/* The module record (mod_wsgi_lite.c), through which every file reaches
 * its configuration. */
extern module AP_MODULE_DECLARE_DATA wsgi_lite_module;

/* Log entries carry [wsgi_lite:...]; mod_wsgi_lite.c, which defines the
 * record with AP_DECLARE_MODULE, has this already. */
#if defined(APLOG_USE_MODULE) && !defined(WSL_MODULE_RECORD)
APLOG_USE_MODULE(wsgi_lite);
#endif

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
    ap_regex_t *regex;              /* WSGIScriptAliasMatch, else NULL */
    const char *path;               /* script file ($1..$9 for a regex) */
    const wsl_group_spec *group;    /* application-group=, or NULL */
    const char *callable_object;    /* callable-object=, or NULL */
    const char *process_group;      /* process-group=, or NULL */
} wsl_alias;

/* One WSGIImportScript: run as a process starts, in the processes of
 * process_group (NULL: Apache's children, from no process-group= or
 * %{GLOBAL}; else a WSGIDaemonProcess's name, checked by
 * wsl_config_check_imports). */
typedef struct {
    const char *path;
    const wsl_group_spec *group;
    const char *process_group;
    const char *defined_at;         /* "file:line", for the messages */
} wsl_import_script;

/* A script Apache runs outside the content handler: WSGIAccessScript,
 * WSGIAuthUserScript, WSGIAuthGroupScript, WSGIDispatchScript.  No group
 * means %{GLOBAL}, as in mod_wsgi. */
typedef struct {
    const char *path;
    const wsl_group_spec *group;
} wsl_hook_script;

/* One WSGIHandlerScript: a named handler run by a script. */
typedef struct {
    const char *name;
    const char *path;
    const wsl_group_spec *group;
    const char *callable_object;
    const char *process_group;      /* process-group=, or NULL */
} wsl_handler_script;

typedef struct {
    apr_array_header_t *aliases;    /* wsl_alias in config order; the
                                       first match wins */

    /* Process-wide (GLOBAL_ONLY), read from the main server's record. */
    apr_array_header_t *python_path;/* const char * */
    const char *python_home;
    int python_optimize;            /* 0..2, WSL_UNSET */
    const char *python_hash_seed;   /* "random" or a number, or NULL */
    apr_array_header_t *python_warnings; /* const char * */
    int lazy_initialization;        /* default On */
    int restrict_stdout;            /* default Off */
    int restrict_stdin;             /* default On */
    int restrict_signal;            /* default On */
    int destroy_interpreter;        /* default On */
    apr_array_header_t *import_scripts; /* wsl_import_script */
    int case_sensitivity;           /* default On */
    int server_metrics;             /* WSGIServerMetrics, default Off */
    int dont_write_bytecode;        /* WSGIDontWriteBytecode, default Off */
    const char *python_eggs;        /* WSGIPythonEggs: PYTHON_EGG_CACHE */
    double switch_interval;         /* WSGISwitchInterval, 0 = Python's */
    int verbose_debugging;          /* WSGIVerboseDebugging, default Off */
    int restrict_embedded;          /* WSGIRestrictEmbedded, default Off */
    int python_required;            /* a script directive here needs
                                       Python even without embedded mode */
    const char *newrelic_config_file;   /* WSGINewRelicConfigFile */
    const char *newrelic_environment;   /* WSGINewRelicEnvironment */
    /* Daemon mode's, checked and reported at start-up, no effect yet. */
    const char *accept_mutex;       /* WSGIAcceptMutex, as written */
    int socket_rotation;            /* WSGISocketRotation, default On */
} wsl_server_config;

/*
 * One WSGIDaemonProcess: a daemon process group (config/daemons.c parses
 * it; daemon/ starts and runs it).  Every option mod_wsgi 4.9.4 takes has
 * a field, with mod_wsgi's default; times are in microseconds, 0 for "not
 * set" where mod_wsgi has no default.  Lives in the configuration pool.
 * The ids are resolved when the line is read; what the line leaves to
 * Apache's User and Group is filled in by wsl_daemon_groups_resolve()
 * (post_config), after which user, uid, group, gid, socket_user and
 * socket_uid are always set.  As in mod_wsgi, they apply only when Apache
 * is started as root; otherwise a daemon runs as Apache's own user.
 */
typedef struct wsl_daemon_group {
    const char *name;
    const char *defined_at;         /* "file:line" of the directive */
    server_rec *server;             /* where it was defined (a vhost's
                                     * group serves only that vhost's
                                     * server name, as in mod_wsgi) */
    int index;                      /* 0.. in definition order */
    /* Processes and threads. */
    int processes;                  /* default 1 */
    int multiprocess;               /* processes= was given (mod_wsgi's
                                     * wsgi.multiprocess rule) */
    int threads;                    /* default 15 */
    apr_size_t stack_size;          /* 0: the system's */
    /* Who and where. */
    const char *user;               /* a name ("#uid" made a name where
                                     * the uid has one); Apache's User
                                     * when not given.  Never uid 0. */
    uid_t uid;
    const char *group;              /* Apache's Group when not given, as
                                     * in mod_wsgi (not the user's
                                     * primary group) */
    gid_t gid;
    apr_array_header_t *supplementary_groups;   /* gid_t, or NULL: when
                                     * set, the daemon's groups are gid and
                                     * exactly these (setgroups, as
                                     * mod_wsgi; empty: gid alone); NULL:
                                     * initgroups(user, gid) */
    int umask;                      /* -1: inherited */
    const char *chroot;
    const char *home;               /* NULL: the user's home directory */
    const char *python_home;
    apr_array_header_t *python_path;            /* const char *, from the
                                     * ':'-separated list; NULL: none */
    const char *python_eggs;
    const char *lang, *locale;
    const char *display_name;       /* as written; mod_wsgi shows
                                     * exactly "%{GROUP}" as
                                     * "(wsgi:NAME)" */
    const char *script_user, *script_group;     /* names; one at most */
    int cpu_priority;               /* nice value -20..20, 0 */
    /* The socket. */
    int listen_backlog;             /* default 100 */
    const char *socket_user;        /* Apache's User when not given */
    uid_t socket_uid;
    int header_buffer_size;         /* default (and 0) 32768 */
    int send_buffer_size, receive_buffer_size;  /* 0: the system's */
    int response_buffer_size;       /* default (and 0) 65536 */
    apr_interval_time_t connect_timeout;        /* default 15 s */
    apr_interval_time_t socket_timeout;         /* 0: Apache's Timeout */
    apr_interval_time_t response_socket_timeout;/* not given:
                                     * socket-timeout's value */
    /* Life cycle (issue 17 acts on these). */
    int maximum_requests;
    apr_interval_time_t restart_interval, inactivity_timeout,
        request_timeout, graceful_timeout /* default 15 s */,
        eviction_timeout,
        shutdown_timeout /* default 5 s */, startup_timeout,
        deadlock_timeout /* default 300 s */, queue_timeout;
    apr_int64_t memory_limit, virtual_memory_limit;  /* bytes, 0: none */
    int cpu_time_limit;             /* seconds, 0: none */
    int server_metrics;             /* On/Off; WSL_UNSET:
                                     * WSGIServerMetrics */
    const char *newrelic_config_file, *newrelic_environment;
    /* Options accepted whose effect is not built yet: said once at
     * start-up (never silently ignored). */
    apr_array_header_t *not_acted; /* const char *, "name=value" */
    /* Filled in at start-up by daemon/: the listening socket's path,
     * and the uid of Apache's children: the socket's owner and the only
     * peer a daemon accepts (socket_uid when Apache starts as root; else
     * the children keep Apache's own uid, whatever User says). */
    const char *socket_path;
    uid_t peer_uid;
} wsl_daemon_group;

/* The process-wide daemon groups, by name (definition order in
 * wsl_daemon_groups()); NULL: none.  Defined in any server, read from
 * anywhere. */
const wsl_daemon_group *wsl_daemon_group_find(const char *name);
apr_array_header_t *wsl_daemon_groups(void);    /* wsl_daemon_group * */
/* May a request to server s use group g (mod_wsgi's rule: a group made
 * in a virtual host serves only virtual hosts of the same ServerName)? */
int wsl_daemon_group_allowed(const wsl_daemon_group *g, server_rec *s);
/* WSGISocketPrefix, or its default (DEFAULT_REL_RUNTIMEDIR "/wsgi"),
 * resolved against ServerRoot. */
const char *wsl_daemon_socket_prefix(apr_pool_t *p);
/* post_config, each pass: fill in what the groups leave to Apache's User
 * and Group (known only once the whole configuration is read).  OK, or
 * HTTP_INTERNAL_SERVER_ERROR (logged: a group would run as root) to stop
 * the start. */
int wsl_daemon_groups_resolve(server_rec *main_server);
/* post_config, the real start: one NOTICE (WSL00170) per group with
 * options accepted but not acted on yet. */
void wsl_daemon_groups_report(server_rec *main_server);

/* Per-directory settings; WSL_UNSET / NULL inherit from the parent. */
typedef enum {
    WSL_HEAD_OFF = 0, WSL_HEAD_ON, WSL_HEAD_AUTO
} wsl_head_mode;

typedef struct {
    const char *callable_object;
    const wsl_group_spec *group;
    const char *process_group;      /* WSGIProcessGroup, NULL = embedded */
    int pass_authorization;
    int chunked_request;
    int script_reloading;
    int error_override;
    int map_head_to_get;            /* wsl_head_mode */
    apr_array_header_t *trusted_proxy_headers; /* const char *, HTTP_* */
    apr_array_header_t *trusted_proxies;       /* apr_ipsubnet_t * */
    apr_table_t *handler_scripts;   /* name -> (wsl_handler_script *) */
    const wsl_hook_script *access_script;     /* WSGIAccessScript */
    const wsl_hook_script *auth_user_script;  /* WSGIAuthUserScript */
    const wsl_hook_script *auth_group_script; /* WSGIAuthGroupScript */
    const wsl_hook_script *dispatch_script;   /* WSGIDispatchScript */
    int group_authoritative;        /* WSGIGroupAuthoritative, default On */
    int pass_apache_request;        /* WSGIPassApacheRequest, default Off */
    int enable_sendfile;            /* WSGIEnableSendfile, default Off */
    int ignore_activity;            /* WSGIIgnoreActivity, default Off */
    apr_table_t *restrict_process;  /* WSGIRestrictProcess: the process
                                       groups allowed, %{GLOBAL} as "" */
} wsl_dir_config;

/* Set in translate_name when a WSGIScriptAlias matched. */
typedef struct {
    const wsl_alias *alias;         /* the script is r->filename ($n
                                     * substituted) */
} wsl_alias_match;

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
const char *wsl_cmd_script_alias_match(cmd_parms *cmd, void *dconf,
                                       const char *args);
const char *wsl_cmd_global_flag(cmd_parms *cmd, void *dconf, int flag);
const char *wsl_cmd_global_string(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *wsl_cmd_python_optimize(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *wsl_cmd_python_hash_seed(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *wsl_cmd_python_warnings(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *wsl_cmd_import_script(cmd_parms *cmd, void *dconf,
                                  const char *args);
/* check_config: every WSGIImportScript process-group= names a daemon
 * group its server may use; OK, or HTTP_INTERNAL_SERVER_ERROR (logged,
 * WSL00053) to fail configtest and the start. */
int wsl_config_check_imports(apr_pool_t *ptemp, server_rec *main_server);
const char *wsl_cmd_handler_script(cmd_parms *cmd, void *dconf,
                                   const char *args);
const char *wsl_cmd_hook_script(cmd_parms *cmd, void *dconf,
                                const char *args);
const char *wsl_cmd_map_head_to_get(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *wsl_cmd_trusted_proxy_headers(cmd_parms *cmd, void *dconf,
                                          const char *arg);
const char *wsl_cmd_trusted_proxies(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *wsl_cmd_process_group(cmd_parms *cmd, void *dconf,
                                  const char *arg);
/* daemons.c */
const char *wsl_cmd_daemon_process(cmd_parms *cmd, void *dconf,
                                   const char *args);
const char *wsl_cmd_socket_prefix(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *wsl_cmd_switch_interval(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *wsl_cmd_restrict_process(cmd_parms *cmd, void *dconf,
                                     const char *args);
const char *wsl_cmd_accept_mutex(cmd_parms *cmd, void *dconf,
                                 const char *arg);
const char *wsl_cmd_unavailable(cmd_parms *cmd, void *dconf,
                                const char *args);

/* interp_options.c: how an application group's interpreters are made
 * (WSGIPerInterpreterGIL, WSGIInterpreterCount, <WSGIInterpreterOptions>). */
const char *wsl_cmd_interp_options(cmd_parms *cmd, void *dconf,
                                   const char *args);
const char *wsl_cmd_per_interpreter_gil(cmd_parms *cmd, void *dconf,
                                        int flag);
const char *wsl_cmd_interpreter_count(cmd_parms *cmd, void *dconf,
                                      const char *arg);
typedef struct {
    int own_gil;                /* WSGIPerInterpreterGIL On (3.12+) */
    int count;                  /* WSGIInterpreterCount: the pool's size */
    const char *own_gil_at;     /* "file:line" that decided own_gil */
    double switch_interval;     /* WSGISwitchInterval in a container that
                                 * matched; 0: none did */
} wsl_interp_options;
/* Is cmd a line inside <WSGIInterpreterOptions>; then set its
 * WSGISwitchInterval (config.c parses the value). */
int wsl_interp_options_reading(cmd_parms *cmd);
void wsl_interp_options_set_switch_interval(double seconds);

/* For the group application_group ("" is %{GLOBAL}: always one
 * interpreter, the process's GIL) in process_group ("" embedded). */
wsl_interp_options wsl_interp_options_for(const char *process_group,
                                          const char *application_group);
/* The largest WSGIInterpreterCount a group of process_group may get
 * (1: no pool there). */
int wsl_interp_options_widest(const char *process_group);
/* Where WSGIPerInterpreterGIL On is first written, and where a container
 * asks an own GIL or a pool of %{GLOBAL}; NULL for nowhere.  For the
 * start-up warnings of what cannot be had (interp.c). */
const char *wsl_interp_options_own_gil_at(void);
const char *wsl_interp_options_global_at(void);

/* Effective values for a request (directory config, then alias options). */
const char *wsl_config_callable(request_rec *r);
/* The process group a request selects as written (WSGIProcessGroup, or
 * a process-group= option of the alias or of the handler script hs), NULL
 * if none; route.c expands it. */
const char *wsl_config_process_group(request_rec *r,
                                     const wsl_handler_script *hs);
/* May the request use that process group (WSGIRestrictProcess)? */
int wsl_config_process_allowed(request_rec *r, const char *process_group);
/* Does this configuration run Python in Apache's children: embedded mode
 * is on, or a script directive needs it (WSGIRestrictEmbedded). */
int wsl_config_python_required(server_rec *main_server);
const wsl_group_spec *wsl_config_group(request_rec *r);
/* Parse %{GLOBAL}, %{SERVER}, %{RESOURCE}, %{ENV:VAR} or a name into
 * *spec; NULL, or what is wrong (for the caller to prefix). */
const char *wsl_group_parse(apr_pool_t *p, const char *arg,
                            wsl_group_spec *spec);
int wsl_config_flag(int value, int dflt);

/* translate.c: SCRIPT_NAME (the URI less its path info), and whether a
 * WSGIScriptAlias mapped the request. */
const char *wsl_request_script_name(request_rec *r);
int wsl_request_is_aliased(request_rec *r);

/* translate.c: the translate_name hook (WSGIScriptAlias mapping). */
int wsl_translate_name(request_rec *r);

/* ------------------------------------------------------------------ */
/* What WSGIDispatchScript's functions answered (hooks/dispatch.c asks,
 * route.c decides what it means): each NULL when the script has no such
 * function or it returned None. */
typedef struct {
    const char *process_group;
    const char *application_group;
    const char *callable_object;
} wsl_dispatch_answer;

/* ------------------------------------------------------------------ */
/* route.c: what a request runs, decided in one place.                 */

typedef struct {
    const char *script;             /* the file loaded as a module */
    const apr_finfo_t *finfo;       /* its stat (loading, reloading) */
    const char *group;              /* application group; NULL: %{GLOBAL} */
    const char *callable;           /* the callable's name in the script */
    const char *process_group;      /* "" is this process: embedded */
    const char *process_group_from; /* the directive that chose it */
    const char *handler_script;     /* WSGIHandlerScript's file, else "" */
} wsl_route;

/* The route the configuration gives: the request's script (or the
 * WSGIHandlerScript hs, stat'ed in hs_finfo) and its options. */
void wsl_route_configured(request_rec *r, const wsl_handler_script *hs,
                          const apr_finfo_t *hs_finfo, wsl_route *route);
/* Apply WSGIDispatchScript's answers (NULL: none), then decide whether
 * this process may run the route.  OK or the status to answer (logged). */
int wsl_route_decide(request_rec *r, const wsl_dispatch_answer *answer,
                     wsl_route *route);
/* The one test of "runs here": no process group, embedded mode. */
static inline int wsl_route_embedded(const wsl_route *route)
{
    return !*route->process_group;
}
/* The group of a hook script (auth, access, dispatch): its
 * application-group=, else %{GLOBAL} (NULL). */
const char *wsl_route_hook_group(request_rec *r, const wsl_hook_script *hs);
/* The group of a WSGIImportScript of server s, as the child starts: the
 * same name requests to s get for the same spec. */
const char *wsl_route_import_group(server_rec *s, const wsl_group_spec *spec,
                                   apr_pool_t *p);

#endif /* WSL_CONFIG_H */
