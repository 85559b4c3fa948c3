/* kefu — a CurveZMQ certificate file, and a client socket that presents
   one (see auth_client.h). No store: the kefu client links this alone. */
#include "auth_client.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* The secret key of a certificate file that holds only the public one. */
#define S_NO_KEY "0000000000000000000000000000000000000000"

zcert_t *kf_cert_load(const char *path, const char *what, kf_error_t *err)
{
    if (!path || !*path) {
        kf_error_set(err, KF_E_BAD_VALUE, "cert", "no %s certificate given", what);
        return NULL;
    }
    if (access(path, R_OK) != 0) {
        kf_error_set(err, KF_E_BAD_VALUE, "cert", "cannot read the %s certificate %s: %s", what,
                     path, strerror(errno));
        return NULL;
    }
    zcert_t *cert = zcert_load(path);
    if (!cert) {
        kf_error_set(err, KF_E_BAD_VALUE, "cert", "%s is not a certificate (zcert format)", path);
        return NULL;
    }
    if (strcmp(zcert_secret_txt(cert), S_NO_KEY) == 0) {
        kf_error_set(err, KF_E_BAD_VALUE, "cert",
                     "%s holds only a public key; the %s certificate needs its secret key", path,
                     what);
        zcert_destroy(&cert);
        return NULL;
    }
    return cert;
}

/* ---- the client's side ----------------------------------------------- */

int kf_auth_client(zsock_t *sock, const char *path, const char *server_key, kf_error_t *err)
{
    zcert_t *cert = kf_cert_load(path, "your", err);
    if (!cert)
        return -1;
    const char *server = server_key && *server_key ? server_key : zcert_meta(cert, "server-key");
    uint8_t decoded[32];
    if (!server || strlen(server) != KF_KEY_MAX || !zmq_z85_decode(decoded, server)) {
        kf_error_set(err, KF_E_BAD_VALUE, "cert",
                     "%s names no valid server-key (issue it again with kefu-admin cert)", path);
        zcert_destroy(&cert);
        return -1;
    }
    zcert_apply(cert, sock);
    zsock_set_curve_serverkey(sock, server);
    zcert_destroy(&cert);
    return 0;
}

int kf_connect_list(zsock_t *sock, const char *endpoints, kf_error_t *err)
{
    if (strchr(endpoints, ','))
        zsock_set_immediate(sock, 1);
    char list[1024];
    snprintf(list, sizeof list, "%s", endpoints);
    char *save = NULL;
    for (char *one = strtok_r(list, ",", &save); one; one = strtok_r(NULL, ",", &save))
        if (zsock_connect(sock, "%s", one) != 0)
            return kf_error_set(err, KF_E_BAD_VALUE, "endpoint", "cannot use endpoint '%s': %s",
                                one, zmq_strerror(errno));
    return 0;
}

/* ---- a client's handshakes ---------------------------------------------- */

zsock_t *kf_monitor_new(zsock_t *sock, int events)
{
    static atomic_uint serial;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://kefu-monitor-%u", atomic_fetch_add(&serial, 1));
    if (zmq_socket_monitor(zsock_resolve(sock), endpoint, events) != 0)
        return NULL;
    zsock_t *monitor = zsock_new(ZMQ_PAIR);
    if (monitor && zsock_connect(monitor, "%s", endpoint) != 0)
        zsock_destroy(&monitor);
    if (!monitor)
        zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    return monitor;
}

void kf_monitor_destroy(zsock_t *sock, zsock_t **monitor_p)
{
    if (sock && monitor_p && *monitor_p)
        zmq_socket_monitor(zsock_resolve(sock), NULL, 0);
    zsock_destroy(monitor_p);
}

int kf_monitor_event(zsock_t *monitor, uint32_t *value, char **endpoint_p)
{
    zmsg_t *event = zmsg_recv(monitor);
    zframe_t *head = event ? zmsg_first(event) : NULL;
    zframe_t *where = event ? zmsg_next(event) : NULL;
    uint16_t id = 0;
    *value = 0;
    if (head && zframe_size(head) == 6) {
        memcpy(&id, zframe_data(head), 2);
        memcpy(value, zframe_data(head) + 2, 4);
    }
    if (endpoint_p)
        *endpoint_p = where ? zframe_strdup(where) : strdup("");
    zmsg_destroy(&event);
    return id;
}
