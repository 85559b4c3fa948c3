/* kefu-router — the ticket-router daemon. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "router.h"

static void s_on_hangup(int signum)
{
    (void)signum;
    router_request_reload();
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        kf_config_help(help ? stdout : stderr, "kefu-router",
                       "Gives every ticket one owner and deadlines; escalates overdue tickets.\n"
                       "Configured by environment variables only; SIGHUP reloads the policies.",
                       router_settings);
        return help ? 0 : 2;
    }
    if (kf_log_init("ticket-router", kf_config_str(router_settings, "KEFU_LOG_LEVEL")) != 0) {
        fprintf(stderr, "kefu-router: KEFU_LOG_LEVEL must be debug, info, warn or error\n");
        return 2;
    }
    router_t *router = router_new();
    if (!router)
        return 1;
    signal(SIGHUP, s_on_hangup);
    int rc = router_run(router);
    router_destroy(&router);
    return rc;
}
