/* kefu-approval — approval requests run by policy: parallel and sequential
   steps, deadlines, reminders, delegation and escalation. */

#include "approval.h"
#include "stop.h"

int main(int argc, char **argv)
{
    kf_stop_catch(); /* first: stop, reload and a second SIGTERM are caught */
    int rc = kf_config_start(
        argc, argv, "kefu-approval", "approval",
        "Runs approval requests by the policies in the store: opens the steps of each\n"
        "stage, takes approvers' decisions (only from the step's approver or their\n"
        "registered delegate, known by their certificate), reminds, moves a silent\n"
        "approver's step on at its deadline, and warns when a request can no longer\n"
        "finish by the date promised to the owner. Configured by environment variables\n"
        "only; SIGHUP logs the active policies (they are read from the store on every\n"
        "request, so a change applies at once).",
        approval_settings);
    if (rc >= 0)
        return rc;
    approval_t *approval = approval_new();
    if (!approval)
        return 1;
    rc = approval_run(approval);
    approval_destroy(&approval);
    return rc;
}
