-- kefu demo approval policies, loaded after deploy/demo-org.json (the
-- import format does not carry approval policies yet: deploy/ORG-FORMAT.md).
-- Deadlines are calendar seconds; kefu_approval_policy_put (migration 012)
-- replaces a policy of the same id, so loading this again is harmless.

-- The field's seven sequential signatures, kept to compare against: each
-- step 3 days, a reminder after 2, then passed to the approver's delegate
-- (or up to their manager).
SELECT kefu_approval_policy_put($$
{"id": "settlement-seq", "name": "Settlement, seven sequential signatures", "type": "settlement",
 "default": false, "stages": [
  {"rule": "all", "steps": [{"label": "customer-service centre manager", "approver": {"head": "cs"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "engineering", "approver": {"head": "eng"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "cost audit", "approver": {"head": "audit"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "finance", "approver": {"head": "finance"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "VP customer service", "approver": {"staff": "vp.zhou"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "VP finance", "approver": {"staff": "vp.qian"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "general manager", "approver": {"staff": "gm.zheng"}, "deadline_s": 259200, "remind_s": 172800, "on_timeout": "delegate"}]}
 ]}
$$::jsonb);

-- The default: the independent reviews side by side, one day each.
SELECT kefu_approval_policy_put($$
{"id": "settlement", "name": "Settlement, parallel reviews", "type": "settlement", "stages": [
  {"rule": "all", "steps": [{"label": "customer-service centre manager", "approver": {"head": "cs"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"}]},
  {"rule": "all", "steps": [
    {"label": "engineering", "approver": {"head": "eng"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"},
    {"label": "cost audit", "approver": {"head": "audit"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"},
    {"label": "finance", "approver": {"head": "finance"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [
    {"label": "VP customer service", "approver": {"staff": "vp.zhou"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"},
    {"label": "VP finance", "approver": {"staff": "vp.qian"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "general manager", "approver": {"staff": "gm.zheng"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"}]}
 ]}
$$::jsonb);

-- Repair costs: small ones need engineering only (approved at the
-- deadline if engineering says nothing); from 5,000 yuan also cost audit.
SELECT kefu_approval_policy_put($$
{"id": "repair-small", "name": "Repair cost under 5,000 yuan", "type": "repair_cost", "max_yuan": 5000, "stages": [
  {"rule": "any", "steps": [
    {"label": "engineering head", "approver": {"head": "eng"}, "deadline_s": 14400, "remind_s": 7200, "on_timeout": "approve"},
    {"label": "engineering manager", "approver": {"staff": "eng.liu"}, "deadline_s": 14400, "remind_s": 7200, "on_timeout": "approve"}]}
 ]}
$$::jsonb);
SELECT kefu_approval_policy_put($$
{"id": "repair", "name": "Repair cost from 5,000 yuan", "type": "repair_cost", "min_yuan": 5000, "stages": [
  {"rule": "all", "steps": [
    {"label": "engineering", "approver": {"head": "eng"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"},
    {"label": "cost audit", "approver": {"head": "audit"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"}]}
 ]}
$$::jsonb);

-- Refunds: the customer-service centre and finance in parallel.
SELECT kefu_approval_policy_put($$
{"id": "refund", "name": "Refund", "type": "refund", "stages": [
  {"rule": "all", "steps": [
    {"label": "customer-service centre manager", "approver": {"head": "cs"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"},
    {"label": "finance", "approver": {"head": "finance"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"}]}
 ]}
$$::jsonb);

-- Policy exceptions: two of the three executives, then the project GM.
SELECT kefu_approval_policy_put($$
{"id": "policy-exception", "name": "Policy exception", "type": "policy_exception", "stages": [
  {"rule": "quorum", "quorum": 2, "steps": [
    {"label": "VP customer service", "approver": {"staff": "vp.zhou"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"},
    {"label": "VP finance", "approver": {"staff": "vp.qian"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"},
    {"label": "general manager", "approver": {"staff": "gm.zheng"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "delegate"}]},
  {"rule": "all", "steps": [{"label": "project general manager", "approver": {"role": "project_gm"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"}]}
 ]}
$$::jsonb);
