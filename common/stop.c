/* kefu — catching the stop and reload signals (see stop.h). */
#include "stop.h"

#include <czmq.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t s_reload = 0;

/* Asks the daemon's loop to stop; async-signal-safe. */
static void s_on_stop(int signum)
{
    (void)signum;
    zsys_interrupted = 1;
    zctx_interrupted = 1;
}

/* Asks the daemon's loop to reload; async-signal-safe. */
static void s_on_hangup(int signum)
{
    (void)signum;
    s_reload = 1;
}

/* Installs handler for signum, without SA_RESTART so a wait ends. */
static void s_catch(int signum, void (*handler)(int))
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(signum, &action, NULL);
}

void kf_stop_catch(void)
{
    /* czmq must neither install its handler at zsys_init nor restore the
       default one at zsys_shutdown. */
    zsys_handler_set(NULL);
    s_catch(SIGINT, s_on_stop);
    s_catch(SIGTERM, s_on_stop);
    s_catch(SIGHUP, s_on_hangup);
}

bool kf_stop_requested(void)
{
    return zsys_interrupted != 0;
}

bool kf_stop_reload_taken(void)
{
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}

void kf_stop_hold(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void kf_stop_release(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}
