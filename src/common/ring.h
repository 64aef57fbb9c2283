/*
 * ring.h: response bytes in memory shared by a daemon process and the
 * Apache child it answers (daemon mode), instead of copied through their
 * socket.
 *
 * Through the socket, a large response body is copied twice before it
 * reaches the client's socket: into the UNIX socket by the daemon and out
 * of it by the child, which also wakes for every socket buffer's worth.
 * With the ring, the daemon copies the application's bytes into the
 * shared memory and sends a SHARED frame (offset, length) on the socket;
 * the child passes those bytes down Apache's output filters as a
 * transient bucket (so any filter that keeps them copies them) and, once
 * they have been passed, gives the room back.  The daemon waits only
 * when the ring is full, on a futex in the ring, woken by the child.
 *
 * The child makes the ring (one per kept connection), as a memfd sealed
 * against shrinking and growing, and passes it with the connection's
 * first request: the daemon runs application code, perhaps as another
 * user, and a ring it could shrink would let it kill the child with
 * SIGBUS.  (It can still punch a hole: the child then reads zeros, a
 * page allocated anew, which only a machine with strict overcommit
 * accounting and no memory to spare could refuse.)  What the daemon
 * says of the ring (offsets, lengths) is checked by the child against
 * the ring's own order; its bytes are the response's, trusted no more
 * than a DATA frame's.
 *
 * Request bodies go the other way through a second part of the memfd:
 * the child copies its answer to a READ there instead of into the
 * socket, and the daemon copies it out before it asks for more, so the
 * part is free whenever the child answers (no wait on that side).
 *
 * Plain C (and clock.h's APR time), no Apache: both ends are in the
 * same module.  A ring is used
 * by one request at a time, as its connection is.
 */
#ifndef WSL_RING_H
#define WSL_RING_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the ring (a power of two: positions count bytes modulo 2^32,
 * and the ring must divide that). */
#define WSL_RING_SIZE (1u << 20)
/* The most one SHARED frame carries: the child passes each piece on by
 * itself (bounding what a slow client's filters copy when they set it
 * aside) and gives its room back sooner. */
#define WSL_RING_PIECE (256u * 1024)
/* Less goes inline in a DATA frame: a frame's syscalls cost more than
 * the copy. */
#define WSL_RING_MIN (16u * 1024)

/* Bytes of the request body part. */
#define WSL_RING_BODY_SIZE (1u << 20)

typedef struct wsl_ring wsl_ring;

/* The child's side. */

/* A new ring, mapped, and the descriptor to pass (the caller closes it
 * once sent).  NULL, with errno, when memfd or sealing is unavailable:
 * the connection then carries the bytes itself. */
wsl_ring *wsl_ring_create(int *fd);
/* The bytes of a SHARED frame, taken; NULL unless they are the ring's
 * next bytes and within it. */
const char *wsl_ring_take(wsl_ring *ring, uint32_t offset, uint32_t length);
/* Everything taken has been passed on: the daemon may use the room
 * again (and is woken if it waits for it). */
void wsl_ring_give_back(wsl_ring *ring);
/* Where to copy a request body answer of `length` bytes; NULL if it is
 * longer than the part, or the daemon has not copied out the last one
 * (a broken daemon: the answer then goes through the socket). */
char *wsl_ring_body_space(wsl_ring *ring, size_t length);
/* The answer is copied there. */
void wsl_ring_body_sent(wsl_ring *ring, size_t length);

/* The daemon's side. */

/* The ring the child passed, mapped; NULL if fd is not one (the wrong
 * size or seals).  The caller closes fd. */
wsl_ring *wsl_ring_attach(int fd);
/* Room for the next piece of a body with `left` bytes to go: its length
 * (at most WSL_RING_PIECE, and up to the ring's end), where to copy it,
 * and its offset for the frame; 0 while the child holds too much of the
 * ring (it will give back what the frames already sent take). */
size_t wsl_ring_room(wsl_ring *ring, size_t left, char **dst,
                     uint32_t *offset);
/* The piece room() gave is copied: it belongs to the child now. */
void wsl_ring_put(wsl_ring *ring, size_t length);
/* Wait until room() has room for the next piece of `left` (64 KiB, or
 * all of left if less), for up to timeout_us without the child giving
 * any back (0: forever); 0 when it has, -1 when the time passed or the
 * child went away (its connection, sock, shows an end or unexpected
 * bytes) or the ring's counters are impossible. */
int wsl_ring_wait(wsl_ring *ring, size_t left, int sock, int64_t timeout_us);
/* The request body answer of `length` bytes the child copied; NULL if
 * that is longer than the part. */
const char *wsl_ring_body(wsl_ring *ring, size_t length);
/* It has been copied out: the child may answer there again. */
void wsl_ring_body_done(wsl_ring *ring, size_t length);

/* Both sides: unmapped and freed (NULL is a no-op). */
void wsl_ring_free(wsl_ring *ring);

#endif /* WSL_RING_H */
