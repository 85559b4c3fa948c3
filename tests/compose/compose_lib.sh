# shellcheck shell=bash
# kefu — the compose pass's library (issue 15): a private Docker engine,
# the images the production compose file needs built from Debian's mirror
# only, and deploy/docker-compose.yml run on it. Sourced by run_compose.sh;
# tests/compose/README.md says what each step does and how long it takes.
#
# Never touches a system Docker: its own containerd and dockerd, each with
# its own root, state, PID file and unix socket under KC_DIR (a throw-away
# directory under /tmp), no default bridge, no iptables rules, and compose
# networks from a private 10.X.0.0/16 pool. kc_stop (also run by the EXIT
# trap) removes every container, network and volume, stops both daemons by
# their PIDs within a bounded time, and removes KC_DIR.
#
# Set by the caller before sourcing: ROOT (the repository), BUILD (its build
# directory: the cache is $BUILD/compose-cache).

KC_DOCKER=${KEFU_DOCKER:-/usr/bin/docker}          # Debian's docker.io CLI
KC_COMPOSE=${KEFU_DOCKER_COMPOSE:-/usr/bin/docker-compose}  # Debian 12: v1.29
KC_PACKAGES=(docker.io debootstrap docker-compose)
KC_DIR=
KC_AGENT=agent.li     # the staff member whose certificate the clients use (first day)
KC_CACHE=${KEFU_COMPOSE_CACHE:-$BUILD/compose-cache}
KC_STOP_S=${KEFU_COMPOSE_STOP_S:-60}   # bound on stopping everything
# shellcheck disable=SC2034 # run_compose.sh: the pass's duration
KC_T0=$(date +%s)

kc_say()  { printf 'compose: %(%T)T %s\n' -1 "$*"; }
kc_warn() { printf 'compose: %(%T)T warning: %s\n' -1 "$*" >&2; }
kc_die()  { printf 'compose: %(%T)T error: %s\n' -1 "$*" >&2; exit 1; }

# Runs the Docker CLI against the private engine only.
kc_docker() { "$KC_DOCKER" "$@"; }

# Runs "STEP FUNCTION [ARGS...]": the function, saying how long it took; the
# durations are kept in $KC_DIR/durations for the pass's summary.
kc_step() {
    local name=$1 t0 rc=0
    shift
    t0=$(date +%s)
    kc_say "step $name ..."
    "$@" || rc=$?
    local took=$(($(date +%s) - t0))
    printf '%-22s %4ds %s\n' "$name" "$took" "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")" \
        >>"$KC_DIR/durations"
    kc_say "step $name: $([[ $rc == 0 ]] && echo "done" || echo "failed ($rc)") in ${took}s"
    return "$rc"
}

# Installs the Debian packages the pass needs when one is missing (root).
kc_packages() {
    local missing=() p
    for p in "${KC_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [[ ${#missing[@]} == 0 ]] && return 0
    [[ $(id -u) == 0 ]] || kc_die "missing packages: ${missing[*]} (run as root)"
    kc_say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# Prints the Debian mirror this machine's apt uses (deb822 .sources or a
# one-line sources.list), deb.debian.org when none is found.
kc_mirror() {
    local m
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}')
    [[ -n $m ]] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}')
    echo "${m:-http://deb.debian.org/debian}"
}

# Prints a 10.X.0.0/16 that no route of this host overlaps, for the
# private engine's networks (another pass's engine may hold one).
kc_free_pool() {
    local x i routes
    routes=$(ip -4 route show 2>/dev/null)
    x=$((200 + $$ % 50))
    for ((i = 0; i < 50; i++)); do
        if ! grep -q "^10\.$x\." <<<"$routes"; then echo "10.$x.0.0/16"; return 0; fi
        x=$((200 + (x - 199) % 50))
    done
    return 1
}

# Waits up to $1 seconds for the command in the rest of the arguments to succeed.
kc_wait() {
    local limit=$1 t0
    shift
    t0=$(date +%s)
    until "$@" >/dev/null 2>&1; do
        (($(date +%s) - t0 >= limit)) && return 1
        sleep 0.5
    done
}

# Writes the private containerd's configuration: everything under KC_DIR, no
# CRI plugin (Kubernetes' interface: not needed, and it would listen).
kc_containerd_config() {
    local d=$KC_DIR/containerd
    mkdir -p "$d/root" "$d/state" "$d/opt"
    cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$KC_DIR/containerd.sock"
[ttrpc]
  address = "$KC_DIR/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
TOML
}

