/* kefu-router — the ticket-router daemon. */

#include "router.h"
#include "stop.h"

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
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
    rc = router_run(router);
    router_destroy(&router);
    return rc;
}
