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

/* What each byte of a header name is in its environ key: letters upper
 * cased, digits as they are, '-' as '_'; 0 refuses the name. */
static const unsigned char header_key_char[256] = {
    0, 0, 0, 0, 0, 0, 0, 0,                       /*   0 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /*   8 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /*  16 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /*  24 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /*  32 */
    0, 0, 0, 0, 0, '_', 0, 0,                     /*  40 */
    '0', '1', '2', '3', '4', '5', '6', '7',       /*  48 */
    '8', '9', 0, 0, 0, 0, 0, 0,                   /*  56 */
    0, 'A', 'B', 'C', 'D', 'E', 'F', 'G',         /*  64 */
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',       /*  72 */
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W',       /*  80 */
    'X', 'Y', 'Z', 0, 0, 0, 0, 0,                 /*  88 */
    0, 'A', 'B', 'C', 'D', 'E', 'F', 'G',         /*  96 */
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',       /* 104 */
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W',       /* 112 */
    'X', 'Y', 'Z', 0, 0, 0, 0, 0,                 /* 120 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 128 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 136 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 144 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 152 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 160 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 168 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 176 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 184 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 192 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 200 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 208 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 216 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 224 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 232 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 240 */
    0, 0, 0, 0, 0, 0, 0, 0,                       /* 248 */
};

size_t wsl_header_key_hash(const char *name, char *buf, size_t size,
                           uint32_t *hash)
{
    const unsigned char *c = (const unsigned char *)name;
    uint32_t h = WSL_FNV1A_INIT;
    unsigned char m;
    size_t n;

    if (size < 6)
        return 0;
    memcpy(buf, "HTTP_", 5);
    for (n = 0; n < 5; n++)
        h = wsl_fnv1a_step(h, (unsigned char)buf[n]);
    for (; *c; c++) {
        if (n + 1 >= size || !(m = header_key_char[*c]))
            return 0;
        buf[n++] = (char)m;
        h = wsl_fnv1a_step(h, m);
    }
    buf[n] = '\0';
    if (n == 5 || (n == 10 && !memcmp(buf + 5, "PROXY", 5)))
        return 0;
    *hash = h;
    return n;
}

size_t wsl_header_key(const char *name, char *buf, size_t size)
{
    uint32_t hash;

    return wsl_header_key_hash(name, buf, size, &hash);
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
