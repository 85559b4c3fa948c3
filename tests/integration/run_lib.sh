# shellcheck shell=bash
# What the client tests share (sourced after lib.sh): running `kefu` and
# reading what it printed.

# run ARGS...: runs kefu, stdout in OUT, stderr in ERR, the exit code in RC.
run() {
    local o=$IT_DIR/out e=$IT_DIR/err
    RC=0
    kefu "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(<"$o")
    ERR=$(<"$e")
}

# expect_rc CODE WHAT: fails the test unless the last run exited CODE.
expect_rc() {
    [[ $RC == "$1" ]] || it_fail "$2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
}

# json FILTER: jq -r FILTER over the last run's stdout.
json() { jq -r "$1" <<<"$OUT"; }
