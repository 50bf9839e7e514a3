#!/usr/bin/env python3
"""End-to-end tests: a real rrto-server process, real programs loading
build/lib/libcuda.so.1 through LD_LIBRARY_PATH. Usage: e2e.py CASE"""
import os
import re
import signal
import subprocess
import time

from harness import BACKEND, BIN, LIB, Failure, Run, Server, check, client_env, main, run_program


def per_inference(server, mode, program="cnn_driver", few=3, many=8, extra_args=()):
    """Stats of one inference in the steady state: the difference between a
    run of `many` and a run of `few` inferences, divided by the difference."""
    runs = []
    for n in (few, many):
        r = run_program(program, ["--inferences", str(n), "--quiet", *extra_args], client_env(server.address(), mode))
        check(r.returncode == 0, f"{program} in {mode} mode with {n} inferences: {r.describe()}")
        check(r.stats is not None, f"no RRTO_STATS line from {program}: {r.describe()}")
        check("UCX" not in r.stdout, f"the client library wrote to the program's stdout: {r.describe()}")
        runs.append(r.stats)
    span = many - few
    per = {k: (runs[1][k] - runs[0][k]) / span for k in ("calls", "remote_calls", "round_trips", "bytes_up")}
    per["first"] = runs[0]
    per["last"] = runs[1]
    return per


def cnn_rpc():
    with Server() as server:
        per = per_inference(server, "rpc")
        check(per["calls"] >= 12, f"expected at least 12 intercepted calls per inference, got {per}")
        # rpc: every call that reaches the device is its own round trip.
        check(per["round_trips"] >= per["remote_calls"] >= 12, f"rpc round trips per inference: {per}")
        check(per["first"]["round_trips"] >= per["first"]["remote_calls"], f"rpc stats: {per['first']}")
        check(server.stop() == 0, "server did not exit cleanly")


def cnn_async():
    with Server() as server:
        per = per_inference(server, "async")
        check(per["remote_calls"] >= 12, f"expected the launches to reach the server: {per}")
        check(per["round_trips"] <= 2, f"async mode must need at most 2 round trips per inference, got {per}")
        check(server.stop() == 0, "server did not exit cleanly")


INPUT_BYTES_PER_IMAGE = 28 * 28 * 4


def cnn_replay():
    """After the first inferences: one round trip per inference, carrying the
    input and a small fixed overhead, and the outputs still exact."""
    with Server() as server:
        for batch in (1, 4):
            per = per_inference(server, "replay", few=4, many=12, extra_args=("--batch", str(batch)))
            check(per["round_trips"] == 1, f"replay must need exactly 1 round trip per inference: {per}")
            budget = batch * INPUT_BYTES_PER_IMAGE + 1024
            check(per["bytes_up"] <= budget,
                  f"replay sent {per['bytes_up']} bytes up per inference, more than input + 1 KiB = {budget}")
            templates = per["last"].get("templates", [])
            check(any(t["replayed_segments"] >= 8 for t in templates), f"nothing was replayed: {templates}")


def sync_then_copy():
    """A program that synchronises its stream and then copies its output back
    synchronously: async mode pays a round trip for each, replay queues the
    synchronisation (nothing the host sees depends on it) and pays one. The
    runtime-API example does the same through cudart. Outputs exact."""
    with Server() as server:
        for program in ("cnn_driver", "cnn_runtime"):
            for mode, round_trips in (("async", 2), ("replay", 1)):
                per = per_inference(server, mode, program=program, few=4, many=12, extra_args=("--sync-then-copy",))
                check(per["round_trips"] == round_trips,
                      f"{program} --sync-then-copy in {mode} mode: {per['round_trips']} round trips per inference, "
                      f"expected {round_trips}")
                elided = per["last"]["syncs_elided"]
                check((elided >= 12) if mode == "replay" else (elided == 0),
                      f"{program} --sync-then-copy in {mode} mode: {elided} synchronisations elided")


