/*
 * daemons.c: the daemon process groups as the configuration defines them:
 * WSGIDaemonProcess (every option of mod_wsgi 4.9.4, under its name, with
 * its meaning and default), WSGISocketPrefix, and the registry the rest of
 * the module finds groups in.  Starting and running the daemons is
 * daemon/'s; this file only says what they are to be.
 *
 * Options are checked as mod_wsgi checks them, and stricter where mod_wsgi
 * takes any text: its atoi() reads "threads=abc" as threads=0, here it
 * fails configtest.  Users and groups become ids as the line is read
 * (getpwnam/getgrnam, or mod_wsgi's "#uid" form), so a name that does not
 * exist fails configtest naming it.  What a group does not say takes
 * Apache's User and Group, read at post_config (wsl_daemon_groups_resolve)
 * rather than while the line is read as mod_wsgi does: by then every User
 * line has been read, wherever it stands in the configuration.
 *
 * The registry is one per configuration generation: httpd reads its
 * configuration twice at start-up and again on each restart, into a pool
 * (pconf) that it clears in between.  A cleanup on that pool empties the
 * registry, so it only ever holds the groups of the configuration being
 * read or run (mod_wsgi resets its wsgi_daemon_list the same way).  A
 * module loaded by mod_so is unloaded with pconf too, which resets this
 * static anyway; the cleanup is for a module that stays mapped (built in,
 * or held by another library).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "http_core.h"
#include "http_log.h"
#include "unixd.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_user.h"

/* mod_wsgi's default WSGISocketPrefix: DEFAULT_REL_RUNTIMEDIR "/wsgi"
 * under ServerRoot (Debian's layout: /var/run/apache2/wsgi). */
#ifndef DEFAULT_REL_RUNTIMEDIR
#define DEFAULT_REL_RUNTIMEDIR "logs"
#endif
#define WSL_SOCKET_PREFIX_DEFAULT DEFAULT_REL_RUNTIMEDIR "/wsgi"

/* Longer than any daemon timeout means anything: one year.  Keeps the
 * microseconds (and any millisecond int made of them) far from overflow;
 * mod_wsgi's limit is its int. */
#define WSL_SECONDS_MAX 31536000L

static struct {
    apr_array_header_t *groups;     /* wsl_daemon_group *, by index */
    apr_hash_t *by_name;            /* name -> wsl_daemon_group * */
    const char *socket_prefix;      /* WSGISocketPrefix resolved, or NULL */
} registry;

static apr_status_t registry_reset(void *unused)
{
    memset(&registry, 0, sizeof(registry));
    return APR_SUCCESS;
}

/* The registry of the configuration being read into pconf. */
static void registry_open(apr_pool_t *pconf)
{
    if (registry.groups)
        return;
    registry.groups = apr_array_make(pconf, 4, sizeof(wsl_daemon_group *));
    registry.by_name = apr_hash_make(pconf);
    apr_pool_cleanup_register(pconf, NULL, registry_reset,
                              apr_pool_cleanup_null);
}

/* ------------------------------------------------------------------ */
/* The options.                                                        */

typedef enum {
    OPT_INT,            /* a whole number in [min, max] */
    OPT_BUFFER,         /* 0 for the default (dflt), else bytes >= min */
    OPT_SECONDS,        /* whole seconds in [0, WSL_SECONDS_MAX] */
    OPT_BYTES,          /* an apr_int64_t >= 0 */
    OPT_STACK,          /* apr_size_t bytes, at least PTHREAD_STACK_MIN */
    OPT_STRING,         /* any text, as written */
    OPT_PATH,           /* an absolute path */
    OPT_PATH_LIST,      /* ':'-separated directories */
    OPT_FLAG,           /* On or Off */
    OPT_UMASK,          /* octal */
    OPT_USER,           /* a user name or #uid; the uid at id_offset */
    OPT_GROUP,          /* a group name or #gid; the gid at id_offset */
    OPT_GROUP_LIST      /* ','-separated groups */
} opt_kind;

