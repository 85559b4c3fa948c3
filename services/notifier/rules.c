/* notifier — the rule table and what each event type must carry (see rules.h). */
#include "rules.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The first rule that reaches a person decides their message (see
   rules_recipients): the conditions of one event's rules need not
   exclude each other, but they do here, to be read without that. */
const rule_t rules_table[] = {
    {.event = "ticket.submitted", .who = WHO_CUSTOMER, .channel = "sms"},
    {.event = "ticket.routed", .who = WHO_CUSTOMER, .channel = "sms"},
    {.event = "ticket.routed", .who = WHO_OWNER, .channel = "email"},
    {.event = "ticket.transferred", .who = WHO_OWNER, .channel = "email"},
    {.event = "ticket.escalated", .who = WHO_OWNER, .channel = "email"},
    {.event = "ticket.escalated", .who = WHO_MANAGER, .channel = "email", .variant = "manager"},
    {.event = "ticket.resolved", .who = WHO_CUSTOMER, .channel = "sms"},
    {.event = "ticket.reopened", .who = WHO_OWNER, .channel = "email"},
    {.event = "survey.sent",
     .who = WHO_CUSTOMER,
     .channel = "sms",
     .when_field = "kind",
     .when_value = "resolution"},
    {.event = "survey.sent",
     .who = WHO_CUSTOMER,
     .channel = "sms",
     .variant = "campaign",
     .when_field = "kind",
     .when_value = "campaign"},
    /* Approvals (services/approval), by e-mail: the staff member the event
       names in its owner field (s_specs), and the others it lists. */
    {.event = "approval.step_assigned", .who = WHO_OWNER, .channel = "email"},
    {.event = "approval.step_assigned",
     .who = WHO_LIST,
     .channel = "email",
     .variant = "delegate",
     .list_field = "delegate"},
    {.event = "approval.step_reminded", .who = WHO_OWNER, .channel = "email"},
    /* A step moved at its deadline, or by a person (reassign: who and why). */
    {.event = "approval.step_escalated",
     .who = WHO_OWNER,
     .channel = "email",
     .when_field = "action",
     .unless_value = "reassign"},
    {.event = "approval.step_escalated",
     .who = WHO_OWNER,
     .channel = "email",
     .variant = "reassign",
     .when_field = "action",
     .when_value = "reassign"},
    {.event = "approval.step_escalated",
     .who = WHO_LIST,
     .channel = "email",
     .variant = "delegate",
     .list_field = "delegate"},
    /* Warnings go to everyone who can act, as the request's warn_to says
       (the store's `recipients`); events of older versions name only `to`. */
    {.event = "approval.at_risk",
     .who = WHO_LIST,
     .channel = "email",
     .list_field = "recipients",
     .list_else = "to"},
    {.event = "approval.step_stalled",
     .who = WHO_LIST,
     .channel = "email",
     .list_field = "recipients",
     .list_else = "assigned_to"},
    {.event = "approval.delegate_set", .who = WHO_LIST, .channel = "email", .list_field = "to"},
    {.event = "approval.completed", .who = WHO_OWNER, .channel = "email"},
    {.event = NULL}};

static const char s_types_literal[] = "{ticket.submitted,ticket.routed,ticket.transferred,"
                                      "ticket.escalated,ticket.resolved,ticket.reopened,"
                                      "survey.sent,approval.step_assigned,"
                                      "approval.step_reminded,approval.step_escalated,"
                                      "approval.at_risk,approval.step_stalled,"
                                      "approval.delegate_set,approval.completed}";

/* ---- what each event type must carry ------------------------------------ */

/* A string, an integer, an array of staff ids, an array of anything. */
typedef enum { F_STR, F_INT, F_IDS, F_ARR } s_ftype_t;

typedef struct {
    const char *name;
    s_ftype_t type;
    bool required;
    int64_t max; /* bytes of a string; largest value of an int; entries of an array */
} s_field_t;

#define S_MAX_FIELDS 12
#define S_MAX_NAMES 4
#define S_STAFF_MAX 64  /* bytes of a staff id */
#define S_LABEL_MAX 200 /* bytes of an approval step's label, as the organisation file allows */
#define S_MAX_PLACEHOLDERS 24
#define S_COMMON                                                                                   \
    "ticket", "summary", "project", "project_code", "kind", "category", "priority",                \
        "customer_name", "recipient_name"
#define S_MS INT64_MAX
/* What every approval event offers besides S_COMMON. */
#define S_APPROVAL "request", "label", "owner", "owner_name", "department"

typedef struct {
    const char *type;
    const char *owner_field;
    s_field_t fields[S_MAX_FIELDS];
    const char *placeholders[S_MAX_PLACEHOLDERS];
    const char *names[S_MAX_NAMES]; /* fields naming staff the messages show by name */
} s_spec_t;

