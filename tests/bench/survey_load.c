/* kefu-survey-load — drives survey.answer requests through kefu-survey and
   reports throughput and latency as key=value lines (tests/bench/survey.sh).

   C threads, each with its own DEALER socket and one request in flight,
   take the next ticket of the list and record an answer for its latest
   sent survey, as an agent would after the follow-up call. Every socket
   presents the same certificate (--cert, KEFU_CERT), whose staff member
   records the answers (common/auth.h). */
#include <czmq.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "envelope.h"

#define S_MAX_CLIENTS 256

typedef struct {
    const char *endpoint;
    const char *cert; /* the certificate every client presents */
    char **tickets;
    int count;
    int clients;
    int low_every; /* every k-th answer scores 2 (reopens); 0: none */
    int timeout_ms;
    pthread_mutex_t lock;
    int next;
    int answered, duplicates, reopened, errors;
    zhash_t *codes;      /* error code -> count (char * of an int) */
    int64_t *latency_us; /* per answered request */
} s_run_t;

/* The score of answer i: 3, 4, 5 in turn, or 2 every low_every-th. */
static int s_score(const s_run_t *run, int i)
{
    if (run->low_every > 0 && i % run->low_every == 0)
        return 2;
    return 3 + i % 3;
}

/* Records one outcome. */
static void s_count(s_run_t *run, int i, int64_t us, const char *code, bool duplicate,
                    bool reopened)
{
    pthread_mutex_lock(&run->lock);
    if (code) {
        run->errors++;
        char *n = (char *)zhash_lookup(run->codes, code);
        char text[16];
        snprintf(text, sizeof text, "%d", n ? atoi(n) + 1 : 1);
        zhash_update(run->codes, code, strdup(text));
        zhash_freefn(run->codes, code, free);
    } else {
        run->answered++;
        run->duplicates += duplicate;
        run->reopened += reopened;
        run->latency_us[i] = us;
    }
    pthread_mutex_unlock(&run->lock);
}

/* A DEALER connected to the endpoint with the certificate (checked in main). */
static zsock_t *s_connect(const s_run_t *run)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, run->timeout_ms);
    kf_error_t err = {0};
    if (kf_auth_client(sock, run->cert, NULL, &err) != 0)
        fprintf(stderr, "kefu-survey-load: %s\n", err.message);
    zsock_connect(sock, "%s", run->endpoint);
    return sock;
}

static void *s_client(void *arg)
{
    s_run_t *run = (s_run_t *)arg;
    zsock_t *sock = s_connect(run);
    for (;;) {
        pthread_mutex_lock(&run->lock);
        int i = run->next < run->count ? run->next++ : -1;
        pthread_mutex_unlock(&run->lock);
        if (i < 0)
            break;
        kf_body_t *body = kf_body_new();
        kf_body_str(body, "ticket", run->tickets[i]);
        kf_body_int(body, "score", s_score(run, i));
        kf_body_int(body, "nps", i % 11);
        int64_t start = zclock_usecs();
        zmsg_t *msg =
            kf_env_encode("survey.answer", NULL, 0, 0, "kefu-survey-load", run->tickets[i], &body);
        zmsg_send(&msg, sock);
        zmsg_t *reply = zmsg_recv(sock);
        int64_t us = zclock_usecs() - start;
        if (!reply) {
            s_count(run, i, us, "timeout", false, false);
            /* A late reply would answer the next request: start afresh. */
            zsock_destroy(&sock);
            sock = s_connect(run);
            continue;
        }
        kf_error_t err = {0};
        kf_env_t *env = kf_env_decode_msg(reply, &err);
        zmsg_destroy(&reply);
        if (!env) {
            s_count(run, i, us, "bad_reply", false, false);
            continue;
        }
        const msgpack_object *b = kf_env_body(env);
        if (strcmp(kf_env_type(env), "reply.ok") == 0) {
            bool duplicate = false, reopened = false;
            kf_get_bool(b, "duplicate", false, &duplicate, &err);
            kf_get_bool(b, "reopened", false, &reopened, &err);
            s_count(run, i, us, NULL, duplicate, reopened);
        } else {
            char code[32] = "unknown";
            kf_get_str(b, "code", false, code, sizeof code, &err);
            s_count(run, i, us, code, false, false);
        }
        kf_env_destroy(&env);
    }
    zsock_destroy(&sock);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Reads one ticket number a line. */
static char **s_read_tickets(const char *path, int *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    int size = 1024;
    char **list = (char **)malloc((size_t)size * sizeof(char *));
    char line[128];
    *count = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, " \t\r\n")] = '\0';
        if (!line[0])
            continue;
        if (*count == size) {
            size *= 2;
            list = (char **)realloc(list, (size_t)size * sizeof(char *));
        }
        list[(*count)++] = strdup(line);
    }
    fclose(f);
    return list;
}

