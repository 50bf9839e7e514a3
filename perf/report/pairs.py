#!/usr/bin/env python3
"""Two clients on two host devices against one client alone, in real (not simulated) device time.

Starts an rrto-server (host backend, two devices, the example kernels), then runs
`cnn_driver --inferences 150 --batch 8` (the example CNN through the client library,
every output checked against its CPU reference) once alone and twice at once, PAIRS
times, and prints each pair's ratio (both together / one alone) and their median.
1.0: the two ran fully in parallel; 2.0: one after the other.

Usage: pairs.py BUILD_DIR [PAIRS]      (3 pairs by default)"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from fairness import start_server


def timed_run(command, env, count):
    start = time.monotonic()
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(count)]
    if any(r.wait() != 0 for r in runs):
        sys.exit("a cnn_driver run failed")
    return time.monotonic() - start


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build, pairs = os.path.abspath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 3
    work = tempfile.mkdtemp(prefix="rrto-pairs-")
    server, address = start_server(build, work, {
        "backend": "host", "devices": [{"memory_mb": 2048, "name": "a"}, {"memory_mb": 2048, "name": "b"}],
        "host_kernel_libraries": [os.path.join(build, "lib", "librrto_example_kernels.so")]})
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(build, "lib"), RRTO_SERVER=address)
    command = [os.path.join(build, "bin", "cnn_driver"), "--inferences", "150", "--batch", "8"]
    ratios = []
    try:
        for _ in range(pairs):
            one, two = timed_run(command, env, 1), timed_run(command, env, 2)
            ratios.append(two / one)
            print(f"one client {one:.2f} s, two at once {two:.2f} s: ratio {two / one:.3f}", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    print(f"median ratio of {pairs} pairs: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
