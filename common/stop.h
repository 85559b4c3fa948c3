/* kefu — how a daemon is told to stop or to reload: SIGINT and SIGTERM set
   zsys_interrupted, which every daemon's loop checks, for the whole life
   of the process; SIGHUP sets a reload flag the loop takes with
   kf_stop_reload_taken.

   czmq installs such a handler only when its first socket is made and
   puts the default back when it shuts down (at exit), so a SIGTERM before
   the first socket or during the exit, such as a second one from an
   impatient supervisor, killed the daemon (status 143) instead of letting
   it stop cleanly with 0. kf_stop_catch, called first thing in every
   daemon's main, closes both windows: the handlers stay for good, and a
   stop request always ends in exit status 0. */
#ifndef KF_STOP_H
#define KF_STOP_H

#include <stdbool.h>

/* Catches SIGINT and SIGTERM (stop and drain) and SIGHUP (reload) for
   good and keeps czmq from replacing the handlers. Idempotent. */
void kf_stop_catch(void);

/* True once SIGINT or SIGTERM arrived. */
bool kf_stop_requested(void);

/* True when SIGHUP arrived since the last call (the flag is cleared). */
bool kf_stop_reload_taken(void);

#endif
