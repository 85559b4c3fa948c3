#!/usr/bin/env bash
# The local system as a newcomer meets it (issue 10, item 7): README's
# `deploy/local.sh up`, run twice, in a throw-away directory on free ports.
#
# 1. `up` starts everything and logs the demo complaint; a second `up`
#    reuses what runs and logs no second complaint (same idempotency key).
# 2. `up` prints the exports to paste and `deploy/local.sh env` prints the
#    same; with them (and nothing else) `kefu-admin status`, `kefu-admin notification
#    list` and the agent's commands work; `up` printed kefu-gateway's URL,
#    where the demo sign-in works and the demo complaint can be found.
# 3. The survey loop of README's "A first hour with kefu", command for
#    command: submit, respond and resolve as the engineer, the survey is
#    sent (20 s after the resolution here), a low answer reopens the ticket.
# 4. `down` stops everything `up` started (the daemons by PID, PostgreSQL).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../integration/lib.sh"

it_init local
# What `up` uses instead of the harness's own server and certificates.
unset KEFU_DATABASE_URL KEFU_CURVE_CERT KEFU_INTAKE KEFU_CERT
export KEFU_VAR_DIR=$IT_DIR/var KEFU_NO_BUILD=1 KEFU_METRICS_PORT=0
export KEFU_PG_PORT=$IT_PG_PORT
it__pick_port; export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT
it__pick_port; export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT
it__pick_port; export KEFU_HTTP_PORT=$IT__PORT
unset KEFU_APPROVAL KEFU_SURVEY
LOCAL=$KEFU_SOURCE_DIR/deploy/local.sh
# A clean shell: PATH without the harness's clients, as a newcomer has it.
PATH=$(tr ':' '\n' <<<"$PATH" | grep -vxF -e "$KEFU_BUILD_DIR/services/cli" \
    -e "$KEFU_BUILD_DIR/services/admin" | paste -sd: -)

# `down` before the harness's own clean-up, also when the test fails.
trap 'st=$?; "$LOCAL" down >>"$IT_DIR/log/down.log" 2>&1; (exit $st); it__cleanup' EXIT

tickets() { psql -X -At -d "postgresql://postgres@127.0.0.1:$IT_PG_PORT/kefu" -c "$1"; }

# ---- 1. up twice: one demo complaint -------------------------------------
"$LOCAL" up >"$IT_DIR/log/up1.log" 2>&1 || it_fail "the first up failed: $(tail -n 20 "$IT_DIR/log/up1.log")"
no=$(grep -oE 'demo: ticket KF-[0-9]{4}-[0-9]+ accepted' "$IT_DIR/log/up1.log" | grep -oE 'KF-[0-9-]+') ||
    it_fail "the first up logged no demo complaint: $(tail -n 20 "$IT_DIR/log/up1.log")"
"$LOCAL" up >"$IT_DIR/log/up2.log" 2>&1 || it_fail "the second up failed: $(tail -n 20 "$IT_DIR/log/up2.log")"
grep -qF "demo: ticket $no was logged by an earlier 'up'; not logged again" "$IT_DIR/log/up2.log" ||
    it_fail "the second up did not say it reused $no: $(grep demo: "$IT_DIR/log/up2.log")"
grep -q "already running" "$IT_DIR/log/up2.log" || it_fail "the second up did not reuse the daemons"
[[ $(tickets "SELECT count(*) FROM ticket") == 1 ]] ||
    it_fail "two ups logged $(tickets "SELECT count(*) FROM ticket") demo complaints, not 1"
it_note "two ups: one demo complaint, $no"

# ---- 2. the exports ------------------------------------------------------
grep -q '^export KEFU_DATABASE_URL=' "$IT_DIR/log/up2.log" || it_fail "up printed no exports to paste"
envout=$("$LOCAL" env) || it_fail "deploy/local.sh env failed"
diff <(grep '^export\|^case' "$IT_DIR/log/up2.log") <(grep '^export\|^case' <<<"$envout") >/dev/null ||
    it_fail "env and up print different exports"
for v in KEFU_DATABASE_URL KEFU_INTAKE KEFU_SURVEY KEFU_APPROVAL KEFU_CERT; do
    grep -q "^export $v=" <<<"$envout" || it_fail "env does not export $v: $envout"
