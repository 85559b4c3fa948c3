/* kefu-survey — satisfaction surveys after resolutions and at lifecycle
   milestones; answers, reopening on low scores, and the KPI report. */

#include "survey.h"
#include "stop.h"

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
    int rc = kf_config_start(
        argc, argv, "kefu-survey", "survey",
        "Surveys owners after each resolution and at lifecycle milestones, records the\n"
        "answers of follow-up calls (a score of 1 or 2 reopens the ticket to the owner's\n"
        "manager) and serves the KPI report. Configured by environment variables only.",
        survey_settings);
    if (rc >= 0)
        return rc;
    survey_t *survey = survey_new();
    if (!survey)
        return 1;
    rc = survey_run(survey);
    survey_destroy(&survey);
    return rc;
}
