#!/usr/bin/env python3
"""kefu — writes what is generated from proto/model.json (standard library only).

  gen_model.py --c DIR        writes DIR/kf_model.h and DIR/kf_model.c (the build does this)
  gen_model.py --openapi FILE writes the OpenAPI 3.1 document of the "http" routes to FILE
  gen_model.py --openapi-c DIR  writes it as C too: DIR/kf_openapi.h and DIR/kf_openapi.c
  gen_model.py --write-docs   rewrites the generated blocks of proto/catalog.md and errors.md
  gen_model.py --check-docs   exits 1 when a generated block differs from the model
  gen_model.py --check        only validates the model

Every run first checks the model's shape and exits 2 with the fault when it is malformed.
--model PATH reads another model file (tests); --docs DIR another proto/ directory.
"""
import argparse
import json
import os
import re
import sys

import gen_openapi

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = "generated from proto/model.json by proto/gen_model.py — do not edit"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
VALUE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
FIELD_TYPES = ("str", "int", "ms", "ms_or_date", "bool", "enum")


class ModelError(Exception):
    """The model file is malformed: the message says where and how."""


def need(cond, where, what):
    """Raises ModelError(where: what) unless cond holds."""
    if not cond:
        raise ModelError("%s: %s" % (where, what))


def need_keys(obj, where, required, optional=()):
    """Checks obj is an object holding every required key and no unknown one."""
    need(isinstance(obj, dict), where, "must be an object")
    for key in required:
        need(key in obj, where, "lacks %r" % key)
    for key in obj:
        need(key in required or key in optional, where, "unknown key %r" % key)


def check_limits(limits):
    """Each limit: {value int >= 0, meaning str}."""
    need(isinstance(limits, dict) and limits, "limits", "must be a non-empty object")
    for name, lim in limits.items():
        where = "limits.%s" % name
        need(NAME_RE.match(name), where, "a name is lower-case ascii, digits and _")
        need_keys(lim, where, ("value", "meaning"))
        need(type(lim["value"]) is int and lim["value"] >= 0, where, "value is an int >= 0")


def check_enums(enums):
    """Each enumeration: meaning, scope, values {name, zh, en[, note, reserved]}, sql."""
    need(isinstance(enums, dict) and enums, "enums", "must be a non-empty object")
    c_names = set()
    for name, enum in enums.items():
        where = "enums.%s" % name
        need(NAME_RE.match(name), where, "a name is lower-case ascii, digits and _")
        need_keys(enum, where, ("meaning", "scope", "values"), ("c_names", "sql"))
        need(enum["scope"] in ("wire", "store"), where, "scope is wire or store")
        c_name = enum.get("c_names", "kf_%s_names" % name)
        need(re.match(r"^kf_[a-z0-9_]+$", c_name), where, "c_names is kf_...")
        need(c_name not in c_names, where, "c_names %s used twice" % c_name)
        c_names.add(c_name)
        values = enum["values"]
        need(isinstance(values, list) and values, where, "values is a non-empty list")
        seen = set()
        for i, value in enumerate(values):
            vwhere = "%s.values[%d]" % (where, i)
            need_keys(value, vwhere, ("name", "zh", "en"), ("note", "reserved"))
            need(isinstance(value["name"], str) and VALUE_RE.match(value["name"]), vwhere,
                 "name is lower-case ascii")
            need(value["name"] not in seen, vwhere, "%s listed twice" % value["name"])
            seen.add(value["name"])
            for lang in ("zh", "en"):
                need(isinstance(value[lang], str) and value[lang].strip(), vwhere,
                     "%s is a label, not blank" % lang)
        for j, col in enumerate(enum.get("sql", [])):
            need_keys(col, "%s.sql[%d]" % (where, j), ("table", "column"))


def check_field(field, where, limits, enums, request):
    """One field of a message (of a request when request)."""
    need_keys(field, where, ("name", "type", "required", "meaning"),
              ("max", "min", "default", "enum", "blank", "values"))
    need(field["type"] in FIELD_TYPES, where, "type is one of %s" % ", ".join(FIELD_TYPES))
    need(isinstance(field["required"], bool), where, "required is true or false")
    for key in ("min", "max", "default"):
        if key in field and isinstance(field[key], str) and field["type"] != "enum":
            need(field[key] in limits, where, "%s names no limit: %s" % (key, field[key]))
        elif key in field and field["type"] in ("int", "str"):
            need(type(field[key]) is int, where, "%s is an int or a limit's name" % key)
    if field["type"] == "str" and request:
        need("max" in field or "values" in field, where, "a str of a request has a max or values")
    if field["type"] == "enum":
        need(field.get("enum") in enums, where, "enum names no enumeration")
        if "default" in field:
            names = [v["name"] for v in enums[field["enum"]]["values"]]
            need(field["default"] in names, where, "default is not a value of its enum")


