/* survey — the decisions of the survey loop (see plan.h). */
#include "plan.h"

#include <string.h>

int64_t plan_due(int64_t resolved_ms, int64_t delay_s)
{
    if (delay_s <= 0)
        return resolved_ms;
    if (delay_s > INT64_MAX / 1000 || resolved_ms > INT64_MAX - delay_s * 1000)
        return INT64_MAX;
    return resolved_ms + delay_s * 1000;
}

int64_t plan_reopen_due(int64_t now_ms, int64_t resolve_secs, int64_t fallback_secs)
{
    return plan_due(now_ms, resolve_secs > 0 ? resolve_secs : fallback_secs);
}

bool plan_reopens(int score)
{
    return score >= PLAN_SCORE_MIN && score <= PLAN_REOPEN_MAX;
}

bool plan_should_reopen(bool resolution_survey, const char *status, int score,
                        int64_t resolution_no, int64_t resolutions)
{
    return resolution_survey && status &&
           (strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0) &&
           plan_reopens(score) && resolution_no >= 1 && resolution_no == resolutions;
}

/* True when who names somebody other than owner. */
static bool s_other(const char *who, const char *owner)
{
    return who && who[0] && !(owner && strcmp(who, owner) == 0);
}

const char *plan_reopen_owner(const plan_people_t *people)
{
    const char *candidates[] = {people->manager, people->department_head, people->project_gm};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (s_other(candidates[i], people->owner))
            return candidates[i];
    return people->owner;
}

/* Comments compare equal when both are absent or the bytes are the same. */
static bool s_same_comment(const char *a, const char *b)
{
    bool a_none = !a || !a[0], b_none = !b || !b[0];
    if (a_none || b_none)
        return a_none && b_none;
    return strcmp(a, b) == 0;
}

bool plan_same_answer(const plan_answer_t *recorded, const plan_answer_t *again)
{
    int nps_a = recorded->nps < 0 ? PLAN_NPS_NONE : recorded->nps;
    int nps_b = again->nps < 0 ? PLAN_NPS_NONE : again->nps;
    return recorded->score == again->score && nps_a == nps_b &&
           s_same_comment(recorded->comment, again->comment);
}

/* True when role is in the NULL-terminated list. */
static bool s_role_in(const char *role, const char *const *roles)
{
    for (int i = 0; role && roles[i]; i++)
        if (strcmp(role, roles[i]) == 0)
            return true;
    return false;
}

bool plan_may_answer(const char *role)
{
    static const char *const roles[] = {"agent", "manager", "head", "gm", "vp", "admin", NULL};
    return s_role_in(role, roles);
}

bool plan_may_campaign(const char *role)
{
    static const char *const roles[] = {"admin", "manager", "head", "gm", NULL};
    return s_role_in(role, roles);
}

bool plan_may_watch(const char *role)
{
    static const char *const roles[] = {"manager", "head", "gm", "vp", "admin", NULL};
    return s_role_in(role, roles);
}
