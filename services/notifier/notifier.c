/* notifier — consuming events into notifications, and sending them (see notifier.h). */
#include "notifier.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "channels.h"
#include "consumer.h"
#include "envelope.h"
#include "feed.h"
#include "health.h"
#include "log.h"
#include "phone.h"
#include "rules.h"
#include "schedule.h"
#include "outbox.h"
#include "stop.h"
#include "store.h"
#include "templates.h"

#define S_SRC "notifier"
#define S_CONSUMER "notifier"
#define S_MAX_RECIPIENTS 80 /* a warning goes to everyone who can act */
#define S_MAX_STAFF 80      /* staff one event names (rules_staff_ids) */
#define S_MAX_BATCH 1000
#define S_MAX_CLAIMED 4096 /* messages inserted claimed and not yet sent */
#define S_LANES_MAX 4      /* KEFU_NOTIFY_CONNECTIONS */
/* The columns of a message to send (s_note_from_row). */
#define S_NOTE_COLUMNS                                                                             \
    "id, event_id, event_type, coalesce(ticket_no, ''), recipient_kind, recipient_id, channel, "   \
    "coalesce(address, ''), lang, coalesce(subject, ''), body, urgent, attempts, interrupted"

#ifndef KEFU_TEMPLATE_DIR
#define KEFU_TEMPLATE_DIR "deploy/templates"
#endif

const kf_setting_t notifier_settings[] = {
    KF_SETTINGS_COMMON,
    KF_SETTINGS_HEALTH(KF_METRICS_PORT_NOTIFIER),
    {.name = "KEFU_NOTIFY_TEMPLATES",
     .def = KEFU_TEMPLATE_DIR,
     .type = KF_TYPE_PATH,
     .reloadable = true,
     .help = "directory of the message templates",
     .shown = "the source tree's `deploy/templates`"},
    {.name = "KEFU_NOTIFY_FILE",
     .def = "",
     .type = KF_TYPE_PATH,
     .reloadable = true, /* reopened: a rotated file is let go */
     .help = "file channel: append one JSON line per message here (channels without endpoint "
             "use it)"},
    KF_SET_TZ("KEFU_NOTIFY_TZ", "Asia/Shanghai",
              "time zone of quiet hours and of times in messages"),
    KF_SET_STRING("KEFU_NOTIFY_QUIET_HOURS", "22:00-08:00",
                  "no SMS to owners in this local window unless urgent (HH:MM-HH:MM, or off)"),
    KF_SET_INT("KEFU_NOTIFY_MAX_ATTEMPTS", "8", 1, 100, "attempts before a notification is failed"),
    KF_SET_INT("KEFU_NOTIFY_BACKOFF_MS", "1000", 1, 86400000,
               "delay after the first failed attempt (ms)"),
    KF_SET_INT("KEFU_NOTIFY_BACKOFF_FACTOR", "2", 1, 10,
               "each further delay is this many times longer"),
    KF_SET_INT("KEFU_NOTIFY_BACKOFF_MAX_MS", "3600000", 1, 604800000,
               "longest delay between attempts (ms)"),
    KF_SET_INT("KEFU_NOTIFY_BATCH", "50", 1, S_MAX_BATCH, "most events applied per transaction"),
    KF_SET_INT("KEFU_NOTIFY_CONNECTIONS", "0", 0, S_LANES_MAX,
               "store connections applying fresh events, each while the store flushes another's "
               "commit, besides the one of catch-up and sending (0: that one applies them; 2 "
               "pays only where commits are slow, e.g. a synchronous replica)"),
    KF_SET_INT("KEFU_NOTIFY_SEND_BATCH", "20", 1, S_MAX_BATCH,
               "most notifications one instance claims (or reads back, when inserted "
               "claimed) and sends at a time"),
    KF_SET_INT("KEFU_NOTIFY_CATCHUP_MS", "1000", 10, 3600000,
               "how often the outbox is read for events the bus missed (ms)"),
    KF_SET_INT("KEFU_NOTIFY_POLL_MS", "200", 10, 60000,
               "how often due notifications (retries, held) are looked for (ms)"),
    KF_SET_INT("KEFU_NOTIFY_RECLAIM_GRACE_MS", "2000", 100, 3600000,
               "a claim whose notifier's connection is gone is sent again after this long (ms)"),
    KF_SET_INT("KEFU_NOTIFY_CLAIM_TIMEOUT_MS", "900000", 1000, 86400000,
               "a claim is sent again after this long whatever its notifier's state (ms); must "
               "exceed KEFU_NOTIFY_SEND_BATCH x the longest send timeout + 10 s"),
    KF_SET_URL("KEFU_SMS_URL", "", "http|https",
               "SMS gateway endpoint (POST JSON {to, text, id}); empty: file channel"),
    KF_SET_STRING("KEFU_SMS_TOKEN", "", "bearer token sent to the SMS gateway"),
    KF_SET_STRING("KEFU_SMS_ID_PREFIX", "kefu-",
                  "the gateway's id is this prefix and the notification id"),
    KF_SET_INT("KEFU_SMS_TIMEOUT_MS", "5000", 100, 600000,
               "bound on one request to the SMS gateway (ms)"),
    KF_SET_URL("KEFU_SMTP_URL", "", "smtp|smtps", "SMTP server; empty: file channel"),
    KF_SET_STRING("KEFU_SMTP_USER", "", "SMTP user name (empty: no authentication)"),
    KF_SET_STRING("KEFU_SMTP_PASSWORD", "", "SMTP password"),
    KF_SET_STRING("KEFU_SMTP_FROM", "notify@kefu.example", "sender address of e-mail"),
    KF_SET_STRING("KEFU_SMTP_FROM_NAME", "kefu 客服中心", "sender name of e-mail"),
    KF_SET_INT("KEFU_SMTP_TIMEOUT_MS", "10000", 100, 600000, "bound on one SMTP conversation (ms)"),
    KF_SETTINGS_END};

/* Figures logged in notifier.stats. */
typedef struct {
    uint64_t events, created, skipped_imported, bad_messages, bad_events;
    uint64_t sent, retried, failed, held, reclaimed, recognised;
} s_stats_t;

/* A store connection applying bursts of events, and the messages its open
   transaction inserted claimed, to be sent once it commits (lane 0 is the
   notifier's own store, which also serves catch-up and sending; the others
   take fresh events from the consumer while the store flushes the last
   commit: kf_consumer_add_lane). */
typedef struct {
    notifier_t *notifier;
    kf_outbox_t *outbox;
    int64_t *claimed_ids; /* S_MAX_CLAIMED places */
    long claimed_count;
} s_lane_t;

