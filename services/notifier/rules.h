/* notifier — who hears of which event, on which channel: a declarative
   table in C (rules.c), reviewed like code and unit-tested
   (tests/unit/test_notifier_rules.c), rather than rows operators edit. The
   words are the operators' (templates.h); who gets them is a decision of
   the service, changed with a release.

     ticket.submitted   -> the customer, SMS (number, received)
     ticket.routed      -> the customer, SMS (who handles it, first-response due)
                           and the new owner, e-mail
     ticket.transferred -> the new owner, e-mail
     ticket.escalated   -> the new owner and their manager, e-mail
     ticket.resolved    -> the customer, SMS
     ticket.reopened    -> the new owner, e-mail
     survey.sent        -> the customer, SMS with the survey question
     approval.step_assigned, .step_reminded, .step_escalated
                        -> the approver the step now waits for ("to"), e-mail;
                           a move by reassign in its own words (who, why)
     approval.step_assigned, .step_escalated
                        -> and that approver's registered delegate
                           ("delegate"), e-mail: "you cover this step"
     approval.at_risk   -> everyone who can act ("recipients"; "to", the
                           ticket owner's manager, when there are none), e-mail
     approval.step_stalled
                        -> everyone who can act ("recipients"), e-mail
     approval.delegate_set
                        -> the delegate ("to"), e-mail listing the steps covered
     approval.completed -> the ticket's owner, e-mail

   Tickets marked imported are never notified. */
#ifndef NOTIFIER_RULES_H
#define NOTIFIER_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_error.h"
#include "templates.h"

/* Whom a rule addresses. */
typedef enum {
    WHO_CUSTOMER, /* the owner (业主) of the ticket, or the survey's homeowner */
    WHO_OWNER,    /* the staff member the event makes responsible */
    WHO_MANAGER,  /* that staff member's manager */
    WHO_LIST      /* each staff member a body field names (list_field) */
} rule_who_t;

typedef struct {
    const char *event;        /* event type */
    rule_who_t who;           /* recipient */
    const char *channel;      /* "sms" or "email" */
    const char *variant;      /* template name part (TYPE.VARIANT.CHANNEL.LANG), or NULL */
    const char *when_field;   /* applies only when the body's string field ... */
    const char *when_value;   /* ... has this value (NULL: no such condition) */
    const char *unless_value; /* ... has not this value, absent included (NULL: none) */
    const char *list_field;   /* WHO_LIST: the field, an array of staff ids or one id */
    const char *list_else;    /* WHO_LIST: read instead when list_field is absent or empty */
} rule_t;

/* The rules, ending with an entry whose event is NULL. */
extern const rule_t rules_table[];

/* Every template the rules need, in every language, each once, ending
   with an entry whose name is "" (for tpl_set_load and tpl_set_from):
   the rules know their templates, the templates know no rule. */
const tpl_need_t *rules_template_needs(void);

/* The event types the notifier consumes, as a PostgreSQL array literal
   for kf_feed_catch_up: "{ticket.submitted,...}". */
const char *rules_types_literal(void);

/* True when some rule consumes events of type. */
bool rules_handles(const char *type);

/* The placeholders a template of type may use (NULL-terminated), or NULL
   for a type no rule consumes. */
const char *const *rules_placeholders(const char *type);

/* The body field naming the staff member a type makes responsible
   ("owner" or "to"), or NULL. */
const char *rules_owner_field(const char *type);

/* The staff ids an event of type names that the rules address or show by
   name (the WHO_LIST fields, who moved a step, whom a delegate covers),
   each once, at most max, into ids (pointing into body). The caller
   looks them up into rule_ctx_t.staff. Returns how many. */
int rules_staff_ids(const char *type, const json_t *body, const char **ids, int max);

/* Checks an event body against what the notifier needs of its type:
   required fields present and of the right JSON type, strings within
   their limits. Returns 0, or -1 with err (unknown_type, missing_field,
   wrong_type, too_long, bad_value). */
int rules_check_body(const char *type, const json_t *body, kf_error_t *err);

/* A person who may be notified. id NULL or "" means there is none. */
typedef struct {
    const char *id;      /* homeowner id as text, or staff id */
    const char *name;    /* may be NULL */
    const char *address; /* phone (customer) or e-mail (staff); NULL when unknown */
    const char *lang;    /* "zh" or "en"; anything else is taken as "zh" */
} party_t;

/* What the store knows around one event (kefu_notify_context). */
typedef struct {
    bool imported;        /* the ticket was imported: notify no one */
    const char *ticket;   /* ticket number, or NULL (campaign survey) */
    const char *priority; /* normal, high, urgent */
    const char *kind;     /* complaint, ... */
    const char *category; /* leak, ... */
    const char *summary;  /* the owner's words, one line */
    const char *project;  /* project code */
    const char *project_name;
    const char *department_en, *department_zh; /* the responsible staff member's department */
    int64_t first_response_due, resolve_due;   /* ms, 0 when unknown */
    const char *from_name;                     /* the previous owner's name */
    party_t customer, owner, manager;
    /* The staff rules_staff_ids names, as looked up; one the store does
       not know has only its id. */
    const party_t *staff;
    size_t staff_count;
} rule_ctx_t;

/* One message to make: the rule, and whom it goes to. */
typedef struct {
    const rule_t *rule;
    const char *kind; /* "homeowner" or "staff" */
    const party_t *party;
} recipient_t;

/* The recipients of an event of type with body, at most max, each (kind,
   id, channel) once: the first rule that reaches someone decides their
   message. Rules whose recipient is absent are skipped; a WHO_LIST id
   not in ctx->staff is too. Returns
   how many, 0 for an imported ticket, -1 for a type no rule consumes. */
int rules_recipients(const char *type, const json_t *body, const rule_ctx_t *ctx, recipient_t *out,
                     int max);

/* The language a party reads: its lang when that is one of the model's
   languages (kf_langs, the templates' languages), else "zh". */
const char *rules_lang(const party_t *party);

/* The template name of a recipient's message (tpl_name). */
void rules_template_name(char *buf, size_t size, const recipient_t *r);

/* True when a message must respect quiet hours: an SMS to a customer
   (recipient kind "homeowner") about anything but an urgent ticket. */
bool rules_quiet(const char *kind, const char *channel, bool urgent);

/* True when ctx's ticket is urgent. */
bool rules_urgent(const rule_ctx_t *ctx);

/* The placeholder values of one message, rendered in lang. Times are
   shown in the process's local time zone. */
#define RULES_MAX_VARS 64
typedef struct {
    tpl_var_t vars[RULES_MAX_VARS];
    size_t count;
    char store[8192]; /* the formatted values live here */
    size_t used;
} rule_vars_t;

void rules_vars(rule_vars_t *out, const char *type, const json_t *body, const rule_ctx_t *ctx,
                const recipient_t *r);

/* Formats ms since the epoch as "YYYY-MM-DD HH:MM" in local time. */
void rules_format_time(int64_t ms, char *buf, size_t size);

/* An amount in fen as yuan with two decimals, thousands grouped:
   8000050 -> "80,000.50". */
void rules_format_amount(int64_t fen, char *buf, size_t size);

#endif
