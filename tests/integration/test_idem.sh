#!/usr/bin/env bash
# Idempotency keys belong to the person who sent them and to what they sent
# (design.md; proto/catalog.md, submit and approval.request; issue 10, item 2).
#  - agent.li logs a leak in HZ-XH with --idem call-0007; agent.chen logs no
#    heating in SH-PD with --idem call-0007: two tickets, each its sender's,
#    not agent.li's ticket marked duplicate;
#  - the same key and content from the same person is a retry: the same
#    ticket, "(duplicate)", exit 0;
#  - the same key with other content from the same person is conflict on
#    field idem naming the ticket the key made, exit 1, nothing stored;
#  - a ticket stored before migration 013 (no fingerprint) is compared on
#    what it keeps;
#  - two intakes receiving the same sender's key at once: one ticket, and
#    the other a duplicate or a conflict naming it;
#  - within one group commit (kefu_submit_batch called with a batch): the
#    same rules between two items of the batch;
#  - a burst through intake and approval.request over the wire
#    (idem_client.c): retries, conflicts, another sender's key, the
#    duplicate reply's ticket, stage and promised_at, and the corr of a
#    refused envelope.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init idem
prog=$KEFU_BUILD_DIR/tests/integration/kefu-test-idem
[[ -x $prog ]] || it_fail "$prog is not built"
it__pick_port
export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_APPROVAL=$KEFU_APPROVAL_BIND
it_pg_start
it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
LI=$(it_cert agent.li)
CHEN=$(it_cert agent.chen)
export KEFU_CERT=$LI
it_start bus
it_start intake
it_start approval
it_wait_for "intake to answer" 30 kefu tickets --limit 1
approval_answers() { # not_found (exit 1), not a timeout (3)
    local rc=0
    kefu --timeout 1000 approval show 999999 >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}
it_wait_for "kefu-approval to answer" 30 approval_answers

# Runs kefu with STAFF's certificate: stdout in OUT, stderr in ERR, exit in RC.
run() {
    local cert=$1 o=$IT_DIR/out e=$IT_DIR/err
    shift
    RC=0
    KEFU_CERT=$cert kefu "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(<"$o")
    ERR=$(<"$e")
}
expect_rc() {
    [[ $RC == "$1" ]] || it_fail "$2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
}
q() { it_psql "$1"; }
LEAK=(--kind complaint --category leak --channel phone --priority high --project HZ-XH
      --building 3 --unit 1201 --phone '+86 138-0013-8000' --name 张伟
      --summary '卫生间天花板漏水' --detail '楼上卫生间漏水三天了。')
HEAT=(--kind complaint --category heating --channel phone --project SH-PD
      --phone 13900139000 --name 陈静 --summary '客厅没有暖气')

# ---- the story of issue 10 ------------------------------------------------------
run "$LI" submit "${LEAK[@]}" --idem call-0007
expect_rc 0 "agent.li submits call-0007"
T1=$OUT
[[ $T1 =~ ^KF-[0-9]{4}-[0-9]{6}$ ]] || it_fail "agent.li's submit printed '$OUT'"
run "$CHEN" submit "${HEAT[@]}" --idem call-0007
expect_rc 0 "agent.chen submits call-0007"
T2=$OUT
[[ $T2 =~ ^KF-[0-9]{4}-[0-9]{6}$ ]] ||
    it_fail "agent.chen's complaint under agent.li's key printed '$OUT', not a new ticket number"
[[ $T2 != "$T1" ]] || it_fail "agent.chen's complaint was swallowed into agent.li's $T1"
[[ $(q "SELECT created_by || ' ' || project_id || ' ' || category FROM ticket WHERE no = '$T1'") == \
   "agent.li HZ-XH leak" ]] || it_fail "$T1 is not agent.li's leak"
[[ $(q "SELECT created_by || ' ' || project_id || ' ' || category FROM ticket WHERE no = '$T2'") == \
   "agent.chen SH-PD heating" ]] || it_fail "$T2 is not agent.chen's heating complaint"
it_note "call-0007: agent.li $T1, agent.chen $T2"

# The same key and content from the same person: a retry.
run "$LI" submit "${LEAK[@]}" --idem call-0007
expect_rc 0 "agent.li retries call-0007"
[[ $OUT == "$T1 (duplicate)" ]] || it_fail "agent.li's retry printed '$OUT', expected '$T1 (duplicate)'"
run "$CHEN" --json submit "${HEAT[@]}" --idem call-0007
expect_rc 0 "agent.chen retries call-0007"
[[ $(jq -r '"\(.ticket) \(.duplicate)"' <<<"$OUT") == "$T2 true" ]] ||
    it_fail "agent.chen's retry: $OUT"
