#!/usr/bin/env bash
# Idempotency keys on the ticket actions through kefu-gateway (issue 13,
# item 2; migration 022, common/idem.c), against real daemons and a real
# store. For respond, transfer and resolve:
#  - the same POST twice with the same Idempotency-Key: the same answer,
#    duplicate true, the effect once (history rows and events counted);
#  - the same key with other content, or for another action: 409 conflict
#    on field idem, nothing written;
#  - another staff member's same key: their own action;
#  - no key: as before (a second respond is a second history row; a
#    second resolve is 409);
#  - a request that failed keeps no key: its retry is tried afresh.
#  - two concurrent requests with one key: one acts, the other is its retry.
# The same for approval.decide, approval.reassign, delegate.set /
# delegate.clear, survey.answer and survey.campaign.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/gateway_lib.sh"

it_init gateway_idem
export KEFU_SURVEY_DELAY_S=2 # a resolution's survey is sent soon after
gw_daemons
gw_start gateway
q() { it_psql "$1"; }
# History rows and events of ticket $NO, and the keys kept.
writes() {
    # The ticket's history, the events its actions write (never every event:
    # the daemons write their own, e.g. on a deadline, at any moment), the keys.
    q "SELECT (SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
                WHERE t.no = '$NO') || '/' ||
              (SELECT count(*) FROM event WHERE corr = '$NO' AND type IN
                ('ticket.responded', 'ticket.transferred', 'ticket.resolved')) || '/' ||
              (SELECT count(*) FROM request_idem)"
}
# expect_same WHAT: the answer equals $FIRST apart from duplicate, which is true.
expect_same() {
    [[ $(json .duplicate) == true ]] || it_fail "$1: not marked duplicate: $OUT"
    [[ $(jq -cS 'del(.duplicate)' <<<"$OUT") == "$(jq -cS 'del(.duplicate)' <<<"$FIRST")" ]] ||
        it_fail "$1: answered $OUT, the first answer was $FIRST"
}

# twice WHO METHOD PATH BODY KEY WHAT COUNTER: the request with
# Idempotency-Key KEY (200; its answer kept in FIRST), then the same again:
# the same answer with duplicate true, and the command COUNTER prints the
# same after the retry as after the first (kept in ONCE).
twice() {
    local who=$1 method=$2 path=$3 body=$4 key=$5 what=$6 counter=$7
    http "$who" "$method" "$path" "$body" -H "Idempotency-Key: $key"
    expect 200 "$what with a key"
    FIRST=$OUT
    [[ $(json .duplicate) != true ]] || it_fail "$what with a new key was a duplicate: $OUT"
    ONCE=$($counter)
    http "$who" "$method" "$path" "$body" -H "Idempotency-Key: $key"
    expect 200 "the same $what again"
    expect_same "the retried $what"
    [[ $($counter) == "$ONCE" ]] || it_fail "the retried $what wrote: $ONCE -> $($counter)"
}
first() { jq -r "$1" <<<"$FIRST"; }

PW='correct horse battery'
for s in agent.li agent.chen eng.zhao eng.liu eng.sun cs.wang; do
    gw_passwd "$s" "$PW"
    gw_signin "$s" "$PW"
done

http agent.li POST /api/v1/tickets '{"kind":"complaint","category":"leak","channel":"phone",
    "project":"HZ-XH","building":"3","unit":"1201","phone":"13800138000","summary":"漏水"}'
expect 200 "submit"
NO=$(json .ticket)
routed() { [[ $(q "SELECT status FROM ticket WHERE no = '$NO'") == routed ]]; }
it_wait_for "$NO to be routed" 30 routed
[[ $(q "SELECT owner_id FROM ticket WHERE no = '$NO'") == eng.zhao ]] || it_fail "$NO is not eng.zhao's"
R="/api/v1/tickets/$NO/responses"