REPLY_TYPES = ("str", "int", "ms", "num", "bool", "enum", "map", "list")


def check_reply_item(item, where, model, shapes):
    """The type of a reply field or of a list's items: a map has fields and/or a
    shape (one of shapes), a list its items, an enum its enumeration."""
    kind = item["type"]
    need(kind in REPLY_TYPES, where, "type is one of %s" % ", ".join(REPLY_TYPES))
    need(kind == "enum" or "enum" not in item, where, "enum only with type enum")
    need(kind == "str" or "values" not in item, where, "values only with type str")
    need(kind == "map" or ("fields" not in item and "shape" not in item), where,
         "fields and shape only with type map")
    need(kind == "list" or "items" not in item, where, "items only with type list")
    if kind == "enum":
        need(item.get("enum") in model["enums"], where, "enum names no enumeration")
    if "values" in item:
        need(isinstance(item["values"], list) and item["values"] and
             all(isinstance(v, str) and VALUE_RE.match(v) for v in item["values"]), where,
             "values is a list of lower-case names")
    if kind == "map":
        need("fields" in item or "shape" in item, where, "a map has fields or a shape")
        if "shape" in item:
            need(item["shape"] in shapes, where, "shape names no shape before it: %s" % item["shape"])
        if "fields" in item:
            check_reply_fields(item["fields"], where, model, shapes)
    if kind == "list":
        items = item.get("items")
        need_keys(items, where + ".items", ("type",), ("enum", "values", "fields", "shape", "items"))
        check_reply_item(items, where + ".items", model, shapes)


def check_reply_fields(fields, where, model, shapes):
    """The fields of a reply, a shape or a map: each {name, type, required,
    meaning} and what its type needs; no name twice."""
    need(isinstance(fields, list), where, "fields is a list")
    names = set()
    for j, field in enumerate(fields):
        fwhere = "%s.fields[%d]" % (where, j)
        need_keys(field, fwhere, ("name", "type", "required", "meaning"),
                  ("enum", "values", "fields", "shape", "items"))
        need(isinstance(field["name"], str) and NAME_RE.match(field["name"]), fwhere,
             "name is lower-case ascii, digits and _")
        fwhere = "%s(%s)" % (fwhere, field["name"])
        need(field["name"] not in names, fwhere, "field listed twice")
        names.add(field["name"])
        need(isinstance(field["required"], bool), fwhere, "required is true or false")
        need(isinstance(field["meaning"], str), fwhere, "meaning is a string")
        check_reply_item(field, fwhere, model, shapes)


def check_shapes(model):
    """Named reply objects: {meaning, fields}; a shape uses only shapes before it."""
    shapes = model.get("shapes", {})
    need(isinstance(shapes, dict), "shapes", "must be an object")
    before = set()
    for name, shape in shapes.items():
        where = "shapes.%s" % name
        need(NAME_RE.match(name), where, "a name is lower-case ascii, digits and _")
        need_keys(shape, where, ("meaning", "fields"))
        check_reply_fields(shape["fields"], where, model, before)
        before.add(name)


def check_reply(msg, where, model):
    """A request's reply: the reply.ok body, {meaning, fields}."""
    need(("reply" in msg) == (msg["kind"] == "request"), where,
         "a request has a reply, a reply has none")
    if "reply" in msg:
        where = "%s(%s).reply" % (where, msg["type"])
        need_keys(msg["reply"], where, ("meaning", "fields"))
        check_reply_fields(msg["reply"]["fields"], where, model, set(model.get("shapes", {})))