#define F_NOT_ACTED    0x01 /* accepted, no effect yet: said at start-up */
#define F_NO_ROOT      0x02 /* uid 0 refused */
#define F_NAMED        0x04 /* a #uid/#gid must have a passwd/group entry
                             * (mod_wsgi needs the name) */
#define F_ROOT_ONLY    0x08 /* only when Apache is started as root */
#define F_MULTIPROCESS 0x10 /* given at all: wsgi.multiprocess is True */

#define NO_ID ((apr_size_t)-1)
#define AT(field) APR_OFFSETOF(wsl_daemon_group, field)

typedef struct {
    const char *name;
    opt_kind kind;
    apr_size_t offset;          /* the field the value goes to */
    apr_size_t id_offset;       /* OPT_USER/OPT_GROUP: the id's field */
    long min, max, dflt;
    int flags;
} opt_def;

/* mod_wsgi 4.9.4's wsgi_add_daemon_process, option by option, in its
 * order.  threads=0, which mod_wsgi takes as "run the WSGIImportScripts,
 * then exit", is refused: a group that serves no request is not built. */
static const opt_def options[] = {
    { "user", OPT_USER, AT(user), AT(uid), 0, 0, 0, F_NO_ROOT | F_NAMED },
    { "group", OPT_GROUP, AT(group), AT(gid), 0, 0, 0, 0 },
    { "supplementary-groups", OPT_GROUP_LIST, AT(supplementary_groups),
      NO_ID, 0, 0, 0, 0 },
    { "processes", OPT_INT, AT(processes), NO_ID, 1, INT_MAX, 0,
      F_MULTIPROCESS },
    { "threads", OPT_INT, AT(threads), NO_ID, 1, 65533, 0, 0 },
    { "umask", OPT_UMASK, AT(umask), NO_ID, 0, 0777, 0, 0 },
    { "chroot", OPT_PATH, AT(chroot), NO_ID, 0, 0, 0,
      F_ROOT_ONLY | F_NOT_ACTED },
    { "home", OPT_PATH, AT(home), NO_ID, 0, 0, 0, 0 },
    { "lang", OPT_STRING, AT(lang), NO_ID, 0, 0, 0, 0 },
    { "locale", OPT_STRING, AT(locale), NO_ID, 0, 0, 0, 0 },
    { "python-home", OPT_STRING, AT(python_home), NO_ID, 0, 0, 0, 0 },
    { "python-path", OPT_PATH_LIST, AT(python_path), NO_ID, 0, 0, 0, 0 },
    { "python-eggs", OPT_STRING, AT(python_eggs), NO_ID, 0, 0, 0, 0 },
    { "stack-size", OPT_STACK, AT(stack_size), NO_ID, 0, INT_MAX, 0, 0 },
    { "maximum-requests", OPT_INT, AT(maximum_requests), NO_ID, 0, INT_MAX,
      0, 0 },
    { "startup-timeout", OPT_SECONDS, AT(startup_timeout), NO_ID, 0, 0, 0,
      0 },
    { "shutdown-timeout", OPT_SECONDS, AT(shutdown_timeout), NO_ID, 0, 0,
      0, 0 },
    { "deadlock-timeout", OPT_SECONDS, AT(deadlock_timeout), NO_ID, 0, 0,
      0, 0 },
    { "inactivity-timeout", OPT_SECONDS, AT(inactivity_timeout), NO_ID, 0,
      0, 0, 0 },
    { "request-timeout", OPT_SECONDS, AT(request_timeout), NO_ID, 0, 0, 0,
      0 },
    { "graceful-timeout", OPT_SECONDS, AT(graceful_timeout), NO_ID, 0, 0,
      0, 0 },
    { "eviction-timeout", OPT_SECONDS, AT(eviction_timeout), NO_ID, 0, 0,
      0, 0 },
    { "restart-interval", OPT_SECONDS, AT(restart_interval), NO_ID, 0, 0,
      0, 0 },
    { "connect-timeout", OPT_SECONDS, AT(connect_timeout), NO_ID, 0, 0, 0,
      0 },
    { "socket-timeout", OPT_SECONDS, AT(socket_timeout), NO_ID, 0, 0, 0,
      0 },
    { "queue-timeout", OPT_SECONDS, AT(queue_timeout), NO_ID, 0, 0, 0,
      0 },
    { "listen-backlog", OPT_INT, AT(listen_backlog), NO_ID, 0, INT_MAX, 0,
      0 },
    { "display-name", OPT_STRING, AT(display_name), NO_ID, 0, 0, 0, 0 },
    { "send-buffer-size", OPT_BUFFER, AT(send_buffer_size), NO_ID, 512, 0,
      0, 0 },
    { "receive-buffer-size", OPT_BUFFER, AT(receive_buffer_size), NO_ID,
      512, 0, 0, 0 },
    { "header-buffer-size", OPT_BUFFER, AT(header_buffer_size), NO_ID,
      8192, 0, 32768, 0 },
    { "response-buffer-size", OPT_BUFFER, AT(response_buffer_size), NO_ID,
      65536, 0, 65536, F_NOT_ACTED },
    { "response-socket-timeout", OPT_SECONDS, AT(response_socket_timeout),
      NO_ID, 0, 0, 0, F_NOT_ACTED },
    { "socket-user", OPT_USER, AT(socket_user), AT(socket_uid), 0, 0, 0,
      F_NAMED },
    { "script-user", OPT_USER, AT(script_user), NO_ID, 0, 0, 0,
      F_NAMED | F_NOT_ACTED },
    { "script-group", OPT_GROUP, AT(script_group), NO_ID, 0, 0, 0,
      F_NAMED | F_NOT_ACTED },
    { "cpu-time-limit", OPT_INT, AT(cpu_time_limit), NO_ID, 0, INT_MAX, 0, 0 },
    /* mod_wsgi takes any number; setpriority() has -20..19 (20 is
     * clamped), the range its documentation gives. */
    { "cpu-priority", OPT_INT, AT(cpu_priority), NO_ID, -20, 20, 0, 0 },
    { "memory-limit", OPT_BYTES, AT(memory_limit), NO_ID, 0, 0, 0, 0 },
    { "virtual-memory-limit", OPT_BYTES, AT(virtual_memory_limit), NO_ID,
      0, 0, 0, 0 },
    { "server-metrics", OPT_FLAG, AT(server_metrics), NO_ID, 0, 0, 0, 0 },
    { "newrelic-config-file", OPT_STRING, AT(newrelic_config_file), NO_ID,
      0, 0, 0, F_NOT_ACTED },
    { "newrelic-environment", OPT_STRING, AT(newrelic_environment), NO_ID,
      0, 0, 0, F_NOT_ACTED },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

#define FIELD(g, off, type) (*(type *)((char *)(g) + (off)))

/* "WSGIDaemonProcess name: " and the rest, for a setter to return. */
static const char *fail(cmd_parms *cmd, const char *group,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *fail(cmd_parms *cmd, const char *group,
                        const char *fmt, ...)
{
    va_list ap;
    const char *what;

    va_start(ap, fmt);
    what = apr_pvsprintf(cmd->temp_pool, fmt, ap);
    va_end(ap);
    return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, group, what);
}

/* A whole number, nothing before or after it (no atoi() leniency). */
static int parse_whole(const char *value, apr_int64_t *out)
{
    const char *digits = value + (*value == '-');
    char *end;

    if (!apr_isdigit(*digits))
        return 0;
    errno = 0;
    *out = apr_strtoi64(value, &end, 10);
    return !*end && errno != ERANGE;
}

/* A user (is_group: a group) by name or mod_wsgi's "#id" form: its id,
 * and in *name its name where it has one (mod_wsgi turns "#uid" into the
 * name, which initgroups() needs).  named: an id without a name is an
 * error, as mod_wsgi makes it for user= and the script- options. */
static const char *lookup_id(apr_pool_t *p, const char *value, int is_group,
                             int named, const char **name, apr_int64_t *id)
{
    const char *kind = is_group ? "group" : "user";
    /* (uid_t)-1 is no id: setuid() reads it as "leave as is". */
    apr_int64_t none = is_group ? (apr_int64_t)(gid_t)-1
                                : (apr_int64_t)(uid_t)-1;
    apr_uid_t uid;
    apr_gid_t gid;
    apr_status_t rv;
    char *found;

    if (!*value)
        return apr_psprintf(p, "a %s name or #%cid is needed", kind, *kind);
    if (*value == '#') {
        if (!parse_whole(value + 1, id) || *id < 0 || *id >= none)
            return apr_psprintf(p, "not a %s name or #%cid", kind, *kind);
        rv = is_group ? apr_gid_name_get(&found, (gid_t)*id, p)
                      : apr_uid_name_get(&found, (uid_t)*id, p);
        if (rv != APR_SUCCESS && named)
            return apr_psprintf(p, "no %s has that %cid", kind, *kind);
        *name = rv == APR_SUCCESS ? found : value;
        return NULL;
    }
    rv = is_group ? apr_gid_get(&gid, value, p)
                  : apr_uid_get(&uid, &gid, value, p);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "no such %s", kind);
    *id = is_group ? (apr_int64_t)gid : (apr_int64_t)uid;
    *name = value;
    return NULL;
}

