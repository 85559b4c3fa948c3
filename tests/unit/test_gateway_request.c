/* Unit tests of kefu-gateway's pure parts: routes and request filling
   (services/gateway/request.c), the session cookie, the CSRF token
   (secret.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "request.h"
#include "secret.h"

/* Fills route method path with the given pieces; returns the status and
   the body decoded in *env_p (NULL on error). */
static int s_fill(const char *method, const char *path, const gw_param_t *query, size_t nquery,
                  const char *body, const char *idem, kf_env_t **env_p, kf_error_t *err)
{
    gw_match_t match;
    assert_int_equal(gw_route_match(method, path, &match), 200);
    gw_input_t in = {.match = &match,
                     .query = query,
                     .nquery = nquery,
                     .content_type = "application/json",
                     .body = body,
                     .body_size = body ? strlen(body) : 0,
                     .idem = idem};
    kf_body_t *built = NULL;
    *env_p = NULL;
    int status = gw_request_fill(&in, &built, err);
    if (status != 0) {
        assert_null(built);
        return status;
    }
    zmsg_t *msg = kf_env_encode(match.route->message, "t-1", 0, 1, "test", "", &built);
    *env_p = kf_env_decode_msg(msg, err);
    zmsg_destroy(&msg);
    assert_non_null(*env_p);
    return 0;
}

static void test_routes(void **state)
{
    (void)state;
    gw_match_t m;
    assert_int_equal(gw_route_match("GET", "/api/v1/tickets/KF-2026-000001", &m), 200);
    assert_string_equal(m.route->message, "ticket.show");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.name[0], "ticket");
    assert_string_equal(m.value[0], "KF-2026-000001");
    assert_int_equal(gw_route_match("POST", "/api/v1/approvals/12/decisions", &m), 200);
    assert_string_equal(m.route->message, "approval.decide");
    assert_int_equal(gw_route_match("POST", "/api/v1/session", &m), 200);
    assert_string_equal(m.route->handler, "signin");
    assert_int_equal(gw_route_match("GET", "/api/v1/nothing", &m), 404);
    assert_int_equal(gw_route_match("GET", "/api/v1/tickets/", &m), 404);
    assert_int_equal(gw_route_match("GET", "/api/v1/tickets/a/b", &m), 404);
    assert_int_equal(gw_route_match("PUT", "/api/v1/session", &m), 405);
    assert_string_equal(m.allow, "POST, GET, DELETE");
    assert_null(m.route);
    assert_string_equal(gw_service_of("approval.decide"), "approval");
    assert_string_equal(gw_service_of("delegate.clear"), "approval");
    assert_string_equal(gw_service_of("report"), "survey");
    assert_string_equal(gw_service_of("submit"), "intake");
}

