/* kefu — the message types of the catalog (proto/catalog.md). */
#include "catalog.h"

#include <string.h>

const char *const kf_kinds[] = {"complaint", "repair", "inquiry", "suggestion", "praise", NULL};
const char *const kf_categories[] = {"leak",
                                     "crack",
                                     "heating",
                                     "doors-windows",
                                     "electrical",
                                     "plumbing",
                                     "property-service",
                                     "sales-promise",
                                     "design",
                                     "other",
                                     NULL};
const char *const kf_channels[] = {"phone", "forum", "wechat", "email", "walk-in", "app", NULL};
const char *const kf_priorities[] = {"normal", "high", "urgent", NULL};
const char *const kf_statuses[] = {"submitted", "routed", "responded", "resolved", "closed", NULL};

/* Requests a client sends to intake, kefu-survey or kefu-approval, and the two replies. */
static const char *const s_messages[] = {"submit",
                                         "ticket.show",
                                         "ticket.list",
                                         "ticket.respond",
                                         "ticket.transfer",
                                         "ticket.resolve",
                                         "owner.show",
                                         "survey.answer",
                                         "survey.campaign",
                                         "survey.show",
                                         "report",
                                         "approval.request",
                                         "approval.list",
                                         "approval.show",
                                         "approval.decide",
                                         "approval.reassign",
                                         "delegate.set",
                                         "delegate.clear",
                                         "reply.ok",
                                         "reply.error",
                                         NULL};

/* Events of envelope version 1. The reserved names of the catalog
   (ticket.closed ...) join this list when they are produced. */
static const char *const s_events[] = {"ticket.submitted",
                                       "ticket.routed",
                                       "ticket.responded",
                                       "ticket.transferred",
                                       "ticket.escalated",
                                       "ticket.resolved",
                                       "ticket.reopened",
                                       "survey.sent",
                                       "survey.answered",
                                       "notification.sent",
                                       "notification.failed",
                                       "approval.requested",
                                       "approval.step_assigned",
                                       "approval.step_reminded",
                                       "approval.step_decided",
                                       "approval.step_escalated",
                                       "approval.at_risk",
                                       "approval.completed",
                                       "approval.step_stalled",
                                       "approval.delegate_set",
                                       NULL};

/* True when name is in the NULL-terminated list. */
static bool s_in(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

bool kf_catalog_known(const char *type)
{
    return type && (s_in(s_messages, type) || s_in(s_events, type));
}

bool kf_catalog_is_event(const char *type)
{
    return type && s_in(s_events, type);
}