/* supplementary-groups=a,b: the gids, which (as in mod_wsgi) then are the
 * daemon's whole list besides its primary group.  mod_wsgi also takes an
 * empty value, which leaves only the primary group: kept. */
static const char *parse_group_list(cmd_parms *cmd, const char *value,
                                    apr_array_header_t **out)
{
    apr_array_header_t *gids = apr_array_make(cmd->pool, 4, sizeof(gid_t));
    long maximum = sysconf(_SC_NGROUPS_MAX);
    const char *rest = value, *name, *err;
    apr_int64_t gid;

    if (maximum < 0)
        maximum = NGROUPS_MAX;
    while (*rest) {
        /* Not ap_getword(), which would pass over ",," silently. */
        const char *comma = strchr(rest, ',');
        const char *item = comma ? apr_pstrndup(cmd->temp_pool, rest,
                                                (apr_size_t)(comma - rest))
                                 : rest;

        rest = comma ? comma + 1 : rest + strlen(rest);
        if (!*item || (comma && !*rest))
            return "a group name is empty";
        if ((err = lookup_id(cmd->temp_pool, item, 1, 0, &name, &gid)))
            return apr_psprintf(cmd->temp_pool, "'%s': %s", item, err);
        /* One place is the primary group's. */
        if (gids->nelts + 1 >= maximum)
            return apr_psprintf(cmd->temp_pool, "more than the %ld groups "
                                "a process may have", maximum - 1);
        *(gid_t *)apr_array_push(gids) = (gid_t)gid;
    }
    *out = gids;
    return NULL;
}

