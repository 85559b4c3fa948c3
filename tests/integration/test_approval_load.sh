#!/usr/bin/env bash
# No single queue: two kefu-approval daemons share 1,000 open requests
# spread over 20 approvers (ap01..ap20, 50 each), one of whom (ap20) never
# answers; ap20 registered ap19 as delegate. The 950 other requests are
# decided through both daemons (4 clients at once) and must all complete
# before the silent approver's deadline comes (nothing waits behind him);
# at that deadline (DEADLINE s after the requests) each of ap20's 50 steps
# must pass to ap19 within a second, moved once, by whichever daemon's
# scan took it — asserted from the store's timestamps. ap19 then decides
# them and every request is approved. Prints the decisions per second the
# two daemons took (4 clients, kefu-test-approval-decide) and each
# daemon's peak RSS.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init approval_load
approval_bind
A1=$KEFU_APPROVAL_BIND
it__pick_port
A2=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL_SCAN_MS=200
DEADLINE=15
N=1000
it_pg_start
approval_bands t-load "$DEADLINE"
it_psql "INSERT INTO approval_delegate (staff_id, delegate_id, valid)
         VALUES ('ap20', 'ap19', tstzrange(now() - interval '1 minute', now() + interval '1 day'))" >/dev/null
it_cert agent.li >/dev/null
key=$(it_psql "SELECT public_key FROM staff_cert WHERE staff_id = 'agent.li' AND revoked_at IS NULL LIMIT 1")

it_start bus
it_start approval
it_start approval@2 KEFU_APPROVAL_BIND="$A2"
ready() { # both daemons answer (not_found: exit 1)
    local rc1=0 rc2=0 cert
    cert=$(it_cert ap01)
    KEFU_CERT=$cert kefu --endpoint "$A1" --timeout 1000 approval show 999999 >/dev/null 2>&1 || rc1=$?
    KEFU_CERT=$cert kefu --endpoint "$A2" --timeout 1000 approval show 999999 >/dev/null 2>&1 || rc2=$?
    [[ $rc1 == 1 && $rc2 == 1 ]]
}
it_wait_for "both kefu-approval daemons to answer" 30 ready

# 1,000 tickets and their requests, opened in the store at one moment (the
# store's own function, as kefu-approval calls it).
it_psql "SELECT count(*) FROM generate_series(1, $N) g,
           LATERAL kefu_submit(NULL, 'agent.li', 'complaint', 'other', 'phone', 'normal', 'HZ-XH',
                               NULL, NULL, '13800000000', NULL, format('退款 %s', g), NULL, 'test')" >/dev/null
