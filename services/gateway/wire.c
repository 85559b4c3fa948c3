/* kefu-gateway — DEALERs, their handshakes, and requests in flight (wire.h). */
#include "wire.h"

#include <string.h>

#include "auth_client.h"
#include "log.h"
#include "request.h"

#define S_SRC "gateway"

/* The wait before a socket whose handshake failed is replaced: doubled at
   each failure up to a cap; a certificate refused for good (ZAP 400) waits
   for an operator, so it is tried again less often. */
#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 2000
#define S_BACKOFF_REFUSED_MS 30000

/* A request in flight. */
typedef struct {
    char id[KF_MAX_ID + 1];
    int64_t deadline; /* zclock_mono */
    void *arg;
    void *handle; /* in self->order */
} s_flight_t;

/* One daemon's side: the DEALER requests go to, and what keeps it
   connected. libzmq gives up an endpoint for good once a handshake with it
   failed (auth_client.h): a daemon that cannot reach its store refuses
   every handshake for now (ZAP 500), and would never be tried again. So a
   failed handshake replaces the socket after a back-off; the socket it
   replaces is still read until the requests it carries are past their
   deadline. */
typedef struct {
    const char *name;      /* intake, approval, survey */
    const char *endpoints; /* the setting's value */
    const char *cert;
    zsock_t *sock, *monitor;
    zsock_t *old;      /* the socket sock replaced, read until old_until */
    int64_t old_until; /* zclock_mono */
    int64_t renew_at;  /* when to replace sock; 0: no need */
    int backoff_ms;    /* the wait before the next replacement */
    zhashx_t *failing; /* endpoints whose last handshake failed (logged once) */
    int polled[3];     /* sock, monitor and old in the loop's pollset */
} s_peer_t;

enum { S_INTAKE, S_APPROVAL, S_SURVEY, S_PEERS };

struct gw_wire {
    s_peer_t peers[S_PEERS];
    zhashx_t *flights; /* id -> s_flight_t (owned by order) */
    zlistx_t *order;   /* s_flight_t, oldest first: the deadlines are in order */
    int timeout_ms;
};

/* The order list's destructor. */
static void s_flight_free(void **item)
{
    free(*item);
    *item = NULL;
}

/* A new DEALER for peer: a CURVE client with its certificate, connected to
   its endpoints, its handshakes watched. -1 with err when the certificate
   or an endpoint cannot be used. */
static int s_dial(s_peer_t *peer, kf_error_t *err)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return kf_error_set(err, KF_E_INTERNAL, "", "cannot create a socket");
    zsock_set_linger(sock, 0);
    zsock_set_sndhwm(sock, 100000);
    zsock_set_sndtimeo(sock, 0); /* a DEALER with no peer would block: never wait */
    zsock_t *monitor = NULL;
    if (kf_auth_client(sock, peer->cert, NULL, err) == 0) {
        monitor =
            kf_monitor_new(sock, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
        if (!monitor)
            kf_error_set(err, KF_E_INTERNAL, "", "cannot watch a socket's handshakes");
    }
    if (!monitor || kf_connect_list(sock, peer->endpoints, err) != 0) {
        kf_monitor_destroy(sock, &monitor);
        zsock_destroy(&sock);
        return -1;
    }
    peer->sock = sock;
    peer->monitor = monitor;
    return 0;
}

/* Replaces peer's socket by a new one (s_peer_t says why). */
static void s_renew(s_peer_t *peer, int timeout_ms)
{
    zsock_t *sock = peer->sock, *monitor = peer->monitor;
    kf_error_t err = {0};
    if (s_dial(peer, &err) != 0) { /* the same settings worked at the start */
        kf_warn("gateway.redial_failed", "service=%s error=\"%s\"", peer->name, err.message);
        peer->renew_at = zclock_mono() + peer->backoff_ms;
        return;
    }
    kf_monitor_destroy(sock, &monitor);
    zsock_destroy(&peer->old); /* its requests, if any, end at their deadline */
    peer->old = sock;
    peer->old_until = zclock_mono() + timeout_ms;
    peer->renew_at = 0;
    kf_debug("gateway.redial", "service=%s endpoints=%s", peer->name, peer->endpoints);
}

