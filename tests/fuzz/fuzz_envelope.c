/* kefu — fuzz target: the envelope decoder, kf_env_decode (common/envelope.c).

   Input: one byte n, then the topic frame (the next n bytes, or what is left
   when fewer remain: so n may be over the 64-byte limit), then the envelope
   frame (the rest).

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal carries a code, a field and a message (fz_error_ok);
   - an accepted envelope obeys proto/envelope.md: type equals the topic and
     is in the catalog, header strings are UTF-8 within their limits with no
     NUL, id not empty, seq and at not negative, body a map within limits;
   - every body field reads through the getters without harm, and the body
     converts to JSON (the client's --json output);
   - what was accepted is accepted again once re-encoded: the header alone
     through kf_env_encode, and the whole envelope repacked by msgpack-c,
     whose body then repacks to the same bytes. */
#include <string.h>

#include "catalog.h"
#include "fuzz.h"
#include "jsonmp.h"

/* Checks the header fields of an accepted envelope. */
static void s_check_header(const kf_env_t *env, const uint8_t *topic, size_t topic_size)
{
    const char *type = kf_env_type(env);
    FZ_CHECK(strlen(type) == topic_size && memcmp(type, topic, topic_size) == 0);
    FZ_CHECK(topic_size >= 1 && topic_size <= KF_MAX_TYPE);
    FZ_CHECK(kf_catalog_known(type));
    FZ_CHECK(kf_env_id(env)[0] != '\0');
    FZ_CHECK(fz_cstr_ok(kf_env_id(env), KF_MAX_ID + 1, KF_MAX_ID));
    FZ_CHECK(fz_cstr_ok(kf_env_src(env), KF_MAX_ID + 1, KF_MAX_ID));
    FZ_CHECK(fz_cstr_ok(kf_env_corr(env), KF_MAX_ID + 1, KF_MAX_ID));
    FZ_CHECK(kf_env_seq(env) >= 0);
    FZ_CHECK(kf_env_at(env) >= 0);
    const msgpack_object *body = kf_env_body(env);
    FZ_CHECK(body && body->type == MSGPACK_OBJECT_MAP);
    FZ_CHECK(body->via.map.size <= KF_MAX_ENTRIES);
}

/* Reads every field of the body (whose key holds no NUL) with each getter:
   each answers present (1), absent (0) or a well-formed refusal (-1). */
static void s_check_getters(const msgpack_object *body)
{
    static char buf[KF_MAX_STRING + 1];
    char key[KF_MAX_STRING + 1];
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        FZ_CHECK(kv->key.type == MSGPACK_OBJECT_STR);
        const msgpack_object_str *k = &kv->key.via.str;
        FZ_CHECK(k->size <= KF_MAX_STRING);
        if (memchr(k->ptr, '\0', k->size))
            continue;
        memcpy(key, k->ptr, k->size);
        key[k->size] = '\0';
        FZ_CHECK(kf_map_get(body, key) == &kv->val); /* keys are unique */
        bool nil = kv->val.type == MSGPACK_OBJECT_NIL;

        kf_error_t err = {0};
        int rc = kf_get_str(body, key, true, buf, sizeof buf, &err);
        if (rc == 1) {
            FZ_CHECK(kv->val.type == MSGPACK_OBJECT_STR);
            FZ_CHECK(strlen(buf) == kv->val.via.str.size);
            FZ_CHECK(memcmp(buf, kv->val.via.str.ptr, kv->val.via.str.size) == 0);
            FZ_CHECK(kf_utf8_valid(buf, strlen(buf)));
        } else {
            FZ_CHECK(rc == -1 && fz_error_ok(&err));
            FZ_CHECK(strcmp(err.field, key) == 0 || strlen(key) >= sizeof err.field);
        }
        /* A small buffer: a longer string is too_long, never truncated. */
        char small[4];
        rc = kf_get_str(body, key, false, small, sizeof small, &err);
        FZ_CHECK(rc == 1 || (rc == 0 && nil) || (rc == -1 && fz_error_ok(&err)));
        if (rc == 1)
            FZ_CHECK(strlen(small) == kv->val.via.str.size);

        int64_t i64 = 0;
        rc = kf_get_int(body, key, false, INT64_MIN, INT64_MAX, &i64, &err);
        FZ_CHECK(rc == 1 || (rc == 0 && nil) || (rc == -1 && fz_error_ok(&err)));
        rc = kf_get_int(body, key, true, 1, 100, &i64, &err);
        FZ_CHECK((rc == 1 && i64 >= 1 && i64 <= 100) || (rc == -1 && fz_error_ok(&err)));
        bool b;
        rc = kf_get_bool(body, key, false, &b, &err);
        FZ_CHECK(rc == 1 || (rc == 0 && nil) || (rc == -1 && fz_error_ok(&err)));
        int index = -1, count = 0;
        while (kf_categories[count])
            count++;
        rc = kf_get_enum(body, key, false, kf_categories, &index, &err);
        FZ_CHECK((rc == 1 && index >= 0 && index < count) || (rc == 0 && nil) ||
                 (rc == -1 && fz_error_ok(&err)));
    }
    /* A key that is not there is absent, or missing when required. */
    kf_error_t err = {0};
    int64_t i64;
    if (!kf_map_get(body, "\x7f-not-a-key")) {
        FZ_CHECK(kf_get_int(body, "\x7f-not-a-key", false, 0, 1, &i64, &err) == 0);
        FZ_CHECK(kf_get_int(body, "\x7f-not-a-key", true, 0, 1, &i64, &err) == -1);
        FZ_CHECK(err.code == KF_E_MISSING_FIELD);
    }
}