# The phone as typed another way is the same phone: still a retry.
run "$LI" submit "${LEAK[@]/+86 138-0013-8000/13800138000}" --idem call-0007
expect_rc 0 "agent.li retries call-0007 with the phone typed another way"
[[ $OUT == "$T1 (duplicate)" ]] || it_fail "the retry with a normalised phone printed '$OUT'"

# The same key with other content from the same person: conflict, final.
before=$(q "SELECT count(*) FROM ticket")
run "$LI" submit "${HEAT[@]}" --idem call-0007
expect_rc 1 "agent.li reuses call-0007 for another complaint"
grep -q "conflict" <<<"$ERR" || it_fail "the reuse is not called conflict: $ERR"
grep -qF "idempotency key call-0007 was already used for $T1 with different content" <<<"$ERR" ||
    it_fail "the conflict does not name $T1: $ERR"
[[ -z $OUT ]] || it_fail "a refused submit printed a ticket: $OUT"
run "$LI" --json submit "${LEAK[@]/卫生间天花板漏水/厨房天花板漏水}" --idem call-0007
expect_rc 1 "agent.li reuses call-0007 with another summary"
[[ $(jq -r '"\(.error.code) \(.error.field)"' <<<"$OUT") == "conflict idem" ]] ||
    it_fail "--json conflict: $OUT"
[[ $(q "SELECT count(*) FROM ticket") == "$before" ]] || it_fail "a conflicting submit stored a ticket"
[[ $(q "SELECT count(*) FROM ticket WHERE idem_key = 'call-0007'") == 2 ]] ||
    it_fail "call-0007 made other than two tickets"

# ---- tickets stored before migration 013 ------------------------------------------
# They have no fingerprint: compared on what the ticket keeps (not the
# owner's name, which is not kept per ticket).
q "UPDATE ticket SET idem_fp = NULL WHERE no = '$T1'" >/dev/null
run "$LI" submit "${LEAK[@]/张伟/张先生}" --idem call-0007
expect_rc 0 "agent.li retries call-0007 on a ticket without fingerprint"
[[ $OUT == "$T1 (duplicate)" ]] || it_fail "the retry of a ticket without fingerprint printed '$OUT'"
run "$LI" submit "${LEAK[@]/#high/urgent}" --idem call-0007
expect_rc 1 "agent.li reuses call-0007 on a ticket without fingerprint"
grep -qF "already used for $T1" <<<"$ERR" || it_fail "no conflict naming $T1: $ERR"

# ---- two intakes at once ------------------------------------------------------------
# The same sender's key reaches two intake instances together: whichever
# commits first makes the ticket; the other finds it (the same content: a
# duplicate; other content: a conflict naming it), never a second ticket.
it__pick_port
it_start intake@2 KEFU_INTAKE_BIND=tcp://127.0.0.1:$IT__PORT KEFU_METRICS_PORT=0
second=tcp://127.0.0.1:$IT__PORT
it_wait_for "the second intake to answer" 30 kefu --endpoint "$second" tickets --limit 1
for k in $(seq 1 12); do
    a=$IT_DIR/race-$k-a b=$IT_DIR/race-$k-b
    summary=(--summary "竞争 $k")
    ((k % 2)) && other=(--summary "竞争 $k（另一件）") || other=("${summary[@]}")
    KEFU_CERT=$LI kefu submit "${LEAK[@]:0:18}" "${summary[@]}" --idem "race-$k" >"$a" 2>&1 & pa=$!
    KEFU_CERT=$LI kefu --endpoint "$second" submit "${LEAK[@]:0:18}" "${other[@]}" --idem "race-$k" \
        >"$b" 2>&1 & pb=$!
    ra=0 rb=0
    wait $pa || ra=$?
    wait $pb || rb=$?
    no=$(q "SELECT no FROM ticket WHERE created_by = 'agent.li' AND idem_key = 'race-$k'")
    [[ -n $no ]] || it_fail "race $k: no ticket"
    if ((k % 2)); then
        [[ "$ra$rb" == 01 || "$ra$rb" == 10 ]] || it_fail "race $k (other content): exits $ra $rb: $(cat "$a" "$b")"
        grep -q "conflict.*$no" "$a" "$b" || it_fail "race $k: the loser is not told conflict naming $no: $(cat "$a" "$b")"
    else
        [[ "$ra$rb" == 00 ]] || it_fail "race $k (same content): exits $ra $rb: $(cat "$a" "$b")"
        [[ $(sort "$a" "$b" | tr '\n' ' ') == "$no $no (duplicate) " ]] ||
            it_fail "race $k: not one ticket and its duplicate: $(cat "$a" "$b")"
    fi