static void test_query(void **state)
{
    (void)state;
    kf_env_t *env = NULL;
    kf_error_t err = {0};
    gw_param_t q[] = {{"limit", "20"}, {"status", "open"}, {"since", "2026-01-02"}};
    assert_int_equal(s_fill("GET", "/api/v1/tickets", q, 3, NULL, NULL, &env, &err), 0);
    int64_t limit = 0;
    assert_int_equal(kf_get_int(kf_env_body(env), "limit", true, 1, 100, &limit, &err), 1);
    assert_int_equal(limit, 20);
    char buf[32];
    assert_int_equal(kf_get_str(kf_env_body(env), "since", true, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "2026-01-02");
    kf_env_destroy(&env);

    gw_param_t bad_int[] = {{"limit", "20x"}};
    assert_int_equal(s_fill("GET", "/api/v1/tickets", bad_int, 1, NULL, NULL, &env, &err), 400);
    assert_int_equal(err.code, KF_E_WRONG_TYPE);
    assert_string_equal(err.field, "limit");
    gw_param_t range[] = {{"limit", "101"}};
    assert_int_equal(s_fill("GET", "/api/v1/tickets", range, 1, NULL, NULL, &env, &err), 400);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    gw_param_t unknown[] = {{"colour", "red"}};
    assert_int_equal(s_fill("GET", "/api/v1/tickets", unknown, 1, NULL, NULL, &env, &err), 400);
    assert_int_equal(err.code, KF_E_BAD_VALUE);
    assert_string_equal(err.field, "colour");
    gw_param_t twice[] = {{"limit", "1"}, {"limit", "2"}};
    assert_int_equal(s_fill("GET", "/api/v1/tickets", twice, 2, NULL, NULL, &env, &err), 400);
    gw_param_t series[] = {{"series", "yes"}};
    assert_int_equal(s_fill("GET", "/api/v1/report", series, 1, NULL, NULL, &env, &err), 400);
    gw_param_t series_ok[] = {{"series", "true"}};
    assert_int_equal(s_fill("GET", "/api/v1/report", series_ok, 1, NULL, NULL, &env, &err), 0);
    bool on = false;
    assert_int_equal(kf_get_bool(kf_env_body(env), "series", true, &on, &err), 1);
    assert_true(on);
    kf_env_destroy(&env);
    gw_param_t bad_utf8[] = {{"phone", "\xff\xfe"}};
    assert_int_equal(s_fill("GET", "/api/v1/owners", bad_utf8, 1, NULL, NULL, &env, &err), 400);
    assert_int_equal(err.code, KF_E_BAD_UTF8);
}

static void test_path(void **state)
{
    (void)state;
    kf_env_t *env = NULL;
    kf_error_t err = {0};
    assert_int_equal(s_fill("GET", "/api/v1/approvals/42", NULL, 0, NULL, NULL, &env, &err), 0);
    int64_t request = 0;
    assert_int_equal(kf_get_int(kf_env_body(env), "request", true, 1, INT64_MAX, &request, &err),
                     1);
    assert_int_equal(request, 42);
    kf_env_destroy(&env);
    assert_int_equal(s_fill("GET", "/api/v1/approvals/x1", NULL, 0, NULL, NULL, &env, &err), 400);
    assert_string_equal(err.field, "request");
    assert_int_equal(s_fill("POST", "/api/v1/tickets/KF-1/resolution", NULL, 0,
                            "{\"ticket\":\"KF-2\"}", NULL, &env, &err),
                     400);
    assert_string_equal(err.field, "ticket");
    /* a POST without a body has no fields but the path's */
    assert_int_equal(
        s_fill("POST", "/api/v1/tickets/KF-1/resolution", NULL, 0, NULL, NULL, &env, &err), 0);
    assert_int_equal(kf_env_body(env)->via.map.size, 1);
    kf_env_destroy(&env);
}

static void test_body(void **state)
{
    (void)state;
    kf_env_t *env = NULL;
    kf_error_t err = {0};
    const char *ok = "{\"kind\":\"complaint\",\"summary\":\"'; DROP TABLE ticket; --\","
                     "\"detail\":\"<script>alert(1)</script>\",\"name\":null}";
    assert_int_equal(s_fill("POST", "/api/v1/tickets", NULL, 0, ok, "k-1", &env, &err), 0);
    char buf[64];
    assert_int_equal(kf_get_str(kf_env_body(env), "summary", true, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "'; DROP TABLE ticket; --");
    assert_int_equal(kf_get_str(kf_env_body(env), "idem", true, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "k-1");
    kf_env_destroy(&env);

    struct {
        const char *body;
        kf_err_t code;
        const char *field;
    } bad[] = {{"{\"kind\":", KF_E_BAD_VALUE, ""},
               {"[1,2]", KF_E_BAD_VALUE, ""},
               {"{\"kind\":5}", KF_E_WRONG_TYPE, "kind"},
               {"{\"colour\":\"red\"}", KF_E_BAD_VALUE, "colour"},
               {"{\"summary\":\"\xc3\x28\"}", KF_E_BAD_UTF8, ""},
               {"{\"summary\":\"a\\u0000b\"}", KF_E_BAD_VALUE, ""}, /* jansson refuses \\u0000 */
               {"{\"kind\":\"a\",\"kind\":\"b\"}", KF_E_BAD_VALUE, ""},
               {"{\"idem\":\"other\"}", KF_E_BAD_VALUE, "idem"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_fill("POST", "/api/v1/tickets", NULL, 0, bad[i].body, "k-1", &env, &err),
                         400);
        assert_int_equal(err.code, bad[i].code);
        assert_string_equal(err.field, bad[i].field);
    }
    /* idem in both, equal: once */
    assert_int_equal(
        s_fill("POST", "/api/v1/tickets", NULL, 0, "{\"idem\":\"k-1\"}", "k-1", &env, &err), 0);
    assert_int_equal(kf_env_body(env)->via.map.size, 1);
    kf_env_destroy(&env);
    /* summary over its limit */
    char big[400] = "{\"summary\":\"";
    memset(big + strlen(big), 'x', 250);
    strcpy(big + strlen(big), "\"}");
    assert_int_equal(s_fill("POST", "/api/v1/tickets", NULL, 0, big, NULL, &env, &err), 400);
    assert_int_equal(err.code, KF_E_TOO_LONG);
    /* Idempotency-Key not printable, or too long */
    assert_int_equal(s_fill("POST", "/api/v1/tickets", NULL, 0, "{}", "a\tb", &env, &err), 400);
    assert_string_equal(err.field, "Idempotency-Key");
    char key[80];
    memset(key, 'k', 65);
    key[65] = '\0';
    assert_int_equal(s_fill("POST", "/api/v1/tickets", NULL, 0, "{}", key, &env, &err), 400);
}

static void test_content(void **state)
{
    (void)state;
    gw_match_t match;
    assert_int_equal(gw_route_match("POST", "/api/v1/tickets", &match), 200);
    kf_body_t *body = NULL;
    kf_error_t err = {0};
    gw_input_t in = {.match = &match, .content_type = "text/plain", .body = "{}", .body_size = 2};
    assert_int_equal(gw_request_fill(&in, &body, &err), 415);
    in.content_type = "application/json; charset=utf-8";
    assert_int_equal(gw_request_fill(&in, &body, &err), 0);
    kf_body_destroy(&body);
    in.content_type = "application/jsonx";
    assert_int_equal(gw_request_fill(&in, &body, &err), 415);
    in.content_type = "application/json";
    in.body_size = GW_MAX_BODY + 1;
    assert_int_equal(gw_request_fill(&in, &body, &err), 413);
    assert_int_equal(err.code, KF_E_TOO_LONG);
    gw_param_t q[] = {{"a", "b"}};
    in.body_size = 2;
    in.query = q;
    in.nquery = 1;
    assert_int_equal(gw_request_fill(&in, &body, &err), 400);
    assert_string_equal(err.field, "a");
}

static void test_cookie(void **state)
{
    (void)state;
    char token[GW_TOKEN_SIZE], got[GW_TOKEN_SIZE];
    assert_int_equal(kf_token_new("", token), 0);
    assert_int_equal(strlen(token), 43);
    char header[200];
    snprintf(header, sizeof header, "a=b; kefu_session=%s; c=d", token);
    assert_true(gw_cookie_token(header, got));
    assert_string_equal(got, token);
    snprintf(header, sizeof header, "kefu_session=%s", token);
    assert_true(gw_cookie_token(header, got));
    assert_false(gw_cookie_token(NULL, got));
    assert_false(gw_cookie_token("", got));
    assert_false(gw_cookie_token("kefu_session=short", got));
    assert_false(gw_cookie_token("xkefu_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", got));
    assert_false(gw_cookie_token("kefu_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", got));
    assert_true(gw_cookie_token("kefu_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", got));
    char other[GW_TOKEN_SIZE];
    assert_int_equal(kf_token_new("", other), 0);
    assert_string_not_equal(token, other);
}

static void test_csrf(void **state)
{
    (void)state;
    char a[GW_CSRF_SIZE], b[GW_CSRF_SIZE];
    gw_csrf("token-one", a);
    gw_csrf("token-one", b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 43);
    gw_csrf("token-two", b);
    assert_string_not_equal(a, b);
    assert_true(gw_csrf_ok("token-one", a));
    assert_false(gw_csrf_ok("token-two", a));
    assert_false(gw_csrf_ok("token-one", NULL));
    assert_false(gw_csrf_ok("token-one", ""));
    a[42] = a[42] == 'A' ? 'B' : 'A';
    assert_false(gw_csrf_ok("token-one", a));
}

int main(void)
{
    assert_int_equal(gw_secret_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),  cmocka_unit_test(test_query),
        cmocka_unit_test(test_path),    cmocka_unit_test(test_body),
        cmocka_unit_test(test_content), cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_csrf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