struct notifier {
    kf_store_t *store;
    zsock_t *doorbell;       /* SUB: the events of the rule table */
    zsock_t *events;         /* PUB: notification.sent / notification.failed */
    kf_outbox_t *outbox;     /* events to publish after commit */
    kf_consumer_t *consumer; /* the events of the rule table: doorbell and catch-up */
    tpl_set_t *templates;
    channels_t *channels;
    kf_health_t *health;   /* /metrics, /health and the heartbeat (common/health.h) */
    kf_metric_t *outcomes; /* kefu_notifications_total{channel, outcome} */
    quiet_hours_t quiet;
    backoff_t backoff;
    char token[96];  /* this instance, in notification.claimed_by */
    char *unsettled; /* results of sends not yet recorded (JSON), or NULL */
    /* Messages this instance inserted claimed (kefu_notify_insert) and
       committed, to send next, send_batch at a time (those of a transaction
       not yet committed wait in its lane: s_on_commit). At most
       S_MAX_CLAIMED with the lanes' together. */
    int64_t *claimed_ids;
    long claimed_count;
    long fresh_ms;                   /* a message claimed longer ago is left to the reclaim */
    int64_t next_claim;              /* when the due messages are claimed at the latest */
    bool claim_soon;                 /* due messages were inserted unclaimed: the list was full */
    s_lane_t lanes[1 + S_LANES_MAX]; /* lane 0: store and outbox above */
    int lane_count;
    long max_attempts, batch, send_batch, catchup_ms, poll_ms, grace_ms, claim_timeout_ms;
    int64_t next_catchup, next_reclaim, next_stats;
    s_stats_t stats, logged;
};

static void s_prepare(kf_store_t *store)
{
    /* What a burst's events need (s_read): per event (its place i), the
       ticket's context and the homeowner a survey addresses, each found
       by its key whatever the burst's size (OFFSET 0: probed per event,
       never a scan of the table). */
    kf_store_statement(store, "notify_contexts",
                       "SELECT u.i, c.*, o.* "
                       "FROM jsonb_to_recordset($1::jsonb) AS u (i int, ticket text, staff text, "
                       "\"from\" text, homeowner bigint, project text) "
                       "LEFT JOIN LATERAL kefu_notify_context(u.ticket, u.staff, u.\"from\") c "
                       "ON true LEFT JOIN LATERAL (SELECT h.id::text, h.name, h.phone, h.lang, "
                       "hp.name FROM homeowner h LEFT JOIN project hp ON hp.id = u.project "
                       "WHERE h.id = u.homeowner OFFSET 0) o ON true");
    kf_store_statement(store, "notify_staff",
                       "SELECT s.id, s.name, s.email, s.lang FROM staff s "
                       "WHERE s.id IN (SELECT jsonb_array_elements_text($1::jsonb))");
    kf_store_statement(store, "notify_insert",
                       "SELECT " KF_EVENT_COLUMNS ", claimed "
                       "FROM kefu_notify_insert($1::jsonb, $2, $3, $4::int)");
    kf_store_statement(store, "notify_claim",
                       "SELECT " S_NOTE_COLUMNS " FROM kefu_notify_claim($1::int, $2)");
    /* The messages of ids this instance inserted claimed (kefu_notify_insert)
       that are still its own and unsettled (not those a savepoint undid,
       nor those the reclaim put back), claimed less than $3 ms ago. A read
       by key: it writes nothing. */
    kf_store_statement(store, "notify_claimed",
                       "SELECT " S_NOTE_COLUMNS " FROM notification "
                       "WHERE id = ANY ($1::bigint[]) AND status = 'sending' AND claimed_by = $2 "
                       "AND claimed_at > clock_timestamp() - make_interval(secs => $3::bigint / "
                       "1000.0) ORDER BY id");
    kf_store_statement(store, "notify_settle",
                       "SELECT " KF_EVENT_COLUMNS " FROM kefu_notify_settle($1::jsonb, $2, $3)");
    kf_store_statement(store, "notify_reclaim",
                       "SELECT kefu_notify_reclaim($1::bigint, $2::bigint)");
    kf_store_statement(store, "notify_backlog",
                       "SELECT count(*) FROM notification WHERE sent_at IS NULL "
                       "AND failed_at IS NULL AND status = 'pending' "
                       "AND next_attempt_at <= clock_timestamp()");
}

/* ---- masking addresses for logs --------------------------------------------- */

/* A phone as 138****8000, an e-mail as e***@kefu.example. */
static const char *s_mask(const char *channel, const char *address, char *buf, size_t size)
{
    if (!address || !*address)
        return "-";
    if (strcmp(channel, "sms") == 0)
        return kf_phone_mask(address, buf, size);
    const char *at = strrchr(address, '@');
    snprintf(buf, size, "%c***@%s", address[0], at ? at + 1 : "");
    return buf;
}

/* ---- consuming: events into notifications ---------------------------------- */

/* A burst's events are applied set-based: one statement reads what the
   store knows around all of them (notify_contexts), one the staff they
   name (notify_staff, when any), the rules and templates run in memory
   per event, and one statement inserts every message of the burst
   (notify_insert). An event that cannot be used leaves no message. */

/* Where the columns of a notify_contexts row start: the event's place,
   kefu_notify_context's 27 columns, then the homeowner the body names
   (id, name, phone, lang, project name). */
#define S_COL_CTX 1
#define S_COL_HOMEOWNER 28

/* What the store knows around the events of a burst (s_read). */
typedef struct {
    PGresult *ctx;   /* notify_contexts: a row per usable event, its place in column 0 */
    PGresult *staff; /* notify_staff: the staff the burst names, or NULL */
    int *row;        /* per event: its row in ctx, or -1 */
} s_known_t;

/* The text at (row, col) of res, or NULL for SQL NULL. */
static const char *s_value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* The integer at (row, col) of res (ms), or 0 for SQL NULL. */
static int64_t s_ms_value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A party from the four columns id, name, address, lang from col on. */
static party_t s_party(const PGresult *res, int row, int col)
{
    return (party_t){s_value(res, row, col), s_value(res, row, col + 1), s_value(res, row, col + 2),
                     s_value(res, row, col + 3)};
}

/* Fills ctx from the kefu_notify_context columns of row (its strings
   point into res). */
