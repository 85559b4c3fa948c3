/* kefu — fuzz target: intake's owner.show decoder, req_parse_owner
   (services/intake/requests.c).

   Input: the msgpack body of an `owner.show` request, decoded inside an
   otherwise valid envelope as intake decodes it (fz_env_with_body).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names the field phone with a field-level code;
   - an accepted request holds a phone as kf_phone_normalise leaves it:
     5 to 15 digits, 11 exactly when it starts with 1, and normalising it
     again changes nothing;
   - decoding is deterministic. */
#include <string.h>

#include "fuzz.h"
#include "phone.h"
#include "requests.h"

static void s_check(const owner_req_t *r)
{
    size_t len = strnlen(r->phone, sizeof r->phone);
    FZ_CHECK(len >= 5 && len <= 15);
    FZ_CHECK(strspn(r->phone, "0123456789") == len);
    FZ_CHECK((len == 11) == (r->phone[0] == '1'));
    char again[KF_PHONE_MAX];
    FZ_CHECK(kf_phone_normalise(r->phone, again) == 0);
    FZ_CHECK(strcmp(again, r->phone) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body("owner.show", data, size, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    owner_req_t req, again;
    int rc = req_parse_owner(kf_env_body(env), &req, &err);
    if (rc == 0)
        s_check(&req);
    else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err) && strcmp(err.field, "phone") == 0);
    kf_error_t err2 = {0};
    FZ_CHECK(req_parse_owner(kf_env_body(env), &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
