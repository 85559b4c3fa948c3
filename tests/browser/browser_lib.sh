# Helpers of the browser tests (source after lib.sh and gateway_lib.sh):
# the whole system with the gateway serving the console, demo passwords, and
# one Python journey (console.py) in its own process group, stopped by PID
# when the test ends however it ends.
#
#   br_init NAME               it_init NAME, and the journey is stopped on exit
#   br_system                  gw_daemons, gw_start, every demo staff
#                              member's password $BR_PASSWORD
#   br_journey SCRIPT [ARGS]   /usr/bin/python3 SCRIPT with KEFU_URL,
#                              KEFU_SHOTS (this test's screenshot folder),
#                              KEFU_PASSWORD; fails the test when it fails

BR_PY=/usr/bin/python3   # Debian's, where python3-selenium is installed
BR_PASSWORD=kefu-browser-2026
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] ||
    it_fail "chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
$BR_PY -c 'import selenium' 2>/dev/null ||
    it_fail "python3-selenium is needed (apt-get install python3-selenium)"

br_init() {
    it_init "$1"
    # Stop the journey first, then lib.sh's clean-up with the test's status
    # (as $? when it starts; errexit off, or the failing status would end the
    # trap before the clean-up ran and leave the deadline's watchdog behind).
    trap 'br__st=$?; set +e; trap - ERR; br__stop; (exit $br__st); it__cleanup' EXIT
}

br_system() {
    gw_daemons
    gw_start
    local s
    for s in $(it_psql "SELECT id FROM staff WHERE active ORDER BY id"); do
        gw_passwd "$s" "$BR_PASSWORD"
    done
}

BR_PGID=
br__stop() {
    # The group may be gone already (the journey quit its browser and exited):
    # not a failure, and under errexit a failed kill would end the test.
    if [[ -n $BR_PGID ]]; then kill -TERM -- "-$BR_PGID" 2>/dev/null || true; fi
    BR_PGID=
}

br_journey() {
    local script=$1
    shift
    export KEFU_URL=$GW_URL KEFU_PASSWORD=$BR_PASSWORD
    export KEFU_SHOTS=$KEFU_BUILD_DIR/tests/browser/screenshots/$IT_NAME
    export KEFU_BROWSER_HOME=$IT_DIR/chromium
    rm -rf "$KEFU_SHOTS"
    mkdir -p "$KEFU_SHOTS" "$KEFU_BROWSER_HOME"
    # Its own process group: chromedriver and every Chromium process are
    # stopped with it (br__stop), even when the test fails half-way.
    setsid "$BR_PY" "$KEFU_SOURCE_DIR/tests/browser/$script" "$@" &
    BR_PGID=$!
    local st=0
    wait "$BR_PGID" || st=$?
    br__stop
    [[ $st == 0 ]] || it_fail "journey $script failed (status $st); screenshots in $KEFU_SHOTS"
    it_note "journey $script passed; screenshots in $KEFU_SHOTS"
}
