"""kefu — the OpenAPI 3.1 document of kefu-gateway's API, written from proto/model.json.

gen_model.py --openapi FILE calls document(model) on a model it has validated. Every route of
the model's "http" section becomes an operation: a route with a message takes that request's
fields (path parameters, then the query string for GET and DELETE or a JSON body for POST) and
answers its "reply"; a route with a handler is the gateway's own, described by HANDLERS below.
Standard library only.
"""
import hashlib
import json
import re

IDEM_TEXT = ("the request's idempotency key (`idem` of the wire request), yours alone: the same "
             "key with the same body again is a retry, answered as the first time with "
             "`duplicate: true` and nothing written; the same key with another body is 409 "
             "conflict. Send one with every POST and reuse it when retrying after a 503 or a lost "
             "answer.")
SESSION = {"session": []}
CSRF = {"csrf": []}
BEARER = {"bearer": []}
ERROR = {"$ref": "#/components/schemas/Error"}
ABOUT = ("To begin: POST /api/v1/session with {staff, password} sets the kefu_session cookie and "
         "answers the session's csrf token; send the cookie with every request, and the token as "
         "the X-CSRF-Token header with every POST and DELETE. An error answers {code, message, "
         "field} with the HTTP status of its code. Lists come a page at a time: an answer with "
         "`next` has more; ask again with cursor = next. Limits are in bytes of UTF-8 (maxLength, "
         "counted in characters, is the most a string can be; the byte limit in each description "
         "is the rule). Times are %s. An optional field of an answer is absent or null; a client "
         "ignores keys it does not know. The wire underneath, with every request, reply and "
         "error code: proto/catalog.md, proto/errors.md.")
