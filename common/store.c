/* kefu — access to the PostgreSQL store. */
#include "store.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
/* Least time between two attempts that waiting requests ask for: at most
   five a second per connection while the store is down, and the first
   request after it is back is served within a second. */
#define S_WAITING_GAP_MS 200

typedef struct {
    char *name;
    char *sql;
} s_statement_t;

struct kf_store {
    char *url;
    char *app_name;
    PGconn *conn;
    zlistx_t *statements; /* s_statement_t, prepared on each connection */
    int64_t next_try_ms;  /* earliest time of the next connection attempt */
    int64_t last_try_ms;  /* time of the last failed connection attempt */
    int backoff_ms;
    char sqlstate[6];
    char sent[64];     /* the statement sent and not yet answered, or "" */
    PGresult *answer;  /* its result so far */
    PGresult *failure; /* its first error so far */
};

static void s_statement_destroy(void **item)
{
    s_statement_t *statement = (s_statement_t *)*item;
    free(statement->name);
    free(statement->sql);
    free(statement);
    *item = NULL;
}

kf_store_t *kf_store_new(const char *url, const char *app_name)
{
    kf_store_t *self = (kf_store_t *)zmalloc(sizeof(kf_store_t));
    assert(self);
    self->url = strdup(url);
    self->app_name = strdup(app_name);
    self->statements = zlistx_new();
    zlistx_set_destructor(self->statements, s_statement_destroy);
    self->backoff_ms = S_BACKOFF_MIN_MS;
    return self;
}

void kf_store_destroy(kf_store_t **self_p)
{
    assert(self_p);
    kf_store_t *self = *self_p;
    if (!self)
        return;
    if (self->conn)
        PQfinish(self->conn);
    PQclear(self->answer);
    PQclear(self->failure);
    zlistx_destroy(&self->statements);
    free(self->url);
    free(self->app_name);
    free(self);
    *self_p = NULL;
}

void kf_store_statement(kf_store_t *self, const char *name, const char *sql)
{
    s_statement_t *statement = (s_statement_t *)zmalloc(sizeof(s_statement_t));
    statement->name = strdup(name);
    statement->sql = strdup(sql);
    zlistx_add_end(self->statements, statement);
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK) {
        PGresult *res = PQprepare(self->conn, name, sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            kf_error("store.prepare_failed", "statement=%s error=\"%s\"", name,
                     PQresultErrorMessage(res));
        PQclear(res);
    }
}

static void s_disconnect(kf_store_t *self)
{
    if (self->conn)
        PQfinish(self->conn);
    self->conn = NULL;
}

/* Prepares every registered statement; -1 when one fails (a defect in
   kefu's SQL or a schema the migrations have not reached). */
static int s_prepare_all(kf_store_t *self)
{
    for (s_statement_t *st = (s_statement_t *)zlistx_first(self->statements); st;
         st = (s_statement_t *)zlistx_next(self->statements)) {
        PGresult *res = PQprepare(self->conn, st->name, st->sql, 0, NULL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            kf_error("store.prepare_failed", "statement=%s error=\"%.200s\"", st->name,
                     PQresultErrorMessage(res));
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

static int s_connect(kf_store_t *self)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *values[] = {self->url, self->app_name, "5", NULL};
    self->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        char *message = PQerrorMessage(self->conn);
        size_t len = strcspn(message, "\n");
        kf_warn("store.connect_failed", "retry_ms=%d error=\"%.*s\"", self->backoff_ms,
                (int)(len > 200 ? 200 : len), message);
        s_disconnect(self);
        return -1;
    }
    /* Statements run in UTC: times on the wire are epoch milliseconds. */
    PGresult *res = PQexec(self->conn, "SET TIME ZONE 'UTC'");
    PQclear(res);
    if (s_prepare_all(self) != 0) {
        s_disconnect(self);
        return -1;
    }
    kf_info("store.connected", "app=%s", self->app_name);
    return 0;
}

/* False when the server has closed the connection. A restart of the store
   closes every connection; unnoticed, the next statement would fail (and
   a client be told unavailable) although a new connection would serve it.
   Reads what has arrived without waiting: the server's last words, then
   the end of the stream. Only between transactions, when nothing else can
   be in flight. */
static bool s_alive(kf_store_t *self)
{
    if (PQtransactionStatus(self->conn) != PQTRANS_IDLE)
        return true;
    for (int i = 0; i < 2; i++)
        if (PQconsumeInput(self->conn) == 0 || PQstatus(self->conn) != CONNECTION_OK) {
            char *message = PQerrorMessage(self->conn);
            size_t len = strcspn(message, "\n");
            kf_warn("store.connection_lost", "statement=- error=\"%.*s\"",
                    (int)(len > 200 ? 200 : len), message);
            return false;
        }
    return true;
}

/* Connects unless connected; waiting says a request is waiting now, which
   may try sooner than the back-off (S_WAITING_GAP_MS). */
static int s_ready(kf_store_t *self, bool waiting, kf_error_t *err)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK && s_alive(self))
        return 0;
    s_disconnect(self);
    int64_t now = zclock_mono();
    bool due = now >= self->next_try_ms || (waiting && now >= self->last_try_ms + S_WAITING_GAP_MS);
    if (!due)
        return kf_error_set(err, KF_E_UNAVAILABLE, "", "the store is unreachable; retry shortly");
    if (s_connect(self) == 0) {
        self->backoff_ms = S_BACKOFF_MIN_MS;
        self->next_try_ms = 0;
        return 0;
    }
    /* Counted from the end of the attempt, which may have waited for its
       connect_timeout. */
    now = zclock_mono();
    self->last_try_ms = now;
    self->next_try_ms = now + self->backoff_ms;
    self->backoff_ms =
        self->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : self->backoff_ms * 2;
    return kf_error_set(err, KF_E_UNAVAILABLE, "", "the store is unreachable; retry shortly");
}

