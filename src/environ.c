/*
 * environ.c: request_rec -> the WSGI environ dict (PEP 3333 "environ
 * Variables"), built straight from the request: no intermediate APR table,
 * keys interned once per interpreter, values decoded as latin-1 native
 * strings.
 *
 * The CGI variables match what mod_wsgi (through ap_add_common_vars and
 * ap_add_cgi_vars) gives the same request, minus PATH_TRANSLATED, whose
 * sub-request costs more than any WSGI app has asked of it.
 */
#include "wsl.h"
#include "validate.h"

#include "util_script.h"
#include "util_filter.h"

#include <arpa/inet.h>

enum {
    K_REQUEST_METHOD, K_SCRIPT_NAME, K_PATH_INFO, K_QUERY_STRING,
    K_REQUEST_URI, K_CONTENT_TYPE, K_CONTENT_LENGTH, K_SERVER_NAME,
    K_SERVER_PORT, K_SERVER_PROTOCOL, K_SERVER_SOFTWARE, K_SERVER_ADDR,
    K_SERVER_ADMIN, K_SERVER_SIGNATURE, K_REMOTE_ADDR, K_REMOTE_PORT,
    K_REMOTE_HOST, K_REMOTE_USER, K_AUTH_TYPE, K_GATEWAY_INTERFACE,
    K_DOCUMENT_ROOT, K_REQUEST_SCHEME, K_CONTEXT_PREFIX,
    K_CONTEXT_DOCUMENT_ROOT, K_SCRIPT_FILENAME,
    K_WSGI_VERSION, K_WSGI_URL_SCHEME, K_WSGI_INPUT, K_WSGI_ERRORS,
    K_WSGI_MULTITHREAD, K_WSGI_MULTIPROCESS, K_WSGI_RUN_ONCE,
    K_WSGI_FILE_WRAPPER, K_WSGI_INPUT_TERMINATED,
    K_WSL_PROCESS_GROUP, K_WSL_APPLICATION_GROUP, K_WSL_SCRIPT_RELOADING,
    K_WSL_REQUEST_START, K_WSL_CALLABLE_OBJECT, K_WSL_VERSION,
    K_APACHE_REQUEST_REC,
    /* mod_wsgi 4.9.4's, with its names, types and formats */
    K_MW_PROCESS_GROUP, K_MW_APPLICATION_GROUP, K_MW_CALLABLE_OBJECT,
    K_MW_REQUEST_HANDLER, K_MW_HANDLER_SCRIPT, K_MW_SCRIPT_RELOADING,
    K_MW_ENABLE_SENDFILE, K_MW_IGNORE_ACTIVITY, K_MW_LISTENER_HOST,
    K_MW_LISTENER_PORT, K_MW_REQUEST_START, K_MW_SCRIPT_START,
    K_MW_REQUEST_ID, K_MW_CONNECTION_ID, K_MW_THREAD_ID,
    K_MW_THREAD_REQUESTS, K_MW_TOTAL_REQUESTS, K_MW_SCRIPT_NAME,
    K_MW_PATH_INFO, K_MW_VERSION, K_APACHE_VERSION,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
    "REQUEST_URI", "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME",
    "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "SERVER_ADDR",
    "SERVER_ADMIN", "SERVER_SIGNATURE", "REMOTE_ADDR", "REMOTE_PORT",
    "REMOTE_HOST", "REMOTE_USER", "AUTH_TYPE", "GATEWAY_INTERFACE",
    "DOCUMENT_ROOT", "REQUEST_SCHEME", "CONTEXT_PREFIX",
    "CONTEXT_DOCUMENT_ROOT", "SCRIPT_FILENAME",
    "wsgi.version", "wsgi.url_scheme", "wsgi.input", "wsgi.errors",
    "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
    "wsgi.file_wrapper", "wsgi.input_terminated",
    "mod_wsgi_lite.process_group", "mod_wsgi_lite.application_group",
    "mod_wsgi_lite.script_reloading", "mod_wsgi_lite.request_start",
    "mod_wsgi_lite.callable_object", "mod_wsgi_lite.version",
    "apache.request_rec",
    "mod_wsgi.process_group", "mod_wsgi.application_group",
    "mod_wsgi.callable_object", "mod_wsgi.request_handler",
    "mod_wsgi.handler_script", "mod_wsgi.script_reloading",
    "mod_wsgi.enable_sendfile", "mod_wsgi.ignore_activity",
    "mod_wsgi.listener_host", "mod_wsgi.listener_port",
    "mod_wsgi.request_start", "mod_wsgi.script_start",
    "mod_wsgi.request_id", "mod_wsgi.connection_id", "mod_wsgi.thread_id",
    "mod_wsgi.thread_requests", "mod_wsgi.total_requests",
    "mod_wsgi.script_name", "mod_wsgi.path_info", "mod_wsgi.version",
    "apache.version",
};

