/* kefu — CurveZMQ certificates and the ZAP handler (see auth.h). */
#include "auth.h"

#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "log.h"
#include "stop.h"

/* libzmq asks the handler bound here about every CURVE handshake of the
   process (RFC 27, ZAP). */
#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_ZAP_DOMAIN "kefu"

struct kf_auth {
    zcert_t *cert;
    zactor_t *zap;
};

/* What the handler thread needs; copied before it signals. */
typedef struct {
    const char *url;
    const char *app_name;
} s_zap_args_t;

/* ---- the ZAP handler -------------------------------------------------- */

/* "200" when key (z85) belongs to active staff or to a registered,
   unrevoked gateway (kefu_key_admitted), "400" when not, "500"
   when the store cannot say. A client waits on the answer: while the store
   is down, each handshake may try to reconnect at once (kf_store_ready_now,
   at most five times a second), so the first one after the store is back
   is admitted rather than refused for the rest of a back-off. */
static const char *s_verdict(kf_store_t *store, const char *key, char *staff, size_t size)
{
    kf_error_t err = {0};
    if (kf_store_ready_now(store, &err) != 0)
        return "500";
    const char *params[] = {key};
    PGresult *res = kf_store_exec(store, "zap_key", 1, params, &err);
    /* This connection is used only here, so after a restart of the store it
       may be found broken only by this statement: try once more on a fresh
       one rather than refuse a client the store could admit. */
    if (!res && err.code == KF_E_UNAVAILABLE && kf_store_ready_now(store, &err) == 0)
        res = kf_store_exec(store, "zap_key", 1, params, &err);
    if (!res)
        return "500";
    const char *verdict = "400";
    if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        snprintf(staff, size, "%s", PQgetvalue(res, 0, 1));
        verdict = "200";
    }
    PQclear(res);
    return verdict;
}

/* Answers one ZAP request: version, request id, domain, address, routing
   id, mechanism, credentials -> version, request id, status, text, user
   id, metadata. Only CURVE with a 32-byte key can pass. */
static void s_zap_answer(zsock_t *handler, kf_store_t *store)
{
    zmsg_t *request = zmsg_recv(handler);
    if (!request)
        return;
    zframe_t *version = zmsg_pop(request);
    zframe_t *request_id = zmsg_pop(request);
    char *domain = zmsg_popstr(request);
    char *address = zmsg_popstr(request);
    zframe_t *routing_id = zmsg_pop(request);
    char *mechanism = zmsg_popstr(request);
    zframe_t *credential = zmsg_pop(request);

    char key[KF_KEY_MAX + 1] = "", staff[80] = "";
    const char *status = "400", *text = "a kefu certificate is required";
    if (mechanism && strcmp(mechanism, "CURVE") == 0 && credential &&
        zframe_size(credential) == 32) {
        zmq_z85_encode(key, zframe_data(credential), 32);
        status = s_verdict(store, key, staff, sizeof staff);
        text = strcmp(status, "200") == 0   ? "OK"
               : strcmp(status, "500") == 0 ? "the store cannot be reached"
                                            : "certificate not registered or revoked";
    }
    if (strcmp(status, "200") == 0)
        kf_debug("auth.admitted", "holder=%s key=%s address=%s", staff, key,
                 address ? address : "");
    else
        kf_warn("auth.refused", "status=%s reason=\"%s\" mechanism=%s key=%s address=%s", status,
                text, mechanism ? mechanism : "", key[0] ? key : "-", address ? address : "");

    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "1.0");
    if (request_id)
        zmsg_append(reply, &request_id);
    else
        zmsg_addstr(reply, "");
    zmsg_addstr(reply, status);
    zmsg_addstr(reply, text);
    zmsg_addstr(reply, strcmp(status, "200") == 0 ? key : "");
    zmsg_addmem(reply, NULL, 0);
    zmsg_send(&reply, handler);

    zframe_destroy(&version);
    zframe_destroy(&request_id);
    zframe_destroy(&routing_id);
    zframe_destroy(&credential);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&mechanism);
    zmsg_destroy(&request);
}