done
[[ $(q "SELECT count(*) FROM ticket WHERE idem_key LIKE 'race-%'") == 12 ]] ||
    it_fail "the races made other than one ticket per key"
it_kill intake@2 TERM

# ---- one group commit ------------------------------------------------------------
# kefu_submit_batch as intake calls it (actors resolved): the same rules
# between items of one batch.
item() { # item ACTOR KEY SUMMARY
    printf '{"idem":"%s","actor":"%s","kind":"repair","category":"plumbing","channel":"phone","priority":"normal","project":"HZ-XH","phone":"13700137000","summary":"%s"}' "$2" "$1" "$3"
}
batch="[$(item agent.li b-1 A),$(item agent.li b-1 A),$(item agent.li b-1 B),$(item agent.chen b-1 C),$(item agent.chen b-1 C),$(item agent.li b-2 B)]"
rows=$(q "SELECT ord || ' ' || coalesce(ticket_no, '-') || ' ' || coalesce(duplicate::text, '-') || ' '
          || coalesce(err_code, '-') || ' ' || coalesce(err_field, '-')
          FROM kefu_submit_batch('$batch'::jsonb, 'idem-test') ORDER BY ord")
it_note "one batch: $(tr '\n' ';' <<<"$rows")"
mapfile -t r <<<"$rows"
read -r _ b1 d1 e1 _ <<<"${r[0]}"
read -r _ b4 d4 e4 _ <<<"${r[3]}"
read -r _ b6 d6 e6 _ <<<"${r[5]}"
[[ $d1 == false && $e1 == - && $b1 == KF-* ]] || it_fail "batch item 1 is not a new ticket: ${r[0]}"
[[ ${r[1]} == "2 $b1 true - -" ]] || it_fail "batch item 2 (same key, same content) is not a duplicate of $b1: ${r[1]}"
[[ ${r[2]} == "3 $b1 false conflict idem" ]] || it_fail "batch item 3 (same key, other content) is not a conflict naming $b1: ${r[2]}"
[[ $d4 == false && $e4 == - && $b4 != "$b1" ]] || it_fail "batch item 4 (agent.chen's b-1) is not his own ticket: ${r[3]}"
[[ ${r[4]} == "5 $b4 true - -" ]] || it_fail "batch item 5 is not a duplicate of $b4: ${r[4]}"
[[ $d6 == false && $e6 == - && $b6 != "$b1" && $b6 != "$b4" ]] || it_fail "batch item 6 (another key) is not a new ticket: ${r[5]}"
# A later batch sees the keys the first one stored.
rows=$(q "SELECT string_agg(coalesce(ticket_no, '-') || ' ' || duplicate || ' ' || coalesce(err_code, '-'), ',' ORDER BY ord)
          FROM kefu_submit_batch('[$(item agent.li b-1 A),$(item agent.li b-1 X)]'::jsonb, 'idem-test')")
[[ $rows == "$b1 true -,$b1 false conflict" ]] || it_fail "a second batch: $rows"

# ---- over the wire: a burst, approvals, corr --------------------------------------
TA=$(KEFU_CERT=$LI kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
     --building 3 --unit 1101 --phone 13900001101 --summary '渗漏赔偿（审批幂等）')
TB=$(KEFU_CERT=$CHEN kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
     --building 3 --unit 1102 --phone 13900001102 --summary '渗漏赔偿（审批幂等）')
status=0
KEFU_INTAKE=$KEFU_INTAKE KEFU_APPROVAL=$KEFU_APPROVAL IDEM_CERT_LI=$LI IDEM_CERT_CHEN=$CHEN \
    IDEM_TICKET_A=$TA IDEM_TICKET_B=$TB IDEM_PROMISED=$(date -d '+2 days' +%F) IDEM_RUN=$IT_PG_PORT \
    "$prog" || status=$?
[[ $status == 0 ]] || it_fail "kefu-test-idem reported failures (status $status)"
[[ $(q "SELECT count(*) FROM approval_request WHERE idem = 'appr-1-$IT_PG_PORT'") == 2 ]] ||
    it_fail "appr-1 made other than two requests (one each)"
[[ $(q "SELECT count(*) FROM (SELECT created_by, idem_key FROM ticket WHERE idem_key IS NOT NULL
          GROUP BY 1, 2 HAVING count(*) > 1) d") == 0 ]] || it_fail "a sender's key made two tickets"
it_running intake || it_fail "intake is no longer running"
it_running approval || it_fail "kefu-approval is no longer running"
it_note "ok"