static void s_ctx_from_row(rule_ctx_t *ctx, const PGresult *res, int row)
{
    const int c = S_COL_CTX;
    ctx->ticket = s_value(res, row, c);
    ctx->imported = PQgetvalue(res, row, c + 1)[0] == 't';
    ctx->priority = s_value(res, row, c + 2);
    ctx->kind = s_value(res, row, c + 3);
    ctx->category = s_value(res, row, c + 4);
    ctx->summary = s_value(res, row, c + 5);
    ctx->project = s_value(res, row, c + 6);
    ctx->project_name = s_value(res, row, c + 7);
    ctx->customer = (party_t){s_value(res, row, c + 8), s_value(res, row, c + 10),
                              s_value(res, row, c + 9), s_value(res, row, c + 11)};
    ctx->first_response_due = s_ms_value(res, row, c + 12);
    ctx->resolve_due = s_ms_value(res, row, c + 13);
    ctx->owner = s_party(res, row, c + 16);
    /* The responsible person's department, else the ticket's. */
    const char *department_en = s_value(res, row, c + 20);
    const char *department_zh = s_value(res, row, c + 21);
    ctx->department_en = department_en ? department_en : s_value(res, row, c + 14);
    ctx->department_zh = department_zh ? department_zh : s_value(res, row, c + 15);
    ctx->manager = s_party(res, row, c + 22);
    ctx->from_name = s_value(res, row, c + 26);
}

/* Counts and logs an event the notifier cannot use; returns -1 with err. */
static int s_bad_event(notifier_t *self, const kf_event_t *ev, kf_error_t *err)
{
    self->stats.bad_events++;
    kf_health_error(self->health, err->code);
    char message[256];
    kf_warn("event.bad", "event_id=%s type=%s corr=%s code=%s field=%s message=%s count=%" PRIu64,
            ev->id, ev->type, ev->corr, kf_err_name(err->code), err->field,
            kf_log_quote(err->message, message, sizeof message), self->stats.bad_events);
    return -1;
}

/* Renders the message of recipient r into a row object for kefu_notify_insert. */
static json_t *s_row(notifier_t *self, const kf_event_t *ev, const json_t *body,
                     const rule_ctx_t *ctx, const recipient_t *r, kf_error_t *err)
{
    char name[TPL_MAX_NAME];
    rules_template_name(name, sizeof name, r);
    const char *text = tpl_set_text(self->templates, name);
    rule_vars_t vars;
    rules_vars(&vars, ev->type, body, ctx, r);
    char *rendered = text ? tpl_render(text, vars.vars, vars.count) : NULL;
    if (!rendered) {
        kf_error_set(err, KF_E_INTERNAL, "template", "template %s is missing or bad", name);
        return NULL;
    }
    char *subject = NULL, *message = rendered;
    bool email = strcmp(r->rule->channel, "email") == 0;
    if (email && tpl_split_email(rendered, &subject, &message) != 0) {
        free(rendered);
        kf_error_set(err, KF_E_INTERNAL, "template", "template %s has no subject", name);
        return NULL;
    }
    bool urgent = rules_urgent(ctx);
    json_t *row = json_pack(
        "{s:s, s:s, s:s?, s:s, s:s, s:s, s:s?, s:s, s:s?, s:s, s:b}", "event_id", ev->id,
        "event_type", ev->type, "ticket_no", ctx->ticket, "recipient_kind", r->kind, "recipient_id",
        r->party->id, "channel", r->rule->channel, "address", r->party->address, "lang",
        rules_lang(r->party), "subject", subject, "body", message, "urgent", urgent);
    if (rules_quiet(r->kind, r->rule->channel, urgent)) {
        int64_t now = kf_now_ms() / 1000, release = quiet_release(&self->quiet, now);
        if (release > now) {
            json_object_set_new(row, "next_ms", json_integer(release * 1000));
            self->stats.held++;
            char until[32];
            rules_format_time(release * 1000, until, sizeof until);
            kf_info("notify.held", "event_id=%s ticket=%s channel=%s until=\"%s\"", ev->id,
                    ctx->ticket ? ctx->ticket : "-", r->rule->channel, until);
        }
    }
    if (email) {
        free(subject);
        free(message);
    }
    free(rendered);
    return row;
}

/* Parses and checks ev's body for the rules; NULL (the reason in err)
   when the notifier cannot use it. */
static json_t *s_body(const kf_event_t *ev, kf_error_t *err)
{
    json_error_t json_err;
    json_t *body = ev->body_json ? json_loads(ev->body_json, 0, &json_err) : NULL;
    if (!json_is_object(body))
        kf_error_set(err, KF_E_BAD_ENVELOPE, "body", "the body is not a JSON object");
    else if (rules_check_body(ev->type, body, err) == 0)
        return body;
    json_decref(body);
    return NULL;
}

/* What notify_contexts is to read for event i with body: its ticket, the
   staff member it makes responsible and the previous one, the homeowner
   it addresses and their project. */
static json_t *s_item(int i, const kf_event_t *ev, const json_t *body)
{
    const char *field = rules_owner_field(ev->type);
    const json_t *homeowner = json_object_get(body, "homeowner");
    json_t *item = json_pack("{s:i, s:s?, s:s?, s:s?, s:s?}", "i", i, "ticket",
                             json_string_value(json_object_get(body, "ticket")), "staff",
                             field ? json_string_value(json_object_get(body, field)) : NULL, "from",
                             json_string_value(json_object_get(body, "from")), "project",
                             json_string_value(json_object_get(body, "project")));
    assert(item);
    if (json_is_integer(homeowner)) /* a survey names its addressee */
        json_object_set_new(item, "homeowner", json_integer(json_integer_value(homeowner)));
    return item;
}

/* Runs statement name with one JSON parameter, the text of list. */
static PGresult *s_exec_json(kf_store_t *store, const char *name, const json_t *list,
                             kf_error_t *err)
{
    char *text = json_dumps(list, JSON_COMPACT);
    assert(text);
    const char *params[] = {text};
    PGresult *res = kf_store_exec(store, name, 1, params, err);
    free(text);
    return res;
}

/* Reads into known what the store knows around the count events whose
   bodies are usable (bodies[i] not NULL), in at most two statements.
   Returns 0, or -1 with err (known then holds what it read so far). */
static int s_read(kf_store_t *store, const kf_event_t *events, json_t *const *bodies, int count,
                  s_known_t *known, kf_error_t *err)
{
    known->row = (int *)malloc(((size_t)count + 1) * sizeof(int));
    assert(known->row);
    json_t *items = json_array(), *ids = json_array();
    for (int i = 0; i < count; i++) {
        known->row[i] = -1;
        if (!bodies[i])
            continue;
        json_array_append_new(items, s_item(i, &events[i], bodies[i]));
        const char *named[S_MAX_STAFF];
        int n = rules_staff_ids(events[i].type, bodies[i], named, S_MAX_STAFF);
        for (int k = 0; k < n; k++)
            json_array_append_new(ids, json_string(named[k]));
    }
    int rc = 0;
    if (json_array_size(items) > 0) {
        known->ctx = s_exec_json(store, "notify_contexts", items, err);
        rc = known->ctx ? 0 : -1;
        for (int r = 0; rc == 0 && r < PQntuples(known->ctx); r++) {
            int i = atoi(PQgetvalue(known->ctx, r, 0));
            if (i >= 0 && i < count)
                known->row[i] = r;
        }
    }
    if (rc == 0 && json_array_size(ids) > 0) {
        known->staff = s_exec_json(store, "notify_staff", ids, err);
        rc = known->staff ? 0 : -1;
    }
    json_decref(items);
    json_decref(ids);
    return rc;
}

