/*
 * environ.c: a request's snapshot (snapshot.h) -> the WSGI environ dict
 * (PEP 3333 "environ Variables"): keys interned once per interpreter,
 * values decoded as latin-1 native strings, and a value that is the same
 * as the last request's reused rather than decoded again.  What goes into
 * the environ was decided on the Apache side (snapshot.c); this file only
 * makes Python objects of it, in the part of the request that holds the
 * GIL, which is why it counts instructions.
 */
#include "py.h"

/* The environ's keys: the snapshot's names first, by their index, then
 * the constants', then the ones whose values are Python objects. */
enum {
    K_CONSTANT = WSL_SV_COUNT,          /* + wsl_snapshot_constant */
    K_WSGI_INPUT = K_CONSTANT + WSL_SC_COUNT,
    K_WSGI_ERRORS, K_WSGI_INPUT_TERMINATED, K_APACHE_REQUEST_REC,
    K_MW_SCRIPT_START, K_MW_THREAD_ID, K_MW_THREAD_REQUESTS,
    K_MW_TOTAL_REQUESTS,
    K_COUNT
};

static const char *const object_key_names[K_COUNT - K_WSGI_INPUT] = {
    "wsgi.input", "wsgi.errors", "wsgi.input_terminated",
    "apache.request_rec", "mod_wsgi.script_start", "mod_wsgi.thread_id",
    "mod_wsgi.thread_requests", "mod_wsgi.total_requests",
};

/* Sized for the 60-odd CGI, wsgi.*, mod_wsgi.* and mod_wsgi_lite.* keys
 * plus a browser's headers (room for 85 in all), so that filling an
 * environ does not resize it. */
#define WSL_ENVIRON_PRESIZE 64

/* Values longer than this are never kept for reuse. */
#define WSL_KEPT_VALUE_MAX 256

/* The names of the snapshot's variables (request headers as HTTP_*,
 * SetEnv names) seen, each with its interned key and its last value:
 * open addressing by the snapshot's hash, never more than half full, and
 * capped so that a client inventing names cannot grow it. */
#define WSL_NAME_SLOTS 512
#define WSL_NAME_MAX 256

/* The last value of a key, as a str and the text it holds (the str's
 * own latin-1 bytes, valid while it is kept). */
typedef struct {
    PyObject *obj;              /* NULL: none yet */
    const char *text;
    size_t len;
} kept_value;

typedef struct {
    uint32_t hash;
    uint32_t len;               /* 0: a free slot */
    const char *name;           /* in the interpreter's pool */
    PyObject *key;
    kept_value kept;
} name_entry;

