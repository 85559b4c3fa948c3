/* kefu-gateway — integration tokens and the phone system's calls (gw.h):
   the bearer credential of every route (gw_auth_check), the use log of a
   token the gateway forwards (submit), and the gateway's own call routes
   over the store's functions (deploy/migrations/020_tokens_calls.sql): a phone system's event (POST
   /api/v1/calls), the caller log (GET /api/v1/calls) and a missed call's
   callback (POST /api/v1/calls/{call_id}/callback). */
#include "calls.h"
#include "gw.h"

#include <string.h>
#include <strings.h>

#include "bus.h"
#include "log.h"
#include "phone.h"

#define S_SRC "gateway"
#define S_LIST_DEFAULT 50
#define S_LIST_MAX 500

void gw_calls_prepare(gateway_t *gw)
{
    kf_store_statement(gw->store, "gw_token_use", "SELECT kefu_token_use($1, $2, $3, $4)");
    kf_store_statement(
        gw->store, "gw_call_event",
        "SELECT status, changed, call_id, state, staff_id, owner_id, owner_name, "
        "ev_seq, ev_id, ev_type, ev_corr, ev_src, ev_at, ev_body "
        "FROM kefu_call_event($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000.0), $8)");
    kf_store_statement(gw->store, "gw_calls_list",
                       "SELECT call_id, caller, caller_norm, extension, staff_id, owner_id, "
                       "owner_name, state, ringing_ms, answered_ms, ended_ms, callback_done_ms, "
                       "callback_by, ringing_us, id "
                       "FROM kefu_calls_list($1, $2, $3::integer, $4::bigint, $5::bigint)");
    kf_store_statement(gw->store, "gw_call_callback", "SELECT kefu_call_callback_done($1, $2)");
    /* The bus is a doorbell: a stream that misses it reads the outbox. */
    gw->calls_pub = kf_bus_publisher(gateway_settings);
    if (!gw->calls_pub)
        kf_warn("gateway.no_bus", "call events reach open streams only from the outbox");
}

/* Answers an error of code with field and message. */
static void s_refuse(gw_req_t *req, int status, kf_err_t code, const char *field,
                     const char *message)
{
    kf_error_t err = {0};
    kf_error_set(&err, code, field, "%s", message);
    gw_answer_error(req, status, &err);
}

/* ---- the bearer credential ------------------------------------------------------ */

/* The scope a route's auth takes a token of ("calls" of "token:calls" or
   "session|token:calls"), or NULL. */
static const char *s_scope_of(const char *auth)
{
    const char *token = strstr(auth, "token:");
    return token ? token + strlen("token:") : NULL;
}

/* The token of an "Authorization: Bearer ..." header, or NULL when there
   is no such header (another scheme is no bearer). */
static const char *s_bearer(gw_req_t *req)
{
    const char *header = gw_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!header || strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6]))
        return NULL;
    const char *token = header + 6;
    while (*token == ' ')
        token++;
    return token;
}

bool gw_auth_check(gw_req_t *req)
{
    const char *auth = req->match.route->auth;
    const char *scope = s_scope_of(auth);
    const char *token = s_bearer(req);
    if (strcmp(auth, "none") == 0)
        return true; /* nothing is forwarded with the request: a header is ignored */
    if (token) {
        /* The store cannot tell which request a credential comes with: a
           token is forwarded only where the route's auth names its scope,
           so a submit token never lists or changes tickets although its
           acts_as staff member could. */
        if (!scope) {
            s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "Authorization",
                     "this route takes no integration token: sign in (POST /api/v1/session)");
            return false;
        }
        if (!kf_token_shaped(token, strlen(token),
                             KF_KIT_PREFIX)) { /* refused without asking the store */
            s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "Authorization",
                     "the bearer credential is no integration token (kit_...)");
            return false;
        }
        snprintf(req->kit, sizeof req->kit, "%s", token);
        return true;
    }
    if (strncmp(auth, "session", strlen("session")) == 0)
        return gw_session_check(req);
    s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "Authorization",
             "this route takes an integration token: Authorization: Bearer kit_...");
    return false;
}

