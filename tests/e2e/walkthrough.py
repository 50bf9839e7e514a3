#!/usr/bin/env python3
"""The walkthrough "Your own runtime-API program" in server/hostkernel/README.md,
followed as written: the README's build commands build examples/own_program/
in a scratch folder, its configuration and command start the server, its run
command runs the program in each mode, and a registration left out fails
with the lines the README quotes. Usage: walkthrough.py CASE"""
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile

from harness import BACKEND, BIN, BUILD, LIB, Server, check, client_env, main, run_program

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README = os.path.join(SOURCE, "server", "hostkernel", "README.md")
EXAMPLE = os.path.join(SOURCE, "examples", "own_program")
FILES = ("my_kernels.cuh", "my_program.cu", "my_kernels.cpp")
SECTION = "## Your own runtime-API program"
# The folder the README's quoted server log line was produced in.
README_FOLDER = "/home/me/my_program"
MODES = ("rpc", "async", "replay")


class Walkthrough:
    """The code blocks of the README's section, each found by what it holds."""

    def __init__(self):
        text = open(README).read()
        start = text.find(SECTION + "\n")
        check(start >= 0, f"{README} has no section '{SECTION}'")
        end = text.find("\n## ", start + len(SECTION))
        self.text = text[start:end if end >= 0 else len(text)]
        self.blocks = re.findall(r"^```(\w*)\n(.*?)^```$", self.text, re.M | re.S)
        self.kernels_cpp = self.block("cpp", "RRTO_HOST_KERNEL")
        self.build = self.block("sh", "nvcc")
        self.config = json.loads(self.block("json", '"backend"'))
        self.server = self.block("sh", "rrto-server")
        self.run = self.block("sh", "RRTO_MODE=")
        self.output = self.block("text", "every output matches").strip()
        self.server_log = self.block("text", "not registered").strip()
        self.program_error = self.block("text", "failed:").strip()
        left_out = re.findall(r"Without `(RRTO_HOST_KERNEL\([^`]*\);)`", self.text)
        check(len(left_out) == 1, f"the README's section names {len(left_out)} left-out registrations, expected 1")
        self.left_out = left_out[0]

    def block(self, language, holding):
        found = [body for lang, body in self.blocks if lang == language and holding in body]
        check(len(found) == 1, f"expected one ```{language} block holding {holding!r} in the README's section "
                               f"'{SECTION}', found {len(found)}")
        return found[0]


def in_this_tree(command):
    """A README command with $RRTO/build as this build (which may be another
    folder, as the sanitized build is) and $RRTO as this source tree."""
    command = command.replace("$RRTO/build", BUILD).replace("$RRTO", SOURCE)
    check("$" not in command, f"a README command uses a variable the walkthrough does not set: {command}")
    return command


def build(walk, folder):
    nvcc = os.environ.get("RRTO_NVCC", "nvcc")
    env = dict(os.environ, RRTO=SOURCE, PATH=os.path.dirname(nvcc) + os.pathsep + os.environ.get("PATH", ""))
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", walk.build], cwd=folder, env=env, capture_output=True,
                       text=True, timeout=180)
    check(p.returncode == 0, f"the README's build commands failed (exit {p.returncode}) in {folder}:\n"
                             f"{walk.build}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")


def start_server(walk, folder):
    """The README's server command and configuration, on a free port."""
    argv = shlex.split(in_this_tree(walk.server))
    check(len(argv) == 3 and argv[0] == os.path.join(BIN, "rrto-server") and argv[1] == "--config",
          f"the README's server command is not '<build>/bin/rrto-server --config FILE': {walk.server}")
    config = dict(walk.config, listen="127.0.0.1:0")
    config_path = os.path.join(folder, argv[2])
    with open(config_path, "w") as f:
        json.dump(config, f)
    return Server(program=argv[0], config_path=config_path)


def run_as_readme(walk, folder, server, mode):
    """The README's run command, with the server's port and the given mode."""
    words = shlex.split(in_this_tree(walk.run))
    assignments = {}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        name, value = words.pop(0).split("=", 1)
        assignments[name] = value
    check(set(assignments) == {"LD_LIBRARY_PATH", "RRTO_SERVER", "RRTO_MODE"},
          f"the README's run command sets {sorted(assignments)}: {walk.run}")
    check(assignments["LD_LIBRARY_PATH"] == LIB, f"the README's run command loads the client from elsewhere: {walk.run}")
    check(assignments["RRTO_SERVER"] == walk.config["listen"] and assignments["RRTO_MODE"] in MODES,
          f"the README's run command names another server than its configuration, or no mode: {walk.run}")
    check(len(words) == 1, f"the README's run command is not one program without arguments: {walk.run}")
    return run_program(os.path.normpath(os.path.join(folder, words[0])), [], client_env(server.address(), mode))


