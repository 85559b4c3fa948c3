/* kefu client — what the user sees: errors on stderr (and as JSON on
   stdout in --json mode), reply bodies as one-line JSON, and aligned
   "label  value" blocks. */
#ifndef KF_CLI_OUTPUT_H
#define KF_CLI_OUTPUT_H

#include <jansson.h>
#include <msgpack.h>

#include "cli.h"

/* Reports an error intake sent: "kefu: CODE: message (field FIELD)";
   field may be NULL or empty. */
void out_reply_error(const cli_t *cli, const char *code, const char *message, const char *field);

/* Reports an error found locally ("kefu: message"); code names it in
   --json mode (usage, timeout, protocol, ...). */
void out_local_error(const cli_t *cli, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints body as one line of JSON, non-ASCII kept as UTF-8. Returns 0, or
   -1 when body cannot be shown as JSON. */
int out_json(const msgpack_object *body);

/* Prints json on one line of stdout (compact, keys in order) and frees it. */
void out_print_json(json_t *json);

/* Prints one line of an aligned block: the label padded to a fixed width,
   then the value; continuation lines of a multi-line value are indented
   to the value column. */
void out_field(const char *label, const char *value);

#endif