/* Logs one use of req's token for scope with outcome (best effort: a
   store that fails is counted by gw_exec). */
static void s_use(gw_req_t *req, const char *scope, const char *outcome)
{
    kf_error_t err = {0};
    const char *params[] = {req->kit, scope, req->address, outcome};
    PGresult *res = gw_exec(req->gw, "gw_token_use", 4, params, &err);
    if (res)
        PQclear(res);
    else
        kf_warn("gateway.token_use_not_logged", "scope=%s outcome=%s", scope, outcome);
}

/* The error code of req's answer, "ok" for a 2xx. */
static void s_outcome(gw_req_t *req, char *out, size_t size)
{
    snprintf(out, size, "%s", req->status / 100 == 2 ? "ok" : "internal");
    if (req->status / 100 == 2 || !req->answer)
        return;
    json_t *root = json_loads(req->answer, 0, NULL);
    const char *code = json_string_value(json_object_get(root, "code"));
    if (code)
        snprintf(out, size, "%s", code);
    json_decref(root);
}

void gw_token_used(gw_req_t *req)
{
    const char *scope = s_scope_of(req->match.route->auth);
    if (!req->kit[0] || !scope || req->match.route->handler)
        return; /* the call routes log through the store's own function */
    char outcome[40];
    s_outcome(req, outcome, sizeof outcome);
    s_use(req, scope, outcome);
}

/* ---- POST /api/v1/calls ------------------------------------------------------------ */

/* The event name of ev ("ringing", "answered", "hangup"), also from the
   names of Zammad's and Znuny's generic CTI push; NULL when unknown. */
static const char *s_event_name(const char *name)
{
    if (strcmp(name, "newCall") == 0)
        return "ringing";
    if (strcmp(name, "answer") == 0)
        return "answered";
    return kf_model_in(KF_ENUM_CALL_EVENT, name) ? name : NULL;
}

/* Checks one member of an event's body and takes it into ev. 0, or 400
   with err naming the field. */
