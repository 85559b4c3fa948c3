/* kefu-gateway — HTTP for people: the JSON API of proto/model.json "http"
   over the wire to intake, approval and survey, with staff sign-in and
   sessions. One thread runs everything from one wait (kf_pollset): libmicrohttpd
   (through its epoll descriptor), the DEALERs, the password worker's
   socket and the health endpoint. A request never blocks the loop: its
   connection is suspended until the reply, the worker or the deadline
   resumes it. Holds no state but a cache of recent session touches:
   several gateways run side by side. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "config.h"

typedef struct gateway gateway_t;

/* The settings table (kefu-gateway --help). */
extern const kf_setting_t gateway_settings[];

/* Reads the settings, listens, connects; NULL (said on stderr) when it
   cannot. */
gateway_t *gateway_new(void);
void gateway_destroy(gateway_t **self_p);

/* Serves until SIGINT or SIGTERM; returns the exit code. */
int gateway_run(gateway_t *self);

#endif