static void s_usage(FILE *out)
{
    fprintf(out, "Usage: kefu-survey-load --tickets FILE [-c C] [--endpoint EP] [--cert FILE]\n"
                 "                        [--low-every K] [--timeout-ms T]\n\n"
                 "Records one survey.answer per ticket of FILE (one number a line) through\n"
                 "kefu-survey from C concurrent clients (default 1), and prints key=value\n"
                 "lines: sent, answered, duplicates, reopened, errors, errors.CODE, elapsed_ms,\n"
                 "answers_per_s, p50_ms, p99_ms, max_ms. Scores are 3, 4, 5 in turn; with\n"
                 "--low-every K every K-th is 2, which reopens the ticket. The endpoint\n"
                 "defaults to $KEFU_SURVEY or tcp://127.0.0.1:7710, the certificate of the\n"
                 "staff member who answers to $KEFU_CERT.\n");
}

/* Reads the options into run and *path. Returns -1 to go on, else the exit
   status (0 after --help, 2 on a usage error). */
static int s_parse(int argc, char **argv, s_run_t *run, const char **path)
{
    enum { O_TICKETS = 256, O_ENDPOINT, O_CERT, O_LOW, O_TIMEOUT };
    static const struct option options[] = {{"tickets", required_argument, NULL, O_TICKETS},
                                            {"endpoint", required_argument, NULL, O_ENDPOINT},
                                            {"cert", required_argument, NULL, O_CERT},
                                            {"low-every", required_argument, NULL, O_LOW},
                                            {"timeout-ms", required_argument, NULL, O_TIMEOUT},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (c == 'c')
            run->clients = atoi(optarg);
        else if (c == O_TICKETS)
            *path = optarg;
        else if (c == O_ENDPOINT)
            run->endpoint = optarg;
        else if (c == O_CERT)
            run->cert = optarg;
        else if (c == O_LOW)
            run->low_every = atoi(optarg);
        else if (c == O_TIMEOUT)
            run->timeout_ms = atoi(optarg);
        else if (c == 'h') {
            s_usage(stdout);
            return 0;
        } else {
            s_usage(stderr);
            return 2;
        }
    }
    if (!*path || run->clients < 1 || run->clients > S_MAX_CLIENTS || run->timeout_ms < 1) {
        s_usage(stderr);
        return 2;
    }
    return -1;
}

/* Prints the figures of the run. */
static void s_report(const s_run_t *run, int64_t elapsed_us)
{
    int64_t *lat = (int64_t *)calloc((size_t)run->count + 1, sizeof(int64_t));
    int n = 0;
    for (int i = 0; i < run->count; i++)
        if (run->latency_us[i] > 0)
            lat[n++] = run->latency_us[i];
    qsort(lat, (size_t)n, sizeof(int64_t), s_cmp);
    printf("sent=%d\nanswered=%d\nduplicates=%d\nreopened=%d\nerrors=%d\n", run->count,
           run->answered, run->duplicates, run->reopened, run->errors);
    for (char *v = (char *)zhash_first(run->codes); v; v = (char *)zhash_next(run->codes))
        printf("errors.%s=%s\n", zhash_cursor(run->codes), v);
    printf("clients=%d\nelapsed_ms=%.1f\nanswers_per_s=%.0f\n", run->clients, elapsed_us / 1000.0,
           elapsed_us > 0 ? run->answered * 1e6 / (double)elapsed_us : 0.0);
    if (n > 0)
        printf("p50_ms=%.2f\np99_ms=%.2f\nmax_ms=%.2f\n", lat[n / 2] / 1000.0,
               lat[(int)((n - 1) * 0.99)] / 1000.0, lat[n - 1] / 1000.0);
    free(lat);
}

int main(int argc, char **argv)
{
    s_run_t run = {.endpoint =
                       getenv("KEFU_SURVEY") ? getenv("KEFU_SURVEY") : "tcp://127.0.0.1:7710",
                   .cert = getenv("KEFU_CERT"),
                   .clients = 1,
                   .timeout_ms = 10000};
    const char *path = NULL;
    int rc = s_parse(argc, argv, &run, &path);
    if (rc >= 0)
        return rc;
    run.tickets = s_read_tickets(path, &run.count);
    if (!run.tickets || run.count == 0) {
        fprintf(stderr, "kefu-survey-load: no tickets in %s\n", path);
        return 2;
    }
    zsys_init();
    zsys_handler_set(NULL);
    zsock_t *probe = zsock_new(ZMQ_DEALER);
    kf_error_t err = {0};
    int usable = kf_auth_client(probe, run.cert, NULL, &err);
    zsock_destroy(&probe);
    if (usable != 0) {
        fprintf(stderr, "kefu-survey-load: --cert: %s\n", err.message);
        return 2;
    }
    pthread_mutex_init(&run.lock, NULL);
    run.codes = zhash_new();
    run.latency_us = (int64_t *)calloc((size_t)run.count, sizeof(int64_t));
    pthread_t threads[S_MAX_CLIENTS];
    int64_t start = zclock_usecs();
    for (int i = 0; i < run.clients; i++)
        pthread_create(&threads[i], NULL, s_client, &run);
    for (int i = 0; i < run.clients; i++)
        pthread_join(threads[i], NULL);
    s_report(&run, zclock_usecs() - start);
    free(run.latency_us);
    zhash_destroy(&run.codes);
    for (int i = 0; i < run.count; i++)
        free(run.tickets[i]);
    free(run.tickets);
    return run.errors == 0 ? 0 : 1;
}
