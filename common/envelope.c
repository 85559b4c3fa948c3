/* kefu — the envelope of the wire contract (proto/envelope.md). */
#include "envelope.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"

/* Containers open at once in a valid frame: the envelope map, the body
   (or an unknown top-level key's value) and KF_MAX_DEPTH levels inside. */
#define S_MAX_NESTING (2 + KF_MAX_DEPTH)

struct kf_env {
    char *data;                /* our copy of the frame: msgpack objects point into it */
    msgpack_unpacked unpacked; /* owns the zone holding the object tree */
    const msgpack_object *body;
    char type[KF_MAX_TYPE + 1];
    char id[KF_MAX_ID + 1];
    char src[KF_MAX_ID + 1];
    char corr[KF_MAX_ID + 1];
    char session[KF_MAX_ID + 1]; /* "" when the envelope has none */
    int64_t seq;
    int64_t at;
};

struct kf_body {
    msgpack_sbuffer sbuf; /* the packed entries, without a map header */
    msgpack_packer pk;
    size_t count; /* entries packed so far (key + value pairs) */
};

/* ---- UTF-8 and time ------------------------------------------------ */

bool kf_utf8_valid(const void *data, size_t size)
{
    const unsigned char *p = data;
    size_t i = 0;
    while (i < size) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false; /* continuation byte, 0xc0/0xc1 overlong lead, or 0xf5.. */
        }
        if (size - i < len)
            return false; /* truncated sequence */
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false; /* overlong, out of range, or a surrogate */
        i += len;
    }
    return true;
}

int64_t kf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- decoding ------------------------------------------------------ */

/* Reads a big-endian unsigned integer of n bytes. */
static uint64_t s_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads the msgpack item whose tag is at p[*pos] and moves *pos past its
   tag, its length field and, for a scalar, its payload. For a map or array
   *items is the number of objects it holds (2 per map entry), else 0;
   *payload is a str's or bin's byte count (its bytes end at *pos). Returns
   0, or -1 with err when the bytes are truncated or no msgpack. */
static int s_item(const unsigned char *p, size_t size, size_t *pos, uint64_t *items,
                  uint64_t *payload, kf_error_t *err)
{
    if (*pos >= size)
        return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "truncated msgpack");
    unsigned char c = p[(*pos)++];
    size_t avail = size - *pos;
    uint64_t skip = 0;   /* bytes of payload after the tag */
    size_t lenbytes = 0; /* bytes of a length field after the tag */
    bool container = false, counted = false;
    *items = 0;
    *payload = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
        skip = 0;
    } else if (c <= 0x8f) {
        *items = 2 * (uint64_t)(c & 0x0f);
        return 0;
    } else if (c <= 0x9f) {
        *items = c & 0x0f;
        return 0;
    } else if (c <= 0xbf) {
        skip = c & 0x1f;
        counted = true;
    } else {
        switch (c) {
        case 0xc4: /* bin 8/16/32 */
        case 0xd9: /* str 8/16/32 */
            lenbytes = 1, counted = true;
            break;
        case 0xc5:
        case 0xda:
            lenbytes = 2, counted = true;
            break;
        case 0xc6:
        case 0xdb:
            lenbytes = 4, counted = true;
            break;
        case 0xc7: /* ext 8/16/32: length, type byte, data */
            lenbytes = 1, skip = 1;
            break;
        case 0xc8:
            lenbytes = 2, skip = 1;
            break;
        case 0xc9:
            lenbytes = 4, skip = 1;
            break;
        case 0xca:
            skip = 4;
            break;
        case 0xcb:
            skip = 8;
            break;
        case 0xcc:
        case 0xd0:
            skip = 1;
            break;
        case 0xcd:
        case 0xd1:
            skip = 2;
            break;
        case 0xce:
        case 0xd2:
            skip = 4;
            break;
        case 0xcf:
        case 0xd3:
            skip = 8;
            break;
        case 0xd4: /* fixext 1/2/4/8/16: type byte and data */
            skip = 2;
            break;
        case 0xd5:
            skip = 3;
            break;
        case 0xd6:
            skip = 5;
            break;
        case 0xd7:
            skip = 9;
            break;
        case 0xd8:
            skip = 17;
            break;
        case 0xdc:
        case 0xde:
            container = true, lenbytes = 2;
            break;
        case 0xdd:
        case 0xdf:
            container = true, lenbytes = 4;
            break;
        default: /* 0xc1 is never used */
            return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "invalid msgpack byte 0x%02x", c);
        }
        if (lenbytes > avail)
            return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "truncated msgpack");
        uint64_t n = s_be(p + *pos, lenbytes);
        *pos += lenbytes;
        avail -= lenbytes;
        if (container) {
            *items = (c == 0xde || c == 0xdf) ? 2 * n : n;
            return 0;
        }
        skip += n;
    }
    if (skip > avail)
        return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "truncated msgpack");
    *pos += skip;
    if (counted)
        *payload = skip;
    return 0;
}

