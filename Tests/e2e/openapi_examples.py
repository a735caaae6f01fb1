"""Checks openapi.yaml's examples: every request body and every answer of every operation has
one (`example` or `examples`), and each is valid against its own schema. Prints one line per
problem and exits 1 if there is any; prints the counts and exits 0 otherwise.

    python3 Tests/e2e/openapi_examples.py openapi.yaml
"""
import sys

import yaml
from openapi_schema_validator import OAS31Validator

spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
problems, checked = [], 0


def resolve(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def check(where, media):
    global checked
    values = []
    if "example" in media:
        values.append(("example", media["example"]))
    for name, ex in (media.get("examples") or {}).items():
        values.append((name, ex.get("value")))
    if not values:
        problems.append(f"{where}: no example")
    # The schema with the components beside it, so that its `#/components/...` refs resolve.
    validator = OAS31Validator({**media["schema"], "components": spec["components"]})
    for name, value in values:
        checked += 1
        for error in validator.iter_errors(value):
            problems.append(f"{where} ({name}): {error.message}")


for path, item in spec["paths"].items():
    for method, op in item.items():
        if method == "parameters":
            continue
        where = f"{method.upper()} {path}"
        body = resolve(op.get("requestBody"))
        for ctype, media in ((body or {}).get("content") or {}).items():
            check(f"{where} request {ctype}", media)
        for status, response in op["responses"].items():
            for ctype, media in (resolve(response).get("content") or {}).items():
                check(f"{where} {status} {ctype}", media)

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"openapi examples: {checked} examples valid, every request and answer has one")
