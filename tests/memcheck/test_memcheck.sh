#!/usr/bin/env bash
# Memcheck: kefu-bus, kefu-intake and kefu-router run under valgrind
# (memcheck, full leak check), each with its health endpoint on, through a
# short flow: submits (one retried with its idempotency key), show, list,
# respond, transfer, resolve, refused requests, a burst of bad frames
# (tests/integration/bad_input, a subset), an escalation (short SLA from
# the store), and GET /health and /metrics of each (their loops wait on
# the endpoint's descriptor). Then SIGTERM: each must exit 0, and
# valgrind, run with --error-exitcode=99, must report no memory error and no
# definitely-lost block that is not suppressed. kefu.supp (next to this
# script) suppresses only what is not ours, each entry with its reason.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../integration/lib.sh"

it_init memcheck
export KEFU_ROUTER_SCAN_MS=300
export KEFU_ROUTER_CATCHUP_MS=500
export KEFU_TIMEOUT_MS=20000 # replies are slower under valgrind
IT_STOP_SECONDS=60           # the leak check runs at exit, after SIGTERM
command -v valgrind >/dev/null || it_fail "valgrind is not installed (apt-get install valgrind)"
command -v curl >/dev/null || it_fail "curl is needed (apt-get install curl)"
bad_input=$KEFU_BUILD_DIR/tests/integration/bad_input
[[ -x $bad_input ]] || it_fail "$bad_input is not built"

it_pg_start
export KEFU_CERT=$(it_cert agent.li)
# Complaints of normal priority: first response due after 2 s, escalating
# every 2 s, so that the router's escalation runs under valgrind too.
it_psql "UPDATE sla_policy SET first_response_secs = 2, resolve_secs = 4, escalate_secs = 2
          WHERE kind = 'complaint' AND priority = 'normal'" >/dev/null
it__pick_port; BUS_M=$IT__PORT
it__pick_port; INTAKE_M=$IT__PORT
it__pick_port; ROUTER_M=$IT__PORT
IT_WRAP=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
         --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40
         --suppressions="$here/kefu.supp" --gen-suppressions=all
         --log-file="$IT_DIR/log/valgrind-%q{IT_VG_NAME}.txt")
it_start bus IT_VG_NAME=bus KEFU_METRICS_PORT="$BUS_M"
it_start intake IT_VG_NAME=intake KEFU_METRICS_PORT="$INTAKE_M"
it_start router IT_VG_NAME=router KEFU_METRICS_PORT="$ROUTER_M"
IT_WRAP=()
it_wait_for "intake under valgrind to answer" 90 kefu tickets --limit 1

must() { # must KEFU-ARGS...: runs kefu, failing the test when it fails
    local out
    out=$(kefu "$@" 2>&1) || it_fail "kefu $* failed: $out"
}
refused() { # refused KEFU-ARGS...: kefu must fail (a reply.error)
    local out
    ! out=$(kefu "$@" 2>&1) || it_fail "kefu $* was accepted: $out"
}
submit() { # submit SUMMARY [kefu submit options...]
    local summary=$1
    shift
    kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
        --building 3 --unit 1201 --phone '+86 138-0013-8000' --name '张伟' \
        --summary "$summary" "$@"
}
no_a=$(submit '卫生间漏水 (memcheck A)' --detail $'楼上漏水三天。\n墙皮起鼓。' --priority high \
       --idem "mc-a-$IT_PG_PORT")
no_b=$(submit '厨房渗水 (memcheck B, left to escalate)' --priority normal)
# A retry sends what the first try sent (a key with other content is a conflict).
again=$(submit '卫生间漏水 (memcheck A)' --detail $'楼上漏水三天。\n墙皮起鼓。' --priority high \
        --idem "mc-a-$IT_PG_PORT")
[[ ${again%% *} == "$no_a" ]] || it_fail "the retried submit gave $again, not $no_a"
it_note "submitted $no_a and $no_b"
it_wait_for "$no_a and $no_b to be routed" 60 it_psql_is \
    "SELECT count(*) FROM ticket WHERE no IN ('$no_a', '$no_b') AND routed_at IS NOT NULL" 2

must ticket show "$no_a"
must --json ticket show "$no_a"
must tickets --limit 5
must --json tickets --owner eng.zhao --status routed
must --cert "$(it_cert eng.zhao)" respond "$no_a" --note '已联系业主'
must --cert "$(it_cert eng.zhao)" transfer "$no_a" --to eng.liu --reason '楼上住户需工程部协调'
must --cert "$(it_cert eng.liu)" resolve "$no_a" --note '已更换防水层'
# Refused by intake, each with its reply.error.
refused --cert "$(it_cert eng.liu)" transfer "$no_a" --to eng.zhao --reason ' '
refused --cert "$(it_cert sales.xu)" resolve "$no_b"
refused ticket show KF-1999-999999
# Bad frames and hostile fields at intake's socket.
BAD_INPUT_FILTER='test_*' KEFU_INTAKE=$KEFU_INTAKE "$bad_input" >"$IT_DIR/log/bad_input.out" 2>&1 ||
    it_fail "bad_input failed against intake under valgrind: $(tail -n 20 "$IT_DIR/log/bad_input.out")"
it_wait_for "$no_b to escalate" 60 it_psql_is \
    "SELECT escalation_level >= 1 FROM ticket WHERE no = '$no_b'" t

# Each endpoint answers, through its daemon's loop, while the daemon works.
for port in "$BUS_M" "$INTAKE_M" "$ROUTER_M"; do
    it_wait_for "GET /health on :$port" 30 curl -sf -o /dev/null --max-time 5 \
        "http://127.0.0.1:$port/health"
    curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$port/metrics" ||
        it_fail "GET /metrics on :$port failed"
done

it_running bus || it_fail "the bus under valgrind died during the flow"
it_running intake || it_fail "intake under valgrind died during the flow"
it_running router || it_fail "the router under valgrind died during the flow"
it_kill router TERM
it_kill intake TERM
it_kill bus TERM
for d in bus intake router; do
    vg=$IT_DIR/log/valgrind-$d.txt
    [[ -s $vg ]] || it_fail "no valgrind log for $d"
    summary=$(grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|suppressed:' "$vg" |
              sed 's/^==[0-9]*== *//' | tr '\n' ';')
    it_note "$d: ${summary:-no summary}"
    grep -q 'ERROR SUMMARY:' "$vg" || it_fail "$d: valgrind wrote no summary (killed?)"
    if [[ ${IT_STATUS[$d]} != 0 ]] || ! grep -q 'ERROR SUMMARY: 0 errors' "$vg"; then
        it_note "valgrind's report for $d ($vg):"
        sed 's/^==[0-9]*== //' "$vg" | grep -v '^$' | head -n 200 >&2
        it_fail "$d: exit status ${IT_STATUS[$d]} under valgrind (99: memcheck found errors)"
    fi
done