/* Limits from proto/catalog.md. */
static const s_spec_t s_specs[] = {
    {"ticket.submitted",
     NULL,
     {{"ticket", F_STR, true, 32}, {"received_at", F_INT, false, S_MS}},
     {S_COMMON, "received_at", NULL},
     {NULL}},
    {"ticket.routed",
     "owner",
     {{"ticket", F_STR, true, 32},
      {"owner", F_STR, true, 64},
      {"department", F_STR, false, 32},
      {"first_response_due", F_INT, false, S_MS},
      {"resolve_due", F_INT, false, S_MS}},
     {S_COMMON, "owner", "owner_name", "department", "due", "resolve_due", NULL},
     {NULL}},
    {"ticket.transferred",
     "to",
     {{"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"from", F_STR, false, 64},
      {"reason", F_STR, false, 500}},
     {S_COMMON, "owner", "owner_name", "department", "from_name", "reason", NULL},
     {NULL}},
    {"ticket.escalated",
     "to",
     {{"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"level", F_INT, true, 3},
      {"from", F_STR, false, 64},
      {"reason", F_STR, false, 64}},
     {S_COMMON, "owner", "owner_name", "department", "from_name", "level", "reason", "due",
      "resolve_due", NULL},
     {NULL}},
    {"ticket.resolved",
     NULL,
     {{"ticket", F_STR, true, 32}, {"resolved_at", F_INT, false, S_MS}},
     {S_COMMON, "resolved_at", NULL},
     {NULL}},
    {"ticket.reopened",
     "to",
     {{"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"from", F_STR, false, 64},
      {"reason", F_STR, false, 500},
      {"resolve_due", F_INT, false, S_MS},
      {"score", F_INT, false, 5}},
     {S_COMMON, "owner", "owner_name", "department", "from_name", "reason", "resolve_due", "score",
      NULL},
     {NULL}},
    {"survey.sent",
     NULL,
     {{"survey", F_INT, true, S_MS},
      {"kind", F_STR, true, 16},
      {"ticket", F_STR, false, 32},
      {"homeowner", F_INT, false, S_MS},
      {"milestone", F_STR, false, 64},
      {"project", F_STR, false, 32}},
     {S_COMMON, "survey", "milestone", NULL},
     {NULL}},
    /* Approvals: "to" is the approver (or, at risk, the manager told);
       completed goes to the ticket's owner. */
    {"approval.step_assigned",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"delegate", F_STR, false, S_STAFF_MAX},
      {"label", F_STR, false, S_LABEL_MAX},
      {"type", F_STR, false, 32},
      {"amount_fen", F_INT, false, S_MS},
      {"deadline_at", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "request_type", "amount", "deadline", NULL},
     {NULL}},
    {"approval.step_reminded",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"label", F_STR, false, S_LABEL_MAX},
      {"deadline_at", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "deadline", NULL},
     {NULL}},
    {"approval.step_escalated",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"label", F_STR, false, S_LABEL_MAX},
      {"from", F_STR, false, 64},
      {"action", F_STR, false, 32},
      {"delegate", F_STR, false, S_STAFF_MAX},
      {"by", F_STR, false, 128},
      {"reason", F_STR, false, 500},
      {"deadline_at", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "from_name", "action", "deadline", "by_name", "reason", NULL},
     {"by"}},
    {"approval.at_risk",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"recipients", F_IDS, false, 64},
      {"promised", F_STR, false, 10},
      {"promised_at", F_INT, false, S_MS},
      {"projected_at", F_INT, false, S_MS},
      {"reason", F_STR, false, 500}},
     {S_COMMON, S_APPROVAL, "promised", "projected", "late", "outlook", "ticket_owner", "reason",
      NULL},
     {NULL}},
    /* A step past its deadline that no one is left to take: the people
       who can act, the step's approver and where it has been. */
    {"approval.step_stalled",
     NULL,
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"assigned_to", F_STR, true, S_STAFF_MAX},
      {"label", F_STR, false, S_LABEL_MAX},
      {"step", F_INT, false, S_MS},
      {"stage", F_INT, false, S_MS},
      {"deadline_at", F_INT, false, S_MS},
      {"moved_from", F_IDS, false, 64},
      {"recipients", F_IDS, false, 64}},
     {S_COMMON, "request", "step", "label", "deadline", "approver", "approver_name", "moved_from",
      NULL},
     {"assigned_to", "moved_from"}},
    /* A delegate registered for someone (by themselves or an operator):
       no ticket of its own; the steps it covers, each with its ticket. */
    {"approval.delegate_set",
     NULL,
     {{"staff", F_STR, true, S_STAFF_MAX},
      {"delegate", F_STR, true, S_STAFF_MAX},
      {"to", F_STR, true, S_STAFF_MAX},
      {"from_at", F_INT, false, S_MS},
      {"until_at", F_INT, false, S_MS},
      {"by", F_STR, false, 128},
      {"reason", F_STR, false, 500},
      {"steps", F_ARR, false, 1000}},
     {S_COMMON, "staff", "staff_name", "since", "until", "by_name", "reason", "arranged", "steps",
      "step_count", NULL},
     {"staff", "by"}},
    {"approval.completed",
     "owner",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"owner", F_STR, true, 64},
      {"outcome", F_STR, true, 32},
      {"type", F_STR, false, 32},
      {"amount_fen", F_INT, false, S_MS},
      {"cycle_ms", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "request_type", "amount", "outcome", "cycle", NULL},
     {NULL}},
};