/* Request header names seen, each with its HTTP_* key, capped so a client
 * inventing names cannot grow it without bound. */
#define WSL_HEADER_CACHE_MAX 256

/* Sized for the 60-odd CGI, wsgi.*, mod_wsgi.* and mod_wsgi_lite.* keys
 * plus a browser's headers (room for 85 in all), so that filling an
 * environ does not resize it. */
#define WSL_ENVIRON_PRESIZE 64

/* Values longer than this are never kept for reuse. */
#define WSL_KEPT_VALUE_MAX 256

/* The last value set for a key, as text and as the str object made of it. */
typedef struct {
    char *text;                 /* PyMem */
    PyObject *obj;
} kept_value;

struct wsl_environ_keys {
    PyObject *key[K_COUNT];
    kept_value kept[K_COUNT];   /* for set_kept() */
    apr_hash_t *header_keys;    /* name -> interned key, or Py_None: drop */
    apr_pool_t *pool;
    PyObject *wsgi_version;     /* (1, 0) */
    PyObject *wsl_version;      /* (major, minor, micro) */
    PyObject *mod_wsgi_version; /* the mod_wsgi API provided: (4, 9, 4) */
    PyObject *apache_version;   /* the running Apache's */
    PyObject *constants;        /* the keys whose values never change in
                                 * this process, presized: each environ
                                 * starts as a copy of it */
};

/* Fixed for the life of the child (set from the MPM at start-up). */
static int process_multithread, process_multiprocess;

void wsl_environ_set_process_model(int multithread, int multiprocess)
{
    process_multithread = multithread;
    process_multiprocess = multiprocess;
}

/*
 * The environ's constant part.  CPython copies a dict like this one with
 * one memcpy of its table (PyDict_Copy's fast path for a compact dict),
 * where setting its dozen keys one by one cost some 3,000 instructions a
 * request.  Presized like a full environ, so that the copy has room for
 * the rest without a resize.  Set at child start-up, after the MPM is
 * known (wsgi.multithread) and before the first request.
 */
static int make_constants(wsl_interp *interp, wsl_environ_keys *keys)
{
    PyObject **k = keys->key, *d, *empty, *gateway, *software;
    const char *banner = ap_get_server_banner();
    int rc;

    if (!(d = _PyDict_NewPresized(WSL_ENVIRON_PRESIZE)))
        return -1;
    empty = PyUnicode_FromString("");
    gateway = PyUnicode_FromString("CGI/1.1");
    software = PyUnicode_DecodeLatin1(banner, strlen(banner), NULL);
    rc = (!empty || !gateway || !software ||
          PyDict_SetItem(d, k[K_GATEWAY_INTERFACE], gateway) < 0 ||
          PyDict_SetItem(d, k[K_SERVER_SOFTWARE], software) < 0 ||
          PyDict_SetItem(d, k[K_WSGI_VERSION], keys->wsgi_version) < 0 ||
          PyDict_SetItem(d, k[K_WSGI_MULTITHREAD],
                         process_multithread ? Py_True : Py_False) < 0 ||
          PyDict_SetItem(d, k[K_WSGI_MULTIPROCESS],
                         process_multiprocess ? Py_True : Py_False) < 0 ||
          PyDict_SetItem(d, k[K_WSGI_RUN_ONCE], Py_False) < 0 ||
          PyDict_SetItem(d, k[K_WSGI_FILE_WRAPPER], (PyObject *)
                         wsl_type(interp, WSL_TYPE_FILE_WRAPPER)) < 0 ||
          /* embedded mode: no process group */
          PyDict_SetItem(d, k[K_WSL_PROCESS_GROUP], empty) < 0 ||
          PyDict_SetItem(d, k[K_MW_PROCESS_GROUP], empty) < 0 ||
          PyDict_SetItem(d, k[K_WSL_VERSION], keys->wsl_version) < 0 ||
          PyDict_SetItem(d, k[K_MW_VERSION], keys->mod_wsgi_version) < 0 ||
          PyDict_SetItem(d, k[K_APACHE_VERSION], keys->apache_version) < 0)
         ? -1 : 0;
    Py_XDECREF(empty);
    Py_XDECREF(gateway);
    Py_XDECREF(software);
    if (rc < 0) {
        Py_DECREF(d);
        return -1;
    }
    keys->constants = d;
    return 0;
}

