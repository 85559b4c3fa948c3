/* notifier — the rule table and what each event type must carry (see rules.h). */
#include "rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const rule_t rules_table[] = {
    {"ticket.submitted", WHO_CUSTOMER, "sms", NULL, NULL, NULL},
    {"ticket.routed", WHO_CUSTOMER, "sms", NULL, NULL, NULL},
    {"ticket.routed", WHO_OWNER, "email", NULL, NULL, NULL},
    {"ticket.transferred", WHO_OWNER, "email", NULL, NULL, NULL},
    {"ticket.escalated", WHO_OWNER, "email", NULL, NULL, NULL},
    {"ticket.escalated", WHO_MANAGER, "email", "manager", NULL, NULL},
    {"ticket.resolved", WHO_CUSTOMER, "sms", NULL, NULL, NULL},
    {"ticket.reopened", WHO_OWNER, "email", NULL, NULL, NULL},
    {"survey.sent", WHO_CUSTOMER, "sms", NULL, "kind", "resolution"},
    {"survey.sent", WHO_CUSTOMER, "sms", "campaign", "kind", "campaign"},
    /* Approvals (services/approval): the staff member the event names in
       its owner field (s_specs), by e-mail. */
    {"approval.step_assigned", WHO_OWNER, "email", NULL, NULL, NULL},
    {"approval.step_reminded", WHO_OWNER, "email", NULL, NULL, NULL},
    {"approval.step_escalated", WHO_OWNER, "email", NULL, NULL, NULL},
    {"approval.at_risk", WHO_OWNER, "email", NULL, NULL, NULL},
    {"approval.completed", WHO_OWNER, "email", NULL, NULL, NULL},
    {NULL, WHO_CUSTOMER, NULL, NULL, NULL, NULL}};

const char *const rules_langs[] = {"zh", "en", NULL};

static const char s_types_literal[] = "{ticket.submitted,ticket.routed,ticket.transferred,"
                                      "ticket.escalated,ticket.resolved,ticket.reopened,"
                                      "survey.sent,approval.step_assigned,"
                                      "approval.step_reminded,approval.step_escalated,"
                                      "approval.at_risk,approval.completed}";

/* ---- what each event type must carry ------------------------------------ */

typedef enum { F_STR, F_INT } s_ftype_t;

typedef struct {
    const char *name;
    s_ftype_t type;
    bool required;
    int64_t max; /* bytes of a string; largest value of an int */
} s_field_t;

#define S_MAX_FIELDS 8
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
} s_spec_t;

/* Limits from proto/catalog.md. */
static const s_spec_t s_specs[] = {
    {"ticket.submitted",
     NULL,
     {{"ticket", F_STR, true, 32}, {"received_at", F_INT, false, S_MS}},
     {S_COMMON, "received_at", NULL}},
    {"ticket.routed",
     "owner",
     {{"ticket", F_STR, true, 32},
      {"owner", F_STR, true, 64},
      {"department", F_STR, false, 32},
      {"first_response_due", F_INT, false, S_MS},
      {"resolve_due", F_INT, false, S_MS}},
     {S_COMMON, "owner", "owner_name", "department", "due", "resolve_due", NULL}},
    {"ticket.transferred",
     "to",
     {{"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"from", F_STR, false, 64},
      {"reason", F_STR, false, 500}},
     {S_COMMON, "owner", "owner_name", "department", "from_name", "reason", NULL}},
    {"ticket.escalated",
     "to",
     {{"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"level", F_INT, true, 3},
      {"from", F_STR, false, 64},
      {"reason", F_STR, false, 64}},
     {S_COMMON, "owner", "owner_name", "department", "from_name", "level", "reason", "due",
      "resolve_due", NULL}},
    {"ticket.resolved",
     NULL,
     {{"ticket", F_STR, true, 32}, {"resolved_at", F_INT, false, S_MS}},
     {S_COMMON, "resolved_at", NULL}},
    {"ticket.reopened",
     "to",
     {{"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"from", F_STR, false, 64},
      {"reason", F_STR, false, 500},
      {"resolve_due", F_INT, false, S_MS},
      {"score", F_INT, false, 5}},
     {S_COMMON, "owner", "owner_name", "department", "from_name", "reason", "resolve_due", "score",
      NULL}},
    {"survey.sent",
     NULL,
     {{"survey", F_INT, true, S_MS},
      {"kind", F_STR, true, 16},
      {"ticket", F_STR, false, 32},
      {"homeowner", F_INT, false, S_MS},
      {"milestone", F_STR, false, 64},
      {"project", F_STR, false, 32}},
     {S_COMMON, "survey", "milestone", NULL}},
    /* Approvals: "to" is the approver (or, at risk, the manager told);
       completed goes to the ticket's owner. */
    {"approval.step_assigned",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"label", F_STR, false, 64},
      {"type", F_STR, false, 32},
      {"amount_fen", F_INT, false, S_MS},
      {"deadline_at", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "request_type", "amount", "deadline", NULL}},
    {"approval.step_reminded",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"label", F_STR, false, 64},
      {"deadline_at", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "deadline", NULL}},
    {"approval.step_escalated",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"label", F_STR, false, 64},
      {"from", F_STR, false, 64},
      {"action", F_STR, false, 32},
      {"deadline_at", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "from_name", "action", "deadline", NULL}},
    {"approval.at_risk",
     "to",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"to", F_STR, true, 64},
      {"promised_at", F_INT, false, S_MS},
      {"projected_at", F_INT, false, S_MS},
      {"reason", F_STR, false, 500}},
     {S_COMMON, S_APPROVAL, "promised", "projected", "late", "outlook", "ticket_owner", "reason",
      NULL}},
    {"approval.completed",
     "owner",
     {{"request", F_INT, true, S_MS},
      {"ticket", F_STR, true, 32},
      {"owner", F_STR, true, 64},
      {"outcome", F_STR, true, 32},
      {"type", F_STR, false, 32},
      {"amount_fen", F_INT, false, S_MS},
      {"cycle_ms", F_INT, false, S_MS}},
     {S_COMMON, S_APPROVAL, "request_type", "amount", "outcome", "cycle", NULL}},
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
        } else {
            if (!json_is_integer(value))
                return kf_error_set(err, KF_E_WRONG_TYPE, f->name, "%s is not an integer", f->name);
            json_int_t n = json_integer_value(value);
            if (n < 0 || (int64_t)n > f->max)
                return kf_error_set(err, KF_E_BAD_VALUE, f->name, "%s is out of range", f->name);
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
    return value && strcmp(value, rule->when_value) == 0;
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
        const party_t *party = rule->who == WHO_CUSTOMER ? &ctx->customer
                               : rule->who == WHO_OWNER  ? &ctx->owner
                                                         : &ctx->manager;
        if (!s_present(party))
            continue;
        const char *kind = rule->who == WHO_CUSTOMER ? "homeowner" : "staff";
        bool seen = false;
        for (int i = 0; i < count && !seen; i++)
            seen = strcmp(out[i].kind, kind) == 0 && strcmp(out[i].party->id, party->id) == 0 &&
                   strcmp(out[i].rule->channel, rule->channel) == 0;
        if (seen)
            continue;
        out[count].rule = rule;
        out[count].kind = kind;
        out[count].party = party;
        count++;
    }
    return count;
}