struct wsl_environ_keys {
    PyObject *key[K_COUNT];
    kept_value kept[WSL_SV_COUNT];      /* for set_kept() */
    name_entry names[WSL_NAME_SLOTS];
    int nnames;
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

/* A dict with room for n keys.  CPython's _PyDict_NewPresized is private
 * API: used where WSL_PRIVATE_API says it exists as it was (3.11-3.13),
 * a plain dict otherwise (it grows as keys are set, at some cost). */
static PyObject *new_presized_dict(Py_ssize_t n)
{
#if WSL_PRIVATE_API
    return _PyDict_NewPresized(n);
#else
    (void)n;
    return PyDict_New();
#endif
}

/*
 * The environ's constant part.  CPython copies a dict like this one with
 * one memcpy of its table (PyDict_Copy's fast path for a compact dict),
 * where setting its dozen keys one by one cost some 3,000 instructions a
 * request.  Presized like a full environ, so that the copy has room for
 * the rest without a resize.  Set at child start-up, after the MPM is
 * known (wsgi.multithread) and before the first request.  Exactly the
 * snapshot's constant names: a SetEnv of one of them is dropped there.
 */
static int make_constants(wsl_interp *interp, wsl_environ_keys *keys)
{
    PyObject *value[WSL_SC_COUNT], *d = NULL, *empty, *software, *group,
        *member;
    const char *banner = ap_get_server_banner();
    int i, rc = -1;

    empty = PyUnicode_FromString("");
    software = PyUnicode_DecodeLatin1(banner, strlen(banner), NULL);
    value[WSL_SC_GATEWAY_INTERFACE] = PyUnicode_FromString("CGI/1.1");
    value[WSL_SC_SERVER_SOFTWARE] = software;
    value[WSL_SC_WSGI_VERSION] = keys->wsgi_version;
    value[WSL_SC_WSGI_MULTITHREAD] = process_multithread ? Py_True
                                                         : Py_False;
    value[WSL_SC_WSGI_MULTIPROCESS] = process_multiprocess ? Py_True
                                                           : Py_False;
    value[WSL_SC_WSGI_RUN_ONCE] = Py_False;
    value[WSL_SC_WSGI_FILE_WRAPPER] =
        (PyObject *)wsl_type(interp, WSL_TYPE_FILE_WRAPPER);
    /* "" in embedded mode */
    group = PyUnicode_DecodeLatin1(wsl_process_group_name(),
                                   strlen(wsl_process_group_name()), NULL);
    value[WSL_SC_PROCESS_GROUP] = group;
    value[WSL_SC_MW_PROCESS_GROUP] = group;
    value[WSL_SC_VERSION] = keys->wsl_version;
    value[WSL_SC_MW_VERSION] = keys->mod_wsgi_version;
    value[WSL_SC_APACHE_VERSION] = keys->apache_version;
    /* 0 .. WSGIInterpreterCount - 1: which copy of the application this
     * is (mod_wsgi.application_group names the group, the same in all). */
    member = PyLong_FromLong(interp->member);
    value[WSL_SC_INTERPRETER] = member;
    if (!empty || !software || !group || !member ||
        !value[WSL_SC_GATEWAY_INTERFACE] ||
        !(d = new_presized_dict(WSL_ENVIRON_PRESIZE)))
        goto done;
    for (i = 0; i < WSL_SC_COUNT; i++) {
        if (PyDict_SetItem(d, keys->key[K_CONSTANT + i], value[i]) < 0)
            goto done;
    }
    keys->constants = Py_NewRef(d);
    rc = 0;
done:
    Py_XDECREF(d);
    Py_XDECREF(value[WSL_SC_GATEWAY_INTERFACE]);
    Py_XDECREF(empty);
    Py_XDECREF(software);
    Py_XDECREF(group);
    Py_XDECREF(member);
    return rc;
}

int wsl_environ_keys_init(wsl_interp *interp)
{
    /* Pooled with the interpreter's other bookkeeping: it lives as long as
     * the child, and the pool gives it back at exit. */
    wsl_environ_keys *keys = apr_pcalloc(interp->pool, sizeof(*keys));
    ap_version_t apache;
    const char *name;
    int i;

    interp->keys = keys;
    keys->pool = interp->pool;
    for (i = 0; i < K_COUNT; i++) {
        name = i < K_CONSTANT ? wsl_snapshot_names[i]
             : i < K_WSGI_INPUT ? wsl_snapshot_constant_names[i - K_CONSTANT]
             : object_key_names[i - K_WSGI_INPUT];
        if (!(keys->key[i] = PyUnicode_InternFromString(name)))
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

/* A native string (PEP 3333: latin-1 decoded bytes); new reference. */
static PyObject *native(const wsl_bytes *b)
{
    return PyUnicode_DecodeLatin1(b->data ? b->data : "",
                                  (Py_ssize_t)b->len, NULL);
}

/* kept_str()'s miss: a new str, kept unless it is long. */
static PyObject *kept_str_new(kept_value *kept, const wsl_bytes *b)
{
    PyObject *obj = native(b);

    if (obj && b->len < WSL_KEPT_VALUE_MAX) {
        /* A str decoded from latin-1 is of the 1-byte kind: its data
         * are the bytes it was made of. */
        Py_XSETREF(kept->obj, Py_NewRef(obj));
        kept->text = (const char *)PyUnicode_1BYTE_DATA(obj);
        kept->len = b->len;
    }
    return obj;
}

/*
 * New reference to a native string of `b`: the str of the last request,
 * when it holds the same text, else a new one, kept in its place.  Saves
 * an allocation and a decode per key inside the GIL, the part of a
 * request that threads wait on each other for; a value that changes
 * costs a comparison that mostly ends at the length.  Runs with the GIL
 * of the interpreter that owns `kept`, so no lock.
 */
static inline PyObject *kept_str(kept_value *kept, const wsl_bytes *b)
{
    if (kept->obj && kept->len == b->len &&
        !memcmp(kept->text, b->data, b->len))
        return Py_NewRef(kept->obj);
    return kept_str_new(kept, b);
}

/*
 * A snapshot value as a native string under its key and, when `alias` >= 0
 * holds the same bytes, the same object under that key too.  With `kept`,
 * for a key whose value is mostly the same from one request to the next
 * (server name, document root, script file...), the str is kept_str()'s.
 * An alias whose bytes are not its twin's (mod_wsgi.script_name once a
 * proxy rewrote SCRIPT_NAME) gets its own.
 */
static int set_value(PyObject *env, wsl_environ_keys *keys,
                     const wsl_snapshot *snap, int i, int alias, int kept)
{
    PyObject *obj = kept ? kept_str(&keys->kept[i], &snap->value[i])
                         : native(&snap->value[i]);
    int rc;

    if (!obj)
        return -1;
    rc = PyDict_SetItem(env, keys->key[i], obj);
    if (rc == 0 && alias >= 0)
        rc = snap->value[alias].data == snap->value[i].data
             ? PyDict_SetItem(env, keys->key[alias], obj)
             : set_value(env, keys, snap, alias, -1, kept);
    Py_DECREF(obj);
    return rc;
}

static int set_str_as(PyObject *env, wsl_environ_keys *keys,
                      const wsl_snapshot *snap, int i, int alias)
{
    return set_value(env, keys, snap, i, alias, 0);
}

static int set_str(PyObject *env, wsl_environ_keys *keys,
                   const wsl_snapshot *snap, int i)
{
    return set_value(env, keys, snap, i, -1, 0);
}

static int set_kept_as(PyObject *env, wsl_environ_keys *keys,
                       const wsl_snapshot *snap, int i, int alias)
{
    return set_value(env, keys, snap, i, alias, 1);
}

static int set_kept(PyObject *env, wsl_environ_keys *keys,
                    const wsl_snapshot *snap, int i)
{
    return set_value(env, keys, snap, i, -1, 1);
}

/* The cache entry of a variable's name, made on first sight; NULL when
 * the cache is full (no exception) or on failure (exception set). */
static name_entry *name_lookup(wsl_environ_keys *keys,
                               const wsl_snapshot_var *v)
{
    unsigned i = v->hash & (WSL_NAME_SLOTS - 1);
    name_entry *e;
    char *copy;

    for (;; i = (i + 1) & (WSL_NAME_SLOTS - 1)) {
        e = &keys->names[i];
        if (!e->len)
            break;
        if (e->hash == v->hash && e->len == v->name.len &&
            !memcmp(e->name, v->name.data, v->name.len))
            return e;
    }
    if (keys->nnames >= WSL_NAME_MAX || !v->name.len ||
        v->name.len > UINT32_MAX)
        return NULL;
    if (!(e->key = native(&v->name)))
        return NULL;
    PyUnicode_InternInPlace(&e->key);
    copy = apr_palloc(keys->pool, v->name.len);
    memcpy(copy, v->name.data, v->name.len);
    e->name = copy;
    e->hash = v->hash;
    e->len = (uint32_t)v->name.len;
    e->kept.obj = NULL;
    keys->nnames++;
    return e;
}

/* The snapshot's variables from..to-1 (SetEnv, request headers), in its
 * order. */
static int add_vars(PyObject *env, wsl_environ_keys *keys,
                    const wsl_snapshot *snap, int from, int to)
{
    int i, rc;

    for (i = from; i < to; i++) {
        const wsl_snapshot_var *v = &snap->vars[i];
        PyObject *key, *value;
        name_entry *e;

        if (v->fixed >= 0) {
            /* A SetEnv named like one of our values, which snapshot.c
             * gave our value when the request has one; set again below. */
            rc = wsl_dict_steal(env, keys->key[v->fixed], native(&v->value));
        }
        else if ((e = name_lookup(keys, v))) {
            rc = wsl_dict_steal(env, e->key, kept_str(&e->kept, &v->value));
        }
        else if (PyErr_Occurred()) {
            return -1;
        }
        else {
            /* Past the cache's cap: made for this request alone. */
            if (!(key = native(&v->name)))
                return -1;
            value = native(&v->value);
            rc = wsl_dict_steal(env, key, value);
            Py_DECREF(key);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

PyObject *wsl_environ_build(const wsl_snapshot *snap, wsl_interp *interp,
                            PyObject *input, PyObject *errors,
                            void *apache_request)
{
    wsl_environ_keys *keys = interp->keys;
    PyObject **k = keys->key;
    const wsl_bytes *v = snap->value;
    PyObject *env = PyDict_Copy(keys->constants);

    if (!env)
        return NULL;
    /* The keys go in in the order the environ has always had them (the
     * dict's order is what an application printing it sees): SetEnv and
     * headers, the CGI variables, wsgi.*, the module's own, and a Host
     * that only a trusted proxy header gave. */
    if (add_vars(env, keys, snap, 0, snap->nvars - snap->nlate) < 0)
        goto fail;

    if (set_kept(env, keys, snap, WSL_SV_REQUEST_METHOD) < 0 ||
        set_kept_as(env, keys, snap, WSL_SV_SCRIPT_NAME,
                    WSL_SV_MW_SCRIPT_NAME) < 0 ||
        /* Kept too: a URL repeats often enough (a page's assets, an API
         * polled, a health check), and when it does not, the comparison
         * ends at the length. */
        set_kept_as(env, keys, snap, WSL_SV_MW_PATH_INFO,
                    WSL_SV_PATH_INFO) < 0 ||
        set_kept(env, keys, snap, WSL_SV_QUERY_STRING) < 0 ||
        set_kept(env, keys, snap, WSL_SV_REQUEST_URI) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SERVER_NAME) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SERVER_PORT) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SERVER_PROTOCOL) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SERVER_ADDR) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SERVER_ADMIN) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SERVER_SIGNATURE) < 0 ||
        set_kept(env, keys, snap, WSL_SV_REMOTE_ADDR) < 0 ||
        /* The same for every request of a keep-alive connection. */
        set_kept(env, keys, snap, WSL_SV_REMOTE_PORT) < 0 ||
        set_kept(env, keys, snap, WSL_SV_DOCUMENT_ROOT) < 0 ||
        set_kept(env, keys, snap, WSL_SV_REQUEST_SCHEME) < 0 ||
        set_kept(env, keys, snap, WSL_SV_CONTEXT_PREFIX) < 0 ||
        set_kept(env, keys, snap, WSL_SV_CONTEXT_DOCUMENT_ROOT) < 0 ||
        set_kept(env, keys, snap, WSL_SV_SCRIPT_FILENAME) < 0)
        goto fail;
    if ((v[WSL_SV_REMOTE_HOST].data &&
         set_str(env, keys, snap, WSL_SV_REMOTE_HOST) < 0) ||
        (v[WSL_SV_REMOTE_USER].data &&
         set_str(env, keys, snap, WSL_SV_REMOTE_USER) < 0) ||
        (v[WSL_SV_AUTH_TYPE].data &&
         set_str(env, keys, snap, WSL_SV_AUTH_TYPE) < 0))
        goto fail;

