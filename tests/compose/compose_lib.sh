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
KC_CACHE=${KEFU_COMPOSE_CACHE:-$BUILD/compose-cache}
KC_STOP_S=${KEFU_COMPOSE_STOP_S:-60}   # bound on stopping everything
KC_T0=$(date +%s)

kc_say()  { printf 'compose: %s\n' "$*"; }
kc_warn() { printf 'compose: warning: %s\n' "$*" >&2; }
kc_die()  { printf 'compose: error: %s\n' "$*" >&2; exit 1; }

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
    kc_say "step $name: $([[ $rc == 0 ]] && echo done || echo "failed ($rc)") in ${took}s"
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
        >"$KC_DIR/containerd.log" 2>&1 &
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
        >"$KC_DIR/dockerd.log" 2>&1 &
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
    if [[ -S $KC_DIR/docker.sock ]]; then
        timeout "$KC_STOP_S" bash -c '
            ids=$("$0" ps -aq); [[ -z $ids ]] || "$0" rm -f -v $ids
            "$0" network prune -f; "$0" volume prune -f' "$KC_DOCKER" >/dev/null 2>&1 ||
            kc_warn "removing the containers did not finish in ${KC_STOP_S}s"
    fi
    kc_kill_pidfile "$KC_DIR/dockerd.pid.own" 30
    kc_kill_pidfile "$KC_DIR/containerd.pid" 15
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
    KC_DIR=
}

# Makes debian:12 (also tagged debian:12-slim) from a debootstrap minbase
# bookworm of this machine's mirror, as an operator without Docker Hub
# would. The root file system's tarball is cached in KC_CACHE, one per day
# (older ones are removed), so that later runs only import it.
kc_base_image() {
    local day tarball rootfs mirror
    day=$(date -u +%Y%m%d)
    tarball=$KC_CACHE/debian-12-minbase-$day.tar
    mkdir -p "$KC_CACHE"
    if [[ ! -s $tarball ]]; then
        mirror=$(kc_mirror)
        rootfs=$KC_DIR/work/rootfs
        mkdir -p "$rootfs"
        kc_say "debootstrap --variant=minbase bookworm from $mirror (cache: none for $day)"
        if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
            >"$KC_DIR/debootstrap.log" 2>&1; then
            tail -20 "$KC_DIR/debootstrap.log" >&2
            return 1
        fi
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
        tar -C "$rootfs" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$rootfs"
        find "$KC_CACHE" -maxdepth 1 -name 'debian-12-minbase-*.tar' ! -name "${tarball##*/}" -delete
    else
        kc_say "base: cached $tarball"
    fi
    kc_docker import --change 'CMD ["bash"]' - debian:12 <"$tarball" >/dev/null &&
        kc_docker tag debian:12 debian:12-slim
}
