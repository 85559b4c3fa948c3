#!/usr/bin/env bash
# kefu-admin import (deploy/ORG-FORMAT.md) against a real store:
#  1. deploy/demo-org.json, which the harness loads, makes the same organisation as
#     deploy/demo-org.sql; and into an empty store it creates every row once;
#  2. a re-run changes nothing (no row version, no sequence value, no import_run row);
#  3. a file with several problems names each with its place and changes nothing;
#  4. a changed file applies exactly its changes; --check applies nothing;
#  5. absent_staff "deactivate" deactivates the staff not listed, and is refused when
#     that would leave a rule without its owner;
#  6. approval policies: a re-run updates a changed policy (running requests keep
#     their steps), and a change that would stall running requests is refused.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init import_org
it_pg_start # migrations + deploy/demo-org.json through kefu-admin import
demo_json=$KEFU_SOURCE_DIR/deploy/demo-org.json
demo_sql=$KEFU_SOURCE_DIR/deploy/demo-org.sql

# The organisation as text, one row a line: everything except unit ids, which
# only number rows (routing rule ids are kept: the router breaks ties by them).
org_dump() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'department', id, name, name_zh, head_id FROM department ORDER BY id;
SELECT 'staff', id, name, department_id, role, manager_id, email, phone, lang, active FROM staff ORDER BY id;
SELECT 'project', id, name, city, gm_id FROM project ORDER BY id;
SELECT 'building', project_id, code FROM building ORDER BY 2, 3;
SELECT 'unit', project_id, building, unit_no FROM unit ORDER BY 2, 3, 4;
SELECT 'rule', id, kind, category, project_id, department_id, owner_id, note FROM routing_rule ORDER BY id;
SELECT 'sla', kind, priority, first_response_secs, resolve_secs, escalate_secs FROM sla_policy ORDER BY 2, 3;
SQL
}

# Every organisation row with its row version (org_rows), and the serial
# sequences too (org_versions): equal before and after means nothing was written.
org_versions() {
    org_rows
    it_psql "SELECT last_value FROM unit_id_seq"
    it_psql "SELECT last_value FROM routing_rule_id_seq"
}
org_rows() {
    it_psql "SELECT string_agg(t || ':' || k || ':' || x, ',' ORDER BY t, k) FROM (
               SELECT 'd' t, id k, xmin::text x FROM department
               UNION ALL SELECT 's', id, xmin::text FROM staff
               UNION ALL SELECT 'p', id, xmin::text FROM project
               UNION ALL SELECT 'b', project_id || '/' || code, xmin::text FROM building
               UNION ALL SELECT 'u', id::text, xmin::text FROM unit
               UNION ALL SELECT 'r', id::text, xmin::text FROM routing_rule
               UNION ALL SELECT 'l', kind || '/' || priority, xmin::text FROM sla_policy
               UNION ALL SELECT 'a', id, xmin::text FROM approval_policy
               UNION ALL SELECT 'g', policy_id || '/' || stage, xmin::text FROM approval_policy_stage
               UNION ALL SELECT 'q', policy_id || '/' || stage || '/' || step, xmin::text
                           FROM approval_policy_step) v"
}

# Empties the organisation (and, by CASCADE, the empty ticket tables), so that
# one store serves both loads: no second database, no second migration run.
org_truncate() {
    it_psql "TRUNCATE department, staff, project, building, unit, homeowner, homeowner_unit,
             routing_rule, sla_policy, approval_policy RESTART IDENTITY CASCADE" >/dev/null
}

# ---- 1. the JSON and the SQL make the same organisation ----------------------
[[ -f $demo_sql ]] || it_fail "deploy/demo-org.sql is gone: compare with a fixed expectation instead"
grep -q "units  *864 new" "$IT_DIR/log/demo-org.log" ||
    it_fail "the harness's import did not create the 864 units: $(cat "$IT_DIR/log/demo-org.log")"
org_dump "$KEFU_DATABASE_URL" >"$IT_DIR/from_json.txt"
org_truncate
psql -X -q -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" -f "$demo_sql" >/dev/null
org_dump "$KEFU_DATABASE_URL" >"$IT_DIR/from_sql.txt"
[[ $(wc -l <"$IT_DIR/from_json.txt") -ge 900 ]] || it_fail "the JSON-loaded organisation is nearly empty"
diff -u "$IT_DIR/from_sql.txt" "$IT_DIR/from_json.txt" >&2 ||
    it_fail "deploy/demo-org.json and deploy/demo-org.sql make different organisations (diff above)"
