/* survey — the requests people make of kefu-survey: record a follow-up
   call's answer (reopening the ticket on a low score), start a lifecycle
   campaign, show a ticket's surveys. Each handler reads the facts from the
   store, asks plan.h what follows, has the store record it in one
   transaction, and fills the reply body; on error it fills err (a named
   code with a message for the person) and the store is left unchanged. */
#ifndef SURVEY_ANSWERS_H
#define SURVEY_ANSWERS_H

#include <czmq.h>
#include <stddef.h>

#include "envelope.h"
#include "requests.h"
#include "store.h"

/* Registers the handlers' statements on store; call once. */
void answers_prepare(kf_store_t *store);

/* What an answer did, for the log line written once it is committed. */
typedef struct {
    bool written; /* false: a duplicate, nothing was written */
    char survey[24];
    char ticket[33];
    char from[65];
    char to[65]; /* the new owner; "" unless the ticket was reopened */
    int score;
} answer_done_t;

/* Records the answer to the latest sent survey of req->ticket (or to survey
   req->survey) after checking that req->actor may (unknown_actor,
   forbidden): survey.answered, and on a score of 1 or 2 the ticket
   reopened to the owner's manager. The same answer again replies
   duplicate; a different one is a conflict. The events written are
   appended to outbox (PGresult rows of event columns) for publishing.
   Inside a transaction the caller opened (group commit: the answers that
   arrive together share one, common/group.h); done says what it wrote. A
   refusal (-1 with a code other than unavailable or internal) leaves the
   transaction usable; after unavailable or internal the caller must roll
   back. Returns 0 or -1. */
int answers_record_in(kf_store_t *store, const answer_req_t *req, kf_body_t *reply, zlist_t *outbox,
                      const char *src, answer_done_t *done, kf_error_t *err);

/* Logs a committed answer (and the reopening it made). */
void answers_log(const answer_req_t *req, const answer_done_t *done);

/* Starts a campaign (or finds the one run within window_s seconds).
   Sets *created to the number of surveys created now. Returns 0 or -1. */
int answers_campaign(kf_store_t *store, const campaign_req_t *req, const char *role, long window_s,
                     kf_body_t *reply, int *created, kf_error_t *err);

/* The surveys of a ticket, or one survey by id. Returns 0 or -1. */
int answers_show(kf_store_t *store, const show_req_t *req, kf_body_t *reply, kf_error_t *err);

#endif
