/* kefu — error code names. */
#include "kf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *s_names[KF_E_COUNT] = {
    [KF_OK] = "ok",
    [KF_E_BAD_FRAME] = "bad_frame",
    [KF_E_BAD_ENVELOPE] = "bad_envelope",
    [KF_E_BAD_VERSION] = "bad_version",
    [KF_E_UNKNOWN_TYPE] = "unknown_type",
    [KF_E_MISSING_FIELD] = "missing_field",
    [KF_E_WRONG_TYPE] = "wrong_type",
    [KF_E_TOO_LONG] = "too_long",
    [KF_E_BAD_UTF8] = "bad_utf8",
    [KF_E_BAD_VALUE] = "bad_value",
    [KF_E_NOT_FOUND] = "not_found",
    [KF_E_FORBIDDEN] = "forbidden",
    [KF_E_UNKNOWN_ACTOR] = "unknown_actor",
    [KF_E_CONFLICT] = "conflict",
    [KF_E_UNAVAILABLE] = "unavailable",
    [KF_E_INTERNAL] = "internal",
};

const char *kf_err_name(kf_err_t code)
{
    if (code < 0 || code >= KF_E_COUNT)
        return "internal";
    return s_names[code];
}

kf_err_t kf_err_from_name(const char *name)
{
    for (int i = 0; name && i < KF_E_COUNT; i++)
        if (strcmp(s_names[i], name) == 0)
            return (kf_err_t)i;
    return KF_E_COUNT;
}

int kf_error_set(kf_error_t *err, kf_err_t code, const char *field, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list args;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return -1;
}
