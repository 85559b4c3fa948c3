/* kefu-gateway — who may see an event on the live stream (GET
   /api/v1/events): a pure rule over the event's body, what the store says
   of its ticket and approval request, and the viewer. */
#ifndef GW_VISIBLE_H
#define GW_VISIBLE_H

#include <jansson.h>
#include <stdbool.h>

/* The signed-in person watching a stream. */
typedef struct {
    const char *staff;      /* staff id */
    const char *role;       /* agent, staff, manager, head, gm, vp, admin */
    const char *department; /* their department */
    const char *heads;      /* the departments they head, comma-separated ("" none) */
} gw_viewer_t;

/* One event with what the store knows of it ("" or NULL when unknown). */
typedef struct {
    const char *type;
    const json_t *body;         /* the event's body (an object) */
    const char *ticket_dept;    /* the ticket's department now */
    const char *ticket_owner;   /* the ticket's owner now */
    const char *ticket_creator; /* who logged the ticket */
    const char *from_dept;      /* the department of the body's `from` (a transfer) */
    const char *requester;      /* the approval request's requester */
} gw_event_facts_t;

/* True when viewer may see ev:
   - call.*: only the body's `staff` (the screen-pop), whatever the role;
   - role admin: everything else;
   - ticket.*: the staff the body names (owner, to, from, responsible,
     actor), the ticket's owner and creator, and the members and heads of
     its department (the body's, the ticket's now, and for a transfer or
     reopening the department it left);
   - approval.*: the staff the body names as the step's holders (to,
     delegate, from, staff, assigned_to, acting_for, recipients), and the
     request's requester;
   - anything else: admin only. */
bool gw_event_visible(const gw_viewer_t *viewer, const gw_event_facts_t *ev);

#endif
