#!/usr/bin/env python3
"""kefu — tests of the OpenAPI document gen_model.py writes (ctest unit_openapi).

(1) The document of proto/model.json is valid OpenAPI 3.1 (openapi_check.py: the published
    JSON Schema, each Schema Object, references, path parameters, openapi_spec_validator where
    installed).
(2) It says what the model says: every route with its operationId, parameters, body, security,
    replies and errors; enumerations with their labels.
(3) The check can fail: documents broken in one way each are refused; a model with a broken
    route is refused by the generator, which then writes nothing.
(4) --openapi-c writes the same document as the C string kf_openapi_json.
"""
import copy
import json
import os
import re
import shutil
import sys
import tempfile

from checks import expect, finish, run_python
from openapi_check import check as openapi_check

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")
GEN = os.path.join(PROTO, "gen_model.py")
CHECK = os.path.join(HERE, "openapi_check.py")


def run(*args):
    """Runs a python script; returns (exit status, stdout + stderr)."""
    rc, out, err = run_python(*args)
    return rc, out + err


def load(path):
    """The JSON file at path."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_valid(doc_path):
    """(1) the real document passes the check."""
    rc, out = run(CHECK, doc_path)
    expect(rc == 0, "the document is valid OpenAPI 3.1 (%s)" % out.strip()[-2000:])


def test_routes(doc, model):
    """(2) every route is an operation as the model says."""
    requests = {m["type"]: m for m in model["messages"] if m["kind"] == "request"}
    schemas = doc["components"]["schemas"]
    ids = set()
    for r in model["http"]["routes"]:
        op = doc["paths"].get(r["path"], {}).get(r["method"].lower())
        name = "%s %s" % (r["method"], r["path"])
        expect(op is not None and op["operationId"] not in ids, "%s is an operation" % name)
        if op is None:
            continue
        ids.add(op["operationId"])
        want = []
        for part in r["auth"].split("|"):
            if part == "session":
                want.append({"session": []} if r["method"] == "GET"
                            else {"session": [], "csrf": []})
            elif part.startswith("token:"):
                want.append({"bearer": []})
        expect(r["auth"] == "none" or want, "%s: auth %s is known" % (name, r["auth"]))
        expect(op["security"] == want, "%s: security %s" % (name, want))
        statuses = set(op["responses"])
        if r["auth"] != "none":
            expect("401" in statuses and "403" in statuses, "%s: 401 and 403 documented" % name)
        if "message" not in r:
            continue
        msg = requests[r["message"]]
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        reply = schemas[ref.split("/")[-1]]
        names = [f["name"] for f in msg["reply"]["fields"]]
        expect(sorted(reply["properties"]) == sorted(names),
               "%s: the 200 schema has the reply's fields" % name)
        expect(set(reply.get("required", [])) ==
               {f["name"] for f in msg["reply"]["fields"] if f["required"]},
               "%s: the reply's required fields" % name)
        check_inputs(r, op, msg, name)


def check_inputs(route, op, msg, name):
    """The operation takes the message's fields where the route says."""
    params = {(p["in"], p["name"]): p for p in op.get("parameters", [])}
    path_names = re.findall(r"\{([a-z_]+)\}", route["path"])
    fields = [f["name"] for f in msg["fields"]]
    if route["method"] == "POST":
        body = op["requestBody"]["content"]["application/json"]["schema"]
        rest = [f for f in fields if f not in path_names and f != "idem"]
        expect(sorted(body["properties"]) == sorted(rest) and body["additionalProperties"] is False,
               "%s: the body holds the other fields, nothing else" % name)
        expect(set(body.get("required", [])) ==
               {f["name"] for f in msg["fields"] if f["required"] and f["name"] in rest},
               "%s: the body's required fields" % name)
        expect((("header", "Idempotency-Key") in params) == ("idem" in fields),
               "%s: Idempotency-Key exactly when the message has idem" % name)
    else:
        query = sorted(n for (where, n) in params if where == "query")
        expect(query == sorted(f for f in fields if f not in path_names),
               "%s: the query holds the other fields" % name)
    expect(all(params.get(("path", n), {}).get("required") for n in path_names),
           "%s: its path parameters" % name)


