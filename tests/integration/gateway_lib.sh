# Helpers of the kefu-gateway tests (source after lib.sh): the gateway's
# certificate, demo passwords, and curl wrappers that keep each staff
# member's cookie jar and CSRF token.

command -v curl >/dev/null || it_fail "curl is needed (apt-get install curl)"
command -v jq >/dev/null || it_fail "jq is needed (apt-get install jq)"

# Starts the store (with the approval tests' policies) and the daemons the
# gateway speaks to: bus, intake, router, approval, survey, each on free
# ports; returns once intake answers.
gw_daemons() {
    it__pick_port
    export KEFU_APPROVAL_BIND=tcp://127.0.0.1:$IT__PORT KEFU_APPROVAL=tcp://127.0.0.1:$IT__PORT
    it__pick_port
    export KEFU_SURVEY_BIND=tcp://127.0.0.1:$IT__PORT KEFU_SURVEY=tcp://127.0.0.1:$IT__PORT
    it_pg_start
    it_psql "$(cat "$KEFU_SOURCE_DIR/tests/integration/approval_fixture.sql")" >/dev/null
    local d
    for d in bus intake router approval survey; do it_start "$d"; done
    it_wait_for "intake to answer" 30 it_as agent.li kefu tickets --limit 1
}

# Starts kefu-gateway on a free port with a new gateway certificate;
# extra VAR=value arguments go to it_start. Sets GW_URL.
gw_start() {
    local key=${1:-gateway}
    shift || true
    if [[ -z ${GW_CERT:-} ]]; then
        GW_CERT=$IT_DIR/certs/gateway.cert
        kefu-admin cert --gateway web-1 --out "$GW_CERT" >"$IT_DIR/log/gw-cert.log" 2>&1 ||
            it_fail "kefu-admin cert --gateway failed: $(cat "$IT_DIR/log/gw-cert.log")"
        it__pick_port
        GW_PORT=$IT__PORT
        it__pick_port
        GW_METRICS_PORT=$IT__PORT
    fi
    export KEFU_GATEWAY_CERT=$GW_CERT
    GW_URL=${GW_URL:-http://127.0.0.1:$GW_PORT}
    it_start "$key" KEFU_HTTP_PORT="$GW_PORT" KEFU_METRICS_PORT="$GW_METRICS_PORT" "$@"
    it_wait_for "kefu-gateway to listen" 30 curl -s -o /dev/null "$GW_URL/api/v1/session"
}

# Sets staff member $1's password to $2.
gw_passwd() {
    printf '%s\n' "$2" | kefu-admin passwd "$1" --stdin >"$IT_DIR/log/passwd-$1.log" 2>&1 ||
        it_fail "kefu-admin passwd $1 failed: $(cat "$IT_DIR/log/passwd-$1.log")"
}

# http WHO METHOD PATH [BODY] [curl options...]: a request as WHO (their
# cookie jar; "-" for none), with their CSRF token on anything but GET.
# Sets CODE (status), OUT (body) and HDR (response headers).
http() {
    local who=$1 method=$2 path=$3 body=${4:-}
    shift 3
    [[ $# -gt 0 ]] && shift
    local args=(-s -S -o "$IT_DIR/http.out" -D "$IT_DIR/http.hdr" -w '%{http_code}' -X "$method"
        ${GW_CURL_OPTS:-})
    if [[ $who != - ]]; then
        args+=(-b "$IT_DIR/jar-$who" -c "$IT_DIR/jar-$who")
        [[ $method != GET && -f $IT_DIR/csrf-$who ]] && args+=(-H "X-CSRF-Token: $(<"$IT_DIR/csrf-$who")")
    fi
    [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    CODE=$(curl "${args[@]}" "$@" "$GW_URL$path") || CODE=000
    OUT=$(<"$IT_DIR/http.out")
    HDR=$(<"$IT_DIR/http.hdr")
}

# expect STATUS [CODE] WHAT: the last answer's HTTP status and error code.
expect() {
    local status=$1 code=${2:-} what=${*:3}
    [[ -z $what ]] && what=$code && code=
    [[ $CODE == "$status" ]] || it_fail "$what: HTTP $CODE, expected $status: $OUT"
    if [[ -n $code ]]; then
        [[ $(jq -r .code <<<"$OUT") == "$code" ]] || it_fail "$what: code $(jq -r .code <<<"$OUT"), expected $code"
    fi
}

# Signs staff member $1 in with password $2 and keeps their CSRF token.
gw_signin() {
    rm -f "$IT_DIR/jar-$1" "$IT_DIR/csrf-$1"
    http "$1" POST /api/v1/session "$(jq -nc --arg s "$1" --arg p "$2" '{staff: $s, password: $p}')"
    [[ $CODE == 200 ]] || it_fail "sign-in of $1: HTTP $CODE: $OUT"
    jq -r .csrf <<<"$OUT" >"$IT_DIR/csrf-$1"
}

# The value of header $1 in the last answer.
hdr() { tr -d '\r' <<<"$HDR" | awk -v h="$1" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(h) ":") == 1 {sub(/^[^:]*: */, ""); print; exit}'; }
json() { jq -r "$1" <<<"$OUT"; }
