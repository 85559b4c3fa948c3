/* kefu-gateway — the HTTP API of kefu for browsers and phones. */

#include "gateway.h"
#include "stop.h"

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
    int rc = kf_config_start(argc, argv, "kefu-gateway", "gateway",
                             "Serves kefu's JSON API over HTTP (staff sign-in and sessions) as a\n"
                             "client of intake, approval and survey.\n"
                             "Configured by environment variables only.",
                             gateway_settings);
    if (rc >= 0)
        return rc;
    gateway_t *gateway = gateway_new();
    if (!gateway)
        return 1;
    rc = gateway_run(gateway);
    gateway_destroy(&gateway);
    return rc;
}
