/*
 * restrict.h: the Python-level restrictions each interpreter gets at set-up
 * (restrict.c), for interp.c.  Kept out of py.h so that only interp.c
 * and restrict.c see it.
 */
#ifndef WSL_RESTRICT_H
#define WSL_RESTRICT_H

#include "py.h"

/* Install the guards in the current interpreter (GIL held): signal.signal
 * as a logged no-op when restrict_signal.  0, or -1 with a Python error
 * set.  os.fork and os.forkpty always (see restrict.c). */
int wsl_restrict_install(server_rec *s, int restrict_signal);

#endif /* WSL_RESTRICT_H */
