/* kefu — fuzz target: kefu-survey's request decoders
   (services/survey/requests.c): sreq_parse_answer, sreq_parse_campaign,
   sreq_parse_show.

   Input: one byte choosing the request type (its value modulo 3:
   survey.answer, survey.campaign, survey.show), then the msgpack body,
   decoded inside an otherwise valid envelope of that type as kefu-survey
   decodes it (fz_env_with_body). The `report` request has its own target,
   fuzz_survey_report.

   Properties, beyond "no crash, no leak, no undefined behaviour":
   - a refusal names one of the type's fields with a field-level code
     (fz_field_error_ok);
   - an accepted request obeys proto/catalog.md, "Surveys": the survey is
     named by exactly one of a non-blank ticket (UTF-8, at most 32 bytes)
     and a survey id >= 1; score 1..5; nps 0..10 or PLAN_NPS_NONE when
     absent; a comment UTF-8 within 1000 bytes, a blank one never kept; a
     campaign's project not blank, its milestone one of kf_milestones; an
     idempotency key (optional) UTF-8 within its limit;
   - the actor is never taken from a body (kefu-survey fills it from the
     certificate), even when the body has an `actor`;
   - decoding is deterministic. */
#include <string.h>

#include "fuzz.h"
#include "plan.h"
#include "requests.h"

enum { S_ANSWER, S_CAMPAIGN, S_SHOW, S_TYPES };

static const char *const s_types[S_TYPES] = {"survey.answer", "survey.campaign", "survey.show"};

/* The fields each type reads: a refusal must name one of them. */
static const char *const s_answer_fields[] = {"ticket",  "survey", "score", "nps",
                                              "comment", "idem",   NULL};
static const char *const s_campaign_fields[] = {"project", "milestone", "kind", "idem", NULL};
static const char *const s_show_fields[] = {"ticket", "survey", NULL};
static const char *const *const s_fields[S_TYPES] = {s_answer_fields, s_campaign_fields,
                                                     s_show_fields};

/* What any decoder of these may produce, compared whole for determinism. */
typedef struct {
    answer_req_t answer;
    campaign_req_t campaign;
    show_req_t show;
} s_out_t;

/* A survey named by exactly one of ticket and survey id. */
static void s_check_target(const char *ticket, size_t size, int64_t survey)
{
    FZ_CHECK(fz_cstr_ok(ticket, size, KF_LIM_TICKET));
    FZ_CHECK(survey >= 0);
    FZ_CHECK((ticket[0] != '\0') != (survey != 0));
    FZ_CHECK(ticket[0] == '\0' || !fz_blank(ticket));
}

static void s_check_answer(const answer_req_t *r)
{
    FZ_CHECK(r->actor[0] == '\0');
    s_check_target(r->ticket, sizeof r->ticket, r->survey);
    FZ_CHECK(r->score >= PLAN_SCORE_MIN && r->score <= PLAN_SCORE_MAX);
    FZ_CHECK(r->nps == PLAN_NPS_NONE || (r->nps >= PLAN_NPS_MIN && r->nps <= PLAN_NPS_MAX));
    FZ_CHECK(fz_cstr_ok(r->comment, sizeof r->comment, KF_LIM_COMMENT));
    FZ_CHECK(r->comment[0] == '\0' || !fz_blank(r->comment));
    FZ_CHECK(fz_cstr_ok(r->idem, sizeof r->idem, KF_LIM_IDEM));
}

static void s_check_campaign(const campaign_req_t *r)
{
    FZ_CHECK(r->actor[0] == '\0');
    FZ_CHECK(fz_cstr_ok(r->project, sizeof r->project, KF_LIM_PROJECT) && !fz_blank(r->project));
    FZ_CHECK(fz_in(r->milestone, kf_milestones));
    FZ_CHECK(fz_cstr_ok(r->idem, sizeof r->idem, KF_LIM_IDEM));
}

/* Runs the decoder of kind on body into out; returns its status. */
static int s_parse(int kind, const msgpack_object *body, s_out_t *out, kf_error_t *err)
{
    memset(out, 0, sizeof *out);
    switch (kind) {
    case S_ANSWER:
        return sreq_parse_answer(body, &out->answer, err);
    case S_CAMPAIGN:
        return sreq_parse_campaign(body, &out->campaign, err);
    default:
        return sreq_parse_show(body, &out->show, err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % S_TYPES;
    kf_error_t err = {0};
    kf_env_t *env = fz_env_with_body(s_types[kind], data + 1, size - 1, &err);
    if (!env) {
        FZ_CHECK(fz_error_ok(&err));
        return 0;
    }
    const msgpack_object *body = kf_env_body(env);
    static s_out_t out, again;
    int rc = s_parse(kind, body, &out, &err);
    if (rc == 0) {
        switch (kind) {
        case S_ANSWER:
            s_check_answer(&out.answer);
            FZ_CHECK(kf_map_get(body, "nps") || out.answer.nps == PLAN_NPS_NONE);
            break;
        case S_CAMPAIGN:
            s_check_campaign(&out.campaign);
            break;
        default:
            FZ_CHECK(out.show.actor[0] == '\0');
            s_check_target(out.show.ticket, sizeof out.show.ticket, out.show.survey);
        }
    } else
        FZ_CHECK(rc == -1 && fz_field_error_ok(&err) && fz_in(err.field, s_fields[kind]));
    kf_error_t err2 = {0};
    FZ_CHECK(s_parse(kind, body, &again, &err2) == rc);
    FZ_CHECK(rc != 0 || memcmp(&out, &again, sizeof out) == 0);
    FZ_CHECK(rc == 0 || (err.code == err2.code && strcmp(err.field, err2.field) == 0));
    kf_env_destroy(&env);
    return 0;
}
