/*
 * snapshot.h: a request described once, as plain data (issue 15 item 3).
 *
 * The Apache side (request/snapshot.c) reads the request_rec and writes what the
 * WSGI environ will hold, every policy already applied on bytes: header
 * names mapped to HTTP_* (or dropped: validate.c's wsl_header_key, with
 * httpoxy), Authorization and Proxy-Authorization withheld, repeated
 * headers joined, SetEnv losing to the CGI variables and constants of the
 * same name, WSGIMapHEADToGET, WSGITrustedProxyHeaders.  The Python side
 * (py/environ.c) only turns it into a dict.  Daemon mode will send the same
 * snapshot to another process and build the same dict there.
 *
 * Plain data: C types only (no APR, no Apache, no Python here), no pointer
 * to anything but bytes, every length known, so that it can be written to
 * a socket as it is.  A serialiser would write, for each set value[i],
 * the pair (i, len) and the bytes; then nvars, nlate and, for each var,
 * (fixed, name len, value len) and the bytes of both; then the flags.  A
 * reader bounds every length (by LimitRequestFieldSize and friends, which
 * the sender obeyed), checks every index against WSL_SV_COUNT,
 * NUL-terminates each string, and recomputes each hash with
 * wsl_snapshot_hash, so nothing it trusts comes from the wire but bytes.
 *
 * In this process the bytes live in the request's pool (most are the
 * request's own strings, not copies) and last as long as the request.
 */
#ifndef WSL_SNAPSHOT_H
#define WSL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "validate.h"

/* A byte string; data is NUL-terminated as well, for C callers. */
typedef struct {
    const char *data;           /* NULL: not set */
    size_t len;
} wsl_bytes;

/*
 * The environ keys whose value the snapshot gives, by index.  An alias
 * (mod_wsgi.* beside mod_wsgi_lite.*, mod_wsgi.path_info) holds the same
 * bytes as its twin; environ.c gives both one str object.
 */
typedef enum {
    WSL_SV_REQUEST_METHOD, WSL_SV_SCRIPT_NAME, WSL_SV_PATH_INFO,
    WSL_SV_QUERY_STRING, WSL_SV_REQUEST_URI, WSL_SV_SERVER_NAME,
    WSL_SV_SERVER_PORT, WSL_SV_SERVER_PROTOCOL, WSL_SV_SERVER_ADDR,
    WSL_SV_SERVER_ADMIN, WSL_SV_SERVER_SIGNATURE, WSL_SV_REMOTE_ADDR,
    WSL_SV_REMOTE_PORT, WSL_SV_REMOTE_HOST, WSL_SV_REMOTE_USER,
    WSL_SV_AUTH_TYPE, WSL_SV_DOCUMENT_ROOT, WSL_SV_REQUEST_SCHEME,
    WSL_SV_CONTEXT_PREFIX, WSL_SV_CONTEXT_DOCUMENT_ROOT,
    WSL_SV_SCRIPT_FILENAME, WSL_SV_WSGI_URL_SCHEME,
    WSL_SV_APPLICATION_GROUP, WSL_SV_SCRIPT_RELOADING,
    WSL_SV_REQUEST_START, WSL_SV_CALLABLE_OBJECT,
    WSL_SV_MW_APPLICATION_GROUP, WSL_SV_MW_SCRIPT_RELOADING,
    WSL_SV_MW_REQUEST_START, WSL_SV_MW_CALLABLE_OBJECT,
    WSL_SV_MW_REQUEST_HANDLER, WSL_SV_MW_HANDLER_SCRIPT,
    WSL_SV_MW_ENABLE_SENDFILE, WSL_SV_MW_IGNORE_ACTIVITY,
    WSL_SV_MW_LISTENER_HOST, WSL_SV_MW_LISTENER_PORT,
    WSL_SV_MW_REQUEST_ID, WSL_SV_MW_CONNECTION_ID,
    WSL_SV_MW_SCRIPT_NAME, WSL_SV_MW_PATH_INFO,
    WSL_SV_COUNT
} wsl_snapshot_value;

/* Their names, as the environ spells them. */
extern const char *const wsl_snapshot_names[WSL_SV_COUNT];

/*
 * The keys whose value is the same for every request of a process:
 * environ.c starts each environ as a copy of them, and a SetEnv of one of
 * these names never reaches the environ.  environ.c checks at start-up
 * that its copy holds exactly these.
 */
typedef enum {
    WSL_SC_GATEWAY_INTERFACE, WSL_SC_SERVER_SOFTWARE, WSL_SC_WSGI_VERSION,
    WSL_SC_WSGI_MULTITHREAD, WSL_SC_WSGI_MULTIPROCESS, WSL_SC_WSGI_RUN_ONCE,
    WSL_SC_WSGI_FILE_WRAPPER, WSL_SC_PROCESS_GROUP, WSL_SC_MW_PROCESS_GROUP,
    WSL_SC_VERSION, WSL_SC_MW_VERSION, WSL_SC_APACHE_VERSION,
    WSL_SC_INTERPRETER,         /* the interpreter's place in its pool */
    WSL_SC_COUNT
} wsl_snapshot_constant;

extern const char *const wsl_snapshot_constant_names[WSL_SC_COUNT];

/* One variable named by the request: a SetEnv (mod_env, mod_rewrite's E=,
 * mod_ssl, mod_unique_id ...) or a request header as its environ key. */
typedef struct {
    wsl_bytes name;             /* "HTTP_USER_AGENT", "CONTENT_TYPE",
                                 * "UNIQUE_ID" */
    wsl_bytes value;
    uint32_t hash;              /* wsl_snapshot_hash of the name */
    int fixed;                  /* the wsl_snapshot_value this SetEnv is
                                 * named like (its value is then that
                                 * one's), else -1 */
} wsl_snapshot_var;

typedef struct wsl_snapshot {
    /* The CGI variables and the module's own keys, by index. */
    wsl_bytes value[WSL_SV_COUNT];
    /* The SetEnv variables, then the request headers, in the order the
     * environ gets them; no two have the same name.  The last nlate (0
     * or 1: the HTTP_HOST of a trusted X-Forwarded-Host on a request that
     * had no Host) go after the values, where the environ has always had
     * them. */
    wsl_snapshot_var *vars;
    int nvars, nlate;
    int pass_apache_request;    /* WSGIPassApacheRequest */
    char digits[4][24];         /* room for the numbers' text */
} wsl_snapshot;

/*
 * name = value among snap's variables: the value replaced if the name is
 * there, else a variable added before the late ones, which stay last.
 * The strings are kept, not copied; the array comes from alloc.  0, or
 * -1 when alloc failed (snap unchanged).
 */
int wsl_snapshot_set_var(wsl_snapshot *snap, const char *name,
                         const char *value,
                         void *(*alloc)(void *ctx, size_t size), void *ctx);

/* The hash by which both sides find a name: FNV-1a, as validate.c's
 * wsl_header_key_hash gives it for a header's key. */
static inline uint32_t wsl_snapshot_hash(const char *s, size_t len)
{
    uint32_t h = WSL_FNV1A_INIT;
    size_t i;

    for (i = 0; i < len; i++)
        h = wsl_fnv1a_step(h, (unsigned char)s[i]);
    return h;
}

/* Decimal text of `value`, at the end of buf (24 bytes), NUL-terminated:
 * digits written by hand, at a twentieth of snprintf's cost. */
static inline const char *wsl_decimal(char buf[24], int64_t value)
{
    char *p = buf + 23;
    uint64_t u = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;

    *p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0)
        *--p = '-';
    return p;
}

#endif /* WSL_SNAPSHOT_H */
