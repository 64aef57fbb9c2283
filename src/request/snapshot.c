/*
 * snapshot.c: request_rec -> wsl_snapshot (snapshot.h), the Apache side
 * of the environ.  No Python here, on purpose: this runs before the
 * handler waits for the GIL, and daemon mode will run it in the Apache
 * child and send its result to the process that runs Python.
 *
 * The variables match what mod_wsgi (through ap_add_common_vars and
 * ap_add_cgi_vars) gives the same request, minus PATH_TRANSLATED, whose
 * sub-request costs more than any WSGI app has asked of it.  Every rule
 * that decides what reaches the application is applied here, on bytes:
 *
 *   - SetEnv variables come first; the CGI variables win over a SetEnv of
 *     the same name (which keeps its place, as in a dict that a CGI
 *     environment is copied into), the process's constants too.
 *   - Request headers become HTTP_* (validate.c's wsl_header_key: names
 *     with anything but letters, digits and '-' are dropped, and Proxy for
 *     httpoxy); Content-Type and Content-Length become CONTENT_TYPE and
 *     CONTENT_LENGTH; Authorization is withheld unless
 *     WSGIPassAuthorization, Proxy-Authorization always; a repeated header
 *     is joined with ", " (RFC 9110 5.3).
 *   - WSGIMapHEADToGET, then WSGITrustedProxyHeaders / WSGITrustedProxies.
 *
 * Cost: one pool block for the variables, one copy per header name (the
 * HTTP_* key), values borrowed from the request; names are found again by
 * hash, behind a 64-bit filter, so no hash table is built per request.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

#include "request.h"
#include "common/validate.h"

#include <arpa/inet.h>

/* What a SetEnv name is to the snapshot. */
#define NAME_FREE     (-1)      /* nothing of ours: it passes */
#define NAME_CONSTANT (-2)      /* a constant's: dropped */

/* A snapshot being filled. */
typedef struct {
    wsl_snapshot *snap;
    apr_pool_t *pool;
    uint64_t seen;              /* bit (hash & 63) of every name added:
                                 * most look-ups end here */
    int shadowed;               /* a SetEnv is named like a value */
} builder;

static void set_value(wsl_snapshot *snap, int i, const char *s)
{
    if (!s)
        s = "";
    snap->value[i].data = s;
    snap->value[i].len = strlen(s);
}

/* A value whose length is known: a flag's "0" or "1", digits. */
static void set_value_len(wsl_snapshot *snap, int i, const char *s,
                          size_t len)
{
    snap->value[i].data = s;
    snap->value[i].len = len;
}

static void set_flag(wsl_snapshot *snap, int i, int on)
{
    set_value_len(snap, i, on ? "1" : "0", 1);
}

/* A value the environ has only when there is one. */
static void set_optional(wsl_snapshot *snap, int i, const char *s)
{
    snap->value[i].data = s;
    snap->value[i].len = s ? strlen(s) : 0;
}

/* The same bytes under a second name. */
static void set_alias(wsl_snapshot *snap, int alias, int i)
{
    snap->value[alias] = snap->value[i];
}

/* Which of our names a SetEnv name is, if any (a few per request). */
static int fixed_name(const char *name)
{
    int i;

    for (i = 0; i < WSL_SV_COUNT; i++) {
        if (wsl_snapshot_names[i][0] == name[0] &&
            !strcmp(wsl_snapshot_names[i], name))
            return i;
    }
    for (i = 0; i < WSL_SC_COUNT; i++) {
        if (wsl_snapshot_constant_names[i][0] == name[0] &&
            !strcmp(wsl_snapshot_constant_names[i], name))
            return NAME_CONSTANT;
    }
    return NAME_FREE;
}

/* The index of the variable called name, or -1. */
static inline int find_var(const builder *b, const char *name,
                           size_t len, uint32_t hash)
{
    const wsl_snapshot_var *v = b->snap->vars;
    int i;

    if (!(b->seen & ((uint64_t)1 << (hash & 63))))
        return -1;
    for (i = 0; i < b->snap->nvars; i++) {
        if (v[i].hash == hash && v[i].name.len == len &&
            !memcmp(v[i].name.data, name, len))
            return i;
    }
    return -1;
}

/* Append a variable whose name is not there yet; vars has room (one per
 * table entry, plus one for a proxied Host). */
