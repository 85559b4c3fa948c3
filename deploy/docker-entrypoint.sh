#!/usr/bin/env bash
# kefu — the container image's entrypoint: the command chooses the program.
#
#   kefu-bus | kefu-intake | kefu-router | kefu-approval | kefu-notifier |
#   kefu-survey | kefu-gateway
#                          run that daemon (exec: it receives docker's SIGTERM)
#   bus, intake, router, ticket-router, approval, notifier, survey, gateway
#                          the same, by short name
#   kefu [ARGS...]         the command-line client (agents, approvers; the wire)
#   kefu-admin [ARGS...]   the operator tools that talk to the store (imports,
#                          certificates, status, notifications)
#   kefu-migrate           wait for the store, apply deploy/migrations, and load
#                          the demo organisation when KEFU_DEMO_ORG=1
#   kefu-health PROGRAM    the healthcheck (deploy/healthcheck.sh)
#   help                   this text
#
# Installed in the image as /usr/local/bin/kefu-entrypoint; deploy/Dockerfile.
set -euo pipefail

prog=kefu-entrypoint
# What the image installs under /usr/share/kefu; run from a source tree
# (tests/deploy), the same files are beside this script in deploy/.
share=/usr/share/kefu
[[ -f $share/migrate.sh ]] || share=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
Usage: docker run IMAGE COMMAND [ARGS...]

Commands:
  kefu-bus, kefu-intake, kefu-router, kefu-approval, kefu-notifier, kefu-survey,
  kefu-gateway    run that daemon in the foreground (also by short name: bus,
                  intake, router or ticket-router, approval, notifier, survey,
                  gateway);
                  it is configured by environment variables only, see
                  'IMAGE kefu-intake --help'
  kefu ARGS...    the command-line client ('IMAGE kefu --help')
  kefu-admin ARGS...
                  the operator tools that talk to the store: imports,
                  certificates, status, notifications ('IMAGE kefu-admin --help')
  kefu-migrate    wait for the store, apply the SQL migrations, create the
                  daemons' certificate KEFU_CURVE_CERT when there is none, the
                  gateway's KEFU_GATEWAY_CERT when the store does not know it, and
                  load the demo organisation when KEFU_DEMO_ORG=1; exits 0
                  when done
  kefu-health PROGRAM
                  the container healthcheck: exit 0 when PROGRAM answers
  help            this text

Programs in this image: $(cd /usr/local/bin 2>/dev/null && ls kefu kefu-* 2>/dev/null | tr '\n' ' ')

Environment (kefu-migrate):
  KEFU_DATABASE_URL       the store (libpq URL), required
  KEFU_DEMO_ORG           1: load the demo organisation after the migrations (default 0)
  KEFU_CURVE_CERT         the daemons' certificate (default /etc/kefu/server.cert)
  KEFU_GATEWAY_CERT       kefu-gateway's certificate (default /etc/kefu/gateway.cert)
  KEFU_MIGRATE_WAIT_S     how long to wait for the store to accept connections (default 60)
EOF
}

die() { printf '%s: error: %s\n' "$prog" "$1" >&2; exit "${2:-1}"; }

# Waits (bounded) until the store accepts connections, applies the
# migrations, then the demo organisation if asked.
migrate() {
    [[ -n ${KEFU_DATABASE_URL:-} ]] || die "KEFU_DATABASE_URL is not set" 2
    local wait=${KEFU_MIGRATE_WAIT_S:-60}
    [[ $wait =~ ^[0-9]+$ ]] || die "KEFU_MIGRATE_WAIT_S=$wait: not a number of seconds" 2
    local deadline=$((SECONDS + wait))
    until pg_isready -q -d "$KEFU_DATABASE_URL" -t 5; do
        ((SECONDS < deadline)) || die "the store did not accept connections within ${wait}s"
        sleep 1
    done
    "$share/migrate.sh"
    # The daemons' certificate, shared with intake, approval and survey
    # through a volume; made once, never replaced (client certificates
    # name its key).
    local cert=${KEFU_CURVE_CERT:-/etc/kefu/server.cert}
    if [[ ! -f $cert ]]; then
        kefu-admin server-cert --out "$cert" || die "cannot create the daemons' certificate $cert"
    fi
    # kefu-gateway's certificate, on the same volume: made when there is
    # none, and again when the store does not know its key (a new store).
    local gateway=${KEFU_GATEWAY_CERT:-/etc/kefu/gateway.cert}
    if ! gateway_known "$gateway"; then
        kefu-admin cert --gateway compose --out "$gateway" --force >/dev/null ||
            die "cannot create the gateway's certificate $gateway"
        echo "$prog: made the gateway's certificate $gateway"
    fi
    case ${KEFU_DEMO_ORG:-0} in
        1|yes|true)
            # The organisation file (kefu-admin import) where the image has
            # kefu-admin, else the SQL script; both are idempotent.
            if [[ -f $share/demo-org.json ]] && kefu-admin --help >/dev/null 2>&1; then
                kefu-admin import --database "$KEFU_DATABASE_URL" "$share/demo-org.json"
            elif [[ -f $share/demo-org.sql ]]; then
                psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$KEFU_DATABASE_URL" \
                     -f "$share/demo-org.sql" >/dev/null
            else
                die "KEFU_DEMO_ORG=1 but this image has no demo organisation"
            fi
            echo "$prog: demo organisation loaded"
            ;;
        0|no|false|"") ;;
        *) die "KEFU_DEMO_ORG=${KEFU_DEMO_ORG}: use 1 or 0" 2 ;;
    esac
}

# True when the certificate file $1 exists and the store has its public key
# as an unrevoked gateway key.
gateway_known() {
    [[ -f $1 ]] || return 1
    local key
    key=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$1" | head -n 1)
    [[ -n $key ]] || return 1
    [[ $(psql -X -At --no-psqlrc -v ON_ERROR_STOP=1 -v key="$key" -d "$KEFU_DATABASE_URL" \
              <<<"SELECT count(*) FROM gateway_key WHERE public_key = :'key' AND revoked_at IS NULL") == 1 ]]
}

# Runs program (a name under /usr/local/bin) with the remaining arguments.
run() {
    local program=$1
    shift
    if ! command -v "$program" >/dev/null 2>&1; then
        die "$program is not in this image (it was built from a tree without that service); programs here: $(cd /usr/local/bin && ls kefu kefu-* 2>/dev/null | tr '\n' ' ')" 127
    fi
    exec "$program" "$@"
}

command=${1:-help}
[[ $# -gt 0 ]] && shift
case $command in
    bus|intake|router|approval|notifier|survey|gateway) run "kefu-$command" "$@" ;;
    ticket-router) run kefu-router "$@" ;;
    migrate|kefu-migrate)
        case ${1:-} in -h|--help) usage; exit 0 ;; esac
        migrate ;;
    health|kefu-health) exec kefu-health "$@" ;;
    help|-h|--help) usage ;;
    kefu|kefu-*) run "$command" "$@" ;;
    *) usage >&2; die "unknown command '$command'" 64 ;;
esac
