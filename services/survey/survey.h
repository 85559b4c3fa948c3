/* survey — the kefu-survey daemon: turns every resolution of a ticket into
   a satisfaction survey (consuming ticket.resolved exactly once: the bus's
   SUB is the doorbell, the outbox feed the record), sends surveys when due
   (survey.sent, for the notifier; a FOR UPDATE SKIP LOCKED scan that
   several instances share), and serves people over a ROUTER: answers from
   follow-up calls (a low score reopens the ticket; answers are committed
   in groups, KEFU_SURVEY_CONNECTIONS at once), lifecycle campaigns,
   the survey view and the KPI report. */
#ifndef SURVEY_H
#define SURVEY_H

#include "config.h"

typedef struct survey survey_t;

/* kefu-survey's settings, for --help and the README. */
extern const kf_setting_t survey_settings[];

/* Reads the settings and binds/connects the sockets. Returns NULL (after
   saying why) on a bad setting or an endpoint that cannot be bound. The
   store is connected lazily. */
survey_t *survey_new(void);
void survey_destroy(survey_t **self_p);

/* Serves until interrupted (SIGINT/SIGTERM). Returns 0. */
int survey_run(survey_t *self);

#endif