static void append_var(builder *b, const char *name, size_t len,
                       uint32_t hash, const char *value, size_t vlen,
                       int fixed)
{
    wsl_snapshot_var *v = &b->snap->vars[b->snap->nvars++];

    v->name.data = name;
    v->name.len = len;
    v->value.data = value;
    v->value.len = vlen;
    v->hash = hash;
    v->fixed = fixed;
    b->seen |= (uint64_t)1 << (hash & 63);
}

static void remove_var(builder *b, int at)
{
    wsl_snapshot_var *v = b->snap->vars;

    memmove(&v[at], &v[at + 1],
            (size_t)(b->snap->nvars - at - 1) * sizeof(*v));
    b->snap->nvars--;
}

/* "old, new" (RFC 9110 5.3), in the pool. */
static void join_value(builder *b, wsl_bytes *old, const char *value,
                       size_t vlen)
{
    char *joined = apr_palloc(b->pool, old->len + 2 + vlen + 1);

    memcpy(joined, old->data, old->len);
    memcpy(joined + old->len, ", ", 2);
    memcpy(joined + old->len + 2, value, vlen + 1);
    old->data = joined;
    old->len += 2 + vlen;
}

/* SetEnv, mod_rewrite's E=, mod_ssl's HTTPS, UNIQUE_ID ...: first, where
 * the environ has always had them, so that a header joins a SetEnv of its
 * HTTP_* name.  A name set twice keeps its first place and its last
 * value, as in a dict. */
static void add_subprocess_env(builder *b, request_rec *r)
{
    const apr_array_header_t *arr = apr_table_elts(r->subprocess_env);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i, at, fixed;

    for (i = 0; i < arr->nelts; i++) {
        const char *value = e[i].val ? e[i].val : "";
        size_t len, vlen;
        uint32_t hash;

        if (!e[i].key)
            continue;
        if ((fixed = fixed_name(e[i].key)) == NAME_CONSTANT)
            continue;
        len = strlen(e[i].key);
        vlen = strlen(value);
        hash = wsl_snapshot_hash(e[i].key, len);
        if ((at = find_var(b, e[i].key, len, hash)) >= 0) {
            b->snap->vars[at].value.data = value;
            b->snap->vars[at].value.len = vlen;
            continue;
        }
        append_var(b, e[i].key, len, hash, value, vlen, fixed);
        if (fixed >= 0)
            b->shadowed = 1;
    }
}

/* Variable `name` is `value` from now on, in the place of the one before
 * if any: for the values that replace rather than join (CONTENT_TYPE,
 * CONTENT_LENGTH, a proxied HTTP_HOST). */
static void replace_var(builder *b, const char *name, size_t len,
                        const char *value, size_t vlen)
{
    uint32_t hash = wsl_snapshot_hash(name, len);
    int at = find_var(b, name, len, hash);

    if (at < 0) {
        append_var(b, name, len, hash, value, vlen, NAME_FREE);
        return;
    }
    b->snap->vars[at].value.data = value;
    b->snap->vars[at].value.len = vlen;
}

static void add_headers(builder *b, request_rec *r, int pass_authorization)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *h = (const apr_table_entry_t *)arr->elts;
    char key[256];
    int i, at;

    for (i = 0; i < arr->nelts; i++) {
        size_t n, vlen;
        uint32_t hash;

        if (!h[i].key || !h[i].val)
            continue;
        if (!(n = wsl_header_key_hash(h[i].key, key, sizeof(key), &hash)))
            continue;
        vlen = strlen(h[i].val);
        /* The few names with a rule of their own, by their key: only one
         * header name (in any case) maps to each. */
        switch (n) {
        case 17:
            if (!memcmp(key, "HTTP_CONTENT_TYPE", 17)) {
                replace_var(b, "CONTENT_TYPE", 12, h[i].val, vlen);
                continue;
            }
            break;
        case 19:
            if (!memcmp(key, "HTTP_CONTENT_LENGTH", 19)) {
                replace_var(b, "CONTENT_LENGTH", 14, h[i].val, vlen);
                continue;
            }
            break;
        /* Credentials stay with Apache unless the admin says otherwise
         * (WSGIPassAuthorization); Proxy-Authorization never passes. */
        case 18:
            if (!pass_authorization && !memcmp(key, "HTTP_AUTHORIZATION", 18))
                continue;
            break;
        case 24:
            if (!memcmp(key, "HTTP_PROXY_AUTHORIZATION", 24))
                continue;
            break;
        }
        if ((at = find_var(b, key, n, hash)) >= 0)
            join_value(b, &b->snap->vars[at].value, h[i].val, vlen);
        else
            append_var(b, apr_pstrmemdup(b->pool, key, n), n, hash,
                       h[i].val, vlen, NAME_FREE);
    }
}

