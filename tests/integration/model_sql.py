#!/usr/bin/env python3
"""kefu — compares the enumerations of proto/model.json with the CHECK lists
of a migrated store (test_model_sql.sh).

  model_sql.py MODEL CONSTRAINTS

CONSTRAINTS holds one line per CHECK constraint of the store's public
schema: "table<TAB>definition" (pg_get_constraintdef). Each list a CHECK
accepts a column to be in ("col = ANY (ARRAY['a'::text, ...])", what
`col IN ('a', ...)` becomes), or an array column's elements to be in
("col <@ ARRAY['a'::text, ...]"), is gathered per table and column (the union
of the lists, as a compound CHECK may hold a subset). Exits 1, naming each
difference, when a column the model maps to an enumeration (its "sql")
accepts other values than the enumeration, when such a column has no
list, or when a listed column is mapped to no enumeration.
"""
import collections
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto"))
import gen_model  # noqa: E402

ANY_RE = re.compile(r"\(?(\w+)\)?(?:::text)? = ANY \(\(?ARRAY\[(.*?)\]\)?(?:::text\[\])?\)")
# An array column whose elements must be in a list: "col <@ ARRAY['a'::text, ...]".
CONTAINED_RE = re.compile(r"\(?(\w+)\)? <@ \(?ARRAY\[(.*?)\]")
VALUE_RE = re.compile(r"'((?:[^']|'')*)'::(?:text|character varying)")


def store_lists(path):
    """{(table, column): set of values} from the constraint lines at path."""
    lists = collections.defaultdict(set)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "\t" not in line:
                continue
            table, definition = line.rstrip("\n").split("\t", 1)
            for column, array in ANY_RE.findall(definition) + CONTAINED_RE.findall(definition):
                values = {v.replace("''", "'") for v in VALUE_RE.findall(array)}
                lists[(table, column)] |= values
    return lists


def model_lists(model):
    """{(table, column): (enum name, set of values)} from the model's "sql"."""
    out = {}
    for name, enum in model["enums"].items():
        values = {v["name"] for v in enum["values"]}
        for col in enum.get("sql", []):
            out[(col["table"], col["column"])] = (name, values)
    return out


def compare(model, lists):
    """The differences, one message each."""
    faults = []
    mapped = model_lists(model)
    for key, (name, values) in sorted(mapped.items()):
        if key not in lists:
            faults.append("%s.%s: enums.%s maps it, but the store has no CHECK list on it" % (key + (name,)))
        elif lists[key] != values:
            faults.append("%s.%s: the store accepts %s, enums.%s has %s" % (
                key[0], key[1], sorted(lists[key]), name, sorted(values)))
    for key in sorted(set(lists) - set(mapped)):
        faults.append("%s.%s: the store's CHECK list %s is in no enumeration of the model (add "
                      "it to the \"sql\" of one)" % (key[0], key[1], sorted(lists[key])))
    return faults


def main(argv):
    """Loads both sides and prints what differs."""
    model = gen_model.load(argv[1])
    lists = store_lists(argv[2])
    if not lists:
        print("model_sql: no CHECK list found in %s" % argv[2], file=sys.stderr)
        return 1
    faults = compare(model, lists)
    for fault in faults:
        print("model_sql: %s" % fault, file=sys.stderr)
    print("model_sql: %d CHECK lists compared, %d differences" % (len(lists), len(faults)))
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
