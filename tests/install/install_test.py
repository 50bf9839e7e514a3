#!/usr/bin/env python3
"""The .deb, used the way a user would, without root: cpack -G DEB builds it
from the build tree, dpkg-deb -x unpacks it into a scratch prefix, a
host-kernel library is built against the installed SDK (find_package and
pkg-config), the installed rrto-server runs it and the example programs run
through the installed libcuda.so.1.

Usage: install_test.py --scratch DIR --consumer DIR --examples DIR --cxx CXX
--generator G --cmake CMAKE --cpack CPACK (RRTO_BUILD_DIR names the build
tree). Exit 77: no dpkg-deb here."""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import BIN, BUILD, Failure, Server, check, client_env, run_program  # noqa: E402

PROGRAMS = ("rrto-server", "rrto-kernel-runner", "rrto-perftest", "rrto-trace", "rrto-perf-workload")


def run(args, what, **kwargs):
    p = subprocess.run(args, capture_output=True, text=True, **kwargs)
    check(p.returncode == 0, f"{what} failed (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def build_package(cpack, scratch):
    """cpack -G DEB from the build tree; returns the .deb's path."""
    out = os.path.join(scratch, "package")
    run([cpack, "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", out], "cpack -G DEB")
    debs = glob.glob(os.path.join(out, "rrto_*.deb"))
    check(len(debs) == 1, f"cpack made {debs}, not one rrto_*.deb")
    return debs[0]


def check_layout(prefix):
    """The client library in a folder of its own, the rest where users look."""
    expected = [f"bin/{p}" for p in PROGRAMS] + [
        "lib/rrto/libcuda.so.1", "lib/rrto/libcuda.so",
        "lib/rrto/host-kernels/librrto_example_kernels.so", "lib/rrto/host-kernels/librrto_perf_kernels.so",
        "include/rrto/host_kernel.h", "include/rrto/host_kernel_abi.h",
        "share/rrto/local.json", "share/rrto/edge-server.json", "share/rrto/edge-cluster.json",
        "share/cmake/RRTO/RRTOConfig.cmake", "share/pkgconfig/rrto-host-kernel.pc"]
    for path in expected:
        check(os.path.exists(os.path.join(prefix, path)), f"the package has no {path}")
    check(os.readlink(os.path.join(prefix, "lib/rrto/libcuda.so")) == "libcuda.so.1", "libcuda.so is not a link")
    client_dir = os.path.join(prefix, "lib/rrto")
    strays = [os.path.join(d, f) for d, _, files in os.walk(prefix) for f in files
              if f.startswith("libcuda") and d != client_dir]
    check(not strays, f"libcuda outside lib/rrto/, where the system's driver may be: {strays}")
    local = os.path.join(prefix, "share/rrto/local.json")
    for library in json.load(open(local))["host_kernel_libraries"]:
        path = os.path.normpath(os.path.join(os.path.dirname(local), library))
        check(os.path.exists(path), f"share/rrto/local.json names {library}, not in the package")


def dynamic_section(path, tag):
    """The values of one tag (NEEDED, RPATH, RUNPATH) of an ELF file's dynamic section."""
    values = []
    for line in run(["readelf", "-d", path], f"readelf -d {path}").splitlines():
        if f"({tag})" in line and "[" in line:
            values += line[line.index("[") + 1:line.rindex("]")].split(":")
    return values


def installed_elves(prefix):
    files = [os.path.join(prefix, "bin", p) for p in PROGRAMS] + [os.path.join(prefix, "lib/rrto/libcuda.so.1")]
    return files + glob.glob(os.path.join(prefix, "lib/rrto/host-kernels/*.so"))


def check_rpaths(prefix):
    """No installed file finds libraries through the client's folder or the
    CUDA toolkit's: rrto-server must load the real driver, never ours."""
    for path in installed_elves(prefix):
        for entry in dynamic_section(path, "RPATH") + dynamic_section(path, "RUNPATH"):
            check("rrto" not in entry and "cuda" not in entry, f"{path} has RPATH/RUNPATH entry {entry}")


def owning_package(library):
    """The Debian package a resolved library path belongs to, or None."""
    p = subprocess.run(["dpkg", "-S", os.path.realpath(library)], capture_output=True, text=True)
    if p.returncode != 0:
        p = subprocess.run(["dpkg", "-S", library], capture_output=True, text=True)
    return p.stdout.split(":")[0] if p.returncode == 0 else None


def check_depends(deb, prefix):
    """Every shared library an installed file needs (NEEDED, as ldd resolves
    it) comes from a package the .deb depends on; libraries that no package
    owns (e.g. unpacked by hand) are not checked."""
    depends = {d.strip().split(" ")[0] for d in run(["dpkg-deb", "-f", deb, "Depends"], "dpkg-deb -f").split(",")}
    checked = 0
    for path in installed_elves(prefix):
        resolved = {}
        for line in run(["ldd", path], f"ldd {path}").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "=>":
                resolved[parts[0]] = parts[2]
        # libcuda.so.1: the client library, which the package itself holds.
        for needed in set(dynamic_section(path, "NEEDED")) - {"libcuda.so.1"}:
            package = owning_package(resolved.get(needed, needed))
            if package:
                check(package in depends, f"{os.path.basename(path)} needs {needed} from {package}, "
                                          f"which the package does not depend on ({sorted(depends)})")
                checked += 1
    check(checked > 0, "no needed library could be traced to a package")


def build_kernels_with_find_package(prefix, args):
    """The examples' CNN kernels, built by a CMake project of its own against
    the installed SDK (find_package(RRTO)); returns the library's path."""
    build = os.path.join(args.scratch, "consumer")
    run([args.cmake, "-S", args.consumer, "-B", build, "-G", args.generator, f"-DCMAKE_CXX_COMPILER={args.cxx}",
         f"-DCMAKE_PREFIX_PATH={prefix}", f"-DRRTO_EXAMPLES_DIR={args.examples}"], "configuring the consumer project")
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    check(f"RRTO_DIR:PATH={prefix}/share/cmake/RRTO" in cache, "find_package(RRTO) did not find the installed package")
    run([args.cmake, "--build", build], "building the consumer project")
    return os.path.join(build, "libcnn_kernels.so")


def build_kernels_with_pkg_config(prefix, args):
    """param_probe's kernels, built by hand with pkg-config's flags."""
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "share/pkgconfig"))
    env.pop("PKG_CONFIG_SYSROOT_DIR", None)
    cflags = run(["pkg-config", "--cflags", "rrto-host-kernel"], "pkg-config --cflags rrto-host-kernel", env=env)
    check(prefix in cflags, f"pkg-config's flags do not name the installed SDK: {cflags}")
    library = os.path.join(args.scratch, "libprobe_kernels.so")
    run([args.cxx, "-std=c++17", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-ffp-contract=off",
         *cflags.split(), "-o", library, os.path.join(args.examples, "param_probe/param_probe_host_kernels.cpp")],
        "building a host-kernel library with pkg-config's flags")
    return library


