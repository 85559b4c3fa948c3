/* kefu — msgpack to JSON, for the client's --json output. */
#ifndef KF_JSONMP_H
#define KF_JSONMP_H

#include <jansson.h>
#include <msgpack.h>

/* A new JSON value equal to obj: maps become objects (keys must be
   strings), binary becomes a base64 string is not supported and yields
   null, and so does a float that is NaN or infinite (JSON has neither).
   Caller json_decref()s. */
json_t *kf_json_from_msgpack(const msgpack_object *obj);

#endif
