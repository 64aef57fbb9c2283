/*
 * wire.c: the request and head frames of daemon mode (wire.h), written
 * and read.  A string is its length (uint32; all ones for "not set"),
 * its bytes and a NUL, so that a reader can point into the payload
 * without copying or writing it.  A reader checks every length against
 * what is left and every index against its table before using it.
 */
#include "wire.h"

#include <string.h>

#define WSL_WIRE_NONE 0xFFFFFFFFu

void wsl_wire_put(wsl_wire_buf *b, const void *data, size_t len)
{
    if (b->failed)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        char *data2;

        while (cap < b->len + len)
            cap *= 2;
        if (!(data2 = b->alloc(b->ctx, cap))) {
            b->failed = 1;
            return;
        }
        if (b->len)
            memcpy(data2, b->data, b->len);
        b->data = data2;        /* the old block is the pool's */
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void wsl_wire_put_bytes(wsl_wire_buf *b, const char *data, size_t len)
{
    uint32_t n = data ? (uint32_t)len : WSL_WIRE_NONE;

    wsl_wire_put(b, &n, sizeof(n));
    if (data) {
        wsl_wire_put(b, data, len);
        wsl_wire_put(b, "", 1);
    }
}

static void put_b(wsl_wire_buf *b, const wsl_bytes *s)
{
    wsl_wire_put_bytes(b, s->data, s->len);
}

/* The frame header goes first; its length is filled in at the end. */
static size_t begin_frame(wsl_wire_buf *b, wsl_frame_type type)
{
    wsl_frame f = wsl_frame_make(type, 0, 0);
    size_t at = b->len;

    wsl_wire_put(b, &f, sizeof(f));
    return at;
}

static void end_frame(wsl_wire_buf *b, size_t at)
{
    uint32_t len;

    if (b->failed)
        return;
    len = (uint32_t)(b->len - at - sizeof(wsl_frame));
    memcpy(b->data + at, &len, sizeof(len));
}

void wsl_wire_encode_request(wsl_wire_buf *b, const wsl_wire_request *req)
{
    const wsl_snapshot *snap = &req->snapshot;
    size_t at = begin_frame(b, WSL_FRAME_REQUEST);
    uint8_t flags[4];
    uint32_t nset = 0;
    int32_t n[2];
    uint16_t i;
    int v;

    wsl_wire_put(b, &req->server_index, sizeof(req->server_index));
    wsl_wire_put(b, &req->request_time, sizeof(req->request_time));
    wsl_wire_put(b, &req->handed_on, sizeof(req->handed_on));
    wsl_wire_put(b, &req->body_length, sizeof(req->body_length));
    flags[0] = req->head_only;
    flags[1] = req->error_override;
    flags[2] = req->script_reloading;
    flags[3] = (uint8_t)snap->pass_apache_request;
    wsl_wire_put(b, flags, sizeof(flags));
    put_b(b, &req->uri);
    put_b(b, &req->method);
    put_b(b, &req->client_ip);
    put_b(b, &req->log_id);
    put_b(b, &req->script);
    put_b(b, &req->group);
    put_b(b, &req->callable);
    put_b(b, &req->handler_script);

    for (i = 0; i < WSL_SV_COUNT; i++)
        nset += snap->value[i].data != NULL;
    wsl_wire_put(b, &nset, sizeof(nset));
    for (i = 0; i < WSL_SV_COUNT; i++) {
        if (!snap->value[i].data)
            continue;
        wsl_wire_put(b, &i, sizeof(i));
        put_b(b, &snap->value[i]);
    }
    n[0] = snap->nvars;
    n[1] = snap->nlate;
    wsl_wire_put(b, n, sizeof(n));
    for (v = 0; v < snap->nvars; v++) {
        int32_t fixed = snap->vars[v].fixed;

        wsl_wire_put(b, &fixed, sizeof(fixed));
        put_b(b, &snap->vars[v].name);
        put_b(b, &snap->vars[v].value);
    }
    end_frame(b, at);
}

void wsl_wire_encode_head(wsl_wire_buf *b, const wsl_wire_head *head)
{
    size_t at = begin_frame(b, WSL_FRAME_HEAD);
    uint32_t i;

    wsl_wire_put(b, &head->status, sizeof(head->status));
    wsl_wire_put(b, &head->close_connection, 1);
    put_b(b, &head->status_line);
    put_b(b, &head->content_type);
    wsl_wire_put(b, &head->nheaders, sizeof(head->nheaders));
    for (i = 0; i < head->nheaders; i++) {
        wsl_wire_put(b, &head->replace[i], 1);
        put_b(b, &head->names[i]);
        put_b(b, &head->values[i]);
    }
    end_frame(b, at);
}

/* ------------------------------------------------------------------ */

typedef struct {
    const char *p, *end;
    const char *error;
} reader;

static int get(reader *rd, void *dst, size_t len)
{
    if (rd->error)
        return -1;
    if ((size_t)(rd->end - rd->p) < len) {
        rd->error = "frame ends early";
        return -1;
    }
    memcpy(dst, rd->p, len);
    rd->p += len;
    return 0;
}

static int get_b(reader *rd, wsl_bytes *s)
{
    uint32_t n;

    s->data = NULL;
    s->len = 0;
    if (get(rd, &n, sizeof(n)) < 0)
        return -1;
    if (n == WSL_WIRE_NONE)
        return 0;
    /* n bytes and the NUL, checked without n + 1 overflowing */
    if ((size_t)(rd->end - rd->p) <= n) {
        rd->error = "string longer than its frame";
        return -1;
    }
    if (rd->p[n] != '\0') {
        rd->error = "string not terminated";
        return -1;
    }
    s->data = rd->p;
    s->len = n;
    rd->p += n + 1;
    return 0;
}

const char *wsl_wire_decode_request(const char *payload, size_t len,
                                    wsl_wire_request *req,
                                    void *(*alloc)(void *ctx, size_t size),
                                    void *ctx)
{
    reader rd = { payload, payload + len, NULL };
    wsl_snapshot *snap = &req->snapshot;
    uint8_t flags[4];
    uint32_t nset, k;
    int32_t n[2];
    int v;

    memset(req, 0, sizeof(*req));
    get(&rd, &req->server_index, sizeof(req->server_index));
    get(&rd, &req->request_time, sizeof(req->request_time));
    get(&rd, &req->handed_on, sizeof(req->handed_on));
    get(&rd, &req->body_length, sizeof(req->body_length));
    get(&rd, flags, sizeof(flags));
    req->head_only = flags[0] != 0;
    req->error_override = flags[1] != 0;
    req->script_reloading = flags[2] != 0;
    snap->pass_apache_request = flags[3] != 0;
    get_b(&rd, &req->uri);
    get_b(&rd, &req->method);
    get_b(&rd, &req->client_ip);
    get_b(&rd, &req->log_id);
    get_b(&rd, &req->script);
    get_b(&rd, &req->group);
    get_b(&rd, &req->callable);
    get_b(&rd, &req->handler_script);
    if (rd.error)
        return rd.error;
    if (!req->uri.data || !req->method.data || !req->script.data ||
        !req->callable.data)
        return "request without a URI, method, script or callable";

    if (get(&rd, &nset, sizeof(nset)) < 0)
        return rd.error;
    if (nset > WSL_SV_COUNT)
        return "more values than the snapshot has";
    for (k = 0; k < nset; k++) {
        uint16_t i;

        if (get(&rd, &i, sizeof(i)) < 0)
            return rd.error;
        if (i >= WSL_SV_COUNT)
            return "value index out of range";
        if (snap->value[i].data)
            return "value given twice";
        if (get_b(&rd, &snap->value[i]) < 0)
            return rd.error;
        if (!snap->value[i].data)
            return "value set to nothing";
    }
    if (get(&rd, n, sizeof(n)) < 0)
        return rd.error;
    /* Each variable takes at least 12 bytes: bounds the allocation. */
    if (n[0] < 0 || n[1] < 0 || n[1] > 1 || n[1] > n[0] ||
        (size_t)n[0] > (size_t)(rd.end - rd.p) / 12)
        return "bad variable count";
    snap->nvars = n[0];
    snap->nlate = n[1];
    snap->vars = NULL;
    if (snap->nvars &&
        !(snap->vars = alloc(ctx, (size_t)snap->nvars * sizeof(*snap->vars))))
        return "out of memory";
    for (v = 0; v < snap->nvars; v++) {
        wsl_snapshot_var *var = &snap->vars[v];
        int32_t fixed;

        if (get(&rd, &fixed, sizeof(fixed)) < 0 ||
            get_b(&rd, &var->name) < 0 || get_b(&rd, &var->value) < 0)
            return rd.error;
        if (fixed < -1 || fixed >= WSL_SV_COUNT)
            return "variable's index out of range";
        if (!var->name.data || !var->name.len || !var->value.data)
            return "variable without a name or value";
        var->fixed = fixed;
        var->hash = wsl_snapshot_hash(var->name.data, var->name.len);
    }
    if (rd.p != rd.end)
        return "bytes after the request";
    return NULL;
}

const char *wsl_wire_decode_head(const char *payload, size_t len,
                                 wsl_wire_head *head,
                                 void *(*alloc)(void *ctx, size_t size),
                                 void *ctx)
{
    reader rd = { payload, payload + len, NULL };
    uint32_t i;

    memset(head, 0, sizeof(*head));
    get(&rd, &head->status, sizeof(head->status));
    get(&rd, &head->close_connection, 1);
    get_b(&rd, &head->status_line);
    get_b(&rd, &head->content_type);
    if (get(&rd, &head->nheaders, sizeof(head->nheaders)) < 0)
        return rd.error;
    /* Each header takes at least 9 bytes. */
    if (head->nheaders > (size_t)(rd.end - rd.p) / 9)
        return "bad header count";
    if (head->nheaders &&
        (!(head->names = alloc(ctx, head->nheaders * sizeof(wsl_bytes))) ||
         !(head->values = alloc(ctx, head->nheaders * sizeof(wsl_bytes))) ||
         !(head->replace = alloc(ctx, head->nheaders))))
        return "out of memory";
    for (i = 0; i < head->nheaders; i++) {
        if (get(&rd, &head->replace[i], 1) < 0 ||
            get_b(&rd, &head->names[i]) < 0 ||
            get_b(&rd, &head->values[i]) < 0)
            return rd.error;
        if (!head->names[i].data || !head->values[i].data)
            return "header without a name or value";
    }
    if (!head->status_line.data)
        return "head without a status line";
    if (rd.p != rd.end)
        return "bytes after the head";
    return NULL;
}
