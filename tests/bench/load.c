/* kefu-load — drives N submits from C concurrent clients through intake and
   (optionally) waits until the router has routed every acknowledged ticket.

   Each client is a thread with its own DEALER socket and one request in
   flight; every socket presents the same certificate (--cert, KEFU_CERT),
   whose staff member submits (common/auth.h). Results are key=value lines on stdout
   (tests/bench/README.md). Exit status: 0 every submit acknowledged (and, with --wait-routed, every
   acknowledged ticket routed per the bus or the store), 1 otherwise, 2 usage. */
#include <czmq.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "auth.h"
#include "bench_util.h"
#include "catalog.h"
#include "envelope.h"

#define S_SRC "kefu-load"
#define S_MAX_IDS 32            /* request ids remembered per submit (retries) */
#define S_MAX_CODES 24          /* distinct error codes counted */
#define S_STORE_QUIET_US 500000 /* bus quiet this long: ask the store */

/* ---- options -------------------------------------------------------- */

typedef struct {
    const char *endpoint;
    const char *sub;
    const char *db;
    const char *cert; /* the certificate every client presents */
    const char *project;
    const char *kind;
    const char *tickets_file;
    char idem_prefix[48];
    long n, c;
    long timeout_ms;
    long retry_for_ms;
    long wait_routed_ms; /* -1: do not wait */
    bool mix;
} s_opts_t;

/* ---- one submit ----------------------------------------------------- */

typedef enum { S_PENDING = 0, S_ACKED, S_FAILED } s_state_t;

typedef struct {
    int64_t start_us; /* first attempt sent */
    int64_t ack_us;   /* reply received */
    char ticket[32];
    char code[24]; /* error code, or "timeout" */
    uint8_t state;
    bool duplicate;
} s_item_t;

/* ---- shared state ---------------------------------------------------- */

typedef struct {
    s_opts_t opts;
    s_item_t *items;
    atomic_long next;    /* next submit index to send */
    atomic_long retries; /* attempts beyond the first */
    unsigned phone_base;
    /* routed events seen on the bus: ticket -> int64_t* receive time (us) */
    pthread_mutex_t lock;
    zhashx_t *routed;
    atomic_bool stop_sub;
    atomic_bool sub_ready;
    atomic_long sub_bad; /* frames on the SUB socket that did not decode */
} s_run_t;

/* One submit's body, kefu-load's content (bench_util.h) under key PREFIX-i. */
static void s_fill_body(s_run_t *run, long i, kf_body_t *body)
{
    const s_opts_t *o = &run->opts;
    char idem[80];
    snprintf(idem, sizeof idem, "%s-%ld", o->idem_prefix, i);
    kb_submit_t sub;
    kb_submit_fill(&sub, o->mix, o->kind, run->phone_base, i);
    kf_body_str(body, "idem", idem);
    kf_body_str(body, "kind", sub.kind);
    kf_body_str(body, "category", sub.category);
    kf_body_str(body, "channel", sub.channel);
    kf_body_str(body, "priority", sub.priority);
    kf_body_str(body, "project", o->project);
    kf_body_str(body, "phone", sub.phone);
    kf_body_str(body, "summary", sub.summary);
}

/* ---- clients ------------------------------------------------------------ */

/* Waits for the reply to one of ids, up to deadline_us. Returns the decoded
   reply (caller destroys) or NULL on timeout. Replies to anything else
   (a previous submit's late answers) are dropped. */
static kf_env_t *s_await(zsock_t *sock, zpoller_t *poller, char ids[][KF_MAX_ID + 1], int nids,
                         int64_t deadline_us)
{
    for (int64_t left = deadline_us - kb_now_us(); left > 0; left = deadline_us - kb_now_us()) {
        int wait_ms = (int)((left + 999) / 1000);
        if (!zpoller_wait(poller, wait_ms)) {
            if (zpoller_terminated(poller) && !zpoller_expired(poller))
                return NULL;
            continue;
        }
        zmsg_t *msg = zmsg_recv(sock);
        if (!msg)
            return NULL;
        kf_error_t err = {0};
        kf_env_t *env = kf_env_decode_msg(msg, &err);
        zmsg_destroy(&msg);
        if (!env)
            continue;
        for (int k = 0; k < nids; k++)
            if (strcmp(kf_env_corr(env), ids[k]) == 0)
                return env;
        kf_env_destroy(&env);
    }
    return NULL;
}

