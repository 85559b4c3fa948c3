/* kefu-gateway — the Argon2id thread (worker.h). */
#include "worker.h"

#include <string.h>

struct gw_worker {
    zactor_t *actor;
};

/* Does one job. */
static void s_do(gw_job_t *job, const char *dummy)
{
    const char *hash = job->hash[0] ? job->hash : dummy;
    /* The same work whether the staff member exists or not, so the time of
       an answer tells nothing. */
    bool match = crypto_pwhash_str_verify(hash, job->password, strlen(job->password)) == 0;
    job->ok = match && job->hash[0];
    if (job->ok && job->op == GW_JOB_VERIFY_SET)
        job->ok = crypto_pwhash_str(job->fresh_hash, job->fresh, strlen(job->fresh),
                                    crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    sodium_memzero(job->password, sizeof job->password);
    sodium_memzero(job->fresh, sizeof job->fresh);
}

/* The thread: answers each job pointer with itself, done. */
static void s_actor(zsock_t *pipe, void *args)
{
    (void)args;
    char dummy[crypto_pwhash_STRBYTES], random[GW_TOKEN_SIZE];
    kf_token_new("", random);
    if (crypto_pwhash_str(dummy, random, strlen(random), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy[0] = '\0';
    zsock_signal(pipe, 0);
    while (true) {
        char *command = NULL;
        void *job = NULL;
        if (zsock_recv(pipe, "sp", &command, &job) != 0 || !command)
            break;
        bool term = strcmp(command, "$TERM") == 0;
        free(command);
        if (term)
            break;
        if (job) {
            s_do((gw_job_t *)job, dummy);
            zsock_send(pipe, "p", job);
        }
    }
}

gw_worker_t *gw_worker_new(void)
{
    gw_worker_t *self = (gw_worker_t *)zmalloc(sizeof(gw_worker_t));
    self->actor = zactor_new(s_actor, NULL);
    if (!self->actor) {
        free(self);
        return NULL;
    }
    return self;
}

void gw_worker_destroy(gw_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy(&(*self_p)->actor);
    free(*self_p);
    *self_p = NULL;
}

zsock_t *gw_worker_sock(gw_worker_t *self)
{
    return zactor_sock(self->actor);
}

int gw_worker_give(gw_worker_t *self, gw_job_t **job_p)
{
    if (zsock_send(self->actor, "sp", "JOB", *job_p) != 0)
        return -1;
    *job_p = NULL;
    return 0;
}

gw_job_t *gw_worker_take(gw_worker_t *self)
{
    void *job = NULL;
    if (zsock_recv(self->actor, "p", &job) != 0)
        return NULL;
    return (gw_job_t *)job;
}

void gw_job_destroy(gw_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    sodium_memzero(*job_p, sizeof **job_p);
    free(*job_p);
    *job_p = NULL;
}
