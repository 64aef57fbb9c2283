/*
 * hooks.h: the Apache hooks of src/hooks/, as mod_wsgi_lite.c registers
 * them.  Free of Python.
 */
#ifndef WSL_HOOKS_H
#define WSL_HOOKS_H

#include "config/config.h"
#include "mod_auth.h"

/* handler.c: the content handler. */
int wsl_handler(request_rec *r);
/* auth.c: the `wsgi` authn provider (WSGIAuthUserScript), the
 * `wsgi-group` authz provider (WSGIAuthGroupScript) and the
 * WSGIAccessScript access check. */
extern const authn_provider wsl_authn_provider;
extern const authz_provider wsl_authz_provider;
int wsl_check_access(request_rec *r);

#endif /* WSL_HOOKS_H */