def check_messages(model):
    """Requests and replies with their fields; events; no type twice."""
    types = set()
    for i, msg in enumerate(model["messages"]):
        where = "messages[%d]" % i
        need_keys(msg, where, ("type", "kind", "service", "meaning", "fields"), ("reply",))
        need(msg["kind"] in ("request", "reply"), where, "kind is request or reply")
        check_reply(msg, where, model)
        need(msg["type"] not in types, where, "type %s listed twice" % msg["type"])
        types.add(msg["type"])
        names = set()
        for j, field in enumerate(msg["fields"]):
            fwhere = "%s(%s).fields[%d]" % (where, msg["type"], j)
            check_field(field, fwhere, model["limits"], model["enums"], msg["kind"] == "request")
            need(field["name"] not in names, fwhere, "field listed twice")
            names.add(field["name"])
    for i, event in enumerate(model["events"]):
        where = "events[%d]" % i
        need_keys(event, where, ("type", "status", "body"), ("section",))
        need(event["status"] in ("produced", "reserved"), where, "status is produced or reserved")
        need(event["type"] not in types, where, "type %s listed twice" % event["type"])
        types.add(event["type"])


HTTP_METHODS = ("GET", "POST", "DELETE")
HTTP_AUTH = ("none", "session")  # and token:SCOPE (integration_scope), or session|token:SCOPE


def http_auth_ok(model, auth):
    """A route's auth: none, session, token:SCOPE of an integration scope, or session|token:SCOPE
    (either credential). The gateway forwards a token only on a route naming its scope."""
    scopes = [v["name"] for v in model["enums"].get("integration_scope", {}).get("values", [])]
    tokens = ["token:" + scope for scope in scopes]
    return auth in HTTP_AUTH or auth in tokens or auth in ["session|" + t for t in tokens]


PATH_RE = re.compile(r"^/api/v1(/[a-z0-9._-]+|/\{[a-z_]+\})+$")


def check_http(model):
    """The HTTP routes: each sends one request message or names a gateway handler."""
    http = model["http"]
    need_keys(http, "http", ("about", "routes"))
    requests = {m["type"]: m for m in model["messages"] if m["kind"] == "request"}
    seen = set()
    for i, route in enumerate(http["routes"]):
        where = "http.routes[%d]" % i
        need_keys(route, where, ("method", "path", "auth", "tag", "summary"), ("message", "handler"))
        need(route["method"] in HTTP_METHODS, where, "method is one of %s" % ", ".join(HTTP_METHODS))
        need(PATH_RE.match(route["path"]), where, "path is /api/v1/... with {field} parameters")
        need(http_auth_ok(model, route["auth"]), where,
             "auth is none, session, token:SCOPE or session|token:SCOPE (integration_scope)")
        need(("message" in route) != ("handler" in route), where, "a message or a handler, not both")
        key = (route["method"], route["path"])
        need(key not in seen, where, "%s %s listed twice" % key)
        seen.add(key)
        if "handler" in route:
            need(NAME_RE.match(route["handler"]), where, "handler is a lower-case name")
            continue
        need(route["message"] in requests, where, "message names no request")
        names = [f["name"] for f in requests[route["message"]]["fields"]]
        for param in re.findall(r"\{([a-z_]+)\}", route["path"]):
            need(param in names, where, "{%s} is no field of %s" % (param, route["message"]))


def check_errors(errors):
    """Error codes: ok first, each with an HTTP status."""
    need(isinstance(errors, list) and errors and errors[0].get("code") == "ok", "errors",
         "a list starting with ok")
    seen = set()
    for i, err in enumerate(errors):
        where = "errors[%d]" % i
        need_keys(err, where, ("code", "http", "meaning", "when", "retry", "zh", "en"))
        need(NAME_RE.match(err["code"]) and err["code"] not in seen, where, "code unique, lower-case")
        for lang in ("zh", "en"):
            need(isinstance(err[lang], str) and err[lang].strip(), where,
                 "%s is a label, not blank" % lang)
        seen.add(err["code"])
        need(type(err["http"]) is int and 100 <= err["http"] <= 599, where, "http is a status")


def check_targets(targets):
    """The KPI targets: each a rate of the report's figures, baseline below target, in %."""
    need_keys(targets, "targets", ("meaning", "kpis"))
    for i, t in enumerate(targets["kpis"]):
        where = "targets.kpis[%d]" % i
        need_keys(t, where, ("kpi", "baseline", "target"))
        need(t["kpi"] in ("satisfaction", "resolved_in_month", "first_response_24h"), where,
             "kpi is a rate of the report's figures")
        need(all(type(t[k]) is int and 0 <= t[k] <= 100 for k in ("baseline", "target")) and
             t["baseline"] < t["target"], where, "0 <= baseline < target <= 100")