/* Frees what s_read read. */
static void s_known_free(s_known_t *known)
{
    PQclear(known->ctx);
    PQclear(known->staff);
    free(known->row);
}

/* Fills staff (S_MAX_STAFF places) and ctx with the staff ev names beyond
   its owner (rules_staff_ids) as found in named (may be NULL). One the
   store does not know keeps only its id: an e-mail to them fails as
   having no address. */
static void s_staff(const PGresult *named, const kf_event_t *ev, const json_t *body,
                    rule_ctx_t *ctx, party_t *staff)
{
    const char *ids[S_MAX_STAFF];
    int count = rules_staff_ids(ev->type, body, ids, S_MAX_STAFF);
    for (int i = 0; i < count; i++) {
        staff[i] = (party_t){ids[i], NULL, NULL, NULL};
        for (int row = 0; named && row < PQntuples(named); row++)
            if (strcmp(PQgetvalue(named, row, 0), ids[i]) == 0)
                staff[i] = s_party(named, row, 0);
    }
    ctx->staff = staff;
    ctx->staff_count = (size_t)count;
}

/* Fills ctx (and staff, S_MAX_STAFF places) with what known holds around
   event i; its strings point into known. Returns 0, or -1 with err
   (not_found) when the store does not know the ticket, the staff member
   or the homeowner the body names. */
static int s_context(const s_known_t *known, int i, const kf_event_t *ev, const json_t *body,
                     rule_ctx_t *ctx, party_t *staff, kf_error_t *err)
{
    memset(ctx, 0, sizeof *ctx);
    const PGresult *res = known->ctx;
    int row = known->row[i];
    const char *ticket = json_string_value(json_object_get(body, "ticket"));
    const char *field = rules_owner_field(ev->type);
    const char *owner = field ? json_string_value(json_object_get(body, field)) : NULL;
    if (ticket) {
        if (row < 0 || PQgetisnull(res, row, S_COL_CTX))
            return kf_error_set(err, KF_E_NOT_FOUND, "ticket", "no ticket %s", ticket);
        s_ctx_from_row(ctx, res, row);
        if (owner && !ctx->owner.id)
            return kf_error_set(err, KF_E_NOT_FOUND, field, "no staff member %s", owner);
    }
    const json_t *homeowner = json_object_get(body, "homeowner");
    if (json_is_integer(homeowner)) { /* a survey names its addressee */
        if (row < 0 || PQgetisnull(res, row, S_COL_HOMEOWNER))
            return kf_error_set(err, KF_E_NOT_FOUND, "homeowner",
                                "no homeowner %" JSON_INTEGER_FORMAT,
                                json_integer_value(homeowner));
        ctx->customer = s_party(res, row, S_COL_HOMEOWNER);
        if (!ticket) { /* a campaign's survey: the project is the body's */
            ctx->project = json_string_value(json_object_get(body, "project"));
            ctx->project_name = s_value(res, row, S_COL_HOMEOWNER + 4);
        }
    }
    s_staff(known->staff, ev, body, ctx, staff);
    return 0;
}

/* Appends to rows the messages of event i of a burst (body usable): one
   row per recipient and channel of the rules, rendered. Returns how many,
   or -1 with err when it has none to give (nothing appended; a bad event
   is counted and logged). */
static int s_messages(notifier_t *self, const s_known_t *known, int i, const kf_event_t *ev,
                      const json_t *body, json_t *rows, kf_error_t *err)
{
    rule_ctx_t ctx;
    party_t staff[S_MAX_STAFF];
    recipient_t recipients[S_MAX_RECIPIENTS];
    int rc = s_context(known, i, ev, body, &ctx, staff, err);
    int count = rc == 0 ? rules_recipients(ev->type, body, &ctx, recipients, S_MAX_RECIPIENTS) : 0;
    json_t *mine = json_array();
    for (int r = 0; rc == 0 && r < count; r++) {
        json_t *row = s_row(self, ev, body, &ctx, &recipients[r], err);
        if (row)
            json_array_append_new(mine, row);
        else
            rc = -1;
    }
    if (rc != 0 && err->code != KF_E_INTERNAL)
        s_bad_event(self, ev, err);
    if (rc == 0 && ctx.imported) {
        self->stats.skipped_imported++;
        kf_info("notify.skipped", "event_id=%s type=%s ticket=%s reason=imported", ev->id, ev->type,
                ctx.ticket);
    }
    int made = (int)json_array_size(mine);
    if (rc == 0)
        json_array_extend(rows, mine);
    json_decref(mine);
    return rc == 0 ? made : -1;
}

/* How many more messages may be inserted claimed: S_MAX_CLAIMED less those
   claimed and not yet sent, committed or in a lane's open transaction. */
static long s_claim_room(const notifier_t *self)
{
    long room = S_MAX_CLAIMED - self->claimed_count;
    for (int i = 0; i < self->lane_count; i++)
        room -= self->lanes[i].claimed_count;
    return room;
}

/* Inserts the messages in rows with one statement on the lane's store and keeps
   the events it wrote for after the commit. Those due at once are inserted
   claimed by this instance, up to the room left (s_claim_room): their ids
   are kept in the lane to be sent once its transaction commits
   (s_on_commit), with no claim of their own. */
static int s_insert(kf_store_t *store, s_lane_t *lane, const json_t *rows, kf_error_t *err)
{
    notifier_t *self = lane->notifier;
    char *text = json_dumps(rows, JSON_COMPACT);
    assert(text);
    long room = s_claim_room(self);
    char budget[24];
    snprintf(budget, sizeof budget, "%ld", room);
    const char *params[] = {text, S_SRC, self->token, budget};
    PGresult *events = kf_store_exec(store, "notify_insert", 4, params, err);
    free(text);
    if (!events)
        return -1;
    int claimed_col = PQnfields(events) - 1;
    for (int i = 0; i < PQntuples(events) && room > 0; i++)
        if (!PQgetisnull(events, i, claimed_col)) {
            lane->claimed_ids[lane->claimed_count++] =
                strtoll(PQgetvalue(events, i, claimed_col), NULL, 10);
            room--;
        }
    if (room == 0)
        self->claim_soon = true; /* the others were inserted pending */
    kf_outbox_keep(lane->outbox, events);
    return 0;
}

/* After a transaction of a lane (kf_outbox_hook_fn): the messages it
   inserted claimed are to be sent when it committed, forgotten when it
   did not (they are not in the store). */