static int s_member(const char *key, json_t *v, gw_call_event_t *ev, kf_error_t *err)
{
    bool text = strcmp(key, "event") == 0 || strcmp(key, "call_id") == 0 ||
                strcmp(key, "caller") == 0 || strcmp(key, "extension") == 0;
    if (!text && strcmp(key, "at") != 0)
        return kf_error_set(err, KF_E_BAD_VALUE, key,
                            "unknown field (event, call_id, caller, extension, at)");
    if (json_is_null(v) && strcmp(key, "event") != 0 && strcmp(key, "call_id") != 0)
        return 0;
    if (text && !json_is_string(v))
        return kf_error_set(err, KF_E_WRONG_TYPE, key, "%s must be a string", key);
    if (!text && !json_is_integer(v))
        return kf_error_set(err, KF_E_WRONG_TYPE, key, "at is milliseconds since the epoch");
    if (!text && (json_integer_value(v) < 0 || json_integer_value(v) > GW_AT_MAX))
        return kf_error_set(err, KF_E_BAD_VALUE, key, "at is out of range");
    if (!text)
        snprintf(ev->at, sizeof ev->at, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (strcmp(key, "event") == 0)
        ev->event = json_string_value(v);
    else if (strcmp(key, "call_id") == 0)
        ev->call_id = json_string_value(v);
    else if (strcmp(key, "caller") == 0)
        ev->caller = json_string_value(v);
    else
        ev->extension = json_string_value(v);
    return 0;
}

/* True when text is min to max characters, each of set (NULL: printable
   ASCII but space). */
static bool s_chars(const char *text, size_t min, size_t max, const char *set)
{
    size_t len = strlen(text);
    if (len < min || len > max)
        return false;
    for (const char *c = text; *c; c++)
        if (set ? !strchr(set, *c) : (*c < '!' || *c > '~'))
            return false;
    return true;
}

/* Checks the values of ev (the store checks them again). 0, or 400 with
   err naming the field. */
static int s_values(gw_call_event_t *ev, kf_error_t *err)
{
    if (!ev->event)
        return kf_error_set(err, KF_E_MISSING_FIELD, "event", "event is required");
    if (!ev->call_id)
        return kf_error_set(err, KF_E_MISSING_FIELD, "call_id", "call_id is required");
    const char *name = s_event_name(ev->event);
    if (!name)
        return kf_error_set(err, KF_E_BAD_VALUE, "event",
                            "event must be ringing, answered or hangup (or newCall, answer)");
    ev->event = name;
    if (!s_chars(ev->call_id, 1, GW_CALL_ID_MAX, NULL))
        return kf_error_set(err, KF_E_BAD_VALUE, "call_id",
                            "a call id is 1 to %d printable ASCII characters", GW_CALL_ID_MAX);
    if (ev->extension && !s_chars(ev->extension, 2, 16, "0123456789"))
        return kf_error_set(err, KF_E_BAD_VALUE, "extension", "an extension is 2 to 16 digits");
    if (ev->caller && strlen(ev->caller) > GW_CALLER_MAX)
        return kf_error_set(err, KF_E_TOO_LONG, "caller", "caller over %d bytes", GW_CALLER_MAX);
    if (!ev->caller || kf_phone_normalise(ev->caller, ev->caller_norm) != 0)
        ev->caller_norm[0] = '\0'; /* anonymous, internal: no owner to find */
    return 0;
}

int gw_call_event_read(const char *content_type, const char *body, size_t size, json_t **root_p,
                       gw_call_event_t *ev, kf_error_t *err)
{
    memset(ev, 0, sizeof *ev);
    int status = gw_request_json(content_type, body, size, root_p, err);
    if (status != 0)
        return status;
    if (!*root_p) {
        kf_error_set(err, KF_E_MISSING_FIELD, "event", "event and call_id are required");
        return 400;
    }
    const char *key;
    json_t *v;
    json_object_foreach(*root_p, key, v)
    {
        if (s_member(key, v, ev, err) != 0)
            return 400;
    }
    return s_values(ev, err) != 0 ? 400 : 0;
}

/* Rings the bus with the call.* event in row 0 of res (columns 7 on),
   when the event changed the call. */
static void s_ring(gateway_t *gw, PGresult *res)
{
    if (!gw->calls_pub || PQgetisnull(res, 0, 7))
        return;
    kf_event_t ev = kf_event_from_row(res, 0, 7);
    if (kf_bus_send_event(gw->calls_pub, &ev, S_SRC) == 0)
        kf_health_out(gw->health, ev.type, 1);
}

/* The answer to a call event from its row. */
static json_t *s_event_answer(PGresult *res)
{
    json_t *out = json_object();
    json_object_set_new(out, "call_id", json_string(PQgetvalue(res, 0, 2)));
    json_object_set_new(out, "state", json_string(PQgetvalue(res, 0, 3)));
    json_object_set_new(out, "changed", json_boolean(PQgetvalue(res, 0, 1)[0] == 't'));
    json_object_set_new(out, "staff",
                        PQgetisnull(res, 0, 4) ? json_null() : json_string(PQgetvalue(res, 0, 4)));
    json_t *owner = json_null();
    if (!PQgetisnull(res, 0, 5))
        owner = json_pack("{s:I, s:s}", "id", (json_int_t)strtoll(PQgetvalue(res, 0, 5), NULL, 10),
                          "name", PQgetvalue(res, 0, 6));
    json_object_set_new(out, "owner", owner);
    return out;
}

/* Answers a call event the store refused or failed. */
static void s_event_failed(gw_req_t *req, kf_error_t *err)
{
    if (err->code == KF_E_UNAVAILABLE) {
        gw_unavailable(req, err);
        return;
    }
    if (strcmp(kf_store_sqlstate(req->gw->store), "22023") == 0) {
        /* gw checks the same rules first: only a rule the store added */
        kf_error_set(err, KF_E_BAD_VALUE, "", "the store refused a value of the call event");
        s_use(req, "calls", "bad_value");
        gw_answer_error(req, 400, err);
        return;
    }
    gw_answer_error(req, 0, err);
}

/* POST /api/v1/calls: one event of a phone system, applied in one
   statement that also checks the token and logs its use. */
static void s_call_event(gw_req_t *req)
{
    json_t *root = NULL;
    gw_call_event_t ev;
    kf_error_t err = {0};
    int status = gw_call_event_read(gw_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body,
                                    req->body_size, &root, &ev, &err);
    if (status != 0) {
        s_use(req, "calls", kf_err_name(err.code));
        gw_answer_error(req, status, &err);
        json_decref(root);
        return;
    }
    const char *params[] = {req->kit,
                            ev.call_id,
                            ev.event,
                            ev.caller,
                            ev.caller_norm[0] ? ev.caller_norm : NULL,
                            ev.extension,
                            ev.at[0] ? ev.at : NULL,
                            req->address};
    PGresult *res = gw_exec(req->gw, "gw_call_event", 8, params, &err);
    json_decref(root);
    if (!res) {
        s_event_failed(req, &err);
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "unknown_actor") == 0)
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "Authorization",
                 "the integration token is unknown or revoked");
    else if (strcmp(outcome, "forbidden") == 0)
        s_refuse(req, 403, KF_E_FORBIDDEN, "Authorization",
                 "the integration token has no scope calls");
    else {
        s_ring(req->gw, res);
        gw_answer(req, 200, s_event_answer(res));
    }
    PQclear(res);
}

