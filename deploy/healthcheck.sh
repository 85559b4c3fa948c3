#!/usr/bin/env bash
# kefu — a daemon's healthcheck: exit 0 when the daemon answers, 1 when it
# does not (the reason on stdout, which docker keeps: docker inspect), 2 on
# a usage error. Installed in the image as /usr/local/bin/kefu-health;
# deploy/README.md ("Healthchecks") says what each check depends on.
#
# Which check:
#  1. when the program's --help lists KEFU_METRICS_PORT (common/health.h) and
#     its value is not 0: GET /health on 127.0.0.1:PORT must answer 200. The
#     daemon answers from its own loop; 503 means its store is unreachable
#     (as its last heartbeat found). The bus has no store: 200 while it runs.
#  With the metrics port off (KEFU_METRICS_PORT=0), what is left:
#  2. intake: the kefu client asks intake for one ticket with a probe
#     certificate: the daemons' own key pair (KEFU_CURVE_CERT), which no staff
#     member holds. Healthy when intake's certificate check refuses it as not
#     registered (it looked the key up in the store), or answers; unhealthy
#     on no answer, a failed handshake or `unavailable` (the store cannot be
#     reached). Each probe logs one auth.refused warning in intake's log.
#  3. bus: each of the four bound endpoints answers with a ZMTP greeting.
#  4. the others: the daemon process holds an established TCP connection to
#     the store and one to the bus (observed in /proc, not asked).
set -uo pipefail

prog=kefu-health
timeout_s=${KEFU_HEALTH_TIMEOUT_S:-5}

usage() {
    cat <<EOF
Usage: $prog PROGRAM

Exit 0 when PROGRAM (kefu-bus, kefu-intake, kefu-router, kefu-approval,
kefu-notifier, kefu-survey, kefu-gateway, or a short name) is healthy, 1 when not (the
reason on stdout), 2 on a usage error. Reads the same environment as the
daemon, plus:

Environment:
  KEFU_HEALTH_PID        the daemon's PID (default: the one process named PROGRAM)
  KEFU_HEALTH_TIMEOUT_S  bound on each probe in seconds (default 5)
EOF
}

unhealthy() { printf '%s: %s unhealthy: %s\n' "$prog" "$program" "$*"; exit 1; }
healthy() { printf '%s: %s healthy: %s\n' "$prog" "$program" "$*"; exit 0; }

# The port of a ZeroMQ tcp:// endpoint or of a libpq URL/conninfo.
endpoint_port() { [[ $1 =~ :([0-9]+)$ ]] && echo "${BASH_REMATCH[1]}"; }

