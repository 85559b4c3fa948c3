/* kefu — fuzz target: kefu-gateway's reading of a phone system's call
   event, gw_call_event_read (services/gateway/calls.c), the JSON body of
   POST /api/v1/calls.

   Input: 1 byte of flags (bit 0: Content-Type text/plain instead of
   application/json), then the body.

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal is 400, 413 or 415 with a code, a message and no event;
   - an accepted event holds what kefu_call_event takes without a 22023:
     event ringing, answered or hangup; a call id of 1 to 128 printable
     ASCII characters; an extension of 2 to 16 digits or none; a caller of
     at most 64 bytes or none, normalised to 5 to 15 digits or to nothing;
     at empty or 0 to GW_AT_MAX;
   - reading is deterministic. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "fuzz.h"
#include "kf_model.h"

/* True when text's length is within [min, max] and every character is
   in set (NULL: graphic ASCII, isgraph in the C locale). */
static bool s_all(const char *text, size_t min, size_t max, const char *set)
{
    size_t len = strlen(text);
    bool in_set = true;
    for (size_t i = 0; in_set && i < len; i++)
        in_set = set ? strchr(set, text[i]) != NULL : isgraph((unsigned char)text[i]) != 0;
    return in_set && len >= min && len <= max;
}

/* Checks an accepted event against the store's rules. */
static void s_check(const gw_call_event_t *ev)
{
    FZ_CHECK(ev->event && kf_model_in(KF_ENUM_CALL_EVENT, ev->event));
    FZ_CHECK(ev->call_id && s_all(ev->call_id, 1, GW_CALL_ID_MAX, NULL));
    FZ_CHECK(!ev->extension || s_all(ev->extension, 2, 16, "0123456789"));
    FZ_CHECK(!ev->caller || strlen(ev->caller) <= GW_CALLER_MAX);
    FZ_CHECK(!ev->caller_norm[0] || s_all(ev->caller_norm, 5, 15, "0123456789"));
    FZ_CHECK(ev->caller || !ev->caller_norm[0]);
    if (ev->at[0]) {
        FZ_CHECK(s_all(ev->at, 1, 14, "0123456789"));
        FZ_CHECK(strtoll(ev->at, NULL, 10) <= GW_AT_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *type = data[0] & 1 ? "text/plain" : "application/json";
    const char *body = (const char *)data + 1;
    json_t *root = NULL, *again_root = NULL;
    gw_call_event_t ev, again;
    kf_error_t err = {0}, again_err = {0};
    int status = gw_call_event_read(type, body, size - 1, &root, &ev, &err);
    int again_status = gw_call_event_read(type, body, size - 1, &again_root, &again, &again_err);
    FZ_CHECK(status == again_status && err.code == again_err.code);
    FZ_CHECK(strcmp(err.field, again_err.field) == 0);
    if (status != 0) {
        FZ_CHECK(status == 400 || status == 413 || status == 415);
        FZ_CHECK(fz_error_ok(&err));
    } else {
        s_check(&ev);
        FZ_CHECK(strcmp(ev.event, again.event) == 0 && strcmp(ev.call_id, again.call_id) == 0);
        FZ_CHECK(strcmp(ev.caller_norm, again.caller_norm) == 0 && strcmp(ev.at, again.at) == 0);
    }
    json_decref(root);
    json_decref(again_root);
    return 0;
}
