/* approval — kefu-approval's loop: approvers' requests on a ROUTER (the
   state-changing ones committed in groups, KEFU_APPROVAL_CONNECTIONS
   groups at once, each on its own store connection, so the next group is
   written while the last one commits), the deadline scan (reminders,
   timeout actions, at-risk) shared with other instances through the
   store, and the events, published after commit. */
#ifndef APPROVAL_H
#define APPROVAL_H

#include "config.h"

typedef struct approval approval_t;

extern const kf_setting_t approval_settings[];

/* Reads the settings, connects, binds. NULL (after saying why) when the
   daemon cannot start: it then exits 1. */
approval_t *approval_new(void);
void approval_destroy(approval_t **self_p);

/* Runs until SIGINT or SIGTERM; returns the exit code (0). */
int approval_run(approval_t *self);

#endif