# Starts the private containerd and dockerd under a new KC_DIR, each by its
# PID file, and points DOCKER_HOST (and the CLI's configuration) at them.
kc_engine_start() {
    KC_DIR=$(mktemp -d /tmp/kefu-compose.XXXXXX)
    chmod 0755 "$KC_DIR"
    : >"$KC_DIR/durations"
    local pool
    pool=$(kc_free_pool) || kc_die "no free 10.X.0.0/16 for the engine's networks"
    kc_containerd_config
    nice -n 19 containerd -c "$KC_DIR/containerd/config.toml" \
        >"$KC_DIR/containerd.log" 2>&1 7>&- 8>&- &
    echo $! >"$KC_DIR/containerd.pid"
    kc_wait 30 test -S "$KC_DIR/containerd.sock" ||
        { tail -20 "$KC_DIR/containerd.log" >&2; kc_die "containerd did not start"; }
    # No default bridge (docker0): compose makes its own networks from the
    # pool; no iptables rules: published ports go through docker-proxy, and
    # the containers reach nothing outside their networks (no masquerade).
    nice -n 19 dockerd --data-root "$KC_DIR/data" --exec-root "$KC_DIR/exec" \
        --pidfile "$KC_DIR/dockerd.pid" -H "unix://$KC_DIR/docker.sock" \
        --containerd "$KC_DIR/containerd.sock" --bridge none \
        --iptables=false --ip-masq=false --ip-forward=false \
        --default-address-pool "base=$pool,size=24" \
        >"$KC_DIR/dockerd.log" 2>&1 7>&- 8>&- &
    echo $! >"$KC_DIR/dockerd.pid.own"
    export DOCKER_HOST=unix://$KC_DIR/docker.sock
    export DOCKER_CONFIG=$KC_DIR/docker-config
    mkdir -p "$DOCKER_CONFIG"
    kc_wait 60 kc_docker version ||
        { tail -20 "$KC_DIR/dockerd.log" >&2; kc_die "dockerd did not answer"; }
    kc_say "engine: $(kc_docker version -f '{{.Server.Version}}') at $DOCKER_HOST, networks from $pool"
}

