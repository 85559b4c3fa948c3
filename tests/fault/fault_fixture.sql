-- The fault run's short time units (tests/fault/run.sh): what a real
-- organisation counts in hours or days, here in seconds, so that deadlines
-- fall due while daemons are being killed, stopped and restarted.

-- Repair requests: a first response within 4 s, then escalation every 4 s
-- (owner -> manager -> department head -> project GM) unless answered; the
-- resolution is due only in an hour, so escalations stop once the levels
-- are used up.
UPDATE sla_policy SET first_response_secs = 4, resolve_secs = 3600, escalate_secs = 4
 WHERE kind = 'repair';

-- Repair costs: any of two engineers (escalated to their manager after 4 s),
-- then finance, which the run leaves silent: approved by policy after 3 s,
-- reminded after 1 s; then the general manager, silent, without delegate or
-- manager: his step goes to the fallback approver, vp.zhou, after 10 s, and
-- from there to the approval administrator (admin) 10 s later. (Longer
-- than a store restart or a daemon's SIGSTOP, so that an approver who acts
-- gets the chance to.)
SELECT kefu_approval_policy_put($$
{"id": "f-repair", "name": "fault run: any-of, a silent finance, a silent GM",
 "type": "repair_cost", "fallback": "vp.zhou",
 "stages": [
  {"rule": "any", "steps": [
    {"label": "engineering head", "approver": {"staff": "eng.sun"}, "deadline_s": 4, "on_timeout": "escalate"},
    {"label": "engineering manager", "approver": {"staff": "eng.liu"}, "deadline_s": 4, "on_timeout": "escalate"}]},
  {"rule": "all", "steps": [
    {"label": "finance", "approver": {"head": "finance"}, "deadline_s": 3, "remind_s": 1, "on_timeout": "approve"}]},
  {"rule": "all", "steps": [
    {"label": "general manager", "approver": {"staff": "gm.zheng"}, "deadline_s": 10, "on_timeout": "delegate"}]}
 ]}
$$::jsonb);
