#!/usr/bin/env bash
# Bad requests at kefu-survey's ROUTER: tests/integration/test_survey_bad.c
# sends broken frames, unknown and unserved types, missing, mistyped,
# out-of-range, oversized and non-UTF-8 fields, unknown tickets and surveys,
# forbidden roles (also when a body names someone else as "actor") and a
# ticket with no survey; each must get its named reply.error; a key nobody
# issued is refused at the handshake; kefu-survey must keep serving.
# Afterwards nothing refused reached the store.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init survey_bad
it__pick_port
export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
export KEFU_SURVEY=$KEFU_SURVEY_BIND
prog=$KEFU_BUILD_DIR/tests/integration/kefu-test-survey-bad
[[ -x $prog ]] || it_fail "$prog is not built"

it_pg_start
export KEFU_CERT=$(it_cert agent.li)
it_start bus
it_start intake
it_start router
it_start survey
it_wait_for "intake to answer" 30 kefu tickets --limit 1
no=$(kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
     --phone 13900001111 --summary '未解决的工单（错误请求测试）')
it_wait_for "$no to be routed" 20 it_psql_is "SELECT status FROM ticket WHERE no = '$no'" routed

status=0
SURVEY_OPEN_TICKET=$no SURVEY_CERT_ADMIN=$(it_cert admin) SURVEY_CERT_STAFF=$(it_cert eng.zhao) \
    "$prog" || status=$?

it_running survey || it_fail "kefu-survey is no longer running after the bad requests"
[[ $(it_psql "SELECT count(*) FROM survey") == 0 ]] || it_fail "a refused request created a survey"
[[ $(it_psql "SELECT count(*) FROM survey_campaign") == 0 ]] || it_fail "a refused request started a campaign"
[[ $(it_psql "SELECT status || '/' || owner_id FROM ticket WHERE no = '$no'") == routed/eng.zhao ]] ||
    it_fail "a refused request changed $no"
[[ $(it_psql "SELECT count(*) FROM event WHERE type LIKE 'survey.%' OR type = 'ticket.reopened'") == 0 ]] ||
    it_fail "a refused request wrote an event"
# Through the client: a usage error never reaches the daemon (exit 2), a
# refusal is exit 1.
rc=0; kefu survey answer "$no" --score 9 2>/dev/null || rc=$?
[[ $rc == 2 ]] || it_fail "kefu survey answer --score 9 exited $rc, expected 2 (usage)"
rc=0; kefu survey campaign --project HZ-XH --milestone someday 2>/dev/null || rc=$?
[[ $rc == 2 ]] || it_fail "an unknown milestone exited $rc, expected 2 (usage)"
rc=0; kefu survey answer "$no" --score 3 2>/dev/null || rc=$?
[[ $rc == 1 ]] || it_fail "an answer to an unresolved ticket exited $rc, expected 1 (refused)"
[[ $status == 0 ]] || it_fail "test_survey_bad reported failures (status $status)"
