/* kefu — integration test helper: a gateway's connection to one daemon.

   Run by test_gateway_auth.sh as `kefu-test-gateway-session ENDPOINT`
   with a certificate in KEFU_CERT (a gateway's, from kefu-admin cert
   --gateway, or a staff member's). Opens one DEALER that stays open and
   sends one request per line read on stdin, with the envelope's "session"
   key as the last `session` line set it (common/auth.h):
     session TOKEN|-      send TOKEN from now on (- : no session)
     bad long|chars|int   the next request's session is 65 characters, has
                          characters outside base64url, or is not a string
     list                 ticket.list (limit 1) to intake
     submit [ACTOR]       a submit to intake; with ACTOR the body also
                          carries "actor": ACTOR, which intake must ignore
     decide REQUEST       approval.decide (approve) to kefu-approval
   For each request it prints one line on stdout: "ok" (a submit's: "ok
   TICKET"), the reply.error's code and field, or "timeout". Exit 0 at the
   end of stdin, 2 on a usage error. */
#include <czmq.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "envelope.h"

#define S_REPLY_MS 10000

/* The session the requests carry, and a malformed one for the next. */
static char s_session[256];
static char s_bad[256];

/* The request's payload again with the value of its "session" key
   replaced by an integer (no encoder of ours writes that). */
static void s_session_as_int(zmsg_t *msg)
{
    zframe_t *payload = zmsg_last(msg);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, (const char *)zframe_data(payload), zframe_size(payload), &off) !=
        MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&up);
        return;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    const msgpack_object_map *map = &up.data.via.map;
    msgpack_pack_map(&pk, map->size);
    for (uint32_t i = 0; i < map->size; i++) {
        msgpack_pack_object(&pk, map->ptr[i].key);
        const msgpack_object_str *k = &map->ptr[i].key.via.str;
        if (k->size == 7 && memcmp(k->ptr, "session", 7) == 0)
            msgpack_pack_int64(&pk, 1234567890123456);
        else
            msgpack_pack_object(&pk, map->ptr[i].val);
    }
    zframe_reset(payload, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    msgpack_unpacked_destroy(&up);
}

/* The request of type with body (taken), with the session to send. */
static zmsg_t *s_request(const char *type, kf_body_t **body_p)
{
    char session[256];
    snprintf(session, sizeof session, "%s", s_session);
    if (strcmp(s_bad, "long") == 0)
        snprintf(session, sizeof session, "%065d", 7); /* 65 characters */
    else if (strcmp(s_bad, "chars") == 0)
        snprintf(session, sizeof session, "abcdefghijklmnop+/=");
    else if (strcmp(s_bad, "int") == 0)
        snprintf(session, sizeof session, "placeholder-of-an-int");
    zmsg_t *msg = kf_env_encode_as(type, NULL, 0, 0, "gateway-session", "", session, body_p);
    if (strcmp(s_bad, "int") == 0)
        s_session_as_int(msg);
    s_bad[0] = '\0';
    return msg;
}

/* Sends one request of type with body (taken) and prints its outcome. */
static void s_call(zsock_t *sock, const char *type, kf_body_t **body_p)
{
    zmsg_t *msg = s_request(type, body_p);
    char id[KF_MAX_ID + 1] = "";
    kf_env_peek_id(zframe_data(zmsg_last(msg)), zframe_size(zmsg_last(msg)), id, sizeof id);
    if (zmsg_send(&msg, sock) != 0) {
        zmsg_destroy(&msg);
        printf("timeout\n");
        fflush(stdout);
        return;
    }
    kf_error_t err = {0};
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
        char code[32] = "unknown", field[64] = "", ticket[40] = "";
        if (strcmp(kf_env_type(env), "reply.ok") == 0) {
            kf_get_str(b, "ticket", false, ticket, sizeof ticket, &err);
            printf("ok%s%s\n", ticket[0] ? " " : "", ticket);
        } else {
            kf_get_str(b, "code", false, code, sizeof code, &err);
            kf_get_str(b, "field", false, field, sizeof field, &err);
            printf("%s%s%s\n", code, field[0] ? " " : "", field);
        }
        kf_env_destroy(&env);
        break;
    }
    fflush(stdout);
}

/* Sends the request one line of stdin asks for. */
static void s_line(zsock_t *sock, char *line)
{
    kf_body_t *body = kf_body_new();
    if (strncmp(line, "session ", 8) == 0) {
        snprintf(s_session, sizeof s_session, "%s", strcmp(line + 8, "-") == 0 ? "" : line + 8);
        kf_body_destroy(&body);
    } else if (strncmp(line, "bad ", 4) == 0) {
        snprintf(s_bad, sizeof s_bad, "%s", line + 4);
        kf_body_destroy(&body);
    } else if (strncmp(line, "submit", 6) == 0) {
        if (line[6] == ' ')
            kf_body_str(body, "actor", line + 7);
        kf_body_str(body, "kind", "complaint");
        kf_body_str(body, "category", "leak");
        kf_body_str(body, "channel", "phone");
        kf_body_str(body, "project", "HZ-XH");
        kf_body_str(body, "phone", "13900003333");
        kf_body_str(body, "summary", "gateway session");
        s_call(sock, "submit", &body);
    } else if (strncmp(line, "decide ", 7) == 0) {
        kf_body_int(body, "request", strtoll(line + 7, NULL, 10));
        kf_body_str(body, "decision", "approve");
        s_call(sock, "approval.decide", &body);
    } else {
        kf_body_int(body, "limit", 1);
        s_call(sock, "ticket.list", &body);
    }
}

int main(int argc, char **argv)
{
    const char *cert = getenv("KEFU_CERT");
    if (argc != 2 || !cert || !*cert) {
        fprintf(stderr, "usage: KEFU_CERT=FILE kefu-test-gateway-session ENDPOINT\n");
        return 2;
    }
    zsys_init();
    zsys_handler_set(NULL);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, S_REPLY_MS);
    zsock_set_sndtimeo(sock, S_REPLY_MS);
    kf_error_t err = {0};
    if (kf_auth_client(sock, cert, NULL, &err) != 0 || zsock_connect(sock, "%s", argv[1]) != 0) {
        fprintf(stderr, "gateway_session: %s\n", err.message[0] ? err.message : argv[1]);
        zsock_destroy(&sock);
        return 2;
    }
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        s_line(sock, line);
    }
    zsock_destroy(&sock);
    return 0;
}