    if (set_kept(env, keys, snap, WSL_SV_WSGI_URL_SCHEME) < 0 ||
        PyDict_SetItem(env, k[K_WSGI_ERRORS], errors) < 0)
        goto fail;
    /* Scripts run before the handler (auth, access, dispatch) get no body:
     * it belongs to the application. */
    if (input && (PyDict_SetItem(env, k[K_WSGI_INPUT], input) < 0 ||
                  PyDict_SetItem(env, k[K_WSGI_INPUT_TERMINATED],
                                 Py_True) < 0))
        goto fail;

    /* mod_wsgi.* beside mod_wsgi_lite.*: one object for both names. */
    if (set_kept_as(env, keys, snap, WSL_SV_APPLICATION_GROUP,
                    WSL_SV_MW_APPLICATION_GROUP) < 0 ||
        set_kept_as(env, keys, snap, WSL_SV_SCRIPT_RELOADING,
                    WSL_SV_MW_SCRIPT_RELOADING) < 0 ||
        set_str_as(env, keys, snap, WSL_SV_MW_REQUEST_START,
                   WSL_SV_REQUEST_START) < 0 ||
        (v[WSL_SV_CALLABLE_OBJECT].data &&
         set_kept_as(env, keys, snap, WSL_SV_CALLABLE_OBJECT,
                     WSL_SV_MW_CALLABLE_OBJECT) < 0))
        goto fail;
    /* mod_wsgi's own.  The handler's request_id is the request's shared
     * object (wsl_environ_add_handler_keys); a hook script gets the id
     * only if something already made one. */
    if ((v[WSL_SV_MW_REQUEST_HANDLER].data &&
         set_kept(env, keys, snap, WSL_SV_MW_REQUEST_HANDLER) < 0) ||
        set_kept(env, keys, snap, WSL_SV_MW_ENABLE_SENDFILE) < 0 ||
        set_kept(env, keys, snap, WSL_SV_MW_IGNORE_ACTIVITY) < 0 ||
        set_kept(env, keys, snap, WSL_SV_MW_LISTENER_HOST) < 0 ||
        set_kept(env, keys, snap, WSL_SV_MW_LISTENER_PORT) < 0 ||
        (!input && v[WSL_SV_MW_REQUEST_ID].data &&
         set_str(env, keys, snap, WSL_SV_MW_REQUEST_ID) < 0) ||
        (v[WSL_SV_MW_CONNECTION_ID].data &&
         set_kept(env, keys, snap, WSL_SV_MW_CONNECTION_ID) < 0))
        goto fail;
    /* WSGIPassApacheRequest: the request_rec for C extensions (mod_wsgi's
     * unnamed capsule).  Only valid while the request runs. */
    if (snap->pass_apache_request && apache_request &&
        wsl_dict_steal(env, k[K_APACHE_REQUEST_REC],
                       PyCapsule_New(apache_request, NULL, NULL)) < 0)
        goto fail;
    if (snap->nlate &&
        add_vars(env, keys, snap, snap->nvars - snap->nlate, snap->nvars) < 0)
        goto fail;
    return env;

fail:
    Py_DECREF(env);
    return NULL;
}