static const s_spec_t *s_spec(const char *type)
{
    for (size_t i = 0; type && i < sizeof s_specs / sizeof s_specs[0]; i++)
        if (strcmp(s_specs[i].type, type) == 0)
            return &s_specs[i];
    return NULL;
}

const char *rules_types_literal(void)
{
    return s_types_literal;
}

bool rules_handles(const char *type)
{
    return s_spec(type) != NULL;
}

const char *const *rules_placeholders(const char *type)
{
    const s_spec_t *spec = s_spec(type);
    return spec ? spec->placeholders : NULL;
}

const char *rules_owner_field(const char *type)
{
    const s_spec_t *spec = s_spec(type);
    return spec ? spec->owner_field : NULL;
}

int rules_check_body(const char *type, const json_t *body, kf_error_t *err)
{
    const s_spec_t *spec = s_spec(type);
    if (!spec)
        return kf_error_set(err, KF_E_UNKNOWN_TYPE, "type", "the notifier has no rule for %s",
                            type ? type : "(none)");
    if (!json_is_object(body))
        return kf_error_set(err, KF_E_WRONG_TYPE, "body", "the body is not an object");
    for (int i = 0; i < S_MAX_FIELDS && spec->fields[i].name; i++) {
        const s_field_t *f = &spec->fields[i];
        const json_t *value = json_object_get(body, f->name);
        if (!value || json_is_null(value)) {
            if (f->required)
                return kf_error_set(err, KF_E_MISSING_FIELD, f->name, "%s needs %s", type, f->name);
            continue;
        }
        if (f->type == F_STR) {
            if (!json_is_string(value))
                return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s is not a string", f->name);
            size_t len = json_string_length(value);
            if ((int64_t)len > f->max)
                return kf_error_set(err, KF_E_TOO_LONG, f->name, "%s is over %" PRId64 " bytes",
                                    f->name, f->max);
            if (f->required && len == 0)
                return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s is empty", f->name);
        } else if (f->type == F_INT) {
            if (!json_is_integer(value))
                return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s is not an integer", f->name);
            json_int_t n = json_integer_value(value);
            if (n < 0 || (int64_t)n > f->max)
                return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s is out of range", f->name);
        } else {
            if (!json_is_array(value))
                return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s is not an array", f->name);
            size_t n = json_array_size(value);
            if ((int64_t)n > f->max)
                return kf_error_set(err, KF_E_TOO_LONG, f->name, "%s has over %" PRId64 " entries",
                                    f->name, f->max);
            for (size_t k = 0; f->type == F_IDS && k < n; k++) {
                const json_t *id = json_array_get(value, k);
                if (!json_is_string(id) || json_string_length(id) == 0 ||
                    json_string_length(id) > S_STAFF_MAX)
                    return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s[%zu] is not a staff id",
                                        f->name, k);
            }
        }
    }
    if (strcmp(type, "approval.delegate_set") == 0) {
        /* Each step covered is shown: its words within their limits. */
        const json_t *steps = json_object_get(body, "steps");
        for (size_t k = 0; json_is_array(steps) && k < json_array_size(steps); k++) {
            const json_t *step = json_array_get(steps, k);
            const json_t *label = json_object_get(step, "label");
            const json_t *ticket = json_object_get(step, "ticket");
            if (!json_is_object(step) ||
                (label && (!json_is_string(label) || json_string_length(label) > S_LABEL_MAX)) ||
                (ticket && (!json_is_string(ticket) || json_string_length(ticket) > 32)))
                return kf_error_set(err, KF_E_BAD_VALUE, "steps",
                                    "steps[%zu] is not a step (label, ticket within limits)", k);
        }
    }
    if (strcmp(type, "survey.sent") == 0) {
        const char *kind = json_string_value(json_object_get(body, "kind"));
        if (strcmp(kind, "resolution") != 0 && strcmp(kind, "campaign") != 0)
            return kf_error_set(err, KF_E_BAD_VALUE, "kind",
                                "kind is neither resolution nor campaign");
        if (!json_is_string(json_object_get(body, "ticket")) &&
            !json_is_integer(json_object_get(body, "homeowner")))
            return kf_error_set(err, KF_E_MISSING_FIELD, "homeowner",
                                "survey.sent names neither a ticket nor a homeowner");
    }
    return 0;
}

