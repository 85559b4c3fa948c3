/* intake — takes clients' requests on a ROUTER socket: stores submitted
   reports as tickets (group commit: the submits that arrive together are
   written in one transaction, and each client is answered only after that
   commit; KEFU_INTAKE_CONNECTIONS groups are written at once, each on its
   own store connection, so the next group is written while the last one
   commits), and serves the ticket commands of the kefu client. */
#ifndef INTAKE_H
#define INTAKE_H

#include "config.h"

typedef struct intake intake_t;

/* intake's settings, for --help and the README. */
extern const kf_setting_t intake_settings[];

/* Binds and connects intake's sockets. Returns NULL (logged) when an
   endpoint cannot be used. The store is connected lazily. */
intake_t *intake_new(void);
void intake_destroy(intake_t **self_p);

/* Serves until interrupted (SIGINT/SIGTERM). Returns 0. */
int intake_run(intake_t *self);

#endif
