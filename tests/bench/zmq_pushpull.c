/* kefu-bench-zmq — the raw ZeroMQ baseline of tests/bench/e2e.sh: how many
   messages per second one PUSH socket moves to one PULL socket over TCP on
   loopback, with nothing else (no envelope, no store).

   Usage: kefu-bench-zmq [-n MESSAGES] [-s BYTES] [-e ENDPOINT]
   (defaults 1000000 messages of 200 bytes, tcp://127.0.0.1:*). A thread
   pushes N single-frame messages of S bytes; the main thread pulls them.
   Output, key=value lines: messages, bytes, elapsed_ms (first message
   received to last), msgs_per_s, mib_per_s. Exit status 0, or 1 when a
   message went missing (PUSH/PULL never drops: that would be a defect). */
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char endpoint[256];
    long n, size;
} s_args_t;

static void *s_pusher(void *arg)
{
    const s_args_t *a = (const s_args_t *)arg;
    zsock_t *push = zsock_new_push(a->endpoint);
    if (!push)
        return NULL;
    char *payload = (char *)malloc((size_t)a->size);
    memset(payload, 'k', (size_t)a->size);
    void *handle = zsock_resolve(push);
    for (long i = 0; i < a->n; i++)
        if (zmq_send(handle, payload, (size_t)a->size, 0) < 0)
            break;
    free(payload);
    zsock_set_linger(push, 5000);
    zsock_destroy(&push);
    return NULL;
}

int main(int argc, char **argv)
{
    static s_args_t a = {.n = 1000000, .size = 200};
    const char *endpoint = "tcp://127.0.0.1:*";
    int opt;
    while ((opt = getopt(argc, argv, "n:s:e:h")) != -1) {
        if (opt == 'n')
            a.n = strtol(optarg, NULL, 10);
        else if (opt == 's')
            a.size = strtol(optarg, NULL, 10);
        else if (opt == 'e')
            endpoint = optarg;
        else {
            fprintf(opt == 'h' ? stdout : stderr,
                    "usage: kefu-bench-zmq [-n MESSAGES] [-s BYTES] [-e ENDPOINT]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (a.n < 1 || a.size < 1 || a.size > 1 << 20) {
        fprintf(stderr, "kefu-bench-zmq: -n and -s must be positive (-s at most 1 MiB)\n");
        return 2;
    }
    zsys_init();
    zsys_handler_set(NULL);
    zsock_t *pull = zsock_new(ZMQ_PULL);
    if (!pull || zsock_bind(pull, "%s", endpoint) < 0) {
        fprintf(stderr, "kefu-bench-zmq: cannot bind %s\n", endpoint);
        return 2;
    }
    snprintf(a.endpoint, sizeof a.endpoint, ">%s", zsock_endpoint(pull));
    zsock_set_rcvtimeo(pull, 10000);
    pthread_t thread;
    pthread_create(&thread, NULL, s_pusher, &a);
    void *handle = zsock_resolve(pull);
    char *buf = (char *)malloc((size_t)a.size);
    long got = 0;
    int64_t first = 0, last = 0;
    while (got < a.n) {
        int rc = zmq_recv(handle, buf, (size_t)a.size, 0);
        if (rc < 0)
            break; /* nothing for 10 s */
        if (got++ == 0)
            first = zclock_usecs();
    }
    last = zclock_usecs();
    pthread_join(thread, NULL);
    free(buf);
    zsock_destroy(&pull);
    double ms = (double)(last - first) / 1000.0;
    double per_s = ms > 0 ? (double)(got - 1) * 1000.0 / ms : 0;
    printf("messages=%ld\nbytes=%ld\nelapsed_ms=%.1f\nmsgs_per_s=%.0f\nmib_per_s=%.1f\n", got,
           a.size, ms, per_s, per_s * (double)a.size / 1048576.0);
    return got == a.n ? 0 : 1;
}
