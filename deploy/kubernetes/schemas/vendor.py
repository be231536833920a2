#!/usr/bin/env python3
"""Re-vendors the JSON schemas tests/tests/kubernetes.rs validates the
manifests against (see README.md here). Offline: it reads a downloaded
kubernetes-validate wheel and a spin-operator SpinApp CRD file.

    python3 vendor.py kubernetes_validate-1.37.0-py3-none-any.whl v1.34.0 \
        core.spinkube.dev_spinapps.yaml
"""
import json
import re
import sys
import zipfile

import yaml

# The kinds the manifests use, as kubernetes-json-schema names their files.
KINDS = [
    "deployment-apps-v1",
    "service-v1",
    "poddisruptionbudget-policy-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "ingress-networking-v1",
    "networkpolicy-networking-v1",
]


def refs(node, found):
    """Collects every `$defs` name a schema node refers to."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                match = re.search(r"#/\$defs/(.+)$", value)
                if match:
                    found.add(match.group(1))
            else:
                refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def main(wheel, version, crd_path):
    base = f"kubernetes_validate/kubernetes-json-schema/{version}-local-strict/"
    with zipfile.ZipFile(wheel) as archive:
        definitions = json.loads(archive.read(base + "_definitions.json"))
        kinds = {kind: json.loads(archive.read(f"{base}{kind}.json")) for kind in KINDS}
    for kind, schema in kinds.items():
        with open(f"kubernetes/{kind}.json", "w") as out:
            json.dump(schema, out, indent=1, sort_keys=True)
            out.write("\n")
    # Keep only the definitions the kinds reach; each is copied unchanged.
    wanted, todo = set(), set()
    for schema in kinds.values():
        refs(schema, todo)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            refs(definitions["$defs"][name], todo)
    definitions["$defs"] = {name: definitions["$defs"][name] for name in sorted(wanted)}
    with open("kubernetes/_definitions.json", "w") as out:
        json.dump(definitions, out, indent=1, sort_keys=True)
        out.write("\n")
    with open(crd_path) as f:
        crd = yaml.safe_load(f)
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    with open("spinapp-core.spinkube.dev-v1alpha1.json", "w") as out:
        json.dump(served["schema"]["openAPIV3Schema"], out, indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
