/* kefu-gateway — sign-in and sessions: the cookie, the CSRF check, the
   store's session functions (deploy/migrations/018_web.sql) and the
   gateway's own routes signin, whoami, signout and password (gw.h). */
#include "gw.h"

#include <string.h>

#include "log.h"

#define S_TOUCH_MS 30000    /* a session's idle clock is restarted at most this often */
#define S_TOUCHED_MAX 10000 /* sessions whose last touch is remembered */
#define S_WRONG "wrong staff id or password"

/* What is remembered of a session touched lately. */
typedef struct {
    int64_t at; /* zclock_mono */
    char staff[KF_LIM_STAFF + 1];
    bool must_change;
} s_touch_t;

void gw_session_prepare(kf_store_t *store)
{
    kf_store_statement(store, "gw_signin_begin",
                       "SELECT password_hash, must_change, wait_s FROM kefu_signin_begin($1, $2)");
    kf_store_statement(store, "gw_signin_failed", "SELECT kefu_signin_failed($1, $2)");
    kf_store_statement(store, "gw_session_open",
                       "SELECT session_id FROM kefu_session_open($1, $2, $3::int, $4::int, $5, "
                       "$6)");
    kf_store_statement(store, "gw_session_touch",
                       "SELECT session_id, staff_id, name, role, lang, must_change, "
                       "(extract(epoch FROM expires_at) * 1000)::bigint, "
                       "(extract(epoch FROM idle_ends_at) * 1000)::bigint, "
                       "(SELECT department_id FROM staff WHERE id = t.staff_id), kefu_tz() "
                       "FROM kefu_session_touch($1) t");
    kf_store_statement(store, "gw_session_lang", "SELECT lang FROM kefu_session_lang($1, $2)");
    kf_store_statement(store, "gw_session_end", "SELECT kefu_session_end($1)");
    kf_store_statement(store, "gw_password_set",
                       "SELECT kefu_password_set($1, $2, false, $3::bigint, 'self')");
}

PGresult *gw_store_exec(kf_store_t *store, kf_health_t *health, const char *name, int n,
                        const char *const *params, kf_error_t *err)
{
    if (kf_store_ready_now(store, err) != 0)
        return NULL;
    PGresult *res = kf_store_exec(store, name, n, params, err);
    if (!res)
        kf_health_fault(health, name, err);
    return res;
}

PGresult *gw_exec(gateway_t *gw, const char *name, int n, const char *const *params,
                  kf_error_t *err)
{
    return gw_store_exec(gw->store, gw->health, name, n, params, err);
}

void gw_unavailable(gw_req_t *req, kf_error_t *err)
{
    if (err->code != KF_E_UNAVAILABLE)
        kf_error_set(err, KF_E_UNAVAILABLE, "", "the store cannot be reached; try again");
    req->retry_after = 1;
    gw_answer_error(req, 503, err);
}

/* Answers an error of code with field and message. */
static void s_refuse(gw_req_t *req, int status, kf_err_t code, const char *field,
                     const char *message)
{
    kf_error_t err = {0};
    kf_error_set(&err, code, field, "%s", message);
    gw_answer_error(req, status, &err);
}

/* ---- the touch cache ---------------------------------------------------------- */

/* The cache key of a token: the hex of its SHA-256. */
static void s_key(const char *token, char key[65])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(key, 65, hash, sizeof hash);
}

/* Remembers a touch of token, keeping the cache bounded. */
static void s_remember(gateway_t *gw, const char *token, const char *staff, bool must_change)
{
    if (zhashx_size(gw->touched) >= S_TOUCHED_MAX) {
        int64_t now = zclock_mono();
        zlistx_t *keys = zhashx_keys(gw->touched);
        for (const char *k = (const char *)zlistx_first(keys); k;
             k = (const char *)zlistx_next(keys)) {
            s_touch_t *t = (s_touch_t *)zhashx_lookup(gw->touched, k);
            if (now - t->at >= S_TOUCH_MS)
                zhashx_delete(gw->touched, k);
        }
        zlistx_destroy(&keys);
        if (zhashx_size(gw->touched) >= S_TOUCHED_MAX)
            zhashx_purge(gw->touched);
    }
    char key[65];
    s_key(token, key);
    s_touch_t *t = (s_touch_t *)zmalloc(sizeof(s_touch_t));
    t->at = zclock_mono();
    snprintf(t->staff, sizeof t->staff, "%s", staff);
    t->must_change = must_change;
    zhashx_update(gw->touched, key, t);
}

