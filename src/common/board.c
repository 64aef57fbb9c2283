/*
 * board.c: the daemon status board (board.h): its shared memory, and the
 * texts that go in it.
 */
#include "board.h"

#include "apr_shm.h"
#include "apr_strings.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* This generation's board, set in the parent before any fork: Apache's
 * children and the daemons have the same values (a child of an older
 * generation keeps its own, and that generation's mapping). */
static struct {
    wsl_board_slot *slots;
    int *first;                 /* group index -> its slot 0 */
    int *processes;             /* group index -> its slots */
    unsigned long *sockets;     /* group index -> its socket's inode */
    int ngroups;
    apr_size_t size;            /* of the mapping */
} board;

static apr_status_t forget(void *unused)
{
    (void)unused;
    board.slots = NULL;
    board.first = NULL;
    board.processes = NULL;
    board.sockets = NULL;
    board.ngroups = 0;
    return APR_SUCCESS;
}

apr_status_t wsl_board_create(apr_pool_t *pconf, const int *processes,
                              int ngroups)
{
    apr_size_t n = (apr_size_t)(ngroups > 0 ? ngroups : 1);
    apr_shm_t *shm;
    apr_status_t rv;
    int i, total = 0;

    forget(NULL);
    board.first = apr_pcalloc(pconf, sizeof(int) * n);
    board.processes = apr_pmemdup(pconf, processes, sizeof(int) * n);
    for (i = 0; i < ngroups; i++) {
        board.first[i] = total;
        total += processes[i];
    }
    /* Anonymous: inherited through fork, gone with its last process.
     * Zeroed by the system (a new mapping), which is every slot empty. */
    rv = apr_shm_create(&shm, sizeof(wsl_board_slot) * (apr_size_t)
                              (total ? total : 1), NULL, pconf);
    if (rv != APR_SUCCESS)
        return rv;
    board.slots = apr_shm_baseaddr_get(shm);
    board.size = apr_shm_size_get(shm);
    board.sockets = apr_pcalloc(pconf, sizeof(unsigned long) * n);
    board.ngroups = ngroups;
    /* Before the shm's own cleanup (cleanups run last first): nothing
     * points into an unmapped board. */
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void wsl_board_read_only(void)
{
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start, end;

    if (!board.slots || page <= 0)
        return;
    /* The pages the slots are on: APR's anonymous mapping begins a few
     * bytes before them (its size, written once at creation). */
    start = (uintptr_t)board.slots & ~((uintptr_t)page - 1);
    end = ((uintptr_t)board.slots + board.size + (uintptr_t)page - 1) &
          ~((uintptr_t)page - 1);
    mprotect((void *)start, end - start, PROT_READ);
}

/* Set before any fork, like board itself: plain memory. */
void wsl_board_set_socket(int group, unsigned long inode)
{
    if (board.sockets && group >= 0 && group < board.ngroups)
        board.sockets[group] = inode;
}

unsigned long wsl_board_socket(int group)
{
    return board.sockets && group >= 0 && group < board.ngroups
           ? board.sockets[group] : 0;
}

wsl_board_slot *wsl_board_slot_of(int group, int slot)
{
    if (!board.slots || group < 0 || group >= board.ngroups ||
        slot < 0 || slot >= board.processes[group])
        return NULL;
    return &board.slots[board.first[group] + slot];
}

int wsl_board_current(wsl_board_slot *s)
{
    int h, best = -1;
    apr_int64_t best_began = 0;

    for (h = 0; h < 2; h++) {
        apr_int64_t began;

        if (!atomic_load_explicit(&s->half[h].pid, memory_order_relaxed))
            continue;
        began = atomic_load_explicit(&s->half[h].began, memory_order_relaxed);
        if (best < 0 || began > best_began) {
            best = h;
            best_began = began;
        }
    }
    return best;
}

/* One writer per text (board.h), so the count needs no exchange. */
void wsl_board_set_text(wsl_board_text *t, const char *text)
{
    unsigned seq = atomic_load_explicit(&t->seq, memory_order_relaxed);
    size_t i;

    atomic_store_explicit(&t->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (i = 0; i < WSL_BOARD_TEXT - 1 && text && text[i]; i++)
        atomic_store_explicit(&t->text[i], text[i], memory_order_relaxed);
    atomic_store_explicit(&t->text[i], '\0', memory_order_relaxed);
    atomic_store_explicit(&t->seq, seq + 2, memory_order_release);
}

/* A few tries, then whatever was read: a text is rewritten once per
 * process life at most, so a reader that keeps losing is unheard of. */
static void read_text(wsl_board_text *t, char *out)
{
    unsigned before, after;
    int tries = 0;
    size_t i;

    do {
        before = atomic_load_explicit(&t->seq, memory_order_acquire);
        for (i = 0; i < WSL_BOARD_TEXT; i++)
            out[i] = atomic_load_explicit(&t->text[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        after = atomic_load_explicit(&t->seq, memory_order_relaxed);
    } while ((before != after || (before & 1)) && ++tries < 100);
    out[WSL_BOARD_TEXT - 1] = '\0';
}

void wsl_board_read(wsl_board_slot *s, int half, wsl_board_view *v)
{
    wsl_board_proc *e = &s->half[half & 1];

    v->pid = atomic_load_explicit(&e->pid, memory_order_relaxed);
    v->state = (wsl_board_state)atomic_load_explicit(&e->state,
                                                     memory_order_relaxed);
    v->started = atomic_load_explicit(&e->started, memory_order_relaxed);
    v->began = atomic_load_explicit(&e->began, memory_order_relaxed);
    v->served = atomic_load_explicit(&e->served, memory_order_relaxed);
    v->active = atomic_load_explicit(&e->active, memory_order_relaxed);
    v->queued = atomic_load_explicit(&e->queued, memory_order_relaxed);
    v->oldest_queued = atomic_load_explicit(&e->oldest_queued,
                                            memory_order_relaxed);
    v->wants_replacement = atomic_load_explicit(&e->wants_replacement,
                                                memory_order_relaxed);
    v->recycles = atomic_load_explicit(&s->recycles, memory_order_relaxed);
    read_text(&e->why, v->why);
    read_text(&s->last, v->last);
}

const char *wsl_board_state_name(wsl_board_state state)
{
    switch (state) {
    case WSL_BOARD_STARTING:
        return "starting";
    case WSL_BOARD_SERVING:
        return "serving";
    case WSL_BOARD_HANDING_OVER:
        return "handing over";
    case WSL_BOARD_EVICTING:
        return "evicting";
    case WSL_BOARD_DRAINING:
        return "draining";
    case WSL_BOARD_STOPPING:
        return "stopping";
    case WSL_BOARD_EMPTY:
        break;
    }
    return "none";
}
