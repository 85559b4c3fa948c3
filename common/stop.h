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

#include <signal.h>
#include <stdbool.h>

/* Catches SIGINT and SIGTERM (stop and drain) and SIGHUP (reload) for
   good and keeps czmq from replacing the handlers. Idempotent. */
void kf_stop_catch(void);

/* True once SIGINT or SIGTERM arrived. */
bool kf_stop_requested(void);

/* True when SIGHUP arrived since the last call (the flag is cleared). */
bool kf_stop_reload_taken(void);

/* Holds the stop and reload signals back from the calling thread until
   kf_stop_release(old): for a step that a signal must not cut half-way.
   The handlers do not restart system calls (so that the daemons' waits
   end on a stop), and czmq gives up a wait so cut: starting or stopping a
   thread (zactor) or binding a socket then failed or went on without the
   thread, and a daemon told to stop while starting exited 1, or aborted
   at exit. A thread started meanwhile inherits the hold and so never takes
   them. What arrives meanwhile is delivered on release. */
void kf_stop_hold(sigset_t *old);
void kf_stop_release(const sigset_t *old);

#endif
