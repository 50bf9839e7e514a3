"""The soak's well-behaved clients: a fixed number of slots, each running
cnn_driver (which checks every output against its CPU reference) through the
client library again and again, in the slot's mode, while the pool SIGKILLs a
random run now and then. A run the pool did not kill that fails is lost."""
import os
import random
import signal
import subprocess
import time

MODES = ("rpc", "async", "replay")
# A run taking this long is hung: killed and counted as lost.
RUN_TIMEOUT_S = 300
# At the end, how long runs still going may take to finish.
FINISH_TIMEOUT_S = 120
EXAMPLES_KEPT = 5


class Run:
    def __init__(self, program, env, slot, mode, inferences, batch, log_path):
        self.mode, self.inferences, self.log_path = mode, inferences, log_path
        self.started = time.time()
        self.killed = False
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen([program, "--inferences", str(inferences), "--batch", str(batch), "--quiet"],
                                         env=dict(os.environ, **env, RRTO_MODE=mode), stdout=log,
                                         stderr=subprocess.STDOUT)

    def kill(self):
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)

    def describe(self):
        with open(self.log_path, errors="replace") as f:
            tail = f.read()[-600:]
        return f"{self.mode}, {self.inferences} inferences, exit {self.proc.returncode}: {tail.strip()}"


class Pool:
    def __init__(self, program, env, args, work):
        self.program, self.env, self.args, self.work = program, env, args, work
        self.runs = [None] * args.clients
        self.next_kill = time.time() + random.expovariate(1 / args.kill_every)
        self.counts = {"runs": 0, "completed_runs": 0, "inferences": 0, "killed_runs": 0, "wrong_outputs": 0,
                       "lost_runs": 0, "lost_inferences": 0, "inferences_by_mode": {m: 0 for m in MODES},
                       "failures": []}

    def start(self, slot):
        mode = MODES[slot % len(MODES)]
        inferences = random.randint(1, self.args.max_inferences)
        batch = random.randint(1, 4)
        log_path = os.path.join(self.work, f"client-{slot}.log")
        self.runs[slot] = Run(self.program, self.env, slot, mode, inferences, batch, log_path)
        self.counts["runs"] += 1

    def reap(self, slot):
        """Counts a run that has ended and frees its slot."""
        run, c = self.runs[slot], self.counts
        self.runs[slot] = None
        if run.killed:
            c["killed_runs"] += 1
        elif run.proc.returncode == 0:
            c["completed_runs"] += 1
            c["inferences"] += run.inferences
            c["inferences_by_mode"][run.mode] += run.inferences
        else:
            if run.proc.returncode == 1:
                c["wrong_outputs"] += 1
            else:
                c["lost_runs"] += 1
                c["lost_inferences"] += run.inferences
            if len(c["failures"]) < EXAMPLES_KEPT:
                c["failures"].append(run.describe())

    def lose_hung(self, slot):
        """A run past RUN_TIMEOUT_S: killed, but counted as lost."""
        run = self.runs[slot]
        if time.time() - run.started > RUN_TIMEOUT_S:
            run.proc.kill()
            run.proc.wait()

    def step(self):
        """Reaps what ended, restarts empty slots, and kills one run when one is due."""
        for slot, run in enumerate(self.runs):
            if run is not None and run.proc.poll() is not None:
                self.reap(slot)
            elif run is not None:
                self.lose_hung(slot)
            if self.runs[slot] is None:
                self.start(slot)
        if time.time() >= self.next_kill:
            running = [r for r in self.runs if r is not None and r.proc.poll() is None]
            if running:
                random.choice(running).kill()
            self.next_kill = time.time() + random.expovariate(1 / self.args.kill_every)

    def finish(self, server_alive):
        """Lets the runs still going end (no new runs, no kills); those that do not are lost."""
        deadline = time.time() + FINISH_TIMEOUT_S
        while any(self.runs) and time.time() < deadline and server_alive():
            for slot, run in enumerate(self.runs):
                if run is not None and run.proc.poll() is not None:
                    self.reap(slot)
            time.sleep(0.05)
        for slot, run in enumerate(self.runs):
            if run is not None:
                run.proc.kill()
                run.proc.wait()
                self.reap(slot)

    def totals(self):
        return self.counts