it_note "demo-org.json and demo-org.sql: identical ($(wc -l <"$IT_DIR/from_json.txt") rows)"

# Into an empty store: every row created once, in one run.
org_truncate
t0=${EPOCHREALTIME/./}
out=$(kefu-admin import --json "$demo_json")
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
counts=$(jq -c '[.counts[] | .created]' <<<"$out")
[[ $counts == "[7,18,2,12,864,12,15,6,0]" ]] || it_fail "created counts $counts; output: $out"
[[ $(jq -r '.changed' <<<"$out") == true && $(jq -r '.run' <<<"$out") =~ ^[0-9]+$ ]] ||
    it_fail "an import into an empty store reports $out"
org_dump "$KEFU_DATABASE_URL" | diff -u "$IT_DIR/from_sql.txt" - >&2 ||
    it_fail "the import into an emptied store differs from the SQL's organisation"
it_note "demo import into an empty store: ${ms} ms wall ($(jq -r .elapsed_ms <<<"$out") ms in kefu)"

# ---- 2. a re-run is a no-op --------------------------------------------------
before=$(org_versions)
runs=$(it_psql "SELECT count(*) FROM import_run")
out=$(kefu-admin import "$demo_json") || it_fail "re-running the demo import failed: $out"
grep -q "no changes" <<<"$out" || it_fail "a re-run did not say 'no changes': $out"
[[ $(org_versions) == "$before" ]] || it_fail "a re-run of the same file wrote rows or moved a sequence"
[[ $(it_psql "SELECT count(*) FROM import_run") == "$runs" ]] || it_fail "a no-change run left an import_run row"

# ---- 3. several problems, each with its place; nothing applied ----------------
sed -e 's/"id": "eng.zhao", "name": "赵强", "department": "eng", "role": "staff", "manager": "eng.liu"/"id": "eng.zhao", "name": "赵强", "department": "eng", "role": "staff", "manager": "eng.liu2"/' \
    -e '0,/"codes": \["1", "2", "3", "4", "5", "6"\], "floors": 18, "units_per_floor": 4}/s//"codes": ["1", "2", "3", "4", "5", "6"], "floors": 18, "units_per_floor": 4, "units": ["abc"]}/' \
    -e 's/"category": "heating", "department": "eng", "owner": "eng.liu"/"category": "heating", "department": "eng", "owner": "sales.xu"/' \
    -e 's/"name": "Engineering"/"name": "Engineering dept"/' \
    -e 's/"role": "agent", "manager": "cs.wang", "email": "agent.chen/"role": "clerk", "manager": "cs.wang", "email": "agent.chen/' \
    -e 's/"absent_staff": "keep"/"absent_staff": "keep", "colour": "red"/' \
    -e 's/{"head": "finance"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"/{"staff": "x"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"/' \
    "$demo_json" >"$IT_DIR/bad.json"
rc=0
kefu-admin import "$IT_DIR/bad.json" >"$IT_DIR/bad.out" 2>"$IT_DIR/bad.err" || rc=$?
[[ $rc == 1 ]] || it_fail "an invalid file exited $rc, expected 1: $(cat "$IT_DIR/bad.err")"
expect_problem() {
    grep -qxF "$IT_DIR/bad.json: $1" "$IT_DIR/bad.err" ||
        it_fail "missing problem '$1'; got: $(cat "$IT_DIR/bad.err")"
}
expect_problem '$.staff[10].manager: eng.liu2 is not a staff member of this file or the store'
expect_problem "\$.projects[0].buildings[0].units[0]: 'abc' is not a unit number (1-16 letters, digits or '-', with a digit)"
expect_problem '$.routing_rules[3].owner: sales.xu works in department sales, not eng'
expect_problem "\$.staff[7].role: 'clerk' is not one of: agent, staff, manager, head, gm, vp, admin"
expect_problem "\$.approval_policies[4].stages[0].steps[1].approver: unknown staff member 'x' (not in this file or the store)"
expect_problem "\$: unknown key 'colour' (known: format, absent_staff, departments, staff, projects, routing_rules, sla_policies, approval_policies, approval_admin, service_centre)"
grep -q "6 problem(s); nothing was applied" "$IT_DIR/bad.err" ||
    it_fail "the problem count is not 6: $(cat "$IT_DIR/bad.err")"
[[ $(org_versions) == "$before" ]] || it_fail "a refused file changed the store"
[[ $(it_psql "SELECT name FROM department WHERE id = 'eng'") == Engineering ]] ||
    it_fail "the valid part of a refused file was applied"
