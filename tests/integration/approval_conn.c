/* The test clients' connections to kefu-approval (see approval_conn.h). */
#include "approval_conn.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"

#define S_MAX_SOCKS 64

typedef struct {
    char key[1600];
    zsock_t *sock;
} s_conn_t;

static s_conn_t s_conns[S_MAX_SOCKS];
static int s_nconns;

zsock_t *approval_conn(const char *cert, const char *endpoint, const char *who)
{
    char key[1600];
    snprintf(key, sizeof key, "%s %s", cert, endpoint);
    for (int i = 0; i < s_nconns; i++)
        if (strcmp(s_conns[i].key, key) == 0)
            return s_conns[i].sock;
    if (s_nconns == S_MAX_SOCKS)
        return NULL;
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    kf_error_t err = {0};
    if (kf_auth_client(sock, cert, NULL, &err) != 0 || zsock_connect(sock, "%s", endpoint) != 0) {
        fprintf(stderr, "%s: %s: %s\n", who, cert, err.message);
        zsock_destroy(&sock);
        return NULL;
    }
    zsock_set_linger(sock, 0);
    snprintf(s_conns[s_nconns].key, sizeof s_conns[s_nconns].key, "%s", key);
    s_conns[s_nconns++].sock = sock;
    return sock;
}

int approval_conn_count(void)
{
    return s_nconns;
}

zsock_t *approval_conn_at(int i)
{
    return i >= 0 && i < s_nconns ? s_conns[i].sock : NULL;
}

void approval_conn_close_all(void)
{
    for (int i = 0; i < s_nconns; i++)
        zsock_destroy(&s_conns[i].sock);
    s_nconns = 0;
}