/* A client's connection to intake. */
typedef struct {
    zsock_t *sock;
    zpoller_t *poller;
} s_conn_t;

/* Opens conn: 0, or -1 (said on stderr). */
static int s_conn_open(const s_run_t *run, s_conn_t *conn)
{
    conn->sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(conn->sock, 0);
    kf_error_t err = {0};
    if (kf_auth_client(conn->sock, run->opts.cert, NULL, &err) != 0) {
        fprintf(stderr, "kefu-load: %s\n", err.message);
        zsock_destroy(&conn->sock);
        return -1;
    }
    if (zsock_connect(conn->sock, "%s", run->opts.endpoint) != 0) {
        fprintf(stderr, "kefu-load: cannot connect to %s\n", run->opts.endpoint);
        zsock_destroy(&conn->sock);
        return -1;
    }
    conn->poller = zpoller_new(conn->sock, NULL);
    return 0;
}

static void s_conn_close(s_conn_t *conn)
{
    zpoller_destroy(&conn->poller);
    zsock_destroy(&conn->sock);
}

/* Sends submit i until it is answered, retrying as the options allow. */
static void s_submit(s_run_t *run, s_conn_t *conn, long i)
{
    s_item_t *item = &run->items[i];
    const s_opts_t *o = &run->opts;
    char ids[S_MAX_IDS][KF_MAX_ID + 1];
    int nids = 0;
    int64_t backoff_ms = 100;
    item->start_us = kb_now_us();
    int64_t retry_until = item->start_us + o->retry_for_ms * 1000;
    for (int attempt = 0;; attempt++) {
        if (attempt > 0)
            atomic_fetch_add(&run->retries, 1);
        zuuid_t *uuid = zuuid_new();
        char *id = ids[nids < S_MAX_IDS ? nids++ : S_MAX_IDS - 1];
        snprintf(id, KF_MAX_ID + 1, "%s", zuuid_str_canonical(uuid));
        zuuid_destroy(&uuid);
        kf_body_t *body = kf_body_new();
        s_fill_body(run, i, body);
        zmsg_t *msg = kf_env_encode("submit", id, 0, 0, S_SRC, "", &body);
        zsock_set_sndtimeo(conn->sock, (int)o->timeout_ms);
        if (zmsg_send(&msg, conn->sock) != 0)
            zmsg_destroy(&msg);
        kf_env_t *reply =
            s_await(conn->sock, conn->poller, ids, nids, kb_now_us() + o->timeout_ms * 1000);
        if (!reply && kb_now_us() < retry_until && !zsys_interrupted) {
            /* Sent again on a new connection: libzmq never connects again
               to a daemon that refused a handshake (auth_client.h), as
               intake does while it cannot reach its store. */
            s_conn_close(conn);
            if (s_conn_open(run, conn) == 0)
                continue;
            snprintf(item->code, sizeof item->code, "connect");
            break;
        }
        if (!reply) {
            snprintf(item->code, sizeof item->code, "timeout");
            break;
        }
        const msgpack_object *b = kf_env_body(reply);
        kf_error_t err = {0};
        if (strcmp(kf_env_type(reply), "reply.ok") == 0) {
            bool duplicate = false;
            item->ack_us = kb_now_us();
            if (kf_get_str(b, "ticket", true, item->ticket, sizeof item->ticket, &err) == 1) {
                kf_get_bool(b, "duplicate", false, &duplicate, &err);
                item->duplicate = duplicate;
                item->state = S_ACKED;
            } else
                snprintf(item->code, sizeof item->code, "bad_reply");
            kf_env_destroy(&reply);
            break;
        }
        char code[24] = "unknown";
        kf_get_str(b, "code", true, code, sizeof code, &err);
        kf_env_destroy(&reply);
        if (strcmp(code, "unavailable") == 0 && kb_now_us() < retry_until && !zsys_interrupted) {
            int64_t left_ms = (retry_until - kb_now_us()) / 1000;
            zclock_sleep((int)(backoff_ms < left_ms ? backoff_ms : left_ms));
            backoff_ms = backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2;
            continue;
        }
        snprintf(item->code, sizeof item->code, "%s", code);
        break;
    }
    if (item->state != S_ACKED)
        item->state = S_FAILED;
}

