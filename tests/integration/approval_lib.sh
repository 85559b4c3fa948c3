# What the approval tests share (sourced after lib.sh): waiting for
# kefu-approval, and running the client as a staff member.

# A free port for kefu-approval: KEFU_APPROVAL_BIND, and the clients'
# KEFU_APPROVAL, point at it.
approval_bind() {
    it__pick_port
    export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
    export KEFU_APPROVAL=$KEFU_APPROVAL_BIND
}

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

# approval_bands PREFIX DEADLINE_S [K]: K (default 20, at most 99)
# approvers ap01..apK (managers of cs, each with a certificate) and one
# refund policy per approver by amount band, PREFIX-k: [100(k-1), 100k)
# yuan goes to apk, one step whose deadline is DEADLINE_S, delegated at
# the deadline.
approval_bands() {
    it_psql "INSERT INTO staff (id, name, department_id, role, manager_id)
             SELECT format('ap%s', lpad(g::text, 2, '0')), format('审批人 %s', g), 'cs', 'manager', 'cs.wang'
               FROM generate_series(1, ${3:-20}) g" >/dev/null
    it_psql "SELECT kefu_approval_policy_put(jsonb_build_object('id', format('$1-%s', k),
               'type', 'refund', 'min_yuan', 100 * (k - 1), 'max_yuan', 100 * k, 'stages', jsonb_build_array(
               jsonb_build_object('rule', 'all', 'steps', jsonb_build_array(jsonb_build_object(
                 'label', 'refund check', 'approver', jsonb_build_object('staff', format('ap%s', lpad(k::text, 2, '0'))),
                 'deadline_s', $2, 'on_timeout', 'delegate'))))))
               FROM generate_series(1, ${3:-20}) k" >/dev/null
    local k
    for k in $(seq -f %02g 1 "${3:-20}"); do it_cert "ap$k" >/dev/null; done
}
