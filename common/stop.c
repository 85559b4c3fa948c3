/* kefu — catching the stop signals (see stop.h). */
#include "stop.h"

#include <czmq.h>
#include <signal.h>
#include <string.h>

/* Asks the daemon's loop to stop; async-signal-safe. */
static void s_on_stop(int signum)
{
    (void)signum;
    zsys_interrupted = 1;
    zctx_interrupted = 1;
}

void kf_stop_catch(void)
{
    /* czmq must neither install its handler at zsys_init nor restore the
       default one at zsys_shutdown. */
    zsys_handler_set(NULL);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = s_on_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}