static void s_on_commit(void *arg, bool committed)
{
    s_lane_t *lane = (s_lane_t *)arg;
    notifier_t *self = lane->notifier;
    if (committed) {
        memcpy(self->claimed_ids + self->claimed_count, lane->claimed_ids,
               (size_t)lane->claimed_count * sizeof(int64_t));
        self->claimed_count += lane->claimed_count;
    }
    lane->claimed_count = 0;
}

/* Applies a burst of events inside the feed's transaction
   (kf_apply_batch_fn): reads what they need with one or two statements,
   renders each event's messages in memory and inserts them all with one
   statement. An event that cannot be used gets its reason in errors and
   leaves no message; the others are applied. */
static int s_apply_batch(kf_store_t *store, const kf_event_t *events, int count, kf_error_t *errors,
                         void *arg, kf_error_t *err)
{
    s_lane_t *lane = (s_lane_t *)arg;
    notifier_t *self = lane->notifier;
    json_t **bodies = (json_t **)calloc((size_t)count + 1, sizeof(json_t *));
    int *made = (int *)calloc((size_t)count + 1, sizeof(int));
    assert(bodies && made);
    for (int i = 0; i < count; i++)
        bodies[i] = s_body(&events[i], &errors[i]);
    s_known_t known = {0};
    int rc = s_read(store, events, bodies, count, &known, err);
    json_t *rows = json_array();
    for (int i = 0; rc == 0 && i < count; i++) /* bad events logged in their order */
        made[i] = bodies[i] ? s_messages(self, &known, i, &events[i], bodies[i], rows, &errors[i])
                            : s_bad_event(self, &events[i], &errors[i]);
    if (rc == 0 && json_array_size(rows) > 0)
        rc = s_insert(store, lane, rows, err);
    for (int i = 0; rc == 0 && i < count; i++)
        if (made[i] >= 0) {
            self->stats.events++;
            self->stats.created += (uint64_t)made[i];
            kf_debug("notify.created", "event_id=%s type=%s corr=%s messages=%d", events[i].id,
                     events[i].type, events[i].corr, made[i]);
        }
    json_decref(rows);
    s_known_free(&known);
    for (int i = 0; i < count; i++)
        json_decref(bodies[i]);
    free(bodies);
    free(made);
    return rc;
}

/* ---- sending ----------------------------------------------------------- */

static note_t s_note_from_row(const PGresult *res, int row)
{
    note_t note = {.id = strtoll(PQgetvalue(res, row, 0), NULL, 10),
                   .event_id = PQgetvalue(res, row, 1),
                   .event_type = PQgetvalue(res, row, 2),
                   .ticket = PQgetvalue(res, row, 3),
                   .recipient_kind = PQgetvalue(res, row, 4),
                   .recipient_id = PQgetvalue(res, row, 5),
                   .channel = PQgetvalue(res, row, 6),
                   .address = PQgetvalue(res, row, 7),
                   .lang = PQgetvalue(res, row, 8),
                   .subject = PQgetvalue(res, row, 9),
                   .body = PQgetvalue(res, row, 10),
                   .urgent = PQgetvalue(res, row, 11)[0] == 't',
                   .attempts = atoi(PQgetvalue(res, row, 12)),
                   .interrupted = PQgetvalue(res, row, 13)[0] == 't'};
    return note;
}

/* Records the results of the last batch (self->unsettled) and publishes
   their events. Returns 0 when nothing is left unrecorded. */
static int s_settle(notifier_t *self)
{
    if (!self->unsettled)
        return 0;
    kf_error_t err = {0};
    const char *params[] = {self->unsettled, self->token, S_SRC};
    PGresult *events = kf_store_exec(self->store, "notify_settle", 3, params, &err);
    if (!events) {
        kf_health_fault(self->health, "settle", &err);
        kf_warn("notify.settle_deferred", "code=%s reason=\"kept until the store answers\"",
                kf_err_name(err.code));
        return -1;
    }
    kf_outbox_keep(self->outbox, events);
    kf_outbox_publish(self->outbox);
    free(self->unsettled);
    self->unsettled = NULL;
    return 0;
}

/* Decides the result of one attempt and logs it; returns the result object. */
static json_t *s_result(notifier_t *self, const note_t *note, send_outcome_t outcome,
                        const char *via, const char *error)
{
    char masked[64], quoted[320];
    s_mask(note->channel, note->address, masked, sizeof masked);
    if (outcome == SEND_OK) {
        self->stats.sent++;
        kf_metric_inc(self->outcomes, note->channel, "sent");
        kf_info("notify.sent",
                "id=%" PRId64 " event_id=%s type=%s ticket=%s channel=%s via=%s to=%s attempts=%d",
                note->id, note->event_id, note->event_type, note->ticket[0] ? note->ticket : "-",
                note->channel, via, masked, note->attempts);
        return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)note->id, "outcome", "sent", "via",
                         via);
    }
    kf_log_quote(error, quoted, sizeof quoted);
    if (outcome == SEND_RETRY && note->attempts < self->max_attempts) {
        int64_t delay = backoff_delay(&self->backoff, note->attempts);
        self->stats.retried++;
        kf_metric_inc(self->outcomes, note->channel, "retried");
        kf_warn("notify.retry",
                "id=%" PRId64 " ticket=%s channel=%s via=%s to=%s attempts=%d delay_ms=%" PRId64
                " error=%s",
                note->id, note->ticket[0] ? note->ticket : "-", note->channel, via, masked,
                note->attempts, delay, quoted);
        return json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)note->id, "outcome", "retry",
                         "error", error, "delay_ms", (json_int_t)delay);
    }
    self->stats.failed++;
    kf_metric_inc(self->outcomes, note->channel, "failed");
    kf_error("notify.failed",
             "id=%" PRId64 " ticket=%s channel=%s via=%s to=%s attempts=%d error=%s "
             "resend=\"kefu-admin notification resend %" PRId64 "\"",
             note->id, note->ticket[0] ? note->ticket : "-", note->channel, via, masked,
             note->attempts, quoted, note->id);
    return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)note->id, "outcome", "failed", "error",
                     error);
}

/* Of the claimed rows, those interrupted while going to the file channel:
   marks in written[] the ones whose line is in the file already. */
