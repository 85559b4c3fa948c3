#!/usr/bin/env bash
# Group commit under a burst: kefu-approval takes the requests that arrive
# together into one transaction (each under its own savepoint), and every
# request must still get exactly the answer it would get alone.
#  - 100 approval.request sent at once by agent.li (kefu-test-approval-burst
#    sends every line before reading any reply), with 10 repeated by their
#    idempotency key (the first request's id, duplicate: true), 5 for an
#    unknown ticket (not_found), 5 second requests of a type on a ticket
#    (conflict) and 5 bad amounts (bad_value): 100 requests and 100
#    approval.requested events, no more; the openings of a group are one
#    call of kefu_approval_group (migration 041), a refused one undoing
#    its own work only;
#  - then 20 approvers decide at once: 80 approvals with keys, 20 of them
#    sent twice (the same answer again, duplicate: true) and 10 followed by
#    a reject under the same key (conflict on idem), 10 decisions by the
#    wrong approver (forbidden), 10 rejections without a key, 5 for an
#    unknown request (not_found), 5 rejections without a reason
#    (missing_field), a delegate.set and a delegate.clear each sent twice
#    with their key; the first decision of one request fails once as a
#    serialisation failure, so that its group runs again one by one:
#    every valid decision is applied once (one decided
#    step, one approval.step_decided), every invalid one is refused with
#    its code and changes nothing, the refusals do not undo the others.
#  - the decisions of a group are one call of kefu_approval_group
#    (migration 041), checked on the store and in the daemon's log; then
#    the 10 pending requests are decided among replays of every key, one
#    of them failing in the store with an error of its own: it alone is
#    answered internal, the others of its group are decided;
#  - the decisions' commits are made slow (0.05 s each, at COMMIT), so that
#    with its 2 lanes (KEFU_APPROVAL_CONNECTIONS) kefu-approval runs the
#    next group on one lane while the other's commit is pending: it must
#    do so, and each request must still be answered once, after its own
#    group committed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/approval_lib.sh"

it_init approval_burst
approval_bind
A=$KEFU_APPROVAL_BIND
it_pg_start
approval_bands t-burst 86400
AGENT=$(it_cert agent.li)
it_start bus
it_start approval KEFU_LOG_LEVEL=debug KEFU_APPROVAL_CONNECTIONS=2
it_wait_for "kefu-approval to answer" 30 approval_answers
burst=$KEFU_BUILD_DIR/tests/integration/kefu-test-approval-burst
[[ -x $burst ]] || it_fail "$burst is not built"
q() { it_psql "$1"; }
cert() { echo "$IT_DIR/certs/ap$(printf %02d "$1").cert"; }

it_psql "SELECT count(*) FROM generate_series(1, 100) g,
           LATERAL kefu_submit(NULL, 'agent.li', 'complaint', 'other', 'phone', 'normal', 'HZ-XH',
                               NULL, NULL, '13800000000', NULL, format('退款 %s', g), NULL, 'test')" >/dev/null
mapfile -t T < <(q "SELECT no FROM ticket ORDER BY id")
promised=$(date -d '+30 days' +%F)

# ---- 1. the requests, at once ------------------------------------------------
{
    for g in $(seq 1 100); do
        amount=$(( ((g - 1) % 20) * 100 + 50 ))
        echo "open$g $AGENT $A approval.request ticket=${T[g-1]} type=refund amount=$amount.00 reason=退款_$g promised=$promised idem=o-$g"
        if (( g % 10 == 0 )); then
            echo "open$g.again $AGENT $A approval.request ticket=${T[g-1]} type=refund amount=$amount.00 reason=退款_$g promised=$promised idem=o-$g"
        fi
        if (( g % 20 == 5 )); then
            echo "second$g $AGENT $A approval.request ticket=${T[g-1]} type=refund amount=$amount.00 reason=再来 promised=$promised idem=o2-$g"
            echo "noticket$g $AGENT $A approval.request ticket=KF-NONE-$g type=refund amount=1.00 reason=无 promised=$promised idem=o3-$g"
            echo "badamount$g $AGENT $A approval.request ticket=${T[g-1]} type=refund amount=abc reason=无 promised=$promised idem=o4-$g"
        fi
    done
} >"$IT_DIR/opens"
# Each request opened and each step decided is recorded with its statement
# (the backend and the statement's start): the openings and the decisions
# of one group are one call of kefu_approval_group (migration 041), not
# one call each.
q "CREATE TABLE burst_calls (what text, pid integer, at timestamptz, grouped boolean);
   CREATE FUNCTION burst_record() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       INSERT INTO burst_calls VALUES (TG_ARGV[0], pg_backend_pid(), statement_timestamp(),
                                       current_query() LIKE '%kefu_approval_group%');
       RETURN NULL;
   END \$\$;
   CREATE TRIGGER burst_record_open AFTER INSERT ON approval_request FOR EACH ROW
       EXECUTE FUNCTION burst_record('open');
   CREATE TRIGGER burst_record_decide AFTER UPDATE ON approval_step FOR EACH ROW
       WHEN (OLD.decided_at IS NULL AND NEW.decided_at IS NOT NULL)
       EXECUTE FUNCTION burst_record('decide')" >/dev/null
