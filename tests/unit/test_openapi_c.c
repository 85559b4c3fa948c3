/* kefu — unit tests of kf_openapi_json (kf_openapi.h, generated from
   proto/model.json): the string the gateway serves is the whole document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kf_model.h"
#include "kf_openapi.h"

/* The string is JSON, as long as said, an OpenAPI 3.1.0 document of kefu. */
static void test_document(void **state)
{
    (void)state;
    assert_int_equal(strlen(kf_openapi_json), kf_openapi_json_len);
    json_error_t error;
    json_t *doc = json_loadb(kf_openapi_json, kf_openapi_json_len, 0, &error);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *info = json_object_get(doc, "info");
    assert_string_equal(json_string_value(json_object_get(info, "title")), "kefu");
    json_decref(doc);
}

/* Every route of the model (kf_model_routes) is an operation of it. */
static void test_routes(void **state)
{
    (void)state;
    json_t *doc = json_loadb(kf_openapi_json, kf_openapi_json_len, 0, NULL);
    json_t *paths = json_object_get(doc, "paths");
    int routes = 0;
    for (const kf_model_route_t *r = kf_model_routes; r->method; r++, routes++) {
        char method[8] = {0};
        for (size_t i = 0; r->method[i] && i < sizeof method - 1; i++)
            method[i] = (char)(r->method[i] - 'A' + 'a');
        json_t *op = json_object_get(json_object_get(paths, r->path), method);
        assert_non_null(op);
        assert_non_null(json_object_get(op, "operationId"));
    }
    assert_true(routes > 20);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_document),
                                       cmocka_unit_test(test_routes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
