#!/usr/bin/env python3
"""The settings tables of README.md and deploy/README.md, from the code.

Every program answers a hidden --settings-markdown with its settings table
(common/config.c, kf_config_markdown). The docs hold generated blocks
between markers:

    <!-- settings: NAME begin -->
    ...
    <!-- settings: NAME end -->

where NAME is a program (kefu-router, kefu, ...: the settings it reads that
no other daemon reads the same way) or "shared" (the settings two or more
daemons read with the same type, default and meaning, with who reads
them). --write rewrites the blocks; --check fails, showing the difference,
when a block differs from the code, when deploy/README.md (the operator
guide) lacks a block, or when a marker is unknown or unclosed.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys

# (program, its folder under build/services), daemons first, in the order
# the guide describes them; the client last.
DAEMONS = [("kefu-bus", "bus"), ("kefu-intake", "intake"), ("kefu-router", "ticket-router"),
           ("kefu-approval", "approval"), ("kefu-survey", "survey"),
           ("kefu-notifier", "notifier"), ("kefu-gateway", "gateway")]
CLIENTS = [("kefu", "cli"), ("kefu-admin", "admin")]
DOCS = ["README.md", os.path.join("deploy", "README.md")]
GUIDE = os.path.join("deploy", "README.md")  # must hold every block
BLOCK = re.compile(r"(<!-- settings: (\S+) begin -->\n)(.*?)(<!-- settings: \2 end -->)", re.S)
HEADER = "| variable | type | default | meaning |"


def rows(build, program, folder):
    """The table rows (one per setting, in the code's order) of program."""
    path = os.path.join(build, "services", folder, program)
    try:
        out = subprocess.run([path, "--settings-markdown"], capture_output=True, text=True,
                             timeout=20, check=True, env={"PATH": os.environ.get("PATH", "")}).stdout
    except (OSError, subprocess.SubprocessError) as e:
        sys.exit("settings_docs: %s --settings-markdown: %s" % (path, e))
    lines = out.splitlines()
    if not lines or lines[0] != HEADER:
        sys.exit("settings_docs: %s --settings-markdown: no table header" % path)
    return [line for line in lines[2:] if line.startswith("| `")]


def readers(programs):
    """'every daemon', 'every daemon but the bus' or the programs' names."""
    names = [p for p, _ in DAEMONS]
    if programs == names:
        return "every daemon"
    if programs == names[1:]:
        return "every daemon but the bus"
    return ", ".join(programs)


def blocks(build):
    """{block name: its Markdown text} from the built programs."""
    tables = {p: rows(build, p, f) for p, f in DAEMONS + CLIENTS}
    seen = {}  # row -> the daemons with it, in order
    for program, _ in DAEMONS:
        for row in tables[program]:
            seen.setdefault(row, []).append(program)
    shared = [row for row, who in seen.items() if len(who) > 1]
    out = {"shared": ["| variable | type | default | read by | meaning |",
                      "| --- | --- | --- | --- | --- |"]}
    for row in shared:
        cells = row.split(" | ")
        out["shared"].append(" | ".join(cells[:3] + [readers(seen[row])] + cells[3:]))
    for program, _ in DAEMONS + CLIENTS:
        own = [row for row in tables[program] if row not in shared or program == "kefu"]
        out[program] = [HEADER, "| --- | --- | --- | --- |"] + own
    return {name: "\n".join(lines) + "\n" for name, lines in out.items()}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.path.dirname(os.path.dirname(here)))
    parser.add_argument("--build", required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the blocks")
    mode.add_argument("--check", action="store_true", help="fail when a block differs")
    args = parser.parse_args()
    want = blocks(args.build)
    problems = []
    for doc in DOCS:
        path = os.path.join(args.source, doc)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        found = set()

        def fill(m, doc=doc, found=found):
            name = m.group(2)
            found.add(name)
            if name not in want:
                problems.append("%s: unknown settings block %r (known: %s)"
                                % (doc, name, ", ".join(sorted(want))))
                return m.group(0)
            if m.group(3) != want[name]:
                diff = difflib.unified_diff(m.group(3).splitlines(), want[name].splitlines(),
                                            "%s (%s)" % (doc, name), "the code", lineterm="")
                problems.append("%s: the %s settings table differs from the code "
                                "(tests/deploy/settings_docs.py --write):\n%s"
                                % (doc, name, "\n".join(diff)))
            return m.group(1) + want[name] + m.group(4)

        new = BLOCK.sub(fill, text)
        opened = re.findall(r"<!-- settings: (\S+) begin -->", text)
        for name in opened:
            if name not in found:
                problems.append("%s: settings block %r has no end marker" % (doc, name))
        if doc == GUIDE:
            for name in sorted(set(want) - found):
                problems.append("%s: no settings block %r: the operator guide must list every "
                                "setting" % (doc, name))
        if args.write and new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print("settings_docs: rewrote %s" % doc)
    if args.check and problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.write:
        structural = [p for p in problems if "differs from the code" not in p]
        if structural:
            print("\n".join(structural), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
