/* kefu-test-approval-decide — approves approval requests as fast as one
   connection per approver allows, for test_approval_load.sh and
   test_approval_kill.sh (the kefu client costs a process and a CURVE
   handshake per decision).

   Reads lines "REQUEST CERT ENDPOINT" from stdin and sends approval.decide
   (approve) for each on a DEALER kept per (CERT, ENDPOINT), waiting for
   its reply (up to 10 s; a timeout is retried once, a lost reply after a
   daemon's death being the case that test proves). Prints
   "ok=N duplicate=N refused=N timeout=N" and exits 0 when every line was
   approved (or found approved already). With KEFU_DECIDE_LATENCIES set to
   a file, appends each decision's time from send to reply there, in
   microseconds, one a line (for tests/bench/approval.sh). */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval_conn.h"
#include "auth.h"
#include "envelope.h"

#define S_TIMEOUT_MS 10000

/* Sends one decision and waits for its reply: 1 ok, 2 duplicate, 0
   refused, -1 no reply in time. */
static int s_decide(zsock_t *sock, long request)
{
    kf_body_t *body = kf_body_new();
    kf_body_int(body, "request", request);
    kf_body_str(body, "decision", "approve");
    zmsg_t *msg = kf_env_encode("approval.decide", NULL, 0, 0, "test", "", &body);
    zmsg_pushstr(msg, "");
    zmsg_send(&msg, sock);
    zpoller_t *poller = zpoller_new(sock, NULL);
    int rc = -1;
    if (zpoller_wait(poller, S_TIMEOUT_MS)) {
        zmsg_t *reply = zmsg_recv(sock);
        zframe_t *empty = reply ? zmsg_pop(reply) : NULL;
        zframe_destroy(&empty);
        kf_error_t err = {0};
        kf_env_t *env = reply ? kf_env_decode_msg(reply, &err) : NULL;
        bool duplicate = false;
        if (env && strcmp(kf_env_type(env), "reply.ok") == 0) {
            kf_get_bool(kf_env_body(env), "duplicate", false, &duplicate, &err);
            rc = duplicate ? 2 : 1;
        } else {
            char code[32] = "?", message[256] = "";
            if (env) {
                kf_get_str(kf_env_body(env), "code", false, code, sizeof code, &err);
                kf_get_str(kf_env_body(env), "message", false, message, sizeof message, &err);
            }
            fprintf(stderr, "kefu-test-approval-decide: request %ld: %s: %s\n", request, code,
                    message);
            rc = 0;
        }
        kf_env_destroy(&env);
        zmsg_destroy(&reply);
    }
    zpoller_destroy(&poller);
    return rc;
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    char line[2600], cert[1200], endpoint[256];
    long request;
    int ok = 0, duplicate = 0, refused = 0, timeout = 0;
    const char *latencies = getenv("KEFU_DECIDE_LATENCIES");
    FILE *lat = latencies && latencies[0] ? fopen(latencies, "a") : NULL;
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "%ld %1199s %255s", &request, cert, endpoint) != 3)
            continue;
        zsock_t *sock = approval_conn(cert, endpoint, "kefu-test-approval-decide");
        int64_t sent = zclock_usecs();
        int rc = sock ? s_decide(sock, request) : 0;
        if (lat && rc > 0)
            fprintf(lat, "%lld\n", (long long)(zclock_usecs() - sent));
        if (rc < 0) /* the reply was lost: the same decision again is answered as that one */
            rc = s_decide(sock, request);
        ok += rc == 1;
        duplicate += rc == 2;
        refused += rc == 0;
        timeout += rc < 0;
    }
    printf("ok=%d duplicate=%d refused=%d timeout=%d\n", ok, duplicate, refused, timeout);
    if (lat)
        fclose(lat);
    approval_conn_close_all();
    return refused || timeout ? 1 : 0;
}
