/* kefu — the message types of the catalog (proto/catalog.md). */
#ifndef KF_CATALOG_H
#define KF_CATALOG_H

#include <stdbool.h>

/* True when type is a request, reply or event type of envelope version 1. */
bool kf_catalog_known(const char *type);

/* True when type is an event type (published, stored in the outbox). */
bool kf_catalog_is_event(const char *type);

/* The enumerations of the catalog, each a NULL-terminated list. The index
   of a name is stable only within one build: store names, not indexes. */
extern const char *const kf_kinds[];      /* complaint, repair, inquiry, ... */
extern const char *const kf_categories[]; /* leak, crack, heating, ... */
extern const char *const kf_channels[];   /* phone, forum, wechat, ... */
extern const char *const kf_priorities[]; /* normal, high, urgent */
extern const char *const kf_statuses[];   /* submitted, routed, ... */

#endif