def validate(model):
    """Checks the whole model's shape; raises ModelError."""
    need_keys(model, "model",
              ("about", "version", "limits", "enums", "messages", "http", "events", "errors"),
              ("shapes", "targets"))
    need(model["version"] == 1, "model", "version is 1")
    check_targets(model.get("targets", {"kpis": []}))
    check_limits(model["limits"])
    check_enums(model["enums"])
    check_shapes(model)
    check_messages(model)
    check_http(model)
    check_errors(model["errors"])


def load(path):
    """Reads and validates the model at path."""
    try:
        with open(path, encoding="utf-8") as f:
            model = json.load(f)
    except (OSError, ValueError) as e:
        raise ModelError("%s: %s" % (path, e))
    validate(model)
    return model


# ---- C ---------------------------------------------------------------------


def c_str(text):
    """text as a C string literal (UTF-8 kept as it is)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def upper(name):
    """A model name as a C macro part: doors-windows -> DOORS_WINDOWS."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def c_names_of(name, enum):
    """The C name of an enumeration's NULL-terminated list of values."""
    return enum.get("c_names", "kf_%s_names" % name)


def c_header(model):
    """The text of kf_model.h."""
    out = ["/* kefu — the wire model: %s. */" % MARK, "#ifndef KF_MODEL_H", "#define KF_MODEL_H",
           "", "#include <stdbool.h>", "", "/* Limits (proto/model.json \"limits\"). */"]
    for name, lim in model["limits"].items():
        out.append("#define KF_LIM_%s %d /* %s */" % (upper(name), lim["value"], lim["meaning"]))
    out += ["", "/* The KPI targets and their baselines, in percent (proto/model.json \"targets\")."
            " */"]
    for t in model.get("targets", {"kpis": []})["kpis"]:
        out.append("#define KF_TARGET_%s %d" % (upper(t["kpi"]), t["target"]))
        out.append("#define KF_BASELINE_%s %d" % (upper(t["kpi"]), t["baseline"]))
    out += ["", "/* Buffer sizes of the enumerations: the longest value and its NUL. */"]
    for name, enum in model["enums"].items():
        size = max(len(v["name"]) for v in enum["values"]) + 1
        out.append("#define KF_SIZE_%s %d" % (upper(name), size))
    out += ["", "/* The enumerations. */", "typedef enum {"]
    out += ["    KF_ENUM_%s, /* %s */" % (upper(n), e["meaning"]) for n, e in model["enums"].items()]
    out += ["    KF_ENUM_COUNT", "} kf_enum_t;", "",
            "/* Each enumeration's values, NULL-terminated. The index of a value is",
            "   stable only within one build: store names, not indexes. */"]
    for name, enum in model["enums"].items():
        out.append("extern const char *const %s[];" % c_names_of(name, enum))
    out += ["", "/* The error codes of the wire (proto/errors.md). Never renumbered or",
            "   renamed, only appended. */", "typedef enum {"]
    for err in model["errors"]:
        cname = "KF_OK" if err["code"] == "ok" else "KF_E_" + upper(err["code"])
        out.append("    %s, /* %s */" % (cname, err["meaning"].replace("*/", "* /")))
    out += ["    KF_E_COUNT", "} kf_err_t;", "",
            "/* An error code's wire name, HTTP status and meaning, indexed by kf_err_t. */",
            "typedef struct {", "    const char *code;", "    int http;", "    const char *meaning;",
            "} kf_model_error_t;", "extern const kf_model_error_t kf_model_errors[KF_E_COUNT];", "",
            "/* Request and reply types, and the events produced, NULL-terminated. */",
            "extern const char *const kf_model_messages[];", "extern const char *const kf_model_events[];",
            "", "/* A field of a request, for a client that fills requests from text (the",
            "   gateway): type is str, int, ms, ms_or_date, bool or enum; max is the",
            "   byte limit of a str; min/max bound an int (when has_min/has_max). */",
            "typedef struct {", "    const char *message, *name, *type, *enumeration;",
            "    bool required, has_min, has_max;", "    long long min, max;", "} kf_model_field_t;",
            "/* Every request's fields, in model order; ends with message NULL. */",
            "extern const kf_model_field_t kf_model_fields[];", "",
            "/* An HTTP route of kefu-gateway (proto/model.json \"http\"): the request it",
            "   sends, or the name of the gateway's own handler; auth none, session,",
            "   token:SCOPE or session|token:SCOPE (an integration token). */",
            "typedef struct {", "    const char *method, *path, *message, *handler, *auth;",
            "} kf_model_route_t;", "/* Every route; ends with method NULL. */",
            "extern const kf_model_route_t kf_model_routes[];",
            "", "/* The daemon that serves request message (\"intake\", \"approval\",",
            "   \"survey\"), or NULL when message is no request. */",
            "const char *kf_model_service(const char *message);",
            "", "/* The label of value in enumeration which, in lang (\"zh\" or \"en\"; anything",
            "   else is zh), or NULL when value is not one of it. */",
            "const char *kf_model_label(kf_enum_t which, const char *value, const char *lang);", "",
            "/* True when value is a value of enumeration which. */",
            "bool kf_model_in(kf_enum_t which, const char *value);", "",
            "/* The values of enumeration which (NULL-terminated), or NULL. */",
            "const char *const *kf_model_names(kf_enum_t which);", "",
            "/* The enumeration called name in the model (\"kind\"), or KF_ENUM_COUNT. */",
            "kf_enum_t kf_model_enum(const char *name);", "", "#endif", ""]
    return "\n".join(out)


