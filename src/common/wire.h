/*
 * wire.h: the frames an Apache child and a daemon process exchange over
 * their UNIX socket (daemon mode), and the codec of the one structured
 * frame each side sends: the request (a snapshot plus its route) and the
 * response head.  Plain C, no Apache, no Python, so the decoders can be
 * fuzzed alone; every decoder is bounded by the length it is given and
 * trusts nothing but bytes.
 *
 * A frame is an 8-byte header (payload length, type, flags) and the
 * payload.  One connection carries one request at a time, and is kept
 * for the next:
 *
 *   child -> daemon   REQUEST, then BODY frames, each the answer to a READ
 *   daemon -> child   READ (the application wants body bytes), HEAD, DATA,
 *                     SHARED (body bytes in the connection's ring, see
 *                     ring.h), FILE (a descriptor passed with SCM_RIGHTS),
 *                     then exactly one END
 *
 * A new connection's first REQUEST carries the child's ring (a memfd,
 * SCM_RIGHTS) when the child could make one.
 *
 * The body is pulled: the child reads the client only when the
 * application does (so 100-continue goes out on the first read), and the
 * daemon writes the response as it is produced, so both directions
 * stream at once and nothing is buffered whole.  END says how the
 * response ended: complete, cut short (the client must see it
 * truncated), or not begun (the child answers with the status given), or
 * "send the request again" (the script changed and this process is
 * restarting).  A connection that closes before END is a daemon that
 * died: 502 before the head, truncated after.
 */
#ifndef WSL_WIRE_H
#define WSL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "snapshot.h"

/* The layout of the frames, in every header.  Native byte order and
 * layout: both ends are builds of one source, but not always the same
 * build.  A graceful restart keeps the daemon socket, so for a moment
 * after the module is upgraded the old generation's children send to
 * the new daemons: each end refuses a frame of another version, by name,
 * rather than misread it.  Raised whenever a frame changes; 0 was the
 * first layout (END without the pid), 1 had no SHARED frame. */
#define WSL_WIRE_VERSION 2

typedef struct {
    uint32_t length;            /* payload bytes after this header */
    uint8_t type;               /* wsl_frame_type */
    uint8_t flags;
    uint16_t version;           /* WSL_WIRE_VERSION */
} wsl_frame;

typedef enum {
    WSL_FRAME_REQUEST = 1,      /* child: wsl_wire_request */
    WSL_FRAME_BODY,             /* child: request body bytes, answering
                                 * one READ; flags EOS, ERROR (then the
                                 * payload is the read's apr_status_t,
                                 * 4 bytes), IN_RING */
    WSL_FRAME_READ,             /* daemon: uint32 want; flags FILL */
    WSL_FRAME_HEAD,             /* daemon: wsl_wire_head */
    WSL_FRAME_DATA,             /* daemon: body bytes; flags FLUSH */
    WSL_FRAME_FILE,             /* daemon: int64 offset, int64 length; the
                                 * descriptor rides on its first byte */
    WSL_FRAME_END,              /* daemon: wsl_wire_end; flags below */
    WSL_FRAME_SHARED            /* daemon: uint32 offset, uint32 length
                                 * of body bytes in the ring; flags
                                 * FLUSH */
} wsl_frame_type;

#define WSL_FRAME_EOS      0x01 /* BODY: the request body ended */
#define WSL_FRAME_ERROR    0x02 /* BODY: reading the client failed */
#define WSL_FRAME_IN_RING  0x04 /* BODY: the payload is a uint32, how many
                                 * bytes are in the ring's body part */
#define WSL_FRAME_FILL     0x01 /* READ: want bytes or the end */
#define WSL_FRAME_RING     0x02 /* READ: the daemon has the ring: the
                                 * BODY may be IN_RING */
#define WSL_FRAME_FLUSH    0x01 /* DATA, SHARED: pass it on to the client
                                 * now */
#define WSL_END_TRUNCATED  0x01 /* END: the response was cut short */
#define WSL_END_RESEND     0x02 /* END: not run; send it again */

/* END's payload.  pid: the daemon process that sent it.  The child keeps
 * it with the connection, to know which process's threads a kept
 * connection leads to (SO_PEERCRED cannot say: the listening socket is
 * the Apache parent's, so it names the parent). */
typedef struct {
    int32_t status;
    int32_t pid;
} wsl_wire_end;

