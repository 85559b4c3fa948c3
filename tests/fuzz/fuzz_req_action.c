/* kefu — fuzz target: intake's decoder of the ticket actions,
   req_parse_action (services/intake/requests.c).

   Input: one byte choosing the request type (its value modulo 4:
   ticket.show, ticket.respond, ticket.transfer, ticket.resolve), then the
   msgpack body, decoded inside an otherwise valid envelope of that type as
   intake decodes it (fz_env_with_body).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names a field with a field-level code (fz_field_error_ok);
   - an accepted request has a non-blank ticket; a transfer a
     non-blank target and reason; a note only on respond and resolve; every
     string UTF-8 within its limit;
   - decoding is deterministic. */
#include <string.h>

#include "fuzz.h"
#include "requests.h"

static const char *const s_types[] = {"ticket.show", "ticket.respond", "ticket.transfer",
                                      "ticket.resolve"};

static void s_check(const char *type, const action_req_t *r)
{
    FZ_CHECK(fz_cstr_ok(r->ticket, sizeof r->ticket, KF_LIM_TICKET) && !fz_blank(r->ticket));
    FZ_CHECK(fz_cstr_ok(r->to, sizeof r->to, KF_LIM_STAFF));
    FZ_CHECK(fz_cstr_ok(r->reason, sizeof r->reason, KF_LIM_REASON));
    FZ_CHECK(fz_cstr_ok(r->note, sizeof r->note, KF_LIM_NOTE));
    bool transfer = strcmp(type, "ticket.transfer") == 0;
    FZ_CHECK(!transfer || (!fz_blank(r->to) && !fz_blank(r->reason)));
    FZ_CHECK(transfer || (r->to[0] == '\0' && r->reason[0] == '\0'));
    bool noted = strcmp(type, "ticket.respond") == 0 || strcmp(type, "ticket.resolve") == 0;
    FZ_CHECK(noted || r->note[0] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *type = s_types[data[0] % 4];
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body(type, data + 1, size - 1, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    static action_req_t req, again;
    int rc = req_parse_action(type, kf_env_body(env), &req, &err);
    if (rc == 0)
        s_check(type, &req);
    else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err));
    kf_error_t err2 = {0};
    FZ_CHECK(req_parse_action(type, kf_env_body(env), &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&req, &again, sizeof req) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