static void *s_client(void *arg)
{
    s_run_t *run = (s_run_t *)arg;
    s_conn_t conn = {0};
    if (s_conn_open(run, &conn) != 0)
        return NULL;
    /* A submit is claimed only by a client that can send it: one whose
       reconnection failed leaves the rest to the others. */
    while (conn.sock && !zsys_interrupted) {
        long i = atomic_fetch_add(&run->next, 1);
        if (i >= run->opts.n)
            break;
        s_submit(run, &conn, i);
    }
    s_conn_close(&conn);
    return NULL;
}

/* ---- the bus subscriber ----------------------------------------------- */

static void *s_subscriber(void *arg)
{
    s_run_t *run = (s_run_t *)arg;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sub, 1000000);
    zsock_set_linger(sub, 0);
    zsock_set_subscribe(sub, "ticket.routed");
    if (zsock_connect(sub, "%s", run->opts.sub) != 0)
        fprintf(stderr, "kefu-load: cannot connect to the bus at %s\n", run->opts.sub);
    atomic_store(&run->sub_ready, true);
    zpoller_t *poller = zpoller_new(sub, NULL);
    while (!atomic_load(&run->stop_sub)) {
        if (!zpoller_wait(poller, 50))
            continue;
        zmsg_t *msg = zmsg_recv(sub);
        int64_t at = kb_now_us();
        if (!msg)
            continue;
        kf_error_t err = {0};
        kf_env_t *env = kf_env_decode_msg(msg, &err);
        zmsg_destroy(&msg);
        if (!env) {
            atomic_fetch_add(&run->sub_bad, 1);
            continue;
        }
        pthread_mutex_lock(&run->lock);
        if (!zhashx_lookup(run->routed, kf_env_corr(env))) {
            int64_t *value = (int64_t *)malloc(sizeof(int64_t));
            *value = at;
            zhashx_insert(run->routed, kf_env_corr(env), value);
        }
        pthread_mutex_unlock(&run->lock);
        kf_env_destroy(&env);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    return NULL;
}

static void s_free_value(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

/* ---- the store fallback ---------------------------------------------- */

/* Asks the store which of the tickets not yet seen routed (missing, count
   names) have left status 'submitted'; marks them in store_routed.
   Returns how many were found, or -1. */
static long s_store_check(PGconn *conn, char **missing, long count, zhashx_t *store_routed)
{
    if (count == 0)
        return 0;
    size_t size = 4;
    for (long k = 0; k < count; k++)
        size += strlen(missing[k]) + 1;
    char *array = (char *)malloc(size);
    char *p = array;
    *p++ = '{';
    for (long k = 0; k < count; k++) {
        size_t len = strlen(missing[k]);
        if (k > 0)
            *p++ = ',';
        memcpy(p, missing[k], len);
        p += len;
    }
    *p++ = '}';
    *p = 0;
    const char *params[] = {array};
    PGresult *res = PQexecParams(conn,
                                 "SELECT no FROM ticket WHERE no = ANY($1::text[]) "
                                 "AND status <> 'submitted'",
                                 1, NULL, params, NULL, NULL, 0);
    free(array);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "kefu-load: store query failed: %s", PQerrorMessage(conn));
        PQclear(res);
        return -1;
    }
    long found = 0;
    for (int r = 0; r < PQntuples(res); r++)
        if (zhashx_insert(store_routed, PQgetvalue(res, r, 0), (void *)1) == 0)
            found++;
    PQclear(res);
    return found;
}