def run_examples(prefix, kernel_libraries):
    """The installed rrto-server with those libraries; the examples through
    the installed client library, their outputs checked by themselves."""
    config = {"backend": "host", "devices": [{"memory_mb": 1024}], "host_kernel_libraries": kernel_libraries}
    with Server(extra_config=config, program=os.path.join(prefix, "bin/rrto-server")) as server:
        for mode in ("rpc", "replay"):
            env = client_env(server.address(), mode, client_lib_dir=os.path.join(prefix, "lib/rrto"))
            r = run_program("cnn_driver", ["--inferences", "6"], env)
            check(r.returncode == 0 and "outputs match reference" in r.stdout, f"cnn_driver, {mode}: {r.describe()}")
            check(r.stats is not None and r.stats["round_trips"] > 0, f"cnn_driver did not reach the server: "
                                                                     f"{r.describe()}")
            r = run_program("param_probe", [], env)
            check(r.returncode == 0, f"param_probe, {mode}: {r.describe()}")
        check(server.stop() == 0, f"the installed rrto-server did not exit cleanly:\n{server.output()}")


def run_perftest(prefix):
    """The installed rrto-perftest finds its server, workload, kernels and
    client library in the installed layout."""
    smoke = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "perf", "perftest_smoke.py")
    out = run([sys.executable, smoke, "infer_lat"], "the installed rrto-perftest (infer_lat)",
              env=dict(os.environ, RRTO_BUILD_DIR=prefix))
    check("ok infer_lat" in out, f"perftest_smoke.py said: {out}")


def parse_args():
    parser = argparse.ArgumentParser()
    for option in ("scratch", "consumer", "examples", "cxx", "generator", "cmake", "cpack"):
        parser.add_argument(f"--{option}", required=True)
    return parser.parse_args()


def main():
    args = parse_args()
    if not shutil.which("dpkg-deb"):
        print("no dpkg-deb here: skipped")
        sys.exit(77)
    check(os.path.exists(os.path.join(BIN, "cnn_driver")), "build/bin/cnn_driver is not built")
    shutil.rmtree(args.scratch, ignore_errors=True)
    os.makedirs(args.scratch)
    deb = build_package(args.cpack, args.scratch)
    root = os.path.join(args.scratch, "root")
    run(["dpkg-deb", "-x", deb, root], "dpkg-deb -x")
    prefix = os.path.join(root, "usr")
    check_layout(prefix)
    check_rpaths(prefix)
    check_depends(deb, prefix)
    libraries = [build_kernels_with_find_package(prefix, args), build_kernels_with_pkg_config(prefix, args)]
    run_examples(prefix, libraries)
    run_perftest(prefix)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAILED: {e}")
        sys.exit(1)
    print("passed: the .deb installs, builds host-kernel libraries and runs the examples")
