/* kefu-gateway — who may see an event on the live stream (visible.h). */
#include "visible.h"

#include <string.h>

/* True when a and b are the same non-empty text. */
static bool s_same(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

/* True when member key of body is the string staff, or an array holding
   it. */
static bool s_names(const json_t *body, const char *key, const char *staff)
{
    const json_t *v = json_object_get(body, key);
    if (json_is_string(v))
        return s_same(json_string_value(v), staff);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (json_is_string(item) && s_same(json_string_value(item), staff))
            return true;
    }
    return false;
}

/* True when any of the NULL-terminated keys of body names staff. */
static bool s_names_any(const json_t *body, const char *const *keys, const char *staff)
{
    for (; *keys; keys++)
        if (s_names(body, *keys, staff))
            return true;
    return false;
}

/* True when viewer belongs to department dept or heads it. */
static bool s_in_dept(const gw_viewer_t *viewer, const char *dept)
{
    if (!dept || !*dept)
        return false;
    if (s_same(viewer->department, dept))
        return true;
    size_t len = strlen(dept);
    for (const char *p = viewer->heads; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, dept, len) == 0)
            return true;
        p = end ? end + 1 : p + n;
    }
    return false;
}

/* The rule for ticket.* events. */
static bool s_ticket(const gw_viewer_t *viewer, const gw_event_facts_t *ev)
{
    static const char *const named[] = {"owner", "to", "from", "responsible", "actor", NULL};
    const char *staff = viewer->staff;
    if (s_names_any(ev->body, named, staff) || s_same(ev->ticket_owner, staff) ||
        s_same(ev->ticket_creator, staff))
        return true;
    const json_t *dept = json_object_get(ev->body, "department");
    return (json_is_string(dept) && s_in_dept(viewer, json_string_value(dept))) ||
           s_in_dept(viewer, ev->ticket_dept) || s_in_dept(viewer, ev->from_dept);
}

/* The rule for approval.* events. */
static bool s_approval(const gw_viewer_t *viewer, const gw_event_facts_t *ev)
{
    static const char *const named[] = {"to",         "delegate",     "from",
                                        "staff",      "assigned_to",  "acting_for",
                                        "recipients", "requested_by", NULL};
    return s_names_any(ev->body, named, viewer->staff) || s_same(ev->requester, viewer->staff);
}

bool gw_event_visible(const gw_viewer_t *viewer, const gw_event_facts_t *ev)
{
    if (!viewer->staff || !*viewer->staff || !ev->type || !json_is_object(ev->body))
        return false;
    if (strncmp(ev->type, "call.", 5) == 0) /* a screen-pop is its agent's alone */
        return s_names(ev->body, "staff", viewer->staff);
    if (s_same(viewer->role, "admin"))
        return true;
    if (strncmp(ev->type, "ticket.", 7) == 0)
        return s_ticket(viewer, ev);
    if (strncmp(ev->type, "approval.", 9) == 0)
        return s_approval(viewer, ev);
    return false;
}
