/* kefu — integration test helper: listens on the bus (KEFU_BUS_SUB) and
   prints each event whose type starts with one of the given prefixes as
   one JSON line {"type", "corr", "id", "body"}, until SIGTERM/SIGINT or
   --seconds pass. Used by test_survey.sh to see that survey.sent,
   survey.answered and ticket.reopened reach the bus, not only the outbox.
   Usage: kefu-test-survey-sub [--seconds N] PREFIX... */
#include <czmq.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "jsonmp.h"

/* Prints one event as a JSON line. */
static void s_print(kf_env_t *env)
{
    json_t *line = json_object();
    json_object_set_new(line, "type", json_string(kf_env_type(env)));
    json_object_set_new(line, "corr", json_string(kf_env_corr(env)));
    json_object_set_new(line, "id", json_string(kf_env_id(env)));
    json_t *body = kf_json_from_msgpack(kf_env_body(env));
    json_object_set_new(line, "body", body ? body : json_null());
    char *text = json_dumps(line, JSON_COMPACT);
    if (text)
        printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(line);
}

int main(int argc, char **argv)
{
    long seconds = 600;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--seconds") == 0) {
        seconds = strtol(argv[2], NULL, 10);
        first = 3;
    }
    const char *endpoint = getenv("KEFU_BUS_SUB");
    if (!endpoint || first >= argc) {
        fprintf(stderr, "usage: KEFU_BUS_SUB=ENDPOINT %s [--seconds N] PREFIX...\n", argv[0]);
        return 2;
    }
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sub, 0);
    for (int i = first; i < argc; i++)
        zsock_set_subscribe(sub, argv[i]);
    if (zsock_connect(sub, "%s", endpoint) != 0) {
        fprintf(stderr, "cannot connect to %s\n", endpoint);
        zsock_destroy(&sub);
        return 2;
    }
    fprintf(stderr, "listening\n");
    int64_t end = zclock_mono() + seconds * 1000;
    zpoller_t *poller = zpoller_new(sub, NULL);
    while (!zsys_interrupted && zclock_mono() < end) {
        if (!zpoller_wait(poller, 100))
            continue;
        zmsg_t *msg = zmsg_recv(sub);
        if (!msg)
            break;
        kf_error_t err = {0};
        kf_env_t *env = kf_env_decode_msg(msg, &err);
        zmsg_destroy(&msg);
        if (!env) {
            printf("{\"type\":\"bad\",\"code\":\"%s\"}\n", kf_err_name(err.code));
            fflush(stdout);
            continue;
        }
        s_print(env);
        kf_env_destroy(&env);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    return 0;
}