/* The handler thread: answers handshakes until told $TERM. A signal to
   the daemon does not end it; the daemon's stop does. */
static void s_zap_actor(zsock_t *pipe, void *arg)
{
    const s_zap_args_t *args = (const s_zap_args_t *)arg;
    kf_store_t *store = kf_store_new(args->url, args->app_name);
    /* Who holds it, for the log: a staff id, "gateway:NAME", or "". */
    kf_store_statement(store, "zap_key",
                       "SELECT kefu_key_admitted($1), coalesce((SELECT staff_id FROM "
                       "kefu_key_actor($1)), (SELECT 'gateway:' || name FROM gateway_key "
                       "WHERE public_key = $1), '')");
    zsock_t *handler = zsock_new(ZMQ_REP);
    int rc = handler ? zsock_bind(handler, S_ZAP_ENDPOINT) : -1;
    /* zactor_new waits for the signal; the outcome of the bind follows. */
    zsock_signal(pipe, 0);
    zstr_send(pipe, rc == 0 ? "ok" : zmq_strerror(zmq_errno()));
    zpoller_t *poller = rc == 0 ? zpoller_new(pipe, handler, NULL) : NULL;
    if (poller)
        zpoller_set_nonstop(poller, true);
    while (poller) {
        void *which = zpoller_wait(poller, 1000);
        if (which == handler)
            s_zap_answer(handler, store);
        else if (which == pipe) {
            char *command = zstr_recv(pipe);
            bool term = !command || strcmp(command, "$TERM") == 0;
            zstr_free(&command);
            if (term)
                break;
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&handler);
    kf_store_destroy(&store);
}

/* ---- the daemon's side --------------------------------------------------- */

kf_auth_t *kf_auth_new(const kf_setting_t *table, const char *app_name)
{
    const char *path = kf_config_str(table, "KEFU_CURVE_CERT");
    kf_error_t err = {0};
    zcert_t *cert = kf_cert_load(path, "daemons'", &err);
    if (!cert) {
        fprintf(stderr,
                "%s: KEFU_CURVE_CERT=%s: %s (an operator creates it with: kefu-admin "
                "server-cert --out FILE)\n",
                app_name, path, err.message);
        return NULL;
    }
    kf_auth_t *self = (kf_auth_t *)zmalloc(sizeof(kf_auth_t));
    self->cert = cert;
    s_zap_args_t args = {kf_config_str(table, "KEFU_DATABASE_URL"), app_name};
    sigset_t old; /* the thread is started whole, and never takes a signal */
    kf_stop_hold(&old);
    self->zap = zactor_new(s_zap_actor, &args);
    char *outcome = self->zap ? zstr_recv(self->zap) : NULL;
    kf_stop_release(&old);
    if (!outcome || strcmp(outcome, "ok") != 0) {
        fprintf(stderr, "%s: cannot start the certificate check on %s: %s\n", app_name,
                S_ZAP_ENDPOINT, outcome ? outcome : "no thread");
        zstr_free(&outcome);
        kf_auth_destroy(&self);
        return NULL;
    }
    zstr_free(&outcome);
    kf_info("auth.ready", "cert=%s server_key=%s", path, zcert_public_txt(cert));
    return self;
}

void kf_auth_destroy(kf_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kf_auth_t *self = *self_p;
    sigset_t old; /* waits for the thread's end, whatever arrives */
    kf_stop_hold(&old);
    zactor_destroy(&self->zap);
    kf_stop_release(&old);
    zcert_destroy(&self->cert);
    free(self);
    *self_p = NULL;
}

void kf_auth_serve(kf_auth_t *self, zsock_t *sock)
{
    zcert_apply(self->cert, sock);
    zsock_set_curve_server(sock, 1);
    /* With a domain set, libzmq refuses every handshake the handler does
       not approve, also should the handler be gone. */
    zsock_set_zap_domain(sock, S_ZAP_DOMAIN);
}

/* ---- the actor of a request ------------------------------------------- */

bool kf_session_token_ok(const char *token)
{
    size_t n = token ? strlen(token) : 0;
    if (n < KF_SESSION_MIN || n > KF_SESSION_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = token[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int kf_password_check(const char *staff, const char *password, kf_error_t *err)
{
    size_t bytes = strlen(password);
    if (!kf_utf8_valid(password, bytes))
        return kf_error_set(err, KF_E_BAD_UTF8, "password", "the password is not valid UTF-8");
    if (bytes > KF_PASSWORD_MAX)
        return kf_error_set(err, KF_E_BAD_VALUE, "password", "the password is longer than %d bytes",
                            KF_PASSWORD_MAX);
    size_t chars = 0;
    for (size_t i = 0; i < bytes; i++)
        chars += ((unsigned char)password[i] & 0xC0) != 0x80; /* not a continuation byte */
    if (chars < KF_PASSWORD_MIN)
        return kf_error_set(err, KF_E_BAD_VALUE, "password",
                            "the password is shorter than %d characters", KF_PASSWORD_MIN);
    if (staff && strcmp(staff, password) == 0)
        return kf_error_set(err, KF_E_BAD_VALUE, "password",
                            "the password must not be the staff id");
    return 0;
}

int kf_cred_compose(char *cred, size_t size, const char *key, const char *session, kf_error_t *err)
{
    assert(size > KF_CRED_MAX);
    cred[0] = '\0';
    if (session && *session && !kf_session_token_ok(session))
        return kf_error_set(err, KF_E_BAD_VALUE, "session",
                            "a session is %d to %d characters of A-Z a-z 0-9 _ -", KF_SESSION_MIN,
                            KF_SESSION_MAX);
    if (!key || !*key)
        return 0; /* no certificate: no one (kf_auth_actor says so) */
    if (session && *session)
        snprintf(cred, size, "%.*s %s", KF_KEY_MAX, key, session);
    else
        snprintf(cred, size, "%.*s", KF_KEY_MAX, key);
    return 0;
}

void kf_auth_prepare(kf_store_t *store)
{
    kf_store_statement(store, "kf_key_actor", "SELECT staff_id, role FROM kefu_key_actor($1)");
    kf_store_statement(store, "kf_staff_role", "SELECT role FROM staff WHERE id = $1 AND active");
}

int kf_auth_actor(kf_store_t *store, const char *key, char *staff, char *role, kf_error_t *err)
{
    if (!key || !*key)
        return kf_error_set(err, KF_E_UNKNOWN_ACTOR, "cert",
                            "the request came without a certificate");
    const char *params[] = {key};
    PGresult *res = kf_store_exec(store, "kf_key_actor", 1, params, err);
    if (!res)
        return -1;
    int rc = 0;
    bool web = strchr(key, ' ') != NULL; /* "GATEWAYKEY SESSION" (kf_cred_compose) */
    if ((PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) && web)
        rc = kf_error_set(err, KF_E_UNKNOWN_ACTOR, "session",
                          "the web session is not open (signed out, expired or ended, its holder "
                          "inactive or due to change the password), or the gateway's certificate "
                          "%.8s... is not registered or has been revoked",
                          key);
    else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        rc = kf_error_set(err, KF_E_UNKNOWN_ACTOR, "cert",
                          "the certificate %.8s... is not registered, has been revoked, or its "
                          "holder is not active staff",
                          key);
    else {
        snprintf(staff, 65, "%s", PQgetvalue(res, 0, 0));
        if (role)
            snprintf(role, 16, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

int kf_auth_role(kf_store_t *store, const char *id, char *role, size_t size, kf_error_t *err)
{
    const char *params[] = {id};
    PGresult *res = kf_store_exec(store, "kf_staff_role", 1, params, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(role, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found ? 0 : kf_error_set(err, KF_E_UNKNOWN_ACTOR, "actor", "%s is not active staff", id);
}
