#!/usr/bin/env python3
"""End-to-end tests of cluster membership: real etcd members, real
rrto-servers with a "cluster" config, the entries read back from etcd.
Usage: cluster.py CASE"""
import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile

from etcd import Etcd, wait_until
from harness import BIN, LIB, Failure, Server, check, client_env, main, run_program

PREFIX = "rrto/servers/"


def cluster_config(etcd_endpoints, name, ttl):
    return {"cluster": {"etcd": etcd_endpoints, "name": name, "lease_ttl_s": ttl}}


def entry(etcd, name):
    return etcd.get_prefix(PREFIX).get(PREFIX + name)


def refreshed_after(etcd, name, revision):
    """Whether the entry of `name` was written after etcd's `revision`."""
    entries, _ = etcd.get_prefix(PREFIX, revisions=True)
    return PREFIX + name in entries and entries[PREFIX + name][1] > revision


def serves(server):
    """A program through the client library runs correctly on `server`."""
    r = run_program("cnn_driver", ["--inferences", "2", "--quiet"], client_env(server.address(), "async"), timeout=60)
    check(r.returncode == 0, f"cnn_driver on {server.address()}: {r.describe()}")


def cluster_membership():
    """A server registers where clients reach it and its load, and leaves at once on SIGTERM."""
    with Etcd() as etcd, Server(cluster_config(etcd.endpoints(), "edge-a", 60), memory_mb=1536) as server:
        e = wait_until(lambda: entry(etcd, "edge-a"), "the server's entry appearing in etcd")
        check(e["address"] == server.address(), f"entry address {e} != {server.address()}")
        check(e["devices"] == 1 and e["free_memory"] == 1536 << 20 and e["sessions"] == 0, f"entry {e}")
        check(0 <= e["busy"] <= 1, f"busy fraction {e}")
        serves(server)
        check(server.stop(signal.SIGTERM) == 0, f"the server did not exit cleanly:\n{server.output()}")
        # The lease lives 60 s: only its revocation removes the entry sooner.
        wait_until(lambda: entry(etcd, "edge-a") is None, "the entry leaving etcd after SIGTERM", timeout=20)
        check("left the cluster" in server.output(), f"no word of leaving:\n{server.output()}")


def cluster_server_killed():
    """A server that dies leaves the cluster when its lease ends."""
    with Etcd() as etcd, Server(cluster_config(etcd.endpoints(), "edge-b", 2)) as server:
        wait_until(lambda: entry(etcd, "edge-b"), "the server's entry appearing in etcd")
        _, now = etcd.get_prefix(PREFIX, revisions=True)
        wait_until(lambda: refreshed_after(etcd, "edge-b", now), "the entry being refreshed")
        server.stop(signal.SIGKILL)
        wait_until(lambda: entry(etcd, "edge-b") is None, "the entry of a killed server ending with its lease")


def cluster_etcd_down():
    """Without etcd a server serves on, and joins once etcd is up; it names the trouble in its log."""
    etcd = Etcd()
    with Server(cluster_config(etcd.endpoints(), "edge-c", 5)) as server:
        serves(server)
        check("cannot refresh" in server.output(), f"no word that etcd is out of reach:\n{server.output()}")
        with etcd:
            wait_until(lambda: entry(etcd, "edge-c"), "the entry appearing once etcd is up")
            # Logged once the whole refresh is over, a little after the entry is written.
            wait_until(lambda: "etcd reachable again" in server.output(), "word of etcd coming back")
            serves(server)
            check(server.stop() == 0, f"the server did not exit cleanly:\n{server.output()}")


def cluster_etcd_member_killed():
    """With one of three etcd members gone, registration goes on through the others."""
    with Etcd(members=3) as etcd, Server(cluster_config(etcd.endpoints(), "edge-d", 2)) as server:
        wait_until(lambda: entry(etcd, "edge-d"), "the server's entry appearing in etcd")
        _, before_kill = etcd.get_prefix(PREFIX, revisions=True)
        etcd.kill(0)  # the member the server tries first
        wait_until(lambda: refreshed_after(etcd, "edge-d", before_kill), "a refresh through the other members")
        serves(server)
        check(server.stop() == 0, f"the server did not exit cleanly:\n{server.output()}")


def sessions_started(server):
    return len(re.findall(r"session \d+ started", server.output()))


