/* kefu clients — errors, JSON and aligned blocks on the terminal. */
#include "output.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonmp.h"
#include "width.h"

#define OUT_LABEL_COLS 20 /* width of the label column of a block */

void out_print_json(json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(json);
    fflush(stdout);
}

/* Prints {"error": {"code", "message", "field"}} on stdout. */
static void s_json_error(const char *code, const char *message, const char *field)
{
    json_t *inner = json_object();
    json_object_set_new(inner, "code", json_string(code));
    json_object_set_new(inner, "message", json_string(message));
    json_object_set_new(inner, "field", field && *field ? json_string(field) : json_null());
    json_t *root = json_object();
    json_object_set_new(root, "error", inner);
    out_print_json(root);
}

void out_reply_error(const cli_t *cli, const char *code, const char *message, const char *field)
{
    if (field && *field)
        fprintf(stderr, "%s: %s: %s (field %s)\n", cli_program(cli), code, message, field);
    else
        fprintf(stderr, "%s: %s: %s\n", cli_program(cli), code, message);
    if (cli->json)
        s_json_error(code, message, field);
}

void out_local_error(const cli_t *cli, const char *code, const char *field, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    fprintf(stderr, "%s: %s\n", cli_program(cli), message);
    if (cli->json)
        s_json_error(code, message, field);
}

int out_json(const msgpack_object *body)
{
    json_t *json = kf_json_from_msgpack(body);
    if (!json)
        return -1;
    /* 15 significant digits: a figure such as 85.7 (a double) prints as
       85.7, not as jansson's default 85.700000000000003. */
    char *text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
                                      JSON_REAL_PRECISION(15));
    json_decref(json);
    if (!text)
        return -1;
    printf("%s\n", text);
    free(text);
    return 0;
}

void out_field(const char *label, const char *value)
{
    int pad = OUT_LABEL_COLS - width_of(label);
    printf("%s%*s", label, pad > 1 ? pad : 1, "");
    for (const char *line = value; line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        if (line != value)
            printf("%*s", OUT_LABEL_COLS, "");
        printf("%.*s\n", len, line);
        line = end ? end + 1 : NULL;
    }
}
