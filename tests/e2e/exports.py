#!/usr/bin/env python3
"""Checks libcuda.so.1: SONAME libcuda.so.1, and its dynamic symbol table
defines exactly the cu* entry points of the version script, which are exactly
the entry points the sources define with default visibility."""
import glob
import re
import subprocess
import sys

lib, version_script, _core, api_objects = sys.argv[1:5]


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


failures = []
soname = re.search(r"SONAME\)\s+Library soname: \[(.*?)\]", run("readelf", "-d", lib))
if not soname or soname.group(1) != "libcuda.so.1":
    failures.append(f"SONAME is {soname.group(1) if soname else 'missing'}, expected libcuda.so.1")

exported = set()
for line in run("nm", "-D", "--defined-only", lib).splitlines():
    parts = line.split()
    if len(parts) == 3:
        exported.add(parts[2].split("@")[0])
not_cu = sorted(s for s in exported if not s.startswith("cu"))
if not_cu:
    failures.append(f"exports that are not cu* entry points: {not_cu[:20]}")

listed = set(re.findall(r"^\s+(cu\w+);", open(version_script).read(), re.M))

defined = set()
for obj in glob.glob(f"{api_objects}/*.o"):
    for line in run("readelf", "-sW", obj).splitlines():
        f = line.split()
        # Num Value Size Type Bind Vis Ndx Name
        if len(f) == 8 and f[3] == "FUNC" and f[4] == "GLOBAL" and f[5] == "DEFAULT" and f[6] != "UND":
            defined.add(f[7])

if exported != listed:
    failures.append(f"listed but not exported: {sorted(listed - exported)}; "
                    f"exported but not listed: {sorted(exported - listed)}")
if defined != listed:
    failures.append(f"defined but not listed (hidden by mistake): {sorted(defined - listed)}; "
                    f"listed but not defined: {sorted(listed - defined)}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"libcuda.so.1 exports exactly its {len(exported)} entry points")
