/* kefu-bus — the doorbell: forwards events from publishers to subscribers
   (XSUB -> XPUB, with subscriptions flowing back) and work from producers
   to workers (PULL -> PUSH), so any number of daemon instances find each
   other through four fixed endpoints. It keeps nothing and never blocks:
   a message that cannot be passed on at once is dropped and counted, and
   consumers rebuild whatever they missed from the store. It has no store
   of its own, so it writes no heartbeat row: /health on its metrics port
   (KEFU_METRICS_PORT) is how it is watched, and `kefu-admin status` does not
   list it. */
#include <czmq.h>
#include <string.h>

#include "bus.h"
#include "config.h"
#include "stop.h"
#include "health.h"
#include "log.h"

static const kf_setting_t s_settings[] = {KF_SETTINGS_BUS, KF_SETTINGS_METRICS(KF_METRICS_PORT_BUS),
                                          KF_SETTINGS_END};

/* One direction of traffic and its counters (kept: the hot path does not
   look series up). */
typedef struct {
    kf_series_t *in, *out, *dropped;
} s_flow_t;

typedef struct {
    zsock_t *xsub; /* publishers connect here */
    zsock_t *xpub; /* subscribers connect here */
    zsock_t *pull; /* work producers connect here */
    zsock_t *push; /* workers connect here */
    uint64_t forwarded;
    uint64_t dropped;
    kf_health_t *health;
    s_flow_t events, subscriptions, work;
} s_bus_t;

/* Binds a socket of type to the endpoint named by setting. */
static zsock_t *s_bind(int type, const char *setting)
{
    const char *endpoint = kf_config_str(s_settings, setting);
    zsock_t *sock = zsock_new(type);
    zsock_set_linger(sock, 0);
    zsock_set_sndtimeo(sock, 0);
    sigset_t old; /* a stop arriving now waits for the bind's outcome */
    kf_stop_hold(&old);
    int rc = zsock_bind(sock, "%s", endpoint);
    kf_stop_release(&old);
    if (rc < 0) {
        kf_error("bus.bind_failed", "setting=%s endpoint=%s error=\"%s\"", setting, endpoint,
                 zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

/* Passes one message from one socket to another, dropping it when the
   other side cannot take it now. */
static void s_forward(s_bus_t *bus, zsock_t *from, zsock_t *to, s_flow_t *flow)
{
    zmsg_t *msg = zmsg_recv(from);
    if (!msg)
        return;
    kf_series_add(flow->in, 1);
    if (zmsg_send(&msg, to) == 0) {
        bus->forwarded++;
        kf_series_add(flow->out, 1);
    } else {
        zmsg_destroy(&msg);
        kf_series_add(flow->dropped, 1);
        if (bus->dropped++ % 10000 == 0)
            kf_warn("bus.dropped", "dropped=%" PRIu64 " reason=\"no peer ready\"", bus->dropped);
    }
}

/* Registers the bus's counters and keeps their series. */
static void s_flows(s_bus_t *bus)
{
    if (!bus->health)
        return;
    kf_metrics_t *metrics = kf_health_metrics(bus->health);
    kf_metric_t *messages =
        kf_metrics_counter(metrics, "kefu_bus_messages_total",
                           "messages taken in and passed on, by flow (events, subscriptions, work)",
                           "flow", "direction");
    kf_metric_t *dropped =
        kf_metrics_counter(metrics, "kefu_bus_dropped_total",
                           "messages dropped because no peer could take them now", "flow", NULL);
    struct {
        s_flow_t *flow;
        const char *name;
    } flows[] = {
        {&bus->events, "events"}, {&bus->subscriptions, "subscriptions"}, {&bus->work, "work"}};
    for (size_t i = 0; i < 3; i++) {
        flows[i].flow->in = kf_metric_at(messages, flows[i].name, "in");
        flows[i].flow->out = kf_metric_at(messages, flows[i].name, "out");
        flows[i].flow->dropped = kf_metric_at(dropped, flows[i].name, NULL);
    }
}

static void s_run(s_bus_t *bus)
{
    kf_pollset_t set = {0};
    int xsub = kf_pollset_sock(&set, bus->xsub), xpub = kf_pollset_sock(&set, bus->xpub);
    int pull = kf_pollset_sock(&set, bus->pull),
        http = kf_pollset_fd(&set, kf_health_fd(bus->health));
    while (!kf_stop_requested()) {
        kf_pollset_wait(&set, kf_health_wait_ms(bus->health, 1000));
        if (kf_pollset_ready(&set, xsub))
            s_forward(bus, bus->xsub, bus->xpub, &bus->events);
        if (kf_pollset_ready(&set, xpub)) /* a subscription, on its way to publishers */
            s_forward(bus, bus->xpub, bus->xsub, &bus->subscriptions);
        if (kf_pollset_ready(&set, pull))
            s_forward(bus, bus->pull, bus->push, &bus->work);
        if (kf_pollset_ready(&set, http))
            kf_health_serve_fd(bus->health);
        kf_health_tick(bus->health);
    }
}

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
    int rc = kf_config_start(argc, argv, "kefu-bus", "bus",
                             "Forwards kefu's events (publishers to subscribers) and work "
                             "(producers to workers).\nIt binds KEFU_BUS_PUB, KEFU_BUS_SUB, "
                             "KEFU_BUS_PUSH and KEFU_BUS_PULL; the daemons connect to them.",
                             s_settings);
    if (rc >= 0)
        return rc;
    zsys_init();
    s_bus_t bus = {.xsub = s_bind(ZMQ_XSUB, KF_BUS_PUB),
                   .xpub = s_bind(ZMQ_XPUB, KF_BUS_SUB),
                   .pull = s_bind(ZMQ_PULL, KF_BUS_PUSH),
                   .push = s_bind(ZMQ_PUSH, KF_BUS_PULL)};
    bus.health = kf_health_new("bus", s_settings, NULL);
    s_flows(&bus);
    rc = 1;
    if (bus.xsub && bus.xpub && bus.pull && bus.push && bus.health) {
        kf_info("bus.started", "version=%s pub=%s sub=%s push=%s pull=%s", KEFU_VERSION,
                kf_config_str(s_settings, KF_BUS_PUB), kf_config_str(s_settings, KF_BUS_SUB),
                kf_config_str(s_settings, KF_BUS_PUSH), kf_config_str(s_settings, KF_BUS_PULL));
        s_run(&bus);
        kf_info("bus.stopped", "forwarded=%" PRIu64 " dropped=%" PRIu64, bus.forwarded,
                bus.dropped);
        rc = 0;
    }
    zsock_destroy(&bus.xsub);
    zsock_destroy(&bus.xpub);
    zsock_destroy(&bus.pull);
    zsock_destroy(&bus.push);
    kf_health_destroy(&bus.health);
    return rc;
}
