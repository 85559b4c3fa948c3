-- Approval policies of the approval tests, in seconds a real one would
-- count in days (tests/integration/test_approval*.sh; kefu_approval_policy_put
-- is migration 012's loader).
--  t-race    refund: any of eng.sun and eng.liu, then finance (fin.lin)
--  t-move    repair_cost: audit.guo, reminded at 1 s, escalated at 2 s
--  t-quorum  policy_exception: 2 of vp.zhou, vp.qian, gm.zheng
SELECT kefu_approval_policy_put($$
{"id": "t-race", "name": "test: any-of, then one", "type": "refund", "stages": [
  {"rule": "any", "steps": [
    {"label": "engineering head", "approver": {"staff": "eng.sun"}, "deadline_s": 600, "on_timeout": "escalate"},
    {"label": "engineering manager", "approver": {"staff": "eng.liu"}, "deadline_s": 600, "on_timeout": "escalate"}]},
  {"rule": "all", "steps": [
    {"label": "finance", "approver": {"head": "finance"}, "deadline_s": 600, "remind_s": 300, "on_timeout": "delegate"}]}
 ]}
$$::jsonb);
SELECT kefu_approval_policy_put($$
{"id": "t-move", "name": "test: a deadline of 2 s", "type": "repair_cost", "stages": [
  {"rule": "all", "steps": [
    {"label": "cost audit", "approver": {"head": "audit"}, "deadline_s": 2, "remind_s": 1, "on_timeout": "escalate"}]}
 ]}
$$::jsonb);
SELECT kefu_approval_policy_put($$
{"id": "t-quorum", "name": "test: two of three", "type": "policy_exception", "stages": [
  {"rule": "quorum", "quorum": 2, "steps": [
    {"label": "VP customer service", "approver": {"staff": "vp.zhou"}, "deadline_s": 600, "on_timeout": "delegate"},
    {"label": "VP finance", "approver": {"staff": "vp.qian"}, "deadline_s": 600, "on_timeout": "delegate"},
    {"label": "general manager", "approver": {"staff": "gm.zheng"}, "deadline_s": 600, "on_timeout": "delegate"}]}
 ]}
$$::jsonb);
