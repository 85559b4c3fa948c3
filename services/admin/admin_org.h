/* kefu-admin — the organisation file (deploy/ORG-FORMAT.md): checking it
   against itself and against what the store already holds, and the rows it
   makes. The checks are pure so that unit tests can drive them; `kefu-admin
   import` (admin_org.c) loads the store's side, runs them, and applies the
   plan in one transaction. */
#ifndef KF_ADMIN_ORG_H
#define KF_ADMIN_ORG_H

#include <jansson.h>
#include <stdbool.h>

#include "admin.h"

#define ORG_FORMAT "kefu-org/1" /* the value of "format" this kefu reads */

typedef struct org org_t;

org_t *org_new(void);
void org_destroy(org_t **self_p);

/* What the store holds before the import (NULL for SQL NULL). */
void org_store_department(org_t *self, const char *id, const char *head);
void org_store_staff(org_t *self, const char *id, const char *department, const char *manager,
                     bool active);
/* A staff member's phone extension (after org_store_staff of them). */
void org_store_extension(org_t *self, const char *id, const char *extension);
void org_store_project(org_t *self, const char *id, const char *gm);
void org_store_rule(org_t *self, const char *kind, const char *category, const char *project,
                    const char *department, const char *owner);
/* The store's approval setting (migration 016): its administrator and
   customer-service centre, NULL when not named. */
void org_store_setting(org_t *self, const char *admin, const char *service_centre);

/* Checks the parsed file root: its shape, every value, and the state the
   store would be in afterwards (references resolve, heads, general
   managers, rule owners and managers of active staff are active, no
   management cycles, approval policy approvers and fallbacks exist and
   are active, every step's timeout chain reaches someone other than its
   approver, an approval administrator is named). Each problem names
   its place ("$.staff[3].manager", or "store: department eng" for a row
   the file does not list but would break). Returns 0 when there is
   none. */
int org_check(org_t *self, json_t *root, adm_problems_t *problems);

/* The rows to write, after a successful org_check: an object with arrays
   departments, staff, projects, buildings, units, routing_rules,
   sla_policies (each element an object of column values),
   approval_policies (each {id, policy: the JSON of
   kefu_approval_policy_put, canon: the policy as the store's columns
   hold it, for comparison}), approval_setting ({admin, service_centre},
   null where the file says nothing) and absent_staff ("keep" or
   "deactivate").
   Borrowed. */
json_t *org_plan(org_t *self);

#endif
