/* kefu — the envelope of the wire contract (proto/envelope.md).

   A message is two ZeroMQ frames: the type as a topic string, then a
   msgpack map {v, type, id, seq, at, src, corr, body}. The decoder is
   paranoid: every size is checked against its limit before use, every
   string anywhere in the envelope must be valid UTF-8, and anything
   unexpected is a named error (kf_error.h), never a crash. */
#ifndef KF_ENVELOPE_H
#define KF_ENVELOPE_H

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "kf_error.h"

#define KF_ENV_VERSION 1
#define KF_MAX_FRAME (64 * 1024) /* bytes in the envelope frame */
#define KF_MAX_TYPE 64           /* bytes in type (and the topic frame) */
#define KF_MAX_ID 64             /* bytes in id, src and corr */
#define KF_MAX_STRING 8192       /* bytes in any string inside body */
#define KF_MAX_ENTRIES 256       /* entries in any map or array inside body */
#define KF_MAX_DEPTH 4           /* nesting of maps/arrays inside body */

typedef struct kf_env kf_env_t;

/* Decodes the two frames of a message. Returns a new envelope, or NULL
   with err filled (bad_frame, bad_envelope, bad_version, unknown_type,
   missing_field, wrong_type, too_long, bad_utf8). The type must be in the
   catalog (catalog.h) and equal the topic frame. */
kf_env_t *kf_env_decode(const void *topic, size_t topic_size, const void *data, size_t size,
                        kf_error_t *err);

/* Decodes a received zmsg of exactly two frames (topic, envelope). */
kf_env_t *kf_env_decode_msg(zmsg_t *msg, kf_error_t *err);

/* The id of an envelope frame that kf_env_decode refused, when it can
   still be read, so that the error reply's corr can name the request: the
   frame starts with a msgpack map whose one "id" key holds a str of 1 to
   KF_MAX_ID bytes, valid UTF-8 without NUL (whatever else is wrong, even in
   a frame over KF_MAX_FRAME). Reads in one pass without allocating. Copies
   it into buf (bufsize > KF_MAX_ID) and returns true; else buf is "". */
bool kf_env_peek_id(const void *data, size_t size, char *buf, size_t bufsize);

void kf_env_destroy(kf_env_t **self_p);

const char *kf_env_type(const kf_env_t *self);
const char *kf_env_id(const kf_env_t *self);
int64_t kf_env_seq(const kf_env_t *self);
int64_t kf_env_at(const kf_env_t *self);
const char *kf_env_src(const kf_env_t *self);
const char *kf_env_corr(const kf_env_t *self);
/* The web session the request was sent in by a gateway, "" when none. */
const char *kf_env_session(const kf_env_t *self);
/* The body map; valid until the envelope is destroyed. */
const msgpack_object *kf_env_body(const kf_env_t *self);

/* ---- reading body fields ---------------------------------------------
   Each getter returns 1 when the field is present and valid, 0 when it is
   absent (or nil) and optional, -1 with err filled otherwise. */

/* The value of key in map, or NULL. */
const msgpack_object *kf_map_get(const msgpack_object *map, const char *key);

/* Copies a string field into buf (NUL-terminated). A string of more than
   bufsize - 1 bytes is too_long; one holding a NUL byte is bad_value. */
int kf_get_str(const msgpack_object *map, const char *key, bool required, char *buf, size_t bufsize,
               kf_error_t *err);

/* True when s holds something other than white space. */
bool kf_has_text(const char *s);

/* kf_get_str for text that must not be blank (only white space) when
   present: bad_value naming key. Returns 1 present, 0 absent, -1. */
int kf_get_text(const msgpack_object *map, const char *key, bool required, char *buf,
                size_t bufsize, kf_error_t *err);

/* Reads an integer field that must lie in [min, max]. */
int kf_get_int(const msgpack_object *map, const char *key, bool required, int64_t min, int64_t max,
               int64_t *out, kf_error_t *err);

int kf_get_bool(const msgpack_object *map, const char *key, bool required, bool *out,
                kf_error_t *err);

/* Reads a string field that must be one of names (NULL-terminated list);
 *out is its index. */
int kf_get_enum(const msgpack_object *map, const char *key, bool required, const char *const *names,
                int *out, kf_error_t *err);

/* ---- building bodies and envelopes ----------------------------------- */

typedef struct kf_body kf_body_t;

kf_body_t *kf_body_new(void);
void kf_body_destroy(kf_body_t **self_p);

/* Packs key and returns the packer, on which the caller packs exactly one
   value. The typed helpers below are built on it. */
msgpack_packer *kf_body_key(kf_body_t *self, const char *key);

/* A NULL value packs nil. */
void kf_body_str(kf_body_t *self, const char *key, const char *value);
void kf_body_int(kf_body_t *self, const char *key, int64_t value);
void kf_body_bool(kf_body_t *self, const char *key, bool value);
void kf_body_nil(kf_body_t *self, const char *key);
/* Nests a map; takes ownership of *child_p. */
void kf_body_map(kf_body_t *self, const char *key, kf_body_t **child_p);
/* Nests an array of maps; takes ownership of each items[i]. */
void kf_body_array(kf_body_t *self, const char *key, kf_body_t **items, size_t count);

/* Appends every member of a JSON object (text) to the body, converting
   values recursively: integers stay integers, null becomes nil. */
int kf_body_from_json(kf_body_t *self, const char *json_text, kf_error_t *err);

/* The number of fields, and the packed bytes (the map's entries, without
   the map header) with their size in *size. */
size_t kf_body_count(const kf_body_t *self);
const char *kf_body_data(const kf_body_t *self, size_t *size);

/* Encodes an envelope. id NULL makes a new UUID; at 0 means now; body_p
   NULL means an empty body, otherwise ownership is taken. Returns the two
   frames as a new message. */
zmsg_t *kf_env_encode(const char *type, const char *id, int64_t seq, int64_t at, const char *src,
                      const char *corr, kf_body_t **body_p);
/* The same with the optional "session" key: the web session a gateway
   acts in (proto/envelope.md); NULL or "" leaves it out. */
zmsg_t *kf_env_encode_as(const char *type, const char *id, int64_t seq, int64_t at, const char *src,
                         const char *corr, const char *session, kf_body_t **body_p);

/* ---- other helpers ------------------------------------------------ */

/* True when the size bytes at data are well-formed UTF-8 (no overlongs,
   no surrogates, nothing above U+10FFFF). */
bool kf_utf8_valid(const void *data, size_t size);

/* Milliseconds since the epoch, wall clock. */
int64_t kf_now_ms(void);

#endif
