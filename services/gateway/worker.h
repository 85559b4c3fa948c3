/* kefu-gateway — the password worker: Argon2id verification and hashing
   (libsodium's crypto_pwhash_str, interactive limits) take about 0.1 s, so
   they run in a thread of their own (a zactor), never on the loop. The
   loop hands a job over and takes it back, done, from the actor's socket;
   the HTTP connection that waits for it stays suspended meanwhile. */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#include <czmq.h>
#include <sodium.h>
#include <stdbool.h>

#include "secret.h"

typedef enum {
    GW_JOB_VERIFY,    /* password against hash (a dummy when hash is "") */
    GW_JOB_VERIFY_SET /* password against hash, then hash fresh into fresh_hash */
} gw_job_op_t;

/* One job; the loop owns it again once gw_worker_take returned it. */
typedef struct {
    gw_job_op_t op;
    char hash[crypto_pwhash_STRBYTES];       /* the stored hash, "" when none */
    char password[KF_PASSWORD_MAX + 1];      /* what was typed */
    char fresh[KF_PASSWORD_MAX + 1];         /* GW_JOB_VERIFY_SET: the new password */
    char fresh_hash[crypto_pwhash_STRBYTES]; /* its hash, when ok */
    bool ok;                                 /* verified (and hashed) */
    void *arg;                               /* the caller's */
} gw_job_t;

typedef struct gw_worker gw_worker_t;

/* Starts the thread (which first makes its dummy hash). */
gw_worker_t *gw_worker_new(void);
void gw_worker_destroy(gw_worker_t **self_p);

/* The socket the loop polls for finished jobs. */
zsock_t *gw_worker_sock(gw_worker_t *self);

/* Hands *job_p over to the thread (0), or -1 when it cannot take it (the
   job is left with the caller). */
int gw_worker_give(gw_worker_t *self, gw_job_t **job_p);

/* A finished job (after the socket polled readable), or NULL. */
gw_job_t *gw_worker_take(gw_worker_t *self);

/* Wipes the secrets of a job and frees it. */
void gw_job_destroy(gw_job_t **job_p);

#endif
