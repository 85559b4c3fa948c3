/* kefu-gateway — a phone system's call event (POST /api/v1/calls) read
   from its JSON body, with no I/O: the members, their types and the
   store's rules for their values (deploy/migrations/020_tokens_calls.sql,
   kefu_call_event), checked first so a refusal names its field. Pure, so
   the fuzz target fuzz_gateway_calls drives it directly. */
#ifndef GW_CALLS_H
#define GW_CALLS_H

#include <jansson.h>
#include <stddef.h>

#include "kf_error.h"
#include "phone.h"

#define GW_CALL_ID_MAX 128         /* characters of a call id, printable ASCII */
#define GW_CALLER_MAX 64           /* bytes of a caller as received */
#define GW_AT_MAX 32503680000000LL /* ms: the year 3000, well within the store's range */

/* One event as received. Its strings point into the parsed body. */
typedef struct {
    const char *event;              /* ringing, answered or hangup (newCall, answer mapped) */
    const char *call_id;            /* 1 to GW_CALL_ID_MAX printable ASCII characters */
    const char *caller;             /* NULL when absent */
    const char *extension;          /* 2 to 16 digits, or NULL */
    char at[24];                    /* ms since the epoch as text, "" for now */
    char caller_norm[KF_PHONE_MAX]; /* the caller normalised, "" when it is no number */
} gw_call_event_t;

/* Reads a call event from a POST body: application/json (415), at most
   GW_MAX_BODY bytes (413), one JSON object (400) with the members event
   and call_id and optionally caller, extension and at, each of its type
   and within its rule (400 naming the member). Returns 0 with *ev (its
   strings in *root_p, which the caller decrefs, also on a refusal), or
   the HTTP status with err. */
int gw_call_event_read(const char *content_type, const char *body, size_t size, json_t **root_p,
                       gw_call_event_t *ev, kf_error_t *err);

#endif