def steady_state():
    """RRTO_STATS has per-inference figures past the warm-up in every mode:
    rpc pays a round trip per call, async and replay one per inference, and in
    replay they agree with the template's own figures."""
    with Server() as server:
        steady = {}
        for mode in ("rpc", "async", "replay"):
            r = run_program("cnn_driver", ["--inferences", "20", "--quiet"], client_env(server.address(), mode))
            check(r.returncode == 0 and r.stats is not None, f"cnn_driver in {mode} mode: {r.describe()}")
            check("steady_state" in r.stats, f"no steady_state in {mode} mode: {r.stats}")
            steady[mode] = s = r.stats["steady_state"]
            check(s["inferences"] >= 8 and s["cpu_us"] > 0, f"steady state in {mode} mode: {s}")
        check(steady["rpc"]["calls"] == steady["async"]["calls"] == steady["replay"]["calls"] >= 12,
              f"the program's calls per inference differ between modes: {steady}")
        check(steady["rpc"]["round_trips"] == steady["rpc"]["remote_calls"] >= 12, f"rpc: {steady['rpc']}")
        check(steady["async"]["round_trips"] == 1 and steady["replay"]["round_trips"] == 1, f"{steady}")
        check(steady["replay"]["bytes_up"] < steady["async"]["bytes_up"], f"replay sends less: {steady}")
        template = max(r.stats["templates"], key=lambda t: t["iterations"])
        check(template["round_trips_per_iteration"] == steady["replay"]["round_trips"],
              f"replay: steady state {steady['replay']} against the template {template}")
        check(abs(template["bytes_up_per_iteration"] - steady["replay"]["bytes_up"]) <= 0.05 * template["bytes_up_per_iteration"],
              f"replay: steady state {steady['replay']} against the template {template}")


def cnn_diverge():
    """Programs that leave their pattern get exact outputs in every mode."""
    with Server() as server:
        for scenario in ("batch", "models", "branch", "realloc", "peek"):
            for mode in ("rpc", "async", "replay"):
                r = run_program("cnn_diverge", ["--scenario", scenario, "--inferences", "14", "--quiet"],
                                client_env(server.address(), mode))
                check(r.returncode == 0, f"cnn_diverge --scenario {scenario} in {mode} mode: {r.describe()}")


def speculation_stats(stats):
    """The speculation counters of a run, summed over its templates, and the
    states of those that speculated at all or were refused."""
    total = {"continuations": 0, "hits": 0, "rollbacks": 0, "declined": 0}
    states = []
    for t in stats.get("templates", []):
        spec = t["speculation"]
        for k in total:
            total[k] += spec[k]
        if spec["continuations"] or spec["declined"]:
            states.append(spec["state"])
    total["states"] = states
    return total


def spec_diverge():
    """A program that synchronises twice per inference and leaves its pattern
    once, right after the point where replay continues speculatively (a
    changed argument, another kernel, an extra upload, a freed buffer, a
    changed launch one operator later): exact outputs in every mode, and in
    replay the speculation undone and counted. A kernel writing through a
    pointer array in device memory is never speculated, and still exact.
    RRTO_SPECULATION=always: whether saving pays is a matter of timing."""
    with Server() as server:
        for scenario in ("none", "argument", "kernel", "upload", "free", "late", "pointers"):
            for mode in ("rpc", "async", "replay"):
                r = run_program("spec_diverge", ["--scenario", scenario, "--quiet"],
                                client_env(server.address(), mode, RRTO_SPECULATION="always"))
                check(r.returncode == 0, f"spec_diverge --scenario {scenario} in {mode} mode: {r.describe()}")
            spec = speculation_stats(r.stats)
            if scenario == "pointers":
                check(spec["continuations"] == 0 and spec["declined"] >= 1 and
                      any("pointers" in s for s in spec["states"]),
                      f"spec_diverge --scenario pointers must not be speculated: {spec}")
                continue
            check(spec["hits"] >= 5, f"spec_diverge --scenario {scenario}: too few speculations followed: {spec}")
            rollbacks = 0 if scenario == "none" else 1
            check(spec["rollbacks"] == rollbacks,
                  f"spec_diverge --scenario {scenario}: {spec['rollbacks']} rollbacks, expected {rollbacks}: {spec}")


