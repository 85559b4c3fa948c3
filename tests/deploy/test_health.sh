#!/usr/bin/env bash
# The containers' healthcheck, deploy/healthcheck.sh (kefu-health in the
# image), against real daemons: healthy when they are, unhealthy when what
# they need is gone, healthy again when it is back. Both of its ways:
#  - with the metrics port on (the image's default): GET /health;
#  - with KEFU_METRICS_PORT=0: the kefu client asks intake (with a probe
#    certificate made of the daemons' keys, which intake must look up), the bus's
#    endpoints greet (ZMTP), the router holds connections to the store and
#    the bus; kefu-gateway (no bus) holds a connection to the store.
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

# Hostile and broken clients of a daemon's HTTP port ($1): each gets an
# error or is cut off, and the daemon goes on serving. Bounded in time.
http_abuse() {
    local port=$1 url=http://127.0.0.1:$1 code big
    # The routes, for real: metrics text, 404, 405 with Allow.
    curl -sf -m 5 "$url/metrics" | grep -q '^kefu_build_info{daemon="intake"' ||
        it_fail "GET /metrics has no kefu_build_info"
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$url/nope") || true
    [[ $code == 404 ]] || it_fail "GET /nope answered $code, not 404"
    curl -s -i -m 5 -X DELETE "$url/health" | tr -d '\r' | grep -qx 'Allow: GET, HEAD' ||
        it_fail "DELETE /health has no Allow: GET, HEAD"
    # A 100 kB header: refused (or the connection cut), never served.
    big=$(head -c 100000 /dev/zero | tr '\0' a)
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -H "X-Big: $big" "$url/health") || true
    [[ $code == 4* || $code == 000 ]] || it_fail "a 100 kB header was answered $code"
    it_note "a 100 kB header: $code"
    # A POST with a 1 MB body: 405 at once, the body not read.
    head -c 1000000 /dev/zero >"$IT_DIR/body.bin"
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -H 'Expect:' \
        --data-binary @"$IT_DIR/body.bin" "$url/health") || true
    [[ $code == 405 || $code == 000 ]] || it_fail "a POST with a body was answered $code"
    it_note "a POST with a 1 MB body: $code"
    # A client sending its head a byte a second is cut at the deadline
    # (KF_HTTP_TIMEOUT_MS, 5 s) however long it keeps at it; meanwhile
    # others are served.
    local start=$SECONDS st=0
    timeout 20 bash -c '
        exec 3<>/dev/tcp/127.0.0.1/'"$port"' || exit 2
        printf "GET /health HTTP/1.1\r\nX-Slow: " >&3
        for i in $(seq 1 15); do
            printf a >&3 2>/dev/null || exit 0
            read -r -t 1 -u 3 line; rc=$?
            (( rc > 128 )) || exit 0   # not a timeout: closed (or answered)
        done
        exit 1' &
    local slow=$!
    sleep 1
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$url/health") || true
    [[ $code == 200 ]] || it_fail "/health answered $code while a slow client was connected"
    wait "$slow" || st=$?
    [[ $st == 0 ]] || it_fail "a client sending a byte a second was not cut off (status $st)"
    (( SECONDS - start <= 10 )) || it_fail "the slow client was cut only after $((SECONDS - start)) s"
    it_note "a byte-a-second client: cut after $((SECONDS - start)) s"
    # and the daemon goes on serving
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$url/health") || true
    [[ $code == 200 ]] || it_fail "after the bad clients /health answered $code"
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
        http_abuse "$P_INTAKE"
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

# kefu-gateway has no bus: healthy with its store (and its /health), not
# without it, healthy again when it is back.
kefu-admin cert --gateway health --out "$IT_DIR/certs/gateway.cert" >/dev/null
it__pick_port; P_GW=$IT__PORT
it__pick_port; P_GW_HTTP=$IT__PORT
for mode in http proc; do
    gw_env=(KEFU_METRICS_PORT=0 KEFU_HTTP_PORT="$P_GW_HTTP" KEFU_GATEWAY_CERT="$IT_DIR/certs/gateway.cert")
    [[ $mode == proc ]] || gw_env[0]=KEFU_METRICS_PORT=$P_GW
    it_start gateway "${gw_env[@]}"
    eventually healthy "$mode gateway" gateway kefu-gateway "${gw_env[@]}"
    it_pg_stop fast
    eventually unhealthy "$mode gateway without store" gateway kefu-gateway "${gw_env[@]}"
    it_pg_start
    eventually healthy "$mode gateway, store back" gateway kefu-gateway "${gw_env[@]}"
    it_kill gateway TERM
    expect unhealthy "$mode gateway stopped" gateway kefu-gateway "${gw_env[@]}"
done

# Usage errors are not "unhealthy".
st=0; bash "$HEALTH" >/dev/null 2>&1 || st=$?
[[ $st == 2 ]] || it_fail "kefu-health without a program exited $st, not 2"
st=0; bash "$HEALTH" kefu-nothing >/dev/null 2>&1 || st=$?
[[ $st == 2 ]] || it_fail "kefu-health kefu-nothing exited $st, not 2"
