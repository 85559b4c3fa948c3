#!/usr/bin/env bash
# The agent's journey through the real `kefu` client: a complaint logged with
# Chinese text and a phone typed with +86 and dashes; shown back byte for byte
# with the normalised phone; routed as the demo rules say (leak -> eng.zhao,
# complaints -> gm.hz responsible for HZ-XH); responded by its owner;
# transfer without a reason refused; a plain staff member who is not the
# owner forbidden; transferred with a reason to eng.liu (the confirmation
# names the new owner); resolved; listed by
# owner; its history in order; a retried submit with the same --idem gives
# the same ticket marked duplicate, and the same --idem with other content is
# a conflict naming it (exit 1); each step in the history is in the name
# of the certificate (--cert) that made it; and the client against a port where
# nothing listens gives up with exit code 3 instead of hanging.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init cli
it_start_routing

SUMMARY='卫生间天花板漏水，楼下邻居已受影响（3栋1201）'
DETAIL=$'楼上卫生间漏水三天了。\n天花板有水渍，墙皮起鼓——业主很着急：「今晚能来人吗？」'
NAME='张伟'
IDEM="cli-journey-$IT_PG_PORT"

# Runs kefu, capturing stdout in OUT, stderr in ERR and the exit code in RC.
run() {
    local o=$IT_DIR/out e=$IT_DIR/err
    RC=0
    kefu "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(<"$o")
    ERR=$(<"$e")
}
expect_rc() {
    local want=$1 what=$2
    [[ $RC == "$want" ]] || it_fail "$what: exit $RC, expected $want; stdout: $OUT; stderr: $ERR"
}
json() { jq -r "$1" <<<"$OUT"; }
store() { it_psql "$1"; }

# ---- submit ------------------------------------------------------------
run submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone '+86 138-0013-8000' --name "$NAME" \
    --summary "$SUMMARY" --detail "$DETAIL" --idem "$IDEM"
expect_rc 0 "kefu submit"
NO=$OUT
[[ $NO =~ ^KF-[0-9]{4}-[0-9]{6}$ ]] || it_fail "kefu submit printed '$OUT', not one ticket number"
it_note "submitted $NO"

run ticket show "$NO" --json
expect_rc 0 "kefu ticket show --json"
[[ $(json .ticket) == "$NO" ]] || it_fail "show: ticket is $(json .ticket)"
[[ $(json .summary) == "$SUMMARY" ]] || it_fail "show: summary not byte-identical: $(json .summary)"
[[ $(json .detail) == "$DETAIL" ]] || it_fail "show: detail not byte-identical: $(json .detail)"
[[ $(json .customer) == "$NAME" ]] || it_fail "show: customer is $(json .customer)"
[[ $(json .phone) == 13800138000 ]] || it_fail "show: phone is $(json .phone), expected 13800138000"
[[ $(json .kind) == complaint && $(json .category) == leak && $(json .project) == HZ-XH ]] ||
    it_fail "show: kind/category/project wrong: $OUT"
[[ $(json .building) == 3 && $(json .unit) == 1201 ]] || it_fail "show: unit wrong: $OUT"
[[ $(store "SELECT summary FROM ticket WHERE no = '$NO'") == "$SUMMARY" ]] ||
    it_fail "the store's summary is not byte-identical"
[[ $(store "SELECT phone FROM homeowner h JOIN ticket t ON t.homeowner_id = h.id WHERE t.no = '$NO'") == 13800138000 ]] ||
    it_fail "the store's phone is not normalised"
# The plain view shows the Chinese text too.
run ticket show "$NO"
expect_rc 0 "kefu ticket show"
grep -qF "$SUMMARY" <<<"$OUT" || it_fail "kefu ticket show does not print the summary: $OUT"

