/* kefu-survey — the `watchlist` request: what a manager must act on now
   (proto/catalog.md, section "watchlist"). Three bounded lists, each read
   in one set-based statement at one instant:
   - approvals_at_risk: pending approval requests the approval daemon
     marked at risk, or whose promised date ends within 48 h, the nearest
     promised first, with the earliest-due pending step's assignee;
   - owners_at_risk: owners with two or more complaints in 90 days, an
     answer scoring 1 or 2 in 180 days, or a ticket reopened in 180 days,
     the most reasons first, then the latest;
   - promoters: answers with nps 9 or 10 in 90 days, the latest first.
   Only managers, heads, general managers, vice presidents and
   administrators may ask (plan_may_watch). */
#ifndef SURVEY_WATCHLIST_H
#define SURVEY_WATCHLIST_H

#include <msgpack.h>

#include "envelope.h"
#include "kf_error.h"
#include "store.h"

#define WATCHLIST_LIMIT_DEFAULT 20 /* entries in each list when the request names none */

/* Decodes a watchlist request's limit (1..KF_LIM_LIST, default 20) into
   limit (pure). Returns 0, or -1 with err (field limit). */
int watchlist_parse(const msgpack_object *body, int64_t *limit, kf_error_t *err);

/* Registers the watchlist's named statements on store (call once). */
void watchlist_prepare(kf_store_t *store);

/* Serves one `watchlist` request for actor of role (authenticated by the
   caller): refuses a role that may not read it (forbidden), decodes body
   and fills reply. Returns 0, or -1 with err: forbidden, bad_value or
   wrong_type for limit, unavailable or internal from the store. */
int watchlist_serve(kf_store_t *store, const char *actor, const char *role,
                    const msgpack_object *body, kf_body_t *reply, kf_error_t *err);

#endif
