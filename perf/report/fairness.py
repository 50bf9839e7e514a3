#!/usr/bin/env python3
"""Device-time shares of two clients on one emulated device.

Starts an rrto-server (host backend, one device, the perf kernels, and per-
client weights), then two clients at once, each the sleep workload of
rrto-perf-workload in replay mode for SECONDS: client_a with kernels of
KERNEL_US_A µs, client_b with KERNEL_US_B µs (the program is copied under those
two names, which the server's `weights` match). Each client's device time is
its inferences × its kernel time; the shares are of their sum.

Usage: fairness.py BUILD_DIR KERNEL_US_A KERNEL_US_B [WEIGHT_A WEIGHT_B] [--seconds S]
e.g.   fairness.py build 10000 1000        (long against short inferences)
       fairness.py build 2000 2000 2 1     (weights 2:1)"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def start_server(build, work, config):
    """An rrto-server of BUILD with CONFIG (listening on a free loopback port); returns it and its address."""
    config = dict(config, listen="127.0.0.1:0")
    with open(os.path.join(work, "server.json"), "w") as f:
        json.dump(config, f)
    port_file = os.path.join(work, "port")
    server = subprocess.Popen([os.path.join(build, "bin", "rrto-server"), "--config", os.path.join(work, "server.json"),
                               "--port-file", port_file], stdout=open(os.path.join(work, "server.log"), "w"),
                              stderr=subprocess.STDOUT)
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if server.poll() is not None:
            sys.exit(open(os.path.join(work, "server.log")).read())
        time.sleep(0.05)
    return server, "127.0.0.1:" + open(port_file).read().strip()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 8.0
    if "--seconds" in sys.argv:
        args.remove(sys.argv[sys.argv.index("--seconds") + 1])
    if len(args) not in (3, 5):
        sys.exit(__doc__)
    build, kernel_us = os.path.abspath(args[0]), {"client_a": int(args[1]), "client_b": int(args[2])}
    weights = {"client_a": int(args[3]), "client_b": int(args[4])} if len(args) == 5 else {"client_a": 1, "client_b": 1}
    work = tempfile.mkdtemp(prefix="rrto-fairness-")
    server, address = start_server(build, work, {
        "backend": "host", "devices": [{"memory_mb": 1024}],
        "host_kernel_libraries": [os.path.join(build, "lib", "librrto_perf_kernels.so")],
        "weights": [{"client": name, "weight": w} for name, w in weights.items()]})
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(build, "lib"), RRTO_SERVER=address, RRTO_MODE="replay")
    clients = {}
    for name, us in kernel_us.items():
        program = os.path.join(work, name)
        shutil.copy(os.path.join(build, "bin", "rrto-perf-workload"), program)
        # Files, not pipes: a client's output must never wait for a reader
        # (each inference writes a line).
        clients[name] = subprocess.Popen([program, "sleep", "--kernel-us", str(us), "--iterations", "100000000",
                                          "--warmup", "3", "--max-seconds", str(seconds)],
                                         env=env, stdout=open(os.path.join(work, name + ".out"), "w"),
                                         stderr=open(os.path.join(work, name + ".err"), "w"))
    device_s = {}
    for name, p in clients.items():
        p.wait()
        out, err = (open(os.path.join(work, name + ext)).read() for ext in (".out", ".err"))
        done = re.search(r"done iterations=(\d+) wall=(\d+)", out)
        if p.returncode != 0 or not done:
            server.send_signal(signal.SIGTERM)
            sys.exit(f"{name} failed (exit {p.returncode}):\n{err[-2000:]}")
        device_s[name] = int(done.group(1)) * kernel_us[name] / 1e6
        print(f"{name}: {done.group(1)} inferences of {kernel_us[name]} µs in {int(done.group(2)) / 1e9:.2f} s, "
              f"weight {weights[name]}: {device_s[name]:.2f} s of device time")
    server.send_signal(signal.SIGTERM)
    server.wait()
    total = sum(device_s.values())
    print(f"shares: client_a {device_s['client_a'] / total:.3f}, client_b {device_s['client_b'] / total:.3f}; "
          f"ratio a/b {device_s['client_a'] / device_s['client_b']:.2f}")


if __name__ == "__main__":
    main()
