/* notifier — turns events into messages to owners and staff, and sends
   them (services/notifier/README.md).

   Two duties share one loop and one store connection:
   - consuming: events of the rule table (rules.h) are applied exactly once
     through common/feed.h (consumer 'notifier'): catch-up from the outbox
     on start and periodically, and the bus SUB as the doorbell (an event
     seen there is read back from the store by id and applied at once). In
     the transaction that marks an event processed, one notification row
     per (event, recipient, channel) is written, rendered from the
     templates (templates.h).
   - sending: due notifications are claimed with FOR UPDATE SKIP LOCKED
     (status 'sending', so several instances share the work), or were
     inserted claimed by this instance (due at once), delivered
     (channels.h), and settled: 'sent' with notification.sent, or retried
     after a backoff, or 'failed' with notification.failed after the last
     attempt. Claims of a notifier that died are put back by
     kefu_notify_reclaim and sent again with the same id. */
#ifndef NOTIFIER_H
#define NOTIFIER_H

#include "config.h"

typedef struct notifier notifier_t;

extern const kf_setting_t notifier_settings[];

/* Reads the settings, loads the templates and sets up the channels and
   sockets; NULL (with a message on stderr) when something is wrong. */
notifier_t *notifier_new(void);
void notifier_destroy(notifier_t **self_p);

/* Consumes and sends until interrupted. Returns 0. */
int notifier_run(notifier_t *self);

#endif