/* True when c is the tag of a map or an array. */
static bool s_is_container(unsigned char c)
{
    return (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
}

/* Walks the msgpack bytes before msgpack-c sees them, so that no declared
   size can make it allocate more than the frame could hold: every map or
   array must declare no more items than bytes remain (each item takes at
   least one), nesting is bounded, and the frame holds exactly one object. */
static int s_prescan(const unsigned char *p, size_t size, kf_error_t *err)
{
    uint64_t open[S_MAX_NESTING + 1]; /* items still expected at each level */
    uint64_t total = 1;               /* items still expected overall */
    int top = 1;
    size_t pos = 0;
    open[0] = 1;
    while (top > 0) {
        if (open[top - 1] == 0) {
            top--;
            continue;
        }
        open[top - 1]--;
        total--;
        bool container = pos < size && s_is_container(p[pos]);
        uint64_t items, payload;
        if (s_item(p, size, &pos, &items, &payload, err))
            return -1;
        if (!container)
            continue;
        size_t avail = size - pos;
        if (items > avail || total + items > avail)
            return kf_error_set(err, KF_E_BAD_ENVELOPE, "",
                                "a map or array declares more entries than the frame holds");
        if (top > S_MAX_NESTING)
            return kf_error_set(err, KF_E_TOO_LONG, "",
                                "maps and arrays nested deeper than %d inside body", KF_MAX_DEPTH);
        total += items;
        open[top++] = items;
    }
    if (pos != size)
        return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "%zu trailing bytes after the envelope",
                            size - pos);
    return 0;
}

/* Moves *pos past one whole msgpack object (a map or array with all it
   holds), without nesting limits and without allocating: each step reads
   at least one byte. Returns 0, or -1 when the bytes end first or are no
   msgpack. */
static int s_skip(const unsigned char *p, size_t size, size_t *pos)
{
    kf_error_t err;
    uint64_t left = 1; /* objects still to pass */
    while (left > 0) {
        uint64_t items, payload;
        if (s_item(p, size, pos, &items, &payload, &err))
            return -1;
        left--;
        if (items > size - *pos)
            return -1;
        left += items;
    }
    return 0;
}

/* True when c is the tag of a str. */
static bool s_is_str(unsigned char c)
{
    return (c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb);
}

/* True when c is the tag of a map. */
static bool s_is_map(unsigned char c)
{
    return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

bool kf_env_peek_id(const void *data, size_t size, char *buf, size_t bufsize)
{
    assert(buf && bufsize > KF_MAX_ID);
    buf[0] = '\0';
    const unsigned char *p = data;
    if (!p || size == 0 || !s_is_map(p[0]))
        return false;
    kf_error_t err;
    size_t pos = 0;
    uint64_t entries, items, payload;
    if (s_item(p, size, &pos, &entries, &payload, &err))
        return false;
    bool seen = false; /* an "id" key, readable or not */
    for (uint64_t i = 0; i < entries / 2; i++) {
        bool str = pos < size && s_is_str(p[pos]);
        if (s_item(p, size, &pos, &items, &payload, &err) || items > 0)
            break; /* what was read so far stands */
        if (!str || payload != 2 || memcmp(p + pos - 2, "id", 2) != 0) {
            if (s_skip(p, size, &pos) != 0)
                break;
            continue;
        }
        if (seen) { /* two ids: neither is the request's */
            buf[0] = '\0';
            return false;
        }
        seen = true;
        str = pos < size && s_is_str(p[pos]);
        if (s_item(p, size, &pos, &items, &payload, &err) || items > 0)
            break;
        const char *id = (const char *)p + pos - payload;
        if (str && payload >= 1 && payload <= KF_MAX_ID && !memchr(id, '\0', payload) &&
            kf_utf8_valid(id, payload)) {
            memcpy(buf, id, payload);
            buf[payload] = '\0';
        }
    }
    return buf[0] != '\0';
}

/* Appends ".key" to a field path for error messages; a key of the body
   map (path NULL) is named as it is (proto/errors.md: `summary`,
   `history[2].note`). */
static void s_path_key(char *out, size_t size, const char *path, const msgpack_object_str *key)
{
    int n = key->size > 40 ? 40 : (int)key->size;
    snprintf(out, size, "%s%s%.*s", path ? path : "", path ? "." : "", n, key->ptr);
}

/* Checks a string anywhere in the envelope: length and UTF-8. */
static int s_check_str(const msgpack_object_str *s, size_t max, const char *path, kf_error_t *err)
{
    if (s->size > max)
        return kf_error_set(err, KF_E_TOO_LONG, path, "string of %" PRIu32 " bytes, over %zu",
                            s->size, max);
    if (!kf_utf8_valid(s->ptr, s->size))
        return kf_error_set(err, KF_E_BAD_UTF8, path, "string is not valid UTF-8");
    return 0;
}

/* True when two msgpack strings hold the same bytes. An empty string may
   have no pointer at all, which memcmp must never be given. */
static bool s_str_eq(const msgpack_object_str *a, const msgpack_object_str *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->ptr, b->ptr, a->size) == 0);
}