void gw_session_forget(gw_req_t *req)
{
    char key[65];
    if (!req->token[0])
        return;
    s_key(req->token, key);
    zhashx_delete(req->gw->touched, key);
}

/* True when req's session was touched under S_TOUCH_MS ago (req->staff
   and must_change then filled from the cache). */
static bool s_recent(gw_req_t *req)
{
    char key[65];
    s_key(req->token, key);
    s_touch_t *t = (s_touch_t *)zhashx_lookup(req->gw->touched, key);
    if (!t || zclock_mono() - t->at >= S_TOUCH_MS)
        return false;
    snprintf(req->staff, sizeof req->staff, "%s", t->staff);
    req->must_change = t->must_change;
    return true;
}

/* Touches req's session in the store. Returns its row (caller PQclear()s)
   or NULL when req is answered: 401 when it is not open, 503. */
static PGresult *s_touch(gw_req_t *req)
{
    kf_error_t err = {0};
    const char *params[] = {req->token};
    PGresult *res = gw_exec(req->gw, "gw_session_touch", 1, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return NULL;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        gw_session_forget(req);
        req->token[0] = '\0';
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "",
                 "no open session: sign in (POST /api/v1/session)");
        return NULL;
    }
    snprintf(req->session_id, sizeof req->session_id, "%s", PQgetvalue(res, 0, 0));
    snprintf(req->staff, sizeof req->staff, "%s", PQgetvalue(res, 0, 1));
    req->must_change = PQgetvalue(res, 0, 5)[0] == 't';
    s_remember(req->gw, req->token, req->staff, req->must_change);
    return res;
}

/* ---- the check of every session route --------------------------------------- */

bool gw_session_check(gw_req_t *req)
{
    if (!gw_cookie_token(gw_header(req, "Cookie"), req->token)) {
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "", "sign in first (POST /api/v1/session)");
        return false;
    }
    if (strcmp(req->method, "GET") != 0 &&
        !gw_csrf_ok(req->token, gw_header(req, "X-CSRF-Token"))) {
        s_refuse(req, 403, KF_E_FORBIDDEN, "X-CSRF-Token",
                 "the X-CSRF-Token header is missing or wrong");
        return false;
    }
    const char *handler = req->match.route->handler;
    if (!handler && !s_recent(req)) { /* the gateway's own routes touch themselves */
        PGresult *res = s_touch(req);
        if (!res)
            return false;
        PQclear(res);
    }
    if (!handler && req->must_change) {
        s_refuse(req, 403, KF_E_FORBIDDEN, "",
                 "the password must be changed first (POST /api/v1/session/password)");
        return false;
    }
    return true;
}

/* ---- whoami and signout ----------------------------------------------------------- */

/* The answer to whoami (and to a sign-in) from a touch's row. */
static json_t *s_who(gw_req_t *req, PGresult *res)
{
    char csrf[GW_CSRF_SIZE];
    gw_csrf(req->token, csrf);
    json_t *who = json_object();
    json_object_set_new(who, "staff", json_string(PQgetvalue(res, 0, 1)));
    json_object_set_new(who, "name", json_string(PQgetvalue(res, 0, 2)));
    json_object_set_new(who, "role", json_string(PQgetvalue(res, 0, 3)));
    json_object_set_new(who, "department", json_string(PQgetvalue(res, 0, 8)));
    json_object_set_new(who, "tz", json_string(PQgetvalue(res, 0, 9)));
    json_object_set_new(who, "lang", json_string(PQgetvalue(res, 0, 4)));
    json_object_set_new(who, "csrf", json_string(csrf));
    json_object_set_new(who, "must_change", json_boolean(PQgetvalue(res, 0, 5)[0] == 't'));
    json_object_set_new(who, "expires_at", json_integer(atoll(PQgetvalue(res, 0, 6))));
    json_object_set_new(who, "idle_ends_at", json_integer(atoll(PQgetvalue(res, 0, 7))));
    return who;
}

