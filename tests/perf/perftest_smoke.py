"""Smoke tests of rrto-perftest: each of its tests runs a few iterations
against a real rrto-perftest server (and the rrto-server it starts) on
loopback. Nothing here asserts timings, which belong to perf/run-benchmarks;
the one latency check is that an emulated link is applied at all.

Usage: perftest_smoke.py CASE   (RRTO_BUILD_DIR names the build tree)"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import Failure, check, wait_for_port  # noqa: E402

BUILD = os.path.abspath(os.environ.get("RRTO_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build")))
PERFTEST = os.path.join(BUILD, "bin", "rrto-perftest")
WORKLOAD_BUILT = os.path.exists(os.path.join(BUILD, "bin", "rrto-perf-workload"))
TESTS = ["raw_am_lat", "raw_am_bw", "rpc_lat", "launch_lat", "memcpy_bw", "infer_lat"]
# A few iterations of each test.
SHORT = {
    "raw_am_lat": ["-n", "50", "-w", "5"],
    "raw_am_bw": ["-s", "4096,1048576", "-n", "10", "-w", "2"],
    "rpc_lat": ["-n", "50", "-w", "5"],
    "launch_lat": ["-n", "5", "-w", "2"],
    "memcpy_bw": ["-s", "4096,1048576", "-n", "3", "-w", "1"],
    "infer_lat": ["--workload", "cnn,resnet50", "-n", "2", "-w", "4"],
}


class PerftestServer:
    """rrto-perftest's server side on a free loopback port (`args`: its options, e.g. --devices)."""

    def __init__(self, *args, listen="127.0.0.1"):
        self.args = list(args)
        self.listen = ["--listen", listen] if listen else []  # None: its default, every interface

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="rrto-perftest-")
        self.port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "server.log"), "w+")
        self.proc = subprocess.Popen([PERFTEST, "-p", "0", *self.listen, "--port-file", self.port_file, *self.args],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.port = wait_for_port(self.proc, self.port_file, "the rrto-perftest server", self.output, 30)
        return self

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise Failure("the rrto-perftest server did not stop on SIGTERM")
            if exc[0] is None:
                check(code == 0, f"the rrto-perftest server exited with {code}:\n{self.output()}")
        return False

    def client(self, *args, timeout=180):
        r = subprocess.run([PERFTEST, "127.0.0.1", "-p", str(self.port), *args], capture_output=True, text=True,
                           timeout=timeout)
        return r


def default_listen():
    """Plain `rrto-perftest` listens on every interface; its rrto-server then runs without a key, and says so."""
    with PerftestServer(listen=None) as server:
        r = server.client("-t", "rpc_lat", "-n", "20", "-w", "2")
        check(r.returncode == 0, f"rpc_lat against a server side on every interface: {r.stdout}{r.stderr}")
        check("without an auth key" in server.output(), server.output())


def final_rows(stdout):
    return [line for line in stdout.splitlines() if line.startswith("Final:")]


def plain(test):
    """The table: a box, a header, a Final: row per run."""
    with PerftestServer() as server:
        r = server.client("-t", test, *SHORT[test])
        check(r.returncode == 0, f"{test} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        check("| API:" in r.stdout and "# iterations" in r.stdout and "99.0%ile" in r.stdout,
              f"{test}: no box or header:\n{r.stdout}")
        rows = final_rows(r.stdout)
        check(rows, f"{test}: no Final: row:\n{r.stdout}")
        measured = [row for row in rows if "not available" not in row]
        if test in ("launch_lat", "memcpy_bw", "infer_lat") and not WORKLOAD_BUILT:
            check("rrto-perf-workload was not built" in r.stdout, r.stdout)
            return
        check(measured, f"{test}: every run was unavailable:\n{r.stdout}")
        if test == "raw_am_bw" or test == "memcpy_bw":
            check(len(measured) == (2 if test == "raw_am_bw" else 4), f"{test}: one row per size (and way):\n{r.stdout}")
        if test in ("launch_lat", "infer_lat"):
            check(len(rows) == 4 * (2 if test == "infer_lat" else 1), f"{test}: one row per mode:\n{r.stdout}")
            check(any("Per iteration:" in line for line in r.stdout.splitlines()), r.stdout)
        if test == "infer_lat":
            # The program's payload per inference over its latency: never 0 for a model.
            check(all(float(row.split()[6]) > 0 and float(row.split()[7]) > 0 for row in measured),
                  f"infer_lat: bandwidth columns of 0:\n{r.stdout}")
            # What the floor and ideal are, once under all the tables.
            lines = r.stdout.splitlines()
            check(sum(line.startswith("Floor: ") for line in lines) == 1 and
                  sum(line.startswith("Ideal: ") for line in lines) == 1,
                  f"infer_lat: the floor and ideal are explained once:\n{r.stdout}")
            check(lines.index(next(line for line in lines if line.startswith("Floor: "))) >
                  max(i for i, line in enumerate(lines) if line.startswith("Per iteration:")),
                  f"infer_lat: the explanation comes after the last table:\n{r.stdout}")
        for row in measured:
            check(int(row.split()[1]) >= 1, f"{test}: no iterations in {row!r}")


def final_only():
    """-f: one header, a row per run named in the first column, no box."""
    with PerftestServer() as server:
        r = server.client("-t", "raw_am_bw", "-f", *SHORT["raw_am_bw"])
        check(r.returncode == 0, r.stderr)
        check("| API:" not in r.stdout and r.stdout.count("# iterations") == 1, r.stdout)
        names = [line.split()[0] for line in r.stdout.splitlines() if line and line[0].isdigit()]
        check(names == ["4096", "1048576"], r.stdout)


def help_lists_tests():
    r = subprocess.run([PERFTEST, "-h"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, r.stderr)
    for test in TESTS:
        check(f" {test} - " in r.stdout, f"-h does not list {test}:\n{r.stdout}")
    # It ends with examples: the server side, then the clients.
    commands = [line.strip() for line in r.stdout.splitlines() if line.strip().startswith("$ ")]
    check(len(commands) == 3 and r.stdout.rstrip().endswith(commands[-1]), f"-h ends with examples:\n{r.stdout}")
    check(commands[0] == "$ build/bin/rrto-perftest" and " -t infer_lat " in commands[1] and
          " -t raw_am_" in commands[2], commands)
    r = subprocess.run([PERFTEST, "127.0.0.1", "-t", "no_such_test"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "unknown test" in r.stderr, r.stderr)
    r = subprocess.run([PERFTEST, "127.0.0.1", "-t", "rpc_lat", "--link", "rtt=5"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 2 and "unit" in r.stderr, r.stderr)


def json_output():
    """--json: one document that parses, with a run per row."""
    with PerftestServer() as server:
        for test in TESTS:
            r = server.client("-t", test, "--json", *SHORT[test])
            check(r.returncode == 0, f"{test} --json failed:\n{r.stderr}")
            try:
                doc = json.loads(r.stdout)
            except ValueError as e:
                raise Failure(f"{test} --json is not JSON ({e}):\n{r.stdout}")
            check(doc["tool"] == "rrto-perftest" and doc["test"] == test and doc["ok"], r.stdout)
            check(doc["bandwidth"] == "none: 0" if test == "rpc_lat" else "MiB/s" in doc["bandwidth"], doc["bandwidth"])
            check(doc["runs"], f"{test}: no runs")
            for run in doc["runs"]:
                if not run["available"]:
                    check(run["reason"], run)
                    continue
                check(not run["failed"], run)
                lat = run["latency_us"]
                check(run["iterations"] >= 1 and lat["p50"] > 0 and lat["p99"] >= lat["p50"], run)
                if test == "infer_lat":
                    per = run["per_iteration"]
                    payload_mib = (per["payload_up"] + per["payload_down"]) / 2**20
                    check(abs(run["bandwidth_mbs"]["average"] - payload_mib / (lat["average"] / 1e6)) <=
                          1e-6 * run["bandwidth_mbs"]["average"] and run["bandwidth_mbs"]["overall"] > 0,
                          f"infer_lat: bandwidth is the payload over the latency: {run}")
                    check(run["per_iteration"]["round_trips"] >= 1, run)
                    check(run["per_iteration"]["payload_up"] > 0, run)
                    check(run["server_compute_us"] is not None and run["floor_us"] is not None, run)
                    check(run["outputs_match"] is not False, f"outputs differ between modes: {run}")
                    check(run["client_link"] == "off", run)


def link():
    """An emulated link is applied to every message, in every kind of test."""
    with PerftestServer() as server:
        for test, args in (("raw_am_lat", ["-n", "5", "-w", "1"]), ("rpc_lat", ["-n", "5", "-w", "1"]),
                           ("launch_lat", ["--mode", "async", "-n", "3", "-w", "1"])):
            r = server.client("-t", test, "--json", "--link", "rtt=4ms,bw=1gbit", *args)
            check(r.returncode == 0, f"{test} failed:\n{r.stderr}")
            doc = json.loads(r.stdout)
            check(doc["link"]["spec"] == "rtt=4ms,bw=1gbit" and doc["link"]["rtt_us"] == 4000, doc["link"])
            for run in doc["runs"]:
                if not run["available"]:
                    continue
                # A round trip crosses the link twice: at least the RTT.
                check(run["latency_us"]["min"] >= 4000, f"{test}: {run['latency_us']} under the emulated RTT")
                if test == "launch_lat":
                    check(run["client_link"] == "rtt=4ms,bw=1gbit", f"RRTO_STATS names the link: {run}")


def infer_lat_ideal():
    """The ideal mode: one message per sync point, the program's own bytes, the same outputs as replay."""
    if not WORKLOAD_BUILT:
        return
    with PerftestServer() as server:
        r = server.client("-t", "infer_lat", "--json", "--mode", "replay,ideal", "--workload", "cnn,resnet50,bert",
                          "--link", "rtt=1ms", "-n", "3", "-w", "4")
        check(r.returncode == 0, f"infer_lat --mode ideal failed:\n{r.stderr}")
        runs = [run for run in json.loads(r.stdout)["runs"] if run["mode"] == "ideal"]
        check(len(runs) == 3, f"one ideal run per workload: {runs}")
        for run in runs:
            check(run["available"] and not run["failed"], run)
            check(run["outputs_match"] is True, f"ideal's outputs differ from replay's: {run}")
            check(run["client_link"] == "rtt=1ms", f"ideal's counts name the link: {run}")
            per = run["per_iteration"]
            # cnn and resnet50 wait once per inference, bert twice (two outputs).
            check(per["round_trips"] == (2 if run["workload"] == "bert" else 1), run)
            check(per["bytes_up"] >= per["payload_up"] and per["bytes_down"] >= per["payload_down"], run)


def infer_lat_compressed():
    """On a thin link the photograph inputs go compressed (RRTO_COMPRESSION=auto,
    the default) and the outputs are those of an uncompressed run."""
    if not WORKLOAD_BUILT:
        return
    photos = os.environ.get("RRTO_PERF_PHOTOS") or os.path.join(BUILD, "perf-photos")
    check(os.path.isdir(photos) and any(f.endswith(".png") for f in os.listdir(photos)),
          f"no photographs in {photos}: scripts/test (scripts/lib/setup.sh) fetches them")
    with PerftestServer() as server:
        runs = {}
        for compression in ("off", "auto"):
            os.environ["RRTO_COMPRESSION"] = compression
            try:
                r = server.client("-t", "infer_lat", "--json", "--mode", "replay", "--workload", "resnet50",
                                  "--link", "bw=50mbit", "-n", "3", "-w", "4")
            finally:
                del os.environ["RRTO_COMPRESSION"]
            check(r.returncode == 0, f"infer_lat with compression {compression} failed:\n{r.stderr}")
            runs[compression] = json.loads(r.stdout)["runs"][0]
        off, auto = runs["off"], runs["auto"]
        check(off["checksum"] is not None and auto["checksum"] == off["checksum"],
              f"compressed uploads changed the outputs: {off['checksum']} vs {auto['checksum']}")
        up_off, up_auto = off["per_iteration"]["bytes_up"], auto["per_iteration"]["bytes_up"]
        check(up_auto < 0.8 * up_off, f"the inputs did not go compressed at 50 Mbit/s: {up_auto} bytes up, "
                                      f"{up_off} uncompressed")


def infer_lat_clients():
    """--clients: the sleep workload in two sessions at once on a server side with two host devices."""
    if not WORKLOAD_BUILT:
        return
    args = ["-t", "infer_lat", "--workload", "sleep", "--kernel-us", "100", "--clients", "2", "--devices", "2",
            "-n", "3", "-w", "1"]
    with PerftestServer("--devices", "2", "--time-scale-us", "1.5") as server:
        r = server.client(*args)
        check(r.returncode == 0, f"infer_lat --clients failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        rows = final_rows(r.stdout)
        check(len(rows) == 4 and all(int(row.split()[1]) == 6 for row in rows),
              f"one Final: row per mode, over both clients' iterations:\n{r.stdout}")
        for client in ("client 1", "client 2"):
            check(sum(line.startswith(client + " ") for line in r.stdout.splitlines()) == 4, r.stdout)
        check(r.stdout.count("Clients: 2 at once") == 4 and "OUTPUTS DIFFER" not in r.stdout, r.stdout)

        r = server.client(*args, "--json")
        check(r.returncode == 0, r.stderr)
        runs = json.loads(r.stdout)["runs"]
        check([run["mode"] for run in runs] == ["rpc", "async", "replay", "ideal"], runs)
        for run in runs:
            check(run["available"] and not run["failed"], run)
            check(run["outputs_match"] is True, f"the clients' outputs differ: {run}")
            clients = run["clients"]
            check(clients["count"] == 2 and len(clients["per_client"]) == 2, clients)
            check(clients["devices"] == 2 and clients["time_scale_us"] == 1.5, clients)
            busy = clients["device_busy"]
            check(isinstance(busy, list) and [d["device"] for d in busy] == [0, 1], clients)
            check(all(d["busy_s"] >= 0 and d["fraction"] >= 0 for d in busy) and sum(d["busy_s"] for d in busy) > 0,
                  f"the devices ran the clients' inferences: {clients}")
            check(clients["aggregate_per_second"] > 0 and clients["window_s"] > 0 and clients["spread"] >= 1, clients)
            for c in clients["per_client"]:
                check(c["iterations"] == 3 and c["latency_us"]["p99"] >= c["latency_us"]["p50"] > 0, c)
            check(run["per_iteration"]["round_trips"] >= 1, run)

        # The client side checks the device count the server side reports.
        r = server.client("-t", "infer_lat", "--workload", "sleep", "--clients", "2", "--devices", "3", "-n", "1")
        check(r.returncode == 1 and "has 2 host device(s)" in r.stderr, r.stderr)


CASES = {
    "help": help_lists_tests,
    "infer_lat_ideal": infer_lat_ideal,
    "infer_lat_clients": infer_lat_clients,
    "infer_lat_compressed": infer_lat_compressed,
    "final_only": final_only,
    "json": json_output,
    "link": link,
    "default_listen": default_listen,
}
for name in TESTS:
    CASES[name] = (lambda t: lambda: plain(t))(name)

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: {sys.argv[0]} {'|'.join(CASES)}", file=sys.stderr)
        sys.exit(2)
    try:
        CASES[sys.argv[1]]()
    except Failure as e:
        print(f"FAIL {sys.argv[1]}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"ok {sys.argv[1]}")