opened=$(it_psql "SELECT count(*) FROM (SELECT t.id, row_number() OVER (ORDER BY t.id) AS g FROM ticket t) t,
           LATERAL kefu_approval_open('$key', NULL, (SELECT no FROM ticket WHERE id = t.id), 'refund',
                                      ((t.g - 1) % 20) * 10000 + 5000, 'load', current_date + 30, NULL, 'test', false) o
          WHERE o.info ? 'reply' AND o.err_code IS NULL")
[[ $opened == "$N" ]] || it_fail "opened $opened requests, not $N"
it_note "opened $N requests over 20 approvers at $(it_psql "SELECT min(requested_at) FROM approval_request")"

# The 950 decisions of the answering approvers, through both daemons.
decider=$KEFU_BUILD_DIR/tests/integration/kefu-test-approval-decide
[[ -x $decider ]] || it_fail "$decider is not built"
it_psql "SELECT r.id, '$IT_DIR/certs/' || s.approver || '.cert', CASE WHEN r.id % 2 = 0 THEN '$A1' ELSE '$A2' END
           FROM approval_request r JOIN approval_step s ON s.request_id = r.id
          WHERE s.approver <> 'ap20' ORDER BY random()" | tr '|' ' ' >"$IT_DIR/decisions"
split -n l/4 "$IT_DIR/decisions" "$IT_DIR/part."
start=$(date +%s.%N)
pids=()
for part in "$IT_DIR"/part.*; do
    "$decider" <"$part" >"$part.out" 2>"$part.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || it_fail "a decider failed: $(cat "$IT_DIR"/part.*.err)"; done
end=$(date +%s.%N)
done_n=$(it_psql "SELECT count(*) FROM approval_request WHERE status = 'approved'")
[[ $done_n == 950 ]] || it_fail "$done_n requests approved, not 950"
rate=$(it_psql "SELECT round(950 / extract(epoch FROM max(decided_at) - min(decided_at))::numeric, 1)
                  FROM approval_step WHERE decided_at IS NOT NULL")
it_note "950 decisions in $(awk -v s="$start" -v e="$end" 'BEGIN{printf "%.1f", e-s}') s: $rate decisions/s (store timestamps; 4 clients, 2 daemons)"
# Nothing waited behind the silent approver: all 950 completed before any
# of his deadlines came.
early=$(it_psql "SELECT (SELECT max(completed_at) FROM approval_request WHERE status = 'approved')
                        < (SELECT min(s.deadline_at) FROM approval_step s WHERE s.approver = 'ap20')")
[[ $early == t ]] || it_fail "the answered requests did not all complete before the silent approver's deadline"
[[ $(it_psql "SELECT count(*) FROM approval_step WHERE approver = 'ap20' AND status = 'pending' AND moves = 0") == 50 ]] ||
    it_fail "the silent approver's 50 steps are not all waiting for him"

it_wait_for "the silent approver's steps to pass to ap19" $((DEADLINE + 20)) it_psql_is \
    "SELECT count(*) FROM approval_step WHERE approver = 'ap20' AND assigned_to = 'ap19'" 50
late=$(it_psql "SELECT round(max(extract(epoch FROM e.at - r.requested_at - interval '$DEADLINE seconds'))::numeric, 3)
                       || '/' || round(min(extract(epoch FROM e.at - r.requested_at - interval '$DEADLINE seconds'))::numeric, 3)
                       || '/' || count(*) || '/' || count(DISTINCT e.body->>'step')
                  FROM event e JOIN approval_request r ON r.id = (e.body->>'request')::bigint
                 WHERE e.type = 'approval.step_escalated'")
IFS=/ read -r late_max late_min moves steps <<<"$late"
it_note "ap20's steps moved between ${late_min} s and ${late_max} s after their deadline ($moves moves of $steps steps)"
[[ $moves == 50 && $steps == 50 ]] || it_fail "$moves moves of $steps steps: a step moved twice or not at all"
awk -v a="$late_min" -v b="$late_max" 'BEGIN { exit !(a >= 0 && b < 1) }' ||
    it_fail "a step moved more than 1 s after its deadline (or before it)"
[[ $(it_psql "SELECT count(*) FROM approval_step WHERE approver = 'ap20'
               AND (acting_for <> 'ap20' OR moves <> 1 OR deadline_at IS NULL)") == 0 ]] ||
    it_fail "a moved step does not record ap20 as the one it acts for"
for inst in approval approval@2; do
    n=$(grep -c "type=approval.step_escalated" "$(it_log "$inst")" || true)
    it_note "$inst published $n of the moves"
done

it_psql "SELECT r.id FROM approval_request r JOIN approval_step s ON s.request_id = r.id
          WHERE s.approver = 'ap20'" >"$IT_DIR/moved"
sed "s|\$| $IT_DIR/certs/ap19.cert $A1|" "$IT_DIR/moved" | "$decider" >/dev/null ||
    it_fail "ap19's decisions failed"
[[ $(it_psql "SELECT count(*) FROM approval_request WHERE status = 'approved'") == "$N" ]] ||
    it_fail "not every request was approved"
[[ $(it_psql "SELECT count(*) FROM approval_step WHERE approver = 'ap20' AND decided_by = 'ap19'
               AND on_behalf_of = 'ap20'") == 50 ]] || it_fail "ap19's decisions do not say on whose behalf"
[[ $(it_psql "SELECT count(*) FROM event WHERE type = 'approval.step_decided'") == "$N" ]] ||
    it_fail "not exactly one step_decided per request"
for inst in approval approval@2; do
    it_note "$inst peak RSS: $(awk '/VmHWM/ {print $2 " " $3}' "/proc/$(it_pid "$inst")/status")"
done
it_note "ok"