/* ---- recipients ------------------------------------------------------ */

static bool s_present(const party_t *p)
{
    return p->id && *p->id;
}

/* True when rule applies to an event with body (its condition, if any). */
static bool s_rule_matches(const rule_t *rule, const char *type, const json_t *body)
{
    if (strcmp(rule->event, type) != 0)
        return false;
    if (!rule->when_field)
        return true;
    const char *value = json_string_value(json_object_get(body, rule->when_field));
    if (rule->when_value && !(value && strcmp(value, rule->when_value) == 0))
        return false;
    return !(rule->unless_value && value && strcmp(value, rule->unless_value) == 0);
}

/* The staff ids body's field holds: an array of them, or one. */
static size_t s_ids_count(const json_t *body, const char *field)
{
    const json_t *value = field ? json_object_get(body, field) : NULL;
    if (json_is_array(value))
        return json_array_size(value);
    return json_is_string(value) && json_string_length(value) > 0 ? 1 : 0;
}

static const char *s_ids_at(const json_t *body, const char *field, size_t i)
{
    const json_t *value = json_object_get(body, field);
    return json_is_array(value) ? json_string_value(json_array_get(value, i))
                                : json_string_value(value);
}

/* The field a WHO_LIST rule reads in body: its list, else its fallback. */
static const char *s_list_field(const rule_t *rule, const json_t *body)
{
    return s_ids_count(body, rule->list_field) > 0 || !rule->list_else ? rule->list_field
                                                                       : rule->list_else;
}

/* Adds the ids of body's field to ids (count of them, at most max), each once. */
static int s_add_ids(const json_t *body, const char *field, const char **ids, int count, int max)
{
    size_t n = s_ids_count(body, field);
    for (size_t i = 0; i < n && count < max; i++) {
        const char *id = s_ids_at(body, field, i);
        bool seen = !id || !*id;
        for (int j = 0; j < count && !seen; j++)
            seen = strcmp(ids[j], id) == 0;
        if (!seen)
            ids[count++] = id;
    }
    return count;
}

int rules_staff_ids(const char *type, const json_t *body, const char **ids, int max)
{
    const s_spec_t *spec = s_spec(type);
    if (!spec || !json_is_object(body))
        return 0;
    int count = 0;
    for (const rule_t *rule = rules_table; rule->event; rule++)
        if (rule->who == WHO_LIST && s_rule_matches(rule, type, body))
            count = s_add_ids(body, s_list_field(rule, body), ids, count, max);
    for (int i = 0; i < S_MAX_NAMES && spec->names[i]; i++)
        count = s_add_ids(body, spec->names[i], ids, count, max);
    return count;
}

/* The staff member id as ctx looked them up, or NULL. */
static const party_t *s_staff(const rule_ctx_t *ctx, const char *id)
{
    for (size_t i = 0; id && i < ctx->staff_count; i++)
        if (ctx->staff[i].id && strcmp(ctx->staff[i].id, id) == 0)
            return &ctx->staff[i];
    return NULL;
}

/* What to call staff member id: their name, else the id as it is (an
   operator is named "operator NAME"). */
static const char *s_staff_name(const rule_ctx_t *ctx, const char *id)
{
    const party_t *p = s_staff(ctx, id);
    return p && p->name && *p->name ? p->name : id;
}

/* Adds party (of kind) for rule to out unless it is there on that channel. */
static int s_add_recipient(recipient_t *out, int count, const rule_t *rule, const char *kind,
                           const party_t *party)
{
    for (int i = 0; i < count; i++)
        if (strcmp(out[i].kind, kind) == 0 && strcmp(out[i].party->id, party->id) == 0 &&
            strcmp(out[i].rule->channel, rule->channel) == 0)
            return count;
    out[count].rule = rule;
    out[count].kind = kind;
    out[count].party = party;
    return count + 1;
}

