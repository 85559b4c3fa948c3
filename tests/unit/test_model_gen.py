#!/usr/bin/env python3
"""kefu — tests of proto/gen_model.py (ctest unit_model_gen).

(1) The generated blocks of proto/catalog.md and errors.md are those of
    proto/model.json (--check-docs); a block edited by hand is found and
    --write-docs puts it back.
(2) A malformed model is refused (exit 2, naming the fault): each case
    below breaks a copy of the real model in one way (its enumerations,
    fields, errors, HTTP routes, and the replies of the requests).
(3) --c writes kf_model.h and kf_model.c marked as generated.
"""
import copy
import json
import os
import shutil
import sys
import tempfile

from checks import expect, finish, run_python

PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto")
GEN = os.path.join(PROTO, "gen_model.py")


def run(*args):
    """Runs the generator; returns (exit status, stderr)."""
    rc, _, err = run_python(GEN, *args)
    return rc, err


def test_docs(tmp):
    """(1) the docs are fresh; a hand edit is caught and undone."""
    rc, err = run("--check-docs")
    expect(rc == 0, "proto/catalog.md and errors.md are fresh (%s)" % err.strip())
    docs = os.path.join(tmp, "docs")
    os.mkdir(docs)
    for name in ("catalog.md", "errors.md"):
        shutil.copy(os.path.join(PROTO, name), docs)
    path = os.path.join(docs, "catalog.md")
    with open(path, encoding="utf-8") as f:
        original = f.read()
    edited = original.replace("| summary | str(200) |", "| summary | str(300) |")
    expect(edited != original, "the submit table has summary str(200)")
    with open(path, "w", encoding="utf-8") as f:
        f.write(edited)
    rc, err = run("--check-docs", "--docs", docs)
    expect(rc == 1 and "catalog.md" in err, "a hand edit of a generated block is stale")
    rc, _ = run("--write-docs", "--docs", docs)
    with open(path, encoding="utf-8") as f:
        expect(rc == 0 and f.read() == original, "--write-docs rewrites the block from the model")
    with open(path, "w", encoding="utf-8") as f:
        f.write(original.replace("<!-- generated: errors begin -->", "", 1).replace(
            "<!-- generated: fields submit begin -->", "<!-- generated: fields nothing begin -->")
            .replace("<!-- generated: fields submit end -->", "<!-- generated: fields nothing end -->"))
    rc, err = run("--check-docs", "--docs", docs)
    expect(rc == 2 and "unknown generated block" in err, "a block of an unknown name is refused")


def breakers():
    """(name, function breaking a model in place, word the message must hold)."""
    def field(m, type_, name):
        msg = [x for x in m["messages"] if x["type"] == type_][0]
        return [f for f in msg["fields"] if f["name"] == name][0]
    return [
        ("no enums", lambda m: m.pop("enums"), "enums"),
        ("unknown top key", lambda m: m.update(extra=1), "extra"),
        ("version 2", lambda m: m.update(version=2), "version"),
        ("a value twice", lambda m: m["enums"]["kind"]["values"].append(
            dict(m["enums"]["kind"]["values"][0])), "twice"),
        ("a blank label", lambda m: m["enums"]["kind"]["values"][0].update(zh=" "), "zh"),
        ("a label missing", lambda m: m["enums"]["category"]["values"][1].pop("en"),
         "lacks 'en'"),
        ("an upper-case value", lambda m: m["enums"]["kind"]["values"][0].update(name="Complaint"),
         "lower-case"),
        ("a bad scope", lambda m: m["enums"]["kind"].update(scope="web"), "scope"),
        ("no values", lambda m: m["enums"]["kind"].update(values=[]), "values"),
        ("an unknown field key", lambda m: field(m, "submit", "summary").update(maxlen=3), "maxlen"),
        ("an unknown field type", lambda m: field(m, "submit", "summary").update(type="text"), "type"),
        ("a str without max", lambda m: field(m, "submit", "summary").pop("max"), "max"),
        ("an unknown limit", lambda m: field(m, "submit", "summary").update(max="summry"), "limit"),
        ("an unknown enum", lambda m: field(m, "submit", "kind").update(enum="kinds"), "enum"),
        ("a field twice", lambda m: [x for x in m["messages"] if x["type"] == "submit"][0][
            "fields"].append(dict(field(m, "submit", "kind"))), "twice"),
        ("a type twice", lambda m: m["events"].append(dict(m["events"][0])), "twice"),
        ("an event status", lambda m: m["events"][0].update(status="maybe"), "status"),
        ("a negative limit", lambda m: m["limits"]["ticket"].update(value=-1), "value"),
        ("an http status", lambda m: m["errors"][3].update(http=42), "http"),
        ("ok not first", lambda m: m["errors"].reverse(), "ok"),
        ("an error twice", lambda m: m["errors"].append(dict(m["errors"][1])), "code"),
    ] + http_breakers() + reply_breakers()


def route(m, path, method="GET"):
    """The route of the model with this path and method."""
    return [r for r in m["http"]["routes"] if r["path"] == path and r["method"] == method][0]


