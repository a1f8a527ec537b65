#!/usr/bin/env python3
"""Checks what libnormrt.so exports (nm -D): its soname is libnormrt.so.<major>,
and every defined dynamic symbol is the public API — a C function normrt_*, or
a C++ name whose first component after normrt:: is declared in include/normrt/
(not a nested implementation type like Session::Impl) — or a vague-linkage
instance of a standard-library template. Anything else (internal normrt::
functions, onnx::, google::, xsimd::, tbb:: …) fails the check.
  check_exports.py LIBNORMRT_SO INCLUDE_DIR MAJOR"""
import os
import re
import subprocess
import sys


def public_identifiers(include_dir):
    words = set()
    for f in os.listdir(include_dir):
        with open(os.path.join(include_dir, f), encoding="utf-8") as src:
            words.update(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", src.read()))
    return words


def main():
    lib, include_dir, major = sys.argv[1], sys.argv[2], sys.argv[3]
    dyn = subprocess.run(["readelf", "-d", lib], capture_output=True, text=True, check=True).stdout
    soname = re.search(r"Library soname: \[([^\]]+)\]", dyn)
    bad = []
    if not soname or soname.group(1) != f"libnormrt.so.{major}":
        bad.append(f"soname is {soname.group(1) if soname else 'missing'}, expected libnormrt.so.{major}")
    public = public_identifiers(include_dir)
    out = subprocess.run(["nm", "-D", "--defined-only", "-C", lib], capture_output=True, text=True, check=True).stdout
    count = 0
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        sym = parts[2]
        count += 1
        name = re.sub(r"^(typeinfo name for|typeinfo for|vtable for|guard variable for) ", "", sym)
        # a template instance demangled with its return type (void, bool, int, …)
        name = re.sub(r"^(void|bool|char|int|long|unsigned int|unsigned long|float|double) ", "", name)
        if name.startswith(("std::", "__gnu_cxx::")):
            continue  # a standard-library template instantiated with default visibility
        if "::" not in name and "(" not in name:
            if not name.startswith("normrt_"):
                bad.append(f"C symbol outside the C API: {sym}")
            continue
        m = re.match(r"normrt::([A-Za-z_0-9]+)(::([A-Za-z_0-9~]+))?", name)
        if not m or m.group(1) not in public:
            bad.append(f"not public API: {sym}")
        elif m.group(3) and (m.group(3) == "Impl" or m.group(3).lstrip("~") not in public):
            bad.append(f"not public API: {sym}")
    for b in bad:
        print(b)
    print(f"{count} exported symbols checked, {len(bad)} not public API; soname "
          f"{soname.group(1) if soname else 'missing'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
