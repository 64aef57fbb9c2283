/*
 * ring.c: the shared ring of daemon mode (see ring.h).
 *
 * The memfd holds one page of counters, the ring, and the request body
 * part.  In the ring, the daemon alone writes bytes and counts them
 * (put, in its own memory); the child alone counts what it has given
 * back (released, in the shared page).  So the room is the ring's size
 * less (put - released).  The daemon waits with `waiting` set, on the
 * futex of `released`; the child, having raised released, clears
 * waiting and wakes the daemon if it was set.  Both store before they
 * load (sequentially consistent), so one of them always sees the
 * other: no lost wake-up.  The body part needs no wait: the daemon
 * copies an answer out (and says so in body_done) before it asks for
 * the next.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memfd_create */
#endif
#include "ring.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The first page: the counters, each side's cache line apart. */
typedef struct {
    _Atomic uint32_t released;  /* the child's: bytes given back */
    char pad[60];
    _Atomic uint32_t waiting;   /* set by the daemon as it waits for
                                 * room, cleared by the child */
    char pad2[60];
    _Atomic uint32_t body_done; /* the daemon's: request body bytes
                                 * copied out */
} ring_shared;

#define RING_HEAD 4096u
#define RING_BYTES (RING_HEAD + WSL_RING_SIZE + WSL_RING_BODY_SIZE)
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
/* The daemon waits for at least this much room (or the rest of the
 * body): a frame per few bytes given back would cost more than the
 * socket. */
#define RING_LOW (64u * 1024)
/* A wait is cut in slices of this, to see the child going away. */
#define RING_SLICE_MS 100

struct wsl_ring {
    ring_shared *shared;
    char *data;
    uint32_t put;               /* daemon: bytes put */
    uint32_t taken;             /* child: bytes taken */
    uint32_t given;             /* child: bytes given back */
    uint32_t body;              /* child: body bytes sent; daemon: copied
                                 * out */
};

static wsl_ring *map_ring(int fd)
{
    wsl_ring *ring = calloc(1, sizeof(*ring));
    void *base;

    if (!ring)
        return NULL;
    base = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE,
                MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        free(ring);
        return NULL;
    }
    ring->shared = base;
    ring->data = (char *)base + RING_HEAD;
    return ring;
}

