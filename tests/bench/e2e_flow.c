/* kefu-e2e-flow — the middle of tests/bench/e2e.sh's chain: for each
   ticket of a list, open an approval request on it, have its approver
   approve it, then resolve the ticket, as the people would, through the
   daemons' sockets (kefu-approval, intake).

   C client threads each take the next ticket and run its three requests in
   order, one in flight: approval.request (as --cert, an agent; type refund,
   amount 100 k + 50 yuan for the ticket's band k = index mod K),
   approval.decide approve (as approver k's certificate, CERT-DIR/apKK.cert,
   whom e2e.sh's policies name for that band), ticket.resolve (as --cert).
   Each thread keeps one DEALER per certificate and daemon.

   Output, key=value lines: tickets, approved, resolved, errors (and
   errors.STEP.CODE), elapsed_ms, flow_per_s, and the client-side latency
   p50/p99 of each request (open_*, decide_*, resolve_*). Exit status 0 when
   every ticket was approved and resolved, 1 otherwise, 2 usage. The hop
   latencies e2e.sh reports come from the store's timestamps, not from
   here. */
#include <czmq.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "envelope.h"

#define S_SRC "kefu-e2e-flow"
#define S_MAX_APPROVERS 99
#define S_STEPS 3

typedef struct {
    const char *tickets_file;
    const char *intake;
    const char *approval;
    const char *cert;
    const char *cert_dir;
    long c, k, timeout_ms;
} s_opts_t;

typedef struct {
    char ticket[40];
    int64_t us[S_STEPS]; /* latency of each request, 0 when it failed */
    bool done;
} s_item_t;

typedef struct {
    s_opts_t opts;
    s_item_t *items;
    long n;
    atomic_long next;
    pthread_mutex_t lock;
    char errors[64][48]; /* "STEP.CODE" */
    long error_counts[64];
    int nerrors;
} s_run_t;

static const char *const s_step_names[S_STEPS] = {"open", "decide", "resolve"};

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void s_count_error(s_run_t *run, int step, const char *code)
{
    char key[48];
    snprintf(key, sizeof key, "%s.%.30s", s_step_names[step], code);
    pthread_mutex_lock(&run->lock);
    int i = 0;
    while (i < run->nerrors && strcmp(run->errors[i], key) != 0)
        i++;
    if (i == run->nerrors && run->nerrors < 64)
        snprintf(run->errors[run->nerrors++], sizeof run->errors[0], "%s", key);
    if (i < 64)
        run->error_counts[i]++;
    pthread_mutex_unlock(&run->lock);
}

/* A DEALER presenting cert, connected to endpoint; NULL on failure. */
static zsock_t *s_connect(const char *cert, const char *endpoint)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 0);
    kf_error_t err = {0};
    if (kf_auth_client(sock, cert, NULL, &err) != 0 || zsock_connect(sock, "%s", endpoint) != 0) {
        fprintf(stderr, "kefu-e2e-flow: %s at %s: %s\n", cert, endpoint, err.message);
        zsock_destroy(&sock);
    }
    return sock;
}

/* Sends a request of type with *body_p and waits for its reply (matched by
   correlation to the request's id). Returns the reply.ok envelope, or NULL
   with code filled ("timeout", or the reply.error's code). */