/* python-path=/a:/b: each directory, empty ones left out. */
static apr_array_header_t *parse_path_list(apr_pool_t *p, const char *value)
{
    apr_array_header_t *dirs = apr_array_make(p, 2, sizeof(const char *));

    while (*value) {
        const char *dir = ap_getword(p, &value, ':');

        if (*dir)
            *(const char **)apr_array_push(dirs) = dir;
    }
    return dirs;
}

/* Store one option's value in g; NULL, or what is wrong with the value
 * (the caller names the directive, group and option). */
static const char *set_option(cmd_parms *cmd, wsl_daemon_group *g,
                              const opt_def *o, const char *value)
{
    apr_int64_t n;
    const char *name, *err;
    char *end;

    switch (o->kind) {
    case OPT_INT:
        if (!parse_whole(value, &n) || n < o->min || n > o->max)
            return apr_psprintf(cmd->temp_pool, "not a whole number from "
                                "%ld to %ld", o->min, o->max);
        FIELD(g, o->offset, int) = (int)n;
        if (o->flags & F_MULTIPROCESS)
            g->multiprocess = 1;
        return NULL;
    case OPT_BUFFER:
        if (!parse_whole(value, &n) || n > INT_MAX || (n < o->min && n != 0))
            return apr_psprintf(cmd->temp_pool, "not 0 (the default) or a "
                                "number of bytes from %ld to %d", o->min,
                                INT_MAX);
        FIELD(g, o->offset, int) = n ? (int)n : (int)o->dflt;
        return NULL;
    case OPT_SECONDS:
        if (!parse_whole(value, &n) || n < 0 || n > WSL_SECONDS_MAX)
            return apr_psprintf(cmd->temp_pool, "not a whole number of "
                                "seconds from 0 to %ld", WSL_SECONDS_MAX);
        FIELD(g, o->offset, apr_interval_time_t) = apr_time_from_sec(n);
        return NULL;
    case OPT_BYTES:
        if (!parse_whole(value, &n) || n < 0)
            return "not a number of bytes (0 or more)";
        FIELD(g, o->offset, apr_int64_t) = n;
        return NULL;
    case OPT_STACK:
        /* mod_wsgi takes any positive size; below the system's minimum,
         * no thread could be made. */
        if (!parse_whole(value, &n) || n < (apr_int64_t)PTHREAD_STACK_MIN ||
            n > o->max)
            return apr_psprintf(cmd->temp_pool, "not a number of bytes "
                                "from %ld to %ld (the system's minimum "
                                "thread stack to INT_MAX)",
                                (long)PTHREAD_STACK_MIN, o->max);
        FIELD(g, o->offset, apr_size_t) = (apr_size_t)n;
        return NULL;
    case OPT_PATH:
        if (*value != '/')
            return "not an absolute path";
        if ((o->flags & F_ROOT_ONLY) && geteuid() != 0)
            return "only possible when Apache is started as root";
        /* fall through */
    case OPT_STRING:
        FIELD(g, o->offset, const char *) = value;
        return NULL;
    case OPT_PATH_LIST:
        FIELD(g, o->offset, apr_array_header_t *) =
            parse_path_list(cmd->pool, value);
        return NULL;
    case OPT_FLAG:
        if (!strcasecmp(value, "On"))
            FIELD(g, o->offset, int) = 1;
        else if (!strcasecmp(value, "Off"))
            FIELD(g, o->offset, int) = 0;
        else
            return "not On or Off";
        return NULL;
    case OPT_UMASK:
        n = apr_isdigit(*value) ? strtol(value, &end, 8) : -1;
        if (n < 0 || *end || n > o->max)
            return "not an octal umask from 0 to 0777";
        FIELD(g, o->offset, int) = (int)n;
        return NULL;
    case OPT_USER:
    case OPT_GROUP:
        if ((err = lookup_id(cmd->pool, value, o->kind == OPT_GROUP,
                             o->flags & F_NAMED, &name, &n)))
            return err;
        /* mod_wsgi's rule too: a daemon never runs an application as
         * root, however it is named. */
        if ((o->flags & F_NO_ROOT) && n == 0)
            return "a daemon process never runs as root (uid 0)";
        FIELD(g, o->offset, const char *) = name;
        if (o->id_offset != NO_ID && o->kind == OPT_GROUP)
            FIELD(g, o->id_offset, gid_t) = (gid_t)n;
        else if (o->id_offset != NO_ID)
            FIELD(g, o->id_offset, uid_t) = (uid_t)n;
        return NULL;
    case OPT_GROUP_LIST:
        return parse_group_list(cmd, value,
                                &FIELD(g, o->offset, apr_array_header_t *));
    }
    return "not handled";   /* unreachable: every kind returns above */
}

