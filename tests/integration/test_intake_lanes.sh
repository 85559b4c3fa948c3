#!/usr/bin/env bash
# Intake writes groups of submits on several store connections at once
# (KEFU_INTAKE_CONNECTIONS; issue 16, item 2: the next group is written
# while the last one commits). A gate holds one group's transaction at its
# commit: a deferred trigger on ticket takes an advisory lock, shared, for a
# ticket whose summary starts "gated", and the test holds that lock in a
# session of its own until it opens the gate.
#  (i)   while the gated group waits, its client has no answer and its ticket
#        is not in the store (no reply before the commit), and a submit sent
#        meanwhile is written and answered on the other connection;
#  (ii)  a submit with the gated key and other content, written on the other
#        connection meanwhile, waits for it: once the gate opens the first is
#        acknowledged, the second is told conflict naming the first's ticket,
#        and the store holds one ticket for the key, with the first content
#        (two groups in flight never merge two reports under one key);
#  (iii) the gated group's connection is terminated: its client is told
#        unavailable, nothing of it is stored, the other connection goes on
#        serving, and the same submit sent again is stored once;
#  (iv)  under kefu-load --retry-for-ms, intake's submit connections are
#        terminated one at a time, every 20 tickets stored: kefu-load acknowledges
#        all N, every acknowledged ticket exists once, none is half-written,
#        and the store holds exactly N tickets of the load.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"
source "$here/routing_checks.sh"
source "$here/lanes_lib.sh"

N=1500
GATE=4216
it_init intake_lanes
rc_init
it_pg_start
export KEFU_CERT=$(it_cert agent.li)
export KEFU_INTAKE_CONNECTIONS=2
gate_install $GATE "AFTER INSERT ON ticket" "NEW.summary LIKE 'gated%'"
it_start bus
it_start intake
it_wait_for "intake to answer" 30 kefu tickets --limit 1

# submit OUT IDEM SUMMARY PHONE: exit code in OUT.rc, output in OUT. Each
# report comes from its own phone: two groups upserting one homeowner wait
# for each other whatever the connections.
submit() {
    local out=$1 st=0
    kefu --timeout 30000 submit --kind complaint --category leak --channel phone \
        --project HZ-XH --phone "139000020$4" --idem "$2" --summary "$3" >"$out" 2>&1 || st=$?
    echo "$st" >"$out.rc"
}
q() { it_psql "$1"; }
running() { kill -0 "$1" 2>/dev/null; }

# ---- (i) no answer before the commit; the other connection serves ------------
gate_close $GATE
submit "$IT_DIR/a" lane-1 "gated: the first report" 01 & pa=$!
gate_wait kefu-intake-submit "the first group to wait at its commit"
running "$pa" || it_fail "the gated submit was answered before its commit: $(cat "$IT_DIR/a")"
[[ $(q "SELECT count(*) FROM ticket WHERE idem_key = 'lane-1'") == 0 ]] ||
    it_fail "the gated ticket is visible before its commit"
submit "$IT_DIR/b" lane-2 "an ordinary report" 02
[[ $(<"$IT_DIR/b.rc") == 0 ]] ||
    it_fail "a submit while another group commits: exit $(<"$IT_DIR/b.rc"): $(cat "$IT_DIR/b")"
running "$pa" || it_fail "the gated submit was answered before its commit: $(cat "$IT_DIR/a")"
[[ $(gate_waiting kefu-intake-submit) == 1 ]] || it_fail "the gated group no longer waits at its commit"
it_note "(i) passed: a submit was answered while the other group waited at its commit"

# ---- (ii) the same key with other content, on the other connection ----------
submit "$IT_DIR/c" lane-1 "other content under the same key" 03 & pc=$!
it_wait_for "the second group to wait for the first" 30 it_psql_is \
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kefu-intake-submit'
       AND wait_event_type = 'Lock' AND wait_event = 'transactionid'" 1
running "$pa" && running "$pc" || it_fail "a submit of the held key was answered before the gate opened"
gate_open
wait "$pa" || true
wait "$pc" || true
[[ $(<"$IT_DIR/a.rc") == 0 ]] || it_fail "the gated submit: exit $(<"$IT_DIR/a.rc"): $(cat "$IT_DIR/a")"
no=$(grep -oE 'KF-[0-9]{4}-[0-9]+' "$IT_DIR/a" | head -n1)
[[ -n $no ]] || it_fail "no ticket number for the gated submit: $(cat "$IT_DIR/a")"
[[ $(<"$IT_DIR/c.rc") == 1 ]] && grep -q "conflict" "$IT_DIR/c" && grep -q "$no" "$IT_DIR/c" ||
    it_fail "the same key with other content: exit $(<"$IT_DIR/c.rc"), not a conflict naming $no: $(cat "$IT_DIR/c")"
[[ $(q "SELECT count(*) || ' ' || min(no) || ' ' || min(summary) FROM ticket
         WHERE idem_key = 'lane-1'") == "1 $no gated: the first report" ]] ||
    it_fail "the store does not hold the first report once under lane-1"
it_note "(ii) passed: $no acknowledged after its commit; the other content told conflict"

# ---- (iii) a connection fails while its group waits -------------------------
gate_close $GATE
submit "$IT_DIR/d" lane-3 "gated: the third report" 04 & pd=$!
gate_wait kefu-intake-submit "the third group to wait at its commit"
gate_break kefu-intake-submit
wait "$pd" || true
[[ $(<"$IT_DIR/d.rc") == 3 ]] && grep -q unavailable "$IT_DIR/d" ||
    it_fail "the submit whose connection failed: exit $(<"$IT_DIR/d.rc"): $(cat "$IT_DIR/d")"
[[ $(q "SELECT count(*) FROM ticket WHERE idem_key = 'lane-3'") == 0 ]] ||
    it_fail "the submit whose connection failed was stored"
for k in 4 5 6; do # both connections serve: the failed one reconnects
    submit "$IT_DIR/e" "lane-$k" "after the failure $k" "1$k"
    [[ $(<"$IT_DIR/e.rc") == 0 ]] || it_fail "submit lane-$k after a failed connection: $(cat "$IT_DIR/e")"
done
gate_open
submit "$IT_DIR/d" lane-3 "gated: the third report" 04
[[ $(<"$IT_DIR/d.rc") == 0 ]] && ! grep -q duplicate "$IT_DIR/d" ||
    it_fail "the failed submit sent again: exit $(<"$IT_DIR/d.rc"): $(cat "$IT_DIR/d")"
[[ $(q "SELECT count(*) FROM ticket WHERE idem_key = 'lane-3'") == 1 ]] ||
    it_fail "the failed submit sent again is not stored once"
it_note "(iii) passed: the failed group was refused unavailable, stored once when sent again"

# ---- (iv) connections terminated under load ----------------------------------
lanes_load_terminating "$N" kefu-intake-submit --retry-for-ms 30000
it_running intake || it_fail "intake died"
it_note "(iv) passed: $LANES_SENT acknowledged, each stored once, with $LANES_KILLS connections terminated"
