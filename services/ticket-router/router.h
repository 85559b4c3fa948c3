/* ticket-router — gives each submitted ticket exactly one owner by the
   routing rules, sets its deadlines from the SLA policies, and escalates
   overdue tickets a level at a time. Work arrives over PULL (the doorbell)
   and is rebuilt from the outbox (kf_feed) on start and periodically; the
   deadline scan uses FOR UPDATE SKIP LOCKED so instances share it. */
#ifndef ROUTER_H
#define ROUTER_H

#include "config.h"

typedef struct router router_t;

extern const kf_setting_t router_settings[];

/* Connects the router's sockets; NULL (logged) on a bad setting. */
router_t *router_new(void);
void router_destroy(router_t **self_p);

/* Routes and scans until interrupted. Returns 0. */
int router_run(router_t *self);

#endif