/* Validates a value inside the body (or an unknown top-level key's value)
   recursively. depth is the level obj has as a container: the body map is
   level 0, a map or array directly in it level 1, and so on. path names
   obj in errors; NULL for the body map itself (named `body`). */
static int s_check_value(const msgpack_object *obj, int depth, const char *path, kf_error_t *err)
{
    char sub[64];
    const char *here = path ? path : "body";
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return 0;
    case MSGPACK_OBJECT_STR:
        return s_check_str(&obj->via.str, KF_MAX_STRING, here, err);
    case MSGPACK_OBJECT_ARRAY:
        if (depth > KF_MAX_DEPTH)
            return kf_error_set(err, KF_E_TOO_LONG, here, "nested deeper than %d", KF_MAX_DEPTH);
        if (obj->via.array.size > KF_MAX_ENTRIES)
            return kf_error_set(err, KF_E_TOO_LONG, here, "array of %" PRIu32 " items, over %d",
                                obj->via.array.size, KF_MAX_ENTRIES);
        for (uint32_t i = 0; i < obj->via.array.size; i++) {
            snprintf(sub, sizeof sub, "%s[%" PRIu32 "]", here, i);
            if (s_check_value(&obj->via.array.ptr[i], depth + 1, sub, err))
                return -1;
        }
        return 0;
    case MSGPACK_OBJECT_MAP:
        if (depth > KF_MAX_DEPTH)
            return kf_error_set(err, KF_E_TOO_LONG, here, "nested deeper than %d", KF_MAX_DEPTH);
        if (obj->via.map.size > KF_MAX_ENTRIES)
            return kf_error_set(err, KF_E_TOO_LONG, here, "map of %" PRIu32 " entries, over %d",
                                obj->via.map.size, KF_MAX_ENTRIES);
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
            const msgpack_object_kv *kv = &obj->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                return kf_error_set(err, KF_E_BAD_ENVELOPE, here, "a map key is not a string");
            if (s_check_str(&kv->key.via.str, KF_MAX_STRING, here, err))
                return -1;
            for (uint32_t j = 0; j < i; j++)
                if (s_str_eq(&obj->via.map.ptr[j].key.via.str, &kv->key.via.str))
                    return kf_error_set(err, KF_E_BAD_ENVELOPE, here, "duplicate key");
            s_path_key(sub, sizeof sub, path, &kv->key.via.str);
            if (s_check_value(&kv->val, depth + 1, sub, err))
                return -1;
        }
        return 0;
    default:
        return kf_error_set(err, KF_E_WRONG_TYPE, here,
                            "binary and extension values are not used by kefu");
    }
}

/* Decodes a header string (type, id, src, corr) into out. */
static int s_header_str(const msgpack_object *obj, const char *name, size_t max, bool nil_ok,
                        char *out, kf_error_t *err)
{
    if (!obj)
        return kf_error_set(err, KF_E_MISSING_FIELD, name, "envelope has no %s", name);
    if (obj->type == MSGPACK_OBJECT_NIL && nil_ok) {
        out[0] = '\0';
        return 0;
    }
    if (obj->type != MSGPACK_OBJECT_STR)
        return kf_error_set(err, KF_E_WRONG_TYPE, name, "%s must be a string", name);
    if (s_check_str(&obj->via.str, max, name, err))
        return -1;
    if (memchr(obj->via.str.ptr, '\0', obj->via.str.size))
        return kf_error_set(err, KF_E_BAD_VALUE, name, "%s holds a NUL byte", name);
    memcpy(out, obj->via.str.ptr, obj->via.str.size);
    out[obj->via.str.size] = '\0';
    return 0;
}