def test_details(doc, model):
    """(2) types, limits, labels, errors and the gateway's own routes."""
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    query = {p["name"]: p["schema"] for p in paths["/api/v1/tickets"]["get"]["parameters"]}
    expect(query["limit"].get("minimum") == 1 and query["limit"].get("maximum") == 100 and
           query["limit"].get("default") == 50, "ticket.list limit: 1-100, default 50")
    expect([s["type"] for s in query["since"]["oneOf"]] == ["integer", "string"],
           "since: integer ms or a date string")
    expect(query["owner"]["maxLength"] == 64 and "bytes" in query["owner"]["description"],
           "owner: maxLength 64, and the limit in bytes said")
    expect(query["status"] == {"$ref": "#/components/schemas/status"}, "status: its enumeration")
    kind = schemas["kind"]
    expect(kind["enum"][0] == "complaint" and kind["x-labels"]["complaint"] ==
           {"zh": "投诉", "en": "complaint"}, "enumerations carry x-labels {zh, en}")
    codes = [e["code"] for e in model["errors"] if e["code"] != "ok"]
    expect(schemas["Error"]["properties"]["code"]["enum"] == codes, "Error.code: the error codes")
    signin = paths["/api/v1/session"]["post"]
    body = signin["requestBody"]["content"]["application/json"]["schema"]
    expect(sorted(body["required"]) == ["password", "staff"], "sign-in takes staff and password")
    expect(sorted(schemas["Session"]["required"]) ==
           sorted(["staff", "name", "role", "department", "lang", "csrf", "must_change",
                   "expires_at", "idle_ends_at"]),
           "sign-in answers staff, name, role, department, lang, csrf, must_change, expires_at, "
           "idle_ends_at")
    expect("204" in paths["/api/v1/session"]["delete"]["responses"], "sign-out answers 204")
    schemes = doc["components"]["securitySchemes"]
    expect(schemes["session"] == dict(schemes["session"], type="apiKey", name="kefu_session",
                                      **{"in": "cookie"}) and
           schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token",
           "security schemes: the kefu_session cookie and the X-CSRF-Token header")
    expect(schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer",
           "security schemes: integration tokens as HTTP bearer")
    expect(paths["/api/v1/calls"]["post"]["security"] == [{"bearer": []}] and
           {"bearer": []} in paths["/api/v1/tickets"]["post"]["security"],
           "a token is taken by POST /api/v1/calls and POST /api/v1/tickets")
    expect(all({"bearer": []} not in op.get("security", [])
               for path, item in paths.items() for method, op in item.items()
               if (method, path) not in (("post", "/api/v1/calls"), ("post", "/api/v1/tickets"))),
           "no other route takes a token")
    report = schemas["ReportReply"]["properties"]
    expect(report["total"] == {"$ref": "#/components/schemas/Figures",
                               "description": "the figures over the whole period"},
           "report.total is the Figures shape")
    expect("key" in report["groups"]["items"]["properties"] and
           "tickets" in report["groups"]["items"]["properties"], "report.groups: key + figures")


def broken_documents(doc):
    """(name, a copy of doc broken in one way)."""
    def bad(fn):
        d = copy.deepcopy(doc)
        fn(d)
        return d
    show = lambda d: d["paths"]["/api/v1/tickets/{ticket}"]["get"]
    return [
        ("a parameter in the body", bad(lambda d: show(d)["parameters"][0].update({"in": "body"}))),
        ("a schema of type strin", bad(lambda d: d["components"]["schemas"]["SubmitReply"][
            "properties"]["ticket"].update(type="strin"))),
        ("a reference to nothing", bad(lambda d: show(d)["responses"]["200"]["content"][
            "application/json"]["schema"].update({"$ref": "#/components/schemas/Nothing"}))),
        ("an operationId twice", bad(lambda d: show(d).update(operationId="submit"))),
        ("a {param} not declared", bad(lambda d: show(d).pop("parameters"))),
        ("openapi 3.0", bad(lambda d: d.update(openapi="3.0.3"))),
        ("no info", bad(lambda d: d.pop("info"))),
    ]


def test_broken(tmp, doc, model):
    """(3) the check refuses broken documents (its own parts (1)-(3), in this process: the
    command line and openapi_spec_validator are (1)'s); the generator refuses a broken route."""
    path = os.path.join(tmp, "broken.json")
    for name, broken in broken_documents(doc):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(broken, f, ensure_ascii=False)
        faults = openapi_check(path, external=False)
        expect(faults, "refused: %s (%s)" % (name, "; ".join(faults)[:300]))
    rc, out = run(CHECK, path)
    expect(rc == 1 and "invalid:" in out, "the command exits 1 naming the faults (%s)"
           % out.strip()[:300])
    bad_model = copy.deepcopy(model)
    show = [r for r in bad_model["http"]["routes"] if r.get("message") == "ticket.show"][0]
    show["path"] = "/api/v1/tickets/{number}"
    model_path, out_path = os.path.join(tmp, "model.json"), os.path.join(tmp, "out.json")
    with open(model_path, "w", encoding="utf-8") as f:
        json.dump(bad_model, f, ensure_ascii=False)
    rc, out = run(GEN, "--model", model_path, "--openapi", out_path)
    expect(rc == 2 and "{number}" in out and not os.path.exists(out_path),
           "a route whose {param} is no field is refused, nothing written (%s)" % out.strip())


def test_c(tmp, doc_text):
    """(4) kf_openapi.c holds the document, byte for byte."""
    rc, _ = run(GEN, "--openapi-c", tmp)
    with open(os.path.join(tmp, "kf_openapi.c"), encoding="utf-8") as f:
        source = f.read()
    lines = re.findall(r'^    "(.*)\\n"$', source, re.M)
    text = "".join(json.loads('"%s"' % line) + "\n" for line in lines)
    expect(rc == 0 and text == doc_text, "kf_openapi_json is the document")
    with open(os.path.join(tmp, "kf_openapi.h"), encoding="utf-8") as f:
        expect("extern const char kf_openapi_json[];" in f.read(), "kf_openapi.h declares it")


def main():
    """Runs every test; exits 1 when one failed."""
    tmp = tempfile.mkdtemp(prefix="kefu-openapi-")
    try:
        doc_path = os.path.join(tmp, "openapi.json")
        rc, out = run(GEN, "--openapi", doc_path)
        expect(rc == 0, "gen_model.py --openapi writes the document (%s)" % out.strip())
        with open(doc_path, encoding="utf-8") as f:
            doc_text = f.read()
        doc, model = json.loads(doc_text), load(os.path.join(PROTO, "model.json"))
        test_valid(doc_path)
        test_routes(doc, model)
        test_details(doc, model)
        test_broken(tmp, doc, model)
        test_c(tmp, doc_text)
    finally:
        shutil.rmtree(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
