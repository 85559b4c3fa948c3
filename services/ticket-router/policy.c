/* ticket-router — routing and escalation decisions (see policy.h). */
#include "policy.h"

#include <string.h>

/* How specific a rule is: named fields first, then which fields. */
static int s_specificity(const policy_rule_t *rule)
{
    int named = (rule->kind[0] != 0) + (rule->category[0] != 0) + (rule->project[0] != 0);
    int weight = (rule->project[0] ? 4 : 0) + (rule->category[0] ? 2 : 0) + (rule->kind[0] ? 1 : 0);
    return named * 8 + weight;
}

static int s_matches(const char *pattern, const char *value)
{
    return pattern[0] == 0 || strcmp(pattern, value) == 0;
}

const policy_rule_t *policy_match(const policy_rule_t *rules, size_t count, const char *kind,
                                  const char *category, const char *project)
{
    const policy_rule_t *best = NULL;
    for (size_t i = 0; i < count; i++) {
        const policy_rule_t *rule = &rules[i];
        if (!s_matches(rule->kind, kind) || !s_matches(rule->category, category) ||
            !s_matches(rule->project, project))
            continue;
        if (!best || s_specificity(rule) > s_specificity(best) ||
            (s_specificity(rule) == s_specificity(best) && rule->id < best->id))
            best = rule;
    }
    return best;
}

const policy_sla_t *policy_sla(const policy_sla_t *slas, size_t count, const char *kind,
                               const char *priority)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(slas[i].kind, kind) == 0 && strcmp(slas[i].priority, priority) == 0)
            return &slas[i];
    return NULL;
}

int64_t policy_due(int64_t from_ms, int64_t secs)
{
    const int64_t max = INT64_MAX;
    if (secs <= 0)
        return from_ms;
    if (secs > (max - from_ms) / 1000)
        return max;
    return from_ms + secs * 1000;
}

static int s_someone_else(const char *person, const char *owner)
{
    return person && person[0] && (!owner || strcmp(person, owner) != 0);
}

int policy_next_level(int level, const policy_chain_t *chain, const char **to)
{
    const char *people[] = {NULL, chain->manager, chain->department_head, chain->project_gm};
    for (int next = level + 1; next <= 3; next++)
        if (s_someone_else(people[next], chain->owner)) {
            *to = people[next];
            return next;
        }
    return 0;
}