# Sends SIGTERM to the PID in file $1, then SIGKILL when it is still there
# after $2 seconds; returns when it has gone.
kc_kill_pidfile() {
    local file=$1 limit=$2 pid t0
    [[ -f $file ]] || return 0
    pid=$(cat "$file")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    t0=$(date +%s)
    while kill -0 "$pid" 2>/dev/null && (($(date +%s) - t0 < limit)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        kc_warn "PID $pid ($file) did not stop in ${limit}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        sleep 1
    fi
}

# Prints the PIDs of containerd shims serving the private containerd (their
# command line names its socket under KC_DIR); none when all went away.
kc_own_shims() {
    local p
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
            grep -qF -- "-address $KC_DIR/containerd.sock" && echo "${p#/proc/}"
    done
    return 0
}

# Removes every container, network and volume of the private engine, stops
# dockerd and containerd by their PIDs (bounded), kills shims left behind,
# unmounts what is still mounted under KC_DIR and removes it. Idempotent.
kc_stop() {
    [[ -n $KC_DIR && -d $KC_DIR ]] || return 0
    local t0
    t0=$(date +%s)
    if [[ -S $KC_DIR/docker.sock ]]; then
        timeout "$KC_STOP_S" bash -c '
            ids=$("$0" ps -aq); [[ -z $ids ]] || "$0" rm -f -v $ids
            "$0" network prune -f; "$0" volume prune -f' "$KC_DOCKER" >/dev/null 2>&1 ||
            kc_warn "removing the containers did not finish in ${KC_STOP_S}s"
    fi
    kc_say "stop: containers, networks, volumes removed in $(($(date +%s) - t0))s"
    kc_kill_pidfile "$KC_DIR/dockerd.pid.own" 30
    kc_kill_pidfile "$KC_DIR/containerd.pid" 15
    kc_say "stop: dockerd and containerd stopped at $(($(date +%s) - t0))s"
    local pid
    for pid in $(kc_own_shims); do kill -KILL "$pid" 2>/dev/null; done
    { findmnt -rn -o TARGET | grep -F "$KC_DIR/" | sort -r |
        while read -r m; do umount -l "$m"; done; } 2>/dev/null || true
    if [[ ${KEFU_COMPOSE_KEEP:-0} == 1 ]]; then
        rm -rf "$KC_DIR/data" "$KC_DIR/exec" "$KC_DIR/containerd" "$KC_DIR/work"
        kc_say "KEFU_COMPOSE_KEEP=1: logs kept in $KC_DIR (remove it by hand)"
    else
        rm -rf "$KC_DIR"
    fi
    kc_say "stop: done in $(($(date +%s) - t0))s"
    KC_DIR=
}

# Makes today's root file system of debian:12, a debootstrap minbase
# bookworm of this machine's mirror, as an operator without Docker Hub
# would: a tarball in KC_CACHE, one per day (older ones are removed), so
# that later runs only import it. Sets KC_TARBALL. Under a lock: a run that
# finds another making it (deploy/local.sh starts `run_compose.sh base`
# early) waits for that one and uses its tarball.
kc_base_tarball() {
    KC_TARBALL=$KC_CACHE/debian-12-minbase-$(date -u +%Y%m%d).tar
    mkdir -p "$KC_CACHE"
    kc_base_make 9>"$KC_CACHE/base.lock"
}

# kc_base_tarball's work, holding the lock on descriptor 9.
kc_base_make() {
    local rootfs mirror
    flock 9
    if [[ -s $KC_TARBALL ]]; then
        kc_say "base: cached $KC_TARBALL"
        return 0
    fi
    mirror=$(kc_mirror)
    rm -rf "$KC_CACHE"/rootfs.* # what a run stopped midway left
    rootfs=$(mktemp -d "$KC_CACHE/rootfs.XXXXXX")
    kc_say "debootstrap --variant=minbase bookworm from $mirror (cache: none for today)"
    if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
        >"$KC_CACHE/debootstrap.log" 2>&1; then
        tail -20 "$KC_CACHE/debootstrap.log" >&2
        rm -rf "$rootfs"
        return 1
    fi
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" --numeric-owner -cf "$KC_TARBALL.part" . && mv "$KC_TARBALL.part" "$KC_TARBALL"
    rm -rf "$rootfs"
    find "$KC_CACHE" -maxdepth 1 -name 'debian-12-minbase-*.tar' ! -name "${KC_TARBALL##*/}" -delete
    kc_say "base: made $KC_TARBALL"
}

# Makes debian:12 (also tagged debian:12-slim) in the engine from today's
# root file system (kc_base_tarball).
kc_base_image() {
    kc_base_tarball || return 1
    kc_docker import --change 'CMD ["bash"]' - debian:12 <"$KC_TARBALL" >/dev/null &&
        kc_docker tag debian:12 debian:12-slim
}

# Uses the engine of an earlier run kept alive (KEFU_COMPOSE_DIR=KC_DIR of a
# run with KEFU_COMPOSE_HOLD=1), to resume a pass step by step by hand.
kc_engine_attach() {
    KC_DIR=$1
    [[ -S $KC_DIR/docker.sock ]] || kc_die "no engine at $KC_DIR"
    export DOCKER_HOST=unix://$KC_DIR/docker.sock
    export DOCKER_CONFIG=$KC_DIR/docker-config
    kc_docker version >/dev/null || kc_die "the engine at $KC_DIR does not answer"
    if [[ -f $KC_DIR/project/ports ]]; then
        set -a
        # shellcheck disable=SC1091 # written by kc_project
        . "$KC_DIR/project/ports"
        set +a
    fi
}

# Builds image $1 from Dockerfile $2 in context $3 with the host's network
# (so that only the package mirror is reached), its log in KC_DIR. With
# BuildKit, as Docker 23 and later build by default: dockerd 20.10's
# classic builder took twice as long here (kefu's image 110-134 s against
# 63 s), building the Dockerfile's two stages one after the other.
kc_build() {
    local tag=$1 file=$2 context=$3 log t0
    log=$KC_DIR/build-${tag//[:\/]/_}.log
    t0=$(date +%s)
    if ! DOCKER_BUILDKIT=1 kc_docker build --progress plain --network host -f "$file" -t "$tag" \
        "$context" >"$log" 2>&1; then
        tail -30 "$log" >&2
        kc_warn "building $tag failed; see $log"
        return 1
    fi
    kc_say "built $tag in $(($(date +%s) - t0))s ($(kc_docker image inspect -f '{{.Size}}' "$tag" |
        awk '{printf "%d MB", $1/1e6}'))"
}

# The stand-in for postgres:15 (tests/compose/postgres), tagged so too:
# deploy/docker-compose.yml's image name, and kefu-compose/postgres:15.
kc_postgres_image() {
    kc_build kefu-compose/postgres:15 "$ROOT/tests/compose/postgres/Dockerfile" \
        "$ROOT/tests/compose/postgres" &&
        kc_docker tag kefu-compose/postgres:15 postgres:15
}

