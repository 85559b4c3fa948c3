/* Unit tests of who may see an event on kefu-gateway's live stream
   (services/gateway/visible.c): every event type of the model has cases,
   and a type without one fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kf_model.h"
#include "visible.h"

/* The viewers: an agent and the head of customer service (cs), an
   engineer (eng), a general manager, an administrator. */
static const gw_viewer_t s_ann = {"ann", "agent", "cs", ""};
static const gw_viewer_t s_hugo = {"hugo", "head", "mgmt", "ops,cs"};
static const gw_viewer_t s_eve = {"eve", "staff", "eng", ""};
static const gw_viewer_t s_gm = {"gm", "gm", "mgmt", ""};
static const gw_viewer_t s_root = {"root", "admin", "ops", ""};

/* One case: an event with its facts, and who sees it (a string of the
   viewers' first letters: a ann, h hugo, e eve, g gm, r root). */
typedef struct {
    const char *type;
    const char *body;
    const char *ticket_dept, *ticket_owner, *ticket_creator, *from_dept, *requester;
    const char *sees;
} s_case_t;

static const s_case_t s_cases[] = {
    /* submitted, not routed yet: its creator (and admin) */
    {"ticket.submitted", "{\"ticket\":\"KF-1\",\"actor\":\"ann\"}", NULL, "ann", "ann", NULL, NULL,
     "ar"},
    /* read after the routing: the department too */
    {"ticket.submitted", "{\"ticket\":\"KF-1\",\"actor\":\"bob\"}", "cs", "bob", "bob", NULL, NULL,
     "ahr"},
    {"ticket.routed", "{\"ticket\":\"KF-1\",\"owner\":\"bob\",\"department\":\"cs\"}", "cs", "bob",
     "bob", NULL, NULL, "ahr"},
    {"ticket.responded", "{\"ticket\":\"KF-1\",\"actor\":\"bob\"}", "cs", "bob", "bob", NULL, NULL,
     "ahr"},
    /* a transfer: both departments */
    {"ticket.transferred",
     "{\"ticket\":\"KF-1\",\"from\":\"bob\",\"to\":\"ed\",\"department\":\"eng\",\"actor\":"
     "\"bob\"}",
     "eng", "ed", "bob", "cs", NULL, "aher"},
    {"ticket.escalated", "{\"ticket\":\"KF-1\",\"from\":\"bob\",\"to\":\"gm\",\"level\":3}", "eng",
     "gm", "bob", NULL, NULL, "egr"},
    {"ticket.resolved", "{\"ticket\":\"KF-1\",\"actor\":\"bob\"}", "cs", "bob", "bob", NULL, NULL,
     "ahr"},
    {"ticket.reopened",
     "{\"ticket\":\"KF-1\",\"from\":\"ed\",\"to\":\"carl\",\"department\":\"cs\"}", "cs", "carl",
     "bob", "eng", NULL, "aher"},
    {"ticket.closed", "{\"ticket\":\"KF-1\"}", "eng", "ed", "eve", NULL, NULL, "er"},
    {"survey.sent", "{\"survey\":1,\"ticket\":\"KF-1\",\"homeowner\":7}", "cs", "ann", "ann", NULL,
     NULL, "r"},
    {"survey.answered", "{\"survey\":1,\"ticket\":\"KF-1\",\"actor\":\"ann\"}", "cs", "ann", "ann",
     NULL, NULL, "r"},
    {"approval.requested", "{\"request\":1,\"ticket\":\"KF-1\",\"actor\":\"ann\"}", "cs", "ann",
     "ann", NULL, "ann", "ar"},
    /* a step: its approver and their delegate, and the requester */
    {"approval.step_assigned", "{\"request\":1,\"to\":\"eve\",\"delegate\":\"gm\"}", "cs", "ann",
     "ann", NULL, "bob", "egr"},
    {"approval.step_assigned", "{\"request\":1,\"to\":\"eve\"}", "cs", "ann", "ann", NULL, "ann",
     "aer"},
    {"approval.step_reminded", "{\"request\":1,\"to\":\"eve\"}", "cs", "ann", "ann", NULL, "bob",
     "er"},
    {"approval.step_decided", "{\"request\":1,\"decided_by\":\"eve\",\"outcome\":\"approve\"}",
     "cs", "bob", "bob", NULL, "ann", "ar"},
    {"approval.step_escalated",
     "{\"request\":1,\"from\":\"eve\",\"to\":\"gm\",\"acting_for\":\"eve\",\"action\":"
     "\"escalate\"}",
     "cs", "bob", "bob", NULL, "bob", "egr"},
    {"approval.step_stalled", "{\"request\":1,\"assigned_to\":\"gm\",\"recipients\":[\"eve\"]}",
     "cs", "bob", "bob", NULL, "bob", "egr"},
    {"approval.delegate_set", "{\"staff\":\"eve\",\"delegate\":\"gm\",\"to\":\"gm\",\"steps\":[]}",
     NULL, NULL, NULL, NULL, NULL, "egr"},
    {"approval.at_risk", "{\"request\":1,\"to\":\"hugo\",\"recipients\":[\"ann\",\"hugo\"]}", "cs",
     "bob", "bob", NULL, "bob", "ahr"},
    {"approval.completed", "{\"request\":1,\"requested_by\":\"ann\",\"owner\":\"bob\"}", "cs",
     "bob", "bob", NULL, "ann", "ar"},
    /* a screen-pop: its agent alone, not even the administrator */
    {"call.ringing", "{\"call\":\"c1\",\"caller\":\"13800000000\",\"staff\":\"ann\"}", NULL, NULL,
     NULL, NULL, NULL, "a"},
    {"call.answered", "{\"call\":\"c1\",\"staff\":\"ann\"}", NULL, NULL, NULL, NULL, NULL, "a"},
    {"call.ended", "{\"call\":\"c1\",\"staff\":\"eve\"}", NULL, NULL, NULL, NULL, NULL, "e"},
    {"call.missed", "{\"call\":\"c1\",\"staff\":null}", NULL, NULL, NULL, NULL, NULL, ""},
    {"notification.sent", "{\"notification\":1,\"recipient\":\"ann\"}", NULL, NULL, NULL, NULL,
     NULL, "r"},
    {"notification.failed", "{\"notification\":1,\"recipient\":\"ann\"}", NULL, NULL, NULL, NULL,
     NULL, "r"},
    {"something.new", "{\"staff\":\"ann\",\"to\":\"ann\"}", NULL, NULL, NULL, NULL, NULL, "r"},
};