# ---- respond --------------------------------------------------------------------------------
before=$(writes)
twice eng.zhao POST "$R" '{"note":"已联系业主"}' k-1 respond writes
once=$ONCE
[[ $(first .ticket) == "$NO" && $(first .status) == responded ]] || it_fail "respond: $FIRST"
[[ $once != "$before" ]] || it_fail "respond wrote nothing"
[[ $(q "SELECT type || ' ' || (reply->>'ticket') FROM request_idem
         WHERE actor = 'eng.zhao' AND idem = 'k-1'") == "ticket.respond $NO" ]] ||
    it_fail "the key was not kept with its reply"

http eng.zhao POST "$R" '{"note":"另一条备注"}' -H 'Idempotency-Key: k-1'
expect 409 conflict "the same key with another note"
[[ $(json .field) == idem && $(json .message) == *ticket.respond* ]] || it_fail "conflict: $OUT"
http eng.zhao POST "$R" '' -H 'Idempotency-Key: k-1'
expect 409 conflict "the same key without the note"
http eng.zhao POST "/api/v1/tickets/$NO/resolution" '{"note":"已联系业主"}' -H 'Idempotency-Key: k-1'
expect 409 conflict "the same key for a resolve"
[[ $(json .field) == idem ]] || it_fail "conflict of another action: $OUT"
[[ $(writes) == "$once" ]] || it_fail "a conflict wrote: $once -> $(writes)"
[[ $(q "SELECT status FROM ticket WHERE no = '$NO'") == responded ]] || it_fail "the conflict resolved $NO"

# Another staff member's same key is their own.
http agent.chen POST "$R" '{"note":"已联系业主"}' -H 'Idempotency-Key: k-1'
expect 200 "agent.chen's respond with eng.zhao's key"
[[ $(json .duplicate) != true && $(json .actor) == agent.chen ]] || it_fail "agent.chen's respond: $OUT"
[[ $(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
         WHERE t.no = '$NO' AND h.action = 'responded'") == 2 ]] || it_fail "not two responses"

# Two requests with one key at once: the advisory lock makes one wait for
# the other, so one responds and the other is its retry.
pids=()
for i in 1 2; do
    curl -s -o "$IT_DIR/race-$i.out" -b "$IT_DIR/jar-eng.zhao" -H 'Content-Type: application/json' \
        -H "X-CSRF-Token: $(<"$IT_DIR/csrf-eng.zhao")" -H 'Idempotency-Key: race-1' \
        --data-binary '{"note":"同时"}' "$GW_URL$R" &
    pids+=($!)
done
wait "${pids[@]}"
[[ $(jq -r ".duplicate // false" "$IT_DIR/race-1.out" "$IT_DIR/race-2.out" | sort | tr '\n' ' ') == "false true " ]] ||
    it_fail "two concurrent requests with one key: $(cat "$IT_DIR"/race-*.out)"
[[ $(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
         WHERE t.no = '$NO' AND h.action = 'responded' AND h.note = '同时'") == 1 ]] ||
    it_fail "two concurrent requests with one key responded twice"

# No key: each respond is a response, as before.
http eng.zhao POST "$R" '{"note":"已联系业主"}'
expect 200 "respond without a key"
http eng.zhao POST "$R" '{"note":"已联系业主"}'
expect 200 "respond without a key again"
[[ $(json .duplicate) != true ]] || it_fail "a respond without a key was a duplicate: $OUT"
[[ $(q "SELECT count(*) FROM ticket_history h JOIN ticket t ON t.id = h.ticket_id
         WHERE t.no = '$NO' AND h.action = 'responded'") == 5 ]] || it_fail "not five responses"

# ---- transfer: a retry after success is the answer, not a refusal ---------------------------
T="/api/v1/tickets/$NO/transfers"
twice eng.zhao POST "$T" '{"to":"eng.liu","reason":"需要经理处理"}' k-2 transfer writes
once=$ONCE
[[ $(first .owner) == eng.liu ]] || it_fail "transfer: $FIRST"
http eng.zhao POST "$T" '{"to":"eng.liu","reason":"另一个原因"}' -H 'Idempotency-Key: k-2'
expect 409 conflict "the same key with another reason"
[[ $(json .field) == idem ]] || it_fail "transfer conflict: $OUT"
# Without the key the retry would be refused: eng.zhao owns the ticket no more.
http eng.zhao POST "$T" '{"to":"eng.liu","reason":"需要经理处理"}'
expect 403 forbidden "the same transfer without a key"
[[ $(writes) == "$once" ]] || it_fail "refused transfers wrote: $once -> $(writes)"

# ---- resolve --------------------------------------------------------------------------------
V="/api/v1/tickets/$NO/resolution"
twice eng.liu POST "$V" '{"note":"已修复"}' k-3 resolve writes
once=$ONCE
[[ $(first .status) == resolved ]] || it_fail "resolve: $FIRST"
http eng.liu POST "$V" '{"note":"已修复"}'
expect 409 conflict "resolving a resolved ticket without a key"
[[ $(json .field) == ticket ]] || it_fail "resolve without a key: $OUT"

# A request that failed keeps no key: the same key later is new.
http eng.liu POST "$V" '{"note":"again"}' -H 'Idempotency-Key: k-4'
expect 409 conflict "resolving a resolved ticket with a new key"
[[ $(json .field) == ticket ]] || it_fail "a failed resolve: $OUT"
[[ $(q "SELECT count(*) FROM request_idem WHERE idem = 'k-4'") == 0 ]] || it_fail "a failure kept its key"
[[ $(writes) == "$once" ]] || it_fail "a failed resolve wrote: $once -> $(writes)"

# The wire field directly (the body's idem, as the kefu client would send it).
http eng.liu POST "$V" '{"note":"已修复","idem":"k-3"}'
expect 200 "the body's idem"
expect_same "the retried resolve by its body's idem"

# ---- approval.decide ------------------------------------------------------------------------
tomorrow=$(TZ=Asia/Shanghai date -d tomorrow +%F)
http agent.li POST /api/v1/tickets '{"kind":"complaint","category":"leak","channel":"phone",
    "project":"HZ-XH","building":"3","unit":"1102","phone":"13800138001","summary":"渗漏赔偿"}'
expect 200 "submit T2"
T2=$(json .ticket)
http agent.li POST /api/v1/approvals "$(jq -nc --arg t "$T2" --arg p "$tomorrow" \
    '{ticket: $t, type: "refund", amount: "1200.50", reason: "渗漏赔偿", promised: $p}')"
expect 200 "approval request"
AR=$(json .request)
D="/api/v1/approvals/$AR/decisions"
awrites() {
    q "SELECT (SELECT count(*) FROM approval_step WHERE request_id = $AR AND decided_by IS NOT NULL)
              || '/' || (SELECT count(*) FROM event WHERE type = 'approval.step_decided') || '/' ||
              (SELECT count(*) FROM request_idem)"
}
# Another staff member's same key is their own: agent.chen has no step here.
http agent.chen POST "$D" '{"decision":"approve","comment":"同意"}' -H 'Idempotency-Key: a-1'
expect 403 forbidden "agent.chen's decision with the key eng.sun will use"
before=$(awrites)
twice eng.sun POST "$D" '{"decision":"approve","comment":"同意"}' a-1 decision awrites
once=$ONCE
[[ $(first .duplicate) == false && $(first .decided_by) == eng.sun ]] || it_fail "decide: $FIRST"
[[ $once != "$before" ]] || it_fail "the decision wrote nothing"
http eng.sun POST "$D" '{"decision":"reject","comment":"不同意"}' -H 'Idempotency-Key: a-1'
expect 409 conflict "the same key with another decision"
[[ $(json .field) == idem && $(json .message) == *approval.decide* ]] || it_fail "decide conflict: $OUT"
[[ $(awrites) == "$once" ]] || it_fail "a conflicting decision wrote: $once -> $(awrites)"

# ---- approval.reassign (the finance step, by the head of the requester's department) ---------
STEP=$(q "SELECT id FROM approval_step WHERE request_id = $AR ORDER BY id DESC LIMIT 1")
M="/api/v1/approval-steps/$STEP/reassignment"
# What a reassignment writes: its approval.step_escalated event and the key.
# (Not every event: kefu-approval may write approval.at_risk for the request
# after answering, which a retry has nothing to do with.)
rwrites() { q "SELECT (SELECT count(*) FROM event WHERE type = 'approval.step_escalated'
                       AND body->>'action' = 'reassign') || '/' ||
                      (SELECT count(*) FROM request_idem)"; }
twice cs.wang POST "$M" '{"to":"vp.qian","reason":"林峰休假"}' r-1 reassign rwrites
[[ $(first .to) == vp.qian && $(first .by) == cs.wang ]] || it_fail "reassign: $FIRST"
http cs.wang POST "$M" '{"to":"vp.qian","reason":"另一个原因"}' -H 'Idempotency-Key: r-1'
expect 409 conflict "the same key with another reason"
[[ $(json .field) == idem && $(rwrites) == "$ONCE" ]] || it_fail "reassign conflict: $OUT"

# ---- delegate.set, delegate.clear -----------------------------------------------------------
now=$(($(date +%s) * 1000))
DEL=$(jq -nc --argjson f "$now" --argjson t "$((now + 86400000))" '{delegate: "eng.liu", from: $f, to: $t}')
dwrites() { q "SELECT (SELECT count(*) FROM approval_delegate) || '/' || (SELECT count(*) FROM request_idem)"; }
twice eng.sun POST /api/v1/delegate "$DEL" d-1 delegate.set dwrites
http eng.sun POST /api/v1/delegate "$(jq -c '.delegate = "eng.zhao"' <<<"$DEL")" -H 'Idempotency-Key: d-1'
expect 409 conflict "the same key naming another delegate"
[[ $(json .field) == idem ]] || it_fail "delegate conflict: $OUT"
twice eng.sun DELETE /api/v1/delegate '' d-2 delegate.clear dwrites
[[ $(first .cleared) == 1 ]] || it_fail "delegate.clear: $FIRST"
http eng.sun DELETE /api/v1/delegate '' -H 'Idempotency-Key: d-1'
expect 409 conflict "delegate.clear with delegate.set's key"

# ---- survey.campaign ------------------------------------------------------------------------
C=/api/v1/survey-campaigns
cwrites() { q "SELECT (SELECT count(*) FROM survey_campaign) || '/' || (SELECT count(*) FROM survey)"; }
twice eng.sun POST "$C" '{"project":"HZ-XH","milestone":"sales"}' c-1 campaign cwrites
once=$ONCE
http eng.sun POST "$C" '{"project":"HZ-XH","milestone":"contract"}' -H 'Idempotency-Key: c-1'
expect 409 conflict "the same key for another milestone"
[[ $(json .field) == idem && $(cwrites) == "$once" ]] || it_fail "campaign conflict: $OUT"

# ---- survey.answer (the survey of $NO's resolution) ------------------------------------------
sent() {
    [[ $(q "SELECT count(*) FROM survey s JOIN ticket t ON t.id = s.ticket_id
             WHERE t.no = '$NO' AND s.sent_at IS NOT NULL") == 1 ]]
}
it_wait_for "the survey of $NO to be sent" 30 sent
S=/api/v1/survey-answers
answered() { q "SELECT count(*) FROM survey WHERE answered_at IS NOT NULL"; }
twice eng.liu POST "$S" "{\"ticket\":\"$NO\",\"score\":4}" s-1 answer writes
once=$ONCE
[[ $(first .duplicate) == false && $(first .score) == 4 && $(answered) == 1 ]] || it_fail "answer: $FIRST"
http eng.liu POST "$S" "{\"ticket\":\"$NO\",\"score\":2}" -H 'Idempotency-Key: s-1'
expect 409 conflict "the same key with another score"
[[ $(json .field) == idem && $(writes) == "$once" ]] || it_fail "answer conflict: $OUT"
[[ $(q "SELECT status FROM ticket WHERE no = '$NO'") == resolved ]] || it_fail "the conflict reopened $NO"

it_note "all checks passed"