def cnn_batches():
    with Server() as server:
        for mode in ("rpc", "async"):
            r = run_program("cnn_driver", ["--inferences", "3", "--batch", "4", "--quiet"],
                            client_env(server.address(), mode))
            check(r.returncode == 0, f"batch 4 in {mode} mode: {r.describe()}")


def param_probe():
    with Server() as server:
        for mode in ("rpc", "async"):
            r = run_program("param_probe", [], client_env(server.address(), mode))
            check(r.returncode == 0, f"param_probe in {mode} mode: {r.describe()}")


def server_unreachable():
    # A port nobody listens on: take a free one and close it again.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    start = time.time()
    r = run_program("cnn_driver", ["--inferences", "1"], client_env(f"127.0.0.1:{port}", "async"), timeout=60)
    check(r.returncode == 2, f"expected exit 2 (a CUDA error) without a server: {r.describe()}")
    check("CUDA_ERROR_NO_DEVICE" in r.stdout + r.stderr, f"cuInit should fail with NO_DEVICE: {r.describe()}")
    check(f"127.0.0.1:{port}" in r.stderr, f"the client should name the address it tried: {r.describe()}")
    check("connection refused" in r.stderr, f"the client should say the connection was refused: {r.describe()}")
    check("RRTO_SERVER=" not in r.stderr, f"no hint at RRTO_SERVER when it is set: {r.describe()}")
    check(time.time() - start < 30, "giving up on an unreachable server took too long")


def unregistered_kernel():
    """A kernel the host backend has no host version of: the program gets a
    CUDA error, and the client prints, at its default log level, one line
    naming the kernel and the server's reason, in every mode, even when the
    launch was queued and another call reported it. A host-backend server
    without any kernel library says so when it starts."""
    if BACKEND == "cuda":
        return  # a GPU runs every kernel
    other_library = {"host_kernel_libraries": [os.path.join(LIB, "librrto_cudart_example_kernels.so")]}
    with Server(extra_config=other_library) as server:
        for mode in ("rpc", "async", "replay"):
            env = client_env(server.address(), mode)
            env.pop("RRTO_LOG", None)
            r = run_program("cnn_driver", ["--inferences", "1", "--quiet"], env)
            check(r.returncode == 2, f"cnn_driver without its kernels in {mode} mode: {r.describe()}")
            lines = [l for l in r.stderr.splitlines()
                     if "client error" in l and "_ZN3cnn11scale_shiftEPKfPfiff" in l and "no host version" in l]
            check(len(lines) == 1, f"one client line naming the kernel and the reason in {mode} mode: {r.describe()}")
    with Server(extra_config={"host_kernel_libraries": []}) as server:
        check("no host-kernel library" in server.output(), f"no start-up warning: {server.output()}")


def auth_key():
    key = "e2e-auth-key-0123456789abcdef"
    other = "another-key-0123456789abcdef"

    def refused(r, why):
        check(r.returncode == 2, f"expected exit 2 (a CUDA error): {r.describe()}")
        check("CUDA_ERROR_NOT_PERMITTED" in r.stdout + r.stderr, f"cuInit should fail with NOT_PERMITTED: {r.describe()}")
        check(why in r.stderr, f"the client should log '{why}': {r.describe()}")
        check(key not in r.stdout + r.stderr and other not in r.stdout + r.stderr, f"a key was logged: {r.describe()}")

    args = ["--inferences", "1", "--quiet"]
    with Server({"auth": {"key": key}}) as server:
        r = run_program("cnn_driver", args, client_env(server.address(), "async", RRTO_AUTH_KEY=key))
        check(r.returncode == 0, f"the right key: {r.describe()}")
        refused(run_program("cnn_driver", args, client_env(server.address(), "async", RRTO_AUTH_KEY=other)),
                "could not prove it knows the key")
        refused(run_program("cnn_driver", args, client_env(server.address(), "async")), "RRTO_AUTH_KEY")
        log = server.output()
        check(log.count("refused") == 1, f"the keyless client should be refused and logged once:\n{log}")
        check(key not in log, f"the server logged its key:\n{log}")
    with Server() as keyless:
        refused(run_program("cnn_driver", args, client_env(keyless.address(), "async", RRTO_AUTH_KEY=key)),
                "the server has no key")


