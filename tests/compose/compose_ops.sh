# shellcheck shell=bash
# kefu — the compose pass's operator steps (issue 15): what an operator does
# with deploy/docker-compose.yml on the real engine, one function per step,
# each checked against the store. Sourced by run_compose.sh after
# compose_lib.sh (the engine, the images, `$C`, the client and the streams);
# tests/compose/README.md says what each step does and how long it takes.

# deploy/README.md §2's first day, as written: import the organisation (the
# demo one's file) and signal the router to read it, issue agent.li's certificate, log a complaint from the
# host with it and wait until it is routed, `kefu-admin status`, and the web
# console's index page from the gateway's published port.
kc_first_day() {
    local p=$KC_DIR/project out no t0
    cp "$ROOT/deploy/demo-org.json" "$p/org.json"
    cd "$p" || return 1
    kc_op run --rm -v "$PWD/org.json:/tmp/org.json:ro" migrate kefu-admin import /tmp/org.json ||
        return 1
    kc_op exec -T ticket-router sh -c 'kill -s HUP 1' || return 1
    kc_op run --rm -v "$PWD/certs:/out" migrate \
        kefu-admin cert agent.li --out /out/agent.li.cert --note "call-centre PC 12" || return 1
    cd - >/dev/null || return 1
    t0=$(date +%s%N)
    out=$(kc_client submit --idem compose-first-day-1 --kind complaint --category leak \
        --channel phone --project HZ-XH --building 3 --unit 1201 --phone 13800138000 \
        --summary "卫生间漏水，楼下天花板渗水 (compose pass)" 2>&1) ||
        { kc_warn "kefu submit failed: $out"; return 1; }
    no=$(grep -oE 'KF-[0-9]{4}-[0-9]+' <<<"$out" | head -n1)
    [[ -n $no ]] || { kc_warn "kefu submit printed no ticket number: $out"; return 1; }
    kc_wait 30 kc_routed "$no" || { kc_warn "$no was not routed within 30 s"; return 1; }
    kc_say "first complaint $no submitted and routed in $((($(date +%s%N) - t0) / 1000000)) ms"
    kc_client ticket show "$no" | sed 's/^/  /'
    kc_op exec -T intake kefu-admin status || return 1
    kc_console
}

# The gateway's web console answers at its published port: GET / is the
# console's index.html.
kc_console() {
    local page
    page=$(curl -fsS --max-time 10 "http://$KEFU_PUBLISH_GATEWAY/") ||
        { kc_warn "GET / on the gateway ($KEFU_PUBLISH_GATEWAY) failed"; return 1; }
    grep -qi '<!doctype html' <<<"$page" ||
        { kc_warn "GET / is not the console's page: ${page:0:200}"; return 1; }
    kc_say "web console: GET http://$KEFU_PUBLISH_GATEWAY/ answers the console's index.html"
}

# The scale the pass runs at from kc_scale on: every later `$C up -d`
# repeats it (deploy/README.md §5).
KC_SCALE=(--scale ticket-router=3 --scale approval=2)

# Prints "CONTAINER N" for each container of service $1: N is the
# messages of type $2 it took in, from its own /metrics on port $3 (asked
# from inside the container: the image has bash, no HTTP client).
kc_counts() {
    local id name
    for id in $(kc_docker ps -q --filter label=com.docker.compose.project=kefu \
        --filter label=com.docker.compose.service="$1"); do
        name=$(kc_docker inspect -f '{{.Name}}' "$id")
        # shellcheck disable=SC2016
        kc_docker exec "$id" bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 &&
            printf "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n" >&3 && cat <&3' "$3" |
            awk -v n="${name#/}" -v t="type=\"$2\"" '/^kefu_events_total\{/ && index($0, t) &&
                /direction="in"/ {s += $NF} END {print n, s + 0}'
    done
}

# Fails unless each of the $1 lines "CONTAINER N" of $2 has N > 0.
kc_all_took() {
    [[ $(awk '$2 > 0' <<<"$2" | wc -l) == "$1" ]]
}

# The approvers' side of scaling, as §2 says: KEFU_APPROVAL lists every
# approval instance's host port (`$C port --index N approval 7720`); $1
# clients, one after the other, each ask for their pending steps.
kc_approvers() {
    local eps='' i port
    for i in 1 2; do
        port=$(kc_c port --index "$i" approval 7720) || return 1
        eps+=${eps:+,}tcp://127.0.0.1:${port##*:}
    done
    # shellcheck disable=SC2016
    kc_pc -e KEFU_APPROVAL="$eps" --entrypoint bash kefu:test -c '
        for i in $(seq 1 "$1"); do kefu approvals >/dev/null || exit 1; done' approvers "$1"
}

