"""kefu — the OpenAPI 3.1 document of kefu-gateway's API, written from proto/model.json.

gen_model.py --openapi FILE calls document(model) on a model it has validated. Every route of
the model's "http" section becomes an operation: a route with a message takes that request's
fields (path parameters, then the query string for GET and DELETE or a JSON body for POST) and
answers its "reply"; a route with a handler is the gateway's own, described by HANDLERS below.
Standard library only.
"""
import json
import re

IDEM_TEXT = ("the request's idempotency key (`idem` of the wire request), yours alone: the same "
             "key with the same body again is a retry, answered as the first time with "
             "`duplicate: true` and nothing written; the same key with another body is 409 "
             "conflict. Send one with every POST and reuse it when retrying after a 503 or a lost "
             "answer.")
SESSION = {"session": []}
CSRF = {"csrf": []}
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
               401: "no session, or it expired or was revoked (unknown_actor)",
               403: "not allowed (forbidden), or (not on a GET) the X-CSRF-Token header is "
                    "missing or wrong",
               404: "what the request names does not exist (not_found)",
               409: "the request conflicts with the state (conflict), e.g. an idempotency key "
                    "used before with other content",
               429: "too many failed sign-ins: try again later",
               503: "a daemon or the store is unavailable for now: retry (with the same "
                    "Idempotency-Key)"}


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
    return {"type": "object", "required": ["staff", "name", "role", "lang", "csrf", "must_change",
                                           "expires_at", "idle_ends_at"],
            "properties": {
                "staff": {"type": "string", "description": "the staff id signed in"},
                "name": {"type": "string", "description": "their name"},
                "role": {"$ref": "#/components/schemas/role"},
                "csrf": {"type": "string", "description": "the CSRF token of the session: send "
                         "it as X-CSRF-Token with every request but a GET"},
                "must_change": {"type": "boolean", "description": "true: the password must be "
                                "changed (POST /api/v1/session/password) before anything else"},
                "lang": {"$ref": "#/components/schemas/lang"},
                "expires_at": {"type": "integer", "description": "when the session ends at the "
                               "latest; " + MS},
                "idle_ends_at": {"type": "integer", "description": "when the session ends unless "
                                 "it is used before (the idle end, never after expires_at); "
                                 + MS}}}


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
    return {"openapi": (None, doc, ()),
            "signin": (signin, session, (400, 401, 429, 503)),
            "whoami": (None, session, (503,)),
            "signout": (None, None, (503,)),
            "password": (password, ok, (400, 503)),
            "events": (None, EVENT_STREAM, (400, 503))}


# ---- operations -----------------------------------------------------------------


def security(route):
    """Who may call: nobody needs to sign in (auth none), or the session cookie, with the
    CSRF header on every method but GET."""
    if route["auth"] == "none":
        return []
    return [SESSION] if route["method"] == "GET" else [dict(SESSION, **CSRF)]


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
    if route["auth"] == "session":
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
    body, ok, statuses = handler_specs(model)[route["handler"]]
    op = {"operationId": route["handler"], "summary": route["summary"], "tags": [route["tag"]]}
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
                                "with the cookie by every method but GET"}}}


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


def c_files(doc_text, mark):
    """kf_openapi.h and kf_openapi.c: the document as one C string, kf_openapi_json."""
    header = "\n".join([
        "/* kefu — the OpenAPI document of the HTTP API: %s. */" % mark,
        "#ifndef KF_OPENAPI_H", "#define KF_OPENAPI_H", "",
        "#include <stddef.h>", "",
        "/* The OpenAPI 3.1 document of kefu-gateway's API (GET /api/v1/openapi.json),",
        "   UTF-8 JSON, NUL-terminated; kf_openapi_json_len is its length in bytes. */",
        "extern const char kf_openapi_json[];", "extern const size_t kf_openapi_json_len;", "",
        "#endif", ""])
    lines = ['    "%s\\n"' % line.replace("\\", "\\\\").replace('"', '\\"')
             for line in doc_text.rstrip("\n").split("\n")]
    source = "\n".join(["/* kefu — the OpenAPI document of the HTTP API: %s. */" % mark,
                        '#include "kf_openapi.h"', "", "const char kf_openapi_json[] ="]
                       + lines + ["    ;", "",
                                  "const size_t kf_openapi_json_len = sizeof kf_openapi_json - 1;",
                                  ""])
    return header, source
