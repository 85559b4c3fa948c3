/* kefu — the stable error codes of the wire contract (proto/errors.md). */
#ifndef KF_ERROR_H
#define KF_ERROR_H

#include <stddef.h>

#include "kf_model.h"

/* Every error a peer can be told about: kf_err_t, KF_OK, KF_E_BAD_FRAME ...
   KF_E_COUNT are generated from proto/model.json ("errors") into
   kf_model.h, with each code's HTTP status (kf_model_errors). The names
   are the wire codes; never renumber or rename one, only append. */

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