def server_killed():
    with Server() as server:
        env = client_env(server.address(), "async")
        proc = subprocess.Popen([f"{BIN}/cnn_driver", "--inferences", "100000"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            # Wait for the first inferences, then kill the server under it.
            if proc.stdout.readline() == "":
                raise Failure(f"cnn_driver printed nothing: {proc.stderr.read()}")
            server.proc.kill()
            server.proc.wait()
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise Failure("the client hung after the server was killed")
            check(proc.returncode not in (0, None), f"client exited {proc.returncode} after losing its server")
            check("lost the connection" in err or "DEVICE_UNAVAILABLE" in out + err,
                  f"the client should say the connection was lost:\n{out[-2000:]}\n{err[-2000:]}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def server_stopped():
    """A server that is alive but silent (stopped) costs the client RRTO_TIMEOUT, then a clear error."""
    with Server() as server:
        env = client_env(server.address(), "async", RRTO_TIMEOUT="5")
        proc = subprocess.Popen([f"{BIN}/cnn_driver", "--inferences", "100000"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            if proc.stdout.readline() == "":
                raise Failure(f"cnn_driver printed nothing: {proc.stderr.read()}")
            server.proc.send_signal(signal.SIGSTOP)
            start = time.time()
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                raise Failure("the client waited for ever on a silent server")
            check(proc.returncode not in (0, None), f"client exited {proc.returncode} after its server went silent")
            check("no answer from rrto-server" in err and "RRTO_TIMEOUT" in err, f"the client should say why:\n{err[-2000:]}")
            check(time.time() - start >= 4, "the client gave up before its timeout")
        finally:
            server.proc.send_signal(signal.SIGCONT)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# Entry points whose calls are operators of the recorded stream.
OP_ENTRY_POINTS = ("cuLaunchKernel", "cuMemcpy", "cuMemset", "cuEventRecord", "cuStreamWaitEvent",
                   "cuStreamSynchronize", "cuCtxSynchronize")


def trace_search():
    """RRTO_TRACE writes the operator stream; rrto-trace finds one inference in it."""
    import json
    import tempfile
    with Server() as server:
        trace = os.path.join(tempfile.mkdtemp(prefix="rrto-trace-"), "cnn.trace")
        counts = []
        for n in (4, 6):
            r = run_program("cnn_driver", ["--inferences", str(n), "--quiet"],
                            client_env(server.address(), "async", RRTO_TRACE=trace))
            check(r.returncode == 0, r.describe())
            counts.append(sum(v for k, v in r.stats["per_call"].items() if k.startswith(OP_ENTRY_POINTS)))
        ops_per_inference = (counts[1] - counts[0]) / 2
        p = subprocess.run([f"{BIN}/rrto-trace", "search", trace, "--json"], capture_output=True, text=True)
        check(p.returncode == 0, f"rrto-trace search failed: {p.stdout}{p.stderr}")
        found = json.loads(p.stdout)
        check(found["iteration_length"] == ops_per_inference,
              f"rrto-trace found an iteration of {found['iteration_length']} ops, "
              f"the program issues {ops_per_inference} per inference: {p.stdout}")
        trace_occurrences(trace, found)
        trace_kernel_names(trace)


def trace_occurrences(trace, found):
    """The 6 inferences of the last run: the first follows the weights' uploads (no iteration starts
    there), so it is counted before the boundary; the other 5 are occurrences."""
    t = found["templates"][0]
    check((t["copies_before_boundary"], t["occurrences"], t["confirming_occurrences"],
           t["occurrences_after_confirmation"]) == (1, 5, 2, 3), f"occurrences of the inference: {t}")
    check(found["prefix_length"] == t["boundary"], found)
    p = subprocess.run([f"{BIN}/rrto-trace", "search", trace], capture_output=True, text=True)
    check(p.returncode == 0, p.stderr)
    check("6 copies of its ops: 1 before its boundary + 5 occurrences from it (2 that confirmed it + 3 matched "
          "after)" in p.stdout and "then 1 copy of the iteration that is no occurrence" in p.stdout, p.stdout)


def trace_kernel_names(trace):
    """rrto-trace stats shows the kernels' C++ names, the mangled ones beside them."""
    import json
    p = subprocess.run([f"{BIN}/rrto-trace", "stats", trace], capture_output=True, text=True)
    check(p.returncode == 0, p.stderr)
    check("  cnn::relu(float*, int)  (_ZN3cnn4reluEPfi)\n" in p.stdout, p.stdout)
    p = subprocess.run([f"{BIN}/rrto-trace", "stats", trace, "--json"], capture_output=True, text=True)
    check(p.returncode == 0, p.stderr)
    top = json.loads(p.stdout)["top_kernels"]
    check({"name": "cnn::relu(float*, int)", "symbol": "_ZN3cnn4reluEPfi", "launches": 24} in top, top)


def server_sigterm():
    with Server() as server:
        r = run_program("cnn_driver", ["--inferences", "2", "--quiet"], client_env(server.address(), "async"))
        check(r.returncode == 0, r.describe())
        start = time.time()
        code = server.stop(signal.SIGTERM)
        check(code == 0, f"rrto-server exited {code} on SIGTERM:\n{server.output()}")
        check(time.time() - start < 5, "rrto-server took more than 5 s to stop")
        log = server.output()
        check("session" in log, f"the server should log sessions:\n{log}")


def started(name, env, lines):
    """cnn_driver running through the client, stopped (SIGSTOP) once it has
    printed `lines` inferences."""
    proc = subprocess.Popen([f"{BIN}/cnn_driver", "--inferences", "300"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for _ in range(lines):
        if proc.stdout.readline() == "":
            proc.kill()
            raise Failure(f"{name} stopped early: {proc.communicate()[1]}")
    proc.send_signal(signal.SIGSTOP)
    return proc


def wait_for_log(server, text, timeout=30):
    deadline = time.time() + timeout
    while text not in server.output():
        check(time.time() < deadline, f"the server never logged '{text}':\n{server.output()}")
        time.sleep(0.05)


def session_move(mode):
    """Clients a and c share device 0, b has device 1. Once b has gone, a or c
    moves to device 1 between two of its requests (after its template is
    confirmed, in replay mode); both finish with every output equal to the
    CPU reference. (On a GPU machine with one device nothing moves; the
    clients must still be right.)"""
    devices = [{"memory_mb": 256}, {"memory_mb": 256}]
    with Server(extra_config={"devices": devices} if BACKEND == "host" else {}) as server:
        env = client_env(server.address(), mode)
        a = started("a", env, 10)
        b = started("b", env, 10)
        c = started("c", env, 10)
        try:
            b.kill()
            b.wait()
            wait_for_log(server, "ended (client disconnected)")
            for p in (a, c):
                p.send_signal(signal.SIGCONT)
            for name, p in (("a", a), ("c", c)):
                out, err = p.communicate(timeout=180)
                check(p.returncode == 0, f"client {name} in {mode} mode: exit {p.returncode}\n{out[-2000:]}\n{err[-3000:]}")
        finally:
            for p in (a, b, c):
                if p.poll() is None:
                    p.kill()
                    p.wait()
        log = server.output()
        if BACKEND == "host":
            check("moved from device 0 to device 1" in log, f"no session moved in {mode} mode:\n{log}")
            if mode == "replay":
                check(re.search(r"moved from device 0 to device 1 with [1-9]\d* template", log) is not None,
                      f"the session should have moved with its template confirmed:\n{log}")


if __name__ == "__main__":
    main({f.__name__: f for f in (cnn_rpc, cnn_async, cnn_replay, sync_then_copy, steady_state, cnn_diverge, spec_diverge, cnn_batches, param_probe, server_unreachable, unregistered_kernel, server_killed,
                                   server_stopped, server_sigterm, trace_search, auth_key)}
         | {f"session_move_{mode}": (lambda m=mode: session_move(m)) for mode in ("rpc", "async", "replay")})