# --json names them too.
rc=0
kefu-admin import --json "$IT_DIR/bad.json" >"$IT_DIR/bad.jout" 2>/dev/null || rc=$?
[[ $rc == 1 && $(jq -r '.errors | length' "$IT_DIR/bad.jout") == 6 &&
   $(jq -r '.errors[] | select(.place == "$.staff[10].manager") | .code' "$IT_DIR/bad.jout") == reference ]] ||
    it_fail "--json of an invalid file: $(cat "$IT_DIR/bad.jout")"
# Not JSON at all: the place is a line and column.
printf '{"format": "kefu-org/1",\n "staff": [}\n' >"$IT_DIR/syntax.json"
rc=0
err=$(kefu-admin import "$IT_DIR/syntax.json" 2>&1) || rc=$?
[[ $rc == 1 ]] && grep -q "syntax.json: line 2, column [0-9]*: not valid JSON" <<<"$err" ||
    it_fail "a JSON syntax error was reported as ($rc): $err"

# ---- 4. a changed file applies exactly its changes ----------------------------
sed -e 's/"email": "eng.zhao@kefu.example"/"email": "zhao.qiang@kefu.example", "phone": "+86 139 0000 1111"/' \
    -e 's/"category": "leak", "department": "eng", "owner": "eng.zhao"/"category": "leak", "department": "eng", "owner": "eng.liu"/' \
    -e 's/"kind": "complaint", "priority": "normal", "first_response_secs": 86400/"kind": "complaint", "priority": "normal", "first_response_secs": 43200/' \
    -e 's/     "buildings": \[{"codes": \["1", "2", "3", "4", "5", "6"\], "floors": 18, "units_per_floor": 4}\]}/     "comment": "buildings left out"}/' \
    -e 's/"name": "浦东湾", "city": "上海", "gm": "gm.sh",/"name": "浦东湾", "city": "上海", "gm": "gm.sh",\n     "buildings": [{"code": "7", "floors": [1, 2], "units_per_floor": 2, "units": ["B1-01"]}],/' \
    -e 's/^    {"id": "admin", /    {"id": "eng.qin", "name": "秦工", "department": "eng", "role": "staff", "manager": "eng.liu"},\n&/' \
    "$demo_json" >"$IT_DIR/changed.json"
# --check runs the statements and rolls back: rows stay (sequences may move).
rows_before=$(org_rows)
out=$(kefu-admin import --check --json "$IT_DIR/changed.json") || it_fail "--check of a changed file failed: $out"
[[ $(jq -r '.applied' <<<"$out") == false && $(jq -r '.changed' <<<"$out") == true ]] ||
    it_fail "--check reported $out"
[[ $(org_rows) == "$rows_before" ]] || it_fail "--check changed the store"
out=$(kefu-admin import --json "$IT_DIR/changed.json") || it_fail "importing a changed file failed: $out"
got=$(jq -c '[.counts.staff.created, .counts.staff.changed, .counts.buildings.created,
             .counts.units.created, .counts["routing rules"].changed,
             .counts["SLA policies"].changed, .counts.departments.changed, .counts.projects.changed]' <<<"$out")
[[ $got == "[1,1,1,5,1,1,0,0]" ]] || it_fail "a changed file made changes $got: $out"
[[ $(it_psql "SELECT email || ' ' || phone FROM staff WHERE id = 'eng.zhao'") == "zhao.qiang@kefu.example 13900001111" ]] ||
    it_fail "eng.zhao's e-mail and phone were not changed"
[[ $(it_psql "SELECT owner_id FROM routing_rule WHERE kind IS NULL AND category = 'leak' AND project_id IS NULL") == eng.liu ]] ||
    it_fail "the leak rule's owner was not changed"
[[ $(it_psql "SELECT first_response_secs FROM sla_policy WHERE kind = 'complaint' AND priority = 'normal'") == 43200 ]] ||
    it_fail "the SLA policy was not changed"
[[ $(it_psql "SELECT string_agg(unit_no, ',' ORDER BY unit_no) FROM unit WHERE project_id = 'SH-PD' AND building = '7'") == "101,102,201,202,B1-01" ]] ||
    it_fail "building 7's units are not 101,102,201,202,B1-01"
# Buildings the file no longer lists stay; rows it did not change kept their version.
[[ $(it_psql "SELECT count(*) FROM unit WHERE project_id = 'HZ-XH'") == 432 ]] ||
    it_fail "units of a building left out of the file were touched"
[[ $(it_psql "SELECT count(*) FROM staff WHERE xmin::text = (SELECT xmin::text FROM staff WHERE id = 'eng.qin')") == 2 ]] ||
    it_fail "more staff rows than eng.qin and eng.zhao were rewritten"
