/*
 * validate.h: the checks that judge untrusted bytes, free of Apache and
 * Python so the fuzz targets in fuzz/ compile them alone.
 *
 * Response side (response.c): what a WSGI application may put on the wire
 * as a status line or header.  Request side (snapshot.c, translate.c): how
 * a client's header names become environ keys and how a URL is split at
 * a WSGIScriptAlias mount point.  Everything here is ASCII by definition
 * and independent of the C locale (Python may set LC_CTYPE from the
 * environment Apache was started with, and isalnum() would follow it).
 */
#ifndef WSL_VALIDATE_H
#define WSL_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* How many leading bytes of s[0..len) are RFC 9110 tchar (header names);
 * the name is valid when that is len and len > 0. */
size_t wsl_token_span(const unsigned char *s, size_t len);

/* How many leading bytes are allowed in a field value or reason phrase:
 * HTAB, SP, VCHAR, obs-text; never CR, LF, NUL or another control. */
size_t wsl_text_span(const unsigned char *s, size_t len);

#define WSL_STATUS_MALFORMED (-1)   /* not "ddd " */
#define WSL_STATUS_RANGE     (-2)   /* not 100..599 */
/* The code of a status line such as "200 OK" (PEP 3333: a Status-Code and
 * a Reason-Phrase separated by a single space), or one of the above. */
int wsl_status_code(const char *line);

/* A hop-by-hop header, which only the server may set (PEP 3333 "Other
 * HTTP Features")?  Case-insensitive. */
int wsl_is_hop_by_hop(const char *name);

/* The index of a header that a response may carry once (RFC 9110: not a
 * list; two different Location or Content-Length values are a smuggling
 * shape), below WSL_SINGLETON_COUNT; -1 for any other.  Case-insensitive. */
#define WSL_SINGLETON_COUNT 11
int wsl_singleton_header(const char *name);

/* A Content-Length value: decimal digits only, no sign or space, no
 * overflow.  0 and *length set, or -1. */
int wsl_content_length(const char *value, long long *length);

/*
 * The environ key for a request header name, "HTTP_" + the name upper
 * cased with '-' as '_', into buf (NUL-terminated).  Returns its length,
 * or 0 when the header must not reach the application: an empty name, a
 * name with anything but ASCII letters, digits and '-' (an
 * `X_Forwarded_For` would otherwise pose as `X-Forwarded-For`), a key
 * that does not fit in `size`, and `Proxy` (httpoxy: HTTP_PROXY is read
 * by HTTP libraries as their proxy setting).
 */
size_t wsl_header_key(const char *name, char *buf, size_t size);

/* FNV-1a, by which the request's snapshot finds names again
 * (snapshot.h's wsl_snapshot_hash). */
#define WSL_FNV1A_INIT 2166136261u
static inline uint32_t wsl_fnv1a_step(uint32_t h, unsigned char c)
{
    return (h ^ c) * 16777619u;
}

/* wsl_header_key, and the key's FNV-1a hash in *hash when it returns
 * more than 0: one pass over the name for both (snapshot.c). */
size_t wsl_header_key_hash(const char *name, char *buf, size_t size,
                           uint32_t *hash);

/*
 * mod_alias's matching rule: the alias matches when the URI starts with it
 * segment by segment, a run of '/' on either side counting as one, and the
 * match ends at a segment boundary.  Returns how many bytes of the URI
 * matched (more than the alias when the URI doubles slashes), 0 for none.
 */
size_t wsl_alias_match_length(const char *uri, const char *alias);

#endif
