#!/usr/bin/env bash
# kefu — the compose pass (issue 15): deploy/docker-compose.yml on a real,
# private Docker engine, from nothing, as an operator runs it.
#
#   tests/compose/run_compose.sh            the whole pass; exit 0 when every step passed
#   tests/compose/run_compose.sh base       only make today's base image tarball in
#                                           the cache (the pass's first minute)
#   tests/compose/run_compose.sh stop DIR   stop an engine kept by KEFU_COMPOSE_HOLD=1
#   tests/compose/run_compose.sh step DIR FUNCTION   run one step (compose_ops.sh) on
#                                           that engine's deployment, to work on it
#
# Steps: packages, engine, base image (debootstrap, cached per day in
# BUILD/compose-cache), the postgres stand-in and kefu's image, compose up to
# healthy (compose_lib.sh); then what an operator does (compose_ops.sh): the
# guide's first day, its web and machine lines, scaling, crashes, a store
# restart, healthchecks without the store, the logs, backup and restore, an
# upgrade. Each step's duration is printed at the end. Everything the pass started is stopped
# and removed on exit, also on failure or interrupt.
#
# Environment:
#   KEFU_BUILD_DIR        where the cache lives (default ./build)
#   KEFU_COMPOSE_HOLD=1   keep the engine and the deployment running at the
#                         end (prints DIR; later: run_compose.sh stop DIR)
#   KEFU_COMPOSE_KEEP=1   keep the logs (not the engine's data) in DIR
#   KEFU_COMPOSE_UP_S     bound on reaching healthy (default 240)
#   KEFU_COMPOSE_STOP_S   bound on removing the containers at the end (default 60)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KEFU_BUILD_DIR:-$ROOT/build}
# shellcheck source=tests/compose/compose_lib.sh
. "$ROOT/tests/compose/compose_lib.sh"
# shellcheck source=tests/compose/compose_ops.sh
. "$ROOT/tests/compose/compose_ops.sh"

# Prints the durations and, when the pass failed, where its logs are.
kc_summary() {
    local rc=$1
    [[ -n $KC_DIR && -f $KC_DIR/durations ]] || return 0
    kc_say "durations:"
    sed 's/^/  /' "$KC_DIR/durations"
    kc_say "the pass took $(($(date +%s) - KC_T0))s: $([[ $rc == 0 ]] && echo passed || echo FAILED)"
}

# The EXIT trap: the summary, then everything stopped and removed (unless
# KEFU_COMPOSE_HOLD=1 and the pass got that far).
kc_exit() {
    local rc=$?
    trap - EXIT INT TERM
    # Back to the pass's own output: a signal that lands inside a function
    # called with a redirection (kc_build's log) runs this trap under it.
    exec 1>&7 2>&8
    kc_summary "$rc"
    if [[ ${KEFU_COMPOSE_HOLD:-0} == 1 && -n $KC_DIR ]]; then
        kc_say "KEFU_COMPOSE_HOLD=1: the engine runs on; DOCKER_HOST=$DOCKER_HOST"
        kc_say "  resume: KEFU_COMPOSE_DIR=$KC_DIR; stop: $0 stop $KC_DIR"
        exit "$rc"
    fi
    [[ $rc == 0 ]] || KEFU_COMPOSE_KEEP=${KEFU_COMPOSE_KEEP:-1}
    kc_stop
    exit "$rc"
}

main() {
    [[ $(id -u) == 0 ]] || kc_die "the pass runs dockerd and debootstrap: run it as root"
    kc_packages
    exec 7>&1 8>&2 # the pass's output, for kc_exit (the engine does not inherit them)
    trap kc_exit EXIT
    trap 'exit 130' INT TERM
    kc_step engine kc_engine_start
    kc_step base-image kc_base_image
    kc_step images kc_images
    kc_step compose-up kc_compose_up
    kc_step first-day kc_first_day
    kc_step web-day kc_web_day
    kc_step scale kc_scale
    kc_step crashes kc_crashes
    kc_step store-restart kc_store_restart
    kc_step health kc_health
    kc_step logs kc_logs
    kc_step backup kc_backup
    kc_step upgrade kc_upgrade
}

case ${1:-} in
stop)
    [[ -n ${2:-} ]] || kc_die "usage: $0 stop DIR"
    kc_engine_attach "$2"
    kc_stop
    ;;
base)
    [[ $(id -u) == 0 ]] || kc_die "debootstrap needs root"
    kc_packages
    kc_base_tarball
    ;;
step)
    [[ -n ${3:-} ]] || kc_die "usage: $0 step DIR FUNCTION"
    kc_engine_attach "$2"
    "$3"
    ;;
"") main ;;
*) kc_die "usage: $0 [base | stop DIR | step DIR FUNCTION] (see the top of this file)" ;;
esac
