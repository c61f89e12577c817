#!/usr/bin/env python3
"""Every IAM action the template names is a real AWS action, and no Allow grants a
wildcard action.

cfn-lint skips its IAM-action check on SAM templates, so this walks every policy
document in the template (role policies, SAM function policies, key, bucket and queue
policies) and looks each action up in policyuniverse's catalogue of AWS actions.
Wildcards are accepted only in Deny statements (the TLS-only guards deny "s3:*").

usage: iam_actions.py TEMPLATE
"""

import sys

from cfnlint.decode import decode
from policyuniverse import all_permissions


def statements(node, path="template"):
    """Every IAM statement under `node`, with where it is."""
    if isinstance(node, dict):
        statement = node.get("Statement")
        if isinstance(statement, list):
            for i, s in enumerate(statement):
                yield f"{path}.Statement[{i}]", s
        for key, value in node.items():
            yield from statements(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from statements(value, f"{path}[{i}]")


def as_list(value):
    return value if isinstance(value, list) else [value]


def main(path):
    template, problems = decode(path)
    if problems:
        for p in problems:
            print(p)
        return 1
    errors, checked = [], 0
    for where, statement in statements(template.get("Resources", {}), "Resources"):
        if not isinstance(statement, dict):
            continue
        effect = statement.get("Effect")
        for key in ("Action", "NotAction"):
            for action in as_list(statement.get(key, [])):
                if not isinstance(action, str):
                    errors.append(f"{where}: {key} {action!r} is not a literal action")
                    continue
                checked += 1
                if "*" in action:
                    if effect != "Deny":
                        errors.append(f"{where}: {action} is a wildcard action in an Allow")
                    continue
                if action.lower() not in all_permissions:
                    errors.append(f"{where}: {action} is not an AWS action")
    for e in errors:
        print(f"iam-actions: {e}")
    print(f"iam-actions: {checked} actions checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
