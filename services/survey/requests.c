/* survey — decoding requests (see requests.h). */
#include "requests.h"

#include <string.h>

#include "envelope.h"
#include "plan.h"

/* Reads the survey's name: ticket str(32) or survey int, exactly one. */
static int s_get_target(const msgpack_object *body, char *ticket, size_t size, int64_t *survey,
                        kf_error_t *err)
{
    ticket[0] = '\0';
    *survey = 0;
    int has_ticket = kf_get_str(body, "ticket", false, ticket, size, err);
    if (has_ticket < 0)
        return -1;
    int has_survey = kf_get_int(body, "survey", false, 1, INT64_MAX, survey, err);
    if (has_survey < 0)
        return -1;
    if (has_ticket && has_survey)
        return kf_error_set(err, KF_E_BAD_VALUE, "survey",
                            "name the survey by ticket or by survey id, not both");
    if (!has_ticket && !has_survey)
        return kf_error_set(err, KF_E_MISSING_FIELD, "ticket",
                            "ticket is required (or survey, the id of a campaign survey)");
    if (has_ticket && !kf_has_text(ticket))
        return kf_error_set(err, KF_E_BAD_VALUE, "ticket", "ticket must not be blank");
    return 0;
}

int sreq_parse_answer(const msgpack_object *body, answer_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    int64_t score = 0, nps = PLAN_NPS_NONE;
    if (s_get_target(body, out->ticket, sizeof out->ticket, &out->survey, err) != 0 ||
        kf_get_int(body, "score", true, PLAN_SCORE_MIN, PLAN_SCORE_MAX, &score, err) < 0 ||
        kf_get_int(body, "nps", false, PLAN_NPS_MIN, PLAN_NPS_MAX, &nps, err) < 0 ||
        kf_get_str(body, "comment", false, out->comment, sizeof out->comment, err) < 0 ||
        kf_get_str(body, "idem", false, out->idem, sizeof out->idem, err) < 0)
        return -1;
    out->body = body;
    out->score = (int)score;
    out->nps = (int)nps;
    if (!kf_has_text(out->comment))
        out->comment[0] = '\0';
    return 0;
}

int sreq_parse_campaign(const msgpack_object *body, campaign_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    static const char *const kinds[] = {"campaign", NULL};
    int milestone = 0, kind = 0;
    if (kf_get_text(body, "project", true, out->project, sizeof out->project, err) < 0 ||
        kf_get_enum(body, "milestone", true, kf_milestones, &milestone, err) < 0 ||
        kf_get_enum(body, "kind", false, kinds, &kind, err) < 0 ||
        kf_get_str(body, "idem", false, out->idem, sizeof out->idem, err) < 0)
        return -1;
    snprintf(out->milestone, sizeof out->milestone, "%s", kf_milestones[milestone]);
    return 0;
}

int sreq_parse_show(const msgpack_object *body, show_req_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (s_get_target(body, out->ticket, sizeof out->ticket, &out->survey, err) != 0)
        return -1;
    return 0;
}