wsl_ring *wsl_ring_create(int *fd)
{
    wsl_ring *ring;
    int mfd = memfd_create("wsgi-lite-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (mfd < 0)
        return NULL;
    if (ftruncate(mfd, RING_BYTES) < 0 ||
        fcntl(mfd, F_ADD_SEALS, RING_SEALS) < 0 || !(ring = map_ring(mfd))) {
        int err = errno;

        close(mfd);
        errno = err;
        return NULL;
    }
    *fd = mfd;
    return ring;
}

const char *wsl_ring_take(wsl_ring *ring, uint32_t offset, uint32_t length)
{
    uint32_t at = ring->taken & (WSL_RING_SIZE - 1);

    /* Pieces come in order and never wrap (the daemon cuts them at the
     * ring's end), and the child never holds more than the ring. */
    if (offset != at || length > WSL_RING_SIZE - at ||
        ring->taken - ring->given + length > WSL_RING_SIZE)
        return NULL;
    ring->taken += length;
    return ring->data + offset;
}

static long futex(_Atomic uint32_t *word, int op, uint32_t value,
                  const struct timespec *timeout)
{
    /* Not FUTEX_PRIVATE_FLAG: the word is shared by two processes. */
    return syscall(SYS_futex, (uint32_t *)word, op, value, timeout, NULL, 0);
}

void wsl_ring_give_back(wsl_ring *ring)
{
    if (ring->given == ring->taken)
        return;
    ring->given = ring->taken;
    atomic_store(&ring->shared->released, ring->given);
    if (atomic_exchange(&ring->shared->waiting, 0))
        futex(&ring->shared->released, FUTEX_WAKE, 1, NULL);
}

char *wsl_ring_body_space(wsl_ring *ring, size_t length)
{
    if (length > WSL_RING_BODY_SIZE ||
        atomic_load(&ring->shared->body_done) != ring->body)
        return NULL;
    return ring->data + WSL_RING_SIZE;
}

void wsl_ring_body_sent(wsl_ring *ring, size_t length)
{
    ring->body += (uint32_t)length;
}

wsl_ring *wsl_ring_attach(int fd)
{
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    wsl_ring *ring;

    if (seals < 0 || fstat(fd, &st) < 0)
        return NULL;
    if ((seals & RING_SEALS) != RING_SEALS || st.st_size != RING_BYTES) {
        errno = EINVAL;
        return NULL;
    }
    if (!(ring = map_ring(fd)))
        return NULL;
    /* Where the child's counts stand (a new ring: 0). */
    ring->put = atomic_load(&ring->shared->released);
    ring->body = atomic_load(&ring->shared->body_done);
    return ring;
}

/* Free bytes, or more than the ring when the child's count is
 * impossible (then the caller fails). */
static uint32_t free_bytes(const wsl_ring *ring, uint32_t released)
{
    uint32_t held = ring->put - released;

    return held > WSL_RING_SIZE ? WSL_RING_SIZE + 1 : WSL_RING_SIZE - held;
}

/* Whether the room is enough for the next piece of `left` (RING_LOW,
 * or all of left if less): 1, 0, or -1 when the child's count is
 * impossible. */
static int enough(uint32_t room, size_t left)
{
    if (room > WSL_RING_SIZE)
        return -1;
    return room >= (left < RING_LOW ? left : RING_LOW);
}

size_t wsl_ring_room(wsl_ring *ring, size_t left, char **dst,
                     uint32_t *offset)
{
    uint32_t room = free_bytes(ring,
                               atomic_load(&ring->shared->released));
    uint32_t at = ring->put & (WSL_RING_SIZE - 1);
    size_t n = left;

    if (enough(room, left) <= 0)
        return 0;
    if (n > room)
        n = room;
    if (n > WSL_RING_PIECE)
        n = WSL_RING_PIECE;
    if (n > WSL_RING_SIZE - at)
        n = WSL_RING_SIZE - at;
    *dst = ring->data + at;
    *offset = at;
    return n;
}

void wsl_ring_put(wsl_ring *ring, size_t length)
{
    ring->put += (uint32_t)length;
}

/* The child's end of the connection closed, or it sent what it never
 * sends unasked. */
static int peer_gone(int sock)
{
    struct pollfd pfd = { sock, POLLIN, 0 };

    return poll(&pfd, 1, 0) != 0;
}

int wsl_ring_wait(wsl_ring *ring, size_t left, int sock, int64_t timeout_us)
{
    uint32_t seen = atomic_load(&ring->shared->released);
    apr_time_t start = wsl_clock_now();

    for (;;) {
        struct timespec slice = { 0, RING_SLICE_MS * 1000000L };
        uint32_t released = atomic_load(&ring->shared->released);
        int ok = enough(free_bytes(ring, released), left);

        if (ok)
            return ok > 0 ? 0 : -1;
        /* The timeout is for a child that gives nothing back. */
        if (released != seen) {
            seen = released;
            start = wsl_clock_now();
        }
        atomic_store(&ring->shared->waiting, 1);
        /* Given back between the two loads: no sleep, look again. */
        if (atomic_load(&ring->shared->released) != released)
            continue;
        if (futex(&ring->shared->released, FUTEX_WAIT, released, &slice) < 0
            && errno == ETIMEDOUT &&
            (peer_gone(sock) ||
             (timeout_us > 0 && wsl_clock_now() - start >= timeout_us)))
            return -1;
    }
}

const char *wsl_ring_body(wsl_ring *ring, size_t length)
{
    return length > WSL_RING_BODY_SIZE ? NULL : ring->data + WSL_RING_SIZE;
}

void wsl_ring_body_done(wsl_ring *ring, size_t length)
{
    ring->body += (uint32_t)length;
    atomic_store(&ring->shared->body_done, ring->body);
}

void wsl_ring_free(wsl_ring *ring)
{
    if (!ring)
        return;
    munmap(ring->shared, RING_BYTES);
    free(ring);
}