# ---- routed as the demo rules say ------------------------------------------
it_wait_for "$NO to be routed" 30 it_psql_is "SELECT status FROM ticket WHERE no = '$NO'" routed
run ticket show "$NO" --json
expect_rc 0 "kefu ticket show --json (routed)"
[[ $(json .status) == routed ]] || it_fail "status is $(json .status)"
[[ $(json .owner) == eng.zhao ]] || it_fail "owner is $(json .owner), the leak rule says eng.zhao"
[[ $(json .department) == eng ]] || it_fail "department is $(json .department), expected eng"
[[ $(json .responsible) == gm.hz ]] || it_fail "responsible is $(json .responsible), expected gm.hz (HZ-XH's GM)"
[[ $(json '.first_response_due != null and .resolve_due != null') == true ]] ||
    it_fail "routed without deadlines: $OUT"

# ---- respond as the owner ----------------------------------------------------
run --cert "$(it_cert eng.zhao)" respond "$NO" --note '已联系业主，明早上门查看'
expect_rc 0 "kefu respond as eng.zhao"
[[ $(store "SELECT status FROM ticket WHERE no = '$NO'") == responded ]] || it_fail "not responded"

# ---- transfer without a reason is refused; the store is unchanged ----------------
snapshot() {
    store "SELECT owner_id, department_id, status, (SELECT count(*) FROM ticket_history h
           WHERE h.ticket_id = t.id), (SELECT count(*) FROM event e WHERE e.corr = t.no)
           FROM ticket t WHERE no = '$NO'"
}
before=$(snapshot)
run --cert "$(it_cert eng.zhao)" transfer "$NO" --to eng.liu
[[ $RC == 1 || $RC == 2 ]] || it_fail "transfer without --reason: exit $RC, expected 1 or 2; $OUT $ERR"
grep -qi 'reason' <<<"$ERR" || it_fail "transfer without --reason does not say what is missing: $ERR"
it_note "transfer without --reason: exit $RC: $ERR"
[[ $(snapshot) == "$before" ]] || it_fail "transfer without reason changed the store: $before -> $(snapshot)"
run --cert "$(it_cert eng.zhao)" transfer "$NO" --to eng.liu --reason '   '
[[ $RC == 1 || $RC == 2 ]] || it_fail "transfer with a blank --reason: exit $RC, expected 1 or 2"
[[ $(snapshot) == "$before" ]] || it_fail "transfer with a blank reason changed the store"
# to someone who is not active staff: not_found on the field `to`, nothing changed
run --cert "$(it_cert eng.zhao)" --json transfer "$NO" --to ghost.staff --reason 转给不存在的人
expect_rc 1 "transfer to an unknown staff member"
[[ $(json .error.code) == not_found && $(json .error.field) == to ]] ||
    it_fail "transfer to ghost.staff: $(json .error.code) on $(json .error.field), expected not_found on to"
[[ $(snapshot) == "$before" ]] || it_fail "transfer to an unknown staff member changed the store"

# ---- a plain staff member who is not the owner is forbidden -----------------
for cmd in "resolve $NO" "respond $NO" "transfer $NO --to eng.liu --reason 不是我的"; do
    # shellcheck disable=SC2086
    run --cert "$(it_cert sales.xu)" $cmd
    expect_rc 1 "sales.xu: kefu $cmd"
    grep -q 'forbidden' <<<"$ERR" || it_fail "sales.xu: kefu $cmd: no 'forbidden' in: $ERR"
done
run --cert "$(it_cert sales.xu)" --json resolve "$NO"
expect_rc 1 "sales.xu: kefu --json resolve"
[[ $(json .error.code) == forbidden ]] || it_fail "--json error code is $(json .error.code)"
[[ $(snapshot) == "$before" ]] || it_fail "refused requests changed the store"

# ---- transfer with a reason ---------------------------------------------------
REASON='楼上管道属工程维修范围，转刘经理跟进'
run --cert "$(it_cert eng.zhao)" transfer "$NO" --to eng.liu --reason "$REASON"
expect_rc 0 "kefu transfer --reason"
# The reply names the new owner as the catalog says (`owner`), so the line
# says who has it now.
[[ $OUT == "$NO transferred to eng.liu (eng)" ]] ||
    it_fail "kefu transfer printed '$OUT', expected '$NO transferred to eng.liu (eng)'"
