/* kefu-gateway — routes and request bodies from HTTP (request.h). */
#include "request.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const kf_model_field_t *gw_field(const char *message, const char *name)
{
    for (const kf_model_field_t *f = kf_model_fields; message && f->message; f++)
        if (strcmp(f->message, message) == 0 && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const char *gw_service_of(const char *message)
{
    /* Every route's message is a request of the model (gen_model.py checks). */
    const char *service = kf_model_service(message);
    return service ? service : "intake";
}

/* ---- routes ------------------------------------------------------------ */

/* Matches path against pattern ("/api/v1/tickets/{ticket}"), filling the
   parameters into match. True when it matches. */
static bool s_path_match(const char *pattern, const char *path, gw_match_t *match)
{
    match->nparams = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            size_t nlen = (size_t)(close - p - 1);
            if (!close || len == 0 || len > GW_MAX_SEGMENT || match->nparams == GW_MAX_PARAMS ||
                nlen >= sizeof match->name[0])
                return false;
            memcpy(match->name[match->nparams], p + 1, nlen);
            match->name[match->nparams][nlen] = '\0';
            memcpy(match->value[match->nparams], s, len);
            match->value[match->nparams][len] = '\0';
            match->nparams++;
            p = close + 1;
            s += len;
        } else if (*p++ != *s++)
            return false;
    }
    return *p == '\0' && *s == '\0';
}

int gw_route_match(const char *method, const char *path, gw_match_t *match)
{
    memset(match, 0, sizeof *match);
    gw_match_t tmp;
    bool found = false;
    for (const kf_model_route_t *r = kf_model_routes; r->method; r++) {
        if (!s_path_match(r->path, path, &tmp))
            continue;
        found = true;
        size_t used = strlen(match->allow);
        snprintf(match->allow + used, sizeof match->allow - used, "%s%s", used ? ", " : "",
                 r->method);
        if (strcmp(r->method, method) == 0) {
            tmp.route = r;
            tmp.allow[0] = '\0';
            *match = tmp;
            return 200;
        }
    }
    match->route = NULL;
    return found ? 405 : 404;
}

/* ---- values ------------------------------------------------------------ */

/* Parses text as a decimal integer, strictly (an optional '-', digits,
   nothing else, no overflow). */
static bool s_parse_int(const char *text, long long *out)
{
    const char *d = text[0] == '-' ? text + 1 : text;
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return false;
    errno = 0;
    char *end = NULL;
    *out = strtoll(text, &end, 10);
    return errno == 0 && end && *end == '\0';
}

/* Checks an integer against its field's bounds. */
static int s_check_int(const kf_model_field_t *f, long long v, kf_error_t *err)
{
    if ((f->has_min && v < f->min) || (f->has_max && v > f->max))
        return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s out of range", f->name);
    return 0;
}

/* Checks a string value of size bytes against its field's limit. */
static int s_check_str(const kf_model_field_t *f, const char *v, size_t size, kf_error_t *err)
{
    if (!kf_utf8_valid(v, size))
        return kf_error_set(err, KF_E_BAD_UTF8, f->name, "%s is not valid UTF-8", f->name);
    if (memchr(v, '\0', size))
        return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s holds a NUL byte", f->name);
    if (f->has_max && size > (size_t)f->max && strcmp(f->type, "str") == 0)
        return kf_error_set(err, KF_E_TOO_LONG, f->name, "%s over %lld bytes", f->name, f->max);
    if (size > KF_MAX_STRING)
        return kf_error_set(err, KF_E_TOO_LONG, f->name, "%s over %d bytes", f->name,
                            KF_MAX_STRING);
    return 0;
}

/* Packs a string of size bytes (it may not end in a NUL). */
static void s_pack_str(kf_body_t *body, const char *key, const char *v, size_t size)
{
    msgpack_packer *pk = kf_body_key(body, key);
    msgpack_pack_str(pk, size);
    msgpack_pack_str_body(pk, v, size);
}