"$burst" <"$IT_DIR/opens" >"$IT_DIR/opens.out" || it_fail "not every request was answered: $(grep -c timeout "$IT_DIR/opens.out") timeouts"
answer() { awk -v t="$1" '$1 == t { $1 = ""; print substr($0, 2) }' "$2"; }
verdict() { answer "$1" "$2" | cut -d' ' -f1; }
body() { answer "$1" "$2" | cut -d' ' -f2-; }
for g in $(seq 1 100); do
    [[ $(verdict "open$g" "$IT_DIR/opens.out") == ok ]] || it_fail "open$g: $(answer "open$g" "$IT_DIR/opens.out")"
    [[ $(body "open$g" "$IT_DIR/opens.out" | jq -r '.duplicate // false') == false ]] ||
        it_fail "open$g is answered as a duplicate"
    if (( g % 10 == 0 )); then
        first=$(body "open$g" "$IT_DIR/opens.out" | jq -c 'del(.duplicate)')
        again=$(body "open$g.again" "$IT_DIR/opens.out")
        [[ $(jq -c 'del(.duplicate)' <<<"$again") == "$first" && $(jq -r .duplicate <<<"$again") == true ]] ||
            it_fail "open$g again is not the first answer with duplicate: true: $again vs $first"
    fi
    if (( g % 20 == 5 )); then
        [[ $(body "second$g" "$IT_DIR/opens.out" | jq -r .code) == conflict ]] ||
            it_fail "second$g: $(answer "second$g" "$IT_DIR/opens.out")"
        [[ $(body "noticket$g" "$IT_DIR/opens.out" | jq -r .code) == not_found ]] ||
            it_fail "noticket$g: $(answer "noticket$g" "$IT_DIR/opens.out")"
        [[ $(body "badamount$g" "$IT_DIR/opens.out" | jq -r .code) == bad_value ]] ||
            it_fail "badamount$g: $(answer "badamount$g" "$IT_DIR/opens.out")"
    fi
done
[[ $(q "SELECT count(*) || '/' || count(DISTINCT ticket_id) FROM approval_request") == 100/100 ]] ||
    it_fail "not one request per ticket: $(q "SELECT count(*) || '/' || count(DISTINCT ticket_id) FROM approval_request")"
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.requested'") == 100 ]] ||
    it_fail "not one approval.requested per request"
most=$(q "SELECT max(n) FROM (SELECT count(*) AS n FROM burst_calls WHERE what = 'open' AND grouped
                                GROUP BY pid, at) c")
(( ${most:-0} >= 2 )) || it_fail "no call of kefu_approval_group opened more than ${most:-0} requests"
[[ $(q "SELECT count(*) FROM burst_calls WHERE what = 'open' AND NOT grouped") == 0 ]] ||
    it_fail "a request was opened outside kefu_approval_group"
# A group in one call (batch=1) in which the store refused some (conflict,
# not_found) and opened the others.
grep -qE 'event=requests.group count=[0-9]+ ran=([2-9]|[1-9][0-9]+) refused=[1-9][0-9]* failed=0 .*batch=1' \
    "$(it_log approval)" || it_fail "no group of openings with refusals among them ran in one call"