MS = "milliseconds since the Unix epoch (UTC)"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The statuses each kind of route can answer besides 200 (the model's "errors" give the codes).
ERRORS_READ = (400, 404, 503)
ERRORS_WRITE = (400, 404, 409, 503)
STATUS_TEXT = {400: "the request is malformed or a value is refused (bad_value, missing_field, "
                    "wrong_type, too_long, ...)",
               401: "no session, or it expired or was revoked; or no integration token, a "
                    "revoked one, or one this route does not take (unknown_actor)",
               403: "not allowed (forbidden), or (not on a GET) the X-CSRF-Token header is "
                    "missing or wrong",
               404: "what the request names does not exist (not_found)",
               409: "the request conflicts with the state (conflict), e.g. an idempotency key "
                    "used before with other content",
               429: "too many failed sign-ins: try again later",
               503: "a daemon or the store is unavailable for now: retry (with the same "
                    "Idempotency-Key)"}
HANDLER_TEXT = {
    "call_event": "For a phone system (CTI), with an integration token of scope calls (Bearer). "
                  "Modelled on the generic CTI push of Zammad and Znuny: send ringing when a "
                  "call rings at an extension (their newCall), answered when an extension takes "
                  "it (their answer), hangup when it ends; the same call_id with every event. "
                  "Events may come twice or late: a repeat, or an answer after the hangup, "
                  "changes nothing (changed: false). A call hung up unanswered is missed and "
                  "stays on the missed list until someone calls back. On answered, the staff "
                  "member of the extension gets a screen-pop with the owner found by the "
                  "caller's number (GET /api/v1/events). Every change is also an event of the "
                  "outbox (call.ringing, call.answered, call.ended, call.missed; "
                  "proto/catalog.md). A token without scope calls: 403; no token, a revoked or "
                  "unknown one: 401; a bad value: 400 naming the field.",
    "calls_list": "The calls phone systems reported, newest first; state=missed lists the "
                  "missed calls nobody has called back yet.",
    "call_callback": "Marks a missed call as returned by you: it leaves the missed list. "
                     "404: no such call; 409: the call was not missed (answered, or still "
                     "ringing) or was returned already."}


def camel(name):
    """A model name as a schema or operation name: ticket.show -> TicketShow."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._-]", name) if part)


def lower_camel(name):
    """ticket.show -> ticketShow."""
    text = camel(name)
    return text[:1].lower() + text[1:]


def nullable(schema):
    """schema that also admits null: the wire's optional fields are absent or nil."""
    if "$ref" in schema:
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return dict(extra, anyOf=[{"$ref": schema["$ref"]}, {"type": "null"}])
    out = dict(schema)
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = out["enum"] + [None]
    return out


def plain(text):
    """A meaning of the model fit to stand alone: "see below" points at the catalog."""
    return re.sub(r"\(?see below\)?", "(see proto/catalog.md)", text)


def described(schema, meaning):
    """schema with meaning as its description (when there is one)."""
    if meaning:
        schema = dict(schema, description=plain(meaning))
    return schema


def enum_schema(name, enum):
    """An enumeration's schema: its values, and their labels for a console (x-labels)."""
    labels = {v["name"]: {"zh": v["zh"], "en": v["en"]} for v in enum["values"]}
    return {"type": "string", "enum": [v["name"] for v in enum["values"]],
            "description": enum["meaning"], "x-labels": labels}


def limit(model, value):
    """A field's min, max or default: a limit's name stands for its value."""
    return model["limits"][value]["value"] if isinstance(value, str) else value


# ---- requests ----------------------------------------------------------------


def request_field(model, field):
    """The schema of one field of a request (a parameter or a body property)."""
    kind, meaning = field["type"], field["meaning"]
    if kind == "enum":
        schema = {"$ref": "#/components/schemas/%s" % field["enum"]}
    elif kind == "str" and "values" in field:
        schema = {"type": "string", "enum": list(field["values"])}
    elif kind == "str":
        size = limit(model, field["max"])
        schema = {"type": "string", "maxLength": size}
        meaning = "%s (at most %d bytes of UTF-8)" % (meaning, size) if meaning else \
            "at most %d bytes of UTF-8" % size
        if field.get("blank") is False:
            schema.update(minLength=1, pattern=r"\S")
    elif kind == "int":
        schema = {"type": "integer"}
        for key, word in (("min", "minimum"), ("max", "maximum")):
            if key in field:
                schema[word] = limit(model, field[key])
    elif kind == "ms":
        schema = {"type": "integer", "minimum": 0, "description": MS}
    elif kind == "ms_or_date":
        schema = {"oneOf": [{"type": "integer", "minimum": 0, "description": MS},
                            {"type": "string", "pattern": DATE_RE,
                             "description": "a date YYYY-MM-DD (its midnight in the zone)"}]}
    else:
        schema = {"type": "boolean"}
    if "default" in field:
        schema["default"] = limit(model, field["default"]) if kind != "enum" else field["default"]
    return described(schema, meaning or schema.get("description", ""))


def parameter(model, field, where):
    """A path or query parameter from a request field."""
    return {"name": field["name"], "in": where, "required": where == "path" or field["required"],
            "description": plain(field["meaning"] or field["name"]),
            "schema": request_field(model, field)}


def body_schema(model, fields):
    """The JSON object of a POST's body: fields, those required, nothing else."""
    props = {}
    for f in fields:
        schema = request_field(model, f)
        props[f["name"]] = schema if f["required"] else nullable(schema)
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    required = [f["name"] for f in fields if f["required"]]
    if required:
        schema["required"] = required
    return schema


# ---- replies -----------------------------------------------------------------


def reply_item(model, item):
    """The schema of a reply field's type, or of a list's items."""
    kind = item["type"]
    if kind == "enum":
        return {"$ref": "#/components/schemas/%s" % item["enum"]}
    if kind == "str":
        return {"type": "string", "enum": list(item["values"])} if "values" in item \
            else {"type": "string"}
    if kind in ("int", "ms"):
        return {"type": "integer", "description": MS} if kind == "ms" else {"type": "integer"}
    if kind in ("num", "bool"):
        return {"type": "number" if kind == "num" else "boolean"}
    if kind == "list":
        return {"type": "array", "items": reply_item(model, item["items"])}
    if "fields" not in item:
        return {"$ref": "#/components/schemas/%s" % camel(item["shape"])}
    fields = item["fields"]
    if "shape" in item:
        fields = fields + model["shapes"][item["shape"]]["fields"]
    return reply_object(model, fields)


def reply_object(model, fields):
    """A reply's object: every field, those always there required; an optional one may be
    absent or null. Unknown keys may come: a client ignores them (envelope.md, Versioning)."""
    props = {}
    for f in fields:
        schema = reply_item(model, f)
        if f["meaning"]:
            text = f["meaning"] + ("; " + MS if f["type"] == "ms" else "")
            schema = dict(schema, description=text)
        props[f["name"]] = schema if f["required"] else nullable(schema)
    schema = {"type": "object", "properties": props}
    required = [f["name"] for f in fields if f["required"]]
    if required:
        schema["required"] = required
    return schema


# ---- the gateway's own routes -------------------------------------------------


def session_schema(model):
    """What signin and whoami answer."""
    return {"type": "object", "required": ["staff", "name", "role", "department", "lang", "csrf",
                                           "must_change", "expires_at", "idle_ends_at"],
            "properties": {
                "staff": {"type": "string", "description": "the staff id signed in"},
                "name": {"type": "string", "description": "their name"},
                "department": {"type": "string", "description": "their department id"},
                "role": {"$ref": "#/components/schemas/role"},
                "csrf": {"type": "string", "description": "the CSRF token of the session: send "
                         "it as X-CSRF-Token with every request but a GET"},
                "must_change": {"type": "boolean", "description": "true: the password must be "
                                "changed (POST /api/v1/session/password) before anything else"},
                "lang": {"$ref": "#/components/schemas/lang"},
                "tz": {"type": "string", "description": "the time zone the console shows times "
                       "in (the store's kefu.tz, default Asia/Shanghai)"},
                "expires_at": {"type": "integer", "description": "when the session ends at the "
                               "latest; " + MS},
                "idle_ends_at": {"type": "integer", "description": "when the session ends unless "
                                 "it is used before (the idle end, never after expires_at); "
                                 + MS}}}


def labels_schema():
    """GET /api/v1/labels: the console's translation table from the model."""
    label = {"type": "object", "required": ["zh", "en"],
             "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}
    return {"type": "object", "required": ["enums", "errors", "targets"], "properties": {
        "enums": {"type": "object", "description": "each enumeration by name: each value's label",
                  "additionalProperties": {"type": "object", "additionalProperties": label}},
        "errors": {"type": "object", "description": "each error code's label for people",
                   "additionalProperties": label},
        "targets": {"type": "array", "description": "the KPI targets and their baselines, %",
                    "items": {"type": "object", "required": ["kpi", "baseline", "target"],
                              "properties": {"kpi": {"type": "string"},
                                             "baseline": {"type": "integer"},
                                             "target": {"type": "integer"}}}}}}


def status_schema():
    """GET /api/v1/status: every daemon instance, as `kefu status` shows them."""
    num = {"type": "integer"}
    opt_num = {"type": ["integer", "null"]}
    opt_text = {"type": ["string", "null"]}
    daemon = {"type": "object",
              "required": ["name", "instance", "host", "pid", "state", "started_at", "last_seen"],
              "properties": {
                  "name": {"type": "string", "description": "the daemon (intake, ticket-router, ...)"},
                  "instance": {"type": "string"}, "host": {"type": "string"}, "pid": num,
                  "version": opt_text,
                  "state": {"type": "string", "description": "up, or down when its heartbeat "
                            "stopped (judged by the store's clock)"},
                  "started_at": dict(num, description=MS), "last_seen": dict(num, description=MS),
                  "heartbeat_ms": opt_num, "events_in": opt_num, "events_out": opt_num,
                  "errors": opt_num, "backlog": opt_num, "last_error": opt_text,
                  "last_error_at": dict(opt_num, description=MS), "uptime_s": opt_num,
                  "seen_s_ago": opt_num}}
    return {"type": "object", "required": ["now", "daemons"], "properties": {
        "now": dict(num, description=MS),
        "daemons": {"type": "array", "items": daemon,
                    "description": "by name, host and pid; instances gone for long are pruned "
                                   "by kefu-admin status --prune"}}}


# GET /api/v1/events: a text/event-stream, not JSON (handler_operation).
EVENT_STREAM = {"type": "string", "description": "Server-Sent Events: for each event `id: SEQ` "
                "(its place in the outbox; send it back as Last-Event-ID), `event: TYPE` (the "
                "event's type, proto/catalog.md), `data: BODY` (the event's body as one line of "
                "JSON) and a blank line; a comment line `: hb` when the stream is quiet"}


def handler_specs(model):
    """handler: (request body schema or None, 200 schema or None for 204, extra statuses)."""
    staff = limit(model, "staff")
    signin = {"type": "object", "additionalProperties": False, "required": ["staff", "password"],
              "properties": {"staff": {"type": "string", "maxLength": staff, "minLength": 1,
                                       "description": "the staff id (at most %d bytes)" % staff},
                             "password": {"type": "string", "minLength": 1}}}
    password = {"type": "object", "additionalProperties": False, "required": ["old", "new"],
                "properties": {"old": {"type": "string", "description": "the password now"},
                               "new": {"type": "string", "minLength": 1,
                                       "description": "the new password"}}}
    ok = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}
    doc = {"type": "object", "description": "this OpenAPI 3.1 document"}
    session = {"$ref": "#/components/schemas/Session"}
    calls = calls_specs(model)
    lang = {"type": "object", "additionalProperties": False, "required": ["lang"],
            "properties": {"lang": {"$ref": "#/components/schemas/lang"}}}
    return {**calls, "openapi": (None, doc, ()),
            "lang": (lang, ok, (400, 503)),
            "labels": (None, labels_schema(), ()),
            "status": (None, status_schema(), (403, 503)),
            "signin": (signin, session, (400, 401, 429, 503)),
            "whoami": (None, session, (503,)),
            "signout": (None, None, (503,)),
            "password": (password, ok, (400, 503)),
            "events": (None, EVENT_STREAM, (400, 503))}


def call_schema():
    """One call of the caller log (GET /api/v1/calls)."""
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    opt_ms = {"type": ["integer", "null"], "description": MS}
    props = {"call_id": dict(text, description="the phone system's call id"),
             "caller": dict(text, description="the caller's number as the phone system sent it"),
             "caller_norm": dict(opt_text, description="the caller's number normalised; null "
                                 "when it is no phone number (anonymous, internal)"),
             "extension": dict(opt_text, description="the extension it rang or was taken at"),
             "staff": dict(opt_text, description="the staff member of that extension"),
             "owner": {"anyOf": [{"$ref": "#/components/schemas/CallOwner"}, {"type": "null"}]},
             "state": {"$ref": "#/components/schemas/call_state"},
             "ringing_at": {"type": "integer", "description": "when it began to ring; " + MS},
             "answered_at": opt_ms, "ended_at": opt_ms,
             "callback_at": dict(opt_ms, description="when a missed call was returned; " + MS),
             "callback_by": dict(opt_text, description="who returned it")}
    return {"type": "object", "required": sorted(props), "properties": props}


def calls_specs(model):
    """The call routes' handlers: the phone system's event, the caller log, the callback."""
    event_names = ["ringing", "answered", "hangup", "newCall", "answer"]
    event = {"type": "object", "additionalProperties": False, "required": ["event", "call_id"],
             "properties": {
                 "event": {"type": "string", "enum": event_names,
                           "description": "ringing, answered or hangup; newCall and answer are "
                                          "accepted for ringing and answered (the names of "
                                          "Zammad's and Znuny's generic CTI push)"},
                 "call_id": {"type": "string", "minLength": 1, "maxLength": 128,
                             "pattern": "^[!-~]{1,128}$",
                             "description": "the phone system's id of the call, the same for "
                                            "its every event (printable ASCII)"},
                 "caller": {"type": ["string", "null"], "maxLength": 64,
                            "description": "the calling number as the phone system has it "
                                           "(at most 64 bytes); matched to an owner by phone "
                                           "when it is a number"},
                 "extension": {"type": ["string", "null"], "pattern": "^[0-9]{2,16}$",
                               "description": "the extension it rings at (ringing) or that "
                                              "took it (answered): 2 to 16 digits"},
                 "at": {"type": ["integer", "null"], "minimum": 0, "maximum": 32503680000000,
                        "description": "when it happened; " + MS + " (default: now)"}}}
    owner = {"anyOf": [{"$ref": "#/components/schemas/CallOwner"}, {"type": "null"}],
             "description": "the owner whose phone the caller's number is, or null"}
    answer = {"type": "object", "required": ["call_id", "state", "changed", "staff", "owner"],
              "properties": {
                  "call_id": {"type": "string"},
                  "state": {"$ref": "#/components/schemas/call_state"},
                  "changed": {"type": "boolean", "description": "false: the event changed "
                              "nothing (a repeat, or an answer after the hangup)"},
                  "staff": {"type": ["string", "null"], "description": "the staff member of "
                            "the extension (on answered: the screen-pop goes to them)"},
                  "owner": owner}}
    listing = {"type": "object", "required": ["calls"], "properties": {
        "calls": {"type": "array", "items": {"$ref": "#/components/schemas/Call"}},
        "next": {"type": "string", "description": "more calls: ask again with cursor = next"}}}
    done = {"type": "object", "required": ["call_id", "callback_by"], "properties": {
        "call_id": {"type": "string"},
        "callback_by": {"type": "string", "description": "you: the staff member who called "
                        "back"}}}
    query = [{"name": "state", "in": "query", "required": False,
              "description": "only calls in this state; missed: those still needing a callback",
              "schema": {"$ref": "#/components/schemas/call_state"}},
             {"name": "mine", "in": "query", "required": False,
              "description": "true: only the calls of your extension",
              "schema": {"type": "boolean", "default": False}},
             {"name": "limit", "in": "query", "required": False,
              "description": "calls on a page",
              "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
             {"name": "cursor", "in": "query", "required": False,
              "description": "next of the page before", "schema": {"type": "string",
                                                                   "maxLength": 64}}]
    path = [{"name": "call_id", "in": "path", "required": True,
             "description": "the phone system's call id", "schema": {"type": "string"}}]
    return {"call_event": (event, answer, (400, 401, 403, 503)),
            "calls_list": (None, listing, (400, 503), query),
            "call_callback": (None, done, (404, 409, 503), path)}


# ---- operations -----------------------------------------------------------------


def security(route):
    """Who may call: nobody needs to sign in (auth none); the session cookie, with the CSRF
    header on every method but GET (session); an integration token as a bearer header
    (token:SCOPE); or either (session|token:SCOPE)."""
    out = []
    for part in route["auth"].split("|"):
        if part == "session":
            out.append(SESSION if route["method"] == "GET" else dict(SESSION, **CSRF))
        elif part.startswith("token:"):
            out.append(BEARER)
    return out


def responses(route, ok_schema, statuses, ok_text="the answer"):
    """200 (or 204 without a schema), the error statuses the route can answer (with a session:
    401, and 403 both for the CSRF token and for what the role may not do), and a default error
    for anything else (500 internal, a body too large, ...)."""
    if ok_schema is None:
        out = {"204": {"description": "done; no body"}}
    else:
        out = {"200": {"description": ok_text,
                       "content": {"application/json": {"schema": ok_schema}}}}
    statuses = set(statuses)
    if route["auth"] != "none":
        statuses.update((401, 403))
    for status in sorted(statuses):
        out[str(status)] = {"description": STATUS_TEXT[status],
                            "content": {"application/json": {"schema": ERROR}}}
    out["default"] = {"description": "another error (500 internal, ...)",
                      "content": {"application/json": {"schema": ERROR}}}
    return out


def json_body(schema):
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def message_operation(model, route, msg):
    """The operation of a route that sends the request msg over the wire."""
    path_names = re.findall(r"\{([a-z_]+)\}", route["path"])
    fields = {f["name"]: f for f in msg["fields"]}
    params = [parameter(model, fields[n], "path") for n in path_names]
    rest = [f for f in msg["fields"] if f["name"] not in path_names]
    op = {"operationId": lower_camel(msg["type"]), "summary": route["summary"],
          "tags": [route["tag"]],
          "description": "Sends the wire request `%s` (proto/catalog.md): %s. Answers %s."
                         % (msg["type"], msg["meaning"], msg["reply"]["meaning"])}
    if route["method"] == "POST":
        if "idem" in fields:
            idem = fields["idem"]
            rest = [f for f in rest if f["name"] != "idem"]
            params.append({"name": "Idempotency-Key", "in": "header", "required": idem["required"],
                           "description": IDEM_TEXT, "schema": request_field(model, idem)})
        op["requestBody"] = json_body(body_schema(model, rest))
    else:
        params += [parameter(model, f, "query") for f in rest]
    if params:
        op["parameters"] = params
    op["security"] = security(route)
    ok = {"$ref": "#/components/schemas/%sReply" % camel(msg["type"])}
    errors = ERRORS_READ if route["method"] == "GET" else ERRORS_WRITE
    op["responses"] = responses(route, ok, errors, msg["reply"]["meaning"])
    return op


def handler_operation(model, route):
    """The operation of one of the gateway's own routes."""
    spec = handler_specs(model)[route["handler"]]
    body, ok, statuses = spec[:3]
    op = {"operationId": lower_camel(route["handler"]), "summary": route["summary"],
          "tags": [route["tag"]]}
    if route["handler"] in HANDLER_TEXT:
        op["description"] = HANDLER_TEXT[route["handler"]]
    if len(spec) > 3:
        op["parameters"] = spec[3]
    if body is not None:
        op["requestBody"] = json_body(body)
    op["security"] = security(route)
    op["responses"] = responses(route, ok, statuses)
    if route["handler"] == "events":
        op["parameters"] = [
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "description": "the id of the last event received: the events after it come first",
             "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}},
            {"name": "last_event_id", "in": "query", "required": False,
             "description": "Last-Event-ID for clients that cannot set headers",
             "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}]
        op["responses"]["200"]["content"] = {"text/event-stream": {"schema": EVENT_STREAM}}
    if route["handler"] == "labels":
        op["parameters"] = [{"name": "If-None-Match", "in": "header", "required": False,
                             "description": "the ETag of the copy held: 304 while it is current",
                             "schema": {"type": "string"}}]
        op["responses"]["200"]["headers"] = {"ETag": {
            "description": "the labels' version: send it back in If-None-Match",
            "schema": {"type": "string"}}}
        op["responses"]["304"] = {"description": "not modified: the copy held is current; no body"}
    if route["handler"] == "signin":
        op["responses"]["200"]["headers"] = {"Set-Cookie": {
            "description": "kefu_session=TOKEN; HttpOnly; SameSite=Strict; Path=/ (and Secure "
                           "under TLS): the session", "schema": {"type": "string"}}}
    return op


# ---- the document ----------------------------------------------------------------


def components(model):
    """The shared schemas (enumerations, Error, Session, the replies, the report's shapes)
    and the two security schemes."""
    schemas = {}
    for name, enum in model["enums"].items():
        if enum["scope"] == "wire":
            schemas[name] = enum_schema(name, enum)
    codes = [e["code"] for e in model["errors"] if e["code"] != "ok"]
    schemas["Error"] = {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": codes, "description": "the stable error code "
                 "(proto/errors.md); the HTTP status follows from it"},
        "message": {"type": "string", "description": "why, for people"},
        "field": {"type": ["string", "null"], "description": "the field at fault, when one is"}}}
    schemas["Session"] = session_schema(model)
    schemas["Call"] = call_schema()
    schemas["CallOwner"] = {"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "integer", "description": "the owner's id"},
        "name": {"type": "string", "description": "the owner's name"}}}
    for name, shape in model.get("shapes", {}).items():
        schemas[camel(name)] = described(reply_object(model, shape["fields"]), shape["meaning"])
    for msg in model["messages"]:
        if msg["kind"] == "request":
            reply = msg["reply"]
            schemas[camel(msg["type"]) + "Reply"] = described(reply_object(model, reply["fields"]),
                                                              reply["meaning"])
    return {"schemas": schemas, "securitySchemes": {
        "session": {"type": "apiKey", "in": "cookie", "name": "kefu_session",
                    "description": "the session cookie that POST /api/v1/session sets"},
        "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                 "description": "the session's CSRF token (csrf of the sign-in's answer), needed "
                                "with the cookie by every method but GET"},
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "kit_ and 43 base64url "
                   "characters", "description": "an integration token (kefu-admin token create "
                   "NAME --scope calls|submit) as `Authorization: Bearer kit_...`, for machines: "
                   "no cookie and no CSRF token. Taken only by the routes whose security names "
                   "it, and only with the route's scope: scope calls for POST /api/v1/calls, "
                   "scope submit for POST /api/v1/tickets (the ticket is then its acts_as staff "
                   "member's). Any other route answers a token 401. Every use is logged."}}}