/* GET /api/v1/session. */
static void s_whoami(gw_req_t *req)
{
    PGresult *res = s_touch(req);
    if (!res)
        return;
    json_t *who = s_who(req, res);
    PQclear(res);
    gw_answer(req, 200, who);
}

/* Sets the session cookie of token (NULL: clears it). */
static void s_cookie(gw_req_t *req, const char *token)
{
    snprintf(req->cookie, sizeof req->cookie,
             GW_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", token ? token : "",
             token ? req->gw->max_s : 0L, req->gw->tls ? "; Secure" : "");
}

/* DELETE /api/v1/session. */
static void s_signout(gw_req_t *req)
{
    kf_error_t err = {0};
    const char *params[] = {req->token};
    PGresult *res = gw_exec(req->gw, "gw_session_end", 1, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    bool ended = atoi(PQgetvalue(res, 0, 0)) > 0;
    PQclear(res);
    gw_session_forget(req);
    s_cookie(req, NULL);
    if (!ended)
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "", "no open session");
    else
        gw_answer(req, 204, NULL);
}

/* ---- the console's language ---------------------------------------------------------- */

/* The language of a POST /api/v1/session/lang body {"lang": "zh" or "en"}
   (nothing else). NULL with err and the HTTP status in *status. */
static const char *s_lang_of(json_t *root, int *status, kf_error_t *err)
{
    const char *key;
    json_t *v;
    *status = 400;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "lang") != 0) {
            kf_error_set(err, KF_E_BAD_VALUE, key, "unknown field %.64s (only lang)", key);
            return NULL;
        }
    }
    json_t *lang = json_object_get(root, "lang");
    if (!lang) {
        kf_error_set(err, KF_E_MISSING_FIELD, "lang", "lang is required (zh or en)");
        return NULL;
    }
    if (!json_is_string(lang)) {
        kf_error_set(err, KF_E_WRONG_TYPE, "lang", "lang must be a string (zh or en)");
        return NULL;
    }
    for (int i = 0; kf_langs[i]; i++)
        if (strcmp(json_string_value(lang), kf_langs[i]) == 0)
            return kf_langs[i];
    kf_error_set(err, KF_E_BAD_VALUE, "lang", "lang must be zh or en");
    return NULL;
}

/* POST /api/v1/session/lang: keeps the staff member's language. */
static void s_lang(gw_req_t *req)
{
    kf_error_t err = {0};
    json_t *root = NULL;
    int status = gw_request_json(gw_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body,
                                 req->body_size, &root, &err);
    const char *lang = NULL;
    if (status == 0 && !root)
        kf_error_set(&err, KF_E_MISSING_FIELD, "lang", "lang is required (zh or en)");
    if (status == 0 && root)
        lang = s_lang_of(root, &status, &err);
    json_decref(root);
    if (!lang) {
        gw_answer_error(req, status ? status : 400, &err);
        return;
    }
    const char *params[] = {req->token, lang};
    PGresult *res = gw_exec(req->gw, "gw_session_lang", 2, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    bool kept = PQntuples(res) == 1;
    PQclear(res);
    if (!kept) {
        gw_session_forget(req);
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "",
                 "no open session: sign in (POST /api/v1/session)");
        return;
    }
    kf_info("gateway.lang", "staff=%s lang=%s", req->staff[0] ? req->staff : "-", lang);
    json_t *ok = json_object();
    json_object_set_new(ok, "ok", json_true());
    gw_answer(req, 200, ok);
}

