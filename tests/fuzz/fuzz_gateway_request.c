/* kefu — fuzz target: kefu-gateway's filling of a wire request from an
   HTTP request, gw_request_fill (services/gateway/request.c): the JSON body
   of a POST, or the query string of a GET or DELETE.

   Input: 1 byte choosing a route with a message (its index among them,
   modulo their count), 1 byte of flags (bit 0: an Idempotency-Key header
   "k-1"; bit 1: Content-Type text/plain instead of application/json), then
   the JSON body (POST) or a query string "k=v&k=v" (GET, DELETE: split on
   '&' and the first '=', not percent-decoded, as libmicrohttpd hands them
   over). A path parameter is "1".

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal is 400, 413 or 415 with a code, a message and no body;
   - an accepted request builds a body that kefu's decoder accepts in an
     envelope of the message's type, whose every key is a field of the
     message, and whose strings are valid UTF-8 within their field's limit;
   - filling is deterministic. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "request.h"

#define S_MAX_QUERY 32

/* The n-th route that sends a message (n modulo their count). */
static const kf_model_route_t *s_route(unsigned n)
{
    unsigned count = 0;
    for (const kf_model_route_t *r = kf_model_routes; r->method; r++)
        count += r->message != NULL;
    n %= count;
    for (const kf_model_route_t *r = kf_model_routes; r->method; r++)
        if (r->message && n-- == 0)
            return r;
    return NULL;
}

/* The route's path with every parameter "1". */
static void s_path(const char *pattern, char *path, size_t size)
{
    size_t used = 0;
    for (const char *p = pattern; *p && used + 2 < size; p++) {
        if (*p == '{') {
            path[used++] = '1';
            p = strchr(p, '}');
        } else
            path[used++] = *p;
    }
    path[used] = '\0';
}

/* Splits text into query parameters (in place). */
static size_t s_query(char *text, gw_param_t *params)
{
    size_t n = 0;
    char *save = NULL;
    for (char *one = strtok_r(text, "&", &save); one && n < S_MAX_QUERY;
         one = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(one, '=');
        if (eq)
            *eq = '\0';
        params[n++] = (gw_param_t){one, eq ? eq + 1 : ""};
    }
    return n;
}

/* Checks an accepted body against the message's fields. */
static void s_check_body(const char *message, kf_body_t **body_p)
{
    kf_error_t err = {0};
    zmsg_t *msg = kf_env_encode(message, "fuzz-1", 0, 1, "fuzz", "", body_p);
    FZ_CHECK(msg && *body_p == NULL);
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    FZ_CHECK(env);
    const msgpack_object *body = kf_env_body(env);
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        char key[64];
        FZ_CHECK(kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size < sizeof key);
        memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
        key[kv->key.via.str.size] = '\0';
        const kf_model_field_t *f = gw_field(message, key);
        FZ_CHECK(f);
        if (kv->val.type == MSGPACK_OBJECT_STR && strcmp(f->type, "str") == 0)
            FZ_CHECK(!f->has_max || kv->val.via.str.size <= (uint32_t)f->max);
    }
    kf_env_destroy(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const kf_model_route_t *route = s_route(data[0]);
    char path[128];
    s_path(route->path, path, sizeof path);
    gw_match_t match;
    FZ_CHECK(gw_route_match(route->method, path, &match) == 200 && match.route == route);
    bool post = strcmp(route->method, "POST") == 0;
    char *text = malloc(size - 2 + 1);
    FZ_CHECK(text);
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    gw_param_t params[S_MAX_QUERY];
    gw_input_t in = {.match = &match,
                     .content_type = data[1] & 2 ? "text/plain" : "application/json",
                     .idem = data[1] & 1 ? "k-1" : NULL};
    if (post) {
        in.body = (const char *)data + 2;
        in.body_size = size - 2;
    } else {
        in.query = params;
        in.nquery = s_query(text, params);
    }
    kf_error_t err = {0}, again_err = {0};
    kf_body_t *body = NULL, *again = NULL;
    int status = gw_request_fill(&in, &body, &err);
    int again_status = gw_request_fill(&in, &again, &again_err);
    FZ_CHECK(status == again_status && err.code == again_err.code);
    kf_body_destroy(&again);
    if (status != 0) {
        FZ_CHECK(status == 400 || status == 413 || status == 415);
        FZ_CHECK(body == NULL && fz_error_ok(&err));
    } else
        s_check_body(route->message, &body);
    free(text);
    return 0;
}
