#!/usr/bin/env bash
# The verdict of tests/integration/lib.sh on its daemons, which the sanitizer
# pass of deploy/local.sh test and test_memcheck.sh rely on: a test whose
# daemon wrote an AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer
# report fails, and so does one whose daemon exited non-zero on SIGTERM or
# died by itself; a clean daemon, or a status the test took itself, passes.
# Fake daemons (shell scripts named kefu-fake in a throw-away build
# directory) play each case; no PostgreSQL is needed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib=$here/../integration/lib.sh

work=$(mktemp -d /tmp/kefu-harness.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build/services/fake" "$work/build/services/cli"
cat >"$work/build/services/fake/kefu-fake" <<'FAKE'
#!/usr/bin/env bash
# A daemon that, on SIGTERM, behaves as FAKE_MODE says.
on_term() {
    case ${FAKE_MODE:-clean} in
        asan) echo "==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010" >&2
              exit 1 ;;
        lsan) echo "==42==ERROR: LeakSanitizer: detected memory leaks" >&2
              echo "SUMMARY: AddressSanitizer: 13 byte(s) leaked in 1 allocation(s)." >&2
              exit 23 ;;
        ubsan) echo "common/envelope.c:99:5: runtime error: signed integer overflow" >&2
               exit 0 ;; # UBSan without halt_on_error: status 0, report in the log
        status|reaped) exit 3 ;;
        *) exit 0 ;;
    esac
}
trap on_term TERM
[[ ${FAKE_MODE:-} == die ]] && exit 4
echo "fake daemon up (${FAKE_MODE:-clean})" >&2
while :; do sleep 0.05; done
FAKE
chmod +x "$work/build/services/fake/kefu-fake"
cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
source "$LIB"
it_init harness
first=$MODE
[[ $MODE != die ]] || first=clean
it_start fake "FAKE_MODE=$first"
it_wait_for "the fake daemon to start" 10 grep -q 'fake daemon up' "$(it_log fake)"
if [[ $MODE == die ]]; then
    it_start fake@2 FAKE_MODE=die
    sleep 0.5
fi
if [[ $MODE == reaped ]]; then
    it_kill fake TERM # the test takes the status: its own business
    [[ ${IT_STATUS[fake]} == 3 ]] || it_fail "status ${IT_STATUS[fake]}"
fi
exit 0
INNER

failures=0
# expect MODE WANT-STATUS [TEXT]: the inner test ends with WANT-STATUS (0 or
# non-zero) and, when given, says TEXT on stderr.
expect() {
    local mode=$1 want=$2 text=${3:-} rc=0
    env -u KEFU_IT_DEADLINE LIB="$lib" MODE="$mode" KEFU_BUILD_DIR="$work/build" \
        bash "$work/inner.sh" >"$work/out" 2>&1 || rc=$?
    local ok=1
    if [[ $want == 0 ]]; then [[ $rc == 0 ]] || ok=0; else [[ $rc != 0 ]] || ok=0; fi
    if [[ -n $text ]] && ! grep -qF -- "$text" "$work/out"; then ok=0; fi
    if [[ $ok == 0 ]]; then
        echo "harness: FAIL: mode $mode: status $rc (wanted $want), output:" >&2
        sed 's/^/    /' "$work/out" >&2
        failures=$((failures + 1))
    else
        echo "harness: ok: mode $mode: status $rc${text:+, says '$text'}" >&2
    fi
}
expect clean 0 "[harness] PASS"
expect reaped 0 "[harness] PASS"
expect asan 1 "sanitizer report in log/fake.log"
expect lsan 1 "ERROR: LeakSanitizer: detected memory leaks"
expect ubsan 1 "runtime error: signed integer overflow"
expect status 1 "fake exited with status 3 after SIGTERM"
expect die 1 "fake@2 had exited by itself with status 4"
((failures == 0)) || { echo "harness: $failures case(s) failed" >&2; exit 1; }
echo "harness: PASS" >&2