int rules_recipients(const char *type, const json_t *body, const rule_ctx_t *ctx, recipient_t *out,
                     int max)
{
    if (!rules_handles(type))
        return -1;
    if (ctx->imported)
        return 0;
    int count = 0;
    for (const rule_t *rule = rules_table; rule->event && count < max; rule++) {
        if (!s_rule_matches(rule, type, body))
            continue;
        if (rule->who == WHO_LIST) {
            const char *field = s_list_field(rule, body);
            size_t n = s_ids_count(body, field);
            for (size_t i = 0; i < n && count < max; i++) {
                const party_t *party = s_staff(ctx, s_ids_at(body, field, i));
                if (party && s_present(party))
                    count = s_add_recipient(out, count, rule, "staff", party);
            }
            continue;
        }
        const party_t *party = rule->who == WHO_CUSTOMER ? &ctx->customer
                               : rule->who == WHO_OWNER  ? &ctx->owner
                                                         : &ctx->manager;
        if (!s_present(party))
            continue;
        count = s_add_recipient(out, count, rule, rule->who == WHO_CUSTOMER ? "homeowner" : "staff",
                                party);
    }
    return count;
}

const char *rules_lang(const party_t *party)
{
    return party->lang && kf_model_in(KF_ENUM_LANG, party->lang) ? party->lang : "zh";
}

#define S_NEEDS_MAX 256 /* templates of all rules in all languages, and the end */

const tpl_need_t *rules_template_needs(void)
{
    static tpl_need_t needs[S_NEEDS_MAX];
    static bool made = false;
    if (made)
        return needs;
    size_t count = 0;
    for (const rule_t *rule = rules_table; rule->event; rule++)
        for (int l = 0; kf_langs[l]; l++) {
            assert(count + 1 < S_NEEDS_MAX); /* a defect, not input: raise S_NEEDS_MAX */
            tpl_need_t *need = &needs[count];
            tpl_name(need->name, sizeof need->name, rule->event, rule->variant, rule->channel,
                     kf_langs[l]);
            bool seen = false;
            for (size_t i = 0; i < count && !seen; i++)
                seen = strcmp(needs[i].name, need->name) == 0;
            if (seen)
                continue;
            need->email = strcmp(rule->channel, "email") == 0;
            need->allowed = rules_placeholders(rule->event);
            count++;
        }
    needs[count].name[0] = '\0';
    made = true;
    return needs;
}

void rules_template_name(char *buf, size_t size, const recipient_t *r)
{
    tpl_name(buf, size, r->rule->event, r->rule->variant, r->rule->channel, rules_lang(r->party));
}

bool rules_quiet(const char *kind, const char *channel, bool urgent)
{
    return strcmp(kind, "homeowner") == 0 && strcmp(channel, "sms") == 0 && !urgent;
}

bool rules_urgent(const rule_ctx_t *ctx)
{
    return ctx->priority && strcmp(ctx->priority, "urgent") == 0;
}

/* ---- placeholder values -------------------------------------------------- */

/* code in words of lang, the labels of its enumeration in the wire model
   (proto/model.json); unknown codes stay as they are. */
static const char *s_word(kf_enum_t which, const char *code, const char *lang)
{
    const char *label = kf_model_label(which, code, lang);
    return label ? label : code;
}

void rules_format_time(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm local;
    if (ms <= 0 || !localtime_r(&t, &local) || strftime(buf, size, "%Y-%m-%d %H:%M", &local) == 0)
        snprintf(buf, size, "%s", "");
}

static void s_var(rule_vars_t *out, const char *name, const char *value)
{
    if (out->count < RULES_MAX_VARS) {
        out->vars[out->count].name = name;
        out->vars[out->count].value = value;
        out->count++;
    }
}

/* Copies value into out's store and adds it as name. */
static void s_var_copy(rule_vars_t *out, const char *name, const char *value)
{
    size_t room = sizeof out->store - out->used;
    size_t len = strlen(value);
    if (len + 1 > room) {
        s_var(out, name, "");
        return;
    }
    char *at = out->store + out->used;
    memcpy(at, value, len + 1);
    out->used += len + 1;
    s_var(out, name, at);
}

static void s_var_time(rule_vars_t *out, const char *name, int64_t ms)
{
    char text[32];
    rules_format_time(ms, text, sizeof text);
    s_var_copy(out, name, text);
}

static void s_var_int(rule_vars_t *out, const char *name, const json_t *value)
{
    char text[24] = "";
    if (json_is_integer(value))
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    s_var_copy(out, name, text);
}

static int64_t s_ms(const json_t *body, const char *field, int64_t fallback)
{
    const json_t *value = json_object_get(body, field);
    return json_is_integer(value) ? (int64_t)json_integer_value(value) : fallback;
}

/* Whole yuan with fen, grouped by thousands: 80000.5 yuan -> "80,000.50". */
void rules_format_amount(int64_t fen, char *buf, size_t size)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRId64, (fen < 0 ? -fen : fen) / 100);
    size_t n = strlen(digits), used = 0;
    if (fen < 0 && used + 1 < size)
        buf[used++] = '-';
    for (size_t i = 0; i < n && used + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[used++] = ',';
        buf[used++] = digits[i];
    }
    snprintf(buf + used, size - used, ".%02" PRId64, (fen < 0 ? -fen : fen) % 100);
}