done
eval "$envout"
command -v kefu >/dev/null || it_fail "after env, kefu is not on PATH"
command -v kefu-admin >/dev/null || it_fail "after env, kefu-admin is not on PATH"
kefu-admin status >"$IT_DIR/status.out" 2>&1 || it_fail "kefu-admin status right after up failed: $(cat "$IT_DIR/status.out")"
kefu-admin notification list >/dev/null 2>"$IT_DIR/err" ||
    it_fail "kefu-admin notification list right after up failed: $(cat "$IT_DIR/err")"
it_note "kefu-admin status after eval \$(local.sh env): $(grep -c ' up ' "$IT_DIR/status.out") instances up"
grep -q gateway "$IT_DIR/status.out" || it_fail "kefu-admin status does not list kefu-gateway"
url=$(sed -n 's|^.*HTTP API: \(http://[^ ]*\)/api/v1/ .*$|\1|p' "$IT_DIR/log/up1.log" | head -n 1)
[[ $url == "http://127.0.0.1:$KEFU_HTTP_PORT" ]] ||
    it_fail "up printed no kefu-gateway URL on port $KEFU_HTTP_PORT: $(grep -i http "$IT_DIR/log/up1.log")"
pw=$(sed -n 's/^.*with the password \([^ ]*\) .*$/\1/p' "$IT_DIR/log/up1.log" | head -n 1)
[[ -n $pw ]] || it_fail "up printed no demo password"
code=$(curl -s -o "$IT_DIR/signin.json" -w '%{http_code}' -c "$IT_DIR/jar" \
            -H 'Content-Type: application/json' \
            -d "{\"staff\":\"agent.li\",\"password\":\"$pw\"}" "$url/api/v1/session")
[[ $code == 200 ]] || it_fail "the demo sign-in printed by up answered $code: $(cat "$IT_DIR/signin.json")"
curl -s -b "$IT_DIR/jar" "$url/api/v1/tickets?no=$no" | jq -e --arg no "$no" '.tickets[0].ticket == $no' >/dev/null ||
    it_fail "the demo complaint $no is not found over HTTP"
it_note "kefu-gateway at $url: the demo sign-in works and finds $no"
grep -q "web console: $url/ " "$IT_DIR/log/up1.log" || it_fail "up printed no web console address"
curl -s "$url/" | grep -q '<script type="module" src="/js/app.js">' ||
    it_fail "the web console printed by up is not served at $url/"

# ---- 3. README's survey loop ---------------------------------------------
cd "$IT_DIR"   # README's certificate paths are var/certs/..., from the tree's root
ENG=$KEFU_VAR_DIR/certs/eng.zhao.cert
n2=$(kefu submit --kind complaint --category leak --channel phone --project HZ-XH \
       --building 3 --unit 1201 --phone 13800138000 --summary '卫生间又漏水')
it_wait_for "$n2 to be routed" 30 kefu ticket show "$n2" --json
it_wait_for "$n2 to be owned by eng.zhao" 30 bash -c "kefu ticket show $n2 --json | jq -e '.owner == \"eng.zhao\"'"
kefu --cert "$ENG" respond "$n2" --note '已联系业主，明早上门' >/dev/null
kefu --cert "$ENG" resolve "$n2" --note '已更换防水层' >/dev/null
resolved=$SECONDS
sent() { kefu survey show "$n2" --json | jq -e '.surveys[0].sent_at != null' >/dev/null; }
it_wait_for "the survey of $n2 to be sent" 45 sent
it_note "the survey of $n2 was sent $((SECONDS - resolved)) s after the resolution"
kefu survey answer "$n2" --score 2 --comment '还是有点渗水' >"$IT_DIR/answer.out" ||
    it_fail "kefu survey answer failed"
grep -q reopened "$IT_DIR/answer.out" || it_fail "a score of 2 did not reopen $n2: $(cat "$IT_DIR/answer.out")"
[[ $(kefu ticket show "$n2" --json | jq -r .status) == routed ]] || it_fail "$n2 is not open again"

# ---- 4. down ---------------------------------------------------------------
pids=$(cat "$KEFU_VAR_DIR"/run/*.pid)
"$LOCAL" down >"$IT_DIR/log/down1.log" 2>&1 || it_fail "down failed: $(cat "$IT_DIR/log/down1.log")"
for pid in $pids; do
    ! kill -0 "$pid" 2>/dev/null || it_fail "pid $pid still runs after down"
done
! psql -X -At -d "postgresql://postgres@127.0.0.1:$IT_PG_PORT/kefu" -c 'SELECT 1' >/dev/null 2>&1 ||
    it_fail "PostgreSQL still answers after down"
it_note "down stopped $(wc -w <<<"$pids") daemons and PostgreSQL"