/*
 * WSGIMapHEADToGET: a HEAD request shown to the app as a GET, so the
 * headers it computes (Content-Length above all) are those of a GET.  Auto
 * does so when an output filter above the protocol level, which may
 * transform the body (mod_deflate ...), is in the chain, as mod_wsgi does.
 */
static const char *request_method(request_rec *r, int mode)
{
    ap_filter_t *f;

    if (!r->header_only || mode == WSL_HEAD_OFF)
        return r->method;
    if (mode == WSL_HEAD_ON)
        return "GET";
    for (f = r->output_filters; f; f = f->next) {
        if (f->frec->ftype < AP_FTYPE_PROTOCOL)
            return "GET";
    }
    return r->method;
}

/* Value i as decimal digits, in the snapshot's room for them. */
static void set_decimal(wsl_snapshot *snap, int i, int room,
                        apr_int64_t value)
{
    const char *digits = wsl_decimal(snap->digits[room], value);

    set_value_len(snap, i, digits,
                  (size_t)(snap->digits[room] + 23 - digits));
}

/* The CGI variables and the module's own, before any proxy header: every
 * one of snap->value, set or unset. */
static void add_values(wsl_snapshot *snap, request_rec *r,
                       const wsl_dir_config *dconf, const char *group,
                       const char *callable, const char *handler_script)
{
    conn_rec *c = r->connection;
    apr_port_t remote_port = r->useragent_addr ? r->useragent_addr->port
                                               : c->client_addr->port;

    set_value(snap, WSL_SV_REQUEST_METHOD,
              request_method(r, wsl_config_flag(dconf->map_head_to_get,
                                                WSL_HEAD_AUTO)));
    /* mod_wsgi.script_name and path_info keep what they were before
     * trusted proxy headers rewrote them, as in mod_wsgi. */
    set_value(snap, WSL_SV_SCRIPT_NAME, wsl_request_script_name(r));
    set_alias(snap, WSL_SV_MW_SCRIPT_NAME, WSL_SV_SCRIPT_NAME);
    set_value(snap, WSL_SV_PATH_INFO, r->path_info);
    set_alias(snap, WSL_SV_MW_PATH_INFO, WSL_SV_PATH_INFO);
    set_value(snap, WSL_SV_QUERY_STRING, r->args);
    set_value(snap, WSL_SV_REQUEST_URI, r->unparsed_uri);
    set_value(snap, WSL_SV_SERVER_NAME, ap_get_server_name_for_url(r));
    set_decimal(snap, WSL_SV_SERVER_PORT, 0, ap_get_server_port(r));
    set_value(snap, WSL_SV_SERVER_PROTOCOL, r->protocol);
    set_value(snap, WSL_SV_SERVER_ADDR, c->local_ip);
    set_value(snap, WSL_SV_SERVER_ADMIN, r->server->server_admin);
    set_value(snap, WSL_SV_SERVER_SIGNATURE, ap_psignature("", r));
    set_value(snap, WSL_SV_REMOTE_ADDR, r->useragent_ip);
    set_decimal(snap, WSL_SV_REMOTE_PORT, 1, remote_port);
    /* A DNS look-up with HostnameLookups On: here, outside the GIL. */
    set_optional(snap, WSL_SV_REMOTE_HOST,
                 ap_get_useragent_host(r, REMOTE_HOST, NULL));
    set_optional(snap, WSL_SV_REMOTE_USER, r->user);
    set_optional(snap, WSL_SV_AUTH_TYPE, r->ap_auth_type);
    set_value(snap, WSL_SV_DOCUMENT_ROOT, ap_document_root(r));
    set_value(snap, WSL_SV_REQUEST_SCHEME, ap_http_scheme(r));
    set_value(snap, WSL_SV_CONTEXT_PREFIX, ap_context_prefix(r));
    set_value(snap, WSL_SV_CONTEXT_DOCUMENT_ROOT,
              ap_context_document_root(r));
    set_value(snap, WSL_SV_SCRIPT_FILENAME, r->filename);
    set_value(snap, WSL_SV_WSGI_URL_SCHEME, ap_http_scheme(r));

    set_value(snap, WSL_SV_APPLICATION_GROUP, group);
    set_alias(snap, WSL_SV_MW_APPLICATION_GROUP, WSL_SV_APPLICATION_GROUP);
    set_flag(snap, WSL_SV_SCRIPT_RELOADING,
             wsl_config_flag(dconf->script_reloading, 1));
    set_alias(snap, WSL_SV_MW_SCRIPT_RELOADING, WSL_SV_SCRIPT_RELOADING);
    set_decimal(snap, WSL_SV_REQUEST_START, 2, r->request_time);
    set_alias(snap, WSL_SV_MW_REQUEST_START, WSL_SV_REQUEST_START);
    set_optional(snap, WSL_SV_CALLABLE_OBJECT, callable);
    set_alias(snap, WSL_SV_MW_CALLABLE_OBJECT, WSL_SV_CALLABLE_OBJECT);
    /* mod_wsgi's own, as it gives them (its strings of digits). */
    set_optional(snap, WSL_SV_MW_REQUEST_HANDLER, r->handler);
    set_optional(snap, WSL_SV_MW_HANDLER_SCRIPT, handler_script);
    set_flag(snap, WSL_SV_MW_ENABLE_SENDFILE,
             wsl_config_flag(dconf->enable_sendfile, 0));
    set_flag(snap, WSL_SV_MW_IGNORE_ACTIVITY,
             wsl_config_flag(dconf->ignore_activity, 0));
    set_value(snap, WSL_SV_MW_LISTENER_HOST, c->local_addr->hostname);
    set_decimal(snap, WSL_SV_MW_LISTENER_PORT, 3, c->local_addr->port);
    set_optional(snap, WSL_SV_MW_REQUEST_ID, r->log_id);
    set_optional(snap, WSL_SV_MW_CONNECTION_ID, c->log_id);
}