/* A duration of ms >= 0 in lang: "3d 4h 5m" (or "4h 5m", "5m"), in
   Chinese "3天4小时5分钟" (or "4小时5分钟", "5分钟"). */
static void s_format_duration(int64_t ms, const char *lang, char *buf, size_t size)
{
    bool en = strcmp(lang, "en") == 0;
    const char *day = en ? "d " : "天", *hour = en ? "h " : "小时", *minute = en ? "m" : "分钟";
    int64_t m = ms / 60000;
    int64_t d = m / 1440, h = m / 60 % 24;
    if (d > 0)
        snprintf(buf, size, "%" PRId64 "%s%" PRId64 "%s%" PRId64 "%s", d, day, h, hour, m % 60,
                 minute);
    else if (h > 0)
        snprintf(buf, size, "%" PRId64 "%s%" PRId64 "%s", h, hour, m % 60, minute);
    else
        snprintf(buf, size, "%" PRId64 "%s", m % 60, minute);
}

static void s_var_duration(rule_vars_t *out, const char *name, const json_t *value,
                           const char *lang)
{
    char text[48] = "";
    if (json_is_integer(value) && json_integer_value(value) >= 0)
        s_format_duration((int64_t)json_integer_value(value), lang, text, sizeof text);
    s_var_copy(out, name, text);
}

/* The date promised to the homeowner, YYYY-MM-DD: the event's `promised`
   when it has one, else the day promised_at ends (promised_at is the
   next local midnight, so the day of the millisecond before it). */
static void s_var_promised(rule_vars_t *out, const json_t *body)
{
    const char *given = json_string_value(json_object_get(body, "promised"));
    char text[16] = "";
    int64_t end = s_ms(body, "promised_at", 0);
    if (given && strlen(given) == 10 && strspn(given, "0123456789-") == 10 && given[4] == '-' &&
        given[7] == '-')
        snprintf(text, sizeof text, "%s", given);
    else if (end > 0) {
        time_t t = (time_t)((end - 1) / 1000);
        struct tm local;
        if (!localtime_r(&t, &local) || strftime(text, sizeof text, "%Y-%m-%d", &local) == 0)
            text[0] = '\0';
    }
    s_var_copy(out, "promised", text);
}

/* approval.at_risk in words of lang: when the remaining steps' deadlines
   would end and how long after the promised date (`outlook`, `late`), or,
   with no such time (a step past its deadline with no one to move it
   to), that the request is stalled. */
static void s_var_outlook(rule_vars_t *out, const json_t *body, const char *lang)
{
    bool en = strcmp(lang, "en") == 0;
    int64_t projected = s_ms(body, "projected_at", 0), promised = s_ms(body, "promised_at", 0);
    char text[400], when[32], late[48] = "";
    if (projected > 0) {
        rules_format_time(projected, when, sizeof when);
        if (promised > 0 && projected > promised)
            s_format_duration(projected - promised, lang, late, sizeof late);
        if (late[0])
            snprintf(text, sizeof text,
                     en ? "By the deadlines of its remaining steps it would complete only at %s, "
                          "%s after the promised date."
                        : "按剩余步骤的期限推算，最晚将于 %s 才能完成，比承诺日期晚 %s。",
                     when, late);
        else
            snprintf(text, sizeof text,
                     en ? "By the deadlines of its remaining steps it would complete only at %s."
                        : "按剩余步骤的期限推算，最晚将于 %s 才能完成。",
                     when);
    } else
        snprintf(text, sizeof text, "%s",
                 en ? "A step passed its deadline and has no one to move it to: the request "
                      "is stalled."
                    : "有步骤已过处理期限且无人可转交，审批已停滞。");
    s_var_copy(out, "outlook", text);
    s_var_copy(out, "late", late);
}

/* Staff ids of body's field by name, joined in lang ("郑国强、周明" /
   "郑国强, 周明"); none reads as such. */
static void s_var_names(rule_vars_t *out, const char *name, const json_t *body, const char *field,
                        const rule_ctx_t *ctx, const char *lang)
{
    bool en = strcmp(lang, "en") == 0;
    char text[1024] = "";
    size_t used = 0, n = s_ids_count(body, field);
    for (size_t i = 0; i < n && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%s",
                                 i == 0 ? ""
                                 : en   ? ", "
                                        : "、",
                                 s_staff_name(ctx, s_ids_at(body, field, i)));
    s_var_copy(out, name, n > 0 ? text : en ? "no one" : "无");
}

