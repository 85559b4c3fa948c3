/* kefu — what the fuzz targets share (fuzz.h). */
#include "fuzz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: property broken: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

/* Packs a C string as a msgpack str. */
static void s_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

kf_env_t *fz_env_with_body(const char *type, const uint8_t *data, size_t size, kf_error_t *err)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    s_str(&pk, "v");
    msgpack_pack_int(&pk, KF_ENV_VERSION);
    s_str(&pk, "type");
    s_str(&pk, type);
    s_str(&pk, "id");
    s_str(&pk, "5a0f3b9e-2c1d-4e8f-9a7b-6c5d4e3f2a10");
    s_str(&pk, "seq");
    msgpack_pack_int(&pk, 0);
    s_str(&pk, "at");
    msgpack_pack_int64(&pk, INT64_C(1795419000123));
    s_str(&pk, "src");
    s_str(&pk, "kefu-cli");
    s_str(&pk, "corr");
    s_str(&pk, "");
    s_str(&pk, "body");
    if (size)
        msgpack_sbuffer_write(&sb, (const char *)data, size);
    kf_env_t *env = kf_env_decode(type, strlen(type), sb.data, sb.size, err);
    msgpack_sbuffer_destroy(&sb);
    return env;
}

bool fz_error_ok(const kf_error_t *err)
{
    return err->code > KF_OK && err->code < KF_E_COUNT &&
           memchr(err->field, '\0', sizeof err->field) != NULL &&
           memchr(err->message, '\0', sizeof err->message) != NULL && err->message[0] != '\0';
}

bool fz_cstr_ok(const char *buf, size_t size, size_t max)
{
    const char *end = memchr(buf, '\0', size);
    if (!end)
        return false;
    size_t len = (size_t)(end - buf);
    return len <= max && kf_utf8_valid(buf, len);
}

bool fz_in(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

bool fz_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

bool fz_field_error_ok(const kf_error_t *err)
{
    if (!fz_error_ok(err) || err->field[0] == '\0')
        return false;
    switch (err->code) {
    case KF_E_MISSING_FIELD:
    case KF_E_WRONG_TYPE:
    case KF_E_TOO_LONG:
    case KF_E_BAD_UTF8:
    case KF_E_BAD_VALUE:
        return true;
    default:
        return false;
    }
}