int kf_store_ready(kf_store_t *self, kf_error_t *err)
{
    return s_ready(self, false, err);
}

int kf_store_ready_now(kf_store_t *self, kf_error_t *err)
{
    return s_ready(self, true, err);
}

int kf_store_wait(kf_store_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (kf_store_ready(self, NULL) != 0) {
        if (zsys_interrupted || (timeout_ms >= 0 && zclock_mono() >= deadline))
            return -1;
        zclock_sleep(50);
    }
    return 0;
}

bool kf_store_connected(kf_store_t *self)
{
    return self->conn && PQstatus(self->conn) == CONNECTION_OK;
}

/* Turns a failed result into err; a broken connection is unavailable and
   drops the connection so the next call reconnects. */
static void s_fail(kf_store_t *self, PGresult *res, const char *what, kf_error_t *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    bool lost = PQstatus(self->conn) != CONNECTION_OK || !state ||
                strncmp(self->sqlstate, "08", 2) == 0 || strcmp(self->sqlstate, "57P01") == 0 ||
                strcmp(self->sqlstate, "57P02") == 0 || strcmp(self->sqlstate, "57P03") == 0;
    const char *message = res ? PQresultErrorMessage(res) : PQerrorMessage(self->conn);
    size_t len = strcspn(message, "\n");
    if (lost) {
        kf_warn("store.connection_lost", "statement=%s error=\"%.*s\"", what,
                (int)(len > 200 ? 200 : len), message);
        s_disconnect(self);
        kf_error_set(err, KF_E_UNAVAILABLE, "", "the store is unreachable; retry shortly");
    } else {
        kf_error("store.statement_failed", "statement=%s sqlstate=%s error=\"%.*s\"", what,
                 self->sqlstate, (int)(len > 200 ? 200 : len), message);
        kf_error_set(err, KF_E_INTERNAL, "", "the store refused a statement (sqlstate %s)",
                     self->sqlstate);
    }
}

PGresult *kf_store_exec(kf_store_t *self, const char *name, int nparams, const char *const *params,
                        kf_error_t *err)
{
    if (!self->conn && kf_store_ready(self, err) != 0)
        return NULL;
    PGresult *res = PQexecPrepared(self->conn, name, nparams, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        self->sqlstate[0] = 0;
        return res;
    }
    s_fail(self, res, name, err);
    PQclear(res);
    return NULL;
}

int kf_store_send(kf_store_t *self, const char *name, int nparams, const char *const *params,
                  kf_error_t *err)
{
    assert(!self->sent[0]);
    if (!self->conn && kf_store_ready(self, err) != 0)
        return -1;
    if (!PQsendQueryPrepared(self->conn, name, nparams, params, NULL, NULL, 0)) {
        s_fail(self, NULL, name, err);
        return -1;
    }
    snprintf(self->sent, sizeof self->sent, "%s", name);
    return 0;
}

int kf_store_socket(kf_store_t *self)
{
    return self->conn ? PQsocket(self->conn) : -1;
}

/* Ends the answer of the statement sent: 0 with its result, or -1 with
   err (the connection dropped when it was lost). */
static int s_answered(kf_store_t *self, PGresult **res_p, kf_error_t *err)
{
    PGresult *failure = self->failure;
    *res_p = failure ? NULL : self->answer;
    if (failure) {
        s_fail(self, failure, self->sent, err);
        PQclear(self->answer);
        PQclear(failure);
    } else
        self->sqlstate[0] = 0;
    self->answer = NULL;
    self->failure = NULL;
    self->sent[0] = '\0';
    return failure ? -1 : 0;
}

