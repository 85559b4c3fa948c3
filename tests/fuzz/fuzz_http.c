/* kefu — fuzz target: the request-head parser of every daemon's metrics
   and health endpoint, kf_http_parse (common/health.c).

   Input: the bytes a peer of KEFU_METRICS_PORT has sent so far. The
   daemon re-parses its buffer from the start as bytes arrive and answers
   at the first status other than 0, so the parser is called here as the
   daemon calls it (a 16-byte method and a 256-byte path buffer) on the
   whole input and on some of its prefixes.

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - the status is 0 (incomplete), 200, 400 or 431; 431 only from
     KF_HTTP_MAX_REQUEST bytes on, 0 only below;
   - a 200 gives a method of 1-15 capital letters and a path that starts
     with '/', holds only visible ASCII and no '?', both NUL-terminated in
     their buffers, and the input starts with "METHOD PATH";
   - a prefix's 200 or 400 is the answer for every longer input too: more
     bytes never change a verdict the daemon has already sent. */
#include <string.h>

#include "fuzz.h"
#include "health.h"

#define S_METHOD 16
#define S_PATH 256

static int s_parse(const uint8_t *data, size_t size, char *method, char *path)
{
    return kf_http_parse((const char *)data, size, method, S_METHOD, path, S_PATH);
}

static void s_check_ok(const uint8_t *data, size_t size, const char *method, const char *path)
{
    const char *mend = memchr(method, '\0', S_METHOD);
    const char *pend = memchr(path, '\0', S_PATH);
    FZ_CHECK(mend && pend && mend > method && path[0] == '/');
    for (const char *c = method; c < mend; c++)
        FZ_CHECK(*c >= 'A' && *c <= 'Z');
    for (const char *c = path; c < pend; c++)
        FZ_CHECK(*c > 0x20 && *c < 0x7f && *c != '?');
    size_t mlen = (size_t)(mend - method), plen = (size_t)(pend - path);
    FZ_CHECK(size > mlen + 1 + plen && memcmp(data, method, mlen) == 0 && data[mlen] == ' ' &&
             memcmp(data + mlen + 1, path, plen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char method[S_METHOD], path[S_PATH];
    memset(method, 'x', sizeof method);
    memset(path, 'x', sizeof path);
    int status = s_parse(data, size, method, path);
    FZ_CHECK(status == 0 || status == 200 || status == 400 || status == 431);
    FZ_CHECK(status != 431 || size >= KF_HTTP_MAX_REQUEST);
    FZ_CHECK(status != 0 || size < KF_HTTP_MAX_REQUEST);
    if (status == 200)
        s_check_ok(data, size, method, path);
    size_t prefixes[] = {size / 4, size / 2, size ? size - 1 : 0};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char m2[S_METHOD], p2[S_PATH];
        int early = s_parse(data, prefixes[i], m2, p2);
        FZ_CHECK(early == 0 || early == 431 || early == status);
        FZ_CHECK(early != 200 || (strcmp(m2, method) == 0 && strcmp(p2, path) == 0));
    }
    return 0;
}
