/* kefu — a daemon's side of the bus: connecting to its endpoints
   (KEFU_BUS_PUB, KEFU_BUS_SUB, KEFU_BUS_PUSH, KEFU_BUS_PULL; the bus
   daemon, services/bus, binds them) and putting events on it.

   The bus is news, the store the record: nothing sent here ever blocks
   the daemon, and a message lost on the way is made good by catch-up
   from the store (feed.h). */
#ifndef KF_BUS_H
#define KF_BUS_H

#include <czmq.h>

#include "config.h"
#include "envelope.h"
#include "feed.h"

/* The settings naming the bus's four endpoints (KF_SETTINGS_BUS): the
   bus daemon binds them, the other daemons connect to them. */
#define KF_BUS_PUB "KEFU_BUS_PUB"   /* publishers -> the bus (its XSUB) */
#define KF_BUS_SUB "KEFU_BUS_SUB"   /* the bus (its XPUB) -> subscribers */
#define KF_BUS_PUSH "KEFU_BUS_PUSH" /* producers of work -> the bus (its PULL) */
#define KF_BUS_PULL "KEFU_BUS_PULL" /* the bus (its PUSH) -> workers */

/* A PUB socket connected to the bus's KEFU_BUS_PUB (events out). */
zsock_t *kf_bus_publisher(const kf_setting_t *table);

/* A SUB socket connected to the bus's KEFU_BUS_SUB, subscribed to each
   of the NULL-terminated topics (event types). */
zsock_t *kf_bus_subscriber(const kf_setting_t *table, const char *const *topics);

/* A PUSH socket connected to the bus's KEFU_BUS_PUSH (work out). */
zsock_t *kf_bus_producer(const kf_setting_t *table);

/* A PULL socket connected to the bus's KEFU_BUS_PULL (work in). */
zsock_t *kf_bus_worker(const kf_setting_t *table);

/* ev (from the store) as an envelope, src as the producing daemon; NULL
   (logged) when its body is not a JSON object the envelope can carry. */
zmsg_t *kf_event_msg(const kf_event_t *ev, const char *src);

/* Sends *msg_p on sock (PUB or PUSH) and destroys it, sent or not. Never
   blocks: a full queue drops the message, which the store makes good.
   Returns 0 or -1. */
int kf_bus_send(zsock_t *sock, zmsg_t **msg_p);

/* kf_event_msg, then kf_bus_send. */
int kf_bus_send_event(zsock_t *sock, const kf_event_t *ev, const char *src);

#endif
