/* kefu-intake — stores what owners report as tickets and answers agents. */

#include "intake.h"
#include "stop.h"

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
    int rc = kf_config_start(argc, argv, "kefu-intake", "intake",
                             "Stores what owners report as tickets and answers the kefu client.\n"
                             "Configured by environment variables only.",
                             intake_settings);
    if (rc >= 0)
        return rc;
    intake_t *intake = intake_new();
    if (!intake)
        return 1;
    rc = intake_run(intake);
    intake_destroy(&intake);
    return rc;
}