int wsl_environ_keys_init(wsl_interp *interp)
{
    /* Pooled with the interpreter's other bookkeeping: it lives as long as
     * the child, and the pool gives it back at exit. */
    wsl_environ_keys *keys = apr_pcalloc(interp->pool, sizeof(*keys));
    ap_version_t apache;
    int i;

    interp->keys = keys;
    keys->pool = interp->pool;
    keys->header_keys = apr_hash_make(interp->pool);
    for (i = 0; i < K_COUNT; i++) {
        if (!(keys->key[i] = PyUnicode_InternFromString(key_names[i])))
            return -1;
    }
    ap_get_server_revision(&apache);
    keys->wsgi_version = Py_BuildValue("(ii)", 1, 0);
    keys->wsl_version = Py_BuildValue("(iii)", WSL_VERSION_TUPLE);
    keys->mod_wsgi_version = Py_BuildValue("(iii)",
                                           WSL_MOD_WSGI_VERSION_TUPLE);
    keys->apache_version = Py_BuildValue("(iii)", apache.major,
                                         apache.minor, apache.patch);
    if (!keys->wsgi_version || !keys->wsl_version ||
        !keys->mod_wsgi_version || !keys->apache_version)
        return -1;
    return make_constants(interp, keys);
}

/* A native string (PEP 3333: latin-1 decoded bytes), under one key or
 * two. */
static int set_str_as(PyObject *env, PyObject *key, PyObject *alias,
                      const char *value)
{
    PyObject *obj;

    if (!value)
        value = "";
    obj = PyUnicode_DecodeLatin1(value, strlen(value), NULL);
    if (obj && alias && PyDict_SetItem(env, alias, obj) < 0)
        Py_CLEAR(obj);
    return wsl_dict_steal(env, key, obj);
}

static int set_str(PyObject *env, PyObject *key, const char *value)
{
    return set_str_as(env, key, NULL, value);
}

/*
 * A native string for a key whose value is mostly the same from one
 * request to the next (server name, document root, script file...): the
 * str of the last request is reused while the text is the same, which
 * saves an allocation and a decode per key inside the GIL, the part of a
 * request that threads wait on each other for.  Runs with the GIL of the
 * interpreter that owns `keys`, so no lock.  With `alias` >= 0 the same
 * object goes under that key too (mod_wsgi.* beside mod_wsgi_lite.*).
 */
static int set_kept_as(PyObject *env, wsl_environ_keys *keys, int i,
                       int alias, const char *value)
{
    kept_value *kept = &keys->kept[i];
    PyObject *obj;
    size_t n;
    char *text;
    int rc;

    if (!value)
        value = "";
    if (kept->text && strcmp(kept->text, value) == 0) {
        obj = Py_NewRef(kept->obj);
    }
    else {
        n = strlen(value);
        if (!(obj = PyUnicode_DecodeLatin1(value, (Py_ssize_t)n, NULL)))
            return -1;
        if (n < WSL_KEPT_VALUE_MAX && (text = PyMem_Malloc(n + 1))) {
            memcpy(text, value, n + 1);
            PyMem_Free(kept->text);
            kept->text = text;
            Py_INCREF(obj);
            Py_XSETREF(kept->obj, obj);
        }
    }
    rc = PyDict_SetItem(env, keys->key[i], obj);
    if (rc == 0 && alias >= 0)
        rc = PyDict_SetItem(env, keys->key[alias], obj);
    Py_DECREF(obj);
    return rc;
}

static int set_kept(PyObject *env, wsl_environ_keys *keys, int i,
                    const char *value)
{
    return set_kept_as(env, keys, i, -1, value);
}

/* `value` in decimal at the end of buf, NUL-terminated: digits written by
 * hand, at a twentieth of snprintf's cost (three numbers a request). */
#define WSL_DECIMAL_SIZE 24

