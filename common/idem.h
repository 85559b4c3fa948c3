/* kefu — idempotency keys of the requests that change something and make
   no row of their own to keep a key on (ticket.respond, ...).

   A key belongs to the person who sent it and to what they sent
   (design.md): the same actor, key and content again is answered with the
   reply the key got first, plus duplicate: true; the same actor and key
   with another type or content is conflict (field idem); another actor's
   same key is their own. Keys live in the store's request_idem table
   (migration 022). The daemon calls kf_idem_take inside the transaction
   that does the work, and kf_idem_keep after the work succeeded, before
   it commits: a failed request keeps nothing. */
#ifndef KF_IDEM_H
#define KF_IDEM_H

#include <stdbool.h>

#include <msgpack.h>

#include "envelope.h"
#include "kf_error.h"
#include "store.h"

/* A request's key while it is handled. */
typedef struct {
    const char *actor; /* who sent it (not owned) */
    const char *idem;  /* the key; NULL or "": no key, take and keep do nothing */
    const char *type;  /* the request type (not owned) */
    char *content;     /* the canonical content, hex (owned; kf_idem_done frees) */
} kf_idem_t;

/* The canonical content of a request of type with msgpack body (a map):
   every field the model gives that message, except idem, in model order,
   each as name=value (s + the string's bytes, i + a decimal integer, t or
   f for a boolean, n for nil, j + compact JSON with sorted keys for
   anything else) or as the name alone when absent, each ended by the byte
   0xFF, which valid UTF-8 never holds. A key given twice counts by its
   first value. Returns a new string (the caller frees it) and its length
   in *size, or NULL when type is no request of the model. */
char *kf_idem_content(const char *type, const msgpack_object *body, size_t *size);

/* Registers the statements kf_idem_take and kf_idem_keep use. */
void kf_idem_prepare(kf_store_t *store);

/* Inside the caller's open transaction: serialises on (actor, key), then
   looks the key up. Returns 0 with *replayed false when the key is new
   (do the work) or there is none; 0 with *replayed true when it is a retry
   (reply holds the stored answer and duplicate: true; commit and answer);
   -1 with err conflict (field idem) when the key was used for something
   else, or the store's error. */
int kf_idem_take(kf_store_t *store, kf_idem_t *self, const msgpack_object *body, kf_body_t *reply,
                 bool *replayed, kf_error_t *err);

/* The canonical content of the request as hex (kept in self->content,
   made once): what a store function that takes and keeps the key itself
   fingerprints (e.g. kefu_approval_decide_call). Returns it, or NULL with
   err. */
const char *kf_idem_hex(kf_idem_t *self, const msgpack_object *body, kf_error_t *err);

/* Keeps reply as the answer of the key, in the caller's transaction. */
int kf_idem_keep(kf_store_t *store, const kf_idem_t *self, const kf_body_t *reply, kf_error_t *err);

/* Frees what kf_idem_take made. */
void kf_idem_done(kf_idem_t *self);

#endif