#define S_MAX_LISTED 20 /* steps a delegate's mail lists one by one */

/* approval.delegate_set's steps, one line each, in words of lang. */
static void s_var_steps(rule_vars_t *out, const json_t *steps, const char *lang)
{
    bool en = strcmp(lang, "en") == 0;
    char text[4096] = "";
    size_t used = 0, n = json_is_array(steps) ? json_array_size(steps) : 0;
    for (size_t i = 0; i < n && i < S_MAX_LISTED && used < sizeof text; i++) {
        const json_t *step = json_array_get(steps, i);
        const char *ticket = json_string_value(json_object_get(step, "ticket"));
        const char *label = json_string_value(json_object_get(step, "label"));
        json_int_t request = json_integer_value(json_object_get(step, "request"));
        char due[32];
        rules_format_time(s_ms(step, "deadline_at", 0), due, sizeof due);
        used += (size_t)snprintf(
            text + used, sizeof text - used,
            en ? "%s- ticket %s, approval request #%" JSON_INTEGER_FORMAT ", step \"%s\", due %s"
               : "%s- 工单 %s，审批请求 #%" JSON_INTEGER_FORMAT "，步骤“%s”，处理期限 %s",
            i == 0 ? "" : "\n", ticket ? ticket : "-", request, label ? label : "-",
            due[0] ? due : "-");
    }
    if (n > S_MAX_LISTED && used < sizeof text)
        snprintf(text + used, sizeof text - used,
                 en ? "\n- and %zu more: kefu approvals" : "\n- 另有 %zu 项：kefu approvals",
                 n - S_MAX_LISTED);
    if (n == 0)
        snprintf(text, sizeof text, "%s",
                 en ? "- none pending now; you will be told of each new one as it starts"
                    : "- 目前没有待处理的步骤；此后新到的步骤会逐一通知您");
    s_var_copy(out, "steps", text);
    char count[24];
    snprintf(count, sizeof count, "%zu", n);
    s_var_copy(out, "step_count", count);
}