/* ---- statistics ---------------------------------------------------------- */

/* ---- usage and options ---------------------------------------------------- */

static void s_usage(FILE *out)
{
    fprintf(out,
            "Usage: kefu-load [options]\n"
            "Drives N submits from C concurrent clients through kefu-intake and reports\n"
            "throughput and latency as key=value lines (see tests/bench/README.md).\n\n"
            "  --endpoint EP      intake endpoint (default $KEFU_INTAKE or tcp://127.0.0.1:7700)\n"
            "  --sub EP           bus subscriber endpoint (default $KEFU_BUS_SUB or\n"
            "                     tcp://127.0.0.1:7702)\n"
            "  -n N               submits to send (default 1000)\n"
            "  -c C               concurrent clients, one DEALER each, one request in flight\n"
            "                     (default 1)\n"
            "  --cert FILE        the certificate of the staff member who submits (default\n"
            "                     $KEFU_CERT; kefu-admin cert STAFF --out FILE)\n"
            "  --project P        project code (default HZ-XH)\n"
            "  --kind K           kind of every submit (default complaint)\n"
            "  --mix              cycle kinds, categories, channels and priorities\n"
            "  --idem-prefix S    idempotency keys are S-INDEX (default a random prefix)\n"
            "  --timeout-ms T     per request (default 5000)\n"
            "  --retry-for-ms R   on timeout or 'unavailable', resend the same submit (same\n"
            "                     idempotency key) until R ms have passed (default 0: never)\n"
            "  --wait-routed MS   subscribe to ticket.routed before sending; after the last\n"
            "                     reply wait up to MS until every acknowledged ticket is routed\n"
            "  --db URL           store to ask when the bus missed routed events (default\n"
            "                     $KEFU_DATABASE_URL; empty: bus only)\n"
            "  --tickets FILE     write each acknowledged ticket number, one a line,\n"
            "                     \" dup\" appended for duplicates\n"
            "  --help             this text\n\n"
            "Exit status: 0 all acknowledged (and routed with --wait-routed), 1 otherwise,\n"
            "2 usage error.\n");
}

