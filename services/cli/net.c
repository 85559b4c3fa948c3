/* kefu client — the request/reply exchange with intake. */
#include "net.h"

#include <string.h>

#include "auth_client.h"

#define NET_SRC "kefu-cli"
#define NET_MAX_SENT 8 /* request ids remembered per connection */

struct net {
    zsock_t *sock;
    zsock_t *monitor; /* PAIR: the socket's handshakes and disconnections */
    zhash_t *up;      /* endpoints whose connection completed its handshake and is open */
    zpoller_t *poller;
    char sent[NET_MAX_SENT][KF_MAX_ID + 1]; /* ids of requests sent, oldest first */
    size_t nsent;
    bool plain_peer; /* a peer answered without CURVE (mechanism mismatch) */
};

/* What one monitor event means for a request in flight. */
typedef enum {
    S_EV_OTHER,  /* nothing to act on */
    S_EV_UP,     /* a handshake succeeded: requests flow on that connection */
    S_EV_LOST,   /* an open connection closed: a request it carried may be lost */
    S_EV_CUT,    /* a connection closed before its handshake completed */
    S_EV_REFUSED /* the daemon answered the handshake with a ZAP error; err says it */
} s_event_t;

/* Reads one monitor event and says what it means. Only a ZAP status 400 is
   a refusal (unknown_actor, final); any other ZAP status is the daemon
   being unable to check the certificate now (unavailable, temporary). A
   connection that closes before its handshake succeeded is no refusal: a
   daemon that dies or restarts mid-handshake, and one that cannot read the
   client's hello (a certificate naming another server-key), look alike
   from here, and ZeroMQ reconnects by itself. */
static s_event_t s_event(net_t *self, kf_error_t *err)
{
    uint32_t value = 0;
    char *endpoint = NULL;
    int id = kf_monitor_event(self->monitor, &value, &endpoint);
    s_event_t what = S_EV_OTHER;
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        zhash_insert(self->up, endpoint, self);
        what = S_EV_UP;
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
        what = zhash_lookup(self->up, endpoint) ? S_EV_LOST : S_EV_CUT;
        zhash_delete(self->up, endpoint);
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        /* A DISCONNECTED follows; remember why for the message. */
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            self->plain_peer = true;
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 400) {
        kf_error_set(err, KF_E_UNKNOWN_ACTOR, "cert",
                     "the daemon refused your certificate: it is not registered, has been "
                     "revoked, or its holder is not active staff (ask an operator: kefu-admin "
                     "cert)");
        what = S_EV_REFUSED;
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        kf_error_set(err, KF_E_UNAVAILABLE, "cert",
                     "the daemon could not check your certificate (its store is unreachable)");
        what = S_EV_REFUSED;
    }
    free(endpoint);
    return what;
}

net_t *net_new(const char *endpoint, const char *cert, kf_error_t *err)
{
    net_t *self = (net_t *)zmalloc(sizeof(net_t));
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock) {
        kf_error_set(err, KF_E_INTERNAL, "", "cannot create a socket: %s", zmq_strerror(errno));
        net_destroy(&self);
        return NULL;
    }
    /* A dead daemon must never hold up the exit with unsent requests. */
    zsock_set_linger(self->sock, 0);
    if (kf_auth_client(self->sock, cert, NULL, err) != 0) {
        net_destroy(&self);
        return NULL;
    }
    /* A refused certificate must end the wait at once, a handshake cut
       short must not, and a request on a connection that went down must be
       sent again when a new one is up. */
    self->monitor = kf_monitor_new(
        self->sock, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    self->up = zhash_new();
    if (kf_connect_list(self->sock, endpoint, err) != 0) {
        net_destroy(&self);
        return NULL;
    }
    self->poller = zpoller_new(self->sock, self->monitor, NULL);
    return self;
}

void net_destroy(net_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    net_t *self = *self_p;
    zpoller_destroy(&self->poller);
    kf_monitor_destroy(self->sock, &self->monitor);
    zsock_destroy(&self->sock);
    zhash_destroy(&self->up);
    free(self);
    *self_p = NULL;
}

/* Remembers id so that a late reply to it is still accepted. */
static void s_remember(net_t *self, const char *id)
{
    if (self->nsent == NET_MAX_SENT) {
        memmove(self->sent[0], self->sent[1], (NET_MAX_SENT - 1) * sizeof self->sent[0]);
        self->nsent--;
    }
    snprintf(self->sent[self->nsent++], sizeof self->sent[0], "%s", id);
}

/* True when corr names a request sent on this connection. */
static bool s_ours(const net_t *self, const char *corr)
{
    for (size_t i = 0; corr && i < self->nsent; i++)
        if (strcmp(self->sent[i], corr) == 0)
            return true;
    return false;
}

/* Encodes and sends one request; its new id is remembered. Returns a copy
   of what was sent, for sending it again unchanged, or NULL with err. */
