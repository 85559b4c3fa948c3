#!/usr/bin/env python3
"""kefu — checks a reply.ok body against the reply the model describes for its request.

  kefu ticket show KF-2026-000001 --json | reply_check.py ticket.show

Reads one JSON object on stdin and validates it against the OpenAPI schema of that request's
reply (proto/model.json "reply", through proto/gen_openapi.py), strictly: a key the model does
not describe is a fault too. Exits 1 naming the first fault. Used by test_model_replies.sh.
"""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "proto"))
import gen_model  # noqa: E402
import gen_openapi  # noqa: E402
from openapi_conformance import strict  # noqa: E402


def main(argv):
    """Validates stdin against the reply of the request named in argv."""
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    doc = gen_openapi.document(gen_model.load(os.path.join(HERE, "..", "..", "proto",
                                                           "model.json")))
    name = gen_openapi.camel(argv[0]) + "Reply"
    root = {"$ref": "#/components/schemas/" + name, "components": strict(doc["components"])}
    body = json.load(sys.stdin)
    errors = list(jsonschema.Draft202012Validator(root).iter_errors(body))
    for e in errors[:1]:
        print("%s reply at %s: %s" % (argv[0], "/".join(map(str, e.absolute_path)) or "(top)",
                                      e.message[:400]))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