/* ---- GET /api/v1/calls ------------------------------------------------------------- */

/* The query of the caller log. */
typedef struct {
    const char *state;
    bool mine;
    char limit[12];
    char before_us[24], before_id[24]; /* the cursor, "" for none */
    kf_error_t err;
} s_list_query_t;

/* Parses a cursor "US.ID" (both decimal) into q. False when malformed. */
static bool s_cursor(const char *value, s_list_query_t *q)
{
    const char *dot = strchr(value, '.');
    size_t us = dot ? (size_t)(dot - value) : 0;
    if (!dot || us == 0 || us >= sizeof q->before_us || strspn(value, "0123456789") != us ||
        !s_chars(dot + 1, 1, sizeof q->before_id - 1, "0123456789"))
        return false;
    memcpy(q->before_us, value, us);
    q->before_us[us] = '\0';
    snprintf(q->before_id, sizeof q->before_id, "%s", dot + 1);
    return true;
}

/* MHD's iterator over the caller log's query: takes each parameter into
   q, stopping at the first bad one (q->err). */
static enum MHD_Result s_list_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    s_list_query_t *q = (s_list_query_t *)cls;
    value = value ? value : "";
    bool ok = false;
    if (strcmp(key, "state") == 0) {
        ok = kf_model_in(KF_ENUM_CALL_STATE, value);
        q->state = value;
    } else if (strcmp(key, "mine") == 0) {
        ok = strcmp(value, "true") == 0 || strcmp(value, "false") == 0;
        q->mine = strcmp(value, "true") == 0;
    } else if (strcmp(key, "limit") == 0) {
        ok = s_chars(value, 1, 3, "0123456789") && atoi(value) >= 1 && atoi(value) <= S_LIST_MAX;
        snprintf(q->limit, sizeof q->limit, "%d", atoi(value));
    } else if (strcmp(key, "cursor") == 0)
        ok = s_cursor(value, q);
    else {
        kf_error_set(&q->err, KF_E_BAD_VALUE, "",
                     "unknown query parameter (state, mine, limit, "
                     "cursor)");
        return MHD_NO;
    }
    if (!ok)
        kf_error_set(&q->err, KF_E_BAD_VALUE, key, "%s is not a valid value", key);
    return ok ? MHD_YES : MHD_NO;
}

