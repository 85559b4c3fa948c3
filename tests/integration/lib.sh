# shellcheck shell=bash
# shellcheck disable=SC2034  # IT_* variables are read by the tests
# kefu — harness for integration tests. Source it from a test script:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   it_init smoke              # throw-away dir, free ports, env, cleanup trap
#   it_pg_start                # private PostgreSQL + migrations + demo org
#   it_start bus; it_start intake; it_start router
#   it_start router@2          # a second instance of the same daemon
#   it_wait_for "intake answers" 20 kefu tickets --limit 1
#   it_psql "SELECT count(*) FROM ticket"
#
# Functions:
#   it_init NAME                 make the test dir, pick ports, export KEFU_* for
#                                the test, install the EXIT trap
#   it_pg_start                  initdb (first time) and start PostgreSQL; the
#                                first time also create database kefu, run
#                                deploy/migrate.sh and load deploy/demo-org.json
#                                (kefu-admin import) without its approval policies
#   it_pg_stop [MODE]            pg_ctl stop (MODE fast (default), smart, immediate)
#   it_pg_restart [MODE]         stop, then start
#   it_start NAME[@LABEL] [VAR=value...]
#                                start build/services/.../kefu-NAME in the
#                                background with extra environment; LABEL names
#                                a further instance (log log/NAME@LABEL.log);
#                                the words of the array IT_WRAP, when set, go
#                                before the binary (e.g. IT_WRAP=(valgrind ...))
#   it_kill NAME[@LABEL] SIGNAL  send SIGNAL; for TERM/INT/QUIT/KILL wait (bounded)
#                                until it has exited; its status is then in
#                                IT_STATUS[NAME[@LABEL]]
#   it_wait_exit NAME TIMEOUT    wait until it exits; prints its exit status
#   it_running NAME              true while it runs
#   it_pid NAME                  prints its PID
#   it_wait_for "what" TIMEOUT command...
#                                poll the command (every 0.1 s) until it
#                                succeeds; on timeout fail the test with "what"
#   it_cert STAFF                path of STAFF's certificate (issued on first use;
#                                needs the store): KEFU_CERT=$(it_cert agent01) kefu ...
#   it_as STAFF command...       run the command with KEFU_CERT set to STAFF's
#   it_psql "SQL"                run SQL on the test database, plain values (-At)
#   it_psql_is "SQL" EXPECTED    true when it_psql's output equals EXPECTED
#   it_log NAME                  path of a daemon's log
#   it_fail "message"            fail the test (also from a subshell)
#   it_note "message"            progress line on stderr
#
# On exit the test fails when a daemon it did not stop or reap itself exited
# non-zero (daemons exit 0 on SIGTERM), or when any log under log/ holds an
# AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer report (the
# sanitizer build: deploy/local.sh test).
#
# Environment read: KEFU_BUILD_DIR, KEFU_SOURCE_DIR (set by CMake; default: the
# tree this file is in and its build/), KEFU_IT_DEADLINE (seconds after which the
# test fails itself and cleans up, set by CMake below ctest's TIMEOUT),
# KEFU_IT_KEEP=1 (keep the test dir for inspection).
#
# Exported for the test and the daemons: KEFU_DATABASE_URL, KEFU_BUS_PUB/SUB/
# PUSH/PULL, KEFU_INTAKE_BIND, KEFU_INTAKE, KEFU_LOG_LEVEL (default info),
# KEFU_CURVE_CERT (the daemons' certificate, made by it_init),
# IT_DIR, IT_PG_PORT, IT_INTAKE_PORT; PATH starts with the clients' directories,
# so `kefu` and `kefu-admin` are the built clients.

[[ -n ${IT__LOADED:-} ]] && return 0
IT__LOADED=1

