"""The scaling sweep: how aggregate throughput grows with clients and devices.
For each device count D it starts an rrto-perftest server side with
`--devices D` (host backend), and for each client count N runs
`rrto-perftest -t infer_lat --workload sleep --mode replay --clients N` with
--json. The sleep workload's one kernel sleeps on the host backend, so the
emulated devices are busy without occupying the machine's cores. Writes
scaling.json; render_scaling.py turns it into scaling.md and scaling.png.

Usage: scaling.py BUILD_DIR OUT_DIR [--quick]"""
import datetime
import json
import os
import subprocess
import sys
import time

from benchmark import PerftestServer, git_state, machine, progress

CLIENTS = [1, 2, 4, 8, 16, 32]
DEVICES = [1, 2, 4, 8]
KERNEL_US = 1000
MODE = "replay"
SECONDS_PER_POINT = 2  # measured seconds per point (--max-time), after set-up and warm-up
WARMUP = 8             # replay records and confirms the sequence first


def plan(quick):
    clients = [1, 2, 4] if quick else CLIENTS
    devices = [1, 2] if quick else DEVICES
    return [(d, n) for d in devices for n in clients]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, out_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    quick = "--quick" in sys.argv[3:]
    perftest = os.path.join(build, "bin", "rrto-perftest")
    if not os.path.exists(perftest):
        sys.exit(f"scaling: {perftest} is missing; build first")
    os.makedirs(out_dir, exist_ok=True)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    points = plan(quick)
    results = []
    start = time.time()
    index = 0
    for devices in sorted({d for d, _ in points}):
        log = os.path.join(out_dir, f"scaling-server-{devices}.log")
        with PerftestServer(perftest, log, ["--devices", str(devices)]) as server:
            for d, clients in points:
                if d != devices:
                    continue
                index += 1
                label = f"{clients} client(s) on {devices} device(s)"
                progress(index, len(points), start, label)
                command = [perftest, "127.0.0.1", "-p", str(server.port), "-t", "infer_lat", "--json",
                           "--workload", "sleep", "--kernel-us", str(KERNEL_US), "--mode", MODE,
                           "--clients", str(clients), "--devices", str(devices),
                           "-n", "100000", "--max-time", str(SECONDS_PER_POINT), "-w", str(WARMUP)]
                t0 = time.time()
                try:
                    r = subprocess.run(command, capture_output=True, text=True, timeout=600)
                    stdout, stderr, code = r.stdout, r.stderr, r.returncode
                except subprocess.TimeoutExpired as e:
                    stdout, stderr, code = "", f"timed out after {e.timeout} s", -1
                try:
                    doc = json.loads(stdout)
                except ValueError:
                    doc = None
                results.append({"label": label, "clients": clients, "devices": devices, "exit_code": code,
                                "seconds": round(time.time() - t0, 2), "perftest": doc,
                                "stderr": stderr[-2000:] if (code != 0 or doc is None) else ""})
    if sys.stderr.isatty():
        sys.stderr.write("\n")

    report = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - start, 1),
        "quick": quick,
        "git": git_state(root),
        "machine": machine(),
        "workload": {"name": "sleep", "kernel_us": KERNEL_US, "mode": MODE, "seconds_per_point": SECONDS_PER_POINT,
                     "warmup": WARMUP},
        "results": results,
    }
    path = os.path.join(out_dir, "scaling.json")
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=1)
    os.replace(path + ".tmp", path)
    failed = [r["label"] for r in results if r["exit_code"] != 0]
    print(f"scaling: {len(results)} points in {report['duration_s']} s, written to {path}", file=sys.stderr)
    if failed:
        print(f"scaling: {len(failed)} point(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
