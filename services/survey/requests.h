/* survey — decoding the survey daemon's requests into plain structs (pure,
   no I/O). Fields and limits are those of proto/catalog.md, section
   "Surveys". */
#ifndef SURVEY_REQUESTS_H
#define SURVEY_REQUESTS_H

#include <msgpack.h>
#include <stdint.h>

#include "kf_error.h"
#include "kf_model.h"

/* Limits (KF_LIM_*) and the milestones (kf_milestones) are generated
   from proto/model.json. */
#define SREQ_ACTOR_MAX KF_LIM_STAFF

/* survey.answer: the survey is named by its ticket (the latest survey
   sent for it) or by its id (campaign surveys have no ticket). */
typedef struct {
    char actor[SREQ_ACTOR_MAX + 1];
    char ticket[KF_LIM_TICKET + 1];   /* "" when named by id */
    int64_t survey;                   /* 0 when named by ticket */
    int score;                        /* 1-5 */
    int nps;                          /* 0-10, or PLAN_NPS_NONE */
    char comment[KF_LIM_COMMENT + 1]; /* "" when none (a blank one is none) */
    char idem[KF_LIM_IDEM + 1];       /* the idempotency key, "" when none */
    const msgpack_object *body;       /* the request's body (its key's content) */
} answer_req_t;

/* survey.campaign. */
typedef struct {
    char actor[SREQ_ACTOR_MAX + 1];
    char project[KF_LIM_PROJECT + 1];
    char milestone[KF_SIZE_MILESTONE]; /* one of kf_milestones */
    char idem[KF_LIM_IDEM + 1];        /* the idempotency key, "" when none */
} campaign_req_t;

/* survey.show: a ticket's surveys, or one survey by id. */
typedef struct {
    char actor[SREQ_ACTOR_MAX + 1];
    char ticket[KF_LIM_TICKET + 1];
    int64_t survey;
} show_req_t;

/* Who acts is never in a request: kefu-survey fills each struct's actor
   from the key the request came with (common/auth.h).
   Each returns 0, or -1 with err naming the field and what is wrong. */
int sreq_parse_answer(const msgpack_object *body, answer_req_t *out, kf_error_t *err);
int sreq_parse_campaign(const msgpack_object *body, campaign_req_t *out, kf_error_t *err);
int sreq_parse_show(const msgpack_object *body, show_req_t *out, kf_error_t *err);

#endif