[[ $(store "SELECT owner_id || ' ' || department_id FROM ticket WHERE no = '$NO'") == "eng.liu eng" ]] ||
    it_fail "after the transfer: $(store "SELECT owner_id, department_id FROM ticket WHERE no = '$NO'")"
# The former owner is now a plain staff member who is not the owner.
run --cert "$(it_cert eng.zhao)" resolve "$NO"
expect_rc 1 "eng.zhao resolving a ticket he no longer owns"
grep -q 'forbidden' <<<"$ERR" || it_fail "eng.zhao after the transfer: $ERR"

# ---- resolve ---------------------------------------------------------------------
run --cert "$(it_cert eng.liu)" resolve "$NO" --note '已更换楼上卫生间防水层'
expect_rc 0 "kefu resolve as eng.liu"
[[ $(store "SELECT status FROM ticket WHERE no = '$NO'") == resolved ]] || it_fail "not resolved"
run --cert "$(it_cert eng.liu)" resolve "$NO"
expect_rc 1 "resolving twice"
grep -q 'conflict' <<<"$ERR" || it_fail "resolving twice: $ERR"

# ---- listed by owner -------------------------------------------------------------
run tickets --owner eng.liu --json
expect_rc 0 "kefu tickets --owner eng.liu --json"
[[ $(jq -r --arg no "$NO" '[.tickets[] | select(.ticket == $no)] | length' <<<"$OUT") == 1 ]] ||
    it_fail "kefu tickets --owner eng.liu does not list $NO: $OUT"
[[ $(jq -r --arg no "$NO" '.tickets[] | select(.ticket == $no) | .summary' <<<"$OUT") == "$SUMMARY" ]] ||
    it_fail "kefu tickets: the summary is not byte-identical"
[[ $(jq -r --arg no "$NO" '.tickets[] | select(.ticket == $no) | .status' <<<"$OUT") == resolved ]] ||
    it_fail "kefu tickets: status is not resolved"
run tickets --owner eng.zhao --json
expect_rc 0 "kefu tickets --owner eng.zhao --json"
[[ $(jq -r --arg no "$NO" '[.tickets[] | select(.ticket == $no)] | length' <<<"$OUT") == 0 ]] ||
    it_fail "kefu tickets --owner eng.zhao still lists $NO"

# ---- history in order --------------------------------------------------------------
run ticket show "$NO" --json
expect_rc 0 "kefu ticket show --json (resolved)"
actions=$(jq -r '[.history[].action] | join(" ")' <<<"$OUT")
[[ $actions == "submitted routed responded transferred resolved" ]] ||
    it_fail "history is '$actions', expected 'submitted routed responded transferred resolved'"
[[ $(jq -r '.history[] | select(.action == "transferred") | "\(.from) \(.to) \(.reason)"' <<<"$OUT") == "eng.zhao eng.liu $REASON" ]] ||
    it_fail "the transfer's history entry is wrong: $OUT"
# Each step is in the name of the certificate that made it (common/auth.h).
actors=$(jq -r '[.history[] | select(.action != "routed") | .actor] | join(" ")' <<<"$OUT")
[[ $actors == "agent.li eng.zhao eng.zhao eng.liu" ]] ||
    it_fail "the history's actors are '$actors', expected 'agent.li eng.zhao eng.zhao eng.liu'"
[[ $(jq -r '[.history[].at] | . == sort' <<<"$OUT") == true ]] || it_fail "history times out of order"
[[ $(json .status) == resolved && $(json .owner) == eng.liu ]] || it_fail "show after resolve: $OUT"

# ---- a retried submit with the same idempotency key -----------------------------
run submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone '+86 138-0013-8000' --name "$NAME" \
    --summary "$SUMMARY" --detail "$DETAIL" --idem "$IDEM"
expect_rc 0 "retried kefu submit"
[[ $OUT == "$NO (duplicate)" ]] || it_fail "retried submit printed '$OUT', expected '$NO (duplicate)'"
run --json submit --kind complaint --category leak --channel phone --project HZ-XH \
    --building 3 --unit 1201 --phone 13800138000 --name "$NAME" \
    --summary "$SUMMARY" --detail "$DETAIL" --idem "$IDEM"
