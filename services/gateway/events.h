/* kefu-gateway — live events: GET /api/v1/events as Server-Sent Events.

   The bus is only the doorbell: a message on it (or a quiet second)
   wakes one reader that reads the outbox (the event table) in the order
   (transaction id, seq), only below pg_snapshot_xmin (every transaction
   below it has finished: feed.h's rule), one bounded page from the lowest
   position among the streams, and fans each event out in memory to the
   streams whose position is below it and whose viewer may see it
   (visible.h). A stream's position is the (xid, seq) of the last event it
   passed, so catch-up after a reconnect (Last-Event-ID: the seq of the
   last event received) and live delivery are the same read: no gap, no
   duplicate. */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <czmq.h>

#include "config.h"
#include "health.h"
#include "store.h"

typedef struct gw_events gw_events_t;

/* The settings of the live events (in gateway_settings). */
#define GW_EVENTS_SETTINGS                                                                         \
    KF_SET_INT("KEFU_SSE_MAX_STREAMS", "2000", 0, 1000000,                                         \
               "event streams (GET /api/v1/events) open at once; one more gets 503"),              \
        KF_SET_INT("KEFU_SSE_HEARTBEAT_S", "20", 1, 25,                                            \
                   "a comment line is sent on an event stream quiet this long (s)"),               \
        KF_SET_INT("KEFU_SSE_RECHECK_S", "30", 1, 30,                                              \
                   "each event stream's session is checked against the store this often (s)")

/* The live events of a gateway: subscribes to the bus per table, reads
   the outbox on store, counts on health. NULL when the settings are bad. */
gw_events_t *gw_events_new(const kf_setting_t *table, kf_store_t *store, kf_health_t *health);
void gw_events_destroy(gw_events_t **self_p);

/* The bus socket, for the poller. */
zsock_t *gw_events_sock(gw_events_t *self);

/* Takes what the bus brought: the reader runs at the next tick. */
void gw_events_on_bus(gw_events_t *self);

/* Reads a page of the outbox when woken or due, sends heartbeats, checks
   the streams' sessions when due. */
void gw_events_tick(gw_events_t *self);

/* How long the loop may wait (at most wait). */
int gw_events_wait_ms(gw_events_t *self, int wait);

/* Ends every stream (the gateway stops). */
void gw_events_close_all(gw_events_t *self);

#endif
