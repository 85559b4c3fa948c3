/* kefu — fuzz target: intake's ticket.list decoder, req_parse_list
   (services/intake/requests.c).

   Input: the msgpack body of a `ticket.list` request, decoded inside an
   otherwise valid envelope as intake decodes it (fz_env_with_body).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names a field with a field-level code (fz_field_error_ok);
   - an accepted request has a status and kind from the
     catalog or empty, UTF-8 strings within their limits, a limit in 1..100;
   - decoding is deterministic. */
#include <string.h>

#include "catalog.h"
#include "fuzz.h"
#include "requests.h"

static void s_check(const list_req_t *r)
{
    FZ_CHECK(r->status[0] == '\0' || fz_in(r->status, kf_statuses));
    FZ_CHECK(fz_cstr_ok(r->owner, sizeof r->owner, 64));
    FZ_CHECK(fz_cstr_ok(r->project, sizeof r->project, 32));
    FZ_CHECK(r->kind[0] == '\0' || fz_in(r->kind, kf_kinds));
    FZ_CHECK(r->limit >= 1 && r->limit <= 100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body("ticket.list", data, size, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    list_req_t req, again;
    int rc = req_parse_list(kf_env_body(env), &req, &err);
    if (rc == 0)
        s_check(&req);
    else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err));
    kf_error_t err2 = {0};
    FZ_CHECK(req_parse_list(kf_env_body(env), &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