db_port() {
    local url=$1
    if [[ $url =~ ^postgres(ql)?://([^/?]*@)?(\[[^]]*\]|[^:/?]*)(:([0-9]+))? ]]; then
        echo "${BASH_REMATCH[5]:-5432}"
    elif [[ $url =~ (^|[[:space:]])port=([0-9]+) ]]; then
        echo "${BASH_REMATCH[2]}"
    else
        echo "${PGPORT:-5432}"
    fi
}

# An endpoint a local client can connect to for a bind endpoint.
local_endpoint() {
    local ep=$1
    [[ $ep =~ ^tcp://(\*|0\.0\.0\.0|\[::\]|\[\*\]):([0-9]+)$ ]] && ep=tcp://127.0.0.1:${BASH_REMATCH[2]}
    echo "$ep"
}

# The value of setting name for the program: the environment's, else the
# default its --help prints.
setting() {
    local name=$1 value=${!1:-}
    if [[ -z $value ]]; then
        value=$(sed -n -E "s/^[[:space:]]+${name}[[:space:]].*\(default: ([^)]*)\)[[:space:]]*$/\1/p" \
                    <<<"$help" | head -n1)
        [[ $value == none ]] && value=
    fi
    echo "$value"
}

# 1. GET /health on the metrics port, without curl: bash's /dev/tcp.
check_http() {
    local port=$1 answer status
    answer=$(timeout "$timeout_s" bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
        cat <&3' _ "$port" 2>/dev/null | tr -d '\r')
    status=$(head -n1 <<<"$answer")
    [[ $status =~ ^HTTP/1\.[01]\ 200 ]] ||
        unhealthy "GET http://127.0.0.1:$port/health: '${status:-no answer}' $(tail -n1 <<<"$answer")"
    healthy "GET /health on port $port: $(tail -n1 <<<"$answer")"
}

# Writes to $1 a client certificate (common/auth.h) made of the daemons' key
# pair in $2, naming its own public key as the server's.
probe_cert() {
    local out=$1 server=$2 key
    key=$(sed -n -E 's/^[[:space:]]+public-key = "(.{40})"$/\1/p' "$server" 2>/dev/null) &&
        [[ -n $key ]] || return 1
    # z85 keys hold no backslash, so awk -v keeps the key as it is.
    (umask 077 && awk -v key="$key" '
        { print }
        /^metadata$/ { print "    server-key = \"" key "\""; seen = 1 }
        END { if (!seen) { print "metadata"; print "    server-key = \"" key "\"" } }' \
        "$server" >"$out")
}

# 2. intake answers the client.
check_intake() {
    local ep out rc dir
    ep=$(local_endpoint "$(setting KEFU_INTAKE_BIND)")
    dir=$(mktemp -d) || unhealthy "no temporary directory for the probe certificate"
    if ! probe_cert "$dir/probe.cert" "$(setting KEFU_CURVE_CERT)"; then
        rm -rf "$dir"
        unhealthy "cannot read the daemons' certificate KEFU_CURVE_CERT=$(setting KEFU_CURVE_CERT)"
    fi
    out=$(timeout "$((timeout_s + 2))" kefu --endpoint "$ep" --cert "$dir/probe.cert" \
              --timeout "$((timeout_s * 1000))" tickets --limit 1 2>&1 >/dev/null)
    rc=$?
    rm -rf "$dir"
    # 0 listed; 1 with "refused your certificate": intake's certificate check
    # looked the key up in the store and found nobody (ZAP status 400).
    # Otherwise 3 is no answer, `unavailable` (status 500: the store cannot be
    # reached) or a handshake cut until the timeout (intake restarting, or the
    # probe sealed for another server key), 4 a reply that does not decode.
    if [[ $rc == 0 ]] || [[ $rc == 1 && $out == *"refused your certificate"* ]]; then
        healthy "intake at $ep answered"
    fi
    unhealthy "intake at $ep: kefu exit $rc: ${out:-no output}"
}

# 3. each endpoint the bus binds sends the ZMTP signature (ff .. 7f).
check_bus() {
    local var ep port sig
    for var in KEFU_BUS_PUB KEFU_BUS_SUB KEFU_BUS_PUSH KEFU_BUS_PULL; do
        ep=$(setting "$var")
        port=$(endpoint_port "$ep") || unhealthy "$var=$ep: no tcp port to probe"
        sig=$(timeout "$timeout_s" bash -c '
            exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
            head -c 10 <&3' _ "$port" 2>/dev/null | od -An -tx1 | tr -d ' \n')
        [[ $sig =~ ^ff[0-9a-f]{16}7f$ ]] ||
            unhealthy "$var ($ep): no ZMTP greeting on port $port (got '${sig:-nothing}')"
    done
    healthy "all four endpoints answer ZMTP"
}

# Sets pid: KEFU_HEALTH_PID, or the one process whose name is program.
find_pid() {
    pid=${KEFU_HEALTH_PID:-}
    [[ -z $pid ]] || return 0
    local found=() f
    for f in /proc/[0-9]*/comm; do
        [[ $(cat "$f" 2>/dev/null) == "${program:0:15}" ]] && found+=("${f//[^0-9]/}")
    done
    [[ ${#found[@]} == 1 ]] ||
        unhealthy "${#found[@]} processes named $program (set KEFU_HEALTH_PID)"
    pid=${found[0]}
}

# Remote ports (decimal) of the ESTABLISHED TCP connections that pid holds.
established_ports() {
    local pid=$1 inodes
    inodes=$(ls -l "/proc/$pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
    [[ -n $inodes ]] || return 0
    cat "/proc/$pid/net/tcp" "/proc/$pid/net/tcp6" 2>/dev/null |
        awk -v inodes=" $inodes " '
            $4 == "01" && index(inodes, " " $10 " ") {
                n = split($3, a, ":"); print a[n] }' |
        while read -r hex; do echo $((16#$hex)); done
}

# 4. the daemon is connected to the store and to the bus.
check_connected() {
    local pid ports var ep port bus=
    check_store
    for var in KEFU_BUS_PUB KEFU_BUS_SUB KEFU_BUS_PUSH KEFU_BUS_PULL; do
        ep=$(setting "$var")
        port=$(endpoint_port "$ep") || continue
        [[ $ports == *" $port "* ]] && bus="$bus $var"
    done
    [[ -n $bus ]] || unhealthy "pid $pid has no connection to the bus"
    healthy "pid $pid connected to the store and the bus ($bus )"
}

# Sets pid and ports (its connections' remote ports, space-separated) and
# fails unless one of them is the store's.
check_store() {
    local store_port
    find_pid
    [[ -d /proc/$pid ]] || unhealthy "no process $pid"
    ports=" $(established_ports "$pid" | tr '\n' ' ') "
    store_port=$(db_port "$(setting KEFU_DATABASE_URL)")
    [[ $ports == *" $store_port "* ]] ||
        unhealthy "pid $pid has no connection to the store (port $store_port)"
}

case ${1:-} in
    -h|--help) usage; exit 0 ;;
    "") usage >&2; exit 2 ;;
esac
program=$1
case $program in
    bus|intake|router|approval|notifier|survey|gateway) program=kefu-$program ;;
    ticket-router) program=kefu-router ;;
esac
command -v "$program" >/dev/null 2>&1 || { echo "$prog: no program $program" >&2; exit 2; }
help=$("$program" --help 2>/dev/null) || true

if grep -qE '^[[:space:]]+KEFU_METRICS_PORT[[:space:]]' <<<"$help"; then
    metrics_port=$(setting KEFU_METRICS_PORT)
    if [[ $metrics_port =~ ^[0-9]+$ && $metrics_port != 0 ]]; then
        check_http "$metrics_port"
    fi
fi
case $program in
    kefu-intake) check_intake ;;
    kefu-bus) check_bus ;;
    kefu-gateway) check_store && healthy "pid $pid connected to the store" ;; # no bus
    *) check_connected ;;
esac
