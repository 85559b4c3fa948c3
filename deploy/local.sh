#!/usr/bin/env bash
# kefu — run the system on this machine, or run its tests.
#
#   deploy/local.sh up      build, private PostgreSQL, migrations, demo org, daemons, demo
#   deploy/local.sh down    stop what `up` started
#   deploy/local.sh status  what is running
#   deploy/local.sh env     the exports that point the kefu client at what 'up' runs
#   deploy/local.sh test    build and run the whole test suite (ctest)
#
# Everything `up` creates lives under ./var of the working tree (see --help).
set -euo pipefail

prog=local.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${KEFU_BUILD_DIR:-$ROOT/build}
VAR=${KEFU_VAR_DIR:-$ROOT/var}
PGBIN=${KEFU_PGBIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${KEFU_PG_PORT:-5544}
WAIT_SECONDS=${KEFU_WAIT_SECONDS:-30}

PACKAGES=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev
          libjansson-dev libpq-dev libcmocka-dev libmicrohttpd-dev postgresql-15 postgresql-client-15
          libcurl4-openssl-dev libsodium-dev python3 python3-aiosmtpd
          python3-yaml docker-compose   # tests/deploy: YAML, `docker-compose config`
          python3-jsonschema)  # the OpenAPI document's check and conformance script

# name:path-under-build. Started in this order, stopped in reverse. The core
# three must exist; later daemons are started once they are built.
DAEMONS=(bus:services/bus/kefu-bus
         intake:services/intake/kefu-intake
         router:services/ticket-router/kefu-router
         approval:services/approval/kefu-approval
         notifier:services/notifier/kefu-notifier
         survey:services/survey/kefu-survey
         gateway:services/gateway/kefu-gateway)
CORE_DAEMONS=(bus intake router)
KEFU_CLI=$BUILD/services/cli/kefu
KEFU_ADMIN=$BUILD/services/admin/kefu-admin   # the operator tools (store)

usage() {
    cat <<EOF
Usage: deploy/local.sh COMMAND

Commands:
  up       Install missing Debian packages, build into ./build, start a private
           PostgreSQL under ./var/pg (unless KEFU_DATABASE_URL is set), create
           database kefu, apply migrations, load the demo organisation, start the
           daemons in the background and run a short demo (one complaint and its
           journey). Safe to re-run: what already runs is reused.
  down     Stop the daemons started by 'up' (by their PID files), then the
           private PostgreSQL.
  status   Show what is running.
  env      Print the shell exports that point the kefu client at what 'up'
           runs (store, endpoints, the agent's certificate, PATH):
             eval "\$(deploy/local.sh env)"
           'up' writes them to $VAR/kefu.env and prints them too.
  test [CTEST-ARGS...]
           Install missing packages, build into ./build, run the whole suite
           (unit and integration) with ctest --output-on-failure. Integration
           tests start their own PostgreSQL and daemons in throw-away
           directories and stop them. Then three more passes: sanitizer:
           ./build-asan (-DKEFU_SANITIZE=ON), the unit tests and a few
           integration tests under ASan/UBSan; fuzz: ./build-fuzz (clang,
           -DKEFU_FUZZ=ON), each libFuzzer target for KEFU_FUZZ_SECONDS
           (tests/fuzz/README.md); compose, beside those two: deploy/docker-compose.yml
           on a private Docker engine (tests/compose/README.md), its base
           image made beforehand beside the main pass at the lowest
           priority. At the end, each pass's time.
           Exit status: 0 when every pass passed. Extra arguments go to the
           first pass's ctest (e.g. 'test -R smoke', 'test -L integration')
           and then skip the other passes unless KEFU_TEST_PASSES names them.
  help     This text.

Files (all under $VAR):
  pg/data            private PostgreSQL data directory (owned by postgres)
  pg/sock            its unix socket directory
  log/NAME.log       logs of each daemon and of postgres
  run/NAME.pid       PIDs of the daemons started by 'up'
  notifications.jsonl  every SMS and e-mail kefu-notifier sent, one JSON line each
  certs/server.cert  the daemons' CurveZMQ certificate
  certs/STAFF.cert   a certificate for each active staff member of the store:
                     KEFU_CERT=$VAR/certs/cs.wang.cert kefu ... acts as cs.wang

Environment:
  KEFU_DATABASE_URL  use this PostgreSQL (libpq URL) instead of the private one;
                     the database must exist. No PostgreSQL is started or stopped.
  KEFU_PG_PORT       port of the private PostgreSQL (default 5544; 127.0.0.1 only)
  KEFU_LOG_LEVEL     daemons' log level (default info)
  KEFU_BUS_PUB/SUB/PUSH/PULL, KEFU_INTAKE_BIND, KEFU_INTAKE,
  KEFU_APPROVAL_BIND, KEFU_APPROVAL, KEFU_SURVEY_BIND, KEFU_SURVEY
                     daemon endpoints (defaults tcp://127.0.0.1:7701..7704, :7700,
                     :7720, :7710); 'up' refuses to start a daemon whose port is taken
  KEFU_HTTP_PORT     kefu-gateway's HTTP API port (default 8080); its certificate
                     is $VAR/certs/gateway.cert (KEFU_GATEWAY_CERT), and every
                     demo staff member gets the password kefu-demo-2026
  KEFU_METRICS_PORT  each daemon's /metrics and /health port (defaults 9101..9107;
                     0 turns them off)
  KEFU_SURVEY_DELAY_S
                     seconds from a resolution to its satisfaction survey (default
                     here 20, so the whole survey loop can be watched in a minute;
                     production's default is 86400, a day)
  KEFU_CURVE_CERT    the daemons' certificate (default $VAR/certs/server.cert,
                     made on first 'up' with kefu-admin server-cert)
  KEFU_CERT          the certificate the demo's client acts with (default the
                     call-centre agent's, $VAR/certs/agent.li.cert)
  KEFU_NOTIFY_FILE   the notifier's file channel (default $VAR/notifications.jsonl);
                     KEFU_SMS_URL / KEFU_SMTP_URL send through a gateway instead
  KEFU_BUILD_DIR     build directory (default ./build)
  KEFU_NO_BUILD=1    skip the build step (use what is in the build directory)
  KEFU_VAR_DIR       state directory (default ./var)
  KEFU_WAIT_SECONDS  bound on each wait in 'up' (default 30)
  KEFU_TEST_PASSES   passes of 'test' (default "main sanitizer fuzz compose";
                     with ctest arguments "main"; "compose": deploy/docker-compose.yml
                     on a private Docker engine, as root, tests/compose/README.md)
  KEFU_FUZZ_SECONDS  seconds of fuzzing per target in 'test' (default 20)
  KEFU_TEST_JOBS     tests the main pass runs at once (default 2)

Run as root (packages are installed with apt-get and PostgreSQL runs as the
'postgres' user via runuser). As another user, packages must already be
installed and PostgreSQL runs as that user.
EOF
}

