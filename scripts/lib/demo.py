"""The demo behind scripts/demo: one server, the example CNN in each mode."""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

build, config = sys.argv[1], sys.argv[2]
inferences = int(os.environ.get("RRTO_DEMO_INFERENCES", "20"))
# An edge link (5 ms round trip) emulated in the transport: loopback alone
# hides what a round trip costs. RRTO_DEMO_LINK=off for plain loopback.
link = os.environ.get("RRTO_DEMO_LINK", "rtt=5ms")
modes = ["rpc", "async", "replay"]

work = tempfile.mkdtemp(prefix="rrto-demo-")
port_file = os.path.join(work, "port")
log_path = os.path.join(work, "server.log")
server = subprocess.Popen([f"{build}/bin/rrto-server", "--config", config, "--listen", "127.0.0.1:0",
                           "--port-file", port_file], stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


def stop_server():
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


try:
    deadline = time.time() + 20
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if server.poll() is not None or time.time() > deadline:
            print(open(log_path).read(), file=sys.stderr)
            sys.exit("rrto-server did not start")
        time.sleep(0.05)
    address = f"127.0.0.1:{open(port_file).read().strip()}"
    print(f"rrto-server (host backend) listening on {address}; running cnn_driver, {inferences} inferences per mode,")
    print(f"over an emulated link: {link}\n")

    rows = []
    for mode in modes:
        env = dict(os.environ, LD_LIBRARY_PATH=f"{build}/lib", RRTO_SERVER=address, RRTO_MODE=mode, RRTO_STATS="1",
                   RRTO_LINK=link)
        stats = []
        runs = {}
        for n in (1, inferences):
            p = subprocess.run([f"{build}/bin/cnn_driver", "--inferences", str(n)], env=env, capture_output=True,
                               text=True, timeout=600)
            line = next((l for l in p.stderr.splitlines() if l.startswith('{"rrto_stats"')), None)
            runs[n] = (p, json.loads(line) if line else None)
        p, s = runs[inferences]
        _, s1 = runs[1]
        latencies = [float(m) for m in re.findall(r"^inference \d+: ([0-9.]+) ms", p.stdout, re.M)]
        steady = latencies[1:] or latencies
        per_inference = (s["round_trips"] - s1["round_trips"]) / (inferences - 1) if s and s1 else float("nan")
        rows.append((mode, per_inference, statistics.median(steady) if steady else float("nan"),
                     "yes" if p.returncode == 0 else f"NO (exit {p.returncode})"))
        if p.returncode != 0:
            print(p.stdout[-2000:], p.stderr[-2000:], file=sys.stderr)

    print(f"{'mode':<8} {'round trips/inference':>22} {'median latency':>15} {'outputs correct':>16}")
    for mode, rt, lat, ok in rows:
        print(f"{mode:<8} {rt:>22.1f} {lat:>12.3f} ms {ok:>16}")
    by_mode = {r[0]: r for r in rows}
    rpc, replay = by_mode["rpc"][2], by_mode["replay"][2]
    print(f"\nreplay vs rpc: median latency {100 * (1 - replay / rpc):.1f}% lower "
          f"({by_mode['replay'][1]:.1f} instead of {by_mode['rpc'][1]:.1f} round trips per inference)")
    stop_server()
    # A run where nothing went wrong leaves nothing alarming in the server's log.
    alarms = [l for l in open(log_path).read().splitlines() if re.search(r" (warn|error)\]", l)]
    print(f"rrto-server's log ({log_path}): " + ("no warning or error" if not alarms else
                                                 f"{len(alarms)} warnings or errors:\n" + "\n".join(alarms)))
    if alarms or not all(r[3] == "yes" for r in rows):
        sys.exit(1)
finally:
    stop_server()