# Issue 15's scaling: `$C up -d --scale ticket-router=3 --scale approval=2`
# with no change to any file, every service healthy; then a stream of
# submits, each stored and routed once, and approvers' requests through
# every approval instance's port; the work counted per instance (their
# /metrics): every router and every approval instance must have taken some.
kc_scale() {
    local n=${KEFU_COMPOSE_STREAM:-60} counts
    kc_op up -d "${KC_SCALE[@]}" >/dev/null || return 1
    kc_wait "${KEFU_COMPOSE_UP_S:-240}" kc_all_healthy ||
        { kc_warn "not healthy after scaling:"; kc_states >&2; return 1; }
    [[ $(kc_states | grep -c '^ticket-router running healthy') == 3 ]] ||
        { kc_warn "not 3 routers:"; kc_states >&2; return 1; }
    kc_send compose-scale "$n" || return 1
    kc_wait 60 kc_stream_done compose-scale "$n" ||
        { kc_warn "the stream was not stored and routed once each:";
          kc_sql "SELECT status, count(*) FROM ticket GROUP BY 1" >&2; return 1; }
    counts=$(kc_counts ticket-router ticket.submitted 9103)
    kc_say "$n submits stored and routed once each; ticket.submitted taken per router:"
    sed 's/^/  /' <<<"$counts"
    kc_all_took 3 "$counts" || { kc_warn "not every router instance took work"; return 1; }
    # A client sends to the instance whose connection is ready first, so a
    # few requests may all go to one: 20 at a time, up to 200.
    local sent=0
    counts=$(kc_counts approval approval.list 9104)
    until kc_all_took 2 "$counts"; do
        ((sent < 200)) ||
            { kc_warn "not every approval instance took requests: $counts"; return 1; }
        kc_approvers 20 || { kc_warn "kefu approvals through both approval ports failed"; return 1; }
        sent=$((sent + 20))
        counts=$(kc_counts approval approval.list 9104)
    done
    kc_say "$sent approvers' requests; approval.list taken per approval instance:"
    sed 's/^/  /' <<<"$counts"
}

# Sends the $2 complaints tagged $1 (kc_stream), its output in file $3
# (default KC_DIR/stream-TAG.log); shows the failed submits when one failed.
kc_send() {
    local log=${3:-$KC_DIR/stream-$1.log}
    kc_stream "$1" "$2" >"$log" 2>&1 && return 0
    kc_warn "submits of $1 failed:"
    grep ' failed: ' "$log" | head -3 >&2
    return 1
}

# Runs disruption $2... (a function and its arguments) during an open
# stream of submits tagged $1: it starts once 10 are stored, and the stream
# runs on 3 s after it. The submits that failed meanwhile (their errors
# shown) and all the others are sent again with their idempotency keys, as
# clients would; then every ticket of the stream must be stored once and
# routed once, and every service healthy.
kc_under_stream() {
    local tag=$1 log=$KC_DIR/stream-$1.log again=$KC_DIR/stream-$1-again.log n
    shift
    kc_midstream "$tag" || return 1
    "$@" || { kc_stream_end "$tag" 0; return 1; }
    kc_stream_end "$tag" 3 || return 1
    n=$KC_STREAM_SENT
    if grep -q ' failed: ' "$log"; then
        kc_say "$(grep -c ' failed: ' "$log") of $n submits failed meanwhile, e.g.:"
        grep ' failed: ' "$log" | sort -t: -k2 -u | head -3 | sed 's/^/  /'
    fi
    kc_wait 120 kc_all_healthy || { kc_warn "not healthy again:"; kc_states >&2; return 1; }
    kc_send "$tag" "$n" "$again" || return 1
    if ! kc_wait 60 kc_stream_done "$tag" "$n"; then
        kc_warn "not every ticket of $tag stored once and routed once:"
        kc_sql "SELECT t.no, count(h.id) FROM ticket t LEFT JOIN ticket_history h
                ON h.ticket_id = t.id AND h.action = 'routed' WHERE t.summary LIKE '$tag %'
                GROUP BY 1 HAVING count(h.id) <> 1" >&2
        return 1
    fi
    kc_say "$n submits of $tag, all sent again: each stored once and routed once"
}

