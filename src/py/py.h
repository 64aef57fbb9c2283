/*
 * py.h: the Python layer (src/py/): interpreters, the GIL, scripts, the
 * environ, the WSGI call (start_response, the body, wsgi.input, the
 * guard of request-scoped objects) and the mod_wsgi module, as the layers
 * above it use them: request/ (the Apache side of one request) and hooks/
 * (the handler, auth and dispatch).  It includes <Python.h> first, as
 * CPython requires, then config/config.h.  What crosses files inside
 * src/py/ only is in gil.h, pymodule.h and restrict.h.
 *
 * A request flows through the layers in one direction:
 *
 *   config/ (directives; route.c: what runs, where; translate.c: URL
 *   mapping) -> request/snapshot.c (the request as plain data, before the
 *   GIL) -> py/interp.c -> py/script.c -> py/environ.c (snapshot -> dict)
 *   -> hooks/handler.c -> py/response.c (start_response) -> py/output.c
 *   (body, file wrapper); py/input.c (wsgi.input) and py/log.c
 *   (wsgi.errors, tracebacks) on the side.  response.c, output.c and
 *   input.c reach Apache only through the I/O seam (wsl_io_ops below),
 *   which request/io_apache.c implements.  py/pymodule.c (import
 *   mod_wsgi, import apache), events.c (their event callbacks) and
 *   metrics.c (request ids and data, counters) beside the handler.
 *   py/gil.c, under them all, holds each thread's Python thread states and
 *   is the only code that takes or drops the GIL.  common/ (validate.c:
 *   checks on untrusted bytes; snapshot.h) depends on nothing.
 *
 * Before the handler, hooks/auth.c (authn/authz providers, access check)
 * and hooks/dispatch.c run their scripts through hooks/hookscript.c,
 * which uses the same route, snapshot, interpreters and environ.
 *
 * Calls go one way: no file calls a function of a file that calls it
 * back (scripts/check-calls.py, run by make test, says so).
 */
#ifndef WSL_PY_H
#define WSL_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "config/config.h"
#include "common/clock.h"
#include "common/snapshot.h"



#define WSL_VERSION_STRING "0.1.0"
#define WSL_VERSION_TUPLE 0, 1, 0
/* The mod_wsgi API provided, as mod_wsgi.version and the environ's
 * mod_wsgi.version give it: applications compare it before using a
 * feature of mod_wsgi 4.x. */
#define WSL_MOD_WSGI_VERSION_TUPLE 4, 9, 4
/* The Makefile passes the embedded interpreter's path unquoted (libtool
 * strips quotes); this makes it a string. */
#define WSL_STRINGIFY_(x) #x
#define WSL_STRINGIFY(x) WSL_STRINGIFY_(x)
#define WSL_PYTHON_PROGRAM WSL_STRINGIFY(WSL_PYTHON_EXECUTABLE)

/* dict[key] = value, `value` stolen; NULL means the call that made it
 * failed, with its exception set.  Lets a dict be filled from calls that
 * return new references (environ.c, events.c). */