static void s_recognise(notifier_t *self, const PGresult *claimed, bool *written)
{
    int n = PQntuples(claimed);
    int64_t *ids = (int64_t *)calloc((size_t)n + 1, sizeof(int64_t));
    int *rows = (int *)calloc((size_t)n + 1, sizeof(int));
    bool *found = (bool *)calloc((size_t)n + 1, sizeof(bool));
    size_t count = 0;
    for (int i = 0; i < n; i++) {
        note_t note = s_note_from_row(claimed, i);
        if (note.interrupted && strcmp(channels_via(self->channels, note.channel), "file") == 0) {
            ids[count] = note.id;
            rows[count++] = i;
        }
    }
    if (count > 0 && channels_file_holds(self->channels, ids, count, found) != 0)
        kf_warn("notify.file_unreadable", "reason=\"interrupted messages are written again\"");
    for (size_t i = 0; i < count; i++)
        written[rows[i]] = found[i];
    free(ids);
    free(rows);
    free(found);
}

/* Records the results gathered in results (and empties it). Returns 0, or
   -1 when the store did not take them (they are kept in self->unsettled). */
static int s_flush(notifier_t *self, json_t *results)
{
    if (json_array_size(results) == 0)
        return 0;
    self->unsettled = json_dumps(results, JSON_COMPACT);
    json_array_clear(results);
    return s_settle(self);
}

/* The next batch to send: the messages this instance inserted claimed
   and committed, read back (those a savepoint undid are not there), or
   else the due ones it claims now. NULL when the store failed. */
static PGresult *s_take(notifier_t *self, bool *fresh)
{
    kf_error_t err = {0};
    int64_t now = zclock_mono();
    *fresh = self->claimed_count > 0 && !self->claim_soon && now < self->next_claim;
    if (!*fresh) { /* at least every poll interval, for retries and reclaimed messages */
        self->next_claim = now + self->poll_ms;
        self->claim_soon = false;
        char limit[16];
        snprintf(limit, sizeof limit, "%ld", self->send_batch);
        const char *params[] = {limit, self->token};
        return kf_store_exec(self->store, "notify_claim", 2, params, &err);
    }
    long take = self->claimed_count < self->send_batch ? self->claimed_count : self->send_batch;
    size_t size = (size_t)take * 21 + 3, used = 0;
    char *ids = (char *)zmalloc(size);
    ids[used++] = '{';
    for (long i = 0; i < take; i++)
        used += (size_t)snprintf(ids + used, size - used, "%s%" PRId64, i ? "," : "",
                                 self->claimed_ids[i]);
    ids[used++] = '}';
    char fresh_ms[24];
    snprintf(fresh_ms, sizeof fresh_ms, "%ld", self->fresh_ms);
    const char *params[] = {ids, self->token, fresh_ms};
    PGresult *res = kf_store_exec(self->store, "notify_claimed", 3, params, &err);
    free(ids);
    /* Read or not, they are taken: the rows not sent stay claimed until the
       reclaim puts them back (as a claimed batch a failure interrupts). */
    self->claimed_count -= take;
    memmove(self->claimed_ids, self->claimed_ids + take,
            (size_t)self->claimed_count * sizeof(int64_t));
    return res;
}

/* Claims, sends and settles one batch of due notifications. Returns how
   many were claimed, or -1 when the store could not be used (after a
   batch inserted claimed, send_batch when more may be due).

   A message that left kefu (HTTP, SMTP) is recorded at once, before the
   next is sent: a crash can then repeat at most the one message whose
   delivery and record it fell between. Lines of the file channel are
   recorded together at the end (or before the next such message): one
   interrupted there is recognised in the file by its id. */
static int s_send_batch(notifier_t *self)
{
    if (s_settle(self) != 0)
        return -1;
    bool fresh;
    PGresult *claimed = s_take(self, &fresh);
    if (!claimed)
        return -1;
    int n = PQntuples(claimed);
    /* More to send at once: a full claim, or messages inserted claimed. */
    int taken = self->claimed_count > 0 ? (int)self->send_batch : n;
    if (n == 0) {
        PQclear(claimed);
        return taken;
    }
    bool *written = (bool *)calloc((size_t)n, sizeof(bool));
    s_recognise(self, claimed, written);
    json_t *results = json_array();
    int64_t now = kf_now_ms() / 1000;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        note_t note = s_note_from_row(claimed, i);
        const char *via = channels_via(self->channels, note.channel);
        int64_t release = rules_quiet(note.recipient_kind, note.channel, note.urgent)
                              ? quiet_release(&self->quiet, now)
                              : now;
        if (release > now) { /* a retry that fell into quiet hours */
            self->stats.held++;
            kf_metric_inc(self->outcomes, note.channel, "held");
            json_array_append_new(results,
                                  json_pack("{s:I, s:s, s:I}", "id", (json_int_t)note.id, "outcome",
                                            "held", "next_ms", (json_int_t)release * 1000));
            continue;
        }
        char error[300] = "";
        send_outcome_t outcome = SEND_OK;
        if (written[i])
            self->stats.recognised++; /* written before the crash: not again */
        else
            outcome = channels_send(self->channels, &note, error, sizeof error);
        json_array_append_new(results, s_result(self, &note, outcome, via, error));
        /* The rows not reached stay claimed; they are put back once this
           instance's connection is gone (kefu_notify_reclaim), never sent. */
        if (strcmp(via, "file") != 0 && !written[i])
            rc = s_flush(self, results);
    }
    if (rc == 0)
        s_flush(self, results);
    json_decref(results);
    free(written);
    PQclear(claimed);
    return taken;
}

/* Sends the due notifications: a batch, then more batches of the messages
   inserted claimed while some wait (for up to KF_DUTY_BUDGET_MS), so that a
   burst's messages leave before the next burst is taken in. Returns what
   the last batch returned (s_send_batch). */
static int s_send_once(notifier_t *self)
{
    int taken = s_send_batch(self);
    int64_t deadline = kf_duty_deadline();
    while (taken >= 0 && self->claimed_count > 0 && !kf_stop_requested() &&
           zclock_mono() < deadline)
        taken = s_send_batch(self);
    return taken;
}

/* Puts back the claims of notifiers that died while sending. */
static void s_reclaim(notifier_t *self)
{
    char grace[24], timeout[24];
    snprintf(grace, sizeof grace, "%ld", self->grace_ms);
    snprintf(timeout, sizeof timeout, "%ld", self->claim_timeout_ms);
    const char *params[] = {grace, timeout};
    kf_error_t err = {0};
    PGresult *res = kf_store_exec(self->store, "notify_reclaim", 2, params, &err);
    if (!res)
        return;
    long count = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (count > 0) {
        self->stats.reclaimed += (uint64_t)count;
        kf_warn("notify.reclaimed",
                "notifications=%ld reason=\"their notifier stopped while sending; sent again "
                "with the same id\"",
                count);
    }
}

/* ---- the loop --------------------------------------------------------- */