# Crashes the daemon of container $1 (SIGKILL of init's child, as a crash
# would: `docker kill` counts as a manual stop, which the restart policy
# respects) and says how long until the container ran again. The kill runs
# detached: the container stops with its daemon, and an attached exec can
# then fail although the kill was done (seen: the router died, its
# container restarted, docker exec exited non-zero); the restart count
# says whether it was.
kc_crash() {
    local c=$1 t0 restarts
    restarts=$(kc_docker inspect -f '{{.RestartCount}}' "$c")
    t0=$(date +%s%N)
    # shellcheck disable=SC2016
    kc_docker exec -d "$c" bash -c 'kill -KILL $(cat /proc/1/task/1/children)' ||
        { kc_warn "could not start the kill in $c"; return 1; }
    kc_wait 60 kc_restarted "$c" "$restarts" ||
        { kc_warn "$c was not killed, or did not come back, in 60s"; return 1; }
    kc_say "  $c crashed, running again after $((($(date +%s%N) - t0) / 1000000)) ms"
}

# True when container $1 runs and has restarted more than $2 times.
kc_restarted() {
    local s
    s=$(kc_docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$1")
    [[ ${s%% *} == running && ${s##* } -gt $2 ]]
}

# The crashes of kc_crashes, one after the other.
kc_crash_all() {
    local c
    for c in "$@"; do kc_crash "$c" || return 1; done
}

# Issue 15's crashes: intake's, a router's, the bus's and the gateway's
# daemons killed during a stream of submits; the restart policy brings each
# back, and nothing is lost or done twice.
kc_crashes() {
    kc_under_stream compose-crash kc_crash_all kefu_intake_1 kefu_ticket-router_2 kefu_bus_1 kefu_gateway_1
}

# `$C restart postgres`, timed.
kc_restart_postgres() {
    local t0
    t0=$(date +%s)
    kc_op restart postgres >/dev/null || return 1
    kc_say "\$C restart postgres took $(($(date +%s) - t0))s"
}

# Issue 15's store restart: `$C restart postgres` during a stream of
# submits: clients get `unavailable`, send again, nothing half-written.
kc_store_restart() {
    kc_under_stream compose-pg kc_restart_postgres
}

# Every container of service $1 (all instances) has health $2.
kc_service_health() {
    local states
    states=$(kc_states | awk -v s="$1" '$1 == s')
    [[ -n $states ]] && ! awk -v h="$2" '$3 != h' <<<"$states" | grep -q .
}

# Every daemon that uses the store has health $1.
kc_store_users_are() {
    local s
    for s in $KC_STORE_USERS; do kc_service_health "$s" "$1" || return 1; done
}
KC_STORE_USERS="intake ticket-router approval notifier survey gateway"

# Issue 15's healthchecks: `$C stop postgres`; every daemon that uses the
# store turns unhealthy (deploy/README.md §4: 3 failed checks 10 s apart)
# while it keeps running; `$C start postgres`; every service healthy again.
kc_health() {
    local t0 limit=${KEFU_COMPOSE_HEALTH_S:-150}
    kc_op stop postgres >/dev/null || return 1
    t0=$(date +%s)
    if ! kc_wait "$limit" kc_store_users_are unhealthy; then
        kc_warn "not every daemon turned unhealthy in ${limit}s without the store:"
        kc_states >&2
        kc_op start postgres >/dev/null
        return 1
    fi
    kc_say "without the store, unhealthy after $(($(date +%s) - t0))s:"
    kc_states | grep -v '^migrate ' | sed 's/^/  /'
    kc_docker inspect -f '{{json .State.Health.Log}}' kefu_intake_1 |
        jq -r '.[-1] | "  intake'\''s last check: exit \(.ExitCode): \(.Output)"' | head -3
    kc_op start postgres >/dev/null || return 1
    t0=$(date +%s)
    kc_wait "$limit" kc_all_healthy || { kc_warn "not healthy again:"; kc_states >&2; return 1; }
    kc_say "store back: every service healthy after $(($(date +%s) - t0))s"
}

# The logs of every service: readable with `$C logs`, no full phone number
# (every submit of the pass gave 13800138000) at info level (§8).
kc_logs() {
    local logs
    logs=$(kc_c logs --no-color 2>&1) || { kc_warn "\$C logs failed: $logs"; return 1; }
    grep -q 'event=submit.accepted' <<<"$logs" ||
        { kc_warn "\$C logs has no submit.accepted line of intake"; return 1; }
    if grep -q '13800138000' <<<"$logs"; then
        kc_warn "a full phone number is in the logs:"
        grep '13800138000' <<<"$logs" | head -5 >&2
        return 1
    fi
    kc_say "\$C logs: $(wc -l <<<"$logs") lines, $(grep -c 'level=error' <<<"$logs") at level=error, no full phone number"
    # What the store refused during the pass (the restarts' connection ends
    # are FATAL, not ERROR): shown, for the reader of a failed run.
    grep -E '^postgres.* ERROR: ' <<<"$logs" | sed -E 's/^.* ERROR: +//' | sort | uniq -c |
        sort -rn | head -5 | sed 's/^/  the store: ERROR /' || true
}

# HTTP to the gateway's published port as a browser would: "JAR METHOD
# PATH [BODY [CURL-ARGS...]]" with the cookie jar KC_DIR/JAR.jar and, for
# other methods than GET, the CSRF token the sign-in answered (KC_DIR/JAR.csrf).
# Sets KC_CODE (HTTP status) and KC_OUT (the body).
kc_http() {
    local jar=$KC_DIR/$1 method=$2 path=$3 body=${4:-}
    shift 3
    [[ $# -gt 0 ]] && shift
    local args=(-sS --max-time 20 -o "$KC_DIR/http.out" -w '%{http_code}' -X "$method"
        -b "$jar.jar" -c "$jar.jar")
    [[ $method != GET && -f $jar.csrf ]] && args+=(-H "X-CSRF-Token: $(<"$jar.csrf")")
    [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    KC_CODE=$(curl "${args[@]}" "$@" "http://$KEFU_PUBLISH_GATEWAY$path") || KC_CODE=000
    KC_OUT=$(<"$KC_DIR/http.out")
}

# Signs staff member $1 in with password $2 (jar $1); keeps the CSRF token.
kc_signin() {
    rm -f "$KC_DIR/$1.jar" "$KC_DIR/$1.csrf"
    kc_http "$1" POST /api/v1/session "$(jq -nc --arg s "$1" --arg p "$2" '{staff: $s, password: $p}')"
    [[ $KC_CODE == 200 ]] || { kc_warn "sign-in of $1: HTTP $KC_CODE $KC_OUT"; return 1; }
    jq -r .csrf <<<"$KC_OUT" >"$KC_DIR/$1.csrf"
}

# Fails with message $2 unless the last answer's HTTP status is $1.
kc_expect() {
    [[ $KC_CODE == "$1" ]] || { kc_warn "$2: HTTP $KC_CODE, not $1: ${KC_OUT:0:300}"; return 1; }
}

# A password of 24 random characters.
kc_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# deploy/README.md §2's lines for the web console and machines, as
# written: agent.li's password (--stdin), a sign-in through the gateway's
# published port and a complaint over HTTP (CSRF token, Idempotency-Key),
# routed; agent.chen's temporary password, which must be changed before
# anything else; a token for the phone system whose ringing and hangup make
# a missed call in `kefu-admin calls --missed`; agent.li's sessions
# revoked: refused at once; a certificate for a gateway outside compose.
kc_web_day() {
    kc_web_password && kc_web_temporary && kc_web_cti && kc_web_revoke && kc_web_gateway_cert
}

# agent.li's password, sign-in, and a complaint over HTTP, routed.
kc_web_password() {
    local pw body no
    pw=$(kc_password)
    printf '%s\n' "$pw" | kc_op run --rm -T migrate kefu-admin passwd agent.li --stdin || return 1
    kc_signin agent.li "$pw" || return 1
    kc_say "agent.li signed in: $(jq -c '{staff, name, role, must_change}' <<<"$KC_OUT")"
    body=$(jq -nc '{kind: "complaint", category: "leak", channel: "phone", project: "HZ-XH",
        building: "3", unit: "1201", phone: "13800138000", summary: "compose-web 1 <script>x</script>"}')
    kc_http agent.li POST /api/v1/tickets "$body" -H 'Idempotency-Key: compose-web-1'
    kc_expect 200 "POST /api/v1/tickets" || return 1
    no=$(jq -r .ticket <<<"$KC_OUT")
    kc_wait 30 kc_routed "$no" || { kc_warn "$no (over HTTP) was not routed within 30 s"; return 1; }
    kc_http agent.li GET "/api/v1/tickets/$no"
    kc_expect 200 "GET /api/v1/tickets/$no" || return 1
    [[ $(jq -r .summary <<<"$KC_OUT") == "compose-web 1 <script>x</script>" ]] ||
        { kc_warn "the summary did not come back as sent: $KC_OUT"; return 1; }
    kc_say "complaint $no over HTTP: stored, routed to $(jq -r '.owner // .responsible // "?"' <<<"$KC_OUT")"
}

# agent.chen's temporary password: the sign-in must change it first.
kc_web_temporary() {
    local out tmp pw
    out=$(kc_op run --rm migrate kefu-admin passwd agent.chen --temporary) || return 1
    tmp=$(sed -n 's/^temporary password for agent\.chen: //p' <<<"$out")
    [[ -n $tmp ]] || { kc_warn "passwd --temporary printed no password"; return 1; }
    kc_signin agent.chen "$tmp" || return 1
    [[ $(jq -r .must_change <<<"$KC_OUT") == true ]] ||
        { kc_warn "a temporary password's sign-in does not ask for a change: $KC_OUT"; return 1; }
    kc_http agent.chen GET /api/v1/tickets
    kc_expect 403 "tickets before the temporary password is changed" || return 1
    pw=$(kc_password)
    kc_http agent.chen POST /api/v1/session/password \
        "$(jq -nc --arg o "$tmp" --arg n "$pw" '{old: $o, new: $n}')"
    [[ $KC_CODE == 20[04] ]] || { kc_warn "password change: HTTP $KC_CODE $KC_OUT"; return 1; }
    kc_signin agent.chen "$pw" || return 1
    kc_http agent.chen GET /api/v1/tickets
    kc_expect 200 "agent.chen's tickets after the change" || return 1
    kc_say "agent.chen: temporary password changed at the first sign-in"
}

# A token for the phone system: a call rings and is hung up unanswered;
# `kefu-admin calls --missed` lists it.
kc_web_cti() {
    local out token call=compose-call-$$ e
    out=$(kc_op run --rm migrate kefu-admin token create pbx --scope calls) || return 1
    token=$(grep -oE 'kit_[A-Za-z0-9_-]+' <<<"$out" | head -n1)
    [[ -n $token ]] || { kc_warn "token create printed no kit_ token"; return 1; }
    for e in ringing hangup; do
        kc_http pbx POST /api/v1/calls "$(jq -nc --arg e "$e" --arg c "$call" \
            '{event: $e, call_id: $c, caller: "13800138000", extension: "8001"}')" \
            -H "Authorization: Bearer $token"
        [[ $KC_CODE == 20[02] ]] || { kc_warn "POST /api/v1/calls $e: HTTP $KC_CODE $KC_OUT"; return 1; }
    done
    out=$(kc_op run --rm migrate kefu-admin calls --missed) || return 1
    grep -q "$call" <<<"$out" || { kc_warn "the missed call $call is not listed"; return 1; }
    kc_op run --rm migrate kefu-admin token uses pbx --limit 5 || return 1
}

# agent.li's sessions revoked: the open one is refused at once.
kc_web_revoke() {
    kc_op run --rm migrate kefu-admin sessions agent.li --revoke || return 1
    kc_http agent.li GET /api/v1/session
    kc_expect 401 "a revoked session" || return 1
    kc_say "agent.li's revoked session: 401 at once"
}

# A certificate for a gateway outside this compose file, then revoked.
kc_web_gateway_cert() {
    (cd "$KC_DIR/project" &&
        kc_op run --rm -v "$PWD/certs:/out" migrate \
            kefu-admin cert --gateway web-2 --out /out/gateway.cert) || return 1
    [[ -s $KC_DIR/project/certs/gateway.cert ]] || { kc_warn "no certs/gateway.cert"; return 1; }
    kc_op run --rm migrate kefu-admin revoke --gateway web-2
}

# What a restore must bring back exactly: tickets, their history, the
# events, the applied events, the last ticket number.
kc_store_counts() {
    kc_sql "SELECT (SELECT count(*) FROM ticket), (SELECT count(*) FROM ticket_history),
                   (SELECT count(*) FROM event), (SELECT count(*) FROM processed_event),
                   (SELECT max(no) FROM ticket)"
}

# deploy/README.md §6, as written: pg_dump while the daemons run; three
# complaints after it (the restore must not have them); the restore with
# the daemons stopped; `$C up -d`. Then the store holds exactly what the
# dump held, every service is healthy, and a new complaint is routed.
kc_backup() {
    local p=$KC_DIR/project before after svc
    svc="bus intake ticket-router approval notifier survey gateway"
    before=$(kc_store_counts) || return 1
    kc_dump kefu-backup.dump || return 1
    kc_say "pg_dump: $(stat -c %s "$p/kefu-backup.dump") bytes; store (tickets, history, events, applied, last no): $before"
    kc_send compose-after-dump 3 || return 1
    # shellcheck disable=SC2086 # the guide's list of services
    kc_op stop $svc >/dev/null || return 1
    (cd "$p" && kc_op exec -T postgres dropdb -U kefu --force --if-exists kefu &&
        kc_op exec -T postgres createdb -U kefu kefu &&
        kc_c exec -T postgres pg_restore -U kefu -d kefu --no-owner --exit-on-error <kefu-backup.dump) ||
        { kc_warn "the restore failed"; return 1; }
    kc_op up -d "${KC_SCALE[@]}" >/dev/null || return 1
    kc_wait "${KEFU_COMPOSE_UP_S:-240}" kc_all_healthy ||
        { kc_warn "not healthy after the restore:"; kc_states >&2; return 1; }
    after=$(kc_store_counts) || return 1
    [[ $after == "$before" ]] ||
        { kc_warn "the restored store differs from the dump: $after, not $before"; return 1; }
    kc_send compose-restored 1 || return 1
    kc_wait 30 kc_stream_done compose-restored 1 ||
        { kc_warn "a complaint after the restore was not stored and routed once"; return 1; }
    kc_say "restored exactly what the dump held; a new complaint: $(kc_sql "SELECT no FROM ticket
        WHERE summary = 'compose-restored 1'"), routed"
}

# `$C up -d` after the image changed, timed: the new image is tagged as the
# compose file's (what `$C build` does), the scale kept.
kc_upgrade_up() {
    local t0
    kc_docker tag kefu:next kefu:test || return 1
    t0=$(date +%s)
    kc_op up -d "${KC_SCALE[@]}" >"$KC_DIR/upgrade-up.log" 2>&1 ||
        { cat "$KC_DIR/upgrade-up.log" >&2; return 1; }
    kc_say "\$C up -d with the new image took $(($(date +%s) - t0))s:"
    grep -E 'Recreat|Start' "$KC_DIR/upgrade-up.log" | sed 's/^/  /'
}

# deploy/README.md §7 under traffic: the dump first, then a newly built
# image with a new migration (tests/compose/upgrade) brought in with
# `$C up -d` while complaints stream in. Nothing lost or done twice, the
# migration recorded once, every container on the new image.
kc_upgrade() {
    local new stale since errors
    kc_build kefu:next "$ROOT/tests/compose/upgrade/Dockerfile" "$ROOT/tests/compose/upgrade" ||
        return 1
    new=$(kc_docker image inspect -f '{{.Id}}' kefu:next)
    kc_dump kefu-before-upgrade.dump || return 1
    since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    kc_under_stream compose-upgrade kc_upgrade_up || return 1
    # The old daemons served while the migration added a column to ticket:
    # none of their prepared statements may have broken on it.
    errors=$(kc_docker logs --since "$since" kefu_postgres_1 2>&1 | grep ' ERROR: ' || true)
    [[ -z $errors ]] || { kc_warn "the store refused statements during the upgrade:";
                          head -5 <<<"$errors" >&2; return 1; }
    [[ $(kc_sql "SELECT count(*) FROM schema_migration WHERE version = '900'") == 1 ]] ||
        { kc_warn "the new migration is not recorded once"; kc_sql "TABLE schema_migration" >&2; return 1; }
    # shellcheck disable=SC2046
    stale=$(kc_docker inspect -f '{{.Name}} {{.Image}} {{index .Config.Labels "com.docker.compose.service"}}' \
        $(kc_docker ps -aq --filter label=com.docker.compose.project=kefu) |
        awk -v new="$new" '$3 != "postgres" && $2 != new')
    [[ -z $stale ]] || { kc_warn "containers not on the new image: $stale"; return 1; }
    kc_say "every kefu container runs the new image; migration 900 applied once; the store refused nothing"
}