/* Decodes a header integer (seq, at) that must be >= 0. */
static int s_header_int(const msgpack_object *obj, const char *name, int64_t *out, kf_error_t *err)
{
    if (!obj)
        return kf_error_set(err, KF_E_MISSING_FIELD, name, "envelope has no %s", name);
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return kf_error_set(err, KF_E_BAD_VALUE, name, "%s must not be negative", name);
    if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return kf_error_set(err, KF_E_WRONG_TYPE, name, "%s must be an integer", name);
    if (obj->via.u64 > INT64_MAX)
        return kf_error_set(err, KF_E_BAD_VALUE, name, "%s is out of range", name);
    *out = (int64_t)obj->via.u64;
    return 0;
}

/* The fields of the envelope map, in wire order. */
enum { S_V, S_TYPE, S_ID, S_SEQ, S_AT, S_SRC, S_CORR, S_BODY, S_SESSION, S_NFIELDS };
static const char *const s_fields[S_NFIELDS] = {"v",   "type", "id",   "seq",    "at",
                                                "src", "corr", "body", "session"};

/* Checks the envelope map and fills self from it. */
static int s_decode_map(kf_env_t *self, const msgpack_object *root, const char *topic,
                        size_t topic_size, kf_error_t *err)
{
    if (root->type != MSGPACK_OBJECT_MAP)
        return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "the envelope is not a msgpack map");
    const msgpack_object_map *map = &root->via.map;
    if (map->size > KF_MAX_ENTRIES)
        return kf_error_set(err, KF_E_TOO_LONG, "", "envelope of %" PRIu32 " keys, over %d",
                            map->size, KF_MAX_ENTRIES);

    const msgpack_object *f[S_NFIELDS] = {NULL};
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *key = &map->ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "an envelope key is not a string");
        if (s_check_str(&key->via.str, KF_MAX_STRING, "", err))
            return -1;
        for (uint32_t j = 0; j < i; j++)
            if (s_str_eq(&map->ptr[j].key.via.str, &key->via.str))
                return kf_error_set(err, KF_E_BAD_ENVELOPE, "", "duplicate envelope key");
        int which = -1;
        for (int k = 0; k < S_NFIELDS; k++)
            if (key->via.str.size == strlen(s_fields[k]) &&
                memcmp(key->via.str.ptr, s_fields[k], key->via.str.size) == 0)
                which = k;
        if (which >= 0) {
            f[which] = &map->ptr[i].val;
        } else {
            /* Unknown keys are ignored for forward compatibility, but their
               values must still obey the limits of a body value. */
            char path[64];
            int n = key->via.str.size > 40 ? 40 : (int)key->via.str.size;
            snprintf(path, sizeof path, "%.*s", n, key->via.str.ptr);
            if (s_check_value(&map->ptr[i].val, 0, path, err))
                return -1;
        }
    }

    /* Version first: a v2 envelope may mean anything else differently. */
    if (!f[S_V])
        return kf_error_set(err, KF_E_MISSING_FIELD, "v", "envelope has no v");
    if (f[S_V]->type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[S_V]->via.u64 != KF_ENV_VERSION)
        return kf_error_set(err, KF_E_BAD_VERSION, "v", "envelope version must be %d",
                            KF_ENV_VERSION);

    if (s_header_str(f[S_TYPE], "type", KF_MAX_TYPE, false, self->type, err))
        return -1;
    if (strlen(self->type) != topic_size || memcmp(self->type, topic, topic_size) != 0)
        return kf_error_set(err, KF_E_UNKNOWN_TYPE, "type", "type does not match the topic frame");
    if (!kf_catalog_known(self->type))
        return kf_error_set(err, KF_E_UNKNOWN_TYPE, "type", "unknown type %s", self->type);

    if (s_header_str(f[S_ID], "id", KF_MAX_ID, false, self->id, err))
        return -1;
    if (self->id[0] == '\0')
        return kf_error_set(err, KF_E_BAD_VALUE, "id", "id must not be empty");
    if (s_header_int(f[S_SEQ], "seq", &self->seq, err))
        return -1;
    if (s_header_int(f[S_AT], "at", &self->at, err))
        return -1;
    if (s_header_str(f[S_SRC], "src", KF_MAX_ID, false, self->src, err))
        return -1;
    if (s_header_str(f[S_CORR], "corr", KF_MAX_ID, true, self->corr, err))
        return -1;
    if (f[S_SESSION] && s_header_str(f[S_SESSION], "session", KF_MAX_ID, false, self->session, err))
        return -1;

    if (!f[S_BODY])
        return kf_error_set(err, KF_E_MISSING_FIELD, "body", "envelope has no body");
    if (f[S_BODY]->type != MSGPACK_OBJECT_MAP)
        return kf_error_set(err, KF_E_WRONG_TYPE, "body", "body must be a map");
    if (s_check_value(f[S_BODY], 0, NULL, err))
        return -1;
    self->body = f[S_BODY];
    return 0;
}

