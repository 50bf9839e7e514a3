"""The demo behind scripts/cluster-demo: a local edge cluster (three etcd
members, three rrto-servers on loopback), a client on it, and its server
killed mid-run. Prints how long the client took to carry on, for the example
CNN and for the ResNet-50-shaped perf workload (whose weights go up again).
Everything started here is stopped on the way out."""
import contextlib
import os
import re
import subprocess
import sys
import threading
import time

build = sys.argv[1]
os.environ["RRTO_BUILD_DIR"] = build
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
from etcd import Etcd, wait_until  # noqa: E402
from harness import Failure, LIB, Server, client_env  # noqa: E402

KERNELS = [os.path.join(LIB, f"librrto_{k}_kernels.so") for k in ("example", "perf")]


class Client:
    """A program through the client library; each line it prints, with when it came."""

    def __init__(self, argv, address):
        env = client_env(address, "replay", RRTO_LOG="warn")
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        """A line that says when it was printed ("at T s", CLOCK_MONOTONIC as time.monotonic) is taken at its word."""
        for line in self.proc.stdout:
            at = re.search(r" at ([0-9.]+) s$", line.rstrip("\n"))
            self.lines.append((float(at[1]) if at else time.monotonic(), line.rstrip("\n")))

    def wait_lines(self, pattern, count, timeout=120):
        wait_until(lambda: sum(1 for _, l in self.lines if re.match(pattern, l)) >= count or self.proc.poll() is not None,
                   f"{count} lines from the client", timeout)

    def finish(self):
        err = self.proc.stderr.read()  # while the reader takes stdout
        self.proc.wait()
        self.reader.join()
        return self.proc.returncode, err

    def first_after(self, pattern, moment):
        return next((t for t, l in self.lines if t > moment and re.match(pattern, l)), None)


def holder(servers, pid):
    """The server holding the session of client process `pid`."""
    found = [s for s in servers if s.proc.poll() is None and f"[{pid}]'" in s.output()]
    if len(found) != 1:
        raise Failure(f"the session of client {pid} is on {len(found)} servers")
    return found[0]


def kill_mid_run(name, argv, servers, line, count):
    """Runs `argv` on the cluster, kills its server after `count` lines matching `line`; returns the seconds from
    the kill to the next such line, and the client's exit status and log."""
    live = [s for s in servers if s.proc.poll() is None]
    client = Client(argv, live[0].address())
    client.wait_lines(line, count)
    victim = holder(live, client.proc.pid)
    killed_at = time.monotonic()
    victim.proc.kill()
    victim.proc.wait()
    dead_at = time.monotonic()  # what ended before this may have been served by the server before it died
    code, err = client.finish()
    after = client.first_after(line, dead_at)
    moved = re.search(r"session re-created on (\S+) in (\d+) ms \((\d+) calls, (\d+) bytes", err)
    print(f"{name}: killed {victim.address()} (SIGKILL) after {count} inferences; "
          + (f"session re-created on {moved[1]} in {moved[2]} ms ({moved[3]} calls, {int(moved[4]) / 1e6:.2f} MB)"
             if moved else "the session was not re-created"))
    seconds = after - killed_at if after else None
    print(f"{name}: from the kill to the next successful inference: "
          + (f"{seconds * 1000:.0f} ms" if seconds is not None else "never"))
    return seconds, code, err, client


def main():
    with Etcd(members=3) as etcd, contextlib.ExitStack() as stack:
        servers = [stack.enter_context(Server({"host_kernel_libraries": KERNELS,
                                               "cluster": {"etcd": etcd.endpoints(), "name": f"edge-{i}",
                                                           "lease_ttl_s": 3}}))
                   for i in range(1, 4)]
        for s in servers:
            wait_until(lambda: "2 other server(s) in the cluster" in s.output(), "each server seeing the other two")
        print(f"etcd members on {', '.join(etcd.endpoints())}; rrto-servers on "
              f"{', '.join(s.address() for s in servers)}\n")
        failed = False

        seconds, code, err, client = kill_mid_run(
            "cnn", [os.path.join(build, "bin", "cnn_driver"), "--inferences", "1000", "--timestamps"], servers, r"inference \d+:", 200)
        correct = code == 0 and any("outputs match reference" in l for _, l in client.lines)
        print(f"cnn: {'every output matches the CPU reference' if correct else f'FAILED (exit {code})'}\n")
        failed |= not correct or seconds is None

        workload = [os.path.join(build, "bin", "rrto-perf-workload"), "resnet50", "--iterations", "400",
                    "--warmup", "5", "--report-fd", "1"]
        seconds, code, err, client = kill_mid_run("resnet50", workload, servers, r"sample ", 100)
        checksum = next((l.split("checksum=")[1] for _, l in client.lines if l.startswith("done ")), None)
        survivor = next(s for s in servers if s.proc.poll() is None)
        clean = Client(workload, survivor.address())
        clean.finish()
        expected = next((l.split("checksum=")[1] for _, l in clean.lines if l.startswith("done ")), None)
        same = code == 0 and checksum is not None and checksum == expected
        print(f"resnet50: outputs' checksum {checksum} "
              + ("equals an uninterrupted run's" if same else f"FAILED (exit {code}; uninterrupted run {expected})"))
        failed |= not same or seconds is None
        if failed:
            print(err[-3000:], file=sys.stderr)
            sys.exit(1)


main()
