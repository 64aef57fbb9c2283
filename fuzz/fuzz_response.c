/*
 * fuzz_response.c: what a WSGI application may send as a status line and
 * a response header (src/common/validate.c, used by src/py/response.c).
 *
 * Input: byte 0 is the length of the header name (mod the rest), then the
 * name, then the value; the value doubles as the status line and the
 * Content-Length text.  Each check is compared with a plain reading of
 * the rule it implements; the invariant that matters is that nothing
 * accepted can split a response: no CR, LF, NUL or other control in an
 * accepted value or status, nothing but tchar in an accepted name.
 */
#include "common/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, \
            __FILE__, __LINE__); abort(); } } while (0)

/* RFC 9110 5.6.2, spelled out. */
static int ref_tchar(unsigned char c)
{
    static const char tchar[] =
        "!#$%&'*+-.^_`|~0123456789"
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    return c != 0 && memchr(tchar, c, sizeof(tchar) - 1) != NULL;
}

/* RFC 9110 5.5: field-vchar / SP / HTAB, obs-text included. */
static int ref_text(unsigned char c)
{
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

static char *cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void check_name(const uint8_t *name, size_t len)
{
    size_t span = wsl_token_span(name, len), i;

    CHECK(span <= len);
    for (i = 0; i < span; i++) {
        CHECK(ref_tchar(name[i]));
        CHECK(name[i] != ':' && name[i] != ' ' && name[i] != '\r' &&
              name[i] != '\n' && name[i] != 0 && name[i] < 0x80);
    }
    if (span < len)
        CHECK(!ref_tchar(name[span]));
}

static void check_value(const uint8_t *value, size_t len)
{
    size_t span = wsl_text_span(value, len), i;

    CHECK(span <= len);
    for (i = 0; i < span; i++) {
        CHECK(ref_text(value[i]));
        CHECK(value[i] != '\r' && value[i] != '\n' && value[i] != 0 &&
              value[i] != 0x7f);
    }
    if (span < len)
        CHECK(!ref_text(value[span]));
}

static void check_status(const char *line, size_t len)
{
    int code = wsl_status_code(line);
    int well_formed = len >= 4 && line[0] >= '0' && line[0] <= '9' &&
                      line[1] >= '0' && line[1] <= '9' &&
                      line[2] >= '0' && line[2] <= '9' && line[3] == ' ';

    if (!well_formed) {
        CHECK(code == WSL_STATUS_MALFORMED);
        return;
    }
    if (line[0] < '1' || line[0] > '5') {
        CHECK(code == WSL_STATUS_RANGE);
        return;
    }
    CHECK(code >= 100 && code <= 599);
    CHECK(code == atoi(line));
    /* What response.c sends: accepted only if the whole line is text. */
    if (wsl_text_span((const unsigned char *)line, len) == len)
        CHECK(!strpbrk(line, "\r\n"));
}

static void check_content_length(const char *value, size_t len)
{
    static const char max[] = "9223372036854775807";
    long long n = -1;
    int rc = wsl_content_length(value, &n);
    const char *digits = value;
    size_t i, ndigits;
    int all_digits = len > 0;
    char back[32];

    for (i = 0; i < len; i++)
        all_digits &= value[i] >= '0' && value[i] <= '9';
    if (!all_digits) {
        CHECK(rc < 0);
        return;
    }
    while (*digits == '0' && digits[1])
        digits++;
    ndigits = strlen(digits);
    if (ndigits > 19 || (ndigits == 19 && strcmp(digits, max) > 0)) {
        CHECK(rc < 0);
        return;
    }
    CHECK(rc == 0 && n >= 0);
    snprintf(back, sizeof(back), "%lld", n);
    CHECK(!strcmp(back, digits));
}

static void check_hop_by_hop(const char *name)
{
    static const char *const hop[] = {
        "connection", "keep-alive", "proxy-authenticate",
        "proxy-authorization", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade", "proxy-connection", NULL
    };
    char lower[64];
    size_t i, n = strlen(name);
    int expect = 0;

    if (n < sizeof(lower)) {
        for (i = 0; i <= n; i++)
            lower[i] = (name[i] >= 'A' && name[i] <= 'Z')
                       ? (char)(name[i] + 32) : name[i];
        for (i = 0; hop[i]; i++)
            expect |= !strcmp(lower, hop[i]);
    }
    CHECK(!!wsl_is_hop_by_hop(name) == expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t nlen;
    char *name, *value;

    if (size == 0)
        return 0;
    nlen = data[0] % size;
    data++;
    size--;
    /* Exact-size heap copies, so ASan catches a read one past the end. */
    check_name(data, nlen);
    check_value(data + nlen, size - nlen);

    name = cstr(data, nlen);
    value = cstr(data + nlen, size - nlen);
    check_hop_by_hop(name);
    /* Python strings may hold NUL; what C sees stops at the first. */
    check_status(value, strlen(value));
    check_content_length(value, strlen(value));
    free(name);
    free(value);
    return 0;
}
