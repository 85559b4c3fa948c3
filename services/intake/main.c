/* kefu-intake — stores what owners report as tickets and answers agents. */
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "intake.h"
#include "log.h"

int main(int argc, char **argv)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        kf_config_help(help ? stdout : stderr, "kefu-intake",
                       "Stores what owners report as tickets and answers the kefu client.\n"
                       "Configured by environment variables only.",
                       intake_settings);
        return help ? 0 : 2;
    }
    if (kf_log_init("intake", kf_config_str(intake_settings, "KEFU_LOG_LEVEL")) != 0) {
        fprintf(stderr, "kefu-intake: KEFU_LOG_LEVEL must be debug, info, warn or error\n");
        return 2;
    }
    signal(SIGHUP, SIG_IGN); /* nothing to reload yet; never die of it */
    intake_t *intake = intake_new();
    if (!intake)
        return 1;
    int rc = intake_run(intake);
    intake_destroy(&intake);
    return rc;
}
