#!/usr/bin/env python3
"""Checks libcuda.so.1: SONAME libcuda.so.1; its dynamic symbol table defines
exactly the cu* entry points of the generated version script, which are
exactly the functions its objects define with default visibility; those are
exactly the entry points cuda.h and cudaProfiler.h declare (as the client
includes them), among them every symbol client/api/implemented.txt lists.

Usage: exports.py LIB VERSION_SCRIPT OBJECT_DIR IMPLEMENTED_LIST CXX [-IDIR]...
"""
import importlib.util
import pathlib
import re
import subprocess
import sys

lib, version_script, object_dir, implemented, cxx = sys.argv[1:6]
include_dirs = [a[2:] for a in sys.argv[6:]]

generator_path = pathlib.Path(__file__).resolve().parents[2] / "client/gen/gen_entry_points.py"
spec = importlib.util.spec_from_file_location("gen_entry_points", generator_path)
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)


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

mapped = set(re.findall(r"^\s+(cu\w+);", open(version_script).read(), re.M))

defined = set()
for obj in pathlib.Path(object_dir).rglob("*.o"):
    for line in run("readelf", "-sW", str(obj)).splitlines():
        f = line.split()
        # Num Value Size Type Bind Vis Ndx Name
        if len(f) == 8 and f[3] == "FUNC" and f[4] == "GLOBAL" and f[5] == "DEFAULT" and f[6] != "UND":
            defined.add(f[7])

if exported != mapped:
    failures.append(f"in the version script but not exported: {sorted(mapped - exported)}; "
                    f"exported but not in the version script: {sorted(exported - mapped)}")
if defined != mapped:
    failures.append(f"defined but not in the version script (hidden by mistake): {sorted(defined - mapped)}; "
                    f"in the version script but not defined: {sorted(mapped - defined)}")

listed = {line.split("#", 1)[0].split()[0] for line in open(implemented) if line.split("#", 1)[0].strip()}
if not listed <= exported:
    failures.append(f"listed but not exported: {sorted(listed - exported)}")
declared = set(generator.declarations(cxx, include_dirs))
if exported != declared:
    failures.append(f"exported but not declared by the headers: {sorted(exported - declared)}; "
                    f"declared but not exported: {sorted(declared - exported)}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"libcuda.so.1 exports exactly the {len(exported)} entry points the headers declare "
      f"({len(listed)} listed as implemented)")
