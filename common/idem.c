/* kefu — idempotency keys of requests that make no row of their own
   (see idem.h). */
#include "idem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonmp.h"
#include "kf_model.h"

#define S_END '\xff' /* ends each field; never in valid UTF-8 */

/* Writes one value's text form to out. */
static void s_value(FILE *out, const msgpack_object *v)
{
    switch (v->type) {
    case MSGPACK_OBJECT_STR:
        fputc('s', out);
        fwrite(v->via.str.ptr, 1, v->via.str.size, out);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(out, "i%" PRIu64, v->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(out, "i%" PRId64, v->via.i64);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        fputc(v->via.boolean ? 't' : 'f', out);
        break;
    case MSGPACK_OBJECT_NIL:
        fputc('n', out);
        break;
    default: {
        json_t *json = kf_json_from_msgpack(v);
        char *text =
            json ? json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        fprintf(out, "j%s", text ? text : "null");
        free(text);
        json_decref(json);
    }
    }
}

char *kf_idem_content(const char *type, const msgpack_object *body, size_t *size)
{
    char *text = NULL;
    size_t len = 0;
    bool known = false;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    for (const kf_model_field_t *f = kf_model_fields; f->message; f++) {
        if (strcmp(f->message, type) != 0)
            continue;
        known = true;
        if (strcmp(f->name, "idem") == 0)
            continue;
        fputs(f->name, out);
        const msgpack_object *v = kf_map_get(body, f->name); /* the first of a key given twice */
        if (v) {
            fputc('=', out);
            s_value(out, v);
        }
        fputc(S_END, out);
    }
    fclose(out);
    if (!known) {
        free(text);
        return NULL;
    }
    if (size)
        *size = len;
    return text;
}

void kf_idem_prepare(kf_store_t *store)
{
    kf_store_statement(store, "kf_idem_take",
                       "SELECT outcome, reply, type FROM kefu_request_idem_take($1, $2, $3, "
                       "decode($4, 'hex'))");
    kf_store_statement(store, "kf_idem_keep",
                       "SELECT kefu_request_idem_keep($1, $2, $3, decode($4, 'hex'), $5::jsonb)");
}

/* The canonical content of body for self as hex, into self->content. */
static int s_content(kf_idem_t *self, const msgpack_object *body, kf_error_t *err)
{
    size_t size = 0;
    char *raw = kf_idem_content(self->type, body, &size);
    if (!raw)
        return kf_error_set(err, KF_E_INTERNAL, "", "%s is no request of the model", self->type);
    self->content = malloc(size * 2 + 1);
    if (!self->content) {
        free(raw);
        return kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        self->content[2 * i] = hex[(unsigned char)raw[i] >> 4];
        self->content[2 * i + 1] = hex[(unsigned char)raw[i] & 15];
    }
    self->content[size * 2] = 0;
    free(raw);
    return 0;
}

const char *kf_idem_hex(kf_idem_t *self, const msgpack_object *body, kf_error_t *err)
{
    return self->content || s_content(self, body, err) == 0 ? self->content : NULL;
}

int kf_idem_take(kf_store_t *store, kf_idem_t *self, const msgpack_object *body, kf_body_t *reply,
                 bool *replayed, kf_error_t *err)
{
    *replayed = false;
    if (!self->idem || !self->idem[0])
        return 0;
    if (!self->content && s_content(self, body, err) != 0)
        return -1;
    const char *params[] = {self->actor, self->idem, self->type, self->content};
    PGresult *res = kf_store_exec(store, "kf_idem_take", 4, params, err);
    if (!res)
        return -1;
    const char *outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
    int rc = 0;
    if (strcmp(outcome, "replay") == 0) {
        rc = kf_body_from_json(reply, PQgetvalue(res, 0, 1), err);
        if (rc == 0) {
            kf_body_bool(reply, "duplicate", true);
            *replayed = true;
        }
    } else if (strcmp(outcome, "conflict") == 0)
        rc = kf_error_set(err, KF_E_CONFLICT, "idem",
                          "idempotency key %s was already used for %s with different content; "
                          "send it again with a new key if it is a new action",
                          self->idem, PQgetvalue(res, 0, 2));
    else if (strcmp(outcome, "new") != 0)
        rc = kf_error_set(err, KF_E_INTERNAL, "idem", "the store answered no key outcome");
    PQclear(res);
    return rc;
}

/* The reply body as JSON text without its duplicate member (the caller
   frees it), or NULL. */
static char *s_reply_json(const kf_body_t *reply)
{
    size_t size = 0;
    const char *data = kf_body_data(reply, &size);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, kf_body_count(reply));
    msgpack_sbuffer_write(&sb, data, size);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    char *text = NULL;
    if (msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS) {
        json_t *json = kf_json_from_msgpack(&u.data);
        /* A replay adds duplicate: true itself; a reply's own (false) goes. */
        if (json_is_object(json))
            json_object_del(json, "duplicate");
        text = json ? json_dumps(json, JSON_COMPACT) : NULL;
        json_decref(json);
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return text;
}

int kf_idem_keep(kf_store_t *store, const kf_idem_t *self, const kf_body_t *reply, kf_error_t *err)
{
    if (!self->idem || !self->idem[0])
        return 0;
    char *json = s_reply_json(reply);
    if (!json)
        return kf_error_set(err, KF_E_INTERNAL, "", "the reply could not be kept as JSON");
    const char *params[] = {self->actor, self->idem, self->type, self->content, json};
    PGresult *res = kf_store_exec(store, "kf_idem_keep", 5, params, err);
    free(json);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

void kf_idem_done(kf_idem_t *self)
{
    free(self->content);
    self->content = NULL;
}
