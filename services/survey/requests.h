/* survey — decoding the survey daemon's requests into plain structs (pure,
   no I/O). Fields and limits are those of proto/catalog.md, section
   "Surveys". */
#ifndef SURVEY_REQUESTS_H
#define SURVEY_REQUESTS_H

#include <msgpack.h>
#include <stdint.h>

#include "kf_error.h"

#define SREQ_ACTOR_MAX 64
#define SREQ_TICKET_MAX 32
#define SREQ_PROJECT_MAX 32
#define SREQ_COMMENT_MAX 1000

/* survey.answer: the survey is named by its ticket (the latest survey
   sent for it) or by its id (campaign surveys have no ticket). */
typedef struct {
    char actor[SREQ_ACTOR_MAX + 1];
    char ticket[SREQ_TICKET_MAX + 1];   /* "" when named by id */
    int64_t survey;                     /* 0 when named by ticket */
    int score;                          /* 1-5 */
    int nps;                            /* 0-10, or PLAN_NPS_NONE */
    char comment[SREQ_COMMENT_MAX + 1]; /* "" when none (a blank one is none) */
} answer_req_t;

/* survey.campaign. */
typedef struct {
    char actor[SREQ_ACTOR_MAX + 1];
    char project[SREQ_PROJECT_MAX + 1];
    char milestone[24]; /* one of plan_milestones */
} campaign_req_t;

/* survey.show: a ticket's surveys, or one survey by id. */
typedef struct {
    char actor[SREQ_ACTOR_MAX + 1];
    char ticket[SREQ_TICKET_MAX + 1];
    int64_t survey;
} show_req_t;

/* Who acts is never in a request: kefu-survey fills each struct's actor
   from the key the request came with (common/auth.h).
   Each returns 0, or -1 with err naming the field and what is wrong. */
int sreq_parse_answer(const msgpack_object *body, answer_req_t *out, kf_error_t *err);
int sreq_parse_campaign(const msgpack_object *body, campaign_req_t *out, kf_error_t *err);
int sreq_parse_show(const msgpack_object *body, show_req_t *out, kf_error_t *err);

#endif