def c_source(model):
    """The text of kf_model.c."""
    out = ["/* kefu — the wire model: %s. */" % MARK, '#include "kf_model.h"', "",
           "#include <string.h>", "", "typedef struct {", "    const char *name, *zh, *en;",
           "} s_label_t;", ""]
    for name, enum in model["enums"].items():
        values = ", ".join(c_str(v["name"]) for v in enum["values"])
        out.append("const char *const %s[] = {%s, NULL};" % (c_names_of(name, enum), values))
        out.append("static const s_label_t s_%s[] = {" % name)
        for v in enum["values"]:
            out.append("    {%s, %s, %s}," % (c_str(v["name"]), c_str(v["zh"]), c_str(v["en"])))
        out += ["    {NULL, NULL, NULL}};", ""]
    out.append("static const struct {\n    const char *name;\n    const s_label_t *labels;\n"
               "    const char *const *names;\n} s_enums[KF_ENUM_COUNT] = {")
    for name, enum in model["enums"].items():
        out.append("    {%s, s_%s, %s}," % (c_str(name), name, c_names_of(name, enum)))
    out += ["};", "", "const kf_model_error_t kf_model_errors[KF_E_COUNT] = {"]
    for err in model["errors"]:
        out.append("    {%s, %d, %s}," % (c_str(err["code"]), err["http"], c_str(err["meaning"])))
    out += ["};", "", "const char *const kf_model_messages[] = {"]
    out += ["    %s," % c_str(m["type"]) for m in model["messages"]]
    out += ["    NULL};", "", "const char *const kf_model_events[] = {"]
    out += ["    %s," % c_str(e["type"]) for e in model["events"] if e["status"] == "produced"]
    out += ["    NULL};", ""]
    out += c_fields(model) + c_routes(model) + c_services(model) + [C_LOOKUPS]
    return "\n".join(out)


def c_bound(field, key, limits):
    """A field's min or max as (present, value): a limit's name stands for its value."""
    if key not in field or field["type"] == "enum":
        return False, 0
    value = field[key]
    return True, limits[value]["value"] if isinstance(value, str) else value


def c_fields(model):
    """kf_model_fields: every request's fields."""
    out = ["const kf_model_field_t kf_model_fields[] = {"]
    for msg in model["messages"]:
        if msg["kind"] != "request":
            continue
        for f in msg["fields"]:
            has_min, lo = c_bound(f, "min", model["limits"])
            has_max, hi = c_bound(f, "max", model["limits"])
            enum = c_str(f["enum"]) if f["type"] == "enum" else "NULL"
            out.append("    {%s, %s, %s, %s, %s, %s, %s, %dLL, %dLL}," % (
                c_str(msg["type"]), c_str(f["name"]), c_str(f["type"]), enum,
                "true" if f["required"] else "false", "true" if has_min else "false",
                "true" if has_max else "false", lo, hi))
    out += ["    {NULL, NULL, NULL, NULL, false, false, false, 0, 0}};", ""]
    return out