static inline int wsl_dict_steal(PyObject *dict, PyObject *key,
                                      PyObject *value)
{
    int rc;

    if (!value)
        return -1;
    rc = PyDict_SetItem(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* ------------------------------------------------------------------ */
/* process.c: an Apache child, or a daemon process of a group.         */

/* The group this process serves (daemon/ sets it before Python starts);
 * NULL in Apache's children. */
void wsl_process_set_daemon(const wsl_daemon_group *group);
const wsl_daemon_group *wsl_process_daemon(void);
/* mod_wsgi.process_group: the group's name, "" in embedded mode. */
const char *wsl_process_group_name(void);

/* ------------------------------------------------------------------ */
/* interp.c: Python life cycle, application groups.                    */

typedef struct wsl_interp wsl_interp;

/* The guard of a request's Python objects (guard.c). */
typedef struct wsl_guard wsl_guard;

/* A worker thread's counters (metrics.c). */
typedef struct wsl_thread_info wsl_thread_info;

/* One WSGI call: the state a request's application call keeps (below). */
typedef struct wsl_call wsl_call;

/* Keys of the environ dict, interned once per interpreter (environ.c). */
typedef struct wsl_environ_keys wsl_environ_keys;

/* The interpreter's mod_wsgi_lite module and what is looked up in it
 * (pymodule.c). */
typedef struct wsl_pymodule wsl_pymodule;

/* The module's Python types, below. */
typedef struct wsl_types wsl_types;

struct wsl_interp {
    const char *name;              /* application group name */
    int index;                     /* slot in each thread's tstate table */
    int member, members;           /* which of its group's pool, of how
                                    * many (WSGIInterpreterCount) */
    int own_gil;                   /* a GIL of its own (3.12+): entered
                                    * and left only by attaching and
                                    * detaching, never by a swap */
    struct wsl_turns *turns;       /* with its own GIL, the queue of
                                    * turns in front of it (turns.c);
                                    * NULL otherwise */
    apr_hash_t *refused;           /* extension modules its own GIL
                                    * refused, said once each (log.c) */
    apr_time_t gil_seen;           /* its GIL last taken by a daemon's
                                    * deadlock watch (atomic; gil.c;
                                    * wsl_clock_now()'s) */
    int serving;                   /* set up and in use (atomic): the
                                    * watch leaves one in set-up alone,
                                    * which a failure ends at once */
    apr_pool_t *pool;              /* this group's C memory; GIL held */
    PyInterpreterState *istate;
    wsl_environ_keys *keys;        /* environ.c owns the contents */
    wsl_pymodule *pymodule;        /* pymodule.c owns the contents */
    wsl_types *types;              /* the module's types: its state,
                                    * borrowed from pymodule->module */
    PyObject *scripts;             /* dict: script path -> (module, mtime) */
    PyObject *format_exception;    /* traceback.format_exception */
    apr_thread_mutex_t *load_lock; /* serialises script (re)loading */
    PyObject *stdout_buffer;       /* sys.stdout's and sys.stderr's */
    PyObject *stderr_buffer;       /* buffers (log.c), for child exit */
};

/*
 * The module's Python types.  Each interpreter has its own: heap types
 * made from the specs of the files that define them (log.c, input.c,
 * response.c, filewrapper.c) when the interpreter's mod_wsgi_lite is
 * executed, and held in that module's state (pymodule.c).  No type object
 * is shared between interpreters, as interpreters with a GIL of their own
 * require; their names (mod_wsgi_lite.Input...) are the same in all.
 * C code makes its objects with, and checks against, the type of the
 * interpreter at hand.
 */
typedef enum {
    WSL_TYPE_LOG,               /* wsgi.errors */
    WSL_TYPE_LOG_BUFFER,        /* the buffer of sys.stdout, stderr, stdin */
    WSL_TYPE_INPUT,             /* wsgi.input */
    WSL_TYPE_START_RESPONSE,    /* start_response */
    WSL_TYPE_FILE_WRAPPER,      /* wsgi.file_wrapper, mod_wsgi.FileWrapper */
    WSL_TYPE_COUNT
} wsl_type_id;

struct wsl_types {
    PyTypeObject *type[WSL_TYPE_COUNT];     /* strong references */
};

/* Inline, a look into the interpreter's module state: no call into
 * pymodule.c (which calls the files that make the objects), and no
 * lookup by name per request. */
static inline PyTypeObject *wsl_type(const wsl_interp *interp,
                                     wsl_type_id id)
{
    return interp->types->type[id];
}

/*
 * Private CPython calls (`_Py*`) only on the versions they are known to
 * be there, with a public fallback elsewhere: the versions this module is
 * built and tested against, 3.11 to 3.13; widen the range once a new
 * version's headers are checked.  -DWSL_PUBLIC_API_ONLY builds the
 * fallbacks everywhere (to test them).
 */
#if PY_VERSION_HEX < 0x030E0000 && !defined(WSL_PUBLIC_API_ONLY)
#define WSL_PRIVATE_API 1
#else
#define WSL_PRIVATE_API 0
#endif

/*
 * Enter the named application group's interpreter: creates it on first
 * use, then takes the GIL with this thread's own thread state for it.
 * Returns NULL (and logs) if Python is not available.  Every request path
 * pairs it with wsl_interp_leave().
 */
wsl_interp *wsl_interp_enter(request_rec *r, const char *group);
/* The same outside a request (WSGIImportScript), logging to s: member
 * k (0 .. wsl_interp_pool_size(group) - 1) of the group's pool rather
 * than the calling thread's. */
int wsl_interp_pool_size(const char *group);
wsl_interp *wsl_interp_enter_member(server_rec *s, const char *group,
                                    int k);
void wsl_interp_leave(void);

/*
 * gil.c: drop and retake the GIL around a blocking Apache call (output.c,
 * input.c, guard.c, script.c).  The rest of gil.c is for interp.c
 * (gil.h).
 */
PyThreadState *wsl_gil_release(void);
void wsl_gil_reacquire(PyThreadState *tstate);

/* ------------------------------------------------------------------ */
/* log.c: wsgi.errors, sys.stdout/stderr/stdin, tracebacks.           */

extern PyType_Spec wsl_py_log_spec;            /* WSL_TYPE_LOG */
extern PyType_Spec wsl_py_log_buffer_spec;     /* WSL_TYPE_LOG_BUFFER */

/* A file-like object of interp's that logs lines, for the request behind
 * `guard` (wsgi.errors), or for the server when guard is NULL. */
PyObject *wsl_log_new(wsl_interp *interp, wsl_guard *guard, server_rec *s,
                      int level);
/* Log a request-scoped object's partial line before its request ends. */
void wsl_log_flush(PyObject *log);

/*
 * Log the pending Python exception, with its traceback, as one error entry
 * for this request and clear it.  `what` says what was being done.
 */
void wsl_log_python_error(request_rec *r, wsl_interp *interp,
                          const char *what);
/* Same, server scope (start-up, preloading). */
void wsl_log_python_error_server(server_rec *s, wsl_interp *interp,
                                 const char *what);

/* Install sys.stdout / sys.stderr (and a restricted sys.stdin) in interp,
 * current, as io.TextIOWrapper objects over buffers that log to the
 * server's error log; interp keeps the buffers.  -1 with the error set. */
int wsl_log_std_install(wsl_interp *interp, server_rec *s,
                        int restrict_stdout, int restrict_stdin);
/* Log what is left of a line in interp's sys.stdout and sys.stderr (GIL
 * held; any interpreter may be current). */
void wsl_log_std_flush(wsl_interp *interp);
/* The same, then drop interp's references to the buffers, before the
 * interpreter ends (GIL held, interp current). */
void wsl_log_std_release(wsl_interp *interp);

/* ------------------------------------------------------------------ */
/* script.c: loading WSGI scripts as modules.                          */

/* The script's module (borrowed), loaded or reloaded as needed; NULL
 * with a Python exception set. */
PyObject *wsl_script_module(wsl_interp *interp, const char *path,
                            const apr_finfo_t *finfo, int reload,
                            int case_sensitive, apr_pool_t *pool);
/* New reference to the request's callable, or NULL with the error already
 * logged and *status set to the HTTP status to return.  reload:
 * WSGIScriptReloading for the request (a changed file is loaded again). */
PyObject *wsl_script_callable(request_rec *r, wsl_interp *interp,
                              const char *path, const apr_finfo_t *finfo,
                              const char *callable, int reload, int *status);
/* Has the script been loaded in interp, and changed on disk since (the
 * mtime in finfo)?  Daemon mode restarts the process then, as mod_wsgi
 * does, rather than reloading the module in place.  GIL held. */
int wsl_script_changed(wsl_interp *interp, const char *path,
                       const apr_finfo_t *finfo, int case_sensitive);

/* ------------------------------------------------------------------ */
/* pymodule.c: `import mod_wsgi` (the same module as mod_wsgi_lite) and  */
/* `import apache`, in every interpreter from its creation.             */

/* Create both modules in the current interpreter, with its own types
 * (interp->types), and put them in sys.modules; GIL held.  0, or -1 with
 * an exception set. */
int wsl_pymodule_init(wsl_interp *interp);
/* Drop what wsl_pymodule_init made, before the interpreter ends (its
 * set-up failed, or the child exits); interp->types is NULL after. */
void wsl_pymodule_release(wsl_interp *interp);

/* ------------------------------------------------------------------ */
/* environ.c: a snapshot (snapshot.h, snapshot.c) -> the environ dict.    */

int wsl_environ_keys_init(wsl_interp *interp);
/* wsgi.multithread / wsgi.multiprocess, from the MPM (child start-up). */
void wsl_environ_set_process_model(int multithread, int multiprocess);
/* Build the environ dict of the request snap describes (new reference),
 * or NULL with exception.  input NULL: no request body (scripts run
 * before the handler) and no wsgi.input.  apache_request is what
 * WSGIPassApacheRequest's apache.request_rec capsule holds (the
 * request_rec, never touched here); NULL for none. */
PyObject *wsl_environ_build(const wsl_snapshot *snap, wsl_interp *interp,
                            PyObject *input, PyObject *errors,
                            void *apache_request);
/* The keys mod_wsgi sets only for the application itself: handler_script
 * ("" unless WSGIHandlerScript), script_start, request_id (the request's
 * own object), the thread and request counts.  0, or -1 with an
 * exception set. */
int wsl_environ_add_handler_keys(PyObject *env, const wsl_call *call,
                                 const wsl_snapshot *snap);

/* ------------------------------------------------------------------ */
/* guard.c: the guard of the request-scoped Python objects.          */

/*
 * wsgi.input, wsgi.errors, start_response and write() may be called from
 * any thread, at any time, even after their request ended.  Each call
 * enters the request's guard: calls are serialised across threads, the
 * end of the request waits for the call in progress, and calls after the
 * end fail.  Heap memory, reference counted with the GIL held by the
 * handler and each object, so it outlives the request.
 */

/* A guard for r (and the handler's call, NULL for hook scripts), with one
 * reference for the caller; NULL with MemoryError set. */
wsl_guard *wsl_guard_new(request_rec *r, wsl_call *call);
wsl_guard *wsl_guard_ref(wsl_guard *guard);
void wsl_guard_unref(wsl_guard *guard);
/* Start a call (GIL held; the GIL may be dropped while waiting for a call
 * of another thread): the request, or NULL with RuntimeError set when it
 * has ended or this thread is already inside a call on it.  `what` names
 * the caller in the error. */
request_rec *wsl_guard_enter(wsl_guard *guard, const char *what);
void wsl_guard_leave(wsl_guard *guard);
/* The handler's state, inside a call (NULL for hook scripts). */
wsl_call *wsl_guard_request(wsl_guard *guard);
/* Has the request ended?  GIL held. */
int wsl_guard_ended(const wsl_guard *guard);
/* The request is over: waits for the call in progress; every later call
 * fails.  GIL held. */
void wsl_guard_end(wsl_guard *guard);

/* ------------------------------------------------------------------ */
/* The I/O seam: what the WSGI call (response.c, output.c, input.c)     */
/* asks of the server, as a table of operations.  io_apache.c is the    */
/* implementation over the request_rec and Apache's filters; daemon     */
/* mode will add one over its socket.  The WSGI side never touches a    */
/* request_rec or a brigade.  Every operation runs inside the request's */
/* guard, GIL held (an operation that waits drops it itself).           */

/* An implementation's own per-request state. */
typedef struct wsl_io wsl_io;

/* One response header from start_response, validated, in call->pool. */
typedef struct {
    const char *name, *value;
    int replace;        /* a header a response carries once: replaces the
                         * server's own (Apache's Cache-Control, say) */
} wsl_header;

typedef struct {
    /* Status and headers from start_response, as the response will carry
     * them; called again by an exc_info restart before anything was
     * sent, and then replaces the first call's.  content_type NULL: none
     * given; close_connection: the application asked for
     * Connection: close. */
    void (*set_response)(wsl_call *call, int status,
                         const char *status_line, const wsl_header *headers,
                         int nheaders, const char *content_type,
                         int close_connection);
    /* Body bytes: copied (owner NULL), or pointed into, owner kept alive
     * (a reference) until they are sent.  -1 with MemoryError set. */
    int (*append)(wsl_call *call, const char *data, apr_size_t len,
                  PyObject *owner);
    /* Bytes [offset, offset + length) of the descriptor fd, which the I/O
     * takes over (closed when the request ends, also for length 0 and on
     * failure).  -1 if it cannot send the file: iterate it instead. */
    int (*append_file)(wsl_call *call, int fd, apr_off_t offset,
                       apr_off_t length);
    /* Send what was appended, and flush; sets call->headers_sent, and
     * call->aborted when the client has gone. */
    void (*send)(wsl_call *call, int flush);
    /* The body is complete: end the response (perhaps left for the
     * handler to send once it has left Python). */
    void (*finish)(wsl_call *call);
    /* End the response so the client sees it truncated, never complete,
     * and close the connection. */
    void (*truncate)(wsl_call *call);
    /* Drop what was appended and not yet sent. */
    void (*discard)(wsl_call *call);
    /* Up to `want` bytes of the request body into dst (with `fill`, until
     * `want` or the end): *got, *eos; APR_SUCCESS or the read's error.
     * Adds the wait to call->input_time when call->timed. */
    apr_status_t (*read)(wsl_call *call, char *dst, apr_size_t want,
                         int fill, apr_size_t *got, int *eos);
    /* An error-log entry about the request. */
    void (*log)(wsl_call *call, int level, apr_status_t rv,
                const char *message);
    /* Send now what finish() left for later (before request_finished,
     * which comes after the last byte). */
    void (*send_pending)(wsl_call *call);
    /* The call is over: drop every Python reference the I/O holds. */
    void (*release)(wsl_call *call);
} wsl_io_ops;

/* ------------------------------------------------------------------ */
/* The state of one WSGI call, used by response, output, input.  Every  */
/* field is touched only inside the guard (or by the handler once the   */
/* guard has ended).                                                    */

struct wsl_call {
    /* The request, as the call knows it. */
    apr_pool_t *pool;           /* the request's memory */
    server_rec *server;         /* whose error log (events) */
    const char *uri;            /* names the request in messages */
    int head_only;              /* HEAD: no body goes out */
    apr_off_t body_length;      /* the request body's Content-Length, or
                                 * -1 (chunked, or none) */
    wsl_interp *interp;
    wsl_guard *guard;
    const wsl_io_ops *io_ops;   /* the server side of the I/O */
    wsl_io *io;                 /* ... and its state */

    /* The response, as start_response and the body made it. */
    apr_off_t content_length;   /* from the app's header, -1 if none */
    apr_off_t bytes_sent;       /* body bytes accepted so far */
    apr_size_t pending;         /* of those, appended since the last send */
    int borrowed;               /* of those appends, held by reference */
    int status_set;             /* start_response has been called */
    int body_done;              /* the body has ended (or failed): no
                                 * more write() */
    int overflow_logged;        /* Content-Length overrun reported once */
    int error_override;         /* WSGIErrorOverride for this request */
    int discard_body;           /* error status under WSGIErrorOverride */
    /* Reported by the I/O. */
    int headers_sent;           /* a body byte has gone to the server */
    int aborted;                /* the client went away */
    apr_status_t input_error;   /* first failure reading the body */

    /* What the mod_wsgi module and its events see of the request
     * (metrics.c, events.c); set by the handler before the guard. */
    request_rec *r;             /* Apache's side only: the handler,
                                 * io_apache.c, metrics.c, events.c */
    wsl_thread_info *thread;    /* this worker thread's record */
    PyObject *request_id;       /* r->log_id, as mod_wsgi.request_id */
    PyObject *request_data;     /* mod_wsgi.request_data() */
    PyObject *outer_request_data; /* the thread's before this request: a
                                 * sub-request's handler (mod_include)
                                 * runs inside another's; borrowed, the
                                 * outer request holds it */
    apr_time_t app_start;       /* the application is called (0: never),
                                 * a time of day: mod_wsgi.script_start */
    apr_time_t app_clock;       /* the same on wsl_clock_now(), for the
                                 * application's time */
    int timed;                  /* events were subscribed at the start:
                                 * time the body's reads and writes */
    double cpu_user, cpu_system;/* the thread's CPU time then, or -1 */
    /* Counted by input.c, output.c and the I/O for request_finished. */
    apr_int64_t input_reads, input_bytes, output_writes;
    apr_interval_time_t input_time, output_time;

    /* Settings of the request, set by the caller before the call. */
    int script_reloading;       /* WSGIScriptReloading */
    void *apache_request;       /* WSGIPassApacheRequest's request_rec
                                 * (embedded mode only), else NULL */
};

/* ------------------------------------------------------------------ */
/* call.c: the WSGI call, for embedded and daemon mode alike.          */

/* Run the callable `callable` of `script` (stat'ed in finfo) for the
 * request snap describes, over call's I/O, GIL held, call's request
 * fields set.  OK when the response went out (complete, or truncated
 * once its head had gone), else the status to answer with (logged). */
int wsl_call_run(wsl_call *call, const char *script,
                 const apr_finfo_t *finfo, const char *callable,
                 const wsl_snapshot *snap);

/* ------------------------------------------------------------------ */
/* response.c: start_response and write().                             */

extern PyType_Spec wsl_py_start_response_spec; /* WSL_TYPE_START_RESPONSE */
PyObject *wsl_start_response_new(wsl_call *call);

/* ------------------------------------------------------------------ */
/* output.c: the body, through Apache's output filters.                */

/* filewrapper.c: the wsgi.file_wrapper type, and the file-like object a
 * wrapper holds (borrowed). */
extern PyType_Spec wsl_py_file_wrapper_spec;   /* WSL_TYPE_FILE_WRAPPER */
PyObject *wsl_file_wrapper_filelike(PyObject *wrapper);

/* write(): pass one body chunk (bytes) on and flush, inside the guard;
 * -1 with exception set on a Python-level error (including a write after
 * the body ended), 0 otherwise (a client abort sets call->aborted). */
int wsl_output_write(wsl_call *call, PyObject *bytes);
/* The whole response from the application's return value; enters the
 * guard around each step that is not the application's own code. */
int wsl_output_result(wsl_call *call, PyObject *result);

/* ------------------------------------------------------------------ */
/* input.c: wsgi.input.                                                */

extern PyType_Spec wsl_py_input_spec;          /* WSL_TYPE_INPUT */
PyObject *wsl_input_new(wsl_call *call);

/* ------------------------------------------------------------------ */
/* metrics.c: what mod_wsgi counts per thread and per process, and the  */
/* request's id and data.  GIL held; the process's counters also have a */
/* lock of their own, as interpreters with their own GIL run at once.   */

/* Child start-up: the start time process_metrics() reports. */
void wsl_metrics_child_init(apr_pool_t *pchild, server_rec *s);
/* The request starts: the thread's record, r->log_id (generated if no
 * one has yet), call->request_id and call->request_data, its entry in
 * mod_wsgi.active_requests.  0, or -1 with the error logged. */
int wsl_metrics_request_begin(wsl_call *call);
/* The application is about to be called (mod_wsgi's thread_requests
 * counts from here). */
void wsl_metrics_application_called(wsl_call *call);
/* The request is over (finish: wsl_clock_now()'s): counters,
 * active_requests, request_data(). */
void wsl_metrics_request_end(wsl_call *call, apr_time_t finish);
/* mod_wsgi.threads_per_process and maximum_processes: the daemon group's
 * threads= and processes=, or the MPM's in an Apache child. */
int wsl_process_threads(void);
int wsl_process_processes(void);
/* For the environ. */
int wsl_metrics_thread_id(const wsl_thread_info *thread);
apr_int64_t wsl_metrics_thread_requests(const wsl_thread_info *thread);
apr_uint64_t wsl_metrics_total_requests(void);
/* This thread's user and system CPU time in seconds; -1 if unknown. */
void wsl_metrics_thread_cpu(double *user, double *system);

/* ------------------------------------------------------------------ */
/* events.c: mod_wsgi.subscribe_events() callbacks.  Each publisher    */
/* returns at once, building nothing, when nobody subscribed.          */

/* Has anyone subscribed in this interpreter?  GIL held; no exception. */
int wsl_events_subscribed(wsl_interp *interp);
/* request_started, when wsl_events_subscribed said so; a callback may
 * replace *app (a new reference). */
void wsl_events_request_started(wsl_call *call, PyObject **app,
                                PyObject *environ);
/* start_response succeeded; from any thread, outside the guard (so a
 * callback's failure is logged for the server, naming the request). */
void wsl_events_response_started(wsl_interp *interp, server_rec *s,
                                 PyObject *request_id,
                                 PyObject *request_data, PyObject *status,
                                 PyObject *headers, PyObject *exc_info);
/* Log the pending exception of the application as the request's error
 * (wsl_log_python_error), then publish request_exception with it. */
void wsl_events_log_exception(wsl_call *call, const char *what);
/* request_finished, after the guard ended: finish is the time of day,
 * finish_clock the same on wsl_clock_now(). */
void wsl_events_request_finished(wsl_call *call, apr_time_t finish,
                                 apr_time_t finish_clock);
/* Child exit: process_stopping to event and shutdown callbacks. */
void wsl_events_process_stopping(wsl_interp *interp, server_rec *s);

#endif /* WSL_PY_H */
