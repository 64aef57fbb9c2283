/*
 * fuzz_alias.c: where a URL meets a WSGIScriptAlias mount point
 * (wsl_alias_match_length in src/common/validate.c) and the SCRIPT_NAME /
 * PATH_INFO split that src/config/translate.c makes from it.
 *
 * The module does no percent-decoding of its own: Apache has decoded and
 * normalised r->uri (ap_unescape_url, ap_getparents) before translate_name
 * runs, so the URI here is the decoded path.  Input: byte 0 is the alias
 * length (mod the rest), then the alias, then the URI.  Invariants: the
 * match agrees with a slash-collapsing reference, ends at a segment
 * boundary, never runs past the URI; PATH_INFO is empty or starts with
 * '/', and SCRIPT_NAME + PATH_INFO is the URI.
 */
#include "common/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, \
            __FILE__, __LINE__); abort(); } } while (0)

/* s with every run of '/' as one, into a fresh string. */
static char *collapse(const char *s, size_t len)
{
    char *out = malloc(len + 1), *o = out;
    size_t i;

    if (!out)
        abort();
    for (i = 0; i < len; i++) {
        if (s[i] == '/' && o > out && o[-1] == '/')
            continue;
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

/* Does the collapsed URI start with the collapsed alias, at a segment
 * boundary (mod_alias's rule)? */
static int ref_match(const char *uri, const char *alias)
{
    char *cu = collapse(uri, strlen(uri)), *ca = collapse(alias,
                                                          strlen(alias));
    size_t n = strlen(ca);
    int ok = n > 0 && !strncmp(cu, ca, n) &&
             (ca[n - 1] == '/' || cu[n] == '\0' || cu[n] == '/');

    free(cu);
    free(ca);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t alen, m, ulen;
    char *alias, *uri, *c1, *c2, *script;
    const char *path_info;

    if (size == 0)
        return 0;
    alen = data[0] % size;
    data++;
    size--;
    alias = malloc(alen + 1);
    uri = malloc(size - alen + 1);
    if (!alias || !uri)
        abort();
    memcpy(alias, data, alen);
    alias[alen] = '\0';
    memcpy(uri, data + alen, size - alen);
    uri[size - alen] = '\0';
    ulen = strlen(uri);

    m = wsl_alias_match_length(uri, alias);
    CHECK(m <= ulen);
    CHECK((m > 0) == ref_match(uri, alias));
    if (m) {
        /* The matched part is the alias, up to doubled slashes. */
        c1 = collapse(uri, m);
        c2 = collapse(alias, strlen(alias));
        CHECK(!strcmp(c1, c2));
        free(c1);
        free(c2);
        CHECK(alias[strlen(alias) - 1] == '/' || uri[m] == '\0' ||
              uri[m] == '/');

        /* translate.c's split. */
        if (uri[m - 1] == '/')
            m--;
        path_info = uri + m;
        CHECK(*path_info == '\0' || *path_info == '/');
        script = malloc(m + 1);
        if (!script)
            abort();
        memcpy(script, uri, m);
        script[m] = '\0';
        CHECK(strlen(script) + strlen(path_info) == ulen &&
              !strncmp(uri, script, m) && !strcmp(uri + m, path_info));
        free(script);
    }
    free(alias);
    free(uri);
    return 0;
}
