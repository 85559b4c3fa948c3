# What the approval tests share (sourced after lib.sh): waiting for
# kefu-approval, and running the client as a staff member.

# True once kefu-approval answers (not_found: exit 1), not a timeout (3).
approval_answers() {
    local rc=0
    it_as agent.li kefu --timeout 1000 approval show 999999 >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]]
}

run() { # run STAFF ARGS...: kefu as STAFF; RC, OUT, ERR
    local o=$IT_DIR/out e=$IT_DIR/err staff=$1
    shift
    RC=0
    it_as "$staff" kefu "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(<"$o")
    ERR=$(<"$e")
}

expect() { # expect RC CODE WHAT: exit status and, for refusals, the error code
    [[ $RC == "$1" ]] || it_fail "$3: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
    [[ -z $2 ]] || grep -q "kefu: $2:" <<<"$ERR" || it_fail "$3: not $2: $ERR"
}