def c_routes(model):
    """kf_model_routes: the gateway's HTTP routes."""
    out = ["const kf_model_route_t kf_model_routes[] = {"]
    for r in model["http"]["routes"]:
        message = c_str(r["message"]) if "message" in r else "NULL"
        handler = c_str(r["handler"]) if "handler" in r else "NULL"
        out.append("    {%s, %s, %s, %s, %s}," % (c_str(r["method"]), c_str(r["path"]), message,
                                                 handler, c_str(r["auth"])))
    out += ["    {NULL, NULL, NULL, NULL, NULL}};", ""]
    return out


def c_services(model):
    """kf_model_service: the daemon of each request."""
    out = ["const char *kf_model_service(const char *message)", "{",
           "    static const char *const table[][2] = {"]
    for m in model["messages"]:
        if m["kind"] == "request":
            out.append("        {%s, %s}," % (c_str(m["type"]), c_str(m["service"])))
    out += ["    };", "    for (size_t i = 0; message && i < sizeof table / sizeof table[0]; i++)",
            "        if (strcmp(table[i][0], message) == 0)", "            return table[i][1];",
            "    return NULL;", "}", ""]
    return out


C_LOOKUPS = """/* The entry of value in which, or NULL. */
static const s_label_t *s_find(kf_enum_t which, const char *value)
{
    if ((int)which < 0 || which >= KF_ENUM_COUNT || !value)
        return NULL;
    for (const s_label_t *l = s_enums[which].labels; l->name; l++)
        if (strcmp(l->name, value) == 0)
            return l;
    return NULL;
}

const char *kf_model_label(kf_enum_t which, const char *value, const char *lang)
{
    const s_label_t *l = s_find(which, value);
    if (!l)
        return NULL;
    return lang && strcmp(lang, "en") == 0 ? l->en : l->zh;
}

bool kf_model_in(kf_enum_t which, const char *value)
{
    return s_find(which, value) != NULL;
}

const char *const *kf_model_names(kf_enum_t which)
{
    return (int)which < 0 || which >= KF_ENUM_COUNT ? NULL : s_enums[which].names;
}

kf_enum_t kf_model_enum(const char *name)
{
    for (int i = 0; name && i < KF_ENUM_COUNT; i++)
        if (strcmp(s_enums[i].name, name) == 0)
            return (kf_enum_t)i;
    return KF_ENUM_COUNT;
}
"""


def write(path, text):
    """Writes text to path (UTF-8)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---- docs --------------------------------------------------------------------


def row(*cells):
    """A markdown table row; an empty cell is written "| |"."""
    return "|" + "|".join(" %s " % c if c else " " for c in cells) + "|"


def cell(text):
    """text fit for a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def doc_type(field, limits):
    """A field's type as catalog.md writes it: str(64)?, kind, ms or str(10)? ..."""
    kind = field["type"]
    if kind == "str" and "max" in field:
        text = "str(%d)" % limits[field["max"]]["value"]
    elif kind == "enum":
        text = field["enum"]
    elif kind == "ms_or_date":
        text = "ms or str(%d)" % limits["date"]["value"]
    else:
        text = kind
    return text + ("" if field["required"] else "?")


def doc_fields(model, type_):
    """The field table of one request."""
    msg = [m for m in model["messages"] if m["type"] == type_][0]
    rows = ["| field | type | meaning |", "| --- | --- | --- |"]
    for f in msg["fields"]:
        rows.append(row(f["name"], doc_type(f, model["limits"]), cell(f["meaning"])))
    return rows


def doc_enums(model):
    """The table of enumerations: values with their Chinese and English labels."""
    rows = ["| name | values: `value` 中文 (English) | meaning |", "| --- | --- | --- |"]
    for scope in ("wire", "store"):
        for name, enum in model["enums"].items():
            if enum["scope"] != scope:
                continue
            values = []
            for v in enum["values"]:
                text = "`%s` %s (%s)" % (v["name"], v["zh"], v["en"])
                if v.get("note"):
                    text += ", %s" % v["note"]
                if v.get("reserved"):
                    text += ", reserved"
                values.append(text)
            meaning = enum["meaning"] + ("; in the store only" if scope == "store" else "")
            rows.append("| %s | %s | %s |" % (name, cell("; ".join(values)), cell(meaning)))
    return rows


def doc_limits(model):
    """The table of limits."""
    rows = ["| limit | value | meaning |", "| --- | --- | --- |"]
    for name, lim in model["limits"].items():
        rows.append("| %s | %d | %s |" % (name, lim["value"], cell(lim["meaning"])))
    return rows


