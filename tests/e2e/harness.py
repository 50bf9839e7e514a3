"""Starts a real rrto-server and runs real programs through the client
library, for the end-to-end tests. Every server started here is stopped on
the way out, whatever happens."""
import json
import os
import signal
import subprocess
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("RRTO_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build")))
BIN = os.path.join(BUILD, "bin")
LIB = os.path.join(BUILD, "lib")
# tests/gpu/run.sh sets RRTO_E2E_BACKEND=cuda on a GPU machine.
BACKEND = os.environ.get("RRTO_E2E_BACKEND", "host")
# Set in a build with RRTO_SANITIZE=address (see sanitizer_env).
ASAN_RUNTIME = os.environ.get("RRTO_ASAN_RUNTIME")


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_for_port(proc, port_file, what, output, timeout):
    """The port a starting server writes to port_file once it listens."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise Failure(f"{what} exited with {proc.returncode}:\n{output()}")
        if os.path.exists(port_file):
            text = open(port_file).read().strip()
            if text:
                return int(text)
        time.sleep(0.05)
    raise Failure(f"{what} did not start listening within {timeout} s")


class Server:
    """rrto-server (the build's unless `program` names another) on a free
    loopback port (host backend unless BACKEND says cuda), or with the config
    file `config_path`, which then must listen on port 0."""

    def __init__(self, extra_config=None, memory_mb=1024, program=None, config_path=None):
        self.program = program or os.path.join(BIN, "rrto-server")
        self.dir = tempfile.mkdtemp(prefix="rrto-e2e-")
        self.config_path = config_path
        if not config_path:
            if BACKEND == "cuda":
                config = {"listen": "127.0.0.1:0", "backend": "cuda"}
            else:
                config = {
                    "listen": "127.0.0.1:0",
                    "backend": "host",
                    "devices": [{"memory_mb": memory_mb}],
                    "host_kernel_libraries": [os.path.join(LIB, "librrto_example_kernels.so")],
                }
            config.update(extra_config or {})
            self.config_path = os.path.join(self.dir, "server.json")
            with open(self.config_path, "w") as f:
                json.dump(config, f)
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        self.port = None

    def __enter__(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.program, "--config", self.config_path, "--port-file", self.port_file],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.port = wait_for_port(self.proc, self.port_file, "rrto-server", self.output, 20)
        return self

    def address(self):
        return f"127.0.0.1:{self.port}"

    def output(self):
        self.log.flush()
        return open(self.log_path).read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the server; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure(f"rrto-server ignored signal {sig} for {timeout} s")
        return self.proc.returncode

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        return False


def client_env(server_address, mode, client_lib_dir=LIB, **extra):
    """The environment of a program run through the client library in client_lib_dir."""
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = client_lib_dir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["RRTO_SERVER"] = server_address
    env["RRTO_MODE"] = mode
    env["RRTO_STATS"] = "1"
    env.update(extra)
    return env


class Run:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.stats = None
        for line in stderr.splitlines():
            if line.startswith('{"rrto_stats"'):
                self.stats = json.loads(line)

    def describe(self):
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def sanitizer_env(program, env):
    """In a sanitized build, the programs nvcc built against the CUDA runtime
    (they register their kernels with __cudaRegisterFatBinary) get the ASan
    runtime preloaded, as some are not built with ASan, and no leak check at
    exit, in which LSan crashes under cudart; the client's leaks are checked
    in the other programs."""
    if not ASAN_RUNTIME:
        return env
    with open(program, "rb") as f:
        if b"__cudaRegisterFatBinary" not in f.read():
            return env
    env = dict(env)
    env["LD_PRELOAD"] = ":".join(filter(None, [ASAN_RUNTIME, env.get("LD_PRELOAD")]))
    env["ASAN_OPTIONS"] = ":".join(filter(None, ["detect_leaks=0", env.get("ASAN_OPTIONS")]))
    return env


def run_program(name, args, env, timeout=120):
    program = os.path.join(BIN, name)
    try:
        p = subprocess.run([program] + list(args), env=sanitizer_env(program, env), capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"{name} did not finish within {timeout} s (hang?)\n{e.stdout}\n{e.stderr}")
    return Run(p.returncode, p.stdout, p.stderr)


def main(cases):
    """Runs the case named on the command line."""
    import sys
    name = sys.argv[1]
    try:
        cases[name]()
    except Failure as e:
        print(f"FAILED {name}: {e}")
        sys.exit(1)
    print(f"passed {name}")
