/* kefu-notifier — the notifier daemon (notifier.h). */

#include "notifier.h"
#include "stop.h"

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
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
    rc = notifier_run(notifier);
    notifier_destroy(&notifier);
    return rc;
}