def doc_events(model, section):
    """The events table of a section ("" the bus events, "notifications")."""
    rows = ["| type | body |", "| --- | --- |"]
    for e in model["events"]:
        if e["status"] != "produced":
            continue
        if section == e.get("section", ""):
            rows.append("| %s | %s |" % (e["type"], cell(e["body"])))
        elif not section:
            rows.append("| %s | see *Notifications* below |" % e["type"])
    if not section:
        reserved = [e["type"] for e in model["events"] if e["status"] == "reserved"]
        rows += ["", "Reserved for later versions of this catalog (not yet produced): %s."
                 % ", ".join(reserved)]
    return rows


def doc_errors(model):
    """The table of error codes with their HTTP status."""
    rows = ["| code | HTTP | meaning | when it happens | retry helps? |",
            "| --- | --- | --- | --- | --- |"]
    for e in model["errors"]:
        rows.append("| `%s` | %d | %s | %s | %s |" % (e["code"], e["http"], cell(e["meaning"]),
                                                     cell(e["when"]), cell(e["retry"])))
    return rows


def doc_block(model, name):
    """The lines of generated block name, or None for an unknown name."""
    if name == "enumerations":
        return doc_enums(model)
    if name == "limits":
        return doc_limits(model)
    if name == "events":
        return doc_events(model, "")
    if name == "notification events":
        return doc_events(model, "notifications")
    if name == "errors":
        return doc_errors(model)
    if name.startswith("fields "):
        type_ = name[len("fields "):]
        if any(m["type"] == type_ for m in model["messages"]):
            return doc_fields(model, type_)
    return None


BLOCK_RE = re.compile(r"(<!-- generated: (.+?) begin -->\n)(.*?)(<!-- generated: \2 end -->)", re.S)


def render_doc(model, text, path):
    """text with every generated block rewritten from the model."""
    def one(match):
        lines = doc_block(model, match.group(2))
        if lines is None:
            raise ModelError("%s: unknown generated block %r" % (path, match.group(2)))
        return match.group(1) + "\n".join(lines) + "\n" + match.group(4)
    return BLOCK_RE.sub(one, text)


def docs(model, docs_dir, write):
    """Rewrites (write) or compares the generated blocks; returns the stale files."""
    stale = []
    for name in ("catalog.md", "errors.md"):
        path = os.path.join(docs_dir, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        fresh = render_doc(model, text, path)
        if fresh != text:
            stale.append(path)
            if write:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(fresh)
    return stale


def write_openapi(model, path, c_dir):
    """Writes the OpenAPI document to path and/or as C into c_dir."""
    text = gen_openapi.text(model)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write(path, text)
    if c_dir:
        os.makedirs(c_dir, exist_ok=True)
        header, source = gen_openapi.c_files(text, MARK, gen_openapi.labels_text(model))
        write(os.path.join(c_dir, "kf_openapi.h"), header)
        write(os.path.join(c_dir, "kf_openapi.c"), source)


def main(argv):
    """Parses the command line and does what it asks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(HERE, "model.json"))
    parser.add_argument("--docs", default=HERE, help="the directory of catalog.md and errors.md")
    parser.add_argument("--c", metavar="DIR", help="write kf_model.h and kf_model.c into DIR")
    parser.add_argument("--openapi", metavar="FILE", help="write the OpenAPI document to FILE")
    parser.add_argument("--openapi-c", metavar="DIR",
                        help="write kf_openapi.h and kf_openapi.c (the document as C) into DIR")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--check-docs", action="store_true")
    parser.add_argument("--check", action="store_true", help="only validate the model")
    args = parser.parse_args(argv)
    try:
        model = load(args.model)
        if args.c:
            os.makedirs(args.c, exist_ok=True)
            write(os.path.join(args.c, "kf_model.h"), c_header(model))
            write(os.path.join(args.c, "kf_model.c"), c_source(model))
        if args.openapi or args.openapi_c:
            write_openapi(model, args.openapi, args.openapi_c)
        if args.write_docs or args.check_docs:
            stale = docs(model, args.docs, args.write_docs)
            if stale and args.check_docs:
                for path in stale:
                    print("%s: generated blocks differ from %s; run proto/gen_model.py "
                          "--write-docs" % (path, args.model), file=sys.stderr)
                return 1
    except ModelError as e:
        print("model: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