@contextlib.contextmanager
def long_clients():
    """Starts clients that stay (the sleep workload, 50 ms a kernel, for two minutes); kills them on the way out."""
    clients = []

    def start(address):
        program = os.path.join(BIN, "rrto-perf-workload")
        clients.append(subprocess.Popen(
            [program, "sleep", "--kernel-us", "50000", "--iterations", "100000000", "--max-seconds", "120"],
            env=client_env(address, "replay"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return clients[-1]
    try:
        yield start
    finally:
        for c in clients:
            c.kill()
            c.wait()


def perf_kernels(config):
    """`config` with the perf workloads' kernels beside the examples'."""
    return {"host_kernel_libraries": [os.path.join(LIB, f"librrto_{k}_kernels.so") for k in ("example", "perf")],
            **config}


def cluster_spread():
    """Twelve clients arriving one by one at one server of three are spread by load."""
    with Etcd() as etcd, contextlib.ExitStack() as stack, long_clients() as start:
        servers = [stack.enter_context(Server(perf_kernels(cluster_config(etcd.endpoints(), f"s{i}", 5))))
                   for i in range(3)]
        for s in servers:
            wait_until(lambda: "2 other server(s) in the cluster" in s.output(), "each server seeing the other two")
        for i in range(1, 13):
            client = start(servers[0].address())
            wait_until(lambda: sum(sessions_started(s) for s in servers) == i or client.poll() is not None,
                       f"client {i} getting a session")
            check(client.poll() is None, f"client {i} ended early (exit {client.returncode})")
        spread = [sessions_started(s) for s in servers]
        print(f"sessions per server: {spread}")
        check(sum(spread) == 12 and max(spread) <= 5, f"sessions per server {spread}")
        check("sent to" in servers[0].output(), f"the first server sent nobody away:\n{servers[0].output()}")


def cluster_windows():
    """Every address window a session holds is claimed in etcd by its server, under its lease, a few spare ones
    too, and a window goes back when its session ends."""
    with Etcd() as etcd, Server(perf_kernels(cluster_config(etcd.endpoints(), "wa", 5))) as a, \
            Server(perf_kernels(cluster_config(etcd.endpoints(), "wb", 5))) as b, long_clients() as start:
        for s in (a, b):
            wait_until(lambda: "1 other server(s) in the cluster" in s.output(), "each server seeing the other")
        clients = [start(a.address()), start(b.address())]
        wait_until(lambda: sessions_started(a) + sessions_started(b) == 2, "both clients getting a session")

        def claims_cover_sessions():
            servers, windows = entries(etcd), etcd.get_prefix("rrto/windows/")
            held = {w: e["name"] for e in servers.values() for w in e.get("windows", [])}
            if len(held) != 2 or len(servers) != 2:
                return None
            for w, name in held.items():
                if windows.get(f"rrto/windows/{w}", {}).get("server") != name:
                    return None
            per_server = [sum(1 for v in windows.values() if v["server"] == n) for n in ("wa", "wb")]
            return held if min(per_server) >= 1 + 4 else None
        held = wait_until(claims_cover_sessions, "each held window claimed by its server, with spares")
        gone = next(w for w, name in held.items() if name == "wa")
        clients[0].kill()
        wait_until(lambda: f"rrto/windows/{gone}" not in etcd.get_prefix("rrto/windows/"),
                   "the window of an ended session given back")


def entries(etcd):
    return etcd.get_prefix(PREFIX)


def static_choice():
    """Without etcd, a client naming two servers takes the one with fewer sessions."""
    with Server(perf_kernels({})) as busy, Server(perf_kernels({})) as idle, long_clients() as start:
        for i in range(1, 3):
            start(busy.address())
            wait_until(lambda: sessions_started(busy) == i, f"session {i} on the busy server")
        r = run_program("cnn_driver", ["--inferences", "2", "--quiet"],
                        client_env(f"{busy.address()},{idle.address()}", "async"), timeout=60)
        check(r.returncode == 0, f"cnn_driver: {r.describe()}")
        check(sessions_started(idle) == 1 and sessions_started(busy) == 2,
              f"sessions: busy {sessions_started(busy)}, idle {sessions_started(idle)}\n{idle.output()}")


def holder(servers):
    """The server of `servers` that started a session."""
    started = [s for s in servers if sessions_started(s) == 1]
    check(len(started) == 1, "exactly one server should hold the client's session:\n" +
          "\n".join(s.output() for s in servers))
    return started[0]


@contextlib.contextmanager
def cnn_client(address, inferences=3000, **env):
    """cnn_driver with one line per inference, each written at once; killed on the way out."""
    proc = subprocess.Popen([os.path.join(BIN, "cnn_driver"), "--inferences", str(inferences), "--timestamps"],
                            env=client_env(address, "replay", RRTO_LOG="warn", **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        if not proc.stdout.readline().startswith("inference 0"):
            proc.kill()
            raise Failure(f"cnn_driver did not start: {proc.stderr.read()}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def finished(proc):
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        raise Failure("the client hung after its server was killed")
    return out, err


def failover_static():
    """A client of a static cluster whose server is killed mid-run carries on on the other: every output correct."""
    with Server() as a, Server() as b, cnn_client(f"{a.address()},{b.address()}") as proc:
        lost = holder([a, b])
        other = b if lost is a else a
        lost.proc.kill()
        out, err = finished(proc)
        check(proc.returncode == 0, f"cnn_driver exited {proc.returncode} after its server was killed:\n"
              f"{out[-1500:]}\n{err[-3000:]}")
        check("outputs match reference" in out, f"cnn_driver output:\n{out[-1500:]}")
        check("session re-created on " + other.address() in err, f"no word of the session moving:\n{err[-3000:]}")
        check(re.search(r"session \d+ resumed", other.output()), f"no resumed session:\n{other.output()}")


def failover_frozen():
    """A server that stops answering without closing anything (SIGSTOP: a frozen machine) is lost after a second
    of silence, not after RRTO_TIMEOUT: the client carries on on the other server."""
    with Server() as a, Server() as b, cnn_client(f"{a.address()},{b.address()}", RRTO_TIMEOUT="3600") as proc:
        frozen = holder([a, b])
        frozen.proc.send_signal(signal.SIGSTOP)
        try:
            out, err = finished(proc)
        finally:
            frozen.proc.send_signal(signal.SIGCONT)
        check(proc.returncode == 0, f"cnn_driver exited {proc.returncode}:\n{out[-1500:]}\n{err[-3000:]}")
        check("session re-created on" in err, f"client log:\n{err[-3000:]}")


def failover_drained():
    """SIGTERM drains a server: it finishes what runs, closes its sessions, and their clients move without an error."""
    with Server() as a, Server() as b, cnn_client(f"{a.address()},{b.address()}") as proc:
        drained = holder([a, b])
        other = b if drained is a else a
        check(drained.stop(signal.SIGTERM, timeout=30) == 0, f"the drained server's exit:\n{drained.output()}")
        check("drained: 1 connection(s) closed" in drained.output(), f"drain log:\n{drained.output()}")
        out, err = finished(proc)
        check(proc.returncode == 0, f"cnn_driver exited {proc.returncode}:\n{out[-1500:]}\n{err[-3000:]}")
        check("session re-created on " + other.address() in err, f"client log:\n{err[-3000:]}")


def failover_cluster():
    """A client that named one server of an etcd cluster learns the others from it, and moves to one when it dies."""
    with Etcd() as etcd, Server(cluster_config(etcd.endpoints(), "fa", 5)) as a, \
            Server(cluster_config(etcd.endpoints(), "fb", 5)) as b:
        for s in (a, b):
            wait_until(lambda: "1 other server(s) in the cluster" in s.output(), "each server seeing the other")
        with cnn_client(a.address()) as proc:
            holder([a, b]).proc.kill()
            out, err = finished(proc)
            check(proc.returncode == 0, f"cnn_driver exited {proc.returncode}:\n{out[-1500:]}\n{err[-3000:]}")
            check("session re-created on" in err, f"client log:\n{err[-3000:]}")


def failover_record_full():
    """A session whose record outgrew failover.max_log_mb says so, and fails as without failover when its server
    is lost: a CUDA error naming why, no hang. (Async mode records every inference's calls.)"""
    with Server() as a, Server() as b, tempfile.TemporaryDirectory() as work:
        config = os.path.join(work, "client.json")
        with open(config, "w") as f:
            json.dump({"servers": [a.address(), b.address()], "failover": {"max_log_mb": 1}}, f)
        proc = subprocess.Popen([os.path.join(BIN, "cnn_driver"), "--inferences", "100000"],
                                env=client_env(f"{a.address()},{b.address()}", "async", RRTO_CONFIG=config,
                                               RRTO_LOG="warn"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            warned = ""
            for line in proc.stderr:
                warned += line
                if "failover is off for this session" in line:
                    break
            check("failover.max_log_mb (1 MiB)" in warned, f"client log:\n{warned[-3000:]}")
            holder([a, b]).proc.kill()
            err = warned + proc.stderr.read()
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        check(proc.returncode == 2, f"cnn_driver exited {proc.returncode}:\n{err[-3000:]}")
        check("cannot re-create the session" in err and "max_log_mb" in err, f"client log:\n{err[-3000:]}")


def failover_off():
    """With RRTO_FAILOVER=0 a lost server fails the program as it always did: a CUDA error, no hang."""
    with Server() as a, Server() as b, cnn_client(f"{a.address()},{b.address()}", RRTO_FAILOVER="0") as proc:
        holder([a, b]).proc.kill()
        out, err = finished(proc)
        check(proc.returncode == 2, f"cnn_driver exited {proc.returncode}:\n{out[-1500:]}\n{err[-3000:]}")
        check("lost the connection" in err and "re-creat" not in err, f"client log:\n{err[-3000:]}")


if __name__ == "__main__":
    main({f.__name__: f for f in (cluster_membership, cluster_server_killed, cluster_etcd_down,
                                  cluster_etcd_member_killed, cluster_spread, cluster_windows, static_choice,
                                  failover_static,
                                  failover_frozen, failover_drained, failover_cluster, failover_record_full,
                                  failover_off)})