kf_env_t *kf_env_decode(const void *topic, size_t topic_size, const void *data, size_t size,
                        kf_error_t *err)
{
    if (!topic || topic_size == 0 || topic_size > KF_MAX_TYPE) {
        kf_error_set(err, KF_E_BAD_FRAME, "", "topic frame must be 1 to %d bytes", KF_MAX_TYPE);
        return NULL;
    }
    if (!data || size == 0) {
        kf_error_set(err, KF_E_BAD_FRAME, "", "empty envelope frame");
        return NULL;
    }
    if (size > KF_MAX_FRAME) {
        kf_error_set(err, KF_E_TOO_LONG, "", "envelope frame of %zu bytes, over %d", size,
                     KF_MAX_FRAME);
        return NULL;
    }
    if (s_prescan(data, size, err))
        return NULL;

    kf_env_t *self = calloc(1, sizeof *self);
    if (!self) {
        kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
        return NULL;
    }
    msgpack_unpacked_init(&self->unpacked);
    /* msgpack-c's objects point into the buffer, so the envelope keeps a copy. */
    self->data = malloc(size);
    if (!self->data) {
        kf_error_set(err, KF_E_INTERNAL, "", "out of memory");
        kf_env_destroy(&self);
        return NULL;
    }
    memcpy(self->data, data, size);
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack_next(&self->unpacked, self->data, size, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS || off != size) {
        kf_error_set(err, KF_E_BAD_ENVELOPE, "", "not a single msgpack object (%d)", (int)rc);
        kf_env_destroy(&self);
        return NULL;
    }
    if (s_decode_map(self, &self->unpacked.data, topic, topic_size, err)) {
        kf_env_destroy(&self);
        return NULL;
    }
    return self;
}

kf_env_t *kf_env_decode_msg(zmsg_t *msg, kf_error_t *err)
{
    if (!msg || zmsg_size(msg) != 2) {
        kf_error_set(err, KF_E_BAD_FRAME, "", "a message must have 2 frames, not %zu",
                     msg ? zmsg_size(msg) : 0);
        return NULL;
    }
    zframe_t *topic = zmsg_first(msg);
    zframe_t *data = zmsg_next(msg);
    return kf_env_decode(zframe_data(topic), zframe_size(topic), zframe_data(data),
                         zframe_size(data), err);
}

void kf_env_destroy(kf_env_t **self_p)
{
    assert(self_p);
    kf_env_t *self = *self_p;
    if (!self)
        return;
    msgpack_unpacked_destroy(&self->unpacked);
    free(self->data);
    free(self);
    *self_p = NULL;
}

const char *kf_env_type(const kf_env_t *self)
{
    return self->type;
}

const char *kf_env_id(const kf_env_t *self)
{
    return self->id;
}

int64_t kf_env_seq(const kf_env_t *self)
{
    return self->seq;
}

int64_t kf_env_at(const kf_env_t *self)
{
    return self->at;
}

const char *kf_env_src(const kf_env_t *self)
{
    return self->src;
}

const char *kf_env_corr(const kf_env_t *self)
{
    return self->corr;
}

const char *kf_env_session(const kf_env_t *self)
{
    return self->session;
}

const msgpack_object *kf_env_body(const kf_env_t *self)
{
    return self->body;
}

/* ---- getters ------------------------------------------------------- */

