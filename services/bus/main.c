/* kefu-bus — the doorbell: forwards events from publishers to subscribers
   (XSUB -> XPUB, with subscriptions flowing back) and work from producers
   to workers (PULL -> PUSH), so any number of daemon instances find each
   other through four fixed endpoints. It keeps nothing and never blocks:
   a message that cannot be passed on at once is dropped and counted, and
   consumers rebuild whatever they missed from the store. */
#include <czmq.h>
#include <signal.h>
#include <string.h>

#include "config.h"
#include "log.h"

static const kf_setting_t s_settings[] = {KF_SETTINGS_BUS, KF_SETTINGS_END};

typedef struct {
    zsock_t *xsub; /* publishers connect here */
    zsock_t *xpub; /* subscribers connect here */
    zsock_t *pull; /* work producers connect here */
    zsock_t *push; /* workers connect here */
    uint64_t forwarded;
    uint64_t dropped;
} s_bus_t;

/* Binds a socket of type to the endpoint named by setting. */
static zsock_t *s_bind(int type, const char *setting)
{
    const char *endpoint = kf_config_str(s_settings, setting);
    zsock_t *sock = zsock_new(type);
    zsock_set_linger(sock, 0);
    zsock_set_sndtimeo(sock, 0);
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        kf_error("bus.bind_failed", "setting=%s endpoint=%s error=\"%s\"", setting, endpoint,
                 zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

/* Passes one message from one socket to another, dropping it when the
   other side cannot take it now. */
static void s_forward(s_bus_t *bus, zsock_t *from, zsock_t *to)
{
    zmsg_t *msg = zmsg_recv(from);
    if (!msg)
        return;
    if (zmsg_send(&msg, to) == 0)
        bus->forwarded++;
    else {
        zmsg_destroy(&msg);
        if (bus->dropped++ % 10000 == 0)
            kf_warn("bus.dropped", "dropped=%" PRIu64 " reason=\"no peer ready\"", bus->dropped);
    }
}

static void s_run(s_bus_t *bus)
{
    zpoller_t *poller = zpoller_new(bus->xsub, bus->xpub, bus->pull, NULL);
    while (!zsys_interrupted) {
        zsock_t *which = (zsock_t *)zpoller_wait(poller, 1000);
        if (which == bus->xsub)
            s_forward(bus, bus->xsub, bus->xpub);
        else if (which == bus->xpub) /* a subscription, on its way to publishers */
            s_forward(bus, bus->xpub, bus->xsub);
        else if (which == bus->pull)
            s_forward(bus, bus->pull, bus->push);
    }
    zpoller_destroy(&poller);
}

int main(int argc, char **argv)
{
    int rc = kf_config_start(argc, argv, "kefu-bus", "bus",
                             "Forwards kefu's events (publishers to subscribers) and work "
                             "(producers to workers).\nIt binds KEFU_BUS_PUB, KEFU_BUS_SUB, "
                             "KEFU_BUS_PUSH and KEFU_BUS_PULL; the daemons connect to them.",
                             s_settings);
    if (rc >= 0)
        return rc;
    signal(SIGHUP, SIG_IGN); /* nothing to reload; never die of it */
    zsys_init();
    s_bus_t bus = {.xsub = s_bind(ZMQ_XSUB, "KEFU_BUS_PUB"),
                   .xpub = s_bind(ZMQ_XPUB, "KEFU_BUS_SUB"),
                   .pull = s_bind(ZMQ_PULL, "KEFU_BUS_PUSH"),
                   .push = s_bind(ZMQ_PUSH, "KEFU_BUS_PULL")};
    rc = 1;
    if (bus.xsub && bus.xpub && bus.pull && bus.push) {
        kf_info(
            "bus.started", "version=%s pub=%s sub=%s push=%s pull=%s", KEFU_VERSION,
            kf_config_str(s_settings, "KEFU_BUS_PUB"), kf_config_str(s_settings, "KEFU_BUS_SUB"),
            kf_config_str(s_settings, "KEFU_BUS_PUSH"), kf_config_str(s_settings, "KEFU_BUS_PULL"));
        s_run(&bus);
        kf_info("bus.stopped", "forwarded=%" PRIu64 " dropped=%" PRIu64, bus.forwarded,
                bus.dropped);
        rc = 0;
    }
    zsock_destroy(&bus.xsub);
    zsock_destroy(&bus.xpub);
    zsock_destroy(&bus.pull);
    zsock_destroy(&bus.push);
    return rc;
}