def check_config(walk):
    c = walk.config
    check(c.get("backend") == "host" and c.get("listen", "").startswith("127.0.0.1:") and c.get("devices")
          and c.get("host_kernel_libraries") == ["libmy_kernels.so"],
          f"the README's configuration is not a loopback host-backend server with libmy_kernels.so: {c}")


def all_modes(walk, folder):
    with start_server(walk, folder) as server:
        for mode in MODES:
            r = run_as_readme(walk, folder, server, mode)
            check(r.returncode == 0 and r.stdout.strip() == walk.output,
                  f"my_program in {mode} mode, built and run as the README says: {r.describe()}")
            if mode == "replay":
                templates = (r.stats or {}).get("templates", [])
                check(any(t["replayed_segments"] > 0 for t in templates), f"nothing was replayed: {r.describe()}")
        check(server.stop() == 0, f"server did not exit cleanly:\n{server.output()}")


def unregistered(walk, folder):
    """The README's registration left out: the program fails with the line the
    README quotes, the server logs the README's line, and the client prints
    one line carrying the server's reason."""
    kernels_cpp = os.path.join(folder, "my_kernels.cpp")
    lines = open(kernels_cpp).read().splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != walk.left_out]
    check(len(kept) == len(lines) - 1, f"my_kernels.cpp has no line '{walk.left_out}'")
    with open(kernels_cpp, "w") as f:
        f.writelines(kept)
    build(walk, folder)

    quoted = re.match(r"^\[\S+ rrto \d+ server warn\] session 1: (.*)$", walk.server_log)
    check(quoted, f"the README's server log line does not look like one: {walk.server_log}")
    reason = quoted.group(1).replace(README_FOLDER, folder)
    with start_server(walk, folder) as server:
        r = run_as_readme(walk, folder, server, "rpc")
        check(r.returncode == 2 and walk.program_error in r.stderr.splitlines(),
              f"my_program without {walk.left_out}: expected exit 2 and '{walk.program_error}': {r.describe()}")
        log = server.output()
        check(re.search(r"^\[\S+ rrto \d+ server warn\] session \d+: " + re.escape(reason) + "$", log, re.M),
              f"the server did not log the README's line for the missing registration:\n{reason}\n--- log\n{log}")
        client_lines = [line for line in r.stderr.splitlines() if "failed on rrto-server at" in line]
        expected = (r"^\[[^\]]*client error\] \S+ failed on rrto-server at " + re.escape(server.address()) +
                    ": CUDA_ERROR_NOT_FOUND: " + re.escape(reason) + "$")
        check(len(client_lines) == 1 and re.match(expected, client_lines[0]),
              f"the client's error line is not the one the README describes: {r.describe()}")


def cmake_build():
    """The same program as the project builds it (build/bin, build/lib); on a
    GPU machine it runs on the GPU, whose outputs must match too."""
    if BACKEND == "host":
        server = Server(extra_config={"host_kernel_libraries": [os.path.join(LIB, "libmy_kernels.so")]})
    else:
        server = Server()
    with server:
        r = run_program("my_program", [], client_env(server.address(), "replay"))
        check(r.returncode == 0, f"build/bin/my_program: {r.describe()}")


def walkthrough():
    walk = Walkthrough()
    check(walk.kernels_cpp == open(os.path.join(EXAMPLE, "my_kernels.cpp")).read(),
          "the README's my_kernels.cpp differs from examples/own_program/my_kernels.cpp")
    check_config(walk)
    folder = os.path.realpath(tempfile.mkdtemp(prefix="rrto-walkthrough-"))
    try:
        for name in FILES:
            shutil.copy(os.path.join(EXAMPLE, name), folder)
        build(walk, folder)
        all_modes(walk, folder)
        unregistered(walk, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    cmake_build()


if __name__ == "__main__":
    main({f.__name__: f for f in (walkthrough,)})
