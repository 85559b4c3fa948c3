/* kefu — a daemon's side of the bus (see bus.h). */
#include "bus.h"

#include "log.h"

/* A socket of type connected to the endpoint setting names; never lingers
   at close (the store is the record). */
static zsock_t *s_connect(int type, const kf_setting_t *table, const char *setting)
{
    zsock_t *sock = zsock_new(type);
    zsock_set_linger(sock, 0);
    zsock_connect(sock, "%s", kf_config_str(table, setting));
    return sock;
}

zsock_t *kf_bus_publisher(const kf_setting_t *table)
{
    return s_connect(ZMQ_PUB, table, KF_BUS_PUB);
}

zsock_t *kf_bus_subscriber(const kf_setting_t *table, const char *const *topics)
{
    zsock_t *sock = zsock_new(ZMQ_SUB);
    zsock_set_linger(sock, 0);
    for (; topics && *topics; topics++)
        zsock_set_subscribe(sock, *topics);
    zsock_connect(sock, "%s", kf_config_str(table, KF_BUS_SUB));
    return sock;
}

zsock_t *kf_bus_producer(const kf_setting_t *table)
{
    return s_connect(ZMQ_PUSH, table, KF_BUS_PUSH);
}

zsock_t *kf_bus_worker(const kf_setting_t *table)
{
    return s_connect(ZMQ_PULL, table, KF_BUS_PULL);
}

zmsg_t *kf_event_msg(const kf_event_t *ev, const char *src)
{
    kf_body_t *body = kf_body_new();
    kf_error_t err = {0};
    if (ev->body_json && kf_body_from_json(body, ev->body_json, &err) != 0) {
        kf_error("event.bad_body", "event_id=%s type=%s error=\"%s\"", ev->id, ev->type,
                 err.message);
        kf_body_destroy(&body);
        return NULL;
    }
    return kf_env_encode(ev->type, ev->id, ev->seq, ev->at, src, ev->corr, &body);
}

int kf_bus_send(zsock_t *sock, zmsg_t **msg_p)
{
    if (!*msg_p)
        return -1;
    /* Never block a daemon on a slow or absent peer: the store is the record. */
    zsock_set_sndtimeo(sock, 0);
    int rc = zmsg_send(msg_p, sock);
    zmsg_destroy(msg_p);
    return rc;
}

int kf_bus_send_event(zsock_t *sock, const kf_event_t *ev, const char *src)
{
    zmsg_t *msg = kf_event_msg(ev, src);
    return kf_bus_send(sock, &msg);
}