/* mod_wsgi's wsgi_parse_option: the name runs to '=', the value after it
 * may be quoted (display-name='%{GROUP}').  *name is NULL at the end.
 * An '=' followed by a space is an empty value, where mod_wsgi would take
 * the next option as the value. */
static const char *next_option(cmd_parms *cmd, const char *group,
                               const char **args, const char **name,
                               const char **value)
{
    const char *start = *args, *end;

    while (apr_isspace(*start))
        start++;
    *name = NULL;
    if (!*start)
        return NULL;
    for (end = start; *end && *end != '=' && !apr_isspace(*end); end++)
        ;
    if (*end != '=' || end == start) {
        const char *word = start;

        return fail(cmd, group, "'%s' is not of the form option=value",
                    ap_getword_white(cmd->temp_pool, &word));
    }
    *name = apr_pstrndup(cmd->temp_pool, start, (apr_size_t)(end - start));
    *args = end + 1;
    if (!**args || apr_isspace(**args))
        *value = "";
    else
        *value = ap_getword_conf(cmd->pool, args);
    return NULL;
}

static wsl_daemon_group *group_new(cmd_parms *cmd, const char *name)
{
    wsl_daemon_group *g = apr_pcalloc(cmd->pool, sizeof(*g));

    /* mod_wsgi's defaults; user and group are Apache's, filled in by
     * wsl_daemon_groups_resolve. */
    g->name = name;
    g->server = cmd->server;
    g->processes = 1;
    g->threads = 15;
    g->umask = -1;
    g->listen_backlog = 100;
    g->header_buffer_size = 32768;
    g->response_buffer_size = 65536;
    g->connect_timeout = apr_time_from_sec(15);
    g->shutdown_timeout = apr_time_from_sec(5);
    g->deadlock_timeout = apr_time_from_sec(300);
    g->graceful_timeout = apr_time_from_sec(15);
    g->server_metrics = WSL_UNSET;
    g->not_acted = apr_array_make(cmd->pool, 2, sizeof(const char *));
    g->defined_at = cmd->directive
        ? apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                       cmd->directive->line_num)
        : "";
    return g;
}

