/* kefu-gateway — DEALERs and requests in flight (wire.h). */
#include "wire.h"

#include <string.h>

#include "auth_client.h"
#include "log.h"
#include "request.h"

#define S_SRC "gateway"

/* A request in flight. */
typedef struct {
    char id[KF_MAX_ID + 1];
    int64_t deadline; /* zclock_mono */
    void *arg;
    void *handle; /* in self->order */
} s_flight_t;

struct gw_wire {
    zsock_t *intake, *approval, *survey;
    int polled[3];     /* their indexes in the loop's pollset (gw_wire_attach) */
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

/* A DEALER to the comma-separated endpoints, CURVE client with cert. */
static zsock_t *s_dealer(const char *endpoints, const char *cert, kf_error_t *err)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock) {
        kf_error_set(err, KF_E_INTERNAL, "", "cannot create a socket");
        return NULL;
    }
    zsock_set_linger(sock, 0);
    zsock_set_sndhwm(sock, 100000);
    zsock_set_sndtimeo(sock, 0); /* a DEALER with no peer would block: never wait */
    if (kf_auth_client(sock, cert, NULL, err) != 0) {
        zsock_destroy(&sock);
        return NULL;
    }
    if (kf_connect_list(sock, endpoints, err) != 0)
        zsock_destroy(&sock);
    return sock;
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
    self->intake = s_dealer(kf_config_str(settings, "KEFU_INTAKE"), cert, err);
    if (self->intake)
        self->approval = s_dealer(kf_config_str(settings, "KEFU_APPROVAL"), cert, err);
    if (self->approval)
        self->survey = s_dealer(kf_config_str(settings, "KEFU_SURVEY"), cert, err);
    if (!self->survey)
        gw_wire_destroy(&self);
    return self;
}

void gw_wire_destroy(gw_wire_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_wire_t *self = *self_p;
    zsock_destroy(&self->intake);
    zsock_destroy(&self->approval);
    zsock_destroy(&self->survey);
    zhashx_destroy(&self->flights);
    zlistx_destroy(&self->order);
    free(self);
    *self_p = NULL;
}

void gw_wire_attach(gw_wire_t *self, kf_pollset_t *set)
{
    self->polled[0] = kf_pollset_sock(set, self->intake);
    self->polled[1] = kf_pollset_sock(set, self->approval);
    self->polled[2] = kf_pollset_sock(set, self->survey);
}

int gw_wire_send(gw_wire_t *self, const char *message, const char *session, kf_body_t **body_p,
                 void *arg)
{
    const char *service = gw_service_of(message);
    zsock_t *sock = strcmp(service, "approval") == 0 ? self->approval
                    : strcmp(service, "survey") == 0 ? self->survey
                                                     : self->intake;
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
    zsock_t *socks[] = {self->intake, self->approval, self->survey}, *which = NULL;
    for (int i = 0; i < 3 && !which; i++)
        if (kf_pollset_ready(set, self->polled[i]))
            which = socks[i];
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
    s_flight_t *first = (s_flight_t *)zlistx_first(self->order);
    if (!first)
        return max_ms;
    int64_t left = first->deadline - zclock_mono();
    return left <= 0 ? 0 : left < max_ms ? (int)left : max_ms;
}