static void s_log_stats(notifier_t *self)
{
    s_stats_t *s = &self->stats;
    s->bad_messages = self->consumer ? kf_consumer_bad_messages(self->consumer) : 0;
    if (memcmp(s, &self->logged, sizeof *s) == 0)
        return;
    self->logged = *s;
    kf_info("notifier.stats",
            "events=%" PRIu64 " created=%" PRIu64 " sent=%" PRIu64 " retried=%" PRIu64
            " failed=%" PRIu64 " held=%" PRIu64 " reclaimed=%" PRIu64 " recognised=%" PRIu64
            " skipped_imported=%" PRIu64 " bad_events=%" PRIu64 " bad_messages=%" PRIu64,
            s->events, s->created, s->sent, s->retried, s->failed, s->held, s->reclaimed,
            s->recognised, s->skipped_imported, s->bad_events, s->bad_messages);
}

static void s_reload(notifier_t *self)
{
    char err[512];
    tpl_set_t *fresh = tpl_set_load(kf_config_str(notifier_settings, "KEFU_NOTIFY_TEMPLATES"),
                                    rules_template_needs(), err, sizeof err);
    char quoted[600];
    if (!fresh)
        kf_error("templates.reload_failed", "error=%s reason=\"the templates loaded before stay\"",
                 kf_log_quote(err, quoted, sizeof quoted));
    else {
        tpl_set_destroy(&self->templates);
        self->templates = fresh;
        kf_info("templates.loaded", "templates=%zu", tpl_set_size(fresh));
    }
    if (channels_reopen(self->channels) != 0)
        kf_error("file.reopen_failed", "path=%s",
                 kf_config_str(notifier_settings, "KEFU_NOTIFY_FILE"));
}

/* Runs the duties that are due; returns true when work is waiting. */
static bool s_tick(notifier_t *self)
{
    if (kf_stop_reload_taken()) {
        s_reload(self);
    }
    int64_t now = zclock_mono();
    if (now >= self->next_stats) {
        s_log_stats(self);
        self->next_stats = now + 60000;
    }
    if (kf_store_ready(self->store, NULL) != 0)
        return false;
    bool busy = false;
    if (now >= self->next_catchup) {
        busy = kf_consumer_catch_up(self->consumer);
        self->next_catchup = busy ? now : zclock_mono() + self->catchup_ms;
    }
    if (now >= self->next_reclaim) {
        s_reclaim(self);
        self->next_reclaim = zclock_mono() + (self->grace_ms < 1000 ? self->grace_ms : 1000);
    }
    return s_send_once(self) >= self->send_batch || busy;
}

int notifier_run(notifier_t *self)
{
    kf_info("notifier.started",
            "version=%s instance=%s sms=%s email=%s quiet_hours=%s max_attempts=%ld templates=%zu "
            "connections=%d",
            KEFU_VERSION, self->token, channels_via(self->channels, "sms"),
            channels_via(self->channels, "email"),
            kf_config_str(notifier_settings, "KEFU_NOTIFY_QUIET_HOURS"), self->max_attempts,
            tpl_set_size(self->templates), self->lane_count - 1);
    while (!kf_stop_requested()) {
        bool busy = s_tick(self);
        kf_pollset_t set = {0};
        int doorbell = kf_consumer_poll(self->consumer, &set);
        int http = kf_pollset_fd(&set, kf_health_fd(self->health));
        /* SIGHUP also ends the wait: only SIGINT/SIGTERM (kf_stop_requested) stop. */
        kf_pollset_wait(&set, kf_health_wait_ms(self->health, busy ? 0 : (int)self->poll_ms));
        kf_consumer_on_store(self->consumer); /* their messages are sent at the next tick */
        if (kf_pollset_ready(&set, doorbell))
            kf_consumer_on_socket(self->consumer);
        if (kf_pollset_ready(&set, http))
            kf_health_serve_fd(self->health);
        kf_health_tick(self->health);
    }
    if (self->unsettled && kf_store_ready(self->store, NULL) == 0)
        s_settle(self);
    s_log_stats(self);
    kf_info("notifier.stopped", "reason=%s", "signal");
    return 0;
}

/* Before each heartbeat: the notifications due and not yet taken, read
   from the store so that it shows even while this instance is stuck. */
static void s_observe(kf_health_t *health, void *arg)
{
    notifier_t *self = (notifier_t *)arg;
    kf_error_t err = {0};
    if (kf_store_ready(self->store, &err) != 0)
        return;
    PGresult *res = kf_store_exec(self->store, "notify_backlog", 0, NULL, &err);
    kf_health_backlog(health, res ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1);
    PQclear(res);
}

/* ---- set-up ------------------------------------------------------------ */

/* Reads an integer setting; -1 (reported) when bad. */
static int s_int(const char *name, long *out)
{
    return kf_config_int(notifier_settings, name, out);
}

static channels_t *s_channels(char *err, size_t err_size, long sms_timeout, long smtp_timeout)
{
    const kf_setting_t *t = notifier_settings;
    channels_config_t config = {.file_path = kf_config_str(t, "KEFU_NOTIFY_FILE"),
                                .sms_url = kf_config_str(t, "KEFU_SMS_URL"),
                                .sms_token = kf_config_str(t, "KEFU_SMS_TOKEN"),
                                .sms_id_prefix = kf_config_str(t, "KEFU_SMS_ID_PREFIX"),
                                .sms_timeout_ms = sms_timeout,
                                .smtp_url = kf_config_str(t, "KEFU_SMTP_URL"),
                                .smtp_user = kf_config_str(t, "KEFU_SMTP_USER"),
                                .smtp_password = kf_config_str(t, "KEFU_SMTP_PASSWORD"),
                                .smtp_from = kf_config_str(t, "KEFU_SMTP_FROM"),
                                .smtp_from_name = kf_config_str(t, "KEFU_SMTP_FROM_NAME"),
                                .smtp_timeout_ms = smtp_timeout};
    return channels_new(&config, err, err_size);
}

/* Reads the notifier's settings into self and the send timeouts; -1
   (reported) when one is bad. */