const msgpack_object *kf_map_get(const msgpack_object *map, const char *key)
{
    if (!map || !key || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
            memcmp(k->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* The field's value, or NULL when absent or nil; fills err (and sets *rc
   to -1) when it is absent but required. */
static const msgpack_object *s_field(const msgpack_object *map, const char *key, bool required,
                                     int *rc, kf_error_t *err)
{
    const msgpack_object *obj = kf_map_get(map, key);
    if (obj && obj->type == MSGPACK_OBJECT_NIL)
        obj = NULL;
    *rc = 0;
    if (!obj && required)
        *rc = kf_error_set(err, KF_E_MISSING_FIELD, key, "%s is required", key);
    return obj;
}

int kf_get_str(const msgpack_object *map, const char *key, bool required, char *buf, size_t bufsize,
               kf_error_t *err)
{
    assert(buf && bufsize > 0);
    buf[0] = '\0';
    int rc;
    const msgpack_object *obj = s_field(map, key, required, &rc, err);
    if (!obj)
        return rc;
    if (obj->type != MSGPACK_OBJECT_STR)
        return kf_error_set(err, KF_E_WRONG_TYPE, key, "%s must be a string", key);
    const msgpack_object_str *s = &obj->via.str;
    if (s->size > bufsize - 1)
        return kf_error_set(err, KF_E_TOO_LONG, key, "%s is over %zu bytes", key, bufsize - 1);
    if (memchr(s->ptr, '\0', s->size))
        return kf_error_set(err, KF_E_BAD_VALUE, key, "%s holds a NUL byte", key);
    if (!kf_utf8_valid(s->ptr, s->size))
        return kf_error_set(err, KF_E_BAD_UTF8, key, "%s is not valid UTF-8", key);
    memcpy(buf, s->ptr, s->size);
    buf[s->size] = '\0';
    return 1;
}

bool kf_has_text(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

int kf_get_text(const msgpack_object *map, const char *key, bool required, char *buf,
                size_t bufsize, kf_error_t *err)
{
    int rc = kf_get_str(map, key, required, buf, bufsize, err);
    if (rc == 1 && !kf_has_text(buf))
        return kf_error_set(err, KF_E_BAD_VALUE, key, "%s must not be blank", key);
    return rc;
}

int kf_get_int(const msgpack_object *map, const char *key, bool required, int64_t min, int64_t max,
               int64_t *out, kf_error_t *err)
{
    int rc;
    const msgpack_object *obj = s_field(map, key, required, &rc, err);
    if (!obj)
        return rc;
    int64_t value;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > INT64_MAX)
            return kf_error_set(err, KF_E_BAD_VALUE, key,
                                "%s must lie in [%" PRId64 ", %" PRId64 "]", key, min, max);
        value = (int64_t)obj->via.u64;
    } else if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        value = obj->via.i64;
    } else {
        return kf_error_set(err, KF_E_WRONG_TYPE, key, "%s must be an integer", key);
    }
    if (value < min || value > max)
        return kf_error_set(err, KF_E_BAD_VALUE, key, "%s must lie in [%" PRId64 ", %" PRId64 "]",
                            key, min, max);
    *out = value;
    return 1;
}

int kf_get_bool(const msgpack_object *map, const char *key, bool required, bool *out,
                kf_error_t *err)
{
    int rc;
    const msgpack_object *obj = s_field(map, key, required, &rc, err);
    if (!obj)
        return rc;
    if (obj->type != MSGPACK_OBJECT_BOOLEAN)
        return kf_error_set(err, KF_E_WRONG_TYPE, key, "%s must be true or false", key);
    *out = obj->via.boolean;
    return 1;
}

int kf_get_enum(const msgpack_object *map, const char *key, bool required, const char *const *names,
                int *out, kf_error_t *err)
{
    int rc;
    const msgpack_object *obj = s_field(map, key, required, &rc, err);
    if (!obj)
        return rc;
    if (obj->type != MSGPACK_OBJECT_STR)
        return kf_error_set(err, KF_E_WRONG_TYPE, key, "%s must be a string", key);
    for (int i = 0; names[i]; i++) {
        if (obj->via.str.size == strlen(names[i]) &&
            memcmp(obj->via.str.ptr, names[i], obj->via.str.size) == 0) {
            *out = i;
            return 1;
        }
    }
    char list[160] = "";
    size_t used = 0;
    for (int i = 0; names[i] && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    return kf_error_set(err, KF_E_BAD_VALUE, key, "%s must be one of: %s", key, list);
}

/* ---- building ------------------------------------------------------ */

kf_body_t *kf_body_new(void)
{
    kf_body_t *self = calloc(1, sizeof *self);
    assert(self);
    msgpack_sbuffer_init(&self->sbuf);
    msgpack_packer_init(&self->pk, &self->sbuf, msgpack_sbuffer_write);
    return self;
}

void kf_body_destroy(kf_body_t **self_p)
{
    assert(self_p);
    kf_body_t *self = *self_p;
    if (!self)
        return;
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self);
    *self_p = NULL;
}

