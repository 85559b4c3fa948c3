/* kefu-gateway — what the web console reads of the gateway itself (gw.h):
   GET /api/v1/labels, the translation table generated from the model at
   build time (kf_labels_json), and GET /api/v1/status, the daemons as
   `kefu-admin status` shows them, for administrators only: the store's
   kefu_web_status (migration 024) checks the session's role in the very
   statement that reads, so the gateway's word alone never decides. */
#include "gw.h"
#include "kf_openapi.h"

#include <string.h>

void gw_console_prepare(kf_store_t *store)
{
    kf_store_statement(store, "gw_status", "SELECT allowed, status::text FROM kefu_web_status($1)");
}

/* GET /api/v1/labels: the table, or 304 when the client holds it. Its
   ETag changes only with the build (Cache-Control: no-cache: the client
   asks again each time, and gets 304 while it is unchanged). */
static void s_labels(gw_req_t *req)
{
    req->etag = kf_labels_etag;
    free(req->answer);
    req->answer = NULL;
    if (gw_fresh(req, kf_labels_etag))
        req->status = 304;
    else {
        req->status = 200;
        req->answer = strdup(kf_labels_json);
    }
    req->state = GW_ANSWERED;
}

/* GET /api/v1/status: 200 with {now, daemons} for an administrator, 403
   for anyone else, 401 without an open session. */
static void s_status(gw_req_t *req)
{
    if (!gw_session_staff(req))
        return;
    kf_error_t err = {0};
    const char *params[] = {req->token};
    PGresult *res = gw_exec(req->gw, "gw_status", 1, params, &err);
    if (!res) {
        gw_unavailable(req, &err);
        return;
    }
    if (PQntuples(res) != 1) {
        gw_session_forget(req);
        kf_error_set(&err, KF_E_UNKNOWN_ACTOR, "",
                     "no open session: sign in (POST /api/v1/session)");
        gw_answer_error(req, 401, &err);
    } else if (PQgetvalue(res, 0, 0)[0] != 't') {
        kf_error_set(&err, KF_E_FORBIDDEN, "", "the daemons' status is for administrators");
        gw_answer_error(req, 403, &err);
    } else {
        req->status = 200;
        free(req->answer);
        req->answer = strdup(PQgetvalue(res, 0, 1));
        req->state = GW_ANSWERED;
    }
    PQclear(res);
}

bool gw_console_handle(gw_req_t *req, const char *name)
{
    if (strcmp(name, "labels") == 0)
        s_labels(req);
    else if (strcmp(name, "status") == 0)
        s_status(req);
    else
        return false;
    return true;
}
