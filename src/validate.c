/*
 * validate.c: pure checks on untrusted bytes (see validate.h).  No Apache,
 * no Python, no locale: fuzz/ links this file alone.
 */
#include "validate.h"

#include <string.h>
#include <strings.h>

static int ascii_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ascii_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 5.6.2 tchar. */
static int is_token_char(unsigned char c)
{
    return ascii_alpha(c) || ascii_digit(c) ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field values and reason phrases: HTAB, SP, VCHAR, obs-text. */
static int is_text_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

size_t wsl_token_span(const unsigned char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len && is_token_char(s[i]); i++)
        ;
    return i;
}

size_t wsl_text_span(const unsigned char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len && is_text_char(s[i]); i++)
        ;
    return i;
}

int wsl_status_code(const char *line)
{
    if (!ascii_digit(line[0]) || !ascii_digit(line[1]) ||
        !ascii_digit(line[2]) || line[3] != ' ')
        return WSL_STATUS_MALFORMED;
    if (line[0] < '1' || line[0] > '5')
        return WSL_STATUS_RANGE;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

int wsl_is_hop_by_hop(const char *name)
{
    static const char *const names[] = {
        "Connection", "Keep-Alive", "Proxy-Authenticate",
        "Proxy-Authorization", "TE", "Trailer", "Trailers",
        "Transfer-Encoding", "Upgrade", "Proxy-Connection", NULL
    };
    int i;

    for (i = 0; names[i]; i++) {
        if (!strcasecmp(name, names[i]))
            return 1;
    }
    return 0;
}

int wsl_singleton_header(const char *name)
{
    static const char *const names[WSL_SINGLETON_COUNT] = {
        "Content-Length", "Content-Type", "Location", "Content-Location",
        "Content-Range", "Content-Disposition", "ETag", "Last-Modified",
        "Expires", "Retry-After", "Age"
    };
    int i;

    for (i = 0; i < WSL_SINGLETON_COUNT; i++) {
        if (!strcasecmp(name, names[i]))
            return i;
    }
    return -1;
}

int wsl_content_length(const char *value, long long *length)
{
    const long long max = 0x7fffffffffffffffLL;
    long long n = 0;
    const char *c;

    if (!ascii_digit((unsigned char)*value))
        return -1;
    for (c = value; *c; c++) {
        if (!ascii_digit((unsigned char)*c) || n > (max - (*c - '0')) / 10)
            return -1;
        n = n * 10 + (*c - '0');
    }
    *length = n;
    return 0;
}

size_t wsl_header_key(const char *name, char *buf, size_t size)
{
    size_t n = 5;
    const unsigned char *c;

    if (size < 6)
        return 0;
    memcpy(buf, "HTTP_", 5);
    for (c = (const unsigned char *)name; *c; c++) {
        if (n + 1 >= size)
            return 0;
        if (ascii_alpha(*c))
            buf[n++] = (char)(*c & ~0x20);
        else if (ascii_digit(*c))
            buf[n++] = (char)*c;
        else if (*c == '-')
            buf[n++] = '_';
        else
            return 0;
    }
    buf[n] = '\0';
    if (n == 5 || !strcmp(buf + 5, "PROXY"))
        return 0;
    return n;
}

size_t wsl_alias_match_length(const char *uri, const char *alias)
{
    const char *a = alias, *u = uri;

    /* Config only makes aliases starting with '/', but a[-1] below must
     * never read before an empty one. */
    if (!*alias)
        return 0;
    while (*a) {
        if (*a == '/') {
            if (*u != '/')
                return 0;
            while (*a == '/')
                a++;
            while (*u == '/')
                u++;
        }
        else if (*u++ != *a++) {
            return 0;
        }
    }
    if (a[-1] != '/' && *u != '\0' && *u != '/')
        return 0;
    return (size_t)(u - uri);
}