static kf_env_t *s_call(zsock_t *sock, const char *type, kf_body_t **body_p, long timeout_ms,
                        char *code, size_t code_size)
{
    zuuid_t *uuid = zuuid_new();
    char id[KF_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    zmsg_t *msg = kf_env_encode(type, id, 0, 0, S_SRC, "", body_p);
    if (zmsg_send(&msg, sock) != 0)
        zmsg_destroy(&msg);
    zpoller_t *poller = zpoller_new(sock, NULL);
    int64_t deadline = s_now_us() + timeout_ms * 1000;
    kf_env_t *reply = NULL;
    snprintf(code, code_size, "timeout");
    while (!reply && s_now_us() < deadline && !zsys_interrupted) {
        if (!zpoller_wait(poller, (int)((deadline - s_now_us() + 999) / 1000)))
            continue;
        zmsg_t *in = zmsg_recv(sock);
        if (!in)
            break;
        kf_error_t err = {0};
        kf_env_t *env = kf_env_decode_msg(in, &err);
        zmsg_destroy(&in);
        if (env && strcmp(kf_env_corr(env), id) == 0)
            reply = env;
        else
            kf_env_destroy(&env);
    }
    zpoller_destroy(&poller);
    if (reply && strcmp(kf_env_type(reply), "reply.ok") != 0) {
        kf_error_t err = {0};
        if (kf_get_str(kf_env_body(reply), "code", true, code, code_size, &err) != 1)
            snprintf(code, code_size, "unknown");
        kf_env_destroy(&reply);
    }
    return reply;
}

/* The three requests of ticket i. */
static void s_flow(s_run_t *run, long i, zsock_t *intake, zsock_t *approval, zsock_t **approvers)
{
    s_item_t *item = &run->items[i];
    const s_opts_t *o = &run->opts;
    long band = i % o->k;
    char code[32], amount[24], promised[16];
    snprintf(amount, sizeof amount, "%ld.00", band * 100 + 50);
    time_t later = time(NULL) + 30 * 86400;
    struct tm tm;
    strftime(promised, sizeof promised, "%Y-%m-%d", localtime_r(&later, &tm));

    int64_t t0 = s_now_us();
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "ticket", item->ticket);
    kf_body_str(body, "type", "refund");
    kf_body_str(body, "amount", amount);
    kf_body_str(body, "reason", "维修期间的租金补偿");
    kf_body_str(body, "promised", promised);
    char idem[64];
    snprintf(idem, sizeof idem, "e2e-%s", item->ticket);
    kf_body_str(body, "idem", idem);
    kf_env_t *reply = s_call(approval, "approval.request", &body, o->timeout_ms, code, sizeof code);
    int64_t request = 0;
    kf_error_t err = {0};
    if (!reply ||
        kf_get_int(kf_env_body(reply), "request", true, 1, INT64_MAX, &request, &err) != 1) {
        s_count_error(run, 0, reply ? "bad_reply" : code);
        kf_env_destroy(&reply);
        return;
    }
    kf_env_destroy(&reply);
    int64_t t1 = s_now_us();
    item->us[0] = t1 - t0;

    body = kf_body_new();
    kf_body_int(body, "request", request);
    kf_body_str(body, "decision", "approve");
    reply = s_call(approvers[band], "approval.decide", &body, o->timeout_ms, code, sizeof code);
    if (!reply) {
        s_count_error(run, 1, code);
        return;
    }
    kf_env_destroy(&reply);
    int64_t t2 = s_now_us();
    item->us[1] = t2 - t1;

    body = kf_body_new();
    kf_body_str(body, "ticket", item->ticket);
    kf_body_str(body, "note", "已按审批结果补偿，业主确认");
    reply = s_call(intake, "ticket.resolve", &body, o->timeout_ms, code, sizeof code);
    if (!reply) {
        s_count_error(run, 2, code);
        return;
    }
    kf_env_destroy(&reply);
    item->us[2] = s_now_us() - t2;
    item->done = true;
}

static void *s_client(void *arg)
{
    s_run_t *run = (s_run_t *)arg;
    const s_opts_t *o = &run->opts;
    zsock_t *approvers[S_MAX_APPROVERS] = {0};
    zsock_t *intake = s_connect(o->cert, o->intake);
    zsock_t *approval = s_connect(o->cert, o->approval);
    bool ready = intake && approval;
    for (long k = 0; k < o->k && ready; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/ap%02ld.cert", o->cert_dir, k + 1);
        approvers[k] = s_connect(path, o->approval);
        ready = approvers[k] != NULL;
    }
    for (long i = atomic_fetch_add(&run->next, 1); ready && i < run->n && !zsys_interrupted;
         i = atomic_fetch_add(&run->next, 1))
        s_flow(run, i, intake, approval, approvers);
    for (long k = 0; k < o->k; k++)
        zsock_destroy(&approvers[k]);
    zsock_destroy(&approval);
    zsock_destroy(&intake);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The pct-th percentile (nearest rank) of the step's latencies, in ms. */
static double s_pct_ms(const s_run_t *run, int step, double pct)
{
    int64_t *v = (int64_t *)malloc(sizeof(int64_t) * (size_t)(run->n ? run->n : 1));
    long count = 0;
    for (long i = 0; i < run->n; i++)
        if (run->items[i].us[step] > 0)
            v[count++] = run->items[i].us[step];
    double ms = 0;
    if (count > 0) {
        qsort(v, (size_t)count, sizeof *v, s_cmp);
        long rank = (long)(pct / 100.0 * (double)count + 0.999999);
        ms = (double)v[(rank < 1 ? 1 : rank) - 1] / 1000.0;
    }
    free(v);
    return ms;
}

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: kefu-e2e-flow --tickets FILE --cert AGENT-CERT --cert-dir DIR [options]\n"
        "  --tickets FILE    ticket numbers, the first word of each line (kefu-load --tickets)\n"
        "  --cert FILE       the agent who opens requests and resolves (default $KEFU_CERT)\n"
        "  --cert-dir DIR    holds ap01.cert .. apK.cert, the approvers of the K bands\n"
        "  -k K              approvers / amount bands (default 4, at most %d)\n"
        "  -c C              client threads (default 4)\n"
        "  --intake EP       default $KEFU_INTAKE\n"
        "  --approval EP     default $KEFU_APPROVAL\n"
        "  --timeout-ms MS   per request (default 10000)\n",
        S_MAX_APPROVERS);
}