/* Packs a C string as a msgpack str. */
static void s_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

msgpack_packer *kf_body_key(kf_body_t *self, const char *key)
{
    assert(self && key);
    s_pack_cstr(&self->pk, key);
    self->count++;
    return &self->pk;
}

void kf_body_str(kf_body_t *self, const char *key, const char *value)
{
    msgpack_packer *pk = kf_body_key(self, key);
    if (value)
        s_pack_cstr(pk, value);
    else
        msgpack_pack_nil(pk);
}

void kf_body_int(kf_body_t *self, const char *key, int64_t value)
{
    msgpack_pack_int64(kf_body_key(self, key), value);
}

void kf_body_bool(kf_body_t *self, const char *key, bool value)
{
    msgpack_packer *pk = kf_body_key(self, key);
    if (value)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void kf_body_nil(kf_body_t *self, const char *key)
{
    msgpack_pack_nil(kf_body_key(self, key));
}

/* Appends child as a complete map (header and entries) to self's bytes. */
static void s_append_map(kf_body_t *self, const kf_body_t *child)
{
    msgpack_pack_map(&self->pk, child->count);
    if (child->sbuf.size)
        msgpack_sbuffer_write(&self->sbuf, child->sbuf.data, child->sbuf.size);
}

void kf_body_map(kf_body_t *self, const char *key, kf_body_t **child_p)
{
    assert(child_p && *child_p);
    kf_body_key(self, key);
    s_append_map(self, *child_p);
    kf_body_destroy(child_p);
}

void kf_body_array(kf_body_t *self, const char *key, kf_body_t **items, size_t count)
{
    msgpack_packer *pk = kf_body_key(self, key);
    msgpack_pack_array(pk, count);
    for (size_t i = 0; i < count; i++) {
        assert(items[i]);
        s_append_map(self, items[i]);
        kf_body_destroy(&items[i]);
    }
}

size_t kf_body_count(const kf_body_t *self)
{
    return self->count;
}

const char *kf_body_data(const kf_body_t *self, size_t *size)
{
    *size = self->sbuf.size;
    return self->sbuf.data;
}

/* Packs one JSON value; depth counts the containers enclosing it inside
   the body, with the same limits as the decoder so that nothing is built
   which a receiver would refuse. */
static int s_pack_json(msgpack_packer *pk, json_t *value, int depth, const char *path,
                       kf_error_t *err)
{
    char sub[64];
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        if (depth > KF_MAX_DEPTH)
            return kf_error_set(err, KF_E_TOO_LONG, path, "nested deeper than %d", KF_MAX_DEPTH);
        if (json_object_size(value) > KF_MAX_ENTRIES)
            return kf_error_set(err, KF_E_TOO_LONG, path, "object over %d members", KF_MAX_ENTRIES);
        msgpack_pack_map(pk, json_object_size(value));
        const char *k;
        json_t *v;
        json_object_foreach(value, k, v)
        {
            size_t klen = strlen(k);
            if (klen > KF_MAX_STRING)
                return kf_error_set(err, KF_E_TOO_LONG, path, "key over %d bytes", KF_MAX_STRING);
            msgpack_pack_str(pk, klen);
            msgpack_pack_str_body(pk, k, klen);
            snprintf(sub, sizeof sub, "%s%s%.40s", path, *path ? "." : "", k);
            if (s_pack_json(pk, v, depth + 1, sub, err))
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        if (depth > KF_MAX_DEPTH)
            return kf_error_set(err, KF_E_TOO_LONG, path, "nested deeper than %d", KF_MAX_DEPTH);
        size_t n = json_array_size(value);
        if (n > KF_MAX_ENTRIES)
            return kf_error_set(err, KF_E_TOO_LONG, path, "array over %d items", KF_MAX_ENTRIES);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (s_pack_json(pk, json_array_get(value, i), depth + 1, sub, err))
                return -1;
        }
        return 0;
    }
    case JSON_STRING: {
        size_t len = json_string_length(value);
        if (len > KF_MAX_STRING)
            return kf_error_set(err, KF_E_TOO_LONG, path, "string over %d bytes", KF_MAX_STRING);
        msgpack_pack_str(pk, len);
        msgpack_pack_str_body(pk, json_string_value(value), len);
        return 0;
    }
    case JSON_INTEGER:
        msgpack_pack_int64(pk, (int64_t)json_integer_value(value));
        return 0;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(value));
        return 0;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        return 0;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        return 0;
    case JSON_NULL:
    default:
        msgpack_pack_nil(pk);
        return 0;
    }
}

