"""The edge-network benchmark: runs rrto-perftest's tests against a local
rrto-perftest server (which starts an rrto-server on the host backend) over a
sweep of emulated links, and writes everything it measured to one JSON file.
render.py turns that file into the Markdown report and the plot.

Usage: benchmark.py BUILD_DIR OUT_DIR [--quick]

Every run is one rrto-perftest client invocation with --json. Runs are
bounded by iterations and by time (--max-time), so that the whole sweep fits
in the budget on a small machine; rpc at high RTT gets few iterations because
each of its inferences costs hundreds of round trips."""
import ctypes
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

# (name, spec, RTT in ms): the RTT sweep, no bandwidth limit, so that round
# trips alone make the difference.
SWEEP = [("rtt0", "off", 0.0), ("rtt1", "rtt=1ms", 1.0), ("rtt5", "rtt=5ms", 5.0), ("rtt20", "rtt=20ms", 20.0)]
# Typical edge links, with their bandwidth (transport/link.cpp has the figures).
PRESETS = [("lan", "lan"), ("wifi6", "wifi6"), ("5g", "5g")]
MODES = ["rpc", "async", "replay", "ideal"]
WORKLOADS = ["cnn", "resnet50", "bert", "detector"]
PRESET_WORKLOADS = ["resnet50"]
SIZES = "65536,1048576,4194304"
# What compressing the photograph inputs changes: replay on these links, run
# in pairs back to back, uploads compressed when it pays ("compressed") and
# never (RRTO_COMPRESSION=off, "uncompressed"), the pairs repeated.
UNCOMPRESSED_WORKLOAD = "resnet50"
UNCOMPRESSED_LINKS = ["rtt0", "lan", "5g"]
COMPRESSION_PAIRS = 3
# The floors (raw UCX against RRTO) are compared pair by pair, the pairs
# repeated: on a small shared machine one run alone can land in a busy moment.
FLOOR_PAIRS = 3


def warmup(mode, rtt_ms):
    # replay needs its first iterations to record and confirm the sequence;
    # rpc has nothing to warm up but costs hundreds of round trips each.
    if mode in ("replay", "ideal"):
        return 8
    if mode == "rpc":
        return 3 if rtt_ms == 0 else 1
    return 3


def plan(quick):
    """The runs, in order: (label, test, link name, link spec, arguments, pair, variant); variant
    "compressed" or "uncompressed" (with RRTO_COMPRESSION=off): the compression pairs."""
    runs = []
    sweep = SWEEP[:2] if quick else SWEEP
    workloads = ["cnn"] if quick else WORKLOADS
    t = 1 if quick else 2  # seconds per latency run
    pairs = 1 if quick else FLOOR_PAIRS
    n_bw = ["-n", "20", "-w", "2"] if quick else ["-n", "300", "-w", "10"]
    for pair in range(1, pairs + 1):
        lat = ["-n", "1000000", "--max-time", str(t), "-w", "1000"]
        runs.append((f"raw_am_lat rtt0 #{pair}", "raw_am_lat", "rtt0", "off", lat, pair))
        runs.append((f"rpc_lat rtt0 #{pair}", "rpc_lat", "rtt0", "off", lat, pair))
        runs.append((f"raw_am_bw rtt0 #{pair}", "raw_am_bw", "rtt0", "off", ["-s", SIZES] + n_bw, pair))
        runs.append((f"memcpy_bw rtt0 #{pair}", "memcpy_bw", "rtt0", "off", ["-s", SIZES, "--mode", "rpc"] + n_bw,
                     pair))
    for name, spec, rtt in sweep[1:]:
        lat = ["-n", "100000", "--max-time", str(t), "-w", "3"]
        runs.append((f"raw_am_lat {name}", "raw_am_lat", name, spec, lat, None))
        runs.append((f"rpc_lat {name}", "rpc_lat", name, spec, lat, None))
    for name, spec, rtt in sweep:
        for mode in MODES:
            runs.append((f"launch_lat {mode} {name}", "launch_lat", name, spec,
                         ["--mode", mode, "-n", "5000", "--max-time", str(t), "-w", str(warmup(mode, rtt))], None))
    infer_time = "1" if quick else "4"
    for workload in workloads:
        links = [(n, s) for n, s, _ in sweep] + ([] if quick or workload not in PRESET_WORKLOADS else PRESETS)
        for name, spec in links:
            rtt = dict((n, r) for n, _, r in SWEEP).get(name, 10.0)
            for mode in MODES:
                runs.append((f"infer_lat {workload} {mode} {name}", "infer_lat", name, spec,
                             ["--workload", workload, "--mode", mode, "-n", "300", "--max-time", infer_time,
                              "-w", str(warmup(mode, rtt))], None))
            if workload == UNCOMPRESSED_WORKLOAD and name in UNCOMPRESSED_LINKS:
                for pair in range(1, COMPRESSION_PAIRS + 1):
                    for variant in ("compressed", "uncompressed"):
                        runs.append((f"infer_lat {workload} replay {name} {variant} #{pair}", "infer_lat", name,
                                     spec, ["--workload", workload, "--mode", "replay", "-n", "300", "--max-time",
                                            infer_time, "-w", str(warmup("replay", rtt))], pair, variant))
    return [r if len(r) == 7 else r + (None,) for r in runs]


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    ucx = None
    try:
        # The library the tools run with (ucx_info is in a package of its own).
        version = ctypes.CDLL("libucp.so.0").ucp_get_version_string
        version.restype = ctypes.c_char_p
        ucx = version().decode()
    except (OSError, AttributeError):
        pass
    virt = None
    try:
        out = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True, timeout=10).stdout.strip()
        virt = out or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib, "kernel": platform.release(),
            "virtualization": virt, "ucx": ucx, "ucx_tls": os.environ.get("UCX_TLS")}