static bool s_in(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

enum {
    O_ENDPOINT = 256,
    O_SUB,
    O_CERT,
    O_PROJECT,
    O_KIND,
    O_MIX,
    O_IDEM,
    O_TIMEOUT,
    O_RETRY,
    O_WAIT,
    O_DB,
    O_TICKETS,
    O_HELP
};

/* The defaults, from the environment where kefu's programs read it. */
static void s_defaults(s_opts_t *o)
{
    o->endpoint = kb_env_or("KEFU_INTAKE", "tcp://127.0.0.1:7700");
    o->sub = kb_env_or("KEFU_BUS_SUB", "tcp://127.0.0.1:7702");
    o->db = kb_env_or("KEFU_DATABASE_URL", "");
    o->cert = kb_env_or("KEFU_CERT", "");
    o->project = "HZ-XH";
    o->kind = "complaint";
    o->n = 1000;
    o->c = 1;
    o->timeout_ms = 5000;
    o->retry_for_ms = 0;
    o->wait_routed_ms = -1;
}

/* Applies one option whose value must be checked. Returns 0, or 2 on a
   usage error (after saying what is wrong). */
static int s_checked_option(int opt, const char *arg, s_opts_t *o)
{
    switch (opt) {
    case 'n':
        return kb_long_arg("kefu-load", "-n", arg, 1, 100000000, &o->n) ? 2 : 0;
    case 'c':
        return kb_long_arg("kefu-load", "-c", arg, 1, 1024, &o->c) ? 2 : 0;
    case O_TIMEOUT:
        return kb_long_arg("kefu-load", "--timeout-ms", arg, 1, 3600000, &o->timeout_ms) ? 2 : 0;
    case O_RETRY:
        return kb_long_arg("kefu-load", "--retry-for-ms", arg, 0, 86400000, &o->retry_for_ms) ? 2
                                                                                              : 0;
    case O_WAIT:
        return kb_long_arg("kefu-load", "--wait-routed", arg, 0, 86400000, &o->wait_routed_ms) ? 2
                                                                                               : 0;
    case O_KIND:
        if (!s_in(kf_kinds, arg)) {
            fprintf(stderr, "kefu-load: --kind must be a kind of proto/catalog.md\n");
            return 2;
        }
        o->kind = arg;
        return 0;
    case O_IDEM:
        if (strlen(arg) == 0 || strlen(arg) > 40) {
            fprintf(stderr, "kefu-load: --idem-prefix must be 1-40 bytes\n");
            return 2;
        }
        snprintf(o->idem_prefix, sizeof o->idem_prefix, "%s", arg);
        return 0;
    default:
        return -1;
    }
}

/* Applies one option. Returns 0, 1 after --help, or 2 on a usage error. */
static int s_option(int opt, const char *arg, const char *given, s_opts_t *o)
{
    int rc = s_checked_option(opt, arg, o);
    if (rc >= 0)
        return rc;
    switch (opt) {
    case O_ENDPOINT:
        o->endpoint = arg;
        return 0;
    case O_SUB:
        o->sub = arg;
        return 0;
    case O_CERT:
        o->cert = arg;
        return 0;
    case O_PROJECT:
        o->project = arg;
        return 0;
    case O_MIX:
        o->mix = true;
        return 0;
    case O_DB:
        o->db = arg;
        return 0;
    case O_TICKETS:
        o->tickets_file = arg;
        return 0;
    case 'h':
    case O_HELP:
        s_usage(stdout);
        return 1;
    default:
        fprintf(stderr, "kefu-load: unknown or incomplete option '%s' (try --help)\n", given);
        return 2;
    }
}

/* Returns 0, 1 after --help, or 2 on a usage error. */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option longs[] = {{"endpoint", required_argument, NULL, O_ENDPOINT},
                                          {"sub", required_argument, NULL, O_SUB},
                                          {"cert", required_argument, NULL, O_CERT},
                                          {"project", required_argument, NULL, O_PROJECT},
                                          {"kind", required_argument, NULL, O_KIND},
                                          {"mix", no_argument, NULL, O_MIX},
                                          {"idem-prefix", required_argument, NULL, O_IDEM},
                                          {"timeout-ms", required_argument, NULL, O_TIMEOUT},
                                          {"retry-for-ms", required_argument, NULL, O_RETRY},
                                          {"wait-routed", required_argument, NULL, O_WAIT},
                                          {"db", required_argument, NULL, O_DB},
                                          {"tickets", required_argument, NULL, O_TICKETS},
                                          {"help", no_argument, NULL, O_HELP},
                                          {NULL, 0, NULL, 0}};
    s_defaults(o);
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "n:c:h", longs, NULL)) != -1) {
        int rc = s_option(opt, optarg, argv[optind - 1], o);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "kefu-load: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    /* A certificate the daemon cannot use would only show as timeouts. */
    zsock_t *probe = zsock_new(ZMQ_DEALER);
    kf_error_t err = {0};
    int usable = kf_auth_client(probe, o->cert, NULL, &err);
    zsock_destroy(&probe);
    if (usable != 0) {
        fprintf(stderr, "kefu-load: --cert: %s\n", err.message);
        return 2;
    }
    if (!o->idem_prefix[0]) {
        zuuid_t *uuid = zuuid_new();
        snprintf(o->idem_prefix, sizeof o->idem_prefix, "load-%.12s", zuuid_str(uuid));
        zuuid_destroy(&uuid);
    }
    return 0;
}

/* ---- waiting for routing ------------------------------------------------- */