static zmsg_t *s_send(net_t *self, const char *type, const char *corr, kf_body_t **body_p,
                      int timeout_ms, kf_error_t *err)
{
    zuuid_t *uuid = zuuid_new();
    char id[KF_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    zmsg_t *msg = kf_env_encode(type, id, 0, 0, NET_SRC, corr ? corr : "", body_p);
    if (!msg) {
        kf_error_set(err, KF_E_INTERNAL, "", "cannot encode the %s request", type);
        return NULL;
    }
    zmsg_t *copy = zmsg_dup(msg);
    /* A connected DEALER queues rather than blocks, but never wait longer
       than the caller allows. */
    zsock_set_sndtimeo(self->sock, timeout_ms);
    if (zmsg_send(&msg, self->sock) != 0) {
        zmsg_destroy(&msg);
        zmsg_destroy(&copy);
        kf_error_set(err, KF_E_UNAVAILABLE, "", "cannot send the request: %s", zmq_strerror(errno));
        return NULL;
    }
    s_remember(self, id);
    return copy;
}

/* Sends the request in copy again, unchanged (same id, same body): true
   when it was queued. The connection that just completed its handshake
   takes it at once, so this never waits. */
static bool s_resend(net_t *self, const zmsg_t *copy)
{
    zmsg_t *again = zmsg_dup((zmsg_t *)copy);
    zsock_set_sndtimeo(self->sock, 0);
    if (zmsg_send(&again, self->sock) == 0)
        return true;
    zmsg_destroy(&again);
    return false;
}

/* Receives one message and decodes it; stale replies yield NULL with
   err->code KF_OK. */
static kf_env_t *s_receive(net_t *self, kf_error_t *err)
{
    zmsg_t *msg = zmsg_recv(self->sock);
    if (!msg) {
        kf_error_set(err, KF_E_BAD_FRAME, "", "receiving the reply failed");
        return NULL;
    }
    kf_env_t *env = kf_env_decode_msg(msg, err);
    zmsg_destroy(&msg);
    if (env && !s_ours(self, kf_env_corr(env))) {
        kf_env_destroy(&env); /* an answer to a request of a former run */
        err->code = KF_OK;
    }
    return env;
}

/* Takes the monitor events that are already waiting, before a request is
   sent: they tell which connections are up, not what became of it.
   Returns true with err when one was a refusal. */
static bool s_drain(net_t *self, kf_error_t *err)
{
    while (self->monitor && (zsock_events(self->monitor) & ZMQ_POLLIN))
        if (s_event(self, err) == S_EV_REFUSED)
            return true;
    return false;
}

/* Fills err for a deadline that passed while connections only closed
   during the handshake: nothing was refused, so it is temporary. */
static void s_dropped(const net_t *self, int cuts, kf_error_t *err)
{
    kf_error_set(err, KF_E_UNAVAILABLE, "",
                 "the connection was closed during the secure handshake %d time%s%s", cuts,
                 cuts == 1 ? "" : "s",
                 self->plain_peer ? " (the peer does not use CURVE security)" : "");
}

net_status_t net_call(net_t *self, const char *type, const char *corr, kf_body_t **body_p,
                      bool resend, int timeout_ms, kf_env_t **reply_p, kf_error_t *err)
{
    *reply_p = NULL;
    if (s_drain(self, err)) {
        kf_body_destroy(body_p);
        return NET_REFUSED;
    }
    zmsg_t *copy = s_send(self, type, corr, body_p, timeout_ms, err);
    if (!copy)
        return NET_FAILED;
    int cuts = 0;      /* connections closed before their handshake completed */
    bool lost = false; /* an open connection closed since the request was sent */
    net_status_t status = NET_TIMEOUT;
    int64_t deadline = zclock_mono() + timeout_ms;
    for (int64_t left = timeout_ms; left > 0; left = deadline - zclock_mono()) {
        void *which = zpoller_wait(self->poller, (int)left);
        if (!which) {
            if (zpoller_terminated(self->poller) && !zpoller_expired(self->poller))
                break;
            continue;
        }
        if (which == self->monitor) {
            s_event_t what = s_event(self, err);
            if (what == S_EV_REFUSED) {
                status = NET_REFUSED;
                break;
            }
            if (what == S_EV_CUT)
                cuts++;
            /* A connection cut during its handshake never took the request
               off the socket's queue; one that was open may have, and gone
               down with it unanswered. */
            else if (what == S_EV_LOST)
                lost = true;
            else if (what == S_EV_UP && lost && resend && s_resend(self, copy))
                lost = false;
            continue;
        }
        kf_error_t got = {.code = KF_OK};
        kf_env_t *env = s_receive(self, &got);
        if (env) {
            *reply_p = env;
            status = NET_REPLY;
            break;
        }
        if (got.code != KF_OK) {
            *err = got;
            status = NET_BAD_REPLY;
            break;
        }
    }
    zmsg_destroy(&copy);
    if (status == NET_TIMEOUT && cuts > 0 && zhash_size(self->up) == 0) {
        s_dropped(self, cuts, err);
        status = NET_DROPPED;
    }
    return status;
}