def git_state(root):
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": commit or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


class PerftestServer:
    """An rrto-perftest server side on a free loopback port; `args`: more of its options (--devices)."""

    def __init__(self, perftest, log_path, args=()):
        self.perftest = perftest
        self.log_path = log_path
        self.args = list(args)

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="rrto-bench-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(self.log_path, "w")
        # Shared memory, as a trusted local client may use it: loopback's
        # stand-in for RDMA's microsecond round trips.
        self.proc = subprocess.Popen([self.perftest, "-p", "0", "--listen", "127.0.0.1", "--port-file", port_file,
                                      "--shared-memory", *self.args], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"benchmark: the rrto-perftest server exited ({self.proc.returncode}); see {self.log_path}")
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read())
                return self
            time.sleep(0.05)
        sys.exit("benchmark: the rrto-perftest server did not start")

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        return False


def run_client(command, env=None):
    """One rrto-perftest client run with --json: its exit code, time, document (None when it printed none) and,
    when something went wrong, the end of its stderr."""
    t0 = time.time()
    try:
        r = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
        stdout, stderr, code = r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        stdout, stderr, code = "", f"timed out after {e.timeout} s", -1
    try:
        doc = json.loads(stdout)
    except ValueError:
        doc = None
    return {"exit_code": code, "seconds": round(time.time() - t0, 2), "perftest": doc,
            "stderr": stderr[-2000:] if (code != 0 or doc is None) else ""}


def write_report(path, name, start, quick, root, fields, results):
    """Writes the report to `path` (atomically): when and where it ran, then `fields`, then `results`; says how
    the runs went; returns the exit status."""
    if sys.stderr.isatty():
        sys.stderr.write("\n")  # after the progress line
    report = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - start, 1),
        "quick": quick,
        "git": git_state(root),
        "machine": machine(),
        **fields,
        "results": results,
    }
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=1)
    os.replace(path + ".tmp", path)
    failed = [r["label"] for r in results if r["exit_code"] != 0]
    print(f"{name}: {len(results)} runs in {report['duration_s']} s, written to {path}", file=sys.stderr)
    if failed:
        print(f"{name}: {len(failed)} run(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def progress(index, total, start, label):
    elapsed = int(time.time() - start)
    line = f"[{index:3}/{total}] {elapsed // 60}m{elapsed % 60:02}s  {label}"
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + line)
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def arguments(name, usage):
    """BUILD_DIR OUT_DIR [--quick]: rrto-perftest's path, the output directory (made), quick, the source root."""
    if len(sys.argv) < 3:
        sys.exit(usage)
    build, out_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    perftest = os.path.join(build, "bin", "rrto-perftest")
    if not os.path.exists(perftest):
        sys.exit(f"{name}: {perftest} is missing; build first")
    os.makedirs(out_dir, exist_ok=True)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return perftest, out_dir, "--quick" in sys.argv[3:], root


def main():
    perftest, out_dir, quick, root = arguments("benchmark", __doc__)

    runs = plan(quick)
    results = []
    start = time.time()
    with PerftestServer(perftest, os.path.join(out_dir, "server.log")) as server:
        for i, (label, test, link_name, spec, args, pair, variant) in enumerate(runs, 1):
            progress(i, len(runs), start, label)
            load = os.getloadavg()[0]
            command = [perftest, "127.0.0.1", "-p", str(server.port), "-t", test, "--json", "--link", spec] + args
            env = dict(os.environ, RRTO_COMPRESSION="off") if variant == "uncompressed" else None
            results.append({"label": label, "test": test, "link": link_name, "link_spec": spec, "args": args,
                            "pair": pair, "variant": variant, "load_before": round(load, 2),
                            **run_client(command, env)})

    links = [{"name": n, "spec": s, "rtt_ms": r, "kind": "sweep"} for n, s, r in SWEEP]
    links += [{"name": n, "spec": s, "rtt_ms": None, "kind": "preset"} for n, s in PRESETS]
    fields = {"backend": "host", "links": links, "modes": MODES, "workloads": ["cnn"] if quick else WORKLOADS}
    return write_report(os.path.join(out_dir, "latest.json"), "benchmark", start, quick, root, fields, results)


if __name__ == "__main__":
    sys.exit(main())