static int s_settings(notifier_t *self, long *sms_timeout, long *smtp_timeout)
{
    long factor, base, cap, connections;
    if (s_int("KEFU_NOTIFY_MAX_ATTEMPTS", &self->max_attempts) ||
        s_int("KEFU_NOTIFY_CONNECTIONS", &connections) || s_int("KEFU_NOTIFY_BACKOFF_MS", &base) ||
        s_int("KEFU_NOTIFY_BACKOFF_FACTOR", &factor) || s_int("KEFU_NOTIFY_BACKOFF_MAX_MS", &cap) ||
        s_int("KEFU_NOTIFY_BATCH", &self->batch) ||
        s_int("KEFU_NOTIFY_SEND_BATCH", &self->send_batch) ||
        s_int("KEFU_NOTIFY_CATCHUP_MS", &self->catchup_ms) ||
        s_int("KEFU_NOTIFY_POLL_MS", &self->poll_ms) ||
        s_int("KEFU_NOTIFY_RECLAIM_GRACE_MS", &self->grace_ms) ||
        s_int("KEFU_NOTIFY_CLAIM_TIMEOUT_MS", &self->claim_timeout_ms) ||
        s_int("KEFU_SMS_TIMEOUT_MS", sms_timeout) || s_int("KEFU_SMTP_TIMEOUT_MS", smtp_timeout))
        return -1;
    /* A live notifier must finish a claimed batch before the hard timeout
       hands it to another, or both would send it. */
    long sms = kf_config_str(notifier_settings, "KEFU_SMS_URL")[0] ? *sms_timeout : 0;
    long smtp = kf_config_str(notifier_settings, "KEFU_SMTP_URL")[0] ? *smtp_timeout : 0;
    long longest = sms > smtp ? sms : smtp > 0 ? smtp : 1000; /* the file: a write */
    if (self->claim_timeout_ms <= self->send_batch * longest + 10000) {
        fprintf(stderr,
                "KEFU_NOTIFY_CLAIM_TIMEOUT_MS=%ld must exceed KEFU_NOTIFY_SEND_BATCH x the longest "
                "send timeout + 10 s (%ld ms)\n",
                self->claim_timeout_ms, self->send_batch * longest + 10000);
        return -1;
    }
    /* A message inserted claimed is sent only while a batch of it can be
       sent before its claim times out, as a claimed batch. */
    self->fresh_ms = self->claim_timeout_ms - (self->send_batch * longest + 10000);
    self->backoff = (backoff_t){base, factor, cap};
    self->lane_count = 1 + (int)connections;
    const char *quiet = kf_config_str(notifier_settings, "KEFU_NOTIFY_QUIET_HOURS");
    if (quiet_parse(quiet, &self->quiet) != 0) {
        fprintf(stderr, "KEFU_NOTIFY_QUIET_HOURS=%s: expected HH:MM-HH:MM (start != end) or off\n",
                quiet);
        return -1;
    }
    /* kf_config_check refused a zone the tz database lacks (KF_SET_TZ);
       glibc would fall back to UTC without a word. */
    setenv("TZ", kf_config_str(notifier_settings, "KEFU_NOTIFY_TZ"), 1);
    tzset();
    return 0;
}

/* Connects the notifier to the bus: the doorbell, the events, and the
   consumer that applies what they bring. */
static void s_sockets(notifier_t *self)
{
    size_t count = 0;
    while (rules_table[count].event)
        count++;
    const char **topics = (const char **)zmalloc((count + 1) * sizeof(char *));
    for (size_t i = 0; i < count; i++)
        topics[i] = rules_table[i].event;
    self->doorbell = kf_bus_subscriber(notifier_settings, topics);
    free(topics);
    self->events = kf_bus_publisher(notifier_settings);
    self->outbox = kf_outbox_new(self->events, S_SRC, self->health, 0);
    s_lane_t *own = &self->lanes[0];
    own->outbox = self->outbox;
    kf_outbox_set_hook(own->outbox, s_on_commit, own);
    const kf_consumer_spec_t spec = {.name = S_CONSUMER,
                                     .types = rules_types_literal(),
                                     .apply_batch = s_apply_batch,
                                     .arg = own,
                                     .reread = true};
    self->consumer = kf_consumer_new(&spec, self->store, self->doorbell, self->outbox, self->health,
                                     self->batch);
    for (int i = 1; i < self->lane_count; i++) {
        const kf_lane_spec_t lane = {.url = kf_config_str(notifier_settings, "KEFU_DATABASE_URL"),
                                     .app_name = "kefu-notifier-apply",
                                     .prepare = s_prepare,
                                     .on_commit = s_on_commit,
                                     .arg = &self->lanes[i]};
        self->lanes[i].outbox = kf_consumer_add_lane(self->consumer, &lane);
    }
}

notifier_t *notifier_new(void)
{
    notifier_t *self = (notifier_t *)zmalloc(sizeof(notifier_t));
    long sms_timeout, smtp_timeout;
    if (s_settings(self, &sms_timeout, &smtp_timeout) != 0) {
        free(self);
        return NULL;
    }
    self->claimed_ids = (int64_t *)calloc(S_MAX_CLAIMED, sizeof(int64_t));
    assert(self->claimed_ids);
    for (int i = 0; i < self->lane_count; i++) {
        self->lanes[i].notifier = self;
        self->lanes[i].claimed_ids = (int64_t *)calloc(S_MAX_CLAIMED, sizeof(int64_t));
        assert(self->lanes[i].claimed_ids);
    }
    char err[512];
    self->templates = tpl_set_load(kf_config_str(notifier_settings, "KEFU_NOTIFY_TEMPLATES"),
                                   rules_template_needs(), err, sizeof err);
    if (!self->templates) {
        fprintf(stderr, "templates: %s\n", err);
        free(self);
        return NULL;
    }
    self->channels = s_channels(err, sizeof err, sms_timeout, smtp_timeout);
    if (!self->channels) {
        fprintf(stderr, "channels: %s\n", err);
        tpl_set_destroy(&self->templates);
        free(self);
        return NULL;
    }
    zsys_init();
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(self->token, sizeof self->token, "%.60s:%d:%08x", host, (int)getpid(),
             (unsigned)randof(0x7fffffff));
    self->store =
        kf_store_new(kf_config_str(notifier_settings, "KEFU_DATABASE_URL"), "kefu-notifier");
    s_prepare(self->store);
    self->health = kf_health_new("notifier", notifier_settings, self->store);
    if (!self->health) {
        notifier_destroy(&self);
        return NULL;
    }
    self->outcomes = kf_metrics_counter(kf_health_metrics(self->health), "kefu_notifications_total",
                                        "notifications by channel and outcome of an attempt "
                                        "(sent, retried, failed, held)",
                                        "channel", "outcome");
    kf_health_set_observer(self->health, s_observe, self);
    s_sockets(self);
    return self;
}

void notifier_destroy(notifier_t **self_p)
{
    assert(self_p);
    notifier_t *self = *self_p;
    if (!self)
        return;
    kf_consumer_destroy(&self->consumer); /* publishes what its lanes committed */
    for (int i = 0; i < self->lane_count; i++)
        free(self->lanes[i].claimed_ids);
    kf_outbox_destroy(&self->outbox);
    zsock_destroy(&self->doorbell);
    zsock_destroy(&self->events);
    kf_health_destroy(&self->health);
    kf_store_destroy(&self->store);
    channels_destroy(&self->channels);
    tpl_set_destroy(&self->templates);
    free(self->unsettled);
    free(self->claimed_ids);
    free(self);
    *self_p = NULL;
}