/* Packs a value given as text (path or query) by its field's type. */
static int s_fill_text(kf_body_t *body, const kf_model_field_t *f, const char *v, kf_error_t *err)
{
    long long n = 0;
    bool digits = s_parse_int(v, &n);
    if (strcmp(f->type, "int") == 0 || strcmp(f->type, "ms") == 0) {
        if (!digits)
            return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s must be an integer", f->name);
        if (s_check_int(f, n, err) != 0)
            return -1;
        kf_body_int(body, f->name, n);
    } else if (strcmp(f->type, "bool") == 0) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s must be true or false", f->name);
        kf_body_bool(body, f->name, v[0] == 't');
    } else if (strcmp(f->type, "ms_or_date") == 0 && digits) {
        kf_body_int(body, f->name, n);
    } else {
        if (s_check_str(f, v, strlen(v), err) != 0)
            return -1;
        s_pack_str(body, f->name, v, strlen(v));
    }
    return 0;
}

/* Packs a JSON value by its field's type; null packs nil (absent). */
static int s_fill_json(kf_body_t *body, const kf_model_field_t *f, json_t *v, kf_error_t *err)
{
    const char *t = f->type;
    bool is_int = strcmp(t, "int") == 0 || strcmp(t, "ms") == 0;
    if (json_is_null(v))
        kf_body_nil(body, f->name);
    else if (json_is_integer(v) && (is_int || strcmp(t, "ms_or_date") == 0)) {
        if (s_check_int(f, json_integer_value(v), err) != 0)
            return -1;
        kf_body_int(body, f->name, json_integer_value(v));
    } else if (json_is_boolean(v) && strcmp(t, "bool") == 0)
        kf_body_bool(body, f->name, json_is_true(v));
    else if (json_is_string(v) && !is_int && strcmp(t, "bool") != 0) {
        if (s_check_str(f, json_string_value(v), json_string_length(v), err) != 0)
            return -1;
        s_pack_str(body, f->name, json_string_value(v), json_string_length(v));
    } else
        return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s must be %s", f->name,
                            is_int                         ? "an integer"
                            : strcmp(t, "bool") == 0       ? "true or false"
                            : strcmp(t, "ms_or_date") == 0 ? "an integer or a date"
                                                           : "a string");
    return 0;
}

/* ---- filling ------------------------------------------------------------- */

/* True when name is a path parameter of match. */
static bool s_in_path(const gw_match_t *match, const char *name)
{
    for (int i = 0; i < match->nparams; i++)
        if (strcmp(match->name[i], name) == 0)
            return true;
    return false;
}

/* Names the parameter key in err: unknown to message, or given twice. */
static int s_unknown(const char *key, const char *where, kf_error_t *err)
{
    char shown[41];
    snprintf(shown, sizeof shown, "%s", key);
    if (!kf_utf8_valid(shown, strlen(shown)))
        snprintf(shown, sizeof shown, "?");
    return kf_error_set(err, KF_E_BAD_VALUE, shown, "unknown %s '%s'", where, shown);
}

/* Fills the path parameters. */
static int s_fill_path(const gw_input_t *in, kf_body_t *body, kf_error_t *err)
{
    const gw_match_t *m = in->match;
    for (int i = 0; i < m->nparams; i++) {
        const kf_model_field_t *f = gw_field(m->route->message, m->name[i]);
        if (!f)
            return kf_error_set(err, KF_E_INTERNAL, m->name[i], "no field for path parameter");
        if (s_fill_text(body, f, m->value[i], err) != 0)
            return -1;
    }
    return 0;
}

/* Fills the query string's parameters. */
static int s_fill_query(const gw_input_t *in, kf_body_t *body, kf_error_t *err)
{
    const char *message = in->match->route->message;
    for (size_t i = 0; i < in->nquery; i++) {
        const gw_param_t *q = &in->query[i];
        const kf_model_field_t *f = gw_field(message, q->key);
        if (!f || strcmp(q->key, "idem") == 0)
            return s_unknown(q->key, "query parameter", err);
        bool twice = s_in_path(in->match, q->key);
        for (size_t j = 0; j < i; j++)
            twice = twice || strcmp(in->query[j].key, q->key) == 0;
        if (twice)
            return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s given twice", f->name);
        if (s_fill_text(body, f, q->value ? q->value : "", err) != 0)
            return -1;
    }
    return 0;
}

