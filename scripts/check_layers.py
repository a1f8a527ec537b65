#!/usr/bin/env python3
"""Checks that each source folder includes only the folders below it (README,
"How it is built"). Prints every include that reaches upward or sideways and
exits 1 if there is one; exits 0 otherwise."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# folder -> the folders its files may include (besides itself and the public headers)
ALLOWED = {
    "include": set(),
    "core": set(),
    "loaders": {"core"},
    "ops": {"core"},
    "plan": {"ops", "core"},
    "passes": {"plan", "ops", "core"},
    "engine": {"passes", "plan", "ops", "loaders", "core"},
    "tools": set(),
    "python": set(),
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    rel = os.path.relpath(path, ROOT)
    return rel.split(os.sep)[0]


def main():
    bad = []
    checked = 0
    for layer in ALLOWED:
        for dirpath, _, files in os.walk(os.path.join(ROOT, layer)):
            for f in files:
                if not f.endswith((".h", ".hpp", ".cpp", ".c")):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8") as src:
                    for lineno, line in enumerate(src, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        checked += 1
                        inc = m.group(1)
                        if inc.startswith("normrt/"):
                            continue  # the public headers: every layer may use them
                        target = os.path.normpath(os.path.join(dirpath, inc))
                        if not os.path.exists(target):
                            bad.append(f"{os.path.relpath(path, ROOT)}:{lineno}: '{inc}' is not a file beside it")
                            continue
                        to = layer_of(target)
                        if to != layer and to not in ALLOWED[layer]:
                            bad.append(f"{os.path.relpath(path, ROOT)}:{lineno}: {layer}/ includes {to}/ ('{inc}')")
    for b in bad:
        print(b)
    print(f"{checked} includes checked, {len(bad)} against the layering")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
