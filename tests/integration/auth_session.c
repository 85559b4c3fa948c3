/* kefu — integration test helper: one connection to intake that stays open.

   Run by test_auth.sh. Opens one DEALER to KEFU_INTAKE with the certificate
   in KEFU_CERT (common/auth.h), sends ticket.list at once, and then one
   request per line read on stdin, over the same connection:
     list                 ticket.list (limit 1)
     submit [ACTOR]       a submit; with ACTOR the body also carries
                          "actor": ACTOR, which intake must ignore
   For each request it prints one line on stdout: "ok" (a submit's: "ok
   TICKET"), the reply.error's code, or "timeout". A request refused
   after the handshake is proof that it reached intake on the open
   connection: a new connection with a refused key gets no reply at all.
   Exit 0 at the end of stdin, 2 on a usage error. */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "envelope.h"

#define S_REPLY_MS 10000
#define S_SUMMARY "auth session"

/* Sends one request of type with body (taken) and prints its outcome. */
static void s_call(zsock_t *sock, const char *type, kf_body_t **body_p)
{
    zmsg_t *msg = kf_env_encode(type, NULL, 0, 0, "auth-session", "", body_p);
    char id[KF_MAX_ID + 1] = "";
    kf_error_t err = {0};
    kf_env_t *sent = kf_env_decode_msg(msg, &err);
    if (sent)
        snprintf(id, sizeof id, "%s", kf_env_id(sent));
    kf_env_destroy(&sent);
    if (zmsg_send(&msg, sock) != 0) {
        zmsg_destroy(&msg);
        printf("timeout\n");
        fflush(stdout);
        return;
    }
    for (;;) {
        zmsg_t *reply = zmsg_recv(sock);
        if (!reply) {
            printf("timeout\n");
            break;
        }
        kf_env_t *env = kf_env_decode_msg(reply, &err);
        zmsg_destroy(&reply);
        if (!env) {
            printf("bad_reply\n");
            break;
        }
        if (strcmp(kf_env_corr(env), id) != 0) { /* a late answer to something else */
            kf_env_destroy(&env);
            continue;
        }
        const msgpack_object *b = kf_env_body(env);
        char code[32] = "unknown", ticket[40] = "";
        if (strcmp(kf_env_type(env), "reply.ok") == 0) {
            kf_get_str(b, "ticket", false, ticket, sizeof ticket, &err);
            printf("ok%s%s\n", ticket[0] ? " " : "", ticket);
        } else {
            kf_get_str(b, "code", false, code, sizeof code, &err);
            printf("%s\n", code);
        }
        kf_env_destroy(&env);
        break;
    }
    fflush(stdout);
}

static void s_list(zsock_t *sock)
{
    kf_body_t *body = kf_body_new();
    kf_body_int(body, "limit", 1);
    s_call(sock, "ticket.list", &body);
}

static void s_submit(zsock_t *sock, const char *actor)
{
    kf_body_t *body = kf_body_new();
    if (actor && *actor)
        kf_body_str(body, "actor", actor);
    kf_body_str(body, "kind", "complaint");
    kf_body_str(body, "category", "leak");
    kf_body_str(body, "channel", "phone");
    kf_body_str(body, "project", "HZ-XH");
    kf_body_str(body, "phone", "13900002222");
    kf_body_str(body, "summary", S_SUMMARY);
    s_call(sock, "submit", &body);
}

int main(void)
{
    const char *endpoint = getenv("KEFU_INTAKE"), *cert = getenv("KEFU_CERT");
    if (!endpoint || !*endpoint || !cert || !*cert) {
        fprintf(stderr, "auth_session: set KEFU_INTAKE and KEFU_CERT\n");
        return 2;
    }
    zsys_init();
    zsys_handler_set(NULL);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, S_REPLY_MS);
    zsock_set_sndtimeo(sock, S_REPLY_MS);
    kf_error_t err = {0};
    if (kf_auth_client(sock, cert, NULL, &err) != 0) {
        fprintf(stderr, "auth_session: %s\n", err.message);
        zsock_destroy(&sock);
        return 2;
    }
    if (zsock_connect(sock, "%s", endpoint) != 0) {
        fprintf(stderr, "auth_session: cannot connect to %s\n", endpoint);
        zsock_destroy(&sock);
        return 2;
    }
    s_list(sock);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "submit", 6) == 0)
            s_submit(sock, line[6] == ' ' ? line + 7 : NULL);
        else
            s_list(sock);
    }
    zsock_destroy(&sock);
    return 0;
}