/* Takes one event of peer's handshakes. */
static void s_on_handshake(s_peer_t *peer)
{
    uint32_t value = 0;
    char *endpoint = NULL;
    int id = kf_monitor_event(peer->monitor, &value, &endpoint);
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        if (zhashx_lookup(peer->failing, endpoint)) {
            kf_info("gateway.reconnected", "service=%s endpoint=%s", peer->name, endpoint);
            zhashx_delete(peer->failing, endpoint);
        }
        if (zhashx_size(peer->failing) == 0)
            peer->backoff_ms = S_BACKOFF_MIN_MS;
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        const char *why = id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                              ? "the endpoint does not answer as a kefu daemon (a wrong port?)"
                          : value == 400 ? "the daemon does not accept the gateway's certificate "
                                           "(kefu-admin cert --gateway NAME)"
                                         : "the daemon cannot check certificates now (its store "
                                           "is unreachable)";
        /* Once per outage as a warning, then quietly until it is over. */
        bool known = zhashx_lookup(peer->failing, endpoint) != NULL;
        kf_log(known ? KF_LOG_DEBUG : KF_LOG_WARN, "gateway.refused",
               "service=%s endpoint=%s status=%u again_in_ms=%d reason=\"%s\"", peer->name,
               endpoint, id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? value : 0, peer->backoff_ms, why);
        zhashx_update(peer->failing, endpoint, peer);
        if (!peer->renew_at)
            peer->renew_at = zclock_mono() + peer->backoff_ms;
        int cap = id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 400 ? S_BACKOFF_REFUSED_MS
                                                                        : S_BACKOFF_MAX_MS;
        peer->backoff_ms = peer->backoff_ms * 2 > cap ? cap : peer->backoff_ms * 2;
    }
    free(endpoint);
}

gw_wire_t *gw_wire_new(const kf_setting_t *settings, int timeout_ms, kf_error_t *err)
{
    const char *cert = kf_config_str(settings, "KEFU_GATEWAY_CERT");
    if (!cert || !*cert) {
        kf_error_set(err, KF_E_BAD_VALUE, "KEFU_GATEWAY_CERT",
                     "KEFU_GATEWAY_CERT names no certificate (kefu-admin cert --gateway NAME)");
        return NULL;
    }
    gw_wire_t *self = (gw_wire_t *)zmalloc(sizeof(gw_wire_t));
    self->timeout_ms = timeout_ms;
    self->flights = zhashx_new();
    self->order = zlistx_new();
    zlistx_set_destructor(self->order, s_flight_free);
    const char *names[S_PEERS] = {"intake", "approval", "survey"};
    const char *keys[S_PEERS] = {"KEFU_INTAKE", "KEFU_APPROVAL", "KEFU_SURVEY"};
    for (int i = 0; i < S_PEERS; i++) {
        s_peer_t *peer = &self->peers[i];
        *peer = (s_peer_t){.name = names[i],
                           .endpoints = kf_config_str(settings, keys[i]),
                           .cert = cert,
                           .backoff_ms = S_BACKOFF_MIN_MS,
                           .failing = zhashx_new()};
        if (s_dial(peer, err) != 0) {
            gw_wire_destroy(&self);
            break;
        }
    }
    return self;
}

void gw_wire_destroy(gw_wire_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_wire_t *self = *self_p;
    for (int i = 0; i < S_PEERS; i++) {
        s_peer_t *peer = &self->peers[i];
        kf_monitor_destroy(peer->sock, &peer->monitor);
        zsock_destroy(&peer->sock);
        zsock_destroy(&peer->old);
        zhashx_destroy(&peer->failing);
    }
    zhashx_destroy(&self->flights);
    zlistx_destroy(&self->order);
    free(self);
    *self_p = NULL;
}

void gw_wire_attach(gw_wire_t *self, kf_pollset_t *set)
{
    for (int i = 0; i < S_PEERS; i++) {
        s_peer_t *peer = &self->peers[i];
        peer->polled[0] = kf_pollset_sock(set, peer->sock);
        peer->polled[1] = kf_pollset_sock(set, peer->monitor);
        peer->polled[2] = peer->old ? kf_pollset_sock(set, peer->old) : -1;
    }
}

