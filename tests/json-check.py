"""Check hostprep --json documents against the JSON contract.

    /usr/bin/python3 tests/json-check.py SCHEMA (DIR | FILE)...

Each file holds what one --json run printed on stdout: it must be exactly one
JSON document, valid against SCHEMA (agent/hostprep.schema.json), and agree
with itself where a schema cannot say it (unique action ids, summary and
pending matching the actions, exit code matching the states).  Prints one
line per problem and the count; exits 1 when there is any.

Runs under Debian's python3 with python3-jsonschema (the python3 on PATH may be
another build without Debian's packages).
"""
import json
import os
import sys

import jsonschema

STATES = ("ok", "pending", "changed", "pending-reboot", "pending-reload", "failed", "skipped", "unsupported")


def invariants(doc):
    """What the schema cannot express: consistency inside a run document."""
    if "actions" not in doc or "summary" not in doc:
        return []
    problems = []
    actions = doc["actions"]
    ids = [a["id"] for a in actions]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        problems.append("action ids not unique: %s" % ", ".join(dup))
    counts = {s: sum(1 for a in actions if a["state"] == s) for s in STATES}
    if counts != doc["summary"]:
        problems.append("summary %s does not count the actions %s" % (doc["summary"], counts))
    if doc["pending"] != counts["pending"]:
        problems.append("pending %d, but %d actions are pending" % (doc["pending"], counts["pending"]))
    code = doc["exit_code"]
    if doc["command"] == "audit":
        want = 4 if counts["failed"] else 2 if counts["pending"] else 0
        if code != want:
            problems.append("audit exit_code %d with %d pending and %d failed" % (code, counts["pending"], counts["failed"]))
    if doc["command"] == "apply":
        if bool(code & 4) != bool(counts["failed"]):
            problems.append("apply exit_code %d with %d failed actions" % (code, counts["failed"]))
        if counts["changed"] and not code & 2:
            problems.append("apply exit_code %d with %d changed actions" % (code, counts["changed"]))
        if doc["changed"] != bool(code & 2):
            problems.append("changed is %s beside exit_code %d" % (doc["changed"], code))
    if doc["reboot_required"] != any(a.get("reboot_required") for a in actions):
        problems.append("reboot_required %s disagrees with the actions" % doc["reboot_required"])
    return problems


def check(validator, path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        return ["no document on stdout"]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return ["not one JSON document: %s" % e]
    problems = []
    for e in validator.iter_errors(doc):
        if e.validator == "oneOf" and not e.absolute_path:
            # Say what is wrong against the document kind that came closest.
            best = jsonschema.exceptions.best_match(e.context)
            branch = [s for s in e.context if s.schema_path[0] == best.schema_path[0]]
            problems.append("matches no document kind; against %s:" % e.schema["oneOf"][best.schema_path[0]]["$ref"])
            errors = branch[:5]
        else:
            errors = [e]
        for sub in errors:
            where = "/".join(str(p) for p in sub.absolute_path) or "(document)"
            problems.append("%s: %s" % (where, sub.message[:300]))
    if not problems:
        problems = invariants(doc)
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    files = []
    for arg in sys.argv[2:]:
        if os.path.isdir(arg):
            files += sorted(os.path.join(arg, n) for n in os.listdir(arg))
        else:
            files.append(arg)
    bad = 0
    for path in files:
        problems = check(validator, path)
        if problems:
            bad += 1
            name = os.path.basename(path).rsplit(".", 1)[0]
            print("%s: %s" % (name, problems[0]))
            for p in problems[1:]:
                print("    %s" % p)
    print("%d documents, %d invalid" % (len(files), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