/* Every case: each viewer sees it exactly when the case says so. */
static void test_cases(void **state)
{
    (void)state;
    const gw_viewer_t *viewers[] = {&s_ann, &s_hugo, &s_eve, &s_gm, &s_root};
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *c = &s_cases[i];
        json_t *body = json_loads(c->body, 0, NULL);
        assert_non_null(body);
        gw_event_facts_t ev = {c->type,           body,         c->ticket_dept, c->ticket_owner,
                               c->ticket_creator, c->from_dept, c->requester};
        for (size_t v = 0; v < 5; v++) {
            bool want = strchr(c->sees, viewers[v]->staff[0]) != NULL;
            if (gw_event_visible(viewers[v], &ev) != want)
                fail_msg("case %zu (%s): %s %s see it", i, c->type, viewers[v]->staff,
                         want ? "should" : "should not");
        }
        json_decref(body);
    }
}

/* Every event the model produces has a case: a new type needs a rule. */
static void test_every_type(void **state)
{
    (void)state;
    for (const char *const *t = kf_model_events; *t; t++) {
        bool found = false;
        for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0] && !found; i++)
            found = strcmp(s_cases[i].type, *t) == 0;
        if (!found)
            fail_msg("event %s has no case here", *t);
    }
}

/* No one is seen for: an empty viewer, a body that is not an object. */
static void test_bad(void **state)
{
    (void)state;
    json_t *body = json_loads("{\"to\":\"\",\"staff\":\"\"}", 0, NULL);
    gw_viewer_t nobody = {"", "admin", "", ""};
    gw_event_facts_t ev = {"approval.step_assigned", body, "", "", "", "", ""};
    assert_false(gw_event_visible(&nobody, &ev));
    gw_viewer_t blank = {"x", "agent", "", ""};
    assert_false(gw_event_visible(&blank, &ev)); /* "" names no one, no department */
    ev.type = "ticket.routed";
    assert_false(gw_event_visible(&blank, &ev));
    json_t *array = json_array();
    ev.body = array;
    assert_false(gw_event_visible(&s_root, &ev));
    json_decref(array);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