# kefu's image from deploy/Dockerfile, as the operator guide builds it.
kc_kefu_image() {
    kc_build kefu:test "$ROOT/deploy/Dockerfile" "$ROOT"
}

# Builds the postgres stand-in and kefu's image side by side: the one
# mostly downloads and unpacks packages, the other mostly compiles.
kc_images() {
    local pg rc=0
    kc_postgres_image &
    pg=$!
    kc_kefu_image || rc=$?
    wait "$pg" || rc=$?
    return "$rc"
}

# Prints a free TCP port of this host (bound by nobody at the moment).
kc_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Writes the operator's files in KC_DIR/project, which is the compose
# project directory (so the source tree's deploy/ stays untouched): kefu.env
# from kefu.env.example with a password of its own (as deploy/README.md §2
# asks), an empty tls/ (plain HTTP), and the test override, which only
# swaps the images for the ones built here. Host ports come from the
# KEFU_PUBLISH_* variables of deploy/docker-compose.yml, set to free ports.
kc_project() {
    local p=$KC_DIR/project pw
    mkdir -p "$p/tls" "$p/certs" "$KC_DIR/streams"
    chmod 0777 "$p/certs"      # kefu-admin cert --out, as uid 10001 (§2)
    pw=kc-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    sed "s/change-me/$pw/g" "$ROOT/deploy/kefu.env.example" >"$p/kefu.env"
    cat >"$p/override.yml" <<YAML
# The compose pass's override (tests/compose): the images only.
version: "3.8"
x-kefu-image: &img kefu:test
services:
  postgres: {image: kefu-compose/postgres:15}
  migrate: {image: *img}
  bus: {image: *img}
  intake: {image: *img}
  ticket-router: {image: *img}
  approval: {image: *img}
  notifier: {image: *img}
  survey: {image: *img}
  gateway: {image: *img}
YAML
    export KEFU_PUBLISH_INTAKE KEFU_PUBLISH_SURVEY KEFU_PUBLISH_GATEWAY
    KEFU_PUBLISH_INTAKE=127.0.0.1:$(kc_free_port)
    KEFU_PUBLISH_SURVEY=127.0.0.1:$(kc_free_port)
    KEFU_PUBLISH_GATEWAY=127.0.0.1:$(kc_free_port)
    printf 'KEFU_PUBLISH_%s\n' "INTAKE=$KEFU_PUBLISH_INTAKE" "SURVEY=$KEFU_PUBLISH_SURVEY" \
        "GATEWAY=$KEFU_PUBLISH_GATEWAY" >"$p/ports"
}

# The operator guide's $C: docker-compose with the real compose file, the
# override, KC_DIR/project as the project directory, project name kefu.
kc_c() {
    (cd "$KC_DIR/project" && "$KC_COMPOSE" -f "$ROOT/deploy/docker-compose.yml" \
        -f override.yml --project-directory . -p kefu "$@")
}

# Prints "service state health exit-code" for each container of the project.
kc_states() {
    local ids
    ids=$(kc_docker ps -aq --filter label=com.docker.compose.project=kefu)
    [[ -n $ids ]] || return 0
    # shellcheck disable=SC2086
    kc_docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}' $ids
}

# True when migrate exited 0 and every other container is running healthy.
kc_all_healthy() {
    local states
    states=$(kc_states)
    [[ -n $states ]] || return 1
    grep -q '^migrate exited - 0$' <<<"$states" || return 1
    ! grep -v '^migrate ' <<<"$states" | grep -vq ' running healthy '
}

# `$C up -d` on the images built here; waits (KEFU_COMPOSE_UP_S, default
# 240 s) until migrate exited 0 and every service is healthy.
kc_compose_up() {
    kc_project
    kc_c up -d >"$KC_DIR/compose-up.log" 2>&1 ||
        { cat "$KC_DIR/compose-up.log" >&2; kc_states >&2; return 1; }
    if ! kc_wait "${KEFU_COMPOSE_UP_S:-240}" kc_all_healthy; then
        kc_warn "not every service became healthy:"
        kc_states >&2
        kc_c logs --tail 20 >&2 || true
        return 1
    fi
    kc_states | sed 's/^/  /'
}

