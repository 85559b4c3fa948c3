#!/usr/bin/env bash
# The containers' healthcheck, deploy/healthcheck.sh (kefu-health in the
# image), against real daemons: healthy when they are, unhealthy when what
# they need is gone, healthy again when it is back. Both of its ways:
#  - with the metrics port on (the image's default): GET /health;
#  - with KEFU_METRICS_PORT=0: the kefu client asks intake (with a probe
#    certificate made of the daemons' keys, which intake must look up), the bus's
#    endpoints greet (ZMTP), the router holds connections to the store and
#    the bus.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../integration/lib.sh"

HEALTH=$KEFU_SOURCE_DIR/deploy/healthcheck.sh
it_init health
export KEFU_HEALTH_TIMEOUT_S=3
# The healthcheck calls the programs by name, as in the image.
for d in "$KEFU_BUILD_DIR"/services/*/; do PATH=$d:$PATH; done
export PATH
it_pg_start
export KEFU_CERT=$(it_cert agent.li)

it__pick_port; P_BUS=$IT__PORT
it__pick_port; P_INTAKE=$IT__PORT
it__pick_port; P_ROUTER=$IT__PORT
# Fast heartbeats: /health follows the store within a fraction of a second.
export KEFU_HEARTBEAT_MS=200

# Runs the healthcheck of key with the daemon's own environment; prints its
# line. $1 key, $2 program, then VAR=value of that daemon.
health() {
    local key=$1 program=$2
    shift 2
    env KEFU_HEALTH_PID="$(it_pid "$key")" "$@" bash "$HEALTH" "$program"
}
# True when the healthcheck's verdict is $1 (healthy: exit 0; unhealthy:
# exit 1); its line goes to stdout.
is() {
    local want=$1 out st=0
    shift
    out=$(health "$@") || st=$?
    echo "$out"
    case $want in
        healthy) [[ $st == 0 ]] ;;
        *) [[ $st == 1 ]] ;;
    esac
}
expect() {
    local want=$1 what=$2 out
    shift 2
    out=$(is "$want" "$@") || it_fail "$what: expected $want, got: $out"
    it_note "$what: $out"
}
eventually() {
    local want=$1 what=$2
    shift 2
    it_wait_for "$what to be $want" 20 is "$want" "$@"
    expect "$want" "$what" "$@"
}

run_case() {
    local mode=$1 bus_env intake_env router_env
    if [[ $mode == http ]]; then
        bus_env=(KEFU_METRICS_PORT="$P_BUS")
        intake_env=(KEFU_METRICS_PORT="$P_INTAKE")
        router_env=(KEFU_METRICS_PORT="$P_ROUTER")
    else
        bus_env=(KEFU_METRICS_PORT=0)
        intake_env=(KEFU_METRICS_PORT=0)
        router_env=(KEFU_METRICS_PORT=0)
    fi
    it_note "---- healthcheck by $mode"
    it_start bus "${bus_env[@]}"
    it_start intake "${intake_env[@]}"
    it_start router "${router_env[@]}"
    it_wait_for "intake to answer" 30 kefu tickets --limit 1

    eventually healthy "$mode bus" bus kefu-bus "${bus_env[@]}"
    eventually healthy "$mode intake" intake kefu-intake "${intake_env[@]}"
    eventually healthy "$mode router" router kefu-router "${router_env[@]}"
    local out
    out=$(health intake kefu-intake "${intake_env[@]}")
    if [[ $mode == http ]]; then
        [[ $out == *"GET /health on port $P_INTAKE"* ]] || it_fail "the http check did not GET /health: $out"
    else
        [[ $out == *"intake at tcp://"*"answered"* ]] || it_fail "the client check was not used: $out"
        # The probe is sealed for the daemons' key: with another server's
        # certificate the handshake fails, which is no answer.
        kefu-admin server-cert --out "$IT_DIR/certs/other-server.cert" --force >/dev/null
        expect unhealthy "$mode intake, another server's certificate" intake kefu-intake \
            "${intake_env[@]}" KEFU_CURVE_CERT="$IT_DIR/certs/other-server.cert"
    fi

    # The store goes away: intake and router become unhealthy, the bus (no
    # store) stays healthy.
    it_pg_stop fast
    eventually unhealthy "$mode intake without store" intake kefu-intake "${intake_env[@]}"
    eventually unhealthy "$mode router without store" router kefu-router "${router_env[@]}"
    expect healthy "$mode bus without store" bus kefu-bus "${bus_env[@]}"
    it_pg_start
    eventually healthy "$mode intake, store back" intake kefu-intake "${intake_env[@]}"
    eventually healthy "$mode router, store back" router kefu-router "${router_env[@]}"

    # The bus goes away: its own check fails, and (connections observed) the router's.
    it_kill bus TERM
    expect unhealthy "$mode bus stopped" bus kefu-bus "${bus_env[@]}"
    if [[ $mode == proc ]]; then
        eventually unhealthy "$mode router without bus" router kefu-router "${router_env[@]}"
    fi
    it_start bus "${bus_env[@]}"
    eventually healthy "$mode bus restarted" bus kefu-bus "${bus_env[@]}"
    eventually healthy "$mode router, bus back" router kefu-router "${router_env[@]}"

    # A stopped daemon is unhealthy.
    it_kill intake TERM
    expect unhealthy "$mode intake stopped" intake kefu-intake "${intake_env[@]}"
    it_kill router TERM
    expect unhealthy "$mode router stopped" router kefu-router "${router_env[@]}"
    it_kill bus TERM
}

run_case http
run_case proc

# Usage errors are not "unhealthy".
st=0; bash "$HEALTH" >/dev/null 2>&1 || st=$?
[[ $st == 2 ]] || it_fail "kefu-health without a program exited $st, not 2"
st=0; bash "$HEALTH" kefu-nothing >/dev/null 2>&1 || st=$?
[[ $st == 2 ]] || it_fail "kefu-health kefu-nothing exited $st, not 2"
