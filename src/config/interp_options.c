/*
 * interp_options.c: what kind of interpreter an application group gets
 * (issue 18): WSGIPerInterpreterGIL, WSGIInterpreterCount and the
 * <WSGIInterpreterOptions [process-group=NAME] [application-group=NAME]>
 * container that scopes them, with mod_wsgi 6's names and merge rule:
 * the most specific matching container wins (one selector beats none,
 * two beat one), a later one wins a tie, and the directives outside any
 * container are the lowest layer.  Read here; py/interp.c asks
 * wsl_interp_options_for() as it makes a group, and reports at start-up
 * what Python cannot honour (an own GIL before 3.12).
 *
 * Process-wide (server config only), like the daemon groups: one
 * registry per configuration, reset with its pool.
 */
#include "config.h"

#include "apr_strings.h"

/* A pool larger than this serves no purpose on any machine we know of
 * (each interpreter holds a copy of the application), and a typo of
 * 200 for 2 would eat the memory of 200 copies. */
#define WSL_INTERPRETERS_MAX 64

#define CONTAINER "<WSGIInterpreterOptions"

typedef struct {
    const char *process_group;      /* NULL: any; "": embedded */
    const char *application_group;  /* NULL: any; "": %{GLOBAL} */
    int specificity;                /* selectors given: 0, 1 or 2 */
    int own_gil;                    /* WSL_UNSET, 0, 1 */
    int count;                      /* WSL_UNSET or 1.. */
    double switch_interval;         /* 0: not set here */
    const char *defined_at;         /* "file:line" */
} scope;

static struct {
    scope top;                      /* outside any container */
    apr_array_header_t *scopes;     /* scope, in configuration order */
    scope *reading;                 /* the container being read */
} registry;

static apr_status_t registry_reset(void *unused)
{
    (void)unused;
    memset(&registry, 0, sizeof(registry));
    return APR_SUCCESS;
}

static void registry_open(apr_pool_t *pconf)
{
    if (registry.scopes)
        return;
    registry.top.own_gil = registry.top.count = WSL_UNSET;
    registry.scopes = apr_array_make(pconf, 4, sizeof(scope));
    apr_pool_cleanup_register(pconf, NULL, registry_reset,
                              apr_pool_cleanup_null);
}

static const char *defined_at(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                        cmd->directive->line_num);
}

/* The scope a WSGIPerInterpreterGIL or WSGIInterpreterCount line sets:
 * its container's, or the top layer (server config only). */
static scope *scope_of(cmd_parms *cmd, const char **err)
{
    *err = NULL;
    if (registry.reading && cmd->directive->parent &&
        !strcasecmp(cmd->directive->parent->directive, CONTAINER))
        return registry.reading;
    if ((*err = ap_check_cmd_context(cmd, GLOBAL_ONLY)))
        return NULL;
    registry_open(cmd->pool);
    return &registry.top;
}

const char *wsl_cmd_per_interpreter_gil(cmd_parms *cmd, void *dconf,
                                        int flag)
{
    const char *err;
    scope *sc = scope_of(cmd, &err);

    (void)dconf;
    if (err)
        return err;
    sc->own_gil = flag ? 1 : 0;
    /* The line a warning about the GIL names (a container's own line
     * otherwise: set when it was read). */
    if (sc == &registry.top)
        sc->defined_at = defined_at(cmd);
    return NULL;
}

const char *wsl_cmd_interpreter_count(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const char *err;
    scope *sc = scope_of(cmd, &err);
    char *end;
    long n;

    (void)dconf;
    if (err)
        return err;
    n = strtol(arg, &end, 10);
    if (end == arg || *end || n < 1 || n > WSL_INTERPRETERS_MAX)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number "
                            "from 1 to %d", cmd->cmd->name, arg,
                            WSL_INTERPRETERS_MAX);
    sc->count = (int)n;
    return NULL;
}

/* A selector's value: %{GLOBAL} is "" on both (the main interpreter;
 * embedded mode), a name as written.  Other %{...} forms would be
 * resolved per request, after the interpreter is chosen: refused. */
static const char *selector(cmd_parms *cmd, const char *key,
                            const char *value, const char **out)
{
    if (!*value)
        return apr_psprintf(cmd->pool, CONTAINER "> %s= needs a name",
                            key);
    if (!strcmp(value, "%{GLOBAL}")) {
        *out = "";
        return NULL;
    }
    if (!strncmp(value, "%{", 2))
        return apr_psprintf(cmd->pool, CONTAINER "> %s=%s: give the name "
                            "itself (or %%{GLOBAL}); a name expanded per "
                            "request cannot choose how its interpreter is "
                            "made", key, value);
    *out = value;
    return NULL;
}

/* The directives a container may hold.  mod_wsgi 6 also takes the
 * WSGIPythonPath and WSGIRestrict* lines inside one; here they are
 * refused by name rather than applied process-wide. */
static const char *check_children(cmd_parms *cmd)
{
    const ap_directive_t *d;

    for (d = cmd->directive->first_child; d; d = d->next) {
        if (!strcasecmp(d->directive, "WSGIPerInterpreterGIL") ||
            !strcasecmp(d->directive, "WSGIInterpreterCount") ||
            !strcasecmp(d->directive, "WSGISwitchInterval"))
            continue;
        return apr_psprintf(cmd->pool, "%s (%s:%d) is not taken inside "
                            CONTAINER ">: only WSGIPerInterpreterGIL, "
                            "WSGIInterpreterCount and WSGISwitchInterval "
                            "are; set it outside, for the whole server",
                            d->directive, d->filename, d->line_num);
    }
    return NULL;
}