typedef struct {
    long unique;       /* distinct acknowledged tickets */
    long via_bus;      /* of them, routed events received */
    long via_store;    /* of the rest, found routed in the store */
    int64_t last_us;   /* when the last of them was seen routed */
    bool store_failed; /* the store could not be asked */
} s_routed_t;

/* Counts acknowledged tickets (unique) seen routed on the bus. */
static long s_count_bus(s_run_t *run, zhashx_t *acked, int64_t *last_us)
{
    long seen = 0;
    pthread_mutex_lock(&run->lock);
    for (void *v = zhashx_first(acked); v; v = zhashx_next(acked)) {
        int64_t *at = (int64_t *)zhashx_lookup(run->routed, zhashx_cursor(acked));
        if (at) {
            seen++;
            if (*at > *last_us)
                *last_us = *at;
        }
    }
    pthread_mutex_unlock(&run->lock);
    return seen;
}

static void s_wait_routed(s_run_t *run, zhashx_t *acked, int64_t last_ack_us, s_routed_t *out)
{
    const s_opts_t *o = &run->opts;
    out->unique = (long)zhashx_size(acked);
    zhashx_t *store_routed = zhashx_new();
    PGconn *conn = NULL;
    int64_t deadline = last_ack_us + o->wait_routed_ms * 1000;
    long last_seen = -1;
    int64_t progress_us = kb_now_us(), store_asked_us = 0;
    while (!zsys_interrupted) {
        int64_t last_us = 0;
        long seen = s_count_bus(run, acked, &last_us);
        if (seen != last_seen) {
            last_seen = seen;
            progress_us = kb_now_us();
            if (last_us > out->last_us)
                out->last_us = last_us;
        }
        out->via_bus = seen;
        /* Tickets found in the store stay counted even if their event
           arrives later; count each once. */
        long via_store = 0;
        for (void *v = zhashx_first(store_routed); v; v = zhashx_next(store_routed)) {
            pthread_mutex_lock(&run->lock);
            if (!zhashx_lookup(run->routed, zhashx_cursor(store_routed)))
                via_store++;
            pthread_mutex_unlock(&run->lock);
        }
        out->via_store = via_store;
        if (seen + via_store >= out->unique)
            break;
        int64_t now = kb_now_us();
        if (now >= deadline)
            break;
        if (o->db[0] && now - progress_us >= S_STORE_QUIET_US &&
            now - store_asked_us >= S_STORE_QUIET_US) {
            store_asked_us = now;
            if (!conn) {
                conn = PQconnectdb(o->db);
                if (PQstatus(conn) != CONNECTION_OK) {
                    fprintf(stderr, "kefu-load: cannot connect to the store: %s",
                            PQerrorMessage(conn));
                    out->store_failed = true;
                }
            }
            if (PQstatus(conn) == CONNECTION_OK) {
                long count = 0;
                char **missing = (char **)calloc((size_t)out->unique + 1, sizeof(char *));
                pthread_mutex_lock(&run->lock);
                for (void *v = zhashx_first(acked); v; v = zhashx_next(acked)) {
                    const char *no = (const char *)zhashx_cursor(acked);
                    if (!zhashx_lookup(run->routed, no) && !zhashx_lookup(store_routed, no))
                        missing[count++] = (char *)no;
                }
                pthread_mutex_unlock(&run->lock);
                long found = s_store_check(conn, missing, count, store_routed);
                free(missing);
                if (found > 0)
                    out->last_us = kb_now_us();
                if (found < 0)
                    out->store_failed = true;
                continue;
            }
        }
        zclock_sleep(20);
    }
    PQfinish(conn);
    zhashx_destroy(&store_routed);
}

/* ---- main ------------------------------------------------------------------- */

/* What the clients were told, tallied from the items. */
typedef struct {
    long sent, acked, duplicates, failed;
    int64_t last_ack_us;
    int64_t *latency_us; /* acked of them, submit to acknowledgement */
    char codes[S_MAX_CODES][24];
    long code_counts[S_MAX_CODES];
    int ncodes;
    zhashx_t *tickets; /* distinct ticket -> item index + 1 */
} s_acks_t;

