#!/usr/bin/env python3
"""kefu — checks that a running kefu-gateway answers as its OpenAPI document says.

  openapi_conformance.py --base http://127.0.0.1:8080 --staff agent.li --password-env PW

Reads the document the gateway serves (GET /api/v1/openapi.json), signs in (POST
/api/v1/session), submits one ticket (POST /api/v1/tickets, its body built from the
document's schema), calls every GET the document lists (those for managers or
administrators only are 403 for the agent; with --admin they are called again as that
administrator: 200), sends three requests that must be refused (a missing required field:
400; no cookie: 401; no X-CSRF-Token on a POST: 403), chooses the console's language and
signs out. Each answer's status must be one the document lists for that operation, and its
JSON body must match the documented schema; an object holding a key the document does not
name fails too, unless --lenient. Prints each check; exits 1 at the first mismatch, saying
what differed, 2 when the gateway cannot be reached. Standard library and python3-jsonschema.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

import jsonschema

API = "/api/v1"


class Mismatch(Exception):
    """An answer that is not what the document says."""


class Client:
    """Calls the gateway: JSON in and out, the session cookie and CSRF token once signed in."""

    def __init__(self, base, timeout):
        self.base, self.timeout = base.rstrip("/"), timeout
        self.cookie = self.csrf = None

    def call(self, method, path, query=None, body=None, cookie=True, csrf=True, headers=None):
        """(status, parsed JSON body or None, raw body) of one request."""
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if cookie and self.cookie:
            req.add_header("Cookie", "kefu_session=" + self.cookie)
        if csrf and self.csrf and method != "GET":
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw, set_cookie = resp.status, resp.read(), resp.headers.get("Set-Cookie")
        except urllib.error.HTTPError as e:
            status, raw, set_cookie = e.code, e.read(), None
        if set_cookie and set_cookie.startswith("kefu_session="):
            self.cookie = set_cookie.split(";")[0].split("=", 1)[1]
        try:
            return status, (json.loads(raw) if raw else None), raw
        except ValueError:
            return status, None, raw


def strict(node):
    """A copy of a schema in which no object may hold a key it does not name."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["unevaluatedProperties"] = False
    return out


class Checker:
    """Holds the document and checks each answer against it."""

    def __init__(self, doc, lenient):
        self.doc = doc
        self.components = doc["components"] if lenient else strict(doc["components"])
        self.lenient, self.count = lenient, 0

    def operation(self, method, path):
        """The document's operation, or a mismatch when it lists none."""
        op = self.doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            raise Mismatch("the document lists no %s %s" % (method, path))
        return op

    def check(self, what, method, path, answer, expect):
        """The status is expect (a set), listed for the operation, and the body its schema."""
        status, body, raw = answer
        op = self.operation(method, path)
        name = "%s: %s %s -> %d" % (what, method, path, status)
        if status not in expect:
            raise Mismatch("%s, expected %s: %s" % (name, sorted(expect), raw[:500]))
        listed = op["responses"].get(str(status))
        if listed is None:
            raise Mismatch("%s: the document lists no %d for it (%s)" % (name, status,
                                                                        sorted(op["responses"])))
        schema = listed.get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            if body is None:
                raise Mismatch("%s: the body is not JSON: %r" % (name, raw[:200]))
            root = dict(self.schema_of(schema), components=self.components)
            errors = list(jsonschema.Draft202012Validator(root).iter_errors(body))
            if errors:
                e = errors[0]
                raise Mismatch("%s: the body does not match the document at %s: %s" % (
                    name, "/".join(map(str, e.absolute_path)) or "(top)", e.message[:500]))
        self.count += 1
        print("ok   %s%s" % (name, ", body as documented" if schema is not None else ""))
        return body

    def schema_of(self, schema):
        """schema as the root of a validator, strict unless lenient."""
        return {"allOf": [schema if self.lenient else strict(schema)]}


