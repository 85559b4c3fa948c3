/* kefu — error code names (the table is kf_model_errors, generated). */
#include "kf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *kf_err_name(kf_err_t code)
{
    if (code < 0 || code >= KF_E_COUNT)
        return "internal";
    return kf_model_errors[code].code;
}

kf_err_t kf_err_from_name(const char *name)
{
    for (int i = 0; name && i < KF_E_COUNT; i++)
        if (strcmp(kf_model_errors[i].code, name) == 0)
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
