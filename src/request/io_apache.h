/*
 * io_apache.h: the I/O seam over Apache (io_apache.c), for the handler.
 */
#ifndef WSL_IO_APACHE_H
#define WSL_IO_APACHE_H

#include "py/py.h"

/* ------------------------------------------------------------------ */
/* io_apache.c: the I/O over Apache, for the handler.                  */

/* Set call->io_ops and call->io for r (r->pool); 0. */
int wsl_io_apache_attach(wsl_call *call, request_rec *r);
/* Pass what finish left, without the GIL (handler.c, after Python). */
void wsl_io_apache_send_pending(wsl_call *call);

#endif /* WSL_IO_APACHE_H */