def example(schema, components):
    """A value the schema accepts: enumerations' first value, an int's minimum, ..."""
    if "$ref" in schema:
        return example(components["schemas"][schema["$ref"].split("/")[-1]], components)
    if "anyOf" in schema or "oneOf" in schema:
        return example((schema.get("anyOf") or schema.get("oneOf"))[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "integer":
        return schema.get("default", schema.get("minimum", 1))
    return {"boolean": False, "object": {}}.get(kind, "conformance check")


def submit_body(doc, args):
    """A valid body of POST /api/v1/tickets: every required field, from the schema or args."""
    op = doc["paths"][API + "/tickets"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    known = {"project": args.project, "phone": args.phone,
             "summary": "OpenAPI conformance check", "channel": "phone", "kind": "inquiry"}
    return {name: known.get(name, example(schema["properties"][name], doc["components"]))
            for name in schema.get("required", [])}


# GETs for some roles only: the agent of --staff is refused (403), the administrator of
# --admin answered (200).
NOT_FOR_AGENTS = (API + "/watchlist", API + "/status")


def get_all(client, checker, context):
    """Every GET of the document: those without path parameters first (their answers name
    things the others show). A path parameter nothing named gets a made-up value: 404."""
    ops = [(path, item["get"]) for path, item in checker.doc["paths"].items() if "get" in item]
    ops.sort(key=lambda p: "{" in p[0])
    for path, op in ops:
        if "text/event-stream" in op["responses"].get("200", {}).get("content", {}):
            continue
        url, query, made_up = path, {}, False
        for p in op.get("parameters", []):
            value = context.get(p["name"])
            if p["in"] == "path":
                if value is None:  # nothing by that name exists
                    made_up, value = True, 2147483647 if "integer" in json.dumps(
                        p["schema"]) else "no-such-" + p["name"]
                url = url.replace("{%s}" % p["name"], urllib.parse.quote(str(value)))
            elif p["in"] == "query" and (value is not None or p.get("required")):
                query[p["name"]] = value if value is not None else example(
                    p["schema"], checker.doc["components"])
        answer = client.call("GET", url, query=query)
        expect = {404} if made_up else {403} if path in NOT_FOR_AGENTS else {200}
        body = checker.check("documented GET", "GET", path, answer, expect)
        if path == API + "/approvals" and body and body.get("steps"):
            context.setdefault("request", body["steps"][0]["request"])


def run(args):
    """Every check in turn; raises Mismatch at the first that fails."""
    client = Client(args.base, args.timeout)
    status, doc, raw = client.call("GET", API + "/openapi.json")
    if status != 200 or not isinstance(doc, dict) or not doc.get("openapi", "").startswith("3.1"):
        raise Mismatch("GET %s/openapi.json -> %d: not an OpenAPI 3.1 document: %r"
                       % (API, status, raw[:200]))
    checker = Checker(doc, args.lenient)
    checker.check("the document", "GET", API + "/openapi.json", (status, doc, raw), {200})
    session = checker.check("sign in", "POST", API + "/session", client.call(
        "POST", API + "/session", body={"staff": args.staff, "password": args.password}), {200})
    client.csrf = session["csrf"]
    if not client.cookie:
        raise Mismatch("sign in set no kefu_session cookie")
    body = submit_body(doc, args)
    key = {"Idempotency-Key": "conformance-" + str(uuid.uuid4())}
    ticket = checker.check("submit", "POST", API + "/tickets", client.call(
        "POST", API + "/tickets", body=body, headers=key), {200})
    get_all(client, checker, {"ticket": ticket["ticket"], "phone": args.phone})
    missing = dict(body)
    missing.pop("summary")
    error = checker.check("missing required field", "POST", API + "/tickets", client.call(
        "POST", API + "/tickets", body=missing), {400})
    if (error.get("code"), error.get("field")) != ("missing_field", "summary"):
        raise Mismatch("a submit without summary is not missing_field on summary: %s" % error)
    checker.check("no cookie", "GET", API + "/tickets", client.call(
        "GET", API + "/tickets", cookie=False), {401})
    checker.check("no CSRF header", "POST", API + "/tickets", client.call(
        "POST", API + "/tickets", body=body, csrf=False), {403})
    checker.check("console language", "POST", API + "/session/lang", client.call(
        "POST", API + "/session/lang", body={"lang": "zh"}), {200})
    checker.check("sign out", "DELETE", API + "/session", client.call("DELETE", API + "/session"),
                  {204})
    if args.admin:
        admin_gets(args, checker)
    return checker.count


def admin_gets(args, checker):
    """The GETs an agent may not make, as the administrator of --admin: answered 200."""
    client = Client(args.base, args.timeout)
    session = checker.check("sign in (admin)", "POST", API + "/session", client.call(
        "POST", API + "/session", body={"staff": args.admin, "password": args.password}), {200})
    client.csrf = session["csrf"]
    for path in NOT_FOR_AGENTS:
        checker.check("documented GET (admin)", "GET", path, client.call("GET", path), {200})
    checker.check("sign out (admin)", "DELETE", API + "/session",
                  client.call("DELETE", API + "/session"), {204})


def main(argv):
    """Parses the command line, runs the checks, prints the outcome."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split(
        "\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True,
                        help="the gateway's URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--staff", required=True, help="a staff id that may submit (an agent)")
    parser.add_argument("--admin", help="an administrator's staff id with the same password: "
                        "the GETs an agent may not make (watchlist, status) are checked as them")
    parser.add_argument("--password", help="its password (or --password-env)")
    parser.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    parser.add_argument("--project", default="HZ-XH", help="a project code the store knows "
                        "(default HZ-XH, the demo organisation's)")
    parser.add_argument("--phone", default="13800138000", help="the owner's phone of the submit")
    parser.add_argument("--lenient", action="store_true",
                        help="let answers hold keys the document does not name")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    if args.password_env:
        args.password = os.environ.get(args.password_env)
    if not args.password:
        parser.error("give --password or --password-env")
    try:
        count = run(args)
    except Mismatch as e:
        print("FAIL %s" % e)
        return 1
    except (urllib.error.URLError, OSError) as e:
        print("FAIL cannot reach %s: %s" % (args.base, e))
        return 2
    print("%d passed, 0 failed" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