/* approval.delegate_set: who arranged the cover, and why, as a sentence. */
static void s_var_arranged(rule_vars_t *out, const json_t *body, const rule_ctx_t *ctx,
                           const char *lang)
{
    bool en = strcmp(lang, "en") == 0;
    const char *staff = json_string_value(json_object_get(body, "staff"));
    const char *by = json_string_value(json_object_get(body, "by"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    const char *who = s_staff_name(ctx, by), *whom = s_staff_name(ctx, staff);
    bool why = reason && *reason;
    char text[800] = "";
    if (!by)
        text[0] = '\0';
    else if (staff && strcmp(by, staff) == 0)
        snprintf(text, sizeof text,
                 en ? "%s registered this cover themselves." : "这项代理由%s本人登记。", whom);
    else if (en)
        snprintf(text, sizeof text, "%s registered this cover for %s%s%s", who, whom,
                 why ? "; reason: " : ".", why ? reason : "");
    else
        snprintf(text, sizeof text, "登记人：%s%s%s", who, why ? "；原因：" : "。",
                 why ? reason : "");
    s_var_copy(out, "arranged", text);
}

/* The placeholders of the events that name staff beyond the one addressed. */
static void s_staff_vars(rule_vars_t *out, const char *type, const json_t *body,
                         const rule_ctx_t *ctx, const char *lang)
{
    const char *by = json_string_value(json_object_get(body, "by"));
    if (strcmp(type, "approval.step_escalated") == 0)
        s_var(out, "by_name", by ? s_staff_name(ctx, by) : NULL);
    else if (strcmp(type, "approval.step_stalled") == 0) {
        const char *approver = json_string_value(json_object_get(body, "assigned_to"));
        s_var_int(out, "step", json_object_get(body, "step"));
        s_var(out, "approver", approver);
        s_var(out, "approver_name", s_staff_name(ctx, approver));
        s_var_names(out, "moved_from", body, "moved_from", ctx, lang);
    } else if (strcmp(type, "approval.delegate_set") == 0) {
        const char *staff = json_string_value(json_object_get(body, "staff"));
        s_var(out, "staff", staff);
        s_var(out, "staff_name", s_staff_name(ctx, staff));
        s_var_time(out, "since", s_ms(body, "from_at", 0));
        s_var_time(out, "until", s_ms(body, "until_at", 0));
        s_var(out, "by_name", by ? s_staff_name(ctx, by) : NULL);
        s_var_arranged(out, body, ctx, lang);
        s_var_steps(out, json_object_get(body, "steps"), lang);
    }
}

/* The placeholders of the approval events (the request's own facts). */
static void s_approval_vars(rule_vars_t *out, const char *type, const json_t *body,
                            const char *lang)
{
    s_var_int(out, "request", json_object_get(body, "request"));
    s_var(out, "label", json_string_value(json_object_get(body, "label")));
    s_var(out, "request_type",
          s_word(KF_ENUM_REQUEST_TYPE, json_string_value(json_object_get(body, "type")), lang));
    const json_t *fen = json_object_get(body, "amount_fen");
    char amount[40] = "";
    if (json_is_integer(fen))
        rules_format_amount((int64_t)json_integer_value(fen), amount, sizeof amount);
    s_var_copy(out, "amount", amount);
    s_var_time(out, "deadline", s_ms(body, "deadline_at", 0));
    s_var_promised(out, body);
    s_var_time(out, "projected", s_ms(body, "projected_at", 0));
    if (strcmp(type, "approval.at_risk") == 0) {
        s_var_outlook(out, body, lang);
        s_var(out, "ticket_owner", json_string_value(json_object_get(body, "owner")));
    }
    s_var(
        out, "outcome",
        s_word(KF_ENUM_REQUEST_STATUS, json_string_value(json_object_get(body, "outcome")), lang));
    s_var(out, "action",
          s_word(KF_ENUM_MOVE_ACTION, json_string_value(json_object_get(body, "action")), lang));
    s_var_duration(out, "cycle", json_object_get(body, "cycle_ms"), lang);
}

void rules_vars(rule_vars_t *out, const char *type, const json_t *body, const rule_ctx_t *ctx,
                const recipient_t *r)
{
    memset(out, 0, sizeof *out);
    const char *lang = rules_lang(r->party);
    bool en = strcmp(lang, "en") == 0;
    const char *someone = en ? "homeowner" : "业主";
    const char *ticket =
        ctx->ticket ? ctx->ticket : json_string_value(json_object_get(body, "ticket"));
    s_var(out, "ticket", ticket ? ticket : "");
    s_var(out, "summary", ctx->summary);
    s_var(out, "project", ctx->project_name ? ctx->project_name : ctx->project);
    s_var(out, "project_code", ctx->project);
    s_var(out, "kind", s_word(KF_ENUM_KIND, ctx->kind, lang));
    s_var(out, "category", s_word(KF_ENUM_CATEGORY, ctx->category, lang));
    s_var(out, "priority", s_word(KF_ENUM_PRIORITY, ctx->priority, lang));
    s_var(out, "customer_name",
          ctx->customer.name && *ctx->customer.name ? ctx->customer.name : someone);
    bool staff = strcmp(r->kind, "staff") == 0;
    s_var(out, "recipient_name",
          r->party->name && *r->party->name ? r->party->name
          : staff                           ? r->party->id
                                            : someone);

    const char *owner_field = rules_owner_field(type);
    if (owner_field) {
        s_var(out, "owner", json_string_value(json_object_get(body, owner_field)));
        s_var(out, "owner_name", ctx->owner.name ? ctx->owner.name : ctx->owner.id);
        s_var(out, "department", en ? ctx->department_en : ctx->department_zh);
        const char *from = json_string_value(json_object_get(body, "from"));
        s_var(out, "from_name", ctx->from_name ? ctx->from_name : from);
    }
    s_var_time(out, "due", s_ms(body, "first_response_due", ctx->first_response_due));
    s_var_time(out, "resolve_due", s_ms(body, "resolve_due", ctx->resolve_due));
    s_var_time(out, "received_at", s_ms(body, "received_at", 0));
    s_var_time(out, "resolved_at", s_ms(body, "resolved_at", 0));
    s_var_int(out, "level", json_object_get(body, "level"));
    s_var_int(out, "score", json_object_get(body, "score"));
    s_var_int(out, "survey", json_object_get(body, "survey"));
    s_var(out, "milestone",
          s_word(KF_ENUM_MILESTONE, json_string_value(json_object_get(body, "milestone")), lang));
    /* A reason is a code (a deadline) except where a person gave it. */
    const char *reason = json_string_value(json_object_get(body, "reason"));
    const char *action = json_string_value(json_object_get(body, "action"));
    bool coded =
        strcmp(type, "ticket.escalated") == 0 || (strcmp(type, "approval.step_escalated") == 0 &&
                                                  !(action && strcmp(action, "reassign") == 0));
    s_var(out, "reason",
          coded ? s_word(strcmp(type, "ticket.escalated") == 0 ? KF_ENUM_ESCALATION_REASON
                                                               : KF_ENUM_MOVE_REASON,
                         reason, lang)
                : reason);
    if (strncmp(type, "approval.", 9) == 0) {
        s_approval_vars(out, type, body, lang);
        s_staff_vars(out, type, body, ctx, lang);
    }
}
