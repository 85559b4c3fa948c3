/* kefu — requests and replies over ROUTER (see sock.h). */
#include "sock.h"

#include <string.h>

#include "log.h"

int kf_request_recv(zsock_t *router, kf_request_t *req)
{
    memset(req, 0, sizeof *req);
    zmsg_t *msg = zmsg_recv(router);
    if (!msg)
        return -1;
    req->arrived = zclock_usecs();
    req->route = zmsg_new();
    zframe_t *identity = zmsg_pop(msg);
    zmsg_append(req->route, &identity);
    /* A REQ peer puts an empty delimiter before its frames: keep it for the
       reply, whatever follows, or the peer never hears back. (A topic frame
       is never empty, so an empty first frame can only be a delimiter.) */
    zframe_t *first = zmsg_first(msg);
    if (first && zframe_size(first) == 0) {
        zframe_t *delimiter = zmsg_pop(msg);
        zmsg_append(req->route, &delimiter);
    }
    /* The ZAP handler gave the connection the client's key as its User-Id
       (auth.c); a routing frame made by the ROUTER itself carries none. */
    const char *key = zmsg_first(msg) ? zframe_meta(zmsg_first(msg), "User-Id") : NULL;
    req->env = kf_env_decode_msg(msg, &req->err);
    /* With a session, the credential is "KEY SESSION", checked by the
       statement that does the work (kefu_key_actor); a token of the wrong
       shape is refused here, before any store access. */
    const char *session = req->env ? kf_env_session(req->env) : "";
    if (kf_cred_compose(req->key, sizeof req->key, key, session, &req->err) != 0)
        kf_env_destroy(&req->env);
    /* A refused envelope is still answered under its id when that can be
       read, so a client with several requests in flight knows which one
       failed. */
    if (req->env)
        snprintf(req->id, sizeof req->id, "%s", kf_env_id(req->env));
    else if (zmsg_size(msg) == 2)
        kf_env_peek_id(zframe_data(zmsg_last(msg)), zframe_size(zmsg_last(msg)), req->id,
                       sizeof req->id);
    zmsg_destroy(&msg);
    return 0;
}

void kf_request_clear(kf_request_t *req)
{
    zmsg_destroy(&req->route);
    kf_env_destroy(&req->env);
}

/* Sends a reply envelope to the peer req came from. */
static int s_reply(zsock_t *router, kf_request_t *req, const char *type, const char *src,
                   kf_body_t **body_p)
{
    zmsg_t *reply = kf_env_encode(type, NULL, 0, 0, src, req->id, body_p);
    zmsg_t *out = zmsg_dup(req->route);
    for (zframe_t *frame = zmsg_pop(reply); frame; frame = zmsg_pop(reply))
        zmsg_append(out, &frame);
    zmsg_destroy(&reply);
    /* A peer that went away must not block the daemon. */
    zsock_set_sndtimeo(router, 0);
    int rc = zmsg_send(&out, router);
    if (rc != 0)
        zmsg_destroy(&out);
    return rc;
}

int kf_reply_ok(zsock_t *router, kf_request_t *req, const char *src, kf_body_t **body_p)
{
    return s_reply(router, req, "reply.ok", src, body_p);
}

int kf_reply_error(zsock_t *router, kf_request_t *req, const char *src, const kf_error_t *err)
{
    kf_body_t *body = kf_body_new();
    kf_body_str(body, "code", kf_err_name(err->code));
    kf_body_str(body, "message", err->message);
    if (err->field[0])
        kf_body_str(body, "field", err->field);
    return s_reply(router, req, "reply.error", src, &body);
}

int kf_turn_away(zsock_t *router, const char *src, const char *name)
{
    kf_error_t err = {0};
    kf_error_set(&err, KF_E_UNAVAILABLE, "", "%s is stopping; retry", name);
    int count = 0;
    while (count < 100000 && (zsock_events(router) & ZMQ_POLLIN)) {
        kf_request_t req;
        if (kf_request_recv(router, &req) != 0)
            break;
        kf_reply_error(router, &req, src, &err);
        kf_request_clear(&req);
        count++;
    }
    return count;
}