static const char *format_decimal(char *buf, apr_int64_t value)
{
    char *p = buf + WSL_DECIMAL_SIZE - 1;
    apr_uint64_t u = value < 0 ? 0 - (apr_uint64_t)value
                               : (apr_uint64_t)value;

    *p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0)
        *--p = '-';
    return p;
}

/* A decimal number as a native string, under one key or two. */
static int set_number_as(PyObject *env, PyObject *key, PyObject *alias,
                         apr_int64_t value)
{
    char buf[WSL_DECIMAL_SIZE];
    PyObject *obj = PyUnicode_FromString(format_decimal(buf, value));

    if (obj && alias && PyDict_SetItem(env, alias, obj) < 0)
        Py_CLEAR(obj);
    return wsl_dict_steal(env, key, obj);
}

static int set_number(PyObject *env, PyObject *key, apr_int64_t value)
{
    return set_number_as(env, key, NULL, value);
}

/* New reference to the environ key for a request header, Py_None when
 * it must be dropped, NULL with an exception set. */
static PyObject *header_key_object(wsl_environ_keys *keys, const char *name)
{
    PyObject *key = apr_hash_get(keys->header_keys, name,
                                 APR_HASH_KEY_STRING);
    char buf[256];
    size_t n;

    if (key) {
        Py_INCREF(key);
        return key;
    }
    if (!(n = wsl_header_key(name, buf, sizeof(buf))))
        key = Py_NewRef(Py_None);
    else if (!(key = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)n)))
        return NULL;
    else
        PyUnicode_InternInPlace(&key);
    if (apr_hash_count(keys->header_keys) < WSL_HEADER_CACHE_MAX) {
        apr_hash_set(keys->header_keys, apr_pstrdup(keys->pool, name),
                     APR_HASH_KEY_STRING, Py_NewRef(key));
    }
    return key;
}

static int add_headers(PyObject *env, request_rec *r, wsl_environ_keys *keys,
                       int pass_authorization)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *h = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        PyObject *key, *value, *old;

        if (!h[i].key || !h[i].val)
            continue;
        if (!strcasecmp(h[i].key, "Content-Type")) {
            if (set_str(env, keys->key[K_CONTENT_TYPE], h[i].val) < 0)
                return -1;
            continue;
        }
        if (!strcasecmp(h[i].key, "Content-Length")) {
            if (set_str(env, keys->key[K_CONTENT_LENGTH], h[i].val) < 0)
                return -1;
            continue;
        }
        /* Credentials stay with Apache unless the admin says otherwise
         * (WSGIPassAuthorization); Proxy-Authorization never passes. */
        if (!strcasecmp(h[i].key, "Proxy-Authorization"))
            continue;
        if (!pass_authorization && !strcasecmp(h[i].key, "Authorization"))
            continue;
        if (!(key = header_key_object(keys, h[i].key)))
            return -1;
        if (key == Py_None) {
            Py_DECREF(key);
            continue;
        }
        value = PyUnicode_DecodeLatin1(h[i].val, strlen(h[i].val), NULL);
        /* Repeated headers are joined with ", " (RFC 9110 5.3), as a
         * CGI environment does. */
        old = value ? PyDict_GetItemWithError(env, key) : NULL;
        if (old)
            Py_SETREF(value, PyUnicode_FromFormat("%U, %U", old, value));
        else if (PyErr_Occurred())
            Py_CLEAR(value);
        if (wsl_dict_steal(env, key, value) < 0) {
            Py_DECREF(key);
            return -1;
        }
        Py_DECREF(key);
    }
    return 0;
}

/* SetEnv, mod_rewrite's E=, mod_ssl's HTTPS, UNIQUE_ID ...: added first,
 * so the CGI variables computed below win over a SetEnv of the same name,
 * as in a CGI environment. */
