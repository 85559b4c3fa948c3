/* kefu — unit tests of kf_openapi_json and kf_labels_json (kf_openapi.h,
   generated from proto/model.json): the strings the gateway serves are the
   whole document and the whole translation table. */
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

/* The labels are JSON as long as said: every enumeration of the model
   (kf_enum_t) with each value's zh and en, every error code (kf_err_t),
   and the targets kf_model.h defines; the ETag is quoted. */
static void test_labels(void **state)
{
    (void)state;
    assert_int_equal(strlen(kf_labels_json), kf_labels_json_len);
    json_t *labels = json_loadb(kf_labels_json, kf_labels_json_len, 0, NULL);
    assert_non_null(labels);
    json_t *enums = json_object_get(labels, "enums");
    assert_int_equal(json_object_size(enums), KF_ENUM_COUNT);
    json_t *role = json_object_get(enums, "role");
    for (int i = 0; kf_roles[i]; i++) {
        json_t *label = json_object_get(role, kf_roles[i]);
        assert_true(json_string_length(json_object_get(label, "zh")) > 0);
        assert_true(json_string_length(json_object_get(label, "en")) > 0);
    }
    json_t *errors = json_object_get(labels, "errors");
    assert_int_equal(json_object_size(errors), KF_E_COUNT);
    for (int e = 0; e < KF_E_COUNT; e++)
        assert_non_null(json_object_get(json_object_get(errors, kf_model_errors[e].code), "zh"));
    json_t *sat = json_array_get(json_object_get(labels, "targets"), 0);
    assert_string_equal(json_string_value(json_object_get(sat, "kpi")), "satisfaction");
    assert_int_equal(json_integer_value(json_object_get(sat, "target")), KF_TARGET_SATISFACTION);
    assert_int_equal(json_integer_value(json_object_get(sat, "baseline")),
                     KF_BASELINE_SATISFACTION);
    assert_true(kf_labels_etag[0] == '"' && kf_labels_etag[strlen(kf_labels_etag) - 1] == '"');
    json_decref(labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_document),
                                       cmocka_unit_test(test_routes),
                                       cmocka_unit_test(test_labels)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
