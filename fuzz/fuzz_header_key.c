/*
 * fuzz_header_key.c: a client's request header name -> its environ key
 * (wsl_header_key and wsl_header_key_hash in src/common/validate.c, used by
 * src/request/snapshot.c).
 *
 * Input: byte 0 picks the output buffer size (6..261, exact-size heap
 * buffer so ASan sees any write past it), the rest is the header name.
 * Invariants: a produced key matches ^HTTP_[A-Z0-9_]+$, fits the buffer,
 * is never HTTP_PROXY (httpoxy), and comes from a name made only of ASCII
 * letters, digits and '-' (so `X_Forwarded_For` can never pose as
 * `X-Forwarded-For`); every such name that fits is accepted.  The hashed
 * variant gives the same answer and the FNV-1a hash of the key it wrote.
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

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t bufsize, len, n, i;
    char *name, *buf;
    int plain = 1;

    if (size == 0)
        return 0;
    bufsize = 6 + data[0];
    data++;
    size--;
    name = malloc(size + 1);
    buf = malloc(bufsize);
    if (!name || !buf)
        abort();
    memcpy(name, data, size);
    name[size] = '\0';
    len = strlen(name);         /* Apache's header names are C strings */

    for (i = 0; i < len; i++)
        plain &= name_char((unsigned char)name[i]);

    n = wsl_header_key(name, buf, bufsize);
    {
        char *again = malloc(bufsize);
        uint32_t hash = 0, want = 2166136261u;
        size_t m;

        if (!again)
            abort();
        m = wsl_header_key_hash(name, again, bufsize, &hash);
        CHECK(m == n);
        if (m) {
            CHECK(!memcmp(again, buf, n + 1));
            for (i = 0; i < n; i++)
                want = (want ^ (unsigned char)buf[i]) * 16777619u;
            CHECK(hash == want);
        }
        free(again);
    }
    if (n) {
        CHECK(n < bufsize);
        CHECK(strlen(buf) == n);
        CHECK(n > 5 && !strncmp(buf, "HTTP_", 5));
        for (i = 5; i < n; i++)
            CHECK((buf[i] >= 'A' && buf[i] <= 'Z') ||
                  (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '_');
        CHECK(strcmp(buf, "HTTP_PROXY") != 0);
        CHECK(plain && n == 5 + len);
        for (i = 0; i < len; i++) {
            char c = name[i];
            char want = c == '-' ? '_'
                      : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
            CHECK(buf[5 + i] == want);
        }
    }
    else {
        /* Refused: only for a reason the contract names. */
        CHECK(len == 0 || !plain || 5 + len + 1 > bufsize ||
              !strcasecmp(name, "proxy"));
    }
    free(name);
    free(buf);
    return 0;
}