/* ---- signin and password: the worker's jobs ------------------------------------------ */

/* Checks the members of a sign-in's or password change's body: only a
   and b, both strings. 0, or the HTTP status with err. */
static int s_members(json_t *root, const char *a, const char *b, kf_error_t *err)
{
    if (!root) {
        kf_error_set(err, KF_E_MISSING_FIELD, a, "%s and %s are required", a, b);
        return 400;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, a) != 0 && strcmp(key, b) != 0) {
            kf_error_set(err, KF_E_BAD_VALUE, "", "unknown field (only %s and %s)", a, b);
            return 400;
        }
        if (!json_is_string(v)) {
            kf_error_set(err, KF_E_WRONG_TYPE, key, "%s must be a string", key);
            return 400;
        }
    }
    const char *missing = !json_object_get(root, a) ? a : !json_object_get(root, b) ? b : NULL;
    if (missing) {
        kf_error_set(err, KF_E_MISSING_FIELD, missing, "%s and %s are required", a, b);
        return 400;
    }
    return 0;
}

/* Reads the string members a and b of the JSON body, refusing any other
   member. True when both were read; false when req is answered. */
static bool s_two(gw_req_t *req, const char *a, const char *b, const char **va, const char **vb,
                  json_t **root_p)
{
    kf_error_t err = {0};
    int status = gw_request_json(gw_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body,
                                 req->body_size, root_p, &err);
    if (status == 0)
        status = s_members(*root_p, a, b, &err);
    if (status != 0) {
        gw_answer_error(req, status, &err);
        return false;
    }
    *va = json_string_value(json_object_get(*root_p, a));
    *vb = json_string_value(json_object_get(*root_p, b));
    return true;
}

/* Starts a job on staff's password hash: false when req is answered
   (throttled, unknown, store down). */
static bool s_job(gw_req_t *req, gw_job_op_t op, const char *staff, const char *password,
                  const char *fresh)
{
    kf_error_t err = {0};
    const char *params[] = {staff, req->address};
    PGresult *res = gw_exec(req->gw, "gw_signin_begin", 2, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return false;
    }
    int wait_s = atoi(PQgetvalue(res, 0, 2));
    gw_job_t *job = (gw_job_t *)zmalloc(sizeof(gw_job_t));
    job->op = op;
    snprintf(job->hash, sizeof job->hash, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (wait_s > 0) {
        gw_job_destroy(&job);
        req->retry_after = wait_s;
        s_refuse(req, 429, KF_E_THROTTLED, "", "too many failed sign-ins: wait and try again");
        return false;
    }
    snprintf(job->password, sizeof job->password, "%s", password);
    snprintf(job->fresh, sizeof job->fresh, "%s", fresh ? fresh : "");
    job->arg = req;
    req->job = job;
    if (gw_worker_give(req->gw->worker, &job) != 0) {
        req->job = NULL;
        gw_job_destroy(&job);
        kf_error_set(&err, KF_E_UNAVAILABLE, "", "busy; try again");
        gw_unavailable(req, &err);
        return false;
    }
    req->gw->jobs++;
    gw_suspend(req);
    return true;
}

/* POST /api/v1/session. */
static void s_signin(gw_req_t *req)
{
    json_t *root = NULL;
    const char *staff = NULL, *password = NULL;
    if (s_two(req, "staff", "password", &staff, &password, &root)) {
        if (strlen(staff) > KF_LIM_STAFF || strlen(password) > KF_PASSWORD_MAX ||
            !kf_utf8_valid(staff, strlen(staff)))
            s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "", S_WRONG);
        else {
            snprintf(req->staff, sizeof req->staff, "%s", staff);
            if (!s_job(req, GW_JOB_VERIFY, staff, password, NULL))
                req->staff[0] = '\0';
        }
    }
    json_decref(root);
}