def document(model):
    """The OpenAPI 3.1.0 document of the model's http section, as a dict."""
    requests = {m["type"]: m for m in model["messages"] if m["kind"] == "request"}
    paths, tags = {}, []
    for route in model["http"]["routes"]:
        if "message" in route:
            op = message_operation(model, route, requests[route["message"]])
        else:
            op = handler_operation(model, route)
        paths.setdefault(route["path"], {})[route["method"].lower()] = op
        if route["tag"] not in tags:
            tags.append(route["tag"])
    about = " ".join([model["http"]["about"], ABOUT % MS])
    return {"openapi": "3.1.0",
            "info": {"title": "kefu", "version": str(model["version"]), "description": about},
            "servers": [{"url": "/"}],
            "tags": [{"name": t} for t in tags],
            "paths": paths,
            "components": components(model)}


def text(model):
    """The document as JSON text (UTF-8, one key a line, ends with a newline)."""
    return json.dumps(document(model), indent=1, ensure_ascii=False) + "\n"


def labels(model):
    """GET /api/v1/labels: every enumeration value's and error code's label in Chinese and
    English, and the KPI targets, as labels_schema() describes them."""
    enums = {name: {v["name"]: {"zh": v["zh"], "en": v["en"]} for v in enum["values"]}
             for name, enum in model["enums"].items()}
    errors = {e["code"]: {"zh": e["zh"], "en": e["en"]} for e in model["errors"]}
    targets = [{"kpi": t["kpi"], "baseline": t["baseline"], "target": t["target"]}
               for t in model.get("targets", {"kpis": []})["kpis"]]
    return {"enums": enums, "errors": errors, "targets": targets}


