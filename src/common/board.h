/*
 * board.h: the daemon status board.  One entry per process slot of every
 * WSGIDaemonProcess, in memory shared by the Apache parent, its children
 * and the daemons: the parent makes it for each configuration generation
 * before it forks anyone, so everyone inherits the same mapping.
 *
 * Each slot has writers that never write the same field at once: each
 * of its processes (its pid, state, counters and why it stops, in its
 * half), and the parent (the slot's history: how many of its processes
 * ended and why the last one did; and a half emptied once its process
 * has ended).  Readers (mod_status in an Apache child, the Python
 * layer's server_metrics() there and in a daemon, process_metrics() in
 * a daemon) take no lock: each figure is one atomic, each text is read
 * under a sequence count, and a copy may mix figures a moment apart.
 * Times are wsl_clock_now()'s (common/clock.h: CLOCK_MONOTONIC, which
 * every process of the machine shares), so that ages and orders do not
 * move with the wall clock; `started` alone is a time of day, to show.
 * Groups are known by their index (wsl_daemon_group's), processes by
 * their slot.  Plain C and APR: no Apache, no Python.
 */
#ifndef WSL_COMMON_BOARD_H
#define WSL_COMMON_BOARD_H

#include "apr_pools.h"
#include "apr_time.h"

#include <stdatomic.h>

typedef enum {
    WSL_BOARD_EMPTY = 0,        /* no process */
    WSL_BOARD_STARTING,         /* forked: its back-off, user, Python,
                                 * WSGIImportScript */
    WSL_BOARD_SERVING,
    WSL_BOARD_HANDING_OVER,     /* recycling: serving until its
                                 * replacement serves */
    WSL_BOARD_EVICTING,         /* SIGUSR1 with eviction-timeout: serving
                                 * until no request runs */
    WSL_BOARD_DRAINING,         /* takes no request; those running finish */
    WSL_BOARD_STOPPING          /* its requests done: Python finalised */
} wsl_board_state;

/* Whether a process in this state takes new requests. */
static inline int wsl_board_takes_requests(int state)
{
    return state == WSL_BOARD_SERVING || state == WSL_BOARD_HANDING_OVER ||
           state == WSL_BOARD_EVICTING;
}

#define WSL_BOARD_TEXT 160

typedef struct {
    _Atomic unsigned seq;       /* odd while it is written */
    _Atomic char text[WSL_BOARD_TEXT];
} wsl_board_text;

/* One process, written by it (the parent empties it when it ends). */
typedef struct {
    _Atomic int pid;
    _Atomic int state;                  /* wsl_board_state */
    _Atomic apr_int64_t started;        /* apr_time_now() it began */
    _Atomic apr_int64_t began;          /* wsl_clock_now() it began */
    _Atomic apr_int64_t served;         /* requests it finished */
    _Atomic int active;                 /* requests its threads run */
    _Atomic int queued;                 /* requests waiting for a thread */
    _Atomic int fresh;                  /* connections accepted whose
                                         * first request is not seen */
    _Atomic apr_int64_t oldest_queued;  /* when the longest waiting one
                                         * was queued (wsl_clock_now());
                                         * 0: none */
    _Atomic int wants_replacement;      /* it asked the parent to start
                                         * its replacement */
    wsl_board_text why;                 /* why it stops; "" until then */
} wsl_board_proc;

/* A process slot of a group (processes=N has N): its process, and while
 * one hands over to its replacement, both (each in a half of its own;
 * they alternate). */
typedef struct {
    wsl_board_proc half[2];
    /* By the parent. */
    _Atomic apr_int64_t recycles;       /* processes that ended and were
                                         * replaced, for any reason */
    wsl_board_text last;                /* why the last one ended */
} wsl_board_slot;

/* A reader's copy of a process and its slot's history. */
typedef struct {
    int pid;
    wsl_board_state state;
    apr_time_t started, began, oldest_queued;
    apr_int64_t served, recycles;
    int active, queued, wants_replacement;
    char why[WSL_BOARD_TEXT], last[WSL_BOARD_TEXT];
} wsl_board_view;

/* post_config, in the parent, for this generation's groups: processes[i]
 * is group i's processes=.  APR_SUCCESS, or why there is no board
 * (daemon mode then runs without one: nothing is shown, and a recycle
 * cannot start its replacement first). */
apr_status_t wsl_board_create(apr_pool_t *pconf, const int *processes,
                              int ngroups);

/* The parent, once it has made group i's socket: its inode, for
 * wsl_socket_backlog(); 0 until then. */
void wsl_board_set_socket(int group, unsigned long inode);
unsigned long wsl_board_socket(int group);

/* A group's process slot (0 .. processes-1); NULL when there is no
 * board or no such slot. */
wsl_board_slot *wsl_board_slot_of(int group, int slot);

/* The half a reader shows as the slot's process: the one that began
 * last of those not empty, or -1 for none.  The other, when not empty,
 * is one handing over to it. */
int wsl_board_current(wsl_board_slot *slot);

/* In a process that only reads it (an Apache child): no writes from
 * now, a fault if one is tried. */
void wsl_board_read_only(void);

void wsl_board_set_text(wsl_board_text *t, const char *text);
void wsl_board_read(wsl_board_slot *slot, int half, wsl_board_view *view);
const char *wsl_board_state_name(wsl_board_state state);

/* backlog.c: the connections waiting to be accepted on the listening
 * UNIX socket of that inode; -1 where it cannot tell. */
int wsl_socket_backlog(unsigned long inode);

#endif /* WSL_COMMON_BOARD_H */