const char *rules_lang(const party_t *party)
{
    return party->lang && strcmp(party->lang, "en") == 0 ? "en" : "zh";
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

/* An English code and its Chinese words. */
typedef struct {
    const char *code;
    const char *zh;
    const char *en;
} s_word_t;

static const s_word_t s_words[] = {
    {"complaint", "投诉", "complaint"},
    {"repair", "报修", "repair request"},
    {"inquiry", "咨询", "inquiry"},
    {"suggestion", "建议", "suggestion"},
    {"praise", "表扬", "praise"},
    {"leak", "渗漏", "leak"},
    {"crack", "裂缝", "crack"},
    {"heating", "暖气", "heating"},
    {"doors-windows", "门窗", "doors and windows"},
    {"electrical", "电气", "electrical"},
    {"plumbing", "给排水", "plumbing"},
    {"property-service", "物业服务", "property service"},
    {"sales-promise", "销售承诺", "sales promise"},
    {"design", "设计规划", "design and planning"},
    {"other", "其他", "other"},
    {"normal", "普通", "normal"},
    {"high", "高", "high"},
    {"urgent", "紧急", "urgent"},
    {"first_response_overdue", "首次响应超时", "first response overdue"},
    {"resolution_overdue", "解决超时", "resolution overdue"},
    {"move-in", "入住", "move-in"},
    {"revisit-4y", "四年回访", "four-year revisit"},
    {"settlement", "和解赔偿", "settlement"},
    {"repair_cost", "维修费用", "repair cost"},
    {"refund", "退款", "refund"},
    {"policy_exception", "政策例外", "policy exception"},
    {"approved", "已批准", "approved"},
    {"rejected", "已驳回", "rejected"},
    {"delegate", "转交代理人", "passed to the delegate"},
    {"escalate", "上报上级", "escalated to the manager"},
    {"fallback", "转交政策指定的后备审批人", "passed to the policy's fallback approver"},
    {"admin", "转交审批管理员", "passed to the approval administrator"},
    {"reassign", "改派", "reassigned"},
    {NULL, NULL, NULL}};

/* code in words of lang; unknown codes stay as they are. */
static const char *s_word(const char *code, const char *lang)
{
    if (!code)
        return NULL;
    for (const s_word_t *w = s_words; w->code; w++)
        if (strcmp(w->code, code) == 0)
            return strcmp(lang, "en") == 0 ? w->en : w->zh;
    return code;
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

/* The placeholders of the approval events (the request's own facts). */
static void s_approval_vars(rule_vars_t *out, const char *type, const json_t *body,
                            const char *lang)
{
    s_var_int(out, "request", json_object_get(body, "request"));
    s_var(out, "label", json_string_value(json_object_get(body, "label")));
    s_var(out, "request_type", s_word(json_string_value(json_object_get(body, "type")), lang));
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
    s_var(out, "outcome", s_word(json_string_value(json_object_get(body, "outcome")), lang));
    s_var(out, "action", s_word(json_string_value(json_object_get(body, "action")), lang));
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
    s_var(out, "kind", s_word(ctx->kind, lang));
    s_var(out, "category", s_word(ctx->category, lang));
    s_var(out, "priority", s_word(ctx->priority, lang));
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
    s_var(out, "milestone", s_word(json_string_value(json_object_get(body, "milestone")), lang));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    s_var(out, "reason", strcmp(type, "ticket.escalated") == 0 ? s_word(reason, lang) : reason);
    if (strncmp(type, "approval.", 9) == 0)
        s_approval_vars(out, type, body, lang);
}