def labels_text(model):
    """The labels as compact JSON text (UTF-8)."""
    return json.dumps(labels(model), ensure_ascii=False, separators=(",", ":"))


def c_string(name, text, width=0):
    """A C definition of the string constant name holding text, one line of source for each
    line of text (with width, a longer line in pieces of width characters that do not end
    with \\n), and name_len, its length in bytes."""
    chunks = []
    for line in text.split("\n"):
        while width and len(line) > width:
            chunks.append(line[:width])
            line = line[width:]
        chunks.append(line + "\n")
    chunks[-1] = chunks[-1][:-1]  # the text's last line has no newline after it
    if not chunks[-1]:
        chunks.pop()
    lines = ['    "%s"' % c.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
             for c in chunks]
    return (["const char %s[] =" % name] + lines +
            ["    ;", "", "const size_t %s_len = sizeof %s - 1;" % (name, name), ""])


def c_files(doc_text, mark, labels_json="{}"):
    """kf_openapi.h and kf_openapi.c: the document as one C string, kf_openapi_json; the
    labels (labels_text) as kf_labels_json, and kf_labels_etag, an ETag of them."""
    etag = '"%s"' % hashlib.sha256(labels_json.encode("utf-8")).hexdigest()[:32]
    header = "\n".join([
        "/* kefu — the OpenAPI document of the HTTP API: %s. */" % mark,
        "#ifndef KF_OPENAPI_H", "#define KF_OPENAPI_H", "",
        "#include <stddef.h>", "",
        "/* The OpenAPI 3.1 document of kefu-gateway's API (GET /api/v1/openapi.json),",
        "   UTF-8 JSON, NUL-terminated; kf_openapi_json_len is its length in bytes. */",
        "extern const char kf_openapi_json[];", "extern const size_t kf_openapi_json_len;", "",
        "/* The console's translation table (GET /api/v1/labels): every enumeration value's",
        "   and error code's label in Chinese and English, and the KPI targets; UTF-8 JSON.",
        "   kf_labels_etag is its ETag (quoted): it changes only with the model. */",
        "extern const char kf_labels_json[];", "extern const size_t kf_labels_json_len;",
        "extern const char kf_labels_etag[];", "",
        "#endif", ""])
    source = "\n".join(["/* kefu — the OpenAPI document of the HTTP API: %s. */" % mark,
                        '#include "kf_openapi.h"', ""]
                       + c_string("kf_openapi_json", doc_text)
                       + c_string("kf_labels_json", labels_json, 500)
                       + ['const char kf_labels_etag[] = "%s";' % etag.replace('"', '\\"'), ""])
    return header, source
