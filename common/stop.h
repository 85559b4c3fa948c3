/* kefu — how a daemon is told to stop: SIGINT and SIGTERM set
   zsys_interrupted, which every daemon's loop checks, for the whole life
   of the process.

   czmq installs such a handler only when its first socket is made and
   puts the default back when it shuts down (at exit), so a SIGTERM before
   the first socket or during the exit, such as a second one from an
   impatient supervisor, killed the daemon (status 143) instead of letting
   it stop cleanly with 0. kf_stop_catch, called first thing in main,
   closes both windows. */
#ifndef KF_STOP_H
#define KF_STOP_H

/* Catches SIGINT and SIGTERM for good and keeps czmq from replacing the
   handler. Idempotent. */
void kf_stop_catch(void);

#endif