const char *wsl_cmd_interp_options(cmd_parms *cmd, void *dconf,
                                   const char *args)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *end = ap_strrchr_c(args, '>');
    const char *selectors, *word;
    scope sc = { NULL, NULL, 0, WSL_UNSET, WSL_UNSET, 0.0, NULL };

    if (err)
        return err;
    if (!end || end[1])
        return CONTAINER "> directive missing closing '>'";
    selectors = apr_pstrmemdup(cmd->temp_pool, args, (apr_size_t)(end - args));
    while (*(word = ap_getword_conf(cmd->temp_pool, &selectors))) {
        const char *eq = strchr(word, '=');
        const char **field = NULL;

        if (eq && !strncasecmp(word, "process-group=", 14))
            field = &sc.process_group;
        else if (eq && !strncasecmp(word, "application-group=", 18))
            field = &sc.application_group;
        else
            return apr_psprintf(cmd->pool, CONTAINER "> takes "
                                "process-group=NAME and application-group="
                                "NAME, not '%s'", word);
        if (*field)
            return apr_psprintf(cmd->pool, CONTAINER "> gives %.*s twice",
                                (int)(eq - word), word);
        if ((err = selector(cmd, apr_pstrmemdup(cmd->temp_pool, word,
                                                (apr_size_t)(eq - word)),
                            apr_pstrdup(cmd->pool, eq + 1), field)))
            return err;
        sc.specificity++;
    }
    if ((err = check_children(cmd)))
        return err;
    registry_open(cmd->pool);
    sc.defined_at = defined_at(cmd);
    registry.reading = apr_array_push(registry.scopes);
    *registry.reading = sc;
    err = ap_walk_config(cmd->directive->first_child, cmd, cmd->context);
    registry.reading = NULL;
    (void)dconf;
    return err;
}

int wsl_interp_options_reading(cmd_parms *cmd)
{
    return registry.reading && cmd->directive->parent &&
           !strcasecmp(cmd->directive->parent->directive, CONTAINER);
}

void wsl_interp_options_set_switch_interval(double seconds)
{
    registry.reading->switch_interval = seconds;
}

static int matches(const char *selector, const char *value)
{
    return !selector || !strcmp(selector, value);
}

wsl_interp_options wsl_interp_options_for(const char *process_group,
                                          const char *application_group)
{
    wsl_interp_options o = { 0, 1, NULL, 0.0 };
    int gil_rank = -1, count_rank = -1, interval_rank = -1, i;

    if (!registry.scopes)
        return o;
    if (registry.top.own_gil != WSL_UNSET) {
        o.own_gil = registry.top.own_gil;
        o.own_gil_at = registry.top.defined_at;
    }
    if (registry.top.count != WSL_UNSET)
        o.count = registry.top.count;
    for (i = 0; i < registry.scopes->nelts; i++) {
        const scope *sc = &APR_ARRAY_IDX(registry.scopes, i, scope);

        if (!matches(sc->process_group, process_group) ||
            !matches(sc->application_group, application_group))
            continue;
        if (sc->own_gil != WSL_UNSET && sc->specificity >= gil_rank) {
            gil_rank = sc->specificity;
            o.own_gil = sc->own_gil;
            o.own_gil_at = sc->defined_at;
        }
        if (sc->count != WSL_UNSET && sc->specificity >= count_rank) {
            count_rank = sc->specificity;
            o.count = sc->count;
        }
        if (sc->switch_interval > 0.0 &&
            sc->specificity >= interval_rank) {
            interval_rank = sc->specificity;
            o.switch_interval = sc->switch_interval;
        }
    }
    /* %{GLOBAL} is the main interpreter: one, with the process's GIL. */
    if (!*application_group) {
        o.own_gil = 0;
        o.count = 1;
    }
    return o;
}

int wsl_interp_options_widest(const char *process_group)
{
    int widest = 1, i;

    if (!registry.scopes)
        return 1;
    if (registry.top.count > widest)
        widest = registry.top.count;
    for (i = 0; i < registry.scopes->nelts; i++) {
        const scope *sc = &APR_ARRAY_IDX(registry.scopes, i, scope);

        if (matches(sc->process_group, process_group) &&
            !(sc->application_group && !*sc->application_group) &&
            sc->count > widest)
            widest = sc->count;
    }
    return widest;
}

const char *wsl_interp_options_own_gil_at(void)
{
    int i;

    if (!registry.scopes)
        return NULL;
    if (registry.top.own_gil == 1)
        return registry.top.defined_at;
    for (i = 0; i < registry.scopes->nelts; i++) {
        const scope *sc = &APR_ARRAY_IDX(registry.scopes, i, scope);

        if (sc->own_gil == 1)
            return sc->defined_at;
    }
    return NULL;
}

const char *wsl_interp_options_global_at(void)
{
    int i;

    if (!registry.scopes)
        return NULL;
    for (i = 0; i < registry.scopes->nelts; i++) {
        const scope *sc = &APR_ARRAY_IDX(registry.scopes, i, scope);

        if (sc->application_group && !*sc->application_group &&
            (sc->own_gil == 1 || sc->count > 1))
            return sc->defined_at;
    }
    return NULL;
}