static int add_subprocess_env(PyObject *env, request_rec *r,
                              PyObject *constants)
{
    const apr_array_header_t *arr = apr_table_elts(r->subprocess_env);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i, overwritten = 0;

    for (i = 0; i < arr->nelts; i++) {
        PyObject *key;
        int rc;

        if (!e[i].key)
            continue;
        if (!(key = PyUnicode_DecodeLatin1(e[i].key, strlen(e[i].key),
                                           NULL)))
            return -1;
        if (!overwritten && (overwritten = PyDict_Contains(constants, key))
            < 0) {
            Py_DECREF(key);
            return -1;
        }
        rc = set_str(env, key, e[i].val);
        Py_DECREF(key);
        if (rc < 0)
            return -1;
    }
    /* The environ started as a copy of the constants; a SetEnv of one of
     * their names (GATEWAY_INTERFACE, wsgi.run_once ...) loses to it. */
    return overwritten ? PyDict_Update(env, constants) : 0;
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

/* The bytes of a latin-1 str, in the pool; NULL with an exception set
 * (a value set from Python outside latin-1 cannot be a header's). */
static const char *latin1_bytes(apr_pool_t *pool, PyObject *str)
{
    PyObject *bytes = PyUnicode_AsLatin1String(str);
    const char *copy;

    if (!bytes)
        return NULL;
    copy = apr_pstrmemdup(pool, PyBytes_AS_STRING(bytes),
                          (apr_size_t)PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    return copy;
}

/*
 * WSGITrustedProxyHeaders / WSGITrustedProxies.  Once any proxy header is
 * declared trusted, every known proxy header is removed from the environ
 * unless it is declared and came from a trusted peer: an application can
 * then never be fooled by a client that sends them itself.  A trusted one
 * rewrites what it stands for (REMOTE_ADDR, wsgi.url_scheme, HTTP_HOST,
 * SERVER_NAME, SERVER_PORT, SCRIPT_NAME).
 */
static int apply_proxy_headers(PyObject *env, request_rec *r,
                               const wsl_dir_config *dconf, PyObject **k)
{
    static const char *const known[] = {
        "HTTP_X_FORWARDED_FOR", "HTTP_X_CLIENT_IP", "HTTP_X_REAL_IP",
        "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_SCHEME",
        "HTTP_X_FORWARDED_SSL", "HTTP_X_FORWARDED_HTTPS",
        "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_SERVER",
        "HTTP_X_FORWARDED_PORT", "HTTP_X_SCRIPT_NAME", NULL
    };
    const apr_array_header_t *listed = dconf->trusted_proxy_headers;
    int peer_ok, i, j;

    if (!listed)
        return 0;
    peer_ok = !dconf->trusted_proxies ||
              ip_trusted(r, dconf->trusted_proxies,
                         r->connection->client_ip);
    for (i = 0; known[i]; i++) {
        PyObject *obj = PyDict_GetItemString(env, known[i]);
        const char *value, *name = known[i] + 5;
        int trusted = 0;

        if (!obj)
            continue;
        for (j = 0; peer_ok && j < listed->nelts; j++) {
            if (!strcmp(((const char **)listed->elts)[j], known[i]))
                trusted = 1;
        }
        if (!trusted) {
            if (PyDict_DelItemString(env, known[i]) < 0)
                return -1;
            continue;
        }
        /* Back to the header's own bytes: its str was decoded as latin-1,
         * and set_str() decodes what is set from it the same way (UTF-8
         * here turned "\xe9" into "\xc3\xa9"). */
        if (!(value = latin1_bytes(r->pool, obj)))
            return -1;
        if (!strcmp(name, "X_FORWARDED_FOR")) {
            char *client = forwarded_client(r, dconf, value);

            if (client && set_str(env, k[K_REMOTE_ADDR], client) < 0)
                return -1;
        }
        else if (!strcmp(name, "X_CLIENT_IP") || !strcmp(name, "X_REAL_IP")) {
            if (set_str(env, k[K_REMOTE_ADDR], value) < 0)
                return -1;
        }
        else if (!strcmp(name, "X_FORWARDED_PROTO") ||
                 !strcmp(name, "X_FORWARDED_SCHEME")) {
            if ((!strcasecmp(value, "https") || !strcasecmp(value, "http")) &&
                set_str(env, k[K_WSGI_URL_SCHEME],
                        strcasecmp(value, "https") ? "http" : "https") < 0)
                return -1;
        }
        else if (!strcmp(name, "X_FORWARDED_SSL") ||
                 !strcmp(name, "X_FORWARDED_HTTPS")) {
            if ((!strcasecmp(value, "on") || !strcasecmp(value, "true") ||
                 !strcmp(value, "1")) &&
                set_str(env, k[K_WSGI_URL_SCHEME], "https") < 0)
                return -1;
        }
        else if (!strcmp(name, "X_FORWARDED_HOST")) {
            char *host = apr_pstrdup(r->pool, value), *comma;

            if ((comma = strchr(host, ',')))
                *comma = '\0';
            PyObject *v = PyUnicode_DecodeLatin1(host, strlen(host), NULL);
            int rc = v ? PyDict_SetItemString(env, "HTTP_HOST", v) : -1;

            Py_XDECREF(v);
            if (rc < 0)
                return -1;
        }
        else if (!strcmp(name, "X_FORWARDED_SERVER")) {
            if (set_str(env, k[K_SERVER_NAME], value) < 0)
                return -1;
        }
        else if (!strcmp(name, "X_FORWARDED_PORT")) {
            if (set_str(env, k[K_SERVER_PORT], value) < 0)
                return -1;
        }
        else if (!strcmp(name, "X_SCRIPT_NAME")) {
            if (set_str(env, k[K_SCRIPT_NAME], value) < 0)
                return -1;
        }
    }
    return 0;
}

PyObject *wsl_environ_build(request_rec *r, wsl_interp *interp,
                            const char *group, const char *callable,
                            PyObject *input, PyObject *errors)
{
    wsl_environ_keys *keys = interp->keys;
    PyObject **k = keys->key;
    const wsl_dir_config *dconf =
        ap_get_module_config(r->per_dir_config, &wsgi_lite_module);
    conn_rec *c = r->connection;
    apr_port_t remote_port = r->useragent_addr ? r->useragent_addr->port
                                               : c->client_addr->port;
    const char *remote_host = ap_get_useragent_host(r, REMOTE_HOST, NULL);
    char port_buf[WSL_DECIMAL_SIZE];
    PyObject *env = PyDict_Copy(keys->constants);

    if (!env)
        return NULL;
    if (add_subprocess_env(env, r, keys->constants) < 0 ||
        add_headers(env, r, keys,
                    wsl_config_flag(dconf->pass_authorization, 0)) < 0)
        goto fail;

    if (set_kept(env, keys, K_REQUEST_METHOD,
                 request_method(r, wsl_config_flag(dconf->map_head_to_get,
                                                   WSL_HEAD_AUTO))) < 0 ||
        /* mod_wsgi.script_name and path_info keep what they were before
         * trusted proxy headers rewrote them, as in mod_wsgi. */
        set_kept_as(env, keys, K_SCRIPT_NAME, K_MW_SCRIPT_NAME,
                    wsl_request_script_name(r)) < 0 ||
        set_str_as(env, k[K_PATH_INFO], k[K_MW_PATH_INFO],
                   r->path_info) < 0 ||
        set_str(env, k[K_QUERY_STRING], r->args) < 0 ||
        set_str(env, k[K_REQUEST_URI], r->unparsed_uri) < 0 ||
        set_kept(env, keys, K_SERVER_NAME,
                 ap_get_server_name_for_url(r)) < 0 ||
        set_kept(env, keys, K_SERVER_PORT,
                 format_decimal(port_buf, ap_get_server_port(r))) < 0 ||
        set_kept(env, keys, K_SERVER_PROTOCOL, r->protocol) < 0 ||
        set_kept(env, keys, K_SERVER_ADDR, c->local_ip) < 0 ||
        set_kept(env, keys, K_SERVER_ADMIN, r->server->server_admin) < 0 ||
        set_kept(env, keys, K_SERVER_SIGNATURE,
                 ap_psignature("", r)) < 0 ||
        set_kept(env, keys, K_REMOTE_ADDR, r->useragent_ip) < 0 ||
        set_number(env, k[K_REMOTE_PORT], remote_port) < 0 ||
        set_kept(env, keys, K_DOCUMENT_ROOT, ap_document_root(r)) < 0 ||
        set_kept(env, keys, K_REQUEST_SCHEME, ap_http_scheme(r)) < 0 ||
        set_kept(env, keys, K_CONTEXT_PREFIX, ap_context_prefix(r)) < 0 ||
        set_kept(env, keys, K_CONTEXT_DOCUMENT_ROOT,
                 ap_context_document_root(r)) < 0 ||
        set_kept(env, keys, K_SCRIPT_FILENAME, r->filename) < 0)
        goto fail;
    if (remote_host && set_str(env, k[K_REMOTE_HOST], remote_host) < 0)
        goto fail;
    if (r->user && set_str(env, k[K_REMOTE_USER], r->user) < 0)
        goto fail;
    if (r->ap_auth_type && set_str(env, k[K_AUTH_TYPE], r->ap_auth_type) < 0)
        goto fail;

    if (set_kept(env, keys, K_WSGI_URL_SCHEME, ap_http_scheme(r)) < 0 ||
        PyDict_SetItem(env, k[K_WSGI_ERRORS], errors) < 0)
        goto fail;
    /* Scripts run before the handler (auth, access, dispatch) get no body:
     * it belongs to the application. */
    if (input && (PyDict_SetItem(env, k[K_WSGI_INPUT], input) < 0 ||
                  PyDict_SetItem(env, k[K_WSGI_INPUT_TERMINATED],
                                 Py_True) < 0))
        goto fail;

    /* mod_wsgi.* beside mod_wsgi_lite.*: one object for both names. */
    if (set_kept_as(env, keys, K_WSL_APPLICATION_GROUP,
                    K_MW_APPLICATION_GROUP, group) < 0 ||
        set_kept_as(env, keys, K_WSL_SCRIPT_RELOADING, K_MW_SCRIPT_RELOADING,
                    wsl_config_flag(dconf->script_reloading, 1) ? "1" : "0")
        < 0 ||
        set_number_as(env, k[K_WSL_REQUEST_START], k[K_MW_REQUEST_START],
                      r->request_time) < 0 ||
        (callable &&
         set_kept_as(env, keys, K_WSL_CALLABLE_OBJECT, K_MW_CALLABLE_OBJECT,
                     callable) < 0))
        goto fail;
    /* mod_wsgi's own (its strings of digits, as it gives them).  The
     * handler's request_id is the request's shared object
     * (wsl_environ_add_handler_keys); a hook script gets the id only if
     * something already made one. */
    if ((r->handler &&
         set_kept(env, keys, K_MW_REQUEST_HANDLER, r->handler) < 0) ||
        set_kept(env, keys, K_MW_ENABLE_SENDFILE,
                 wsl_config_flag(dconf->enable_sendfile, 0) ? "1" : "0") < 0
        ||
        set_kept(env, keys, K_MW_IGNORE_ACTIVITY,
                 wsl_config_flag(dconf->ignore_activity, 0) ? "1" : "0") < 0
        ||
        set_kept(env, keys, K_MW_LISTENER_HOST,
                 c->local_addr->hostname) < 0 ||
        set_kept(env, keys, K_MW_LISTENER_PORT,
                 format_decimal(port_buf, c->local_addr->port)) < 0 ||
        (!input && r->log_id &&
         set_str(env, k[K_MW_REQUEST_ID], r->log_id) < 0) ||
        (c->log_id && set_str(env, k[K_MW_CONNECTION_ID], c->log_id) < 0))
        goto fail;
    /* WSGIPassApacheRequest: the request_rec for C extensions (mod_wsgi's
     * unnamed capsule).  Only valid while the request runs. */
    if (wsl_config_flag(dconf->pass_apache_request, 0) &&
        wsl_dict_steal(env, k[K_APACHE_REQUEST_REC],
                   PyCapsule_New(r, NULL, NULL)) < 0)
        goto fail;
    if (apply_proxy_headers(env, r, dconf, k) < 0)
        goto fail;
    return env;

fail:
    Py_DECREF(env);
    return NULL;
}

int wsl_environ_add_handler_keys(PyObject *env, const wsl_request *req,
                                 const char *handler_script)
{
    wsl_environ_keys *keys = req->interp->keys;
    PyObject **k = keys->key;

    /* mod_wsgi gives these counts as int; small ones are cached by
     * Python, so they cost no allocation. */
    return (set_kept(env, keys, K_MW_HANDLER_SCRIPT, handler_script) < 0 ||
            set_number(env, k[K_MW_SCRIPT_START], req->app_start) < 0 ||
            PyDict_SetItem(env, k[K_MW_REQUEST_ID], req->request_id) < 0 ||
            wsl_dict_steal(env, k[K_MW_THREAD_ID],
                       PyLong_FromLong(wsl_metrics_thread_id(req->thread)))
            < 0 ||
            wsl_dict_steal(env, k[K_MW_THREAD_REQUESTS],
                       PyLong_FromLongLong(
                           wsl_metrics_thread_requests(req->thread))) < 0 ||
            wsl_dict_steal(env, k[K_MW_TOTAL_REQUESTS],
                       PyLong_FromUnsignedLongLong(
                           wsl_metrics_total_requests())) < 0) ? -1 : 0;
}