/* Counts one failed submit under its error code. */
static void s_count_code(s_acks_t *a, const char *code)
{
    int k = 0;
    while (k < a->ncodes && strcmp(a->codes[k], code) != 0)
        k++;
    if (k == a->ncodes && a->ncodes < S_MAX_CODES)
        snprintf(a->codes[a->ncodes++], sizeof a->codes[0], "%s", code);
    if (k < S_MAX_CODES)
        a->code_counts[k]++;
}

/* Tallies the items after every client has finished. */
static void s_tally(s_run_t *run, int64_t t0, s_acks_t *a)
{
    const s_opts_t *o = &run->opts;
    a->last_ack_us = t0;
    a->latency_us = (int64_t *)calloc((size_t)o->n + 1, sizeof(int64_t));
    a->tickets = zhashx_new();
    for (long i = 0; i < o->n; i++) {
        s_item_t *it = &run->items[i];
        if (it->state == S_PENDING)
            continue;
        a->sent++;
        if (it->state != S_ACKED) {
            a->failed++;
            s_count_code(a, it->code);
            continue;
        }
        a->latency_us[a->acked++] = it->ack_us - it->start_us;
        if (it->ack_us > a->last_ack_us)
            a->last_ack_us = it->ack_us;
        if (it->duplicate)
            a->duplicates++;
        if (!zhashx_lookup(a->tickets, it->ticket))
            zhashx_insert(a->tickets, it->ticket, (void *)(intptr_t)(i + 1));
    }
}

/* Submit-to-routed latencies of the tickets seen routed on the bus, into
   out (room for every item); returns how many. */
static long s_routed_latencies(s_run_t *run, zhashx_t *tickets, int64_t *out)
{
    long n = 0;
    for (void *v = zhashx_first(tickets); v; v = zhashx_next(tickets)) {
        int64_t *at = (int64_t *)zhashx_lookup(run->routed, zhashx_cursor(tickets));
        long i = (long)(intptr_t)v - 1;
        if (at)
            out[n++] = *at - run->items[i].start_us;
    }
    return n;
}

/* Writes each acknowledged ticket number to --tickets FILE. */
static void s_write_tickets(const s_run_t *run)
{
    const s_opts_t *o = &run->opts;
    FILE *f = fopen(o->tickets_file, "w");
    if (!f) {
        fprintf(stderr, "kefu-load: cannot write %s\n", o->tickets_file);
        return;
    }
    for (long i = 0; i < o->n; i++)
        if (run->items[i].state == S_ACKED)
            fprintf(f, "%s%s\n", run->items[i].ticket, run->items[i].duplicate ? " dup" : "");
    fclose(f);
}

/* Prints the acknowledgement figures. */
static void s_print_acks(s_run_t *run, int64_t t0, s_acks_t *a)
{
    double elapsed_s = (double)(a->last_ack_us - t0) / 1e6;
    qsort(a->latency_us, (size_t)a->acked, sizeof(int64_t), kb_cmp_i64);
    printf("clients=%ld\n", run->opts.c);
    printf("sent=%ld\n", a->sent);
    printf("acked=%ld\n", a->acked);
    printf("duplicates=%ld\n", a->duplicates);
    printf("errors=%ld\n", a->failed);
    for (int k = 0; k < a->ncodes; k++)
        printf("errors.%s=%ld\n", a->codes[k], a->code_counts[k]);
    printf("retries=%ld\n", atomic_load(&run->retries));
    printf("elapsed_ms=%.1f\n", elapsed_s * 1000);
    printf("ack_per_s=%.1f\n", elapsed_s > 0 ? (double)a->acked / elapsed_s : 0);
    printf("ack_p50_ms=%.2f\n", kb_pct_ms(a->latency_us, a->acked, 50));
    printf("ack_p99_ms=%.2f\n", kb_pct_ms(a->latency_us, a->acked, 99));
    printf("ack_max_ms=%.2f\n", kb_pct_ms(a->latency_us, a->acked, 100));
}

