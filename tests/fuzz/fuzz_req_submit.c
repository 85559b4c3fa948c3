/* kefu — fuzz target: intake's submit decoder, req_parse_submit
   (services/intake/requests.c).

   Input: the msgpack body of a `submit` request. It is decoded as intake
   decodes it, inside an otherwise valid envelope (fz_env_with_body), and the
   body, when the envelope decoder accepts it, goes to req_parse_submit.

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names a field with a field-level code (fz_field_error_ok);
   - an accepted request obeys proto/catalog.md: required text present and
     not blank, enumerations from the catalog, every string UTF-8 within its
     limit, building and unit together, the phone 5 to 15 digits;
   - decoding is deterministic (the same body gives the same struct). */
#include <string.h>

#include "catalog.h"
#include "fuzz.h"
#include "requests.h"

#define S_TEXT(field, max) (fz_cstr_ok(field, sizeof field, max) && !fz_blank(field))
#define S_OPT(field, max) fz_cstr_ok(field, sizeof field, max)

static void s_check(const submit_req_t *r)
{
    FZ_CHECK(S_OPT(r->idem, KF_LIM_IDEM));
    FZ_CHECK(fz_in(r->kind, kf_kinds));
    FZ_CHECK(fz_in(r->category, kf_categories));
    FZ_CHECK(fz_in(r->channel, kf_channels));
    FZ_CHECK(fz_in(r->priority, kf_priorities));
    FZ_CHECK(S_TEXT(r->project, KF_LIM_PROJECT));
    FZ_CHECK(S_OPT(r->building, KF_LIM_BUILDING) && S_OPT(r->unit, KF_LIM_UNIT));
    FZ_CHECK((r->building[0] == '\0') == (r->unit[0] == '\0'));
    size_t digits = strspn(r->phone, "0123456789");
    FZ_CHECK(memchr(r->phone, '\0', sizeof r->phone) && r->phone[digits] == '\0');
    FZ_CHECK(digits >= 5 && digits <= 15);
    FZ_CHECK(S_OPT(r->name, KF_LIM_NAME));
    FZ_CHECK(S_TEXT(r->summary, KF_LIM_SUMMARY));
    FZ_CHECK(S_OPT(r->detail, KF_LIM_DETAIL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body("submit", data, size, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    static submit_req_t req, again;
    int rc = req_parse_submit(kf_env_body(env), &req, &err);
    if (rc == 0)
        s_check(&req);
    else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err));
    kf_error_t err2 = {0};
    FZ_CHECK(req_parse_submit(kf_env_body(env), &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
