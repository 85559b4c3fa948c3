/* kefu client — one command's request to intake from start to exit code:
   connect, send, wait, retry when asked to, and turn what happened into
   the user-facing outcome (error messages, --json output, exit code). */
#ifndef KF_CLI_CALL_H
#define KF_CLI_CALL_H

#include "args.h"
#include "cli.h"
#include "envelope.h"

/* Builds a request body for one attempt; arg is the command's options. */
typedef kf_body_t *(*call_body_fn)(const cli_t *cli, const void *arg);

/* What a command asks for. */
typedef struct {
    const char *type;      /* request type, e.g. ticket.show */
    const char *corr;      /* the ticket number, or NULL */
    call_body_fn build;    /* makes the body (from call_body) */
    const void *arg;       /* passed to build */
    int retries;           /* extra attempts after a timeout (0 or 1); 1 also marks the
                              request safe to send again after a lost connection */
    const char *retry_why; /* said on stderr when retrying */
    const char *idem;      /* the request's idempotency key, named when telling the user
                              that sending it again is safe; may be NULL */
} call_t;

/* A new, empty body for build functions to add to (who acts is the
   certificate's to say, never the body's). */
kf_body_t *call_body(const cli_t *cli);

/* A paged list request's body: each of the n text fields given (values[i]
   not NULL) as a string, and limit when above 0. */
kf_body_t *call_list_body(const cli_t *cli, const args_field_t *fields, const char *const *values,
                          size_t n, long limit);

/* Prints the last line of a page whose reply has `next`: "more NOUN: the
   next page is this command with --cursor NEXT". */
void call_next_page(const kf_env_t *reply, const char *noun);

/* Runs the request. On reply.ok returns CLI_EXIT_OK with *reply_p set
   (the caller destroys it) and, in --json mode, the body already printed.
   Otherwise reports the problem and returns its exit code. */
int call_run(const cli_t *cli, const call_t *call, kf_env_t **reply_p);

/* Reading reply fields for display: true when present and valid. */
bool call_str(const msgpack_object *body, const char *key, char *buf, size_t size);
bool call_int(const msgpack_object *body, const char *key, int64_t *out);

/* Reports a reply.ok that lacks a field the command needs; returns
   CLI_EXIT_PROTOCOL. */
int call_missing(const cli_t *cli, const char *type, const char *field);

#endif