void gw_wire_tick(gw_wire_t *self, const kf_pollset_t *set)
{
    int64_t now = zclock_mono();
    for (int i = 0; i < S_PEERS; i++) {
        s_peer_t *peer = &self->peers[i];
        if (kf_pollset_ready(set, peer->polled[1]))
            while (zsock_events(peer->monitor) & ZMQ_POLLIN)
                s_on_handshake(peer);
        if (peer->renew_at && peer->renew_at <= now)
            s_renew(peer, self->timeout_ms);
        if (peer->old && peer->old_until <= now)
            zsock_destroy(&peer->old);
    }
}

int gw_wire_send(gw_wire_t *self, const char *message, const char *session, kf_body_t **body_p,
                 void *arg)
{
    const char *service = gw_service_of(message);
    zsock_t *sock = strcmp(service, "approval") == 0 ? self->peers[S_APPROVAL].sock
                    : strcmp(service, "survey") == 0 ? self->peers[S_SURVEY].sock
                                                     : self->peers[S_INTAKE].sock;
    s_flight_t *flight = (s_flight_t *)zmalloc(sizeof(s_flight_t));
    zuuid_t *uuid = zuuid_new();
    snprintf(flight->id, sizeof flight->id, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    zmsg_t *msg = kf_env_encode_as(message, flight->id, 0, 0, S_SRC, "", session, body_p);
    if (!msg || zmsg_send(&msg, sock) != 0) {
        zmsg_destroy(&msg);
        free(flight);
        return -1;
    }
    flight->deadline = zclock_mono() + self->timeout_ms;
    flight->arg = arg;
    flight->handle = zlistx_add_end(self->order, flight);
    zhashx_insert(self->flights, flight->id, flight);
    return 0;
}

/* Forgets flight, returning its arg. */
static void *s_forget(gw_wire_t *self, s_flight_t *flight)
{
    void *arg = flight->arg;
    zhashx_delete(self->flights, flight->id);
    zlistx_delete(self->order, flight->handle); /* frees flight */
    return arg;
}

bool gw_wire_recv(gw_wire_t *self, const kf_pollset_t *set, void **arg_p, kf_env_t **reply_p)
{
    zsock_t *which = NULL;
    for (int i = 0; i < S_PEERS && !which; i++) {
        s_peer_t *peer = &self->peers[i];
        which = kf_pollset_ready(set, peer->polled[0])   ? peer->sock
                : kf_pollset_ready(set, peer->polled[2]) ? peer->old
                                                         : NULL;
    }
    if (!which)
        return false;
    *arg_p = NULL;
    *reply_p = NULL;
    zmsg_t *msg = zmsg_recv(which);
    kf_error_t err = {0};
    kf_env_t *env = msg ? kf_env_decode_msg(msg, &err) : NULL;
    zmsg_destroy(&msg);
    if (!env) {
        kf_warn("gateway.bad_reply", "code=%s", kf_err_name(err.code));
        return true;
    }
    s_flight_t *flight = (s_flight_t *)zhashx_lookup(self->flights, kf_env_corr(env));
    if (!flight) { /* answered after its deadline */
        kf_env_destroy(&env);
        return true;
    }
    *arg_p = s_forget(self, flight);
    *reply_p = env;
    return true;
}

void *gw_wire_expired(gw_wire_t *self, int64_t now)
{
    s_flight_t *first = (s_flight_t *)zlistx_first(self->order);
    if (!first || first->deadline > now)
        return NULL;
    return s_forget(self, first);
}

int gw_wire_wait_ms(gw_wire_t *self, int max_ms)
{
    int64_t next = INT64_MAX; /* the nearest deadline, replacement or end of an old socket */
    s_flight_t *first = (s_flight_t *)zlistx_first(self->order);
    if (first)
        next = first->deadline;
    for (int i = 0; i < S_PEERS; i++) {
        const s_peer_t *peer = &self->peers[i];
        if (peer->renew_at && peer->renew_at < next)
            next = peer->renew_at;
        if (peer->old && peer->old_until < next)
            next = peer->old_until;
    }
    if (next == INT64_MAX)
        return max_ms;
    int64_t left = next - zclock_mono();
    return left <= 0 ? 0 : left < max_ms ? (int)left : max_ms;
}