int kf_body_from_json(kf_body_t *self, const char *json_text, kf_error_t *err)
{
    assert(self);
    if (!json_text)
        return kf_error_set(err, KF_E_BAD_VALUE, "", "no JSON text");
    json_error_t jerr;
    json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return kf_error_set(err, KF_E_BAD_VALUE, "", "invalid JSON at line %d: %s", jerr.line,
                            jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return kf_error_set(err, KF_E_BAD_VALUE, "", "JSON text is not an object");
    }
    /* Build apart and append only on success, so a failure leaves self as
       it was. */
    kf_body_t *tmp = kf_body_new();
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (strlen(k) > KF_MAX_STRING) {
            rc = kf_error_set(err, KF_E_TOO_LONG, "", "key over %d bytes", KF_MAX_STRING);
            break;
        }
        char path[64];
        snprintf(path, sizeof path, "%.40s", k);
        if (s_pack_json(kf_body_key(tmp, k), v, 1, path, err)) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && self->count + tmp->count > KF_MAX_ENTRIES)
        rc = kf_error_set(err, KF_E_TOO_LONG, "", "body over %d fields", KF_MAX_ENTRIES);
    if (rc == 0) {
        if (tmp->sbuf.size)
            msgpack_sbuffer_write(&self->sbuf, tmp->sbuf.data, tmp->sbuf.size);
        self->count += tmp->count;
    }
    kf_body_destroy(&tmp);
    json_decref(root);
    return rc;
}

zmsg_t *kf_env_encode(const char *type, const char *id, int64_t seq, int64_t at, const char *src,
                      const char *corr, kf_body_t **body_p)
{
    return kf_env_encode_as(type, id, seq, at, src, corr, NULL, body_p);
}

zmsg_t *kf_env_encode_as(const char *type, const char *id, int64_t seq, int64_t at, const char *src,
                         const char *corr, const char *session, kf_body_t **body_p)
{
    assert(type);
    char uuid[37] = "";
    if (!id) {
        zuuid_t *u = zuuid_new();
        assert(u);
        snprintf(uuid, sizeof uuid, "%s", zuuid_str_canonical(u));
        zuuid_destroy(&u);
        id = uuid;
    }
    if (at == 0)
        at = kf_now_ms();

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    bool with_session = session && *session;
    msgpack_pack_map(&pk, with_session ? S_NFIELDS : S_NFIELDS - 1);
    s_pack_cstr(&pk, "v");
    msgpack_pack_int64(&pk, KF_ENV_VERSION);
    s_pack_cstr(&pk, "type");
    s_pack_cstr(&pk, type);
    s_pack_cstr(&pk, "id");
    s_pack_cstr(&pk, id);
    s_pack_cstr(&pk, "seq");
    msgpack_pack_int64(&pk, seq);
    s_pack_cstr(&pk, "at");
    msgpack_pack_int64(&pk, at);
    s_pack_cstr(&pk, "src");
    s_pack_cstr(&pk, src ? src : "");
    s_pack_cstr(&pk, "corr");
    s_pack_cstr(&pk, corr ? corr : "");
    if (with_session) {
        s_pack_cstr(&pk, "session");
        s_pack_cstr(&pk, session);
    }
    s_pack_cstr(&pk, "body");
    kf_body_t *body = body_p ? *body_p : NULL;
    msgpack_pack_map(&pk, body ? body->count : 0);
    if (body && body->sbuf.size)
        msgpack_sbuffer_write(&sbuf, body->sbuf.data, body->sbuf.size);
    if (body_p)
        kf_body_destroy(body_p);

    zmsg_t *msg = zmsg_new();
    assert(msg);
    zmsg_addstr(msg, type);
    zmsg_addmem(msg, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    return msg;
}