/* The largest payloads either side accepts: a request (its headers are
 * bounded by Apache's LimitRequestFields and friends long before this),
 * a head (the daemon's header-buffer-size bounds it further) and a data
 * frame. */
#define WSL_WIRE_REQUEST_MAX (8u * 1024 * 1024)
#define WSL_WIRE_HEAD_MAX    (8u * 1024 * 1024)
#define WSL_WIRE_DATA_MAX    (64u * 1024 * 1024)

/* Everything the daemon needs to run a request: its route and
 * settings, and the snapshot the environ is built from. */
typedef struct {
    int32_t server_index;       /* r->server's place in the server list */
    int64_t request_time;       /* r->request_time */
    int64_t handed_on;          /* wsl_clock_now() as the child sent it:
                                 * the daemon's queue-timeout and
                                 * request-timeout count from it
                                 * (CLOCK_MONOTONIC is the machine's, one
                                 * clock for both processes; the wall
                                 * clock's mod_wsgi.queue_start is for
                                 * the application) */
    int64_t body_length;        /* Content-Length, or -1 */
    uint8_t head_only;          /* HEAD: no body goes out */
    uint8_t error_override;     /* WSGIErrorOverride */
    uint8_t script_reloading;   /* WSGIScriptReloading */
    wsl_bytes uri, method, client_ip, log_id;
    wsl_bytes script;           /* the file loaded as a module */
    wsl_bytes group;            /* application group; data NULL: GLOBAL */
    wsl_bytes callable;
    wsl_bytes handler_script;
    wsl_snapshot snapshot;
} wsl_wire_request;

/* The response head: start_response's status and headers. */
typedef struct {
    int32_t status;
    uint8_t close_connection;
    wsl_bytes status_line, content_type;    /* data NULL: none */
    uint32_t nheaders;
    wsl_bytes *names, *values;
    uint8_t *replace;
} wsl_wire_head;

/* A growable output buffer; the allocator is the caller's (a pool). */
typedef struct {
    char *data;
    size_t len, cap;
    void *(*alloc)(void *ctx, size_t size);
    void *ctx;
    int failed;                 /* an allocation failed: discard it */
} wsl_wire_buf;

void wsl_wire_put(wsl_wire_buf *b, const void *data, size_t len);
void wsl_wire_put_bytes(wsl_wire_buf *b, const char *data, size_t len);

/* Append a whole frame (header and payload) of the request or the head
 * to b; b->failed on an allocation failure. */
void wsl_wire_encode_request(wsl_wire_buf *b, const wsl_wire_request *req);
void wsl_wire_encode_head(wsl_wire_buf *b, const wsl_wire_head *head);

/* Decode a payload (without its frame header).  Strings point into
 * `payload` (each is sent with its NUL, which the decoder checks), so
 * nothing is copied; arrays come from alloc.  NULL on success, else what
 * was wrong. */
const char *wsl_wire_decode_request(const char *payload, size_t len,
                                    wsl_wire_request *req,
                                    void *(*alloc)(void *ctx, size_t size),
                                    void *ctx);
const char *wsl_wire_decode_head(const char *payload, size_t len,
                                 wsl_wire_head *head,
                                 void *(*alloc)(void *ctx, size_t size),
                                 void *ctx);

/* After a writev or sendmsg of *n iovecs wrote `done` bytes: step past
 * what went, so that *iov, *n is what is left (both sides' write loops). */
static inline void wsl_iov_advance(struct iovec **iov, int *n, size_t done)
{
    while (*n > 0 && done >= (*iov)->iov_len) {
        done -= (*iov)->iov_len;
        (*iov)++;
        (*n)--;
    }
    if (*n > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + done;
        (*iov)->iov_len -= done;
    }
}

/* A frame header, ready to send. */
static inline wsl_frame wsl_frame_make(wsl_frame_type type, uint8_t flags,
                                       size_t length)
{
    wsl_frame f;

    f.length = (uint32_t)length;
    f.type = (uint8_t)type;
    f.flags = flags;
    f.version = WSL_WIRE_VERSION;
    return f;
}

/* An END payload with this process's pid. */
static inline wsl_wire_end wsl_wire_end_of(int32_t status)
{
    wsl_wire_end end;

    end.status = status;
    end.pid = (int32_t)getpid();
    return end;
}

#endif /* WSL_WIRE_H */