IT_PGBIN=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}
IT_STOP_SECONDS=10      # bound on waiting for a daemon after SIGTERM or SIGKILL
IT_PORT_DIR=/tmp/kefu-it-ports
IT_NAME=
IT_DIR=
IT_MAIN_PID=$$
IT_PG_STARTED=0         # 1 while the test's PostgreSQL runs (for tests to read)
IT_PG_INITIALISED=0
IT_WATCHDOG_PID=
declare -A IT_PIDS=()     # key (NAME or NAME@LABEL) -> pid
declare -A IT_STATUS=()   # key -> exit status once reaped
IT_ORDER=()               # keys in start order (may repeat after restarts)
IT_PORTS=()               # ports reserved in IT_PORT_DIR
IT_WRAP=()                # command words it_start puts before a daemon's binary

it_note() { printf '[%s] %s\n' "${IT_NAME:-it}" "$*" >&2; }

it_fail() {
    printf '[%s] FAIL: %s\n' "${IT_NAME:-it}" "$*" >&2
    if [[ ${BASHPID:-$$} != "$IT_MAIN_PID" ]]; then
        # In a subshell ($(...), a pipeline): make the test itself fail.
        [[ -n $IT_DIR ]] && : >"$IT_DIR/.failed"
        kill -TERM "$IT_MAIN_PID" 2>/dev/null || true
    fi
    exit 1
}

it__as_pg() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

it__port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

# Reserves a free TCP port below the ephemeral range. Reservations (a directory
# per port holding the owner's PID) keep concurrent tests from picking the same
# port between choosing it and binding it; a dead owner's are reclaimed.
it__pick_port() {
    local port owner tries
    mkdir -p "$IT_PORT_DIR" 2>/dev/null || true
    chmod 1777 "$IT_PORT_DIR" 2>/dev/null || true
    for ((tries = 0; tries < 500; tries++)); do
        port=$((15000 + RANDOM % 17000))
        if ! mkdir "$IT_PORT_DIR/$port" 2>/dev/null; then
            owner=$(cat "$IT_PORT_DIR/$port/pid" 2>/dev/null || true)
            if [[ -n $owner ]] && ! kill -0 "$owner" 2>/dev/null; then
                rm -rf "${IT_PORT_DIR:?}/$port"
            fi
            continue
        fi
        echo "$IT_MAIN_PID" >"$IT_PORT_DIR/$port/pid"
        if it__port_in_use "$port"; then
            rm -rf "${IT_PORT_DIR:?}/$port"
            continue
        fi
        IT_PORTS+=("$port")
        IT__PORT=$port
        return 0
    done
    it_fail "no free TCP port found"
}