static const opt_def *find_option(const char *name)
{
    apr_size_t i;

    for (i = 0; i < N_OPTIONS; i++) {
        if (!strcmp(options[i].name, name))
            return &options[i];
    }
    return NULL;
}

const char *wsl_cmd_daemon_process(cmd_parms *cmd, void *dconf,
                                   const char *args)
{
    const char *name = ap_getword_conf(cmd->pool, &args);
    const char *option, *value, *err;
    char given[N_OPTIONS] = { 0 };
    wsl_daemon_group *g, *earlier;

    if (!*name)
        return apr_psprintf(cmd->pool, "%s takes a process group name, "
                            "then options", cmd->cmd->name);
    /* WSGIProcessGroup would read %{GLOBAL}, %{ENV:...} and the like as
     * its own expansions: such a group could never be selected. */
    if (name[0] == '%' && name[1] == '{')
        return fail(cmd, name, "a process group name cannot begin with "
                    "'%%{'");
    g = group_new(cmd, name);
    for (;;) {
        const opt_def *o;

        if ((err = next_option(cmd, name, &args, &option, &value)))
            return err;
        if (!option)
            break;
        if (!(o = find_option(option)))
            return fail(cmd, name, "unknown option '%s'", option);
        if (given[o - options]++)
            return fail(cmd, name, "option '%s' given twice", option);
        if ((err = set_option(cmd, g, o, value)))
            return fail(cmd, name, "%s=%s: %s", option, value, err);
        if (o->flags & F_NOT_ACTED)
            *(const char **)apr_array_push(g->not_acted) =
                apr_pstrcat(cmd->pool, option, "=", value, NULL);
    }
    if (g->script_user && g->script_group)
        return fail(cmd, name, "only one of script-user and script-group "
                    "may be given");
    /* mod_wsgi's rule: an unset response-socket-timeout is the
     * socket-timeout. */
    if (!g->response_socket_timeout)
        g->response_socket_timeout = g->socket_timeout;

    registry_open(cmd->pool);
    /* Unique across the server, virtual hosts included, as in mod_wsgi. */
    if ((earlier = apr_hash_get(registry.by_name, name, APR_HASH_KEY_STRING)))
        return fail(cmd, name, "the name is already used by the "
                    "WSGIDaemonProcess at %s (names are unique across the "
                    "server, virtual hosts included)", earlier->defined_at);
    g->index = registry.groups->nelts;
    *(wsl_daemon_group **)apr_array_push(registry.groups) = g;
    apr_hash_set(registry.by_name, g->name, APR_HASH_KEY_STRING, g);
    return NULL;
}

const char *wsl_cmd_socket_prefix(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *prefix;

    if (err)
        return err;
    if (!(prefix = ap_server_root_relative(cmd->pool, arg)))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid path",
                            cmd->cmd->name, arg);
    registry_open(cmd->pool);
    registry.socket_prefix = prefix;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The registry, as the rest of the module reads it.                   */