/* A text column, or JSON null. */
static json_t *s_text(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* An integer column, or JSON null. */
static json_t *s_int(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col)
               ? json_null()
               : json_integer((json_int_t)strtoll(PQgetvalue(res, row, col), NULL, 10));
}

/* One call of the caller log from its row (gw_calls_list's columns). */
static json_t *s_call(PGresult *res, int row)
{
    json_t *owner = json_null();
    if (!PQgetisnull(res, row, 5))
        owner = json_pack("{s:o, s:s}", "id", s_int(res, row, 5), "name",
                          PQgetisnull(res, row, 6) ? "" : PQgetvalue(res, row, 6));
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "call_id",
                     s_text(res, row, 0), "caller", s_text(res, row, 1), "caller_norm",
                     s_text(res, row, 2), "extension", s_text(res, row, 3), "staff",
                     s_text(res, row, 4), "owner", owner, "state", s_text(res, row, 7),
                     "ringing_at", s_int(res, row, 8), "answered_at", s_int(res, row, 9),
                     "ended_at", s_int(res, row, 10), "callback_at", s_int(res, row, 11),
                     "callback_by", s_text(res, row, 12));
}

/* GET /api/v1/calls: the caller log, newest first, a page at a time. */
static void s_calls_list(gw_req_t *req)
{
    s_list_query_t q = {.state = NULL};
    snprintf(q.limit, sizeof q.limit, "%d", S_LIST_DEFAULT);
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, s_list_param, &q);
    if (q.err.code != KF_OK) {
        gw_answer_error(req, 400, &q.err);
        return;
    }
    if (!gw_session_staff(req))
        return;
    kf_error_t err = {0};
    const char *params[] = {q.mine ? req->staff : NULL, q.state, q.limit,
                            q.before_us[0] ? q.before_us : NULL,
                            q.before_id[0] ? q.before_id : NULL};
    PGresult *res = gw_exec(req->gw, "gw_calls_list", 5, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    json_t *calls = json_array();
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        json_array_append_new(calls, s_call(res, i));
    json_t *out = json_pack("{s:o}", "calls", calls);
    if (rows > 0 && rows == atoi(q.limit)) {
        char next[64];
        snprintf(next, sizeof next, "%s.%s", PQgetvalue(res, rows - 1, 13),
                 PQgetvalue(res, rows - 1, 14));
        json_object_set_new(out, "next", json_string(next));
    }
    PQclear(res);
    gw_answer(req, 200, out);
}

/* ---- POST /api/v1/calls/{call_id}/callback ---------------------------------------- */

/* Records that the signed-in staff member returned a missed call. */
static void s_call_callback(gw_req_t *req)
{
    if (!gw_session_staff(req))
        return;
    const char *call_id = req->match.value[0];
    kf_error_t err = {0};
    const char *params[] = {call_id, req->staff};
    PGresult *res = gw_exec(req->gw, "gw_call_callback", 2, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    char outcome[16];
    snprintf(outcome, sizeof outcome, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(outcome, "ok") == 0)
        gw_answer(req, 200, json_pack("{s:s, s:s}", "call_id", call_id, "callback_by", req->staff));
    else if (strcmp(outcome, "unknown") == 0)
        s_refuse(req, 404, KF_E_NOT_FOUND, "call_id", "no such call");
    else if (strcmp(outcome, "not_missed") == 0)
        s_refuse(req, 409, KF_E_CONFLICT, "call_id",
                 "the call was not missed (answered, or still ringing)");
    else
        s_refuse(req, 409, KF_E_CONFLICT, "call_id", "the call was returned already");
}

bool gw_calls_handle(gw_req_t *req, const char *name)
{
    if (strcmp(name, "call_event") == 0)
        s_call_event(req);
    else if (strcmp(name, "calls_list") == 0)
        s_calls_list(req);
    else if (strcmp(name, "call_callback") == 0)
        s_call_callback(req);
    else
        return false;
    return true;
}