it_init() {
    local name=${1:?it_init NAME}
    IT_NAME=$name
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    export KEFU_SOURCE_DIR=${KEFU_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
    export KEFU_BUILD_DIR=${KEFU_BUILD_DIR:-$KEFU_SOURCE_DIR/build}
    [[ -d $KEFU_BUILD_DIR ]] || it_fail "KEFU_BUILD_DIR $KEFU_BUILD_DIR does not exist (build first)"

    trap 'it__cleanup' EXIT
    trap 'exit 1' TERM INT HUP
    trap 'it__on_err $? $LINENO "$BASH_COMMAND"' ERR

    # Short name: the socket path must stay under 107 bytes.
    IT_DIR=$(mktemp -d "/tmp/kefu-it-${name:0:20}.XXXXXX")
    chmod 755 "$IT_DIR"           # the postgres user must traverse it
    mkdir -p "$IT_DIR/log" "$IT_DIR/pg"
    export IT_DIR

    it__pick_port; export IT_PG_PORT=$IT__PORT
    it__pick_port; export IT_INTAKE_PORT=$IT__PORT
    it__pick_port; export KEFU_BUS_PUB=tcp://127.0.0.1:$IT__PORT
    it__pick_port; export KEFU_BUS_SUB=tcp://127.0.0.1:$IT__PORT
    it__pick_port; export KEFU_BUS_PUSH=tcp://127.0.0.1:$IT__PORT
    it__pick_port; export KEFU_BUS_PULL=tcp://127.0.0.1:$IT__PORT
    export KEFU_INTAKE_BIND=tcp://127.0.0.1:$IT_INTAKE_PORT
    export KEFU_INTAKE=$KEFU_INTAKE_BIND
    export KEFU_DATABASE_URL=postgresql://postgres@127.0.0.1:$IT_PG_PORT/kefu
    export KEFU_LOG_LEVEL=${KEFU_LOG_LEVEL:-info}
    export PATH=$KEFU_BUILD_DIR/services/admin:$KEFU_BUILD_DIR/services/cli:$PATH
    # The daemons' certificate (common/auth.h); staff certificates: it_cert.
    # (A build without the client, such as the harness's own test with its
    # fake daemons, has no certificates.)
    mkdir -p "$IT_DIR/certs"
    export KEFU_CURVE_CERT=$IT_DIR/certs/server.cert
    if [[ -x $KEFU_BUILD_DIR/services/admin/kefu-admin ]]; then
        "$KEFU_BUILD_DIR/services/admin/kefu-admin" server-cert --out "$KEFU_CURVE_CERT" >/dev/null ||
            it_fail "kefu-admin server-cert failed"
    fi
    unset KEFU_CERT

    if [[ ${KEFU_IT_DEADLINE:-0} =~ ^[0-9]+$ && ${KEFU_IT_DEADLINE:-0} -gt 0 ]]; then
        # Fails the test (and so cleans up) before ctest's TIMEOUT would kill
        # it with SIGKILL and leave PostgreSQL behind.
        ( trap - EXIT TERM INT HUP ERR
          set +e
          sleep "$KEFU_IT_DEADLINE" &
          wait $! || exit 0
          echo "[$name] FAIL: deadline of ${KEFU_IT_DEADLINE}s reached" >&2
          : >"$IT_DIR/.failed"
          kill -TERM "$IT_MAIN_PID" 2>/dev/null
          # The shell runs its trap only once its foreground command ends:
          # end that command (any child that is not a daemon nor us).
          for c in $(pgrep -P "$IT_MAIN_PID"); do
              [[ $c == "$BASHPID" ]] && continue
              grep -qx "$c" "$IT_DIR/.daemons" 2>/dev/null && continue
              pkill -TERM -P "$c" 2>/dev/null; kill -TERM "$c" 2>/dev/null
          done ) &
        IT_WATCHDOG_PID=$!
    fi
    it_note "dir $IT_DIR; pg :$IT_PG_PORT; intake :$IT_INTAKE_PORT; bus ${KEFU_BUS_PUB##*:}/${KEFU_BUS_SUB##*:}/${KEFU_BUS_PUSH##*:}/${KEFU_BUS_PULL##*:}"
}

it__on_err() {
    local status=$1 line=$2 cmd=$3
    # Only report what will end the test (set -e in the main shell).
    [[ $- == *e* && ${BASHPID:-$$} == "$IT_MAIN_PID" ]] || return 0
    printf '[%s] FAIL: line %s: `%s` exited with status %s\n' "$IT_NAME" "$line" "$cmd" "$status" >&2
}

# ---------------------------------------------------------------- PostgreSQL

it_pg_start() {
    local data=$IT_DIR/pg/data log=$IT_DIR/log/postgres.log
    if [[ $IT_PG_INITIALISED == 0 && ! -f $data/PG_VERSION ]]; then
        if [[ $(id -u) == 0 ]]; then
            chown postgres: "$IT_DIR/pg"
            touch "$log"; chown postgres: "$log"
        fi
        it__as_pg "$IT_PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C -N \
                  --auth-local=trust --auth-host=trust >"$IT_DIR/log/initdb.log" 2>&1 ||
            it_fail "initdb failed: $(tail -n 5 "$IT_DIR/log/initdb.log")"
        cat >>"$data/postgresql.conf" <<EOF

# kefu integration test server (tests/integration/lib.sh)
listen_addresses = '127.0.0.1'
port = $IT_PG_PORT
unix_socket_directories = '$IT_DIR/pg'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    fi
    it__as_pg "$IT_PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null ||
        it_fail "PostgreSQL did not start: $(tail -n 5 "$log")"
    IT_PG_STARTED=1
    if [[ $IT_PG_INITIALISED == 0 ]]; then
        psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$IT_PG_PORT" -U postgres -d postgres \
             -c 'CREATE DATABASE kefu' >/dev/null || it_fail "CREATE DATABASE kefu failed"
        "$KEFU_SOURCE_DIR/deploy/migrate.sh" --quiet || it_fail "migrations failed"
        if [[ -f $KEFU_SOURCE_DIR/deploy/demo-org.json ]]; then
            # Without its approval policies: each test makes its own, and the
            # demo's defaults would compete with them for the same requests.
            jq '.approval_policies = []' "$KEFU_SOURCE_DIR/deploy/demo-org.json" \
                >"$IT_DIR/demo-org.json" || it_fail "jq cannot read deploy/demo-org.json"
            "$KEFU_BUILD_DIR/services/admin/kefu-admin" import --database "$KEFU_DATABASE_URL" \
                "$IT_DIR/demo-org.json" >"$IT_DIR/log/demo-org.log" 2>&1 ||
                it_fail "kefu-admin import deploy/demo-org.json failed: $(tail -n 5 "$IT_DIR/log/demo-org.log")"
        else
            it_note "warning: deploy/demo-org.json not found; no demo organisation"
        fi
        IT_PG_INITIALISED=1
    fi
}

# The certificate file of staff member $1, issued and registered on first
# use (the store must run). Prints its path.
it_cert() {
    local staff=$1 file=$IT_DIR/certs/$1.cert
    if [[ ! -f $file ]]; then
        "$KEFU_BUILD_DIR/services/admin/kefu-admin" cert "$staff" --out "$file" \
            --database "$KEFU_DATABASE_URL" >"$IT_DIR/log/cert-$staff.log" 2>&1 ||
            it_fail "kefu-admin cert $staff failed: $(tail -n 3 "$IT_DIR/log/cert-$staff.log")"
    fi
    echo "$file"
}

# Runs a command as staff member $1: it_as agent01 kefu submit ...
it_as() {
    local cert
    cert=$(it_cert "$1")
    shift
    KEFU_CERT=$cert "$@"
}

it_pg_stop() {
    local mode=${1:-fast}
    [[ -f $IT_DIR/pg/data/PG_VERSION ]] || return 0
    it__as_pg "$IT_PGBIN/pg_ctl" -D "$IT_DIR/pg/data" -m "$mode" -w -t 60 stop >/dev/null ||
        it_fail "PostgreSQL did not stop"
    IT_PG_STARTED=0
}

it_pg_restart() {
    it_pg_stop "${1:-fast}"
    it_pg_start
}

it_psql() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$KEFU_DATABASE_URL" -c "$1"
}