/* Packs a C string as a msgpack str. */
static void s_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Packs env again as kefu would: the eight keys in wire order, the body as
   msgpack-c sees it. */
static void s_repack(const kf_env_t *env, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    s_str(&pk, "v");
    msgpack_pack_int(&pk, KF_ENV_VERSION);
    s_str(&pk, "type");
    s_str(&pk, kf_env_type(env));
    s_str(&pk, "id");
    s_str(&pk, kf_env_id(env));
    s_str(&pk, "seq");
    msgpack_pack_int64(&pk, kf_env_seq(env));
    s_str(&pk, "at");
    msgpack_pack_int64(&pk, kf_env_at(env));
    s_str(&pk, "src");
    s_str(&pk, kf_env_src(env));
    s_str(&pk, "corr");
    s_str(&pk, kf_env_corr(env));
    s_str(&pk, "body");
    msgpack_pack_object(&pk, *kf_env_body(env));
}

/* True when a and b have the same header fields. */
static bool s_same_header(const kf_env_t *a, const kf_env_t *b, bool same_at)
{
    return strcmp(kf_env_type(a), kf_env_type(b)) == 0 && strcmp(kf_env_id(a), kf_env_id(b)) == 0 &&
           kf_env_seq(a) == kf_env_seq(b) && (!same_at || kf_env_at(a) == kf_env_at(b)) &&
           strcmp(kf_env_src(a), kf_env_src(b)) == 0 && strcmp(kf_env_corr(a), kf_env_corr(b)) == 0;
}

static void s_check_reencode(const kf_env_t *env)
{
    kf_error_t err = {0};
    /* The header through kefu's own encoder (at 0 would mean "now"). */
    zmsg_t *msg = kf_env_encode(kf_env_type(env), kf_env_id(env), kf_env_seq(env), kf_env_at(env),
                                kf_env_src(env), kf_env_corr(env), NULL);
    FZ_CHECK(msg);
    kf_env_t *again = kf_env_decode_msg(msg, &err);
    zmsg_destroy(&msg);
    FZ_CHECK(again);
    FZ_CHECK(s_same_header(env, again, kf_env_at(env) != 0));
    FZ_CHECK(kf_env_body(again)->via.map.size == 0);
    kf_env_destroy(&again);

    /* The whole envelope, repacked: accepted, and a fixed point. */
    msgpack_sbuffer first, second;
    msgpack_sbuffer_init(&first);
    msgpack_sbuffer_init(&second);
    s_repack(env, &first);
    const char *type = kf_env_type(env);
    again = kf_env_decode(type, strlen(type), first.data, first.size, &err);
    if (!again)
        fprintf(stderr, "repacked envelope refused: %s %s: %s\n", kf_err_name(err.code), err.field,
                err.message);
    FZ_CHECK(again);
    FZ_CHECK(s_same_header(env, again, true));
    s_repack(again, &second);
    FZ_CHECK(first.size == second.size && memcmp(first.data, second.data, first.size) == 0);
    kf_env_destroy(&again);
    msgpack_sbuffer_destroy(&first);
    msgpack_sbuffer_destroy(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t topic_size = data[0];
    if (topic_size > size - 1)
        topic_size = size - 1;
    const uint8_t *topic = data + 1;
    const uint8_t *frame = topic + topic_size;
    size_t frame_size = size - 1 - topic_size;

    kf_error_t err = {0};
    kf_env_t *env = kf_env_decode(topic, topic_size, frame, frame_size, &err);
    /* The id a refused frame is answered under: never more than its limit,
       and always the decoded id when the frame decodes. */
    char id[KF_MAX_ID + 1];
    bool peeked = kf_env_peek_id(frame, frame_size, id, sizeof id);
    FZ_CHECK(strlen(id) <= KF_MAX_ID && peeked == (id[0] != '\0'));
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    FZ_CHECK(peeked && strcmp(id, kf_env_id(env)) == 0);
    s_check_header(env, topic, topic_size);
    s_check_getters(kf_env_body(env));
    json_t *json = kf_json_from_msgpack(kf_env_body(env));
    FZ_CHECK(json && json_is_object(json));
    json_decref(json);
    s_check_reencode(env);
    kf_env_destroy(&env);
    FZ_CHECK(env == NULL);
    return 0;
}
