"""The scaling sweep: how aggregate throughput grows with clients and devices.
For each device count D it starts an rrto-perftest server side with
`--devices D` (host backend), and for each client count N runs
`rrto-perftest -t infer_lat --workload sleep --mode replay --clients N` with
--json. The sleep workload's one kernel sleeps on the host backend, so the
emulated devices are busy without occupying the machine's cores. Writes
scaling.json; render_scaling.py turns it into scaling.md and scaling.png.

Usage: scaling.py BUILD_DIR OUT_DIR [--quick]"""
import os
import sys
import time

from benchmark import PerftestServer, arguments, progress, run_client, write_report

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
    perftest, out_dir, quick, root = arguments("scaling", __doc__)

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
                results.append({"label": label, "clients": clients, "devices": devices, **run_client(command)})

    fields = {"workload": {"name": "sleep", "kernel_us": KERNEL_US, "mode": MODE,
                           "seconds_per_point": SECONDS_PER_POINT, "warmup": WARMUP}}
    return write_report(os.path.join(out_dir, "scaling.json"), "scaling", start, quick, root, fields, results)


if __name__ == "__main__":
    sys.exit(main())
