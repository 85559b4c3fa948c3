/* kefu — a CurveZMQ certificate file, and a client socket that presents
   one (see auth_client.h). No store: the kefu client links this alone. */
#include "auth_client.h"

#include <errno.h>
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