/* Is `ip` (a literal) one of the WSGITrustedProxies? */
static int ip_trusted(request_rec *r, const apr_array_header_t *proxies,
                      const char *ip)
{
    apr_ipsubnet_t **subnets = (apr_ipsubnet_t **)proxies->elts;
    unsigned char bin[sizeof(struct in6_addr)];
    apr_sockaddr_t *sa;
    int i;

    /* Only literals: a name here must never cause a DNS lookup. */
    if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
        return 0;
    if (apr_sockaddr_info_get(&sa, ip, APR_UNSPEC, 0, 0, r->pool)
        != APR_SUCCESS)
        return 0;
    for (i = 0; i < proxies->nelts; i++) {
        if (apr_ipsubnet_test(subnets[i], sa))
            return 1;
    }
    return 0;
}

/* The client named by X-Forwarded-For: the nearest address that is not
 * one of our trusted proxies (the leftmost with no list). */
static char *forwarded_client(request_rec *r, const wsl_dir_config *dconf,
                              const char *value)
{
    apr_array_header_t *hops = apr_array_make(r->pool, 4, sizeof(char *));
    char *list = apr_pstrdup(r->pool, value), *hop, *state;
    int i;

    for (hop = apr_strtok(list, ", \t", &state); hop;
         hop = apr_strtok(NULL, ", \t", &state))
        *(char **)apr_array_push(hops) = hop;
    if (hops->nelts == 0)
        return NULL;
    if (dconf->trusted_proxies) {
        for (i = hops->nelts - 1; i > 0; i--) {
            if (!ip_trusted(r, dconf->trusted_proxies,
                            ((char **)hops->elts)[i]))
                return ((char **)hops->elts)[i];
        }
    }
    return ((char **)hops->elts)[0];
}

/*
 * WSGITrustedProxyHeaders / WSGITrustedProxies.  Once any proxy header is
 * declared trusted, every known proxy header is removed unless it is
 * declared and came from a trusted peer: an application can then never be
 * fooled by a client that sends them itself.  A trusted one rewrites what
 * it stands for (REMOTE_ADDR, wsgi.url_scheme, HTTP_HOST, SERVER_NAME,
 * SERVER_PORT, SCRIPT_NAME), in this order, its bytes as they came.
 */
