/* kefu — msgpack to JSON, for the client's --json output. */
#include "jsonmp.h"

#include <math.h>
#include <stdint.h>

json_t *kf_json_from_msgpack(const msgpack_object *obj)
{
    if (!obj)
        return NULL;
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(obj->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* JSON integers here are int64: a larger value keeps its magnitude
           as a real rather than wrapping to a negative number. */
        if (obj->via.u64 > INT64_MAX)
            return json_real((double)obj->via.u64);
        return json_integer((json_int_t)obj->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)obj->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        /* JSON has no NaN or infinity and jansson refuses them; the value
           is valid msgpack, so it shows as null rather than failing the
           whole document. */
        if (!isfinite(obj->via.f64))
            return json_null();
        return json_real(obj->via.f64);
    case MSGPACK_OBJECT_STR:
        /* NULL when the bytes are not UTF-8: jansson checks. */
        return json_stringn(obj->via.str.ptr, obj->via.str.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *array = json_array();
        if (!array)
            return NULL;
        for (uint32_t i = 0; i < obj->via.array.size; i++) {
            json_t *item = kf_json_from_msgpack(&obj->via.array.ptr[i]);
            if (!item || json_array_append_new(array, item)) {
                json_decref(array);
                return NULL;
            }
        }
        return array;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *object = json_object();
        if (!object)
            return NULL;
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
            const msgpack_object_kv *kv = &obj->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                json_decref(object);
                return NULL;
            }
            json_t *value = kf_json_from_msgpack(&kv->val);
            /* json_object_setn_new takes value even when it fails. */
            if (!value ||
                json_object_setn_new(object, kv->key.via.str.ptr, kv->key.via.str.size, value)) {
                json_decref(object);
                return NULL;
            }
        }
        return object;
    }
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT:
    default:
        return json_null();
    }
}