it_psql "SELECT 1 FROM import_run WHERE kind = 'org' AND file = '$IT_DIR/changed.json' AND (counts->'staff'->>'changed')::int = 1" |
    grep -qx 1 || it_fail "the run was not recorded in import_run"
# And the same changed file again: no changes.
out=$(kefu-admin import "$IT_DIR/changed.json")
grep -q "no changes" <<<"$out" || it_fail "re-running the changed file changed something: $out"

# ---- 5. absent_staff "deactivate" -----------------------------------------------
grep -v '"id": "sales.xu"' "$IT_DIR/changed.json" |
    sed 's/"absent_staff": "keep"/"absent_staff": "deactivate"/' >"$IT_DIR/shrink.json"
rc=0
err=$(kefu-admin import "$IT_DIR/shrink.json" 2>&1) || rc=$?
[[ $rc == 1 ]] && grep -qF '$.routing_rules[9].owner: sales.xu is not in this file, and absent_staff "deactivate" would make them inactive' <<<"$err" ||
    it_fail "deactivating a rule's owner was not refused ($rc): $err"
sed -i 's/"category": "sales-promise", "department": "sales", "owner": "sales.xu"/"category": "sales-promise", "department": "sales"/' "$IT_DIR/shrink.json"
out=$(kefu-admin import --json "$IT_DIR/shrink.json") || it_fail "the shrunk file failed: $out"
[[ $(jq -r '.counts.staff.deactivated' <<<"$out") == 1 ]] || it_fail "expected 1 deactivated: $out"
[[ $(it_psql "SELECT active FROM staff WHERE id = 'sales.xu'") == f &&
   $(it_psql "SELECT count(*) FROM staff WHERE active") == 18 ]] ||
    it_fail "sales.xu is not the one staff member deactivated"

# ---- 6. approval policies ---------------------------------------------------------
# A request running under refund (stage 1 open) and one under policy-exception
# whose steps reach stage 2, written as kefu-approval leaves them.
it_psql "INSERT INTO homeowner (phone, name) VALUES ('13900000009', '测试业主');
  INSERT INTO ticket (no, kind, category, channel, priority, status, project_id, homeowner_id, summary,
                      created_by, owner_id, department_id, received_at, routed_at)
  SELECT 'KF-2026-990001', 'complaint', 'other', 'phone', 'normal', 'routed', 'HZ-XH', id, 'import test',
         'agent.li', 'agent.li', 'cs', now(), now() FROM homeowner WHERE phone = '13900000009';
  INSERT INTO approval_request (ticket_id, request_type, amount_fen, reason, promised_date, promised_at,
                                policy_id, requested_by)
  SELECT t.id, x.type, 100, 'import test', current_date + 7, now() + interval '7 days', x.policy, 'agent.li'
    FROM ticket t, (VALUES ('refund', 'refund'), ('policy_exception', 'policy-exception')) x (type, policy)
   WHERE t.no = 'KF-2026-990001';
  INSERT INTO approval_step (request_id, stage, step, label, approver, deadline_s, remind_s, on_timeout,
                             status, assigned_to, assigned_at)
  SELECT r.id, ps.stage, ps.step, ps.label, kefu_approval_approver(ps.approver_kind, ps.approver, r.ticket_id),
         ps.deadline_s, ps.remind_s, ps.on_timeout, CASE ps.stage WHEN 1 THEN 'pending' ELSE 'waiting' END,
         CASE ps.stage WHEN 1 THEN kefu_approval_approver(ps.approver_kind, ps.approver, r.ticket_id) END,
         CASE ps.stage WHEN 1 THEN now() END
    FROM approval_request r JOIN approval_policy_step ps ON ps.policy_id = r.policy_id;
  INSERT INTO approval_request_stage (request_id, stage, rule, quorum)
  SELECT r.id, g.stage, g.rule, g.quorum
    FROM approval_request r JOIN approval_policy_stage g ON g.policy_id = r.policy_id" >/dev/null
# refund's finance step: a day -> 12 h, and a new policy.
sed -e 's/{"head": "finance"}, "deadline_s": 86400, "remind_s": 57600, "on_timeout": "escalate"/{"head": "finance"}, "deadline_s": 43200, "remind_s": 21600, "on_timeout": "escalate"/' \
    -e 's/^  "approval_policies": \[$/&\n    {"id": "refund-large", "type": "refund", "min_yuan": "10000.50", "default": false, "fallback": "vp.qian", "stages": [{"rule": "any", "steps": [{"label": "finance", "approver": {"head": "finance"}, "deadline_s": 86400, "on_timeout": "escalate"}]}]},/' \
    "$IT_DIR/shrink.json" >"$IT_DIR/policy.json"