int kf_store_receive(kf_store_t *self, bool wait, PGresult **res_p, kf_error_t *err)
{
    assert(self->sent[0]);
    *res_p = NULL;
    if (!wait && PQconsumeInput(self->conn) == 0) {
        if (!self->failure)
            self->failure = PQmakeEmptyPGresult(self->conn, PGRES_FATAL_ERROR);
        return s_answered(self, res_p, err);
    }
    while (wait || !PQisBusy(self->conn)) {
        PGresult *res = PQgetResult(self->conn);
        if (!res) /* the server is ready again: the transaction has ended */
            return s_answered(self, res_p, err);
        ExecStatusType status = PQresultStatus(res);
        PGresult **keep = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? &self->answer
                                                                                  : &self->failure;
        if (*keep)
            PQclear(res);
        else
            *keep = res;
    }
    return 1;
}

int kf_store_run(kf_store_t *self, const char *sql, kf_error_t *err)
{
    if (!self->conn && kf_store_ready(self, err) != 0)
        return -1;
    PGresult *res = PQexec(self->conn, sql);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return 0;
    }
    s_fail(self, res, sql, err);
    PQclear(res);
    return -1;
}

int kf_store_begin(kf_store_t *self, kf_error_t *err)
{
    if (kf_store_ready(self, err) != 0)
        return -1;
    return kf_store_run(self, "BEGIN", err);
}

/* The fate of a COMMIT from its result res (taken): 0 committed, -1 with
   err. COMMIT of a failed transaction "succeeds" as ROLLBACK: that is a
   failure. */
static int s_commit_result(kf_store_t *self, PGresult *res, kf_error_t *err)
{
    if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0) {
        PQclear(res);
        return 0;
    }
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        kf_error("store.commit_rolled_back", "%s", "reason=\"the transaction had failed\"");
        return kf_error_set(err, KF_E_INTERNAL, "", "the transaction was rolled back");
    }
    s_fail(self, res, "COMMIT", err);
    PQclear(res);
    return -1;
}

int kf_store_commit(kf_store_t *self, kf_error_t *err)
{
    if (!self->conn)
        return kf_error_set(err, KF_E_UNAVAILABLE, "", "the store is unreachable; retry shortly");
    return s_commit_result(self, PQexec(self->conn, "COMMIT"), err);
}

int kf_store_commit_send(kf_store_t *self, kf_error_t *err)
{
    assert(!self->sent[0]);
    if (!self->conn)
        return kf_error_set(err, KF_E_UNAVAILABLE, "", "the store is unreachable; retry shortly");
    if (!PQsendQuery(self->conn, "COMMIT")) {
        s_fail(self, NULL, "COMMIT", err);
        return -1;
    }
    snprintf(self->sent, sizeof self->sent, "%s", "COMMIT");
    return 0;
}

int kf_store_committed(kf_store_t *self, bool wait, kf_error_t *err)
{
    PGresult *res = NULL;
    int rc = kf_store_receive(self, wait, &res, err);
    return rc != 0 ? rc : s_commit_result(self, res, err);
}

void kf_store_rollback(kf_store_t *self)
{
    if (!self->conn)
        return;
    if (PQtransactionStatus(self->conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(self->conn, "ROLLBACK");
        PQclear(res);
    }
}

const char *kf_store_sqlstate(kf_store_t *self)
{
    return self->sqlstate;
}

bool kf_store_conninfo_ok(const char *url, char *why, size_t size)
{
    /* libpq reads a value without '=' or a URI prefix as a database name. */
    if (!strchr(url, '=') && strncmp(url, "postgresql://", 13) != 0 &&
        strncmp(url, "postgres://", 11) != 0)
        return true;
    char *reason = NULL;
    PQconninfoOption *options = PQconninfoParse(url, &reason);
    if (options) {
        PQconninfoFree(options);
        return true;
    }
    snprintf(why, size, "%s", reason ? reason : "out of memory");
    why[strcspn(why, "\n")] = '\0';
    char *quoted = strstr(why, ": \"");
    if (quoted && strstr(quoted, url))
        *quoted = '\0';
    PQfreemem(reason);
    return false;
}

char *kf_store_array(const char *const *items, int count)
{
    size_t size = 3;
    for (int i = 0; i < count; i++)
        size += 2 * strlen(items[i]) + 3; /* every character escaped, quotes, comma */
    char *text = (char *)malloc(size);
    assert(text);
    char *at = text;
    *at++ = '{';
    for (int i = 0; i < count; i++) {
        if (i)
            *at++ = ',';
        *at++ = '"';
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *at++ = '\\';
            *at++ = *c;
        }
        *at++ = '"';
    }
    *at++ = '}';
    *at = '\0';
    return text;
}
