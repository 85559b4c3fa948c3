/* kefu-notifier — the notifier daemon (notifier.h). */
#include <signal.h>

#include "notifier.h"

static void s_on_hangup(int signum)
{
    (void)signum;
    notifier_request_reload();
}

int main(int argc, char **argv)
{
    int rc = kf_config_start(
        argc, argv, "kefu-notifier", "notifier",
        "Turns events into SMS and e-mail to owners and staff, from templates in Chinese and\n"
        "English, with retries, quiet hours and no duplicates (services/notifier/README.md).\n"
        "Configured by environment variables only; SIGHUP reloads the templates and reopens\n"
        "the file channel.",
        notifier_settings);
    if (rc >= 0)
        return rc;
    notifier_t *notifier = notifier_new();
    if (!notifier)
        return 1;
    signal(SIGHUP, s_on_hangup);
    rc = notifier_run(notifier);
    notifier_destroy(&notifier);
    return rc;
}
