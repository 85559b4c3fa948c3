/* kefu-router — the ticket-router daemon. */
#include <signal.h>

#include "router.h"

static void s_on_hangup(int signum)
{
    (void)signum;
    router_request_reload();
}

int main(int argc, char **argv)
{
    int rc =
        kf_config_start(argc, argv, "kefu-router", "ticket-router",
                        "Gives every ticket one owner and deadlines; escalates overdue tickets.\n"
                        "Configured by environment variables only; SIGHUP reloads the policies.",
                        router_settings);
    if (rc >= 0)
        return rc;
    router_t *router = router_new();
    if (!router)
        return 1;
    signal(SIGHUP, s_on_hangup);
    rc = router_run(router);
    router_destroy(&router);
    return rc;
}