const wsl_daemon_group *wsl_daemon_group_find(const char *name)
{
    if (!registry.by_name || !name)
        return NULL;
    return apr_hash_get(registry.by_name, name, APR_HASH_KEY_STRING);
}

apr_array_header_t *wsl_daemon_groups(void)
{
    return registry.groups && registry.groups->nelts ? registry.groups
                                                     : NULL;
}

int wsl_daemon_group_allowed(const wsl_daemon_group *g, server_rec *s)
{
    /* mod_wsgi's wsgi_execute_remote: a group of the main server serves
     * every server; one of a virtual host, the servers of its name. */
    if (!g->server->is_virtual || g->server == s)
        return 1;
    return g->server->server_hostname && s->server_hostname &&
           !strcmp(g->server->server_hostname, s->server_hostname);
}

const char *wsl_daemon_socket_prefix(apr_pool_t *p)
{
    const char *runtime;

    if (registry.socket_prefix)
        return registry.socket_prefix;
    /* mod_wsgi's default, DEFAULT_REL_RUNTIMEDIR, is for an Apache
     * started as root; DefaultRuntimeDir, where set, says where this
     * Apache keeps such files.  An Apache started as another user who
     * cannot write there (a test or development server) uses its
     * ServerRoot's logs/ instead of failing to start. */
    runtime = ap_runtime_dir_relative(p, "");
    if (runtime && (geteuid() == 0 || access(runtime, W_OK | X_OK) == 0))
        return ap_runtime_dir_relative(p, "wsgi");
    return ap_server_root_relative(p, "logs/wsgi");
}

/* Apache's User as a name: User may be written "#uid". */
static const char *apache_user_name(apr_pool_t *p)
{
    const char *name = ap_unixd_config.user_name;
    char *found;

    if (name && *name == '#' &&
        apr_uid_name_get(&found, ap_unixd_config.user_id, p) == APR_SUCCESS)
        return found;
    return name;
}

int wsl_daemon_groups_resolve(server_rec *main_server)
{
    apr_array_header_t *groups = wsl_daemon_groups();
    int i;

    for (i = 0; groups && i < groups->nelts; i++) {
        wsl_daemon_group *g = APR_ARRAY_IDX(groups, i, wsl_daemon_group *);
        apr_pool_t *p = groups->pool;

        if (!g->user) {
            g->user = apache_user_name(p);
            g->uid = ap_unixd_config.user_id;
        }
        if (!g->group) {
            g->group = ap_unixd_config.group_name;
            g->gid = ap_unixd_config.group_id;
        }
        if (!g->socket_user) {
            g->socket_user = apache_user_name(p);
            g->socket_uid = ap_unixd_config.user_id;
        }
        /* user=root fails at parse time; this is Apache's User being
         * root, which mod_unixd itself refuses but for a build with
         * BIG_SECURITY_HOLE. */
        if (g->uid == 0) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, g->server,
                         "WSL00171: WSGIDaemonProcess %s (%s): would run as "
                         "root, Apache's User '%s'; a daemon process never "
                         "runs an application as root: give it user=",
                         g->name, g->defined_at, g->user ? g->user : "");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* At debug level, each group as resolved too (who it runs as). */
void wsl_daemon_groups_report(server_rec *main_server)
{
    apr_array_header_t *groups = wsl_daemon_groups();
    int i;

    for (i = 0; groups && i < groups->nelts; i++) {
        const wsl_daemon_group *g =
            APR_ARRAY_IDX(groups, i, wsl_daemon_group *);

        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, g->server,
                     "WSL00172: WSGIDaemonProcess %s: user %s (uid %ld), "
                     "group %s (gid %ld), socket owner %s (uid %ld), "
                     "%d process(es) of %d thread(s)", g->name, g->user,
                     (long)g->uid, g->group, (long)g->gid, g->socket_user,
                     (long)g->socket_uid, g->processes, g->threads);
        if (g->not_acted->nelts)
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, g->server,
                         "WSL00170: WSGIDaemonProcess %s: accepted, not "
                         "acted on yet: %s", g->name,
                         apr_array_pstrcat(groups->pool, g->not_acted, ' '));
    }
}