def http_breakers():
    """Routes broken in one way each."""
    return [
        ("a bad method", lambda m: route(m, "/api/v1/tickets").update(method="PUT"), "method"),
        ("a bad path", lambda m: route(m, "/api/v1/tickets").update(path="/api/v2/tickets"),
         "path"),
        ("a path with a space", lambda m: route(m, "/api/v1/tickets").update(
            path="/api/v1/my tickets"), "path"),
        ("an unknown message", lambda m: route(m, "/api/v1/tickets").update(
            message="ticket.lists"), "message names no request"),
        ("a {param} that is no field", lambda m: route(m, "/api/v1/tickets/{ticket}").update(
            path="/api/v1/tickets/{number}"), "{number} is no field of ticket.show"),
        ("both message and handler", lambda m: route(m, "/api/v1/tickets").update(
            handler="list"), "not both"),
        ("neither message nor handler", lambda m: route(m, "/api/v1/tickets").pop("message"),
         "not both"),
        ("a route twice", lambda m: m["http"]["routes"].append(
            dict(route(m, "/api/v1/tickets"))), "twice"),
    ] + [("a bad auth %s" % bad, auth_breaker(bad), "auth")
         # no scope; a token of no scope; the token before the session; two tokens
         for bad in ("token", "token:phone", "token:submit|session",
                     "session|token:submit|token:calls")]


def auth_breaker(auth):
    """A breaker setting the auth of GET /api/v1/tickets to auth."""
    return lambda m: route(m, "/api/v1/tickets").update(auth=auth)


def reply_breakers():
    """Replies and shapes broken in one way each."""
    def msg(m, type_):
        return [x for x in m["messages"] if x["type"] == type_][0]

    def reply_field(m, type_, name):
        return [f for f in msg(m, type_)["reply"]["fields"] if f["name"] == name][0]
    return [
        ("a request without reply", lambda m: msg(m, "submit").pop("reply"), "has a reply"),
        ("a reply with a reply", lambda m: msg(m, "reply.ok").update(
            reply={"meaning": "", "fields": []}), "has a reply"),
        ("a reply without fields", lambda m: msg(m, "submit")["reply"].pop("fields"),
         "lacks 'fields'"),
        ("an unknown reply type", lambda m: reply_field(m, "submit", "ticket").update(
            type="text"), "submit).reply.fields[0](ticket): type"),
        ("a reply enum of nothing", lambda m: reply_field(m, "submit", "status").update(
            enum="statuses"), "enum names no enumeration"),
        ("a map without fields", lambda m: reply_field(m, "report", "period").pop("fields"),
         "a map has fields or a shape"),
        ("a map of an unknown shape", lambda m: reply_field(m, "report", "total").update(
            shape="figure"), "shape names no shape"),
        ("a list without items", lambda m: reply_field(m, "ticket.show", "history").pop("items"),
         "items"),
        ("items of an unknown type", lambda m: reply_field(m, "ticket.show", "history")[
            "items"].update(type="row"), "history).items: type"),
        ("a reply field twice", lambda m: msg(m, "submit")["reply"]["fields"].append(
            dict(reply_field(m, "submit", "ticket"))), "twice"),
        ("required not a bool", lambda m: reply_field(m, "submit", "owner").update(
            required="yes"), "required"),
        ("an unknown reply key", lambda m: reply_field(m, "submit", "owner").update(max=3),
         "unknown key 'max'"),
        ("a shape using a later one", lambda m: m["shapes"]["rate"]["fields"].append(
            {"name": "x", "type": "map", "shape": "figures", "required": True, "meaning": ""}),
         "shapes.rate"),
    ]


def test_malformed(tmp):
    """(2) each broken model is refused with exit 2 and a message."""
    with open(os.path.join(PROTO, "model.json"), encoding="utf-8") as f:
        model = json.load(f)
    rc, err = run("--check")
    expect(rc == 0, "the real model is well-formed (%s)" % err.strip())
    path = os.path.join(tmp, "broken.json")
    for name, breaker, word in breakers():
        broken = copy.deepcopy(model)
        breaker(broken)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(broken, f, ensure_ascii=False)
        rc, err = run("--check", "--model", path)
        expect(rc == 2 and word in err, "refused: %s (%s)" % (name, err.strip()))
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"version": 1,')
    rc, err = run("--check", "--model", path)
    expect(rc == 2 and "broken.json" in err, "refused: not JSON (%s)" % err.strip())


def test_c(tmp):
    """(3) the C files are written and marked."""
    out = os.path.join(tmp, "c")
    rc, _ = run("--c", out)
    for name in ("kf_model.h", "kf_model.c"):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            text = f.read()
        expect(rc == 0 and "generated from proto/model.json by proto/gen_model.py — do not edit"
               in text.split("\n")[0], "%s is marked as generated" % name)


def main():
    """Runs every test; exits 1 when one failed."""
    tmp = tempfile.mkdtemp(prefix="kefu-model-")
    try:
        test_docs(tmp)
        test_malformed(tmp)
        test_c(tmp)
    finally:
        shutil.rmtree(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