int wsl_environ_add_handler_keys(PyObject *env, const wsl_call *call,
                                 const wsl_snapshot *snap)
{
    wsl_environ_keys *keys = call->interp->keys;
    PyObject **k = keys->key;
    char digits[24];

    /* mod_wsgi gives these counts as int; small ones are cached by
     * Python, so they cost no allocation. */
    return ((snap->value[WSL_SV_MW_HANDLER_SCRIPT].data &&
             set_kept(env, keys, snap, WSL_SV_MW_HANDLER_SCRIPT) < 0) ||
            wsl_dict_steal(env, k[K_MW_SCRIPT_START],
                           PyUnicode_FromString(
                               wsl_decimal(digits, call->app_start))) < 0 ||
            PyDict_SetItem(env, k[WSL_SV_MW_REQUEST_ID],
                           call->request_id) < 0 ||
            wsl_dict_steal(env, k[K_MW_THREAD_ID],
                       PyLong_FromLong(wsl_metrics_thread_id(call->thread)))
            < 0 ||
            wsl_dict_steal(env, k[K_MW_THREAD_REQUESTS],
                       PyLong_FromLongLong(
                           wsl_metrics_thread_requests(call->thread))) < 0 ||
            wsl_dict_steal(env, k[K_MW_TOTAL_REQUESTS],
                       PyLong_FromUnsignedLongLong(
                           wsl_metrics_total_requests())) < 0) ? -1 : 0;
}