static int s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option longs[] = {
        {"tickets", required_argument, NULL, 't'},  {"cert", required_argument, NULL, 'C'},
        {"cert-dir", required_argument, NULL, 'd'}, {"intake", required_argument, NULL, 'i'},
        {"approval", required_argument, NULL, 'a'}, {"timeout-ms", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    *o = (s_opts_t){.intake = getenv("KEFU_INTAKE"),
                    .approval = getenv("KEFU_APPROVAL"),
                    .cert = getenv("KEFU_CERT"),
                    .c = 4,
                    .k = 4,
                    .timeout_ms = 10000};
    int opt;
    while ((opt = getopt_long(argc, argv, "c:k:h", longs, NULL)) != -1) {
        switch (opt) {
        case 't':
            o->tickets_file = optarg;
            break;
        case 'C':
            o->cert = optarg;
            break;
        case 'd':
            o->cert_dir = optarg;
            break;
        case 'i':
            o->intake = optarg;
            break;
        case 'a':
            o->approval = optarg;
            break;
        case 'T':
            o->timeout_ms = strtol(optarg, NULL, 10);
            break;
        case 'c':
            o->c = strtol(optarg, NULL, 10);
            break;
        case 'k':
            o->k = strtol(optarg, NULL, 10);
            break;
        case 'h':
            s_usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || !o->tickets_file || !o->cert || !o->cert_dir || !o->intake ||
        !o->approval || o->c < 1 || o->c > 1024 || o->k < 1 || o->k > S_MAX_APPROVERS ||
        o->timeout_ms < 1)
        return -1;
    return 0;
}

/* Reads the ticket numbers; returns how many, or -1. */
static long s_read_tickets(const char *path, s_item_t **items_p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = 0, cap = 1024;
    s_item_t *items = (s_item_t *)calloc((size_t)cap, sizeof *items);
    char line[256];
    while (items && fgets(line, sizeof line, f)) {
        char word[40];
        if (sscanf(line, "%39s", word) != 1)
            continue;
        if (n == cap) {
            cap *= 2;
            s_item_t *bigger = (s_item_t *)realloc(items, sizeof *items * (size_t)cap);
            if (!bigger)
                break;
            items = bigger;
        }
        memset(&items[n], 0, sizeof items[n]);
        snprintf(items[n++].ticket, sizeof items[0].ticket, "%s", word);
    }
    fclose(f);
    *items_p = items;
    return items ? n : -1;
}

int main(int argc, char **argv)
{
    static s_run_t run;
    if (s_parse(argc, argv, &run.opts) != 0) {
        s_usage(stderr);
        return 2;
    }
    zsys_init();
    zsys_set_max_sockets(0);
    run.n = s_read_tickets(run.opts.tickets_file, &run.items);
    if (run.n <= 0) {
        fprintf(stderr, "kefu-e2e-flow: no tickets in %s\n", run.opts.tickets_file);
        return 2;
    }
    pthread_mutex_init(&run.lock, NULL);
    pthread_t *threads = (pthread_t *)calloc((size_t)run.opts.c, sizeof(pthread_t));
    int64_t start = s_now_us();
    for (long t = 0; t < run.opts.c; t++)
        pthread_create(&threads[t], NULL, s_client, &run);
    for (long t = 0; t < run.opts.c; t++)
        pthread_join(threads[t], NULL);
    double elapsed_ms = (double)(s_now_us() - start) / 1000.0;
    long done = 0, approved = 0;
    for (long i = 0; i < run.n; i++) {
        done += run.items[i].done;
        approved += run.items[i].us[1] > 0;
    }
    printf("tickets=%ld\napproved=%ld\nresolved=%ld\nerrors=%ld\n", run.n, approved, done,
           run.n - done);
    for (int e = 0; e < run.nerrors; e++)
        printf("errors.%s=%ld\n", run.errors[e], run.error_counts[e]);
    printf("elapsed_ms=%.1f\nflow_per_s=%.1f\n", elapsed_ms,
           elapsed_ms > 0 ? (double)done * 1000.0 / elapsed_ms : 0.0);
    for (int s = 0; s < S_STEPS; s++)
        printf("%s_p50_ms=%.2f\n%s_p99_ms=%.2f\n", s_step_names[s], s_pct_ms(&run, s, 50),
               s_step_names[s], s_pct_ms(&run, s, 99));
    free(threads);
    free(run.items);
    pthread_mutex_destroy(&run.lock);
    return done == run.n ? 0 : 1;
}