/* True when the Content-Type names JSON (parameters such as charset
   aside). */
static bool s_is_json(const char *type)
{
    if (!type)
        return false;
    size_t n = strlen("application/json");
    return strncasecmp(type, "application/json", n) == 0 &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

int gw_request_json(const char *content_type, const char *body, size_t size, json_t **root_p,
                    kf_error_t *err)
{
    *root_p = NULL;
    if (size > GW_MAX_BODY) {
        kf_error_set(err, KF_E_TOO_LONG, "", "the body is over %d bytes", GW_MAX_BODY);
        return 413;
    }
    if (size == 0) /* a POST without a body: no fields */
        return 0;
    if (!s_is_json(content_type)) {
        kf_error_set(err, KF_E_BAD_VALUE, "Content-Type", "the body must be application/json");
        return 415;
    }
    if (!kf_utf8_valid(body, size)) {
        kf_error_set(err, KF_E_BAD_UTF8, "", "the body is not valid UTF-8");
        return 400;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        kf_error_set(err, KF_E_BAD_VALUE, "", "invalid JSON at line %d: %.120s", jerr.line,
                     jerr.text);
        return 400;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        kf_error_set(err, KF_E_BAD_VALUE, "", "the body must be a JSON object");
        return 400;
    }
    *root_p = root;
    return 0;
}

/* Fills the JSON body's members; idem_seen says the body held idem. */
static int s_fill_body(const gw_input_t *in, json_t *root, kf_body_t *body, kf_error_t *err)
{
    const char *message = in->match->route->message;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        const kf_model_field_t *f = gw_field(message, key);
        if (!f)
            return s_unknown(key, "field", err);
        if (s_in_path(in->match, key))
            return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s is given in the path", f->name);
        if (strcmp(key, "idem") == 0 && in->idem) {
            if (!json_is_string(v) || strcmp(json_string_value(v), in->idem) != 0)
                return kf_error_set(err, KF_E_BAD_VALUE, "idem",
                                    "idem differs from the Idempotency-Key header");
            continue; /* the header's, packed once */
        }
        if (s_fill_json(body, f, v, err) != 0)
            return -1;
    }
    return 0;
}

/* Fills idem from the Idempotency-Key header where the message has it. */
static int s_fill_idem(const gw_input_t *in, kf_body_t *body, kf_error_t *err)
{
    const kf_model_field_t *f = gw_field(in->match->route->message, "idem");
    if (!in->idem || !f)
        return 0;
    size_t len = strlen(in->idem);
    if (len == 0 || (f->has_max && len > (size_t)f->max))
        return kf_error_set(err, KF_E_BAD_VALUE, "Idempotency-Key",
                            "Idempotency-Key must be 1 to %lld characters", f->max);
    for (size_t i = 0; i < len; i++)
        if (in->idem[i] < 0x20 || in->idem[i] > 0x7e)
            return kf_error_set(err, KF_E_BAD_VALUE, "Idempotency-Key",
                                "Idempotency-Key must be printable ASCII");
    kf_body_str(body, "idem", in->idem);
    return 0;
}

int gw_request_fill(const gw_input_t *in, kf_body_t **body_p, kf_error_t *err)
{
    assert(in && in->match && in->match->route && in->match->route->message && body_p);
    *body_p = NULL;
    json_t *root = NULL;
    bool post = strcmp(in->match->route->method, "POST") == 0;
    if (post) {
        int status = gw_request_json(in->content_type, in->body, in->body_size, &root, err);
        if (status != 0)
            return status;
    }
    kf_body_t *body = kf_body_new();
    int rc = s_fill_path(in, body, err);
    if (rc == 0 && !post)
        rc = s_fill_query(in, body, err);
    else if (rc == 0 && in->nquery > 0)
        rc = s_unknown(in->query[0].key, "query parameter", err);
    if (rc == 0 && root)
        rc = s_fill_body(in, root, body, err);
    if (rc == 0)
        rc = s_fill_idem(in, body, err);
    json_decref(root);
    if (rc != 0) {
        kf_body_destroy(&body);
        return err->code == KF_E_INTERNAL ? 500 : 400;
    }
    *body_p = body;
    return 0;
}
