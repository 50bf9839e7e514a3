#!/usr/bin/env python3
"""End-to-end test of the status endpoint: a real rrto-server with a status
port, cnn_driver through it, then /metrics, /status and rrto-server --status,
and the port closed after SIGTERM. Usage: status_endpoint.py CASE"""
import json
import os
import re
import socket
import subprocess
import urllib.request

from harness import BIN, Failure, Server, check, client_env, main, run_program

INFERENCES = 6
INPUT_BYTES_PER_IMAGE = 28 * 28 * 4


def status_address(server):
    """The status endpoint's host:port, from the line the server logs once it serves."""
    found = re.search(r"status: /metrics and /status on http://(\S+)", server.output())
    check(found is not None, f"the server did not log its status address:\n{server.output()}")
    return found.group(1)


def get(address, path):
    with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as reply:
        check(reply.status == 200, f"GET {path}: HTTP {reply.status}")
        return reply.headers.get("Content-Type", ""), reply.read().decode()


def samples(text):
    """{'name{labels}': value} of a Prometheus text; every family declared by HELP and TYPE."""
    declared, values = set(), {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
        elif line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            check(key.split("{")[0] in declared, f"no TYPE line before '{line}'")
            values[key] = float(value)
    return values


def status_command(address):
    return subprocess.run([os.path.join(BIN, "rrto-server"), "--status", address], capture_output=True, text=True,
                          timeout=60)


def check_metrics(address):
    content_type, text = get(address, "/metrics")
    check(content_type.startswith("text/plain"), f"/metrics content type {content_type}")
    m = samples(text)
    check(m["rrto_sessions_admitted_total"] == 1, f"one session was admitted:\n{text}")
    check(m['rrto_device_inferences_total{device="0"}'] >= INFERENCES, f"inferences served:\n{text}")
    check(m['rrto_device_replays_total{device="0"}'] > 0, f"replay mode replays segments:\n{text}")
    check(m['rrto_device_batches_total{device="0"}'] >= m['rrto_device_inferences_total{device="0"}'], text)
    check(m["rrto_received_bytes_total"] >= INFERENCES * INPUT_BYTES_PER_IMAGE, f"bytes in:\n{text}")
    check(m["rrto_sent_bytes_total"] > 0 and m["rrto_sent_messages_total"] == m["rrto_received_messages_total"],
          f"one reply per request:\n{text}")
    check(m['rrto_session_refusals_total{reason="auth"}'] == 0, text)


def check_status(address):
    content_type, text = get(address, "/status")
    check(content_type.startswith("application/json"), f"/status content type {content_type}")
    doc = json.loads(text)
    check(doc["server"]["sessions_admitted"] == 1, f"/status: {text}")
    check(doc["devices"][0]["inferences"] >= INFERENCES, f"/status: {text}")

    p = status_command(address)
    check(p.returncode == 0, f"rrto-server --status exited {p.returncode}: {p.stdout}{p.stderr}")
    check(f"status at {address}" in p.stdout and "admitted 1" in p.stdout, f"rrto-server --status:\n{p.stdout}")
    check(doc["devices"][0]["name"] in p.stdout, f"rrto-server --status names the device:\n{p.stdout}")
    check("INFERENCES" in p.stdout and "SESSION" in p.stdout or "no sessions" in p.stdout,
          f"rrto-server --status tables:\n{p.stdout}")


def server_status():
    with Server(extra_config={"status": {"listen": "127.0.0.1:0"}}) as server:
        address = status_address(server)
        r = run_program("cnn_driver", ["--inferences", str(INFERENCES), "--quiet"],
                        client_env(server.address(), "replay"))
        check(r.returncode == 0, r.describe())
        check_metrics(address)
        check_status(address)

        check(server.stop() == 0, f"rrto-server did not stop cleanly:\n{server.output()}")
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
            raise Failure(f"the status port {address} is still open after SIGTERM")
        except ConnectionRefusedError:
            pass
        p = status_command(address)
        check(p.returncode == 1, f"rrto-server --status of a stopped server exited {p.returncode}: {p.stderr}")
        check(address in p.stderr, f"rrto-server --status should name the address: {p.stderr}")


if __name__ == "__main__":
    main({f.__name__: f for f in (server_status,)})