rows_before=$(org_rows)
out=$(kefu-admin import --json "$IT_DIR/policy.json" 2>"$IT_DIR/policy.err") || it_fail "the changed policy failed: $out $(cat "$IT_DIR/policy.err")"
[[ $(jq -c '.counts["approval policies"]' <<<"$out") == '{"created":1,"changed":1}' ]] ||
    it_fail "a changed and a new policy were counted as: $out"
[[ $(jq -r '.warnings[0]' <<<"$out") == "approval policy refund changes while 1 request(s) run under it: they finish under the version they started with (stages, rules, deadlines, fallback); new requests take the new one" ]] ||
    it_fail "no warning about the running refund request: $out"
[[ $(it_psql "SELECT deadline_s || '/' || remind_s FROM approval_policy_step WHERE policy_id = 'refund' AND label = 'finance'") == 43200/21600 ]] ||
    it_fail "the refund policy's finance step was not updated"
[[ $(it_psql "SELECT min_fen || '/' || is_default FROM approval_policy WHERE id = 'refund-large'") == 1000050/false ]] ||
    it_fail "the new policy refund-large is not there as written"
[[ $(it_psql "SELECT s.deadline_s FROM approval_step s JOIN approval_request r ON r.id = s.request_id
              WHERE r.policy_id = 'refund' AND s.label = 'finance'") == 86400 ]] ||
    it_fail "the running request's step took the new deadline"
# Unchanged policies are not rewritten.
[[ $(it_psql "SELECT count(*) FROM approval_policy WHERE xmin::text = (SELECT xmin::text FROM approval_policy WHERE id = 'refund')") == 2 ]] ||
    it_fail "more policies than refund and refund-large were written"
out=$(kefu-admin import "$IT_DIR/policy.json")
grep -q "no changes" <<<"$out" || it_fail "re-running the policy file changed something: $out"
# policy-exception down to one stage with another rule, while a request still
# has stage 2 ahead: the request keeps the policy it started with
# (migration 016), so the edit is safe and taken.
jq '(.approval_policies[] | select(.id == "policy-exception") | .stages) |= [.[0] | .rule = "any" | del(.quorum)]' \
    "$IT_DIR/policy.json" >"$IT_DIR/stall.json"
out=$(kefu-admin import --json "$IT_DIR/stall.json" 2>"$IT_DIR/stall.err") ||
    it_fail "removing a stage while a request runs was refused: $out $(cat "$IT_DIR/stall.err")"
[[ $(it_psql "SELECT count(*) FROM approval_policy_stage WHERE policy_id = 'policy-exception'") == 1 ]] ||
    it_fail "the policy-exception policy was not cut to one stage"
[[ $(it_psql "SELECT string_agg(g.stage || ':' || g.rule || ':' || coalesce(g.quorum::text, '-'), ' ' ORDER BY g.stage)
              FROM approval_request_stage g JOIN approval_request r ON r.id = g.request_id
             WHERE r.policy_id = 'policy-exception'") == "1:quorum:2 2:all:-" ]] ||
    it_fail "the running policy-exception request lost the stages it started with"
# A policy without a fallback, and a step whose timeout chain ends nowhere.
jq '(.approval_policies[] | select(.id == "refund")) |= del(.fallback)
    | (.approval_policies[] | select(.id == "settlement")) |= (.fallback = "gm.zheng")
    | .approval_admin = "gm.zheng"' "$IT_DIR/policy.json" >"$IT_DIR/nowhere.json"
rows_before=$(org_rows)
for mode in --check ""; do
    rc=0
    err=$(kefu-admin import $mode "$IT_DIR/nowhere.json" 2>&1) || rc=$?
    [[ $rc == 1 ]] || it_fail "import $mode of a policy without fallback exited $rc: $err"
    grep -qF 'fallback: is required' <<<"$err" || it_fail "import $mode: no word of the missing fallback: $err"
    grep -qF 'the timeout chain of this step ends nowhere: its approver gm.zheng has no active manager, the policy'"'"'s fallback is gm.zheng and the approval administrator is gm.zheng' <<<"$err" ||
        it_fail "import $mode: the chain that ends nowhere was not named: $err"
done
[[ $(org_rows) == "$rows_before" ]] || it_fail "a refused policy file changed the store"
it_note "all import checks passed"
