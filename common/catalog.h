/* kefu — the message types of the catalog (proto/catalog.md). */
#ifndef KF_CATALOG_H
#define KF_CATALOG_H

#include <stdbool.h>

/* The enumerations (kf_kinds, kf_categories, kf_channels, kf_priorities,
   kf_statuses, ... each a NULL-terminated list), the limits (KF_LIM_*) and
   the request and event lists, generated from proto/model.json. */
#include "kf_model.h"

/* True when type is a request, reply or event type of envelope version 1.
   The reserved names of the catalog (ticket.closed) are not known. */
bool kf_catalog_known(const char *type);

/* True when type is an event type (published, stored in the outbox). */
bool kf_catalog_is_event(const char *type);

#endif