say()  { printf '%s: %s\n' "$prog" "$*"; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

is_root() { [[ $(id -u) == 0 ]]; }

# Runs a command as the PostgreSQL server's user: postgres when we are root
# (initdb and postgres refuse root), else ourselves.
as_pg() {
    if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# ---------------------------------------------------------------- packages

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [[ ${#missing[@]} == 0 ]] && return 0
    if ! is_root; then
        die "missing packages: ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}"
    fi
    say "installing missing packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------- build

build() {
    if [[ ${KEFU_NO_BUILD:-0} == 1 ]]; then
        say "KEFU_NO_BUILD=1: using the binaries already in $BUILD"
        return 0
    fi
    say "building into $BUILD"
    cmake -S "$ROOT" -B "$BUILD" >/dev/null || die "cmake configure failed"
    cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" || die "build failed"
}

# ---------------------------------------------------------------- PostgreSQL

PG_HOME=        # directory holding data/ and sock/
PG_DATA=
PG_SOCK=
PG_LOG=$VAR/log/postgres.log

# Decides where the private server lives: ./var/pg when its user can reach it,
# else a directory under /var/tmp named after this working tree. The choice is
# remembered in ./var/pg.home so that 'down' finds it again.
pg_locate() {
    if [[ -f $VAR/pg.home ]]; then
        PG_HOME=$(<"$VAR/pg.home")
    else
        PG_HOME=$VAR/pg
        if is_root && ! runuser -u postgres -- test -x "$VAR"; then
            local tag
            tag=$(printf '%s' "$ROOT" | md5sum | cut -c1-12)
            PG_HOME=/var/tmp/kefu-pg-$tag
        fi
    fi
    PG_DATA=$PG_HOME/data
    PG_SOCK=$PG_HOME/sock
    if [[ $PG_HOME != "$VAR/pg" ]]; then
        PG_LOG=$PG_HOME/postgres.log
    fi
    # A unix socket path is limited to 107 bytes.
    if (( ${#PG_SOCK} + 20 > 107 )); then
        PG_SOCK=/tmp/kefu-pg-sock-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)
    fi
}

pg_running() {
    [[ -f $PG_DATA/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

# The port the running private server listens on (4th line of postmaster.pid).
pg_running_port() {
    sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null
}

port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

pg_start() {
    pg_locate
    if [[ $PG_HOME != "$VAR/pg" ]]; then
        say "note: the postgres user cannot reach $VAR; the private server's data and log live in $PG_HOME"
    fi
    if pg_running; then
        PG_PORT=$(pg_running_port)
        say "PostgreSQL already running ($PG_DATA, port $PG_PORT): reusing it"
        return 0
    fi
    mkdir -p "$VAR/log"
    echo "$PG_HOME" >"$VAR/pg.home"
    mkdir -p "$PG_HOME" "$PG_SOCK"
    if is_root; then
        chown postgres: "$PG_HOME" "$PG_SOCK"
        touch "$PG_LOG" && chown postgres: "$PG_LOG"
    fi
    chmod 700 "$PG_SOCK"
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
        say "initialising PostgreSQL in $PG_DATA"
        as_pg "$PGBIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
              --auth-local=trust --auth-host=trust >"$VAR/log/initdb.log" 2>&1 ||
            die "initdb failed; see $VAR/log/initdb.log"
        cat >>"$PG_DATA/postgresql.conf" <<EOF

# kefu private development server (deploy/local.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCK'
EOF
    fi
    if port_in_use "$PG_PORT"; then
        die "port $PG_PORT is already in use; choose another with KEFU_PG_PORT=NNNN"
    fi
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT (log $PG_LOG)"
    as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_SECONDS" \
          -o "-c port=$PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_SOCK" \
          start >/dev/null ||
        { tail -n 20 "$PG_LOG" >&2 || true; die "PostgreSQL did not start; see $PG_LOG"; }
}

pg_stop() {
    pg_locate
    if pg_running; then
        say "stopping PostgreSQL ($PG_DATA)"
        as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null ||
            die "PostgreSQL did not stop; see $PG_LOG"
    fi
}

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

# Sets KEFU_DATABASE_URL, starting the private server when none was given.
database_up() {
    if [[ -n ${KEFU_DATABASE_URL:-} ]]; then
        say "using the PostgreSQL of KEFU_DATABASE_URL; no private server is started"
        psql -X -q -d "$KEFU_DATABASE_URL" -c 'SELECT 1' >/dev/null ||
            die "cannot connect to KEFU_DATABASE_URL (the database must exist)"
        echo external >"$VAR/db.mode"
    else
        pg_start
        if [[ $(psql_admin -At -c "SELECT count(*) FROM pg_database WHERE datname = 'kefu'") == 0 ]]; then
            say "creating database kefu"
            psql_admin -c 'CREATE DATABASE kefu' >/dev/null
        fi
        export KEFU_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/kefu"
        echo private >"$VAR/db.mode"
    fi
    "$ROOT/deploy/migrate.sh" | sed 's/^/  /'
    if [[ -f $ROOT/deploy/demo-org.json ]]; then
        say "loading the demo organisation (kefu-admin import deploy/demo-org.json)"
        [[ -x $KEFU_ADMIN ]] || die "kefu-admin is not built ($KEFU_ADMIN missing)"
        "$KEFU_ADMIN" import "$ROOT/deploy/demo-org.json" | sed 's/^/  /' ||
            die "kefu-admin import deploy/demo-org.json failed"
    else
        warn "deploy/demo-org.json not found; no demo organisation loaded"
    fi
}

# ---------------------------------------------------------------- daemons

pidfile() { echo "$VAR/run/$1.pid"; }

# True when the PID file names a live process running the daemon's binary.
daemon_pid() {
    local name=$1 bin=$2 f pid exe
    f=$(pidfile "$name")
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    [[ ${exe% (deleted)} == */"$(basename "$bin")" ]] || return 1
    echo "$pid"
}

# The endpoints a daemon binds (the others connect).
daemon_binds() {
    case $1 in
        bus) echo "$KEFU_BUS_PUB $KEFU_BUS_SUB $KEFU_BUS_PUSH $KEFU_BUS_PULL" ;;
        intake) echo "$KEFU_INTAKE_BIND" ;;
        approval) echo "$KEFU_APPROVAL_BIND" ;;
        survey) echo "$KEFU_SURVEY_BIND" ;;
        gateway) echo "tcp://127.0.0.1:$KEFU_HTTP_PORT" ;;
    esac
}

endpoint_port() {
    [[ $1 =~ ^tcp://(127\.0\.0\.1|localhost|\*|0\.0\.0\.0):([0-9]+)$ ]] || return 1
    echo "${BASH_REMATCH[2]}"
}

daemon_start() {
    local name=$1 bin=$2 pid log
    if pid=$(daemon_pid "$name" "$bin"); then
        say "$name already running (pid $pid): left alone"
        return 0
    fi
    local ep port
    for ep in $(daemon_binds "$name"); do
        port=$(endpoint_port "$ep") || continue
        if port_in_use "$port"; then
            die "cannot start $name: $ep is already in use by another process (another kefu?); set its KEFU_* endpoint variable to a free port"
        fi
    done
    log=$VAR/log/$name.log
    printf '=== %s started by deploy/local.sh up\n' "$(date -Is)" >>"$log"
    # setsid: own session, so a terminal's signals do not reach it.
    setsid "$bin" >>"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$(pidfile "$name")"
    sleep 0.3
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$(pidfile "$name")"
        tail -n 20 "$log" >&2 || true
        die "$name exited at once; see $log"
    fi
    say "started $name (pid $pid, log ${log#"$ROOT"/})"
}

# Stops one daemon by its PID file: TERM, bounded wait, then KILL.
daemon_stop() {
    local name=$1 bin=$2 f pid i
    f=$(pidfile "$name")
    [[ -f $f ]] || return 0
    if ! pid=$(daemon_pid "$name" "$bin"); then
        say "$name: not running (stale PID file removed)"
        rm -f "$f"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
    say "stopped $name (pid $pid)"
}

export_endpoints() {
    export KEFU_LOG_LEVEL=${KEFU_LOG_LEVEL:-info}
    export KEFU_BUS_PUB=${KEFU_BUS_PUB:-tcp://127.0.0.1:7701}
    export KEFU_BUS_SUB=${KEFU_BUS_SUB:-tcp://127.0.0.1:7702}
    export KEFU_BUS_PUSH=${KEFU_BUS_PUSH:-tcp://127.0.0.1:7703}
    export KEFU_BUS_PULL=${KEFU_BUS_PULL:-tcp://127.0.0.1:7704}
    export KEFU_INTAKE_BIND=${KEFU_INTAKE_BIND:-tcp://127.0.0.1:7700}
    export KEFU_INTAKE=${KEFU_INTAKE:-$KEFU_INTAKE_BIND}
    export KEFU_APPROVAL_BIND=${KEFU_APPROVAL_BIND:-tcp://127.0.0.1:7720}
    export KEFU_APPROVAL=${KEFU_APPROVAL:-$KEFU_APPROVAL_BIND}
    export KEFU_SURVEY_BIND=${KEFU_SURVEY_BIND:-tcp://127.0.0.1:7710}
    export KEFU_SURVEY=${KEFU_SURVEY:-$KEFU_SURVEY_BIND}
    # A place to learn: a resolution's survey is sent after 20 s rather than
    # production's day, so the loop resolve -> survey -> answer is seen at once.
    export KEFU_SURVEY_DELAY_S=${KEFU_SURVEY_DELAY_S:-20}
    # The notifier's file channel: every SMS and e-mail as a JSON line, since
    # a development machine has no SMS gateway or mail server.
    export KEFU_NOTIFY_FILE=${KEFU_NOTIFY_FILE:-$VAR/notifications.jsonl}
    export KEFU_CURVE_CERT=${KEFU_CURVE_CERT:-$VAR/certs/server.cert}
    # The client acts as the demo organisation's call-centre agent.
    export KEFU_CERT=${KEFU_CERT:-$VAR/certs/agent.li.cert}
    # kefu-gateway: its CurveZMQ certificate and the HTTP API's port.
    export KEFU_GATEWAY_CERT=${KEFU_GATEWAY_CERT:-$VAR/certs/gateway.cert}
    export KEFU_HTTP_PORT=${KEFU_HTTP_PORT:-8080}
}

# The daemons' certificate, and one for every active staff member that has
# none here yet, so that a developer can act as anyone of the organisation.
# A new daemons' certificate makes the old staff certificates useless (they
# name its predecessor's key): they are issued again.
certs_up() {
    local dir=$VAR/certs staff
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ ! -f $KEFU_CURVE_CERT ]]; then
        say "creating the daemons' certificate $KEFU_CURVE_CERT"
        "$KEFU_ADMIN" server-cert --out "$KEFU_CURVE_CERT" | sed 's/^/  /' ||
            die "kefu-admin server-cert failed"
        find "$dir" -name '*.cert' ! -path "$KEFU_CURVE_CERT" -delete
    fi
    local issued=0
    while read -r staff; do
        [[ -n $staff && ! -f $dir/$staff.cert ]] || continue
        "$KEFU_ADMIN" cert "$staff" --out "$dir/$staff.cert" --note "deploy/local.sh" \
            >/dev/null || die "kefu-admin cert $staff failed"
        issued=$((issued + 1))
    done < <(psql -X -At -d "$KEFU_DATABASE_URL" -c "SELECT id FROM staff WHERE active ORDER BY id")
    ((issued == 0)) || say "issued $issued staff certificates in $dir"
    if [[ ! -f $KEFU_GATEWAY_CERT ]]; then
        "$KEFU_ADMIN" cert --gateway local --out "$KEFU_GATEWAY_CERT" >/dev/null ||
            die "kefu-admin cert --gateway failed"
        say "issued kefu-gateway's certificate $KEFU_GATEWAY_CERT"
    fi
}

# The demo password of every active staff member who has none yet (a
# development machine only: compose never does this), for signing in to
# kefu-gateway. A password someone changed is left alone.
DEMO_PASSWORD=kefu-demo-2026
passwords_up() {
    local staff set=0
    while read -r staff; do
        [[ -n $staff ]] || continue
        printf '%s\n' "$DEMO_PASSWORD" | "$KEFU_ADMIN" passwd "$staff" --stdin >/dev/null ||
            die "kefu-admin passwd $staff failed"
        set=$((set + 1))
    done < <(psql -X -At -d "$KEFU_DATABASE_URL" \
                 -c "SELECT id FROM staff WHERE active AND password_hash IS NULL ORDER BY id")
    ((set == 0)) || say "set the demo password of $set staff members"
}

# How to reach kefu-gateway, printed at the end of 'up'.
gateway_say() {
    local url=http://127.0.0.1:$KEFU_HTTP_PORT
    [[ -x $BUILD/services/gateway/kefu-gateway ]] || return 0
    say "web console: $url/ (open it in a browser; kefu-gateway, log $VAR/log/gateway.log)"
    say "HTTP API: $url/api/v1/ (described at $url/api/v1/openapi.json)"
    say "demo sign-ins: any staff id of the demo organisation (agent.li, eng.zhao, cs.wang,"
    say "  fin.lin, gm.hz, admin ...) with the password $DEMO_PASSWORD (unless changed), e.g.:"
    say "  curl -c jar -H 'Content-Type: application/json' \\"
    say "    -d '{\"staff\":\"agent.li\",\"password\":\"$DEMO_PASSWORD\"}' $url/api/v1/session"
    say "  curl -b jar $url/api/v1/tickets   (POSTs also need -H \"X-CSRF-Token: <csrf of the answer>\")"
}

# Polls "$@" every 0.2 s for at most $1 seconds; each try is bounded too.
wait_until() {
    local seconds=$1; shift
    local deadline=$((SECONDS + seconds))
    local bound=(timeout 10)
    declare -F "$1" >/dev/null && bound=()      # a shell function runs as is
    while ! "${bound[@]}" "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

ticket_routed() {
    [[ $(PGCONNECT_TIMEOUT=5 psql -X -At -d "$KEFU_DATABASE_URL" -v no="$1" \
             <<<"SELECT routed_at IS NOT NULL FROM ticket WHERE no = :'no';") == t ]]
}

demo() {
    local out no
    say "demo: an agent logs an owner's complaint"
    # A fixed idempotency key: a second 'up' gets the same ticket back
    # (duplicate) instead of logging the demo complaint again.
    out=$(timeout 30 "$KEFU_CLI" submit --idem local-sh-demo-1 --kind complaint --category leak \
          --channel phone --project HZ-XH --building 3 --unit 1201 --phone 13800138000 \
          --summary "卫生间漏水，楼下天花板渗水 (bathroom leak, ceiling below is wet)") ||
        die "demo: kefu submit failed: $out"
    no=$(grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1 || true)
    [[ -n $no ]] || die "demo: kefu submit printed no ticket number: $out"
    if [[ $out == *duplicate* ]]; then
        say "demo: ticket $no was logged by an earlier 'up'; not logged again"
    else
        say "demo: ticket $no accepted; waiting for it to be routed"
    fi
    wait_until "$WAIT_SECONDS" ticket_routed "$no" ||
        die "demo: $no was not routed within ${WAIT_SECONDS}s; see $VAR/log/router.log"
    say "demo: the journey of $no:"
    timeout 30 "$KEFU_CLI" ticket show "$no" || die "demo: kefu ticket show $no failed"
}

cmd_up() {
    ensure_packages
    build
    mkdir -p "$VAR/log" "$VAR/run"
    chmod 755 "$VAR"
    database_up
    export_endpoints
    certs_up
    passwords_up
    local entry name rel bin
    for name in "${CORE_DAEMONS[@]}"; do
        for entry in "${DAEMONS[@]}"; do
            [[ ${entry%%:*} == "$name" ]] || continue
            [[ -x $BUILD/${entry#*:} ]] || die "$name is not built ($BUILD/${entry#*:} missing)"
        done
    done
    [[ -x $KEFU_CLI ]] || die "the kefu client is not built ($KEFU_CLI missing)"
    for entry in "${DAEMONS[@]}"; do
        name=${entry%%:*}; rel=${entry#*:}; bin=$BUILD/$rel
        [[ -x $bin ]] || continue
        daemon_start "$name" "$bin"
    done
    say "waiting for intake at $KEFU_INTAKE"
    wait_until "$WAIT_SECONDS" "$KEFU_CLI" tickets --limit 1 ||
        die "intake did not answer within ${WAIT_SECONDS}s; see $VAR/log/intake.log"
    demo
    env_write
    echo
    say "kefu is up. To use it from this shell, paste these exports"
    say "(or run: eval \"\$(deploy/local.sh env)\"):"
    echo
    cat "$VAR/kefu.env"
    echo
    say "client: kefu --help   logs: $VAR/log/   stop: deploy/local.sh down"
    say "act as someone: export KEFU_CERT=$VAR/certs/STAFF.cert (e.g. agent.li, eng.zhao, cs.wang)"
    say "surveys are sent ${KEFU_SURVEY_DELAY_S} s after a resolution here (KEFU_SURVEY_DELAY_S; a day in production)"
    gateway_say
}

# Writes the exports the kefu clients need to reach what 'up' runs: the
# store (kefu-admin status, kefu-admin notification), the daemons' endpoints,
# the agent's certificate and both clients (kefu, kefu-admin) on PATH.
env_write() {
    local f=$VAR/kefu.env cli_dir admin_dir
    cli_dir=$(dirname "$KEFU_CLI")
    admin_dir=$(dirname "$KEFU_ADMIN")
    {
        echo "# deploy/local.sh env: what 'up' runs ($(date -Is))"
        local name
        for name in KEFU_DATABASE_URL KEFU_INTAKE KEFU_APPROVAL KEFU_SURVEY KEFU_CERT \
                    KEFU_CURVE_CERT; do
            printf 'export %s=%q\n' "$name" "${!name}"
        done
        local dir
        for dir in "$admin_dir" "$cli_dir"; do
            printf 'case ":$PATH:" in *:%q:*) ;; *) export PATH=%q:"$PATH" ;; esac\n' \
                "$dir" "$dir"
        done
    } >"$f.tmp"
    chmod 600 "$f.tmp"   # the database URL may carry a password
    mv "$f.tmp" "$f"
}

cmd_env() {
    [[ -f $VAR/kefu.env ]] || die "nothing is up here yet ($VAR/kefu.env missing): run deploy/local.sh up first"
    cat "$VAR/kefu.env"
}

cmd_down() {
    local i entry
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        entry=${DAEMONS[i]}
        daemon_stop "${entry%%:*}" "$BUILD/${entry#*:}"
    done
    # The private server, if running, was started by 'up' (an external one
    # named by KEFU_DATABASE_URL is never touched).
    pg_stop
    rm -f "$VAR/db.mode"
    say "down"
}

cmd_status() {
    local entry name bin pid any=0
    for entry in "${DAEMONS[@]}"; do
        name=${entry%%:*}; bin=$BUILD/${entry#*:}
        if pid=$(daemon_pid "$name" "$bin"); then
            printf '  %-9s running (pid %s)\n' "$name" "$pid"; any=1
        elif [[ -f $(pidfile "$name") ]]; then
            printf '  %-9s not running (stale PID file)\n' "$name"
        elif [[ -x $bin ]]; then
            printf '  %-9s stopped\n' "$name"
        fi
    done
    pg_locate
    if [[ $(cat "$VAR/db.mode" 2>/dev/null || true) == external ]]; then
        printf '  %-9s external (KEFU_DATABASE_URL)\n' postgres
    elif pg_running; then
        printf '  %-9s running (%s, 127.0.0.1:%s)\n' postgres "$PG_DATA" "$(pg_running_port)"; any=1
    else
        printf '  %-9s stopped\n' postgres
    fi
    [[ $any == 1 ]] || true
}

# ---------------------------------------------------------------- test passes

# The sanitizer and fuzz passes of 'test' (issue 6): tests/fuzz/README.md.
TEST_PACKAGES=(clang libclang-rt-dev valgrind jq curl openssl  # jq: the tests read --json; curl,
                                                               # openssl: the gateway's tests
               chromium chromium-driver python3-selenium  # tests/browser: the console in a browser
               fonts-wqy-microhei  # Chinese glyphs in the browser tests' screenshots
               docker.io debootstrap)  # the compose pass (tests/compose; docker-compose above)
SAN_BUILD=$ROOT/build-asan
FUZZ_BUILD=$ROOT/build-fuzz
# Run again under ASan/UBSan: every unit test and corpus replay, and the
# integration tests that drive the most daemon code per second: intake's
# hostile input (bad_input), every request of the client's journey (cli), the
# router's catch-up of a backlog (router_down) and the plain flow (smoke).
# The kill, restart and feed-order tests add little code and a minute each;
# escalation depends on 10-second deadlines that ASan on a loaded machine
# misses (valgrind covers escalation: tests/memcheck).
SAN_UNIT='^(unit_.*|fuzz_replay_.*)$'
SAN_INTEGRATION='^integration_(smoke|bad_input|cli|router_down|gateway)$'

# Configures and builds a further build directory quietly: build_dir DIR
# CMAKE-ARGS... [-- BUILD-ARGS...]; on failure shows the end of its log.
build_dir() {
    local dir=$1 cfg=() bld=()
    shift
    while (($#)) && [[ $1 != -- ]]; do cfg+=("$1"); shift; done
    (($#)) && shift
    bld=("$@")
    if [[ ${KEFU_NO_BUILD:-0} == 1 && -f $dir/CMakeCache.txt ]]; then
        say "KEFU_NO_BUILD=1: using the binaries already in $dir"
        return 0
    fi
    mkdir -p "$dir"
    if ! { cmake -S "$ROOT" -B "$dir" "${cfg[@]}" &&
           cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)" "${bld[@]}"; } >"$dir/build.log" 2>&1; then
        tail -n 40 "$dir/build.log" >&2
        warn "building $dir failed; see $dir/build.log"
        return 1
    fi
}

sanitizer_pass() {
    say "sanitizer pass: building $SAN_BUILD (KEFU_SANITIZE=ON: ASan + UBSan, assertions on)"
    # Warnings are the gcc build's gate above: instrumented code at -O1 draws
    # false positives from gcc (e.g. -Wformat-truncation on vsnprintf(NULL, 0)).
    build_dir "$SAN_BUILD" -DKEFU_SANITIZE=ON -DKEFU_WERROR=OFF \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" || return 1
    say "sanitizer pass: unit tests and selected integration tests (daemons under ASan)"
    # A finding stops the process with a report: the unit test fails, and an
    # integration test fails on the report in a daemon's log (lib.sh).
    # Integration tests one at a time: their deadlines assume a daemon that
    # is not also sharing the CPU with another test's sanitized daemons.
    local rc=0
    export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    ctest --test-dir "$SAN_BUILD" --output-on-failure -j2 -R "$SAN_UNIT" || rc=1
    ctest --test-dir "$SAN_BUILD" --output-on-failure -R "$SAN_INTEGRATION" || rc=1
    unset ASAN_OPTIONS UBSAN_OPTIONS
    return "$rc"
}

fuzz_pass() {
    say "fuzz pass: building $FUZZ_BUILD (CC=clang, KEFU_FUZZ=ON)"
    # clang's warnings are not gcc's: the gcc build is the -Werror gate.
    CC=clang build_dir "$FUZZ_BUILD" -DKEFU_FUZZ=ON -DKEFU_WERROR=OFF \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" -- --target fuzz_all || return 1
    local seconds=${KEFU_FUZZ_SECONDS:-20} rc=0
    say "fuzz pass: each target for ${seconds}s after replaying its corpus"
    KEFU_FUZZ_SECONDS=$seconds ctest --test-dir "$FUZZ_BUILD" --output-on-failure -j2 -L fuzz || rc=$?
    cat "$FUZZ_BUILD"/tests/fuzz/logs/*.summary 2>/dev/null | sed 's/^/  /' || true
    return "$rc"
}

# The compose pass (issue 15, tests/compose/README.md): deploy/docker-compose.yml
# on a private Docker engine (root only), images built from Debian's mirror;
# started in the background in a session of its own (setsid: $! is its PID
# and its process group). With the kernel's autogroups
# (kernel.sched_autogroup_enabled) each session takes a fair share of the
# CPU, and a nice value ranks a task only among the tasks of its session: in
# this run's session the engine (nice 19, compose_lib.sh) yielded to the
# sanitizer build and the fuzzers, and the step with nine `$C run` took
# 110-127 s instead of 15.
compose_pass_start() {
    say "compose pass: tests/compose/run_compose.sh (a private dockerd)"
    KEFU_BUILD_DIR=$BUILD setsid "$ROOT/tests/compose/run_compose.sh" </dev/null &
}

# The compose pass's first minute, today's base image (debootstrap, about
# 45 s of CPU), made beside the main pass in a session of its own at the
# lowest priority, its autogroup's too, so that it takes the CPU the main
# pass leaves idle (its tests that run alone use about half of it); the
# compose pass then finds the image in its cache, or waits for this to end.
BASE_PID=
base_start() {
    KEFU_BUILD_DIR=$BUILD setsid bash -c \
        '{ echo 19 >/proc/self/autogroup; renice -n 19 -p $$; ionice -c 3 -p $$; } >/dev/null 2>&1
         exec "$0" base' "$ROOT/tests/compose/run_compose.sh" </dev/null >"$BUILD/compose-base.log" 2>&1 &
    BASE_PID=$!
}

# What each pass of 'test' took and how it ended, printed at the end:
# passed NAME START RC (START in seconds since the epoch).
PASSES_DONE=()
passed() {
    PASSES_DONE+=("$(printf '  %-10s %5ds  %s' "$1" $(($(date +%s) - $2)) \
        "$([[ $3 == 0 ]] && echo passed || echo FAILED)")")
}

# run_pass NAME COMMAND...: runs the pass, records its time and outcome;
# returns its exit status.
run_pass() {
    local name=$1 t0 prc=0
    shift
    t0=$(date +%s)
    "$@" || prc=$?
    passed "$name" "$t0" "$prc"
    return "$prc"
}

# The compose pass's session, stopped when 'test' ends (also on interrupt):
# SIGTERM (it removes what it started), SIGKILL to its process group after
# its own bounds have passed.
COMPOSE_PID=
stop_compose() {
    if [[ -n $BASE_PID ]]; then kill -TERM -- "-$BASE_PID" 2>/dev/null || true; fi
    [[ -n $COMPOSE_PID ]] && kill -0 "$COMPOSE_PID" 2>/dev/null || return 0
    kill -TERM "$COMPOSE_PID" 2>/dev/null
    for _ in {1..120}; do kill -0 "$COMPOSE_PID" 2>/dev/null || return 0; sleep 1; done
    kill -KILL -- "-$COMPOSE_PID" 2>/dev/null || true
}

cmd_test() {
    PACKAGES+=("${TEST_PACKAGES[@]}")
    ensure_packages
    local rc=0 t_all passes=${KEFU_TEST_PASSES:-"main sanitizer fuzz compose"}
    t_all=$(date +%s)
    run_pass build build
    if [[ $# -gt 0 && -z ${KEFU_TEST_PASSES:-} ]]; then passes=main; fi
    trap stop_compose EXIT
    trap 'exit 130' INT TERM
    # Beside a main pass only: alone, the compose pass would wait for it.
    [[ " $passes " == *" compose "* && " $passes " == *" main "* ]] && base_start
    if [[ " $passes " == *" main "* ]]; then
        # Two at a time: each test has its own ports and directories; those
        # that measure deadlines in seconds run alone (RUN_SERIAL in CMake).
        run_pass main ctest --test-dir "$BUILD" --output-on-failure -j"${KEFU_TEST_JOBS:-2}" "$@" ||
            rc=$?
    fi
    # The compose pass runs beside the sanitizer and fuzz passes, at the same
    # priority: it is the longest (7 minutes), fuzzing lasts a fixed time
    # whatever its share of the CPU (it only runs fewer inputs), the
    # sanitizer pass's waits are bounds, not timings, and the compose pass
    # spends its first minutes downloading and unpacking packages for its
    # images. Its output follows the fuzz pass's.
    local compose_log=$BUILD/compose-pass.log t_compose
    if [[ " $passes " == *" compose "* ]]; then
        t_compose=$(date +%s)
        compose_pass_start >"$compose_log" 2>&1
        COMPOSE_PID=$!
    fi
    if [[ " $passes " == *" sanitizer "* ]]; then
        run_pass sanitizer sanitizer_pass || { rc=1; warn "the sanitizer pass failed"; }
    fi
    if [[ " $passes " == *" fuzz "* ]]; then
        run_pass fuzz fuzz_pass || { rc=1; warn "the fuzz pass failed"; }
    fi
    if [[ -n $COMPOSE_PID ]]; then
        local compose_rc=0
        wait "$COMPOSE_PID" || compose_rc=$?
        passed compose "$t_compose" "$compose_rc"
        cat "$compose_log"
        ((compose_rc == 0)) || { rc=1; warn "the compose pass failed"; }
    fi
    passed "in all" "$t_all" "$rc"
    say "test: each pass's time (compose beside sanitizer and fuzz):"
    printf '%s\n' "${PASSES_DONE[@]}"
    # Integration tests clean up after themselves; say so if one did not.
    local left
    left=$(pgrep -a -f '/tmp/kefu-it-' 2>/dev/null || true)
    if [[ -n $left ]]; then
        warn "processes of integration tests are still running:"
        printf '%s\n' "$left" >&2
    fi
    return "$rc"
}

case ${1:-} in
    up) shift; [[ $# == 0 ]] || die "up takes no arguments"; cmd_up ;;
    down) shift; cmd_down ;;
    status) shift; cmd_status ;;
    env) shift; [[ $# == 0 ]] || die "env takes no arguments"; cmd_env ;;
    test) shift; cmd_test "$@" ;;
    -h|--help|help) usage ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown command %s\n\n' "$prog" "$1" >&2; usage >&2; exit 2 ;;
esac