/* POST /api/v1/session/password. */
static void s_password(gw_req_t *req)
{
    PGresult *res = s_touch(req);
    if (!res)
        return;
    PQclear(res);
    json_t *root = NULL;
    const char *old = NULL, *fresh = NULL;
    kf_error_t err = {0};
    if (s_two(req, "old", "new", &old, &fresh, &root)) {
        if (kf_password_check(req->staff, fresh, &err) != 0) {
            snprintf(err.field, sizeof err.field, "new");
            gw_answer_error(req, 400, &err);
        } else if (strlen(old) > KF_PASSWORD_MAX)
            s_refuse(req, 403, KF_E_FORBIDDEN, "old", "the old password is wrong");
        else
            s_job(req, GW_JOB_VERIFY_SET, req->staff, old, fresh);
    }
    json_decref(root);
}

/* A sign-in whose password was checked: opens the session, or counts the
   failure. */
static void s_signin_done(gw_req_t *req, bool ok)
{
    kf_error_t err = {0};
    const char *failed[] = {req->staff, req->address};
    if (!ok) {
        PQclear(gw_exec(req->gw, "gw_signin_failed", 2, failed, &err));
        req->staff[0] = '\0';
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "", S_WRONG);
        return;
    }
    kf_token_new("", req->token);
    char idle[24], max[24];
    snprintf(idle, sizeof idle, "%ld", req->gw->idle_s);
    snprintf(max, sizeof max, "%ld", req->gw->max_s);
    const char *params[] = {req->staff, req->token,   idle,
                            max,        req->address, gw_header(req, MHD_HTTP_HEADER_USER_AGENT)};
    PGresult *res = gw_exec(req->gw, "gw_session_open", 6, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    bool opened = PQntuples(res) == 1;
    PQclear(res);
    if (!opened) { /* made inactive meanwhile */
        s_refuse(req, 401, KF_E_UNKNOWN_ACTOR, "", S_WRONG);
        return;
    }
    s_cookie(req, req->token);
    s_whoami(req);
}

/* A password change whose old password was checked (and new one hashed). */
static void s_password_done(gw_req_t *req, gw_job_t *job)
{
    kf_error_t err = {0};
    if (!job->ok) {
        const char *failed[] = {req->staff, req->address};
        PQclear(gw_exec(req->gw, "gw_signin_failed", 2, failed, &err));
        s_refuse(req, 403, KF_E_FORBIDDEN, "old", "the old password is wrong");
        return;
    }
    const char *params[] = {req->staff, job->fresh_hash, req->session_id};
    PGresult *res = gw_exec(req->gw, "gw_password_set", 3, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    PQclear(res);
    gw_session_forget(req);
    kf_info("gateway.password_changed", "staff=%s", req->staff);
    json_t *ok = json_object();
    json_object_set_new(ok, "ok", json_true());
    gw_answer(req, 200, ok);
}

void gw_session_job_done(gateway_t *gw, gw_job_t *job)
{
    gw->jobs--;
    gw_req_t *req = (gw_req_t *)job->arg;
    if (req) {
        req->job = NULL;
        if (job->op == GW_JOB_VERIFY)
            s_signin_done(req, job->ok);
        else
            s_password_done(req, job);
    }
    gw_job_destroy(&job);
}

bool gw_session_handle(gw_req_t *req, const char *name)
{
    if (strcmp(name, "signin") == 0)
        s_signin(req);
    else if (strcmp(name, "whoami") == 0)
        s_whoami(req);
    else if (strcmp(name, "signout") == 0)
        s_signout(req);
    else if (strcmp(name, "password") == 0)
        s_password(req);
    else if (strcmp(name, "lang") == 0)
        s_lang(req);
    else
        return false;
    return true;
}

/* ---- for other modules (gw.h) ------------------------------------------------------ */

bool gw_session_staff(gw_req_t *req)
{
    if (!s_recent(req)) {
        PGresult *res = s_touch(req);
        if (!res)
            return false;
        PQclear(res);
    }
    if (req->must_change) {
        s_refuse(req, 403, KF_E_FORBIDDEN, "",
                 "the password must be changed first (POST /api/v1/session/password)");
        return false;
    }
    return true;
}
