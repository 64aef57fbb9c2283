/*
 * fuzz_wire.c: the daemon-mode frame decoders (src/common/wire.c), which
 * read bytes from another process: a daemon reads an Apache child's
 * REQUEST, a child reads a daemon's HEAD (and a daemon runs application
 * code, perhaps as another user).
 *
 * Input: byte 0 picks the decoder (even: request, odd: head), the rest is
 * the payload.  Invariants: the decoder never reads outside the payload
 * (ASan), and what it accepts is consistent: every string it returns lies
 * inside the payload and ends with the NUL the format promises, every
 * index is in range, and encoding what was decoded and decoding that
 * again gives the same values.
 */
#include "common/wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, \
            __FILE__, __LINE__); abort(); } } while (0)

/* Every allocation of one input, freed together. */
static void *blocks[4096];
static int nblocks;

static void *fuzz_alloc(void *ctx, size_t size)
{
    void *p;

    (void)ctx;
    if (nblocks == (int)(sizeof(blocks) / sizeof(blocks[0])))
        return NULL;
    p = malloc(size ? size : 1);
    if (p)
        blocks[nblocks++] = p;
    return p;
}

static void free_all(void)
{
    while (nblocks > 0)
        free(blocks[--nblocks]);
}

static void check_bytes(const wsl_bytes *b, const char *lo, const char *hi)
{
    if (!b->data)
        return;
    CHECK(b->data >= lo && b->data + b->len < hi);
    CHECK(b->data[b->len] == '\0');
}

static int same(const wsl_bytes *a, const wsl_bytes *b)
{
    if (!a->data || !b->data)
        return !a->data && !b->data;
    return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

static void fuzz_request(const char *p, size_t len)
{
    wsl_wire_request req, again;
    wsl_wire_buf buf = { NULL, 0, 0, fuzz_alloc, NULL, 0 };
    const char *end = p + len;
    int i;

    if (wsl_wire_decode_request(p, len, &req, fuzz_alloc, NULL))
        return;
    check_bytes(&req.uri, p, end);
    check_bytes(&req.script, p, end);
    check_bytes(&req.group, p, end);
    for (i = 0; i < WSL_SV_COUNT; i++)
        check_bytes(&req.snapshot.value[i], p, end);
    CHECK(req.snapshot.nvars >= 0 && req.snapshot.nlate >= 0 &&
          req.snapshot.nlate <= req.snapshot.nvars);
    for (i = 0; i < req.snapshot.nvars; i++) {
        const wsl_snapshot_var *v = &req.snapshot.vars[i];

        check_bytes(&v->name, p, end);
        check_bytes(&v->value, p, end);
        CHECK(v->fixed >= -1 && v->fixed < WSL_SV_COUNT);
        CHECK(v->hash == wsl_snapshot_hash(v->name.data, v->name.len));
    }
    /* What was accepted encodes to a frame that decodes the same. */
    wsl_wire_encode_request(&buf, &req);
    if (buf.failed)
        return;
    CHECK(buf.len >= sizeof(wsl_frame));
    CHECK(!wsl_wire_decode_request(buf.data + sizeof(wsl_frame),
                                   buf.len - sizeof(wsl_frame), &again,
                                   fuzz_alloc, NULL));
    CHECK(same(&req.uri, &again.uri) && same(&req.script, &again.script) &&
          same(&req.group, &again.group) &&
          req.body_length == again.body_length &&
          req.handed_on == again.handed_on &&
          req.snapshot.nvars == again.snapshot.nvars);
    for (i = 0; i < WSL_SV_COUNT; i++)
        CHECK(same(&req.snapshot.value[i], &again.snapshot.value[i]));
}

static void fuzz_head(const char *p, size_t len)
{
    wsl_wire_head head, again;
    wsl_wire_buf buf = { NULL, 0, 0, fuzz_alloc, NULL, 0 };
    uint32_t i;

    if (wsl_wire_decode_head(p, len, &head, fuzz_alloc, NULL))
        return;
    CHECK(head.status_line.data);
    check_bytes(&head.status_line, p, p + len);
    check_bytes(&head.content_type, p, p + len);
    for (i = 0; i < head.nheaders; i++) {
        check_bytes(&head.names[i], p, p + len);
        check_bytes(&head.values[i], p, p + len);
    }
    wsl_wire_encode_head(&buf, &head);
    if (buf.failed)
        return;
    CHECK(!wsl_wire_decode_head(buf.data + sizeof(wsl_frame),
                                buf.len - sizeof(wsl_frame), &again,
                                fuzz_alloc, NULL));
    CHECK(again.status == head.status && again.nheaders == head.nheaders);
    for (i = 0; i < head.nheaders; i++)
        CHECK(same(&head.names[i], &again.names[i]) &&
              same(&head.values[i], &again.values[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;

    if (size < 1)
        return 0;
    /* A copy of exactly the payload's size: ASan sees any read past it. */
    copy = malloc(size - 1 ? size - 1 : 1);
    memcpy(copy, data + 1, size - 1);
    if (data[0] & 1)
        fuzz_head(copy, size - 1);
    else
        fuzz_request(copy, size - 1);
    free(copy);
    free_all();
    return 0;
}
