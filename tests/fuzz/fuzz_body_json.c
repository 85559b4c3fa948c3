/* kefu — fuzz target: building a body from JSON, kf_body_from_json
   (common/envelope.c), which turns an outbox row's JSON into the body of a
   published event or a reply.

   Input: the JSON text (up to its first NUL byte).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal carries a code, a field and a message, and leaves the body as
     it was (same field count);
   - an accepted text makes a body that kefu's own decoder accepts in an
     envelope (kf_body_from_json promises never to build what a receiver
     refuses), unless the frame is over KF_MAX_FRAME, refused as too_long;
   - decoded again and turned back into JSON it equals the JSON text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jsonmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FZ_CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';

    /* Refused or not, a body that had a field keeps it. */
    kf_error_t err = {0};
    kf_body_t *prior = kf_body_new();
    kf_body_int(prior, "\x01prior", 1);
    int rc = kf_body_from_json(prior, text, &err);
    FZ_CHECK(rc == 0 || (rc == -1 && fz_error_ok(&err)));
    FZ_CHECK(rc == 0 ? kf_body_count(prior) >= 1 : kf_body_count(prior) == 1);
    kf_body_destroy(&prior);

    kf_body_t *body = kf_body_new();
    rc = kf_body_from_json(body, text, &err);
    if (rc != 0) {
        FZ_CHECK(rc == -1 && fz_error_ok(&err));
        FZ_CHECK(kf_body_count(body) == 0);
        kf_body_destroy(&body);
        free(text);
        return 0;
    }
    size_t count = kf_body_count(body);
    FZ_CHECK(count <= KF_MAX_ENTRIES);

    /* A fixed id: a new UUID per run would cost more than the rest. */
    zmsg_t *msg = kf_env_encode("reply.ok", "fuzz-1", 0, 1, "fuzz", "", &body);
    FZ_CHECK(msg && body == NULL);
    size_t frame_size = zframe_size(zmsg_last(msg));
    kf_env_t *env = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    if (!env) {
        fprintf(stderr, "built body refused: %s %s: %s\n", kf_err_name(err.code), err.field,
                err.message);
        FZ_CHECK(frame_size > KF_MAX_FRAME && err.code == KF_E_TOO_LONG);
        free(text);
        return 0;
    }
    const msgpack_object *decoded = kf_env_body(env);
    FZ_CHECK(decoded->via.map.size == count);

    json_t *expected = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    FZ_CHECK(expected);
    json_t *got = kf_json_from_msgpack(decoded);
    FZ_CHECK(got);
    FZ_CHECK(json_equal(expected, got));
    json_decref(got);
    json_decref(expected);
    kf_env_destroy(&env);
    free(text);
    return 0;
}
