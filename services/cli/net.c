/* kefu client — the request/reply exchange with intake. */
#include "net.h"

#include <string.h>

#include "auth.h"

#define NET_SRC "kefu-cli"
#define NET_MAX_SENT 8 /* request ids remembered per connection */

struct net {
    zsock_t *sock;
    zsock_t *monitor; /* PAIR: the socket's handshakes */
    bool handshaken;  /* a handshake succeeded on this connection */
    zpoller_t *poller;
    char sent[NET_MAX_SENT][KF_MAX_ID + 1]; /* ids of requests sent, oldest first */
    size_t nsent;
};

/* Watches sock's handshakes: a daemon that refuses the certificate only
   closes the connection, which would otherwise look like a dead daemon. */
static zsock_t *s_monitor(zsock_t *sock)
{
    char endpoint[80];
    snprintf(endpoint, sizeof endpoint, "inproc://kefu-cli-monitor-%p", (void *)sock);
    if (zmq_socket_monitor(zsock_resolve(sock), endpoint,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) != 0)
        return NULL;
    char connect[84];
    snprintf(connect, sizeof connect, ">%s", endpoint);
    return zsock_new_pair(connect);
}

/* Reads one monitor event. Returns true with err filled when the daemon
   refused the connection: a refused certificate (ZAP status 400), a daemon
   that could not check it (500), or a failed handshake, which a daemon
   that cannot read the client's hello (a certificate naming another
   server-key) shows only by disconnecting before any handshake succeeded. */
static bool s_refused(net_t *self, kf_error_t *err)
{
    zmsg_t *event = zmsg_recv(self->monitor);
    zframe_t *head = event ? zmsg_first(event) : NULL;
    uint16_t id = 0;
    uint32_t value = 0;
    if (head && zframe_size(head) == 6) {
        memcpy(&id, zframe_data(head), 2);
        memcpy(&value, zframe_data(head) + 2, 4);
    }
    zmsg_destroy(&event);
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        self->handshaken = true;
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED || (id == ZMQ_EVENT_DISCONNECTED && self->handshaken))
        return false;
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 500)
        kf_error_set(err, KF_E_UNAVAILABLE, "cert",
                     "the daemon could not check your certificate (its store is unreachable)");
    else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        kf_error_set(err, KF_E_UNKNOWN_ACTOR, "cert",
                     "the daemon refused your certificate: it is not registered, has been "
                     "revoked, or its holder is not active staff (ask an operator: kefu admin "
                     "cert)");
    else
        kf_error_set(err, KF_E_UNKNOWN_ACTOR, "cert",
                     "the secure handshake failed: the certificate's server-key is not this "
                     "daemon's, or the daemon does not speak CURVE");
    return true;
}

/* Connects sock to each endpoint of a comma-separated list: several
   instances of one daemon (kefu-approval scaled out), of which any answers.
   With more than one, requests go only to instances connected now, so a
   dead one is passed over rather than queued for. */
static int s_connect(zsock_t *sock, const char *endpoints, kf_error_t *err)
{
    if (strchr(endpoints, ','))
        zsock_set_immediate(sock, 1);
    char list[1024];
    snprintf(list, sizeof list, "%s", endpoints);
    char *save = NULL;
    for (char *one = strtok_r(list, ",", &save); one; one = strtok_r(NULL, ",", &save))
        if (zsock_connect(sock, "%s", one) != 0)
            return kf_error_set(err, KF_E_BAD_VALUE, "endpoint", "cannot use endpoint '%s': %s",
                                one, zmq_strerror(errno));
    return 0;
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
    self->monitor = s_monitor(self->sock);
    if (s_connect(self->sock, endpoint, err) != 0) {
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
    if (self->sock)
        zmq_socket_monitor(zsock_resolve(self->sock), NULL, 0);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->sock);
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

/* Encodes and sends one request; its new id is remembered. */
static int s_send(net_t *self, const char *type, const char *corr, kf_body_t **body_p,
                  int timeout_ms, kf_error_t *err)
{
    zuuid_t *uuid = zuuid_new();
    char id[KF_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    zmsg_t *msg = kf_env_encode(type, id, 0, 0, NET_SRC, corr ? corr : "", body_p);
    if (!msg)
        return kf_error_set(err, KF_E_INTERNAL, "", "cannot encode the %s request", type);
    /* A connected DEALER queues rather than blocks, but never wait longer
       than the caller allows. */
    zsock_set_sndtimeo(self->sock, timeout_ms);
    if (zmsg_send(&msg, self->sock) != 0) {
        zmsg_destroy(&msg);
        return kf_error_set(err, KF_E_UNAVAILABLE, "", "cannot send the request: %s",
                            zmq_strerror(errno));
    }
    s_remember(self, id);
    return 0;
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

net_status_t net_call(net_t *self, const char *type, const char *corr, kf_body_t **body_p,
                      int timeout_ms, kf_env_t **reply_p, kf_error_t *err)
{
    *reply_p = NULL;
    if (s_send(self, type, corr, body_p, timeout_ms, err) != 0)
        return NET_FAILED;
    int64_t deadline = zclock_mono() + timeout_ms;
    for (int64_t left = timeout_ms; left > 0; left = deadline - zclock_mono()) {
        void *which = zpoller_wait(self->poller, (int)left);
        if (!which) {
            if (zpoller_terminated(self->poller) && !zpoller_expired(self->poller))
                break;
            continue;
        }
        if (which == self->monitor) {
            if (s_refused(self, err))
                return NET_REFUSED;
            continue;
        }
        kf_error_t got = {.code = KF_OK};
        kf_env_t *env = s_receive(self, &got);
        if (env) {
            *reply_p = env;
            return NET_REPLY;
        }
        if (got.code != KF_OK) {
            *err = got;
            return NET_BAD_REPLY;
        }
    }
    return NET_TIMEOUT;
}
