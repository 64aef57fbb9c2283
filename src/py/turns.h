/*
 * turns.h: a queue of turns in front of an own-GIL interpreter's GIL
 * (turns.c).  Only gil.c uses it, around the GIL it takes and drops.
 */
#ifndef WSL_TURNS_H
#define WSL_TURNS_H

#include "apr_time.h"

typedef struct wsl_turns wsl_turns;

/* A queue for one interpreter; NULL if memory ran out (the interpreter
 * then runs without one, as a shared-GIL one does). */
wsl_turns *wsl_turns_new(void);
void wsl_turns_free(wsl_turns *q);

/* The interpreter's switch interval, as set in it (0 keeps Python's 5
 * ms): the first waiter looks at the holders every half of it, and a
 * holder is long after ten of it, each within bounds (turns.c). */
void wsl_turns_set_interval(wsl_turns *q, apr_interval_time_t interval);

/* Take a turn (before the GIL), at the tail of the queue; give it back
 * (after the GIL). */
void wsl_turns_take(wsl_turns *q);
void wsl_turns_give(wsl_turns *q);
/* The queue whose turn this thread holds, or NULL. */
wsl_turns *wsl_turns_held(void);

#endif /* WSL_TURNS_H */
