/* kefu-test-connections CERT ENDPOINT N: opens N CURVE connections to a
   request server as CERT's holder and sends nothing; closes them all when
   its standard input ends. test_server_trim.sh watches the server's
   memory meanwhile. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth_client.h"

int main(int argc, char **argv)
{
    if (argc != 4 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: kefu-test-connections CERT ENDPOINT N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    zsock_t **socks = (zsock_t **)calloc((size_t)n, sizeof(zsock_t *));
    for (int i = 0; i < n; i++) {
        kf_error_t err = {0};
        socks[i] = zsock_new(ZMQ_DEALER);
        zsock_set_linger(socks[i], 0);
        if (kf_auth_client(socks[i], argv[1], NULL, &err) != 0 ||
            zsock_connect(socks[i], "%s", argv[2]) != 0) {
            fprintf(stderr, "kefu-test-connections: %s: %s\n", argv[1], err.message);
            return 1;
        }
    }
    printf("open %d\n", n);
    fflush(stdout);
    while (getchar() != EOF)
        ;
    for (int i = 0; i < n; i++)
        zsock_destroy(&socks[i]);
    free(socks);
    return 0;
}
