/* kefu — the stable error codes of the wire contract (proto/errors.md). */
#ifndef KF_ERROR_H
#define KF_ERROR_H

#include <stddef.h>

/* Every error a peer can be told about. The names are the wire codes;
   never renumber or rename one, only append. */
typedef enum {
    KF_OK = 0,
    KF_E_BAD_FRAME,     /* wrong number of frames, or an empty or bad topic frame */
    KF_E_BAD_ENVELOPE,  /* not a msgpack map, or trailing bytes */
    KF_E_BAD_VERSION,   /* envelope version is not 1 */
    KF_E_UNKNOWN_TYPE,  /* type not in the catalog, or topic frame != type */
    KF_E_MISSING_FIELD, /* a required field is absent */
    KF_E_WRONG_TYPE,    /* a field has the wrong msgpack type */
    KF_E_TOO_LONG,      /* the frame, a string, a map or an array is over its limit */
    KF_E_BAD_UTF8,      /* a string is not valid UTF-8 */
    KF_E_BAD_VALUE,     /* a value outside its allowed set or range */
    KF_E_NOT_FOUND,     /* unknown ticket, project, unit or staff member */
    KF_E_FORBIDDEN,     /* the actor may not do this */
    KF_E_UNKNOWN_ACTOR, /* the actor is not a registered staff member */
    KF_E_CONFLICT,      /* the ticket's state does not allow this now */
    KF_E_UNAVAILABLE,   /* temporary: the store is unreachable; retry */
    KF_E_INTERNAL,      /* a defect in kefu; logged with context */
    KF_E_COUNT
} kf_err_t;

/* The stable wire name of a code, such as "bad_utf8". */
const char *kf_err_name(kf_err_t code);

/* The code whose wire name is name, or KF_E_COUNT when there is none. */
kf_err_t kf_err_from_name(const char *name);

/* A decoded or detected error: the code, the field it concerns (may be
   empty) and a human message. Fixed size so it needs no allocation. */
typedef struct {
    kf_err_t code;
    char field[48];
    char message[200];
} kf_error_t;

/* Fills err (when not NULL) and returns -1, so callers can write
   `return kf_error_set (err, KF_E_TOO_LONG, "summary", "over %d bytes", 200);` */
int kf_error_set(kf_error_t *err, kf_err_t code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
