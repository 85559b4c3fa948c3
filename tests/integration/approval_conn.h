/* The test clients' connections to kefu-approval (kefu-test-approval-decide
   and kefu-test-approval-burst): one DEALER per (certificate, endpoint),
   made on first use, CURVE as the certificate's holder. */
#ifndef APPROVAL_CONN_H
#define APPROVAL_CONN_H

#include <czmq.h>

/* The DEALER of cert at endpoint, made on first use; NULL (said on stderr
   as who) when it cannot be made or 64 are open already. */
zsock_t *approval_conn(const char *cert, const char *endpoint, const char *who);

/* How many are open, and the i-th of them. */
int approval_conn_count(void);
zsock_t *approval_conn_at(int i);

/* Closes them all. */
void approval_conn_close_all(void);

#endif