it_note "100 requests opened in a burst of $(wc -l <"$IT_DIR/opens") (duplicates and refusals among them); at most $most in one call"

# ---- 2. the decisions, at once -----------------------------------------------
# Request of ticket g (its band's approver is ap((g-1)%20+1)).
mapfile -t R < <(q "SELECT r.id FROM approval_request r JOIN ticket t ON t.id = r.ticket_id ORDER BY t.id")
# The first decision of request R[0] fails as a serialisation failure (a
# sequence is not rolled back: once only): its group's transaction is lost
# and each of its requests must run again alone, answered as if alone.
q "CREATE SEQUENCE burst_fail_once;
   CREATE FUNCTION burst_fail_once() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       IF NEW.request_id = ${R[0]} AND nextval('burst_fail_once') = 1 THEN
           RAISE EXCEPTION 'injected by test_approval_burst' USING ERRCODE = '40001';
       END IF;
       RETURN NEW;
   END \$\$;
   CREATE TRIGGER burst_fail_once BEFORE UPDATE ON approval_step FOR EACH ROW
       EXECUTE FUNCTION burst_fail_once()" >/dev/null
# Each transaction that decides a step waits 0.05 s at its COMMIT (a
# deferred constraint trigger, once per transaction), so that groups
# overlap: the next runs on the other lane while this one commits.
q "CREATE FUNCTION burst_slow_commit() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       IF coalesce(current_setting('burst.slept', true), '') = '' THEN
           PERFORM pg_sleep(0.05);
           PERFORM set_config('burst.slept', 'yes', true);
       END IF;
       RETURN NULL;
   END \$\$;
   CREATE CONSTRAINT TRIGGER burst_slow_commit AFTER UPDATE ON approval_step
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION burst_slow_commit()" >/dev/null
from=$(( $(date +%s) * 1000 )) to=$(( ($(date +%s) + 86400) * 1000 ))
{
    for g in $(seq 1 100); do
        r=${R[g-1]} k=$(( (g - 1) % 20 + 1 ))
        if (( g <= 80 )); then
            echo "approve$g $(cert $k) $A approval.decide request=$r decision=approve idem=d-$r"
            (( g % 4 == 0 )) && echo "approve$g.again $(cert $k) $A approval.decide request=$r decision=approve idem=d-$r"
            (( g % 8 == 1 )) && echo "conflict$g $(cert $k) $A approval.decide request=$r decision=reject comment=改主意 idem=d-$r"
        elif (( g <= 90 )); then
            echo "wrong$g $(cert $(( k % 20 + 1 ))) $A approval.decide request=$r decision=approve idem=w-$r"
        else
            echo "reject$g $(cert $k) $A approval.decide request=$r decision=reject comment=不符合条件"
        fi
        if (( g % 20 == 3 )); then
            echo "norequest$g $(cert $k) $A approval.decide request=99999$g decision=approve idem=n-$g"
            echo "noreason$g $(cert $k) $A approval.decide request=$r decision=reject idem=m-$g"
        fi
    done
    echo "delegate $(cert 19) $A delegate.set delegate=agent.li from=$from to=$to idem=ds-1"
    echo "delegate.again $(cert 19) $A delegate.set delegate=agent.li from=$from to=$to idem=ds-1"
    echo "clear $(cert 18) $A delegate.clear idem=dc-1"
    echo "clear.again $(cert 18) $A delegate.clear idem=dc-1"
} >"$IT_DIR/decisions"
"$burst" <"$IT_DIR/decisions" >"$IT_DIR/decisions.out" ||
    it_fail "not every decision was answered: $(grep -c timeout "$IT_DIR/decisions.out") timeouts"
