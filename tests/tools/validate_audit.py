#!/usr/bin/python3
"""validate_audit.py SCHEMA FILE - check every line of an awf-bpf audit log
against docs/audit.schema.json (JSON Schema draft 2020-12).

Prints "ok N lines" and exits 0, or one "line N: ..." per problem (at most
20) and exits 1. An empty file is an error: a test that expects a log
expects lines.
"""

import json
import sys

from jsonschema import Draft202012Validator


def main():
    if len(sys.argv) != 3:
        print("usage: validate_audit.py SCHEMA FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    problems = []
    n = 0
    with open(sys.argv[2]) as f:
        for no, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            try:
                rec = json.loads(line)
            except ValueError as e:
                problems.append("line %d: not JSON: %s" % (no, e))
                continue
            for err in sorted(validator.iter_errors(rec), key=str):
                path = "/".join(str(p) for p in err.absolute_path)
                problems.append("line %d: %s: %s | %s" % (no, path or "(top)", err.message, line.strip()[:300]))
    if n == 0:
        problems.append("no lines")
    for p in problems[:20]:
        print(p)
    if problems:
        print("%d problems in %d lines" % (len(problems), n))
        return 1
    print("ok %d lines" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