expect_rc 0 "retried kefu --json submit"
[[ $(json .ticket) == "$NO" && $(json .duplicate) == true ]] || it_fail "retried --json submit: $OUT"
# The same key with other content (no unit, name or detail) is no retry:
# conflict naming the ticket, final (exit 1).
run --json submit --kind complaint --category leak --channel phone --project HZ-XH \
    --phone 13800138000 --summary "$SUMMARY" --idem "$IDEM"
expect_rc 1 "kefu --json submit reusing the key with other content"
[[ $(jq -r '"\(.error.code) \(.error.field)"' <<<"$OUT") == "conflict idem" ]] ||
    it_fail "reusing the key with other content: $OUT"
grep -qF "$NO" <<<"$OUT" || it_fail "the conflict does not name $NO: $OUT"
[[ $(store "SELECT count(*) FROM ticket WHERE idem_key = '$IDEM'") == 1 ]] || it_fail "the retry made a ticket"
[[ $(store "SELECT count(*) FROM ticket") == 1 ]] || it_fail "more than one ticket in the store"

# ---- nothing listening -------------------------------------------------------------
# The bus's publisher port (reserved by the harness for this test): nothing
# listens there once the bus is stopped.
dead=$KEFU_BUS_PUB
it_kill bus TERM
dead_port=${dead##*:}
for cmd in "tickets --limit 1" "submit --kind repair --category other --channel phone --project HZ-XH --phone 13800138000 --summary x"; do
    t0=${EPOCHREALTIME/./}
    # shellcheck disable=SC2086
    run --endpoint "tcp://127.0.0.1:$dead_port" --timeout 2000 $cmd
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    it_note "kefu $cmd against a dead port: exit $RC after $ms ms: $ERR"
    expect_rc 3 "kefu $cmd against a port with nothing listening"
    ((ms < 10000)) || it_fail "kefu $cmd took $ms ms against a dead port"
    [[ -n $ERR ]] || it_fail "kefu $cmd against a dead port said nothing on stderr"
done
# The default timeout (5 s) also ends the wait.
t0=${EPOCHREALTIME/./}
run --endpoint "tcp://127.0.0.1:$dead_port" ticket show "$NO"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
expect_rc 3 "kefu ticket show against a dead port (default timeout)"
((ms < 12000)) || it_fail "kefu ticket show took $ms ms against a dead port"

# ---- the operator tools moved to kefu-admin (issue 12) --------------------
# kefu speaks only the wire: its old store commands say where they went
# (exit 2), not "unknown command", and kefu-admin answers with the same
# words after its name.
for words in "admin import org.json" "admin cert agent.li --out x.cert" "status" \
    "notification list" "help status"; do
    # shellcheck disable=SC2086
    run $words
    expect_rc 2 "kefu $words"
    want=${words#help }
    want=${want#admin }
    want=${want%% *}
    grep -qF "run \`kefu-admin $want" <<<"$ERR" || it_fail "kefu $words does not name kefu-admin $want: $ERR"
    ! grep -q "unknown command" <<<"$ERR" || it_fail "kefu $words says unknown command: $ERR"
done
RC=0
OUT=$(kefu-admin status 2>&1) || RC=$?
expect_rc 0 "kefu-admin status (every daemon up or stopped)"
kefu --help | grep -q "kefu-admin" || it_fail "kefu --help does not point at kefu-admin"
! kefu --help | grep -qE "^  (admin|status|notification) " || it_fail "kefu --help still lists a store command"
# kefu speaks only the wire: it does not even link libpq (kefu-admin does)
needed=$(readelf -d "$(command -v kefu)" | grep NEEDED) || it_fail "readelf cannot read kefu"
! grep -q "libpq" <<<"$needed" || it_fail "kefu links libpq: $needed"
readelf -d "$(command -v kefu-admin)" | grep -q "libpq" || it_fail "kefu-admin does not link libpq?"
