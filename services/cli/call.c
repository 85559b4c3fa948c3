/* kefu client — a request's journey and its outcome. */
#include "call.h"

#include <stdio.h>
#include <string.h>

#include "net.h"
#include "output.h"

#define CALL_MESSAGE_MAX (KF_MAX_STRING + 1) /* bytes of an error message kept */

kf_body_t *call_body(const cli_t *cli)
{
    (void)cli; /* who acts is the certificate's to say, never the body's */
    return kf_body_new();
}

bool call_str(const msgpack_object *body, const char *key, char *buf, size_t size)
{
    kf_error_t err;
    buf[0] = '\0';
    return kf_get_str(body, key, false, buf, size, &err) == 1;
}

bool call_int(const msgpack_object *body, const char *key, int64_t *out)
{
    kf_error_t err;
    return kf_get_int(body, key, false, INT64_MIN, INT64_MAX, out, &err) == 1;
}

int call_missing(const cli_t *cli, const char *type, const char *field)
{
    out_local_error(cli, "protocol", field, "protocol error: the %s reply lacks a valid '%s'", type,
                    field);
    return CLI_EXIT_PROTOCOL;
}

/* Turns a reply.error into its report and exit code: `unavailable` is
   temporary (3), every other code a refusal (1). */
static int s_refused(const cli_t *cli, const msgpack_object *body)
{
    char code[64], message[CALL_MESSAGE_MAX], field[64];
    if (!call_str(body, "code", code, sizeof code) ||
        !call_str(body, "message", message, sizeof message))
        return call_missing(cli, "reply.error", "code");
    call_str(body, "field", field, sizeof field);
    out_reply_error(cli, code, message, field);
    return strcmp(code, "unavailable") == 0 ? CLI_EXIT_TEMPORARY : CLI_EXIT_REFUSED;
}

/* Classifies a decoded reply: ok (printed in --json mode), error, or
   something that is no reply. */
static int s_outcome(const cli_t *cli, const kf_env_t *reply)
{
    const char *type = kf_env_type(reply);
    const msgpack_object *body = kf_env_body(reply);
    if (strcmp(type, "reply.error") == 0)
        return s_refused(cli, body);
    if (strcmp(type, "reply.ok") != 0) {
        out_local_error(cli, "protocol", NULL, "protocol error: expected a reply, got %s", type);
        return CLI_EXIT_PROTOCOL;
    }
    if (cli->json && out_json(body) != 0) {
        out_local_error(cli, "protocol", NULL,
                        "protocol error: the reply body cannot be shown as JSON");
        return CLI_EXIT_PROTOCOL;
    }
    return CLI_EXIT_OK;
}

/* Sends attempts until one is answered or the retries are used up. Only a
   plain timeout is retried: after connections that only closed during the
   handshake, net_call has already sent the request again on each new one
   for the whole timeout. */
static net_status_t s_exchange(const cli_t *cli, const call_t *call, net_t *net, kf_env_t **reply_p,
                               kf_error_t *err)
{
    net_status_t status = NET_TIMEOUT;
    for (int attempt = 0; attempt <= call->retries; attempt++) {
        if (attempt > 0)
            fprintf(stderr, "kefu: %s at %s did not answer within %d ms; retrying once%s%s\n",
                    cli->peer ? cli->peer : "intake", cli->endpoint, cli->timeout_ms,
                    call->retry_why ? " " : "", call->retry_why ? call->retry_why : "");
        kf_body_t *body = call->build(cli, call->arg);
        status = net_call(net, call->type, call->corr, &body, call->retries > 0, cli->timeout_ms,
                          reply_p, err);
        kf_body_destroy(&body);
        if (status != NET_TIMEOUT)
            break;
    }
    return status;
}

/* Reports a deadline that passed while connections only closed during the
   secure handshake: temporary (exit 3), never a refusal, in words that say
   what may be wrong and that trying again is safe. */
static void s_dropped(const cli_t *cli, const call_t *call, const kf_error_t *err)
{
    char again[KF_MAX_ID + 96];
    if (call->idem)
        snprintf(again, sizeof again, "retrying with the same idempotency key (--idem %s) is safe",
                 call->idem);
    else
        snprintf(again, sizeof again, "%s",
                 call->retries > 0 ? "retrying is safe" : "try again shortly");
    out_local_error(cli, "unavailable", NULL,
                    "%s at %s did not answer within %d ms: %s. The daemon may be restarting, "
                    "or your certificate's server-key may not be this daemon's (if this "
                    "persists, ask an operator for a certificate: kefu-admin cert). Nothing "
                    "was refused: %s.",
                    cli->peer ? cli->peer : "intake", cli->endpoint, cli->timeout_ms, err->message,
                    again);
}

int call_run(const cli_t *cli, const call_t *call, kf_env_t **reply_p)
{
    *reply_p = NULL;
    kf_error_t err = {.code = KF_OK};
    net_t *net = net_new(cli->endpoint, cli->cert, &err);
    if (!net) {
        out_local_error(cli, "usage", err.field, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    net_status_t status = s_exchange(cli, call, net, reply_p, &err);
    net_destroy(&net);
    if (status == NET_TIMEOUT) {
        out_local_error(cli, "timeout", NULL,
                        "%s at %s did not answer within %d ms (is it running?)",
                        cli->peer ? cli->peer : "intake", cli->endpoint, cli->timeout_ms);
        return CLI_EXIT_TEMPORARY;
    }
    if (status == NET_DROPPED) {
        s_dropped(cli, call, &err);
        return CLI_EXIT_TEMPORARY;
    }
    if (status == NET_FAILED) {
        out_local_error(cli, kf_err_name(err.code), err.field, "%s", err.message);
        return err.code == KF_E_UNAVAILABLE ? CLI_EXIT_TEMPORARY : CLI_EXIT_PROTOCOL;
    }
    if (status == NET_REFUSED) {
        out_reply_error(cli, kf_err_name(err.code), err.message, err.field);
        return err.code == KF_E_UNAVAILABLE ? CLI_EXIT_TEMPORARY : CLI_EXIT_REFUSED;
    }
    if (status == NET_BAD_REPLY) {
        out_local_error(cli, "protocol", err.field, "protocol error: %s: %s", kf_err_name(err.code),
                        err.message);
        return CLI_EXIT_PROTOCOL;
    }
    int rc = s_outcome(cli, *reply_p);
    if (rc != CLI_EXIT_OK)
        kf_env_destroy(reply_p);
    return rc;
}

kf_body_t *call_list_body(const cli_t *cli, const args_field_t *fields, const char *const *values,
                          size_t n, long limit)
{
    kf_body_t *body = call_body(cli);
    for (size_t i = 0; i < n; i++)
        if (values[i])
            kf_body_str(body, fields[i].name, values[i]);
    if (limit > 0)
        kf_body_int(body, "limit", limit);
    return body;
}

void call_next_page(const kf_env_t *reply, const char *noun)
{
    char next[128];
    if (call_str(kf_env_body(reply), "next", next, sizeof next) && next[0])
        printf("more %s: the next page is this command with --cursor %s\n", noun, next);
}