it_psql_is() {
    local got
    got=$(it_psql "$1" 2>/dev/null) || return 1
    [[ $got == "$2" ]]
}

# ---------------------------------------------------------------- daemons

it__binary() {
    local base=${1%%@*}
    base=${base#kefu-}
    local bin
    bin=$(find "$KEFU_BUILD_DIR/services" -type f -name "kefu-$base" -perm -u+x 2>/dev/null | head -n1)
    [[ -n $bin ]] || it_fail "no binary kefu-$base under $KEFU_BUILD_DIR/services (not built?)"
    echo "$bin"
}

it_log() { echo "$IT_DIR/log/$1.log"; }

it_pid() {
    [[ -n ${IT_PIDS[$1]:-} ]] || it_fail "it_pid: $1 was never started"
    echo "${IT_PIDS[$1]}"
}

it_running() {
    local pid=${IT_PIDS[$1]:-}
    [[ -n $pid ]] || return 1
    [[ -z ${IT_STATUS[$1]:-} ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # A zombie has exited already; so has a process whose stat is gone: the
    # shell may reap it between the two looks (while it waits for awk).
    local state
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

# Reaps $1 if it has exited, recording its status. Returns 0 once reaped.
it__reap() {
    local key=$1 pid=${IT_PIDS[$1]:-} st=0
    [[ -n $pid ]] || return 0
    [[ -z ${IT_STATUS[$key]:-} ]] || return 0
    if it_running "$key"; then return 1; fi
    wait "$pid" 2>/dev/null || st=$?
    IT_STATUS[$key]=$st
    return 0
}

it_start() {
    local key=${1:?it_start NAME[@LABEL] [VAR=value...]}
    shift
    local bin log pid
    if it_running "$key"; then it_fail "$key is already running (pid ${IT_PIDS[$key]})"; fi
    bin=$(it__binary "$key")
    log=$(it_log "$key")
    printf '=== %s start %s %s\n' "$(date +%T.%N)" "$bin" "$*" >>"$log"
    env "$@" "${IT_WRAP[@]}" "$bin" >>"$log" 2>&1 </dev/null &
    pid=$!
    IT_PIDS[$key]=$pid
    echo "$pid" >>"$IT_DIR/.daemons"
    unset 'IT_STATUS[$key]'
    IT_ORDER+=("$key")
    it_note "started $key (pid $pid)"
}

it_kill() {
    local key=${1:?it_kill NAME SIGNAL} sig=${2:?it_kill NAME SIGNAL}
    local pid i
    sig=${sig#SIG}
    pid=$(it_pid "$key")
    if ! it_running "$key"; then
        it_note "it_kill: $key is not running"
        it__reap "$key" || true
        return 0
    fi
    kill -"$sig" "$pid" 2>/dev/null || true
    case $sig in
        TERM|INT|QUIT|KILL|9|15|2|3)
            local gone=0
            # Counted in polls, not by the clock, which has been seen to jump.
            for ((i = 0; i < IT_STOP_SECONDS * 10; i++)); do
                it_running "$key" || { gone=1; break; }
                sleep 0.1
            done
            ((gone)) || it_fail "$key (pid $pid) still running ${IT_STOP_SECONDS}s after SIG$sig"
            it__reap "$key" || true
            it_note "$key exited after SIG$sig (status ${IT_STATUS[$key]})"
            ;;
    esac
    return 0
}

it_wait_exit() {
    local key=${1:?it_wait_exit NAME TIMEOUT} timeout=${2:?it_wait_exit NAME TIMEOUT}
    it_pid "$key" >/dev/null
    it_wait_for "$key to exit" "$timeout" it__not_running "$key"
    it__reap "$key" || true
    echo "${IT_STATUS[$key]}"
}

it__not_running() { ! it_running "$1"; }

it_wait_for() {
    local what=${1:?it_wait_for WHAT TIMEOUT command...} timeout=${2:?it_wait_for WHAT TIMEOUT command...}
    shift 2
    [[ $# -gt 0 ]] || it_fail "it_wait_for: no command"
    local start=${EPOCHREALTIME/./} out=
    local limit=$((start + ${timeout%.*} * 1000000))
    while true; do
        if out=$("$@" 2>&1); then return 0; fi
        if (( ${EPOCHREALTIME/./} >= limit )); then
            [[ -z $out ]] || it_note "last output of '$*': $(tail -n 5 <<<"$out")"
            it_fail "timed out after ${timeout}s waiting for: $what"
        fi
        sleep 0.1
    done
}

# The store, the bus, intake and the router, the client acting as agent.li
# (KEFU_CERT), once intake answers: how most flow tests begin.
it_start_routing() {
    it_pg_start
    KEFU_CERT=$(it_cert agent.li)
    export KEFU_CERT
    it_start bus
    it_start intake
    it_start router
    it_wait_for "intake to answer" 30 kefu tickets --limit 1
}

# ---------------------------------------------------------------- cleanup

it__cleanup() {
    local status=$? key pid i any
    set +e +u
    trap - ERR TERM INT HUP
    [[ ${BASHPID:-$$} == "$IT_MAIN_PID" ]] || return 0
    [[ -n $IT_DIR && -f $IT_DIR/.failed && $status == 0 ]] && status=1
    if [[ -n $IT_WATCHDOG_PID ]]; then
        pkill -TERM -P "$IT_WATCHDOG_PID" 2>/dev/null
        kill -TERM "$IT_WATCHDOG_PID" 2>/dev/null
        wait "$IT_WATCHDOG_PID" 2>/dev/null
    fi
    # Daemons: TERM in reverse start order, one bounded wait for all, then KILL.
    local -A termed=() killed=()
    for ((i = ${#IT_ORDER[@]} - 1; i >= 0; i--)); do
        key=${IT_ORDER[i]}
        it_running "$key" && kill -TERM "${IT_PIDS[$key]}" 2>/dev/null && termed[$key]=1
    done
    for ((i = 0; i < IT_STOP_SECONDS * 10; i++)); do
        any=0
        for key in "${!IT_PIDS[@]}"; do it_running "$key" && any=1; done
        [[ $any == 1 ]] || break
        sleep 0.1
    done
    for key in "${!IT_PIDS[@]}"; do
        if it_running "$key"; then
            printf '[%s] %s (pid %s) ignored SIGTERM; sending SIGKILL\n' "$IT_NAME" "$key" "${IT_PIDS[$key]}" >&2
            kill -KILL "${IT_PIDS[$key]}" 2>/dev/null
            killed[$key]=1
            [[ $status != 0 ]] || status=1
        fi
    done
    # A daemon whose status the test did not take (it_kill, it_wait_exit)
    # must have exited 0: on our SIGTERM, or by itself.
    local st
    for key in "${!IT_PIDS[@]}"; do
        [[ -z ${IT_STATUS[$key]:-} ]] || continue
        st=0
        wait "${IT_PIDS[$key]}" 2>/dev/null || st=$?
        [[ $st == 0 || -n ${killed[$key]:-} ]] && continue
        if [[ -n ${termed[$key]:-} ]]; then
            printf '[%s] FAIL: %s exited with status %s after SIGTERM (a daemon exits 0)\n' "$IT_NAME" "$key" "$st" >&2
        else
            printf '[%s] FAIL: %s had exited by itself with status %s\n' "$IT_NAME" "$key" "$st" >&2
        fi
        status=1
    done
    # Sanitizer reports (the sanitizer build writes them to the daemons' logs).
    if [[ -n $IT_DIR && -d $IT_DIR/log ]]; then
        local f
        for f in "$IT_DIR"/log/*.log; do
            [[ -f $f ]] || continue
            if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|: runtime error: ' "$f"; then
                printf '[%s] FAIL: sanitizer report in %s:\n' "$IT_NAME" "${f#"$IT_DIR"/}" >&2
                grep -m1 -A 60 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|: runtime error: ' "$f" >&2
                status=1
            fi
        done
    fi
    # PostgreSQL: fast, then immediate, then the postmaster by PID.
    if [[ -n $IT_DIR && -f $IT_DIR/pg/data/PG_VERSION ]]; then
        local data=$IT_DIR/pg/data
        if it__as_pg "$IT_PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            it__as_pg "$IT_PGBIN/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
                it__as_pg "$IT_PGBIN/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1
        fi
        if [[ -f $data/postmaster.pid ]]; then
            pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null)
            [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null
        fi
    fi
    if [[ $status != 0 && -n $IT_DIR && -d $IT_DIR/log ]]; then
        local f
        for f in "$IT_DIR"/log/*.log; do
            [[ -s $f ]] || continue
            printf '\n----- %s (last 40 lines) -----\n' "${f#"$IT_DIR"/}" >&2
            tail -n 40 "$f" >&2
        done
        printf '\n' >&2
    fi
    for i in "${IT_PORTS[@]}"; do rm -rf "${IT_PORT_DIR:?}/$i"; done
    if [[ -n $IT_DIR && -d $IT_DIR ]]; then
        if [[ ${KEFU_IT_KEEP:-0} == 1 ]]; then
            printf '[%s] kept %s\n' "$IT_NAME" "$IT_DIR" >&2
        else
            rm -rf "$IT_DIR"
        fi
    fi
    if [[ $status == 0 ]]; then
        printf '[%s] PASS\n' "$IT_NAME" >&2
    else
        printf '[%s] FAILED (status %s)\n' "$IT_NAME" "$status" >&2
    fi
    exit "$status"
}