D=$IT_DIR/decisions.out
code() { body "$1" "$D" | jq -r '"\(.code)/\(.field)"'; }
for g in $(seq 1 100); do
    r=${R[g-1]}
    if (( g <= 80 )); then
        [[ $(verdict "approve$g" "$D") == ok && $(body "approve$g" "$D" | jq -r '"\(.duplicate)/\(.outcome)"') == false/approve ]] ||
            it_fail "approve$g: $(answer "approve$g" "$D")"
        if (( g % 4 == 0 )); then
            [[ $(body "approve$g.again" "$D" | jq -c 'del(.duplicate)') == $(body "approve$g" "$D" | jq -c 'del(.duplicate)') &&
               $(body "approve$g.again" "$D" | jq -r .duplicate) == true ]] ||
                it_fail "approve$g again is not the first answer with duplicate: true: $(answer "approve$g.again" "$D")"
        fi
        if (( g % 8 == 1 )); then
            [[ $(code "conflict$g") == conflict/idem ]] || it_fail "conflict$g: $(answer "conflict$g" "$D")"
        fi
    elif (( g <= 90 )); then
        [[ $(code "wrong$g") == forbidden/* ]] || it_fail "wrong$g: $(answer "wrong$g" "$D")"
    else
        [[ $(verdict "reject$g" "$D") == ok && $(body "reject$g" "$D" | jq -r .outcome) == reject ]] ||
            it_fail "reject$g: $(answer "reject$g" "$D")"
    fi
    if (( g % 20 == 3 )); then
        [[ $(code "norequest$g") == not_found/* ]] || it_fail "norequest$g: $(answer "norequest$g" "$D")"
        [[ $(code "noreason$g") == missing_field/comment ]] || it_fail "noreason$g: $(answer "noreason$g" "$D")"
    fi
done
[[ $(verdict delegate "$D") == ok && $(body delegate "$D" | jq -r '.duplicate // false') == false ]] ||
    it_fail "delegate: $(answer delegate "$D")"
[[ $(body delegate.again "$D" | jq -c 'del(.duplicate)') == $(body delegate "$D" | jq -c 'del(.duplicate)') &&
   $(body delegate.again "$D" | jq -r .duplicate) == true ]] || it_fail "delegate again: $(answer delegate.again "$D")"
[[ $(verdict clear "$D") == ok && $(body clear.again "$D" | jq -r .duplicate) == true ]] ||
    it_fail "clear: $(answer clear "$D") / $(answer clear.again "$D")"

# The store: each valid decision once, nothing of the refused ones.
[[ $(q "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM
         (SELECT status, count(*) AS n FROM approval_request GROUP BY 1) s") == "approved=80 pending=10 rejected=10" ]] ||
    it_fail "requests: $(q "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) AS n FROM approval_request GROUP BY 1) s")"
[[ $(q "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL") == 90 ]] ||
    it_fail "$(q "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL") steps decided, not 90"
[[ $(q "SELECT count(*) || '/' || count(DISTINCT body->>'step') FROM event WHERE type = 'approval.step_decided'") == 90/90 ]] ||
    it_fail "not one approval.step_decided per decided step"
[[ $(q "SELECT count(*) FROM approval_step s JOIN approval_request r ON r.id = s.request_id
         WHERE s.decided_by IS DISTINCT FROM s.approver AND s.decided_at IS NOT NULL") == 0 ]] ||
    it_fail "a step was decided by someone other than its approver"
[[ $(q "SELECT count(*) FROM approval_delegate WHERE staff_id = 'ap19' AND delegate_id = 'agent.li'") == 1 ]] ||
    it_fail "the delegation was not registered once"
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.requested'") == 100 ]] ||
    it_fail "the decisions opened requests"
[[ $(q "SELECT last_value FROM burst_fail_once") -ge 2 ]] || it_fail "the injected failure's request did not run again"
grep -q 'event=requests.group .*failed=1' "$(it_log approval)" ||
    it_fail "no group failed: the injected failure did not reach a group"
# Published once each: the failed group's events were dropped, not sent.
[[ $(grep -c 'event=event.written type=approval.step_decided ' "$(it_log approval)") == 90 ]] ||
    it_fail "$(grep -c 'event=event.written type=approval.step_decided ' "$(it_log approval)") approval.step_decided published, not 90"
# The overlap: a group ran on one lane while the other lane's commit was
# pending, and both lanes committed groups.
grep -q 'event=requests.group .* committing=[1-9]' "$(it_log approval)" ||
    it_fail "no group ran while another lane's commit was pending"
for lane in 0 1; do
    grep -q "event=requests.group .* lane=$lane " "$(it_log approval)" || it_fail "lane $lane ran no group"
done
# One call for the decisions of a group: a statement decided several steps.
most=$(q "SELECT max(n) FROM (SELECT count(*) AS n FROM burst_calls WHERE what = 'decide' AND grouped
                                GROUP BY pid, at) c")
(( ${most:-0} >= 2 )) || it_fail "no call of kefu_approval_group decided more than ${most:-0} steps"
grep -q 'event=requests.group .*failed=0 .*batch=1' "$(it_log approval)" ||
    it_fail "no group of decisions ran in one call (batch=1)"

# ---- 3. a decision refused in the middle of a group ---------------------------
# The 10 requests still pending are decided by their approvers among the
# replays of every key of part 2; the store fails the decision of R[84] with
# an error of its own (not a refusal, not a serialisation failure) when it
# is made by kefu_approval_group: that decision alone is answered
# internal, the others of its group are decided (and the replays answered
# with their stored reply, duplicate: true, deciding nothing).
q "CREATE FUNCTION burst_break_one() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       IF NEW.request_id = ${R[84]} AND current_query() LIKE '%kefu_approval_group%' THEN
           RAISE EXCEPTION 'injected by test_approval_burst' USING ERRCODE = 'P0001';
       END IF;
       RETURN NEW;
   END \$\$;
   CREATE TRIGGER burst_break_one BEFORE UPDATE ON approval_step FOR EACH ROW
       WHEN (OLD.decided_at IS NULL AND NEW.decided_at IS NOT NULL) EXECUTE FUNCTION burst_break_one()" >/dev/null
logged=$(wc -l <"$(it_log approval)")
{
    for g in $(seq 1 90); do
        r=${R[g-1]} k=$(( (g - 1) % 20 + 1 ))
        if (( g <= 80 )); then
            echo "replay$g $(cert $k) $A approval.decide request=$r decision=approve idem=d-$r"
        else
            echo "late$g $(cert $k) $A approval.decide request=$r decision=approve idem=l-$r"
        fi
    done
} >"$IT_DIR/late"
"$burst" <"$IT_DIR/late" >"$IT_DIR/late.out" ||
    it_fail "not every late decision was answered: $(grep -c timeout "$IT_DIR/late.out") timeouts"
D=$IT_DIR/late.out
for g in $(seq 1 90); do
    if (( g <= 80 )); then
        [[ $(body "replay$g" "$D" | jq -r .duplicate) == true ]] || it_fail "replay$g: $(answer "replay$g" "$D")"
    elif (( g == 85 )); then
        [[ $(body "late$g" "$D" | jq -r .code) == internal ]] || it_fail "late$g: $(answer "late$g" "$D")"
    else
        [[ $(verdict "late$g" "$D") == ok && $(body "late$g" "$D" | jq -r '"\(.duplicate)/\(.outcome)"') == false/approve ]] ||
            it_fail "late$g: $(answer "late$g" "$D")"
    fi
done
[[ $(q "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL") == 99 ]] ||
    it_fail "$(q "SELECT count(*) FROM approval_step WHERE decided_at IS NOT NULL") steps decided, not 99"
[[ $(q "SELECT status FROM approval_request WHERE id = ${R[84]}") == pending ]] ||
    it_fail "the request whose decision failed is not pending"
[[ $(q "SELECT count(*) FROM event WHERE type = 'approval.step_decided'") == 99 ]] ||
    it_fail "not one approval.step_decided per decided step after part 3"
# Refused alone: the group that held it ran others with it, in one call.
tail -n +"$logged" "$(it_log approval)" >"$IT_DIR/late.log"
grep -q 'event=store.statement_failed statement=group' "$IT_DIR/late.log" ||
    it_fail "the failed decision was not logged"
grep -qE 'event=requests.group count=[0-9]+ ran=([2-9]|[1-9][0-9]+) refused=1 failed=0 .*batch=1' \
    "$IT_DIR/late.log" || it_fail "the failed decision was not refused alone in a group of decisions run in one call"
groups=$(sed -n 's/.*event=requests.group count=\([0-9]*\).*/\1/p' "$(it_log approval)" |
    awk '{ n++; if ($1 > m) m = $1 } END { printf "%d groups, the largest %d", n, m }')
it_note "$(wc -l <"$IT_DIR/decisions") decisions and delegations answered; in all $groups (debug log)"
it_note "ok"
