/* ticket-router — routing and escalation decisions (pure, no I/O). */
#ifndef ROUTER_POLICY_H
#define ROUTER_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* A routing rule; an empty kind, category or project matches anything,
   an empty owner means the department head. */
typedef struct {
    int id;
    char kind[16];
    char category[24];
    char project[33];
    char department[33];
    char owner[65];
} policy_rule_t;

/* Deadlines for a kind and priority, in seconds. */
typedef struct {
    char kind[16];
    char priority[8];
    int64_t first_response_secs;
    int64_t resolve_secs;
    int64_t escalate_secs;
} policy_sla_t;

/* The rule for a ticket: the one naming the most of kind, category and
   project; among equals, one naming the project beats one naming the
   category, which beats one naming the kind; then the lowest id. NULL
   when no rule matches. */
const policy_rule_t *policy_match(const policy_rule_t *rules, size_t count, const char *kind,
                                  const char *category, const char *project);

/* The SLA for kind and priority, or NULL. */
const policy_sla_t *policy_sla(const policy_sla_t *slas, size_t count, const char *kind,
                               const char *priority);

/* from_ms plus secs seconds, saturating instead of overflowing. */
int64_t policy_due(int64_t from_ms, int64_t secs);

/* The people above a ticket's current owner (NULL or "" when unknown). */
typedef struct {
    const char *owner;   /* the current owner */
    const char *manager; /* the current owner's manager */
    const char *department_head;
    const char *project_gm;
} policy_chain_t;

/* The next escalation level above level (0 owner, 1 owner's manager,
   2 department head, 3 project general manager) whose person is someone
   other than the current owner; levels with nobody, or with the owner
   again, are passed over. Returns that level and sets *to, or returns 0
   when no level above has anyone else. */
int policy_next_level(int level, const policy_chain_t *chain, const char **to);

#endif