# Runs the operator guide's `$C ARGS...` (kc_c), its output to
# KC_DIR/ops.log and to stdout.
kc_op() {
    kc_say "\$C $*"
    kc_c "$@" 2>&1 | tee -a "$KC_DIR/ops.log"
    return "${PIPESTATUS[0]}"
}

# `docker run --rm [DOCKER-RUN-ARGS...] IMAGE [COMMAND...]` as on an agent's
# PC: the host's network, the published intake port, the certificate the
# operator issued (in project/certs).
kc_pc() {
    kc_docker run --rm --network host -v "$KC_DIR/project/certs:/certs:ro" \
        -e KEFU_INTAKE="tcp://$KEFU_PUBLISH_INTAKE" -e KEFU_CERT="/certs/$KC_AGENT.cert" "$@"
}

# The kefu client on an agent's PC.
kc_client() {
    kc_pc kefu:test kefu "$@"
}

# Runs SQL $1 in the store (psql in the postgres container), unaligned.
kc_sql() {
    kc_c exec -T postgres psql -U kefu -d kefu -X -At -F ' ' -c "$1"
}

# True when ticket $1 has been routed.
kc_routed() {
    [[ $(kc_sql "SELECT routed_at IS NOT NULL FROM ticket WHERE no = '$1'" 2>/dev/null) == t ]]
}

# §6's backup: pg_dump of the store, custom format, into project/$1.
kc_dump() {
    kc_c exec -T postgres pg_dump -U kefu -d kefu -Fc >"$KC_DIR/project/$1" ||
        { kc_warn "pg_dump into $1 failed"; return 1; }
}

# Submits complaints tagged $1 (idempotency keys TAG-1, TAG-2, ...) from
# one client container on the host's network: $2 of them, or, with a third
# argument, at least $2 and on until KC_DIR/stream-TAG.stop exists (at most
# 100 times $2). Prints each failed submit, and "sent N" last.
kc_stream() {
    local tag=$1 n=$2 open=${3:-}
    # shellcheck disable=SC2016
    kc_pc -v "$KC_DIR/streams:/streams:ro" --entrypoint bash kefu:test -c '
        fail=0 i=0
        while ((i < $2)) || { [[ -n $3 && ! -e /streams/$1.stop ]] && ((i < 100 * $2)); }; do
            i=$((i + 1))
            out=$(kefu submit --idem "$1-$i" --kind complaint --category leak --channel phone \
                --project HZ-XH --building 3 --unit 1201 --phone 13800138000 \
                --summary "$1 $i" 2>&1) || { fail=$((fail + 1)); echo "$1-$i failed: $out"; }
        done
        echo "sent $i"
        exit $((fail > 0))' stream "$tag" "$n" "$open"
}

# True when at least $2 tickets tagged $1 are stored.
kc_stream_at() {
    [[ $(kc_sql "SELECT count(*) >= $2 FROM ticket WHERE summary LIKE '$1 %'") == t ]]
}

# Starts an open stream tagged $1 in the background (KC_STREAM_PID, its
# output in KC_DIR/stream-TAG.log) and returns once 10 of it are stored,
# so that what follows happens mid-stream; kc_stream_end ends it.
kc_midstream() {
    kc_stream "$1" 20 open >"$KC_DIR/stream-$1.log" 2>&1 &
    KC_STREAM_PID=$!
    kc_wait 60 kc_stream_at "$1" 10 || { kc_warn "the stream $1 did not start"; return 1; }
}

# Ends the stream tagged $1 of kc_midstream after it ran on $2 seconds more
# (not in a subshell: it waits for the stream); KC_STREAM_SENT is how many
# it sent. Fails when it was not running until then.
kc_stream_end() {
    sleep "$2"
    kill -0 "$KC_STREAM_PID" 2>/dev/null ||
        { kc_warn "the stream $1 ended before it was told to"; return 1; }
    touch "$KC_DIR/streams/$1.stop"
    wait "$KC_STREAM_PID" || true
    KC_STREAM_SENT=$(sed -n 's/^sent //p' "$KC_DIR/stream-$1.log" | tail -n1)
    [[ $KC_STREAM_SENT =~ ^[0-9]+$ ]] || { kc_warn "the stream $1 did not say what it sent"; return 1; }
}

# True when all $2 tickets tagged $1 are stored once and routed once.
kc_stream_done() {
    [[ $(kc_sql "SELECT count(DISTINCT t.id), count(h.id) FROM ticket t
                 LEFT JOIN ticket_history h ON h.ticket_id = t.id AND h.action = 'routed'
                 WHERE t.summary LIKE '$1 %'") == "$2 $2" ]]
}
