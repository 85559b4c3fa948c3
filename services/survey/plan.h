/* survey — the decisions of the survey loop (pure, no I/O): when a survey
   is due, what an answer changes, who gets a reopened ticket, who may do
   what. kefu-survey reads the facts from the store, asks these, and has
   the store's functions (008_survey.sql) record the outcome. */
#ifndef SURVEY_PLAN_H
#define SURVEY_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "kf_model.h"

/* The score bounds are the wire's (proto/model.json). */
#define PLAN_SCORE_MIN KF_LIM_SCORE_MIN
#define PLAN_SCORE_MAX KF_LIM_SCORE_MAX
#define PLAN_NPS_MIN KF_LIM_NPS_MIN
#define PLAN_NPS_MAX KF_LIM_NPS_MAX
#define PLAN_NPS_NONE (-1) /* no recommendation score given */
#define PLAN_REOPEN_MAX 2  /* a score at or below this reopens the ticket */

/* The lifecycle milestones ("6+2") a campaign may name are kf_milestones
   (kf_model.h). */

/* When the survey of a resolution at resolved_ms is due: delay_s seconds
   later, saturating at INT64_MAX instead of overflowing. A negative delay
   counts as none. */
int64_t plan_due(int64_t resolved_ms, int64_t delay_s);

/* The new resolution deadline of a ticket reopened at now_ms: the SLA's
   resolve_secs later, or fallback_secs when no policy matched (secs <= 0). */
int64_t plan_reopen_due(int64_t now_ms, int64_t resolve_secs, int64_t fallback_secs);

/* True when an answer with score (1-5) is low enough to reopen a ticket. */
bool plan_reopens(int score);

/* True when an answer reopens the ticket: a resolution survey, scored 1
   or 2, of the ticket's latest resolution (resolution_no equal to the
   number of resolutions so far: a late answer about an earlier one does
   not undo a later one), while the ticket is resolved or closed. */
bool plan_should_reopen(bool resolution_survey, const char *status, int score,
                        int64_t resolution_no, int64_t resolutions);

/* The people around a ticket's owner; NULL or "" when unknown or inactive. */
typedef struct {
    const char *owner;           /* the owner when the ticket was resolved */
    const char *manager;         /* the owner's manager */
    const char *department_head; /* the head of the owner's department */
    const char *project_gm;      /* the project's general manager */
} plan_people_t;

/* Who owns a ticket reopened by a low score: the owner's manager; when
   there is none (or it is the owner), the head of the owner's department;
   then the project's general manager; the owner only when nobody else is
   known. */
const char *plan_reopen_owner(const plan_people_t *people);

/* An answer's values; comment NULL or "" when none. */
typedef struct {
    int score;
    int nps; /* PLAN_NPS_NONE when not given */
    const char *comment;
} plan_answer_t;

/* True when a repeated answer is the same as the recorded one: same score,
   same recommendation score (or both absent), same comment (or both
   absent). The same answer twice is one answer; a different one is a
   conflict, never a second count. */
bool plan_same_answer(const plan_answer_t *recorded, const plan_answer_t *again);

/* True when staff of role may record survey answers: every role but plain
   'staff' (whose own work the survey judges). */
bool plan_may_answer(const char *role);

/* True when staff of role may start a campaign: admin, manager, head, gm. */
bool plan_may_campaign(const char *role);

/* True when staff of role may read the manager's watchlist: manager, head,
   gm, vp, admin. */
bool plan_may_watch(const char *role);

#endif