/* Waits for the acknowledged tickets to be routed and prints the routing
   figures. Returns true when every one was seen routed. */
static bool s_report_routed(s_run_t *run, pthread_t sub_thread, int64_t t0, s_acks_t *a)
{
    s_routed_t routed = {0};
    s_wait_routed(run, a->tickets, a->last_ack_us, &routed);
    atomic_store(&run->stop_sub, true);
    pthread_join(sub_thread, NULL);
    int64_t *lat = (int64_t *)calloc((size_t)run->opts.n + 1, sizeof(int64_t));
    long nlat = s_routed_latencies(run, a->tickets, lat);
    qsort(lat, (size_t)nlat, sizeof(int64_t), kb_cmp_i64);
    long total = routed.via_bus + routed.via_store;
    double routed_s = (double)(routed.last_us - t0) / 1e6;
    printf("unique_tickets=%ld\n", routed.unique);
    printf("routed=%ld\n", total);
    printf("routed_bus=%ld\n", routed.via_bus);
    printf("routed_store=%ld\n", routed.via_store);
    printf("routed_per_s=%.1f\n", routed_s > 0 ? (double)total / routed_s : 0);
    printf("routed_p50_ms=%.2f\n", kb_pct_ms(lat, nlat, 50));
    printf("routed_p99_ms=%.2f\n", kb_pct_ms(lat, nlat, 99));
    printf("routed_max_ms=%.2f\n", kb_pct_ms(lat, nlat, 100));
    if (atomic_load(&run->sub_bad) > 0)
        printf("bus_bad_frames=%ld\n", atomic_load(&run->sub_bad));
    free(lat);
    return total >= routed.unique;
}

/* Runs the clients to the end; returns when they started. */
static int64_t s_run_clients(s_run_t *run)
{
    int64_t t0 = kb_now_us();
    pthread_t *clients = (pthread_t *)calloc((size_t)run->opts.c, sizeof(pthread_t));
    for (long k = 0; k < run->opts.c; k++)
        pthread_create(&clients[k], NULL, s_client, run);
    for (long k = 0; k < run->opts.c; k++)
        pthread_join(clients[k], NULL);
    free(clients);
    return t0;
}

int main(int argc, char **argv)
{
    s_run_t *run = (s_run_t *)calloc(1, sizeof(s_run_t));
    int rc = s_parse(argc, argv, &run->opts);
    if (rc != 0) {
        free(run);
        return rc == 1 ? 0 : 2;
    }
    const s_opts_t *o = &run->opts;
    zsys_init();
    zsys_set_logstream(NULL);
    run->items = (s_item_t *)calloc((size_t)o->n, sizeof(s_item_t));
    run->phone_base = kb_phone_base(o->idem_prefix);
    pthread_mutex_init(&run->lock, NULL);
    run->routed = zhashx_new();
    zhashx_set_destructor(run->routed, s_free_value);

    pthread_t sub_thread;
    bool waiting = o->wait_routed_ms >= 0;
    if (waiting) {
        pthread_create(&sub_thread, NULL, s_subscriber, run);
        while (!atomic_load(&run->sub_ready))
            zclock_sleep(5);
        /* The subscription travels through the bus to every publisher. */
        zclock_sleep(300);
    }
    int64_t t0 = s_run_clients(run);
    s_acks_t acks = {0};
    s_tally(run, t0, &acks);
    if (o->tickets_file)
        s_write_tickets(run);
    s_print_acks(run, t0, &acks);
    bool all_routed = waiting ? s_report_routed(run, sub_thread, t0, &acks) : true;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("load_cpu_ms=%.0f\n",
           (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
               (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000);
    fflush(stdout);

    free(acks.latency_us);
    zhashx_destroy(&acks.tickets);
    zhashx_destroy(&run->routed);
    pthread_mutex_destroy(&run->lock);
    int status = acks.acked == o->n && all_routed ? 0 : 1;
    free(run->items);
    free(run);
    return status;
}
