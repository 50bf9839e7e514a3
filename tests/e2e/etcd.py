"""A real etcd (Debian's etcd-server) on free loopback ports for the cluster
tests, spoken to through its JSON gateway as rrto-server does. Every member
started here is killed on the way out, whatever happens."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from harness import Failure

ETCD = shutil.which("etcd") or "/usr/bin/etcd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Etcd:
    """`members` etcd processes forming one cluster; `client_ports[i]` is member i's client port."""

    def __init__(self, members=1):
        if not os.path.exists(ETCD):
            raise Failure(f"etcd is not installed ({ETCD}); scripts/test installs etcd-server")
        self.dir = tempfile.mkdtemp(prefix="rrto-etcd-")
        self.names = [f"m{i}" for i in range(members)]
        self.client_ports = [free_port() for _ in self.names]
        self.peer_ports = [free_port() for _ in self.names]
        self.procs = [None] * members

    def endpoints(self):
        return [f"127.0.0.1:{p}" for p in self.client_ports]

    def start(self, i):
        cluster = ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports))
        log = open(os.path.join(self.dir, f"{self.names[i]}.log"), "a")
        self.procs[i] = subprocess.Popen(
            [ETCD, "--name", self.names[i], "--data-dir", os.path.join(self.dir, self.names[i]),
             "--listen-client-urls", f"http://127.0.0.1:{self.client_ports[i]}",
             "--advertise-client-urls", f"http://127.0.0.1:{self.client_ports[i]}",
             "--listen-peer-urls", f"http://127.0.0.1:{self.peer_ports[i]}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer_ports[i]}",
             "--initial-cluster", cluster, "--initial-cluster-state", "new"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, i):
        if self.procs[i] and self.procs[i].poll() is None:
            os.killpg(self.procs[i].pid, signal.SIGKILL)
            self.procs[i].wait()

    def __enter__(self):
        for i in range(len(self.names)):
            self.start(i)
        self.wait_ready()
        return self

    def __exit__(self, *exc):
        for i in range(len(self.names)):
            self.kill(i)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def post(self, path, body, member=None):
        """The JSON reply of the first live member (or of `member`) to a POST of `body` to `path`."""
        ports = [self.client_ports[member]] if member is not None else self.client_ports
        problems = []
        for port in ports:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=2) as reply:
                    return json.loads(reply.read())
            except (urllib.error.URLError, OSError) as e:
                problems.append(f"{port}: {e}")
        raise Failure(f"no etcd member answered {path}: {problems}")

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                self.get_prefix("rrto/")
                return
            except Failure:
                time.sleep(0.1)
        raise Failure(f"etcd did not start within {timeout} s")

    def get_prefix(self, prefix, revisions=False):
        """{key: value} of the keys under `prefix`, values parsed as JSON; with `revisions`,
        {key: (value, the etcd revision of its last change)} and the store's revision now."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        b64 = lambda s: base64.b64encode(s.encode()).decode()
        reply = self.post("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end)})
        values = {base64.b64decode(kv["key"]).decode(): json.loads(base64.b64decode(kv["value"]))
                  for kv in reply.get("kvs", [])}
        if not revisions:
            return values
        changed = {base64.b64decode(kv["key"]).decode(): int(kv["mod_revision"]) for kv in reply.get("kvs", [])}
        return {k: (v, changed[k]) for k, v in values.items()}, int(reply["header"]["revision"])


def wait_until(condition, what, timeout=20):
    """Polls `condition` (a function) until it returns something true; returns that. A condition
    that cannot be checked yet (etcd electing a leader after a member died) is tried again."""
    deadline = time.time() + timeout
    last_error = ""
    while time.time() < deadline:
        try:
            value = condition()
        except Failure as e:
            value, last_error = None, f" (last: {e})"
        if value:
            return value
        time.sleep(0.1)
    raise Failure(f"{what} did not happen within {timeout} s{last_error}")
