/* kefu — access to the PostgreSQL store.

   One connection per store object (a daemon's thread owns its own). Named
   statements registered with kf_store_statement are prepared on every
   (re)connection. A connection the server closed (a restart of the store)
   is noticed by kf_store_ready between transactions, or else on the
   failing call, which reports KF_E_UNAVAILABLE. Reconnecting backs off from
   100 ms to 5 s between attempts so a dead server is not hammered; but a
   request that is waiting for the store (kf_store_ready_now) may try again
   200 ms after the last attempt, so that once the store answers, the next
   request is served within a second, not after the rest of a 5 s back-off. */
#ifndef KF_STORE_H
#define KF_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "kf_error.h"

typedef struct kf_store kf_store_t;

/* A store for the libpq URL; app_name shows in pg_stat_activity. Does not
   connect yet. */
kf_store_t *kf_store_new(const char *url, const char *app_name);
void kf_store_destroy(kf_store_t **self_p);

/* Registers a statement prepared on each connection as name. */
void kf_store_statement(kf_store_t *self, const char *name, const char *sql);

/* Connects when not connected and the backoff allows. Returns 0 when the
   store is usable now, -1 otherwise (with err: unavailable). */
int kf_store_ready(kf_store_t *self, kf_error_t *err);

/* The same for a request that is waiting for the store now (a client's
   submit, a handshake's certificate check): when not connected, tries at
   once unless the last attempt was under 200 ms ago, whatever the
   back-off. */
int kf_store_ready_now(kf_store_t *self, kf_error_t *err);

/* Blocks until the store is usable or timeout_ms passes (-1: forever,
   stopping early when zsys_interrupted). Returns 0 or -1. */
int kf_store_wait(kf_store_t *self, int timeout_ms);

/* True while connected (as far as the last call knows). */
bool kf_store_connected(kf_store_t *self);

/* Executes the named statement with text parameters (NULL is SQL NULL).
   Returns the result (caller PQclear()s) or NULL with err filled:
   unavailable when the connection failed, internal for any other server
   error (logged with the statement name and SQLSTATE). */
PGresult *kf_store_exec(kf_store_t *self, const char *name, int nparams, const char *const *params,
                        kf_error_t *err);

/* Sends the named statement without waiting for its answer (asynchronous
   use: a daemon polls kf_store_socket and calls kf_store_receive). Outside
   a transaction the statement is its own transaction, committed before its
   answer is complete. No other call may use the store until the answer is
   received. Returns 0, or -1 with err (unavailable when not connected). */
int kf_store_send(kf_store_t *self, const char *name, int nparams, const char *const *params,
                  kf_error_t *err);

/* The socket to poll for the answer of a sent statement; -1 when not
   connected. */
int kf_store_socket(kf_store_t *self);

/* Takes the answer of the statement sent: reads what has arrived (waits
   for all of it when wait). Returns 1 while the answer is incomplete; 0
   with *res_p (caller PQclear()s) once it is complete, that is once its
   transaction has ended (committed, when the statement was its own);
   -1 with err as kf_store_exec when it failed. */
int kf_store_receive(kf_store_t *self, bool wait, PGresult **res_p, kf_error_t *err);

/* Runs fixed SQL without parameters (BEGIN, COMMIT, SAVEPOINT ...). */
int kf_store_run(kf_store_t *self, const char *sql, kf_error_t *err);

int kf_store_begin(kf_store_t *self, kf_error_t *err);
int kf_store_commit(kf_store_t *self, kf_error_t *err);

/* Sends COMMIT of the open transaction without waiting for it, so the
   daemon works on while the store flushes it; its answer is taken with
   kf_store_committed. No other call may use the store until then.
   Returns 0, or -1 with err (unavailable when not connected). */
int kf_store_commit_send(kf_store_t *self, kf_error_t *err);

/* Takes the answer of the COMMIT sent (waits for it when wait): 1 while
   it is incomplete, 0 once committed, -1 with err when the transaction
   was rolled back instead or the store failed (as kf_store_commit). */
int kf_store_committed(kf_store_t *self, bool wait, kf_error_t *err);
/* Rolls back when a transaction is open; harmless otherwise. */
void kf_store_rollback(kf_store_t *self);

/* The SQLSTATE of the last failed call ("" when none). */
const char *kf_store_sqlstate(kf_store_t *self);

/* The text of a PostgreSQL array of the strings items[0..count), each
   quoted, for a text[] (or uuid[], bigint[] ...) parameter. Caller frees. */
char *kf_store_array(const char *const *items, int count);

#endif
