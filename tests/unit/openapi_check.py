#!/usr/bin/env python3
"""kefu — checks that an OpenAPI 3.1 document is valid; exits 1 naming each fault.

  openapi_check.py FILE

(1) the document against the OpenAPI Initiative's JSON Schema for 3.1 (oas-3.1/, with
    python3-jsonschema); (2) every Schema Object against JSON Schema 2020-12; (3) what a schema
    cannot say: every $ref resolves, operation ids are unique, each {param} of a path is a
    required path parameter and each path parameter is in the path, no parameter twice;
    (4) python3 -m openapi_spec_validator FILE, where that module is installed.
"""
import importlib.util
import json
import os
import re
import subprocess
import sys

import jsonschema

try:  # jsonschema >= 4.18 resolves references with referencing; Debian 12's 4.10 has RefResolver
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError:
    Registry = None

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oas-3.1")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def oas_validator():
    """A validator of OpenAPI 3.1 documents, from the published schemas."""
    def load(name):
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            return json.load(f)
    schema = load("schema.json")
    schemas = (schema, load("dialect-base.schema.json"), load("meta-base.schema.json"))
    if Registry is None:
        resolver = jsonschema.RefResolver.from_schema(schema, store={s["$id"]: s for s in schemas})
        return jsonschema.Draft202012Validator(schema, resolver=resolver)
    resources = [(s["$id"], Resource.from_contents(s, default_specification=DRAFT202012))
                 for s in schemas]
    return jsonschema.Draft202012Validator(schema, registry=Registry().with_resources(resources))


def schema_objects(doc):
    """(where, Schema Object) for every schema of the document."""
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        yield "components/schemas/" + name, schema
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            where = "%s %s" % (method.upper(), path)
            for p in op.get("parameters", []):
                yield "%s parameter %s" % (where, p.get("name")), p.get("schema", {})
            bodies = [("requestBody", op.get("requestBody", {}))] + list(
                op.get("responses", {}).items())
            for what, part in bodies:
                for mime, media in part.get("content", {}).items():
                    yield "%s %s %s" % (where, what, mime), media.get("schema", {})


def refs(node, out):
    """Every $ref string under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out.append(value)
            else:
                refs(value, out)
    elif isinstance(node, list):
        for value in node:
            refs(value, out)
    return out


def resolves(doc, ref):
    """True when ref is a local JSON pointer to something in doc."""
    if not ref.startswith("#/"):
        return False
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def semantic_faults(doc):
    """What the JSON Schema of OpenAPI cannot check."""
    faults = ["unresolved $ref %s" % r for r in refs(doc, []) if not resolves(doc, r)]
    ids = {}
    for path, item in doc.get("paths", {}).items():
        template = set(re.findall(r"\{([^}]+)\}", path))
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = "%s %s" % (method.upper(), path)
            if "operationId" in op:
                if op["operationId"] in ids:
                    faults.append("%s: operationId %s also used by %s"
                                  % (where, op["operationId"], ids[op["operationId"]]))
                ids[op["operationId"]] = where
            params = op.get("parameters", []) + item.get("parameters", [])
            seen = set()
            for p in params:
                key = (p.get("name"), p.get("in"))
                if key in seen:
                    faults.append("%s: parameter %s in %s twice" % ((where,) + key))
                seen.add(key)
                in_path = p.get("name") in template and p.get("required")
                if p.get("in") == "path" and not in_path:
                    faults.append("%s: path parameter %s is not a required {%s} of the path"
                                  % (where, p.get("name"), p.get("name")))
            declared = {p.get("name") for p in params if p.get("in") == "path"}
            faults += ["%s: {%s} is no path parameter" % (where, n) for n in template - declared]
            if not op.get("responses"):
                faults.append("%s: no responses" % where)
    return faults


def check(path, external=True):
    """The faults of the document at path (an empty list when it is valid); external=False
    leaves out (4), which takes seconds."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    faults = ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(document)", e.message)
              for e in oas_validator().iter_errors(doc)]
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for where, schema in schema_objects(doc):
        faults += ["%s: schema: %s" % (where, e.message) for e in meta.iter_errors(schema)]
    faults += semantic_faults(doc)
    if external and importlib.util.find_spec("openapi_spec_validator"):
        p = subprocess.run([sys.executable, "-m", "openapi_spec_validator", path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            faults.append("openapi_spec_validator: %s" % (p.stdout + p.stderr).strip())
    return faults


def main(argv):
    """Checks the file named on the command line."""
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    faults = check(argv[0])
    for fault in faults:
        print("invalid: %s" % fault)
    print("%s: %s" % (argv[0], "%d faults" % len(faults) if faults else "valid OpenAPI 3.1"))
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