static void apply_proxy_headers(builder *b, request_rec *r,
                                const wsl_dir_config *dconf)
{
    static const char *const known[] = {
        "HTTP_X_FORWARDED_FOR", "HTTP_X_CLIENT_IP", "HTTP_X_REAL_IP",
        "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_SCHEME",
        "HTTP_X_FORWARDED_SSL", "HTTP_X_FORWARDED_HTTPS",
        "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_SERVER",
        "HTTP_X_FORWARDED_PORT", "HTTP_X_SCRIPT_NAME", NULL
    };
    const apr_array_header_t *listed = dconf->trusted_proxy_headers;
    wsl_snapshot *snap = b->snap;
    int peer_ok, i, j, at;

    peer_ok = !dconf->trusted_proxies ||
              ip_trusted(r, dconf->trusted_proxies,
                         r->connection->client_ip);
    for (i = 0; known[i]; i++) {
        size_t len = strlen(known[i]);
        const char *value, *name = known[i] + 5;
        int trusted = 0;

        at = find_var(b, known[i], len, wsl_snapshot_hash(known[i], len));
        if (at < 0)
            continue;
        for (j = 0; peer_ok && j < listed->nelts; j++) {
            if (!strcmp(((const char **)listed->elts)[j], known[i]))
                trusted = 1;
        }
        if (!trusted) {
            remove_var(b, at);
            continue;
        }
        value = snap->vars[at].value.data;
        if (!strcmp(name, "X_FORWARDED_FOR")) {
            char *client = forwarded_client(r, dconf, value);

            if (client)
                set_value(snap, WSL_SV_REMOTE_ADDR, client);
        }
        else if (!strcmp(name, "X_CLIENT_IP") || !strcmp(name, "X_REAL_IP")) {
            set_value(snap, WSL_SV_REMOTE_ADDR, value);
        }
        else if (!strcmp(name, "X_FORWARDED_PROTO") ||
                 !strcmp(name, "X_FORWARDED_SCHEME")) {
            if (!strcasecmp(value, "https") || !strcasecmp(value, "http"))
                set_value(snap, WSL_SV_WSGI_URL_SCHEME,
                          strcasecmp(value, "https") ? "http" : "https");
        }
        else if (!strcmp(name, "X_FORWARDED_SSL") ||
                 !strcmp(name, "X_FORWARDED_HTTPS")) {
            if (!strcasecmp(value, "on") || !strcasecmp(value, "true") ||
                !strcmp(value, "1"))
                set_value(snap, WSL_SV_WSGI_URL_SCHEME, "https");
        }
        else if (!strcmp(name, "X_FORWARDED_HOST")) {
            /* The first host of a list, up to its comma; a request
             * without Host (HTTP/1.0) gets HTTP_HOST last. */
            const char *comma = strchr(value, ',');
            size_t n = comma ? (size_t)(comma - value) : strlen(value);

            if (find_var(b, "HTTP_HOST", 9, wsl_snapshot_hash("HTTP_HOST", 9))
                < 0)
                snap->nlate = 1;
            replace_var(b, "HTTP_HOST", 9, apr_pstrmemdup(r->pool, value, n),
                        n);
        }
        else if (!strcmp(name, "X_FORWARDED_SERVER")) {
            set_value(snap, WSL_SV_SERVER_NAME, value);
        }
        else if (!strcmp(name, "X_FORWARDED_PORT")) {
            set_value(snap, WSL_SV_SERVER_PORT, value);
        }
        else if (!strcmp(name, "X_SCRIPT_NAME")) {
            set_value(snap, WSL_SV_SCRIPT_NAME, value);
        }
    }
}

wsl_snapshot *wsl_snapshot_take(request_rec *r, const char *group,
                                const char *callable,
                                const char *handler_script)
{
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    /* Not zeroed: add_values() writes every value. */
    wsl_snapshot *snap = apr_palloc(r->pool, sizeof(*snap));
    builder b;
    int room, i;

    room = apr_table_elts(r->subprocess_env)->nelts +
           apr_table_elts(r->headers_in)->nelts + 1;
    snap->vars = apr_palloc(r->pool, (apr_size_t)room * sizeof(*snap->vars));
    snap->nvars = snap->nlate = 0;
    snap->pass_apache_request =
        wsl_config_flag(dconf->pass_apache_request, 0);
    b.snap = snap;
    b.pool = r->pool;
    b.seen = 0;
    b.shadowed = 0;

    add_subprocess_env(&b, r);
    add_headers(&b, r, wsl_config_flag(dconf->pass_authorization, 0));
    add_values(snap, r, dconf, group, callable, handler_script);
    if (dconf->trusted_proxy_headers)
        apply_proxy_headers(&b, r, dconf);
    /* A SetEnv of a CGI variable's name keeps its place and takes the CGI
     * value, as when the CGI value is set over it; with no such value
     * this request (REMOTE_USER without a user ...), its own stays. */
    for (i = 0; b.shadowed && i < snap->nvars; i++) {
        wsl_snapshot_var *v = &snap->vars[i];

        if (v->fixed >= 0 && snap->value[v->fixed].data)
            v->value = snap->value[v->fixed];
    }
    return snap;
}
