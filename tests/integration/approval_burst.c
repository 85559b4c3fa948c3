/* kefu-test-approval-burst — sends many approval requests at once, for
   test_approval_burst.sh: every line is sent before any reply is read, so
   kefu-approval takes them in bursts (its group commit).

   Reads lines "TAG CERT ENDPOINT TYPE FIELD=VALUE..." from stdin: the
   request TYPE with the body of its fields (a VALUE of digits only is an
   integer, anything else a string; "_" in a string stands for a space).
   Each (CERT, ENDPOINT) has one DEALER, so the lines of one sender arrive
   in their order. Then reads every reply (up to 30 s in all) and prints,
   in the order of the input, "TAG ok BODY" or "TAG error BODY" (BODY the
   reply's body as compact JSON), or "TAG timeout". Exits 0 when every
   line was answered once: a second reply to a line (looked for 300 ms
   after the last) is reported and fails. */
#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "approval_conn.h"
#include "auth.h"
#include "envelope.h"
#include "jsonmp.h"

#define S_MAX_LINES 4096
#define S_WAIT_MS 30000

typedef struct {
    char tag[64];
    char id[KF_MAX_ID + 1]; /* the envelope's id: the reply's corr */
    char *answer;           /* "ok {...}" or "error {...}", NULL until answered */
} s_line_t;

static s_line_t s_lines[S_MAX_LINES];
static int s_nlines;
static int s_extra; /* replies to lines already answered */

/* The body of the FIELD=VALUE words of fields (modified in place). */
static kf_body_t *s_body(char *fields)
{
    kf_body_t *body = kf_body_new();
    for (char *word = strtok(fields, " \n"); word; word = strtok(NULL, " \n")) {
        char *value = strchr(word, '=');
        if (!value)
            continue;
        *value++ = 0;
        if (value[0] && strspn(value, "0123456789") == strlen(value))
            kf_body_int(body, word, strtoll(value, NULL, 10));
        else {
            for (char *c = value; *c; c++)
                if (*c == '_')
                    *c = ' ';
            kf_body_str(body, word, value);
        }
    }
    return body;
}

/* Sends the request of one input line; 0, or -1 when it cannot. */
static int s_send(char *line)
{
    char tag[64], cert[1200], endpoint[256], type[64];
    int used = 0;
    if (s_nlines == S_MAX_LINES ||
        sscanf(line, "%63s %1199s %255s %63s %n", tag, cert, endpoint, type, &used) != 4)
        return -1;
    zsock_t *sock = approval_conn(cert, endpoint, "kefu-test-approval-burst");
    if (!sock)
        return -1;
    s_line_t *l = &s_lines[s_nlines++];
    snprintf(l->tag, sizeof l->tag, "%s", tag);
    snprintf(l->id, sizeof l->id, "burst-%d-%d", getpid(), s_nlines);
    kf_body_t *body = s_body(line + used);
    zmsg_t *msg = kf_env_encode(type, l->id, 0, 0, "test", "", &body);
    zmsg_pushstr(msg, "");
    return zmsg_send(&msg, sock);
}

/* Takes one reply off sock and records it against its line. */
static void s_receive(zsock_t *sock)
{
    zmsg_t *reply = zmsg_recv(sock);
    zframe_t *empty = reply ? zmsg_pop(reply) : NULL;
    zframe_destroy(&empty);
    kf_error_t err = {0};
    kf_env_t *env = reply ? kf_env_decode_msg(reply, &err) : NULL;
    for (int i = 0; env && i < s_nlines; i++) {
        if (strcmp(s_lines[i].id, kf_env_corr(env)) != 0)
            continue;
        if (s_lines[i].answer) {
            fprintf(stderr, "kefu-test-approval-burst: %s answered twice\n", s_lines[i].tag);
            s_extra++;
            break;
        }
        json_t *json = kf_json_from_msgpack(kf_env_body(env));
        char *text = json ? json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *verdict = strcmp(kf_env_type(env), "reply.ok") == 0 ? "ok" : "error";
        s_lines[i].answer = zsys_sprintf("%s %s", verdict, text ? text : "{}");
        free(text);
        json_decref(json);
        break;
    }
    kf_env_destroy(&env);
    zmsg_destroy(&reply);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    static char line[4096];
    while (fgets(line, sizeof line, stdin))
        if (line[0] != '\n' && s_send(line) != 0) {
            fprintf(stderr, "kefu-test-approval-burst: cannot send: %s", line);
            return 2;
        }
    zpoller_t *poller = zpoller_new(NULL);
    for (int i = 0; i < approval_conn_count(); i++)
        zpoller_add(poller, approval_conn_at(i));
    int64_t deadline = zclock_mono() + S_WAIT_MS, answered = 0;
    while (answered < s_nlines && zclock_mono() < deadline) {
        zsock_t *which = (zsock_t *)zpoller_wait(poller, (int)(deadline - zclock_mono()));
        if (!which)
            break;
        s_receive(which);
        answered = 0;
        for (int i = 0; i < s_nlines; i++)
            answered += s_lines[i].answer != NULL;
    }
    zsock_t *which;
    while (answered == s_nlines && (which = (zsock_t *)zpoller_wait(poller, 300)))
        s_receive(which); /* a second answer to any line? */
    for (int i = 0; i < s_nlines; i++) {
        printf("%s %s\n", s_lines[i].tag, s_lines[i].answer ? s_lines[i].answer : "timeout");
        zstr_free(&s_lines[i].answer);
    }
    zpoller_destroy(&poller);
    approval_conn_close_all();
    return answered == s_nlines && s_extra == 0 ? 0 : 1;
}
