"""Turns perf/results/latest.json (benchmark.py) into the Markdown report
(latest.md) and the plot of latency against RTT per mode (latest.png, drawn
by gnuplot when it is installed).

Usage: render.py RESULTS_DIR"""
import json
import math
import os
import shutil
import subprocess
import sys

NA = "n/a"


def ms(us):
    return NA if us is None else f"{us / 1000:.3f}"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return NA
    return f"{a / b:.{digits}f}"


def size_text(n):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def bytes_text(b):
    if b is None:
        return NA
    if b >= 1e6:
        return f"{b / 1e6:.2f} MB"
    if b >= 1e3:
        return f"{b / 1e3:.1f} kB"
    return f"{b:.0f} B"


class Results:
    def __init__(self, data):
        self.data = data
        self.links = data["links"]
        self.link_names = [l["name"] for l in self.links]

    def runs(self, test, link=None, pair=None, variant=None):
        """(result, run) for every run of `test` (on `link`, in pair `pair`; of `variant`: None for the
        ordinary runs, "compressed" or "uncompressed" (RRTO_COMPRESSION=off) for the compression pairs)."""
        for r in self.data["results"]:
            if r["test"] != test or (link is not None and r["link"] != link) or not r["perftest"]:
                continue
            if r.get("variant") != variant:
                continue
            if pair is not None and r.get("pair") != pair:
                continue
            for run in r["perftest"]["runs"]:
                yield r, run

    def run(self, test, link, pair=None, variant=None, **match):
        for _, run in self.runs(test, link, pair, variant):
            if all(run.get(k) == v for k, v in match.items()):
                return run
        return None

    def pairs(self):
        return sorted({r["pair"] for r in self.data["results"] if r.get("pair")})

    def doc(self, test, link):
        for r in self.data["results"]:
            if r["test"] == test and r["link"] == link and r["perftest"]:
                return r["perftest"]
        return None

    def failures(self):
        return [r for r in self.data["results"] if r["exit_code"] != 0]

    def link_label(self, name):
        for l in self.links:
            if l["name"] == name:
                return "RTT 0 (loopback)" if l["spec"] == "off" else (
                    f"RTT {l['rtt_ms']:g} ms" if l["kind"] == "sweep" else f"{name} ({self.spec_of(name)})")
        return name

    def spec_of(self, name):
        for r in self.data["results"]:
            if r["link"] == name and r["perftest"]:
                return r["perftest"]["link"]["spec"]
        return next((l["spec"] for l in self.links if l["name"] == name), name)

    def links_present(self, test):
        present = {r["link"] for r in self.data["results"] if r["test"] == test}
        return [n for n in self.link_names if n in present]


def median(run):
    return run["latency_us"]["p50"] if run and run.get("available") and not run.get("failed") else None


def p99(run):
    return run["latency_us"]["p99"] if run and run.get("available") and not run.get("failed") else None


def pair_ratios(res, numerator, denominator):
    """Per floor pair, numerator(pair) / denominator(pair); and their median."""
    ratios = []
    for pair in res.pairs() or [None]:
        a, b = numerator(pair), denominator(pair)
        if a is not None and b:
            ratios.append(a / b)
    if not ratios:
        return None, []
    ordered = sorted(ratios)
    mid = len(ordered) // 2
    med = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return med, ratios


def ratio_text(med, ratios):
    if med is None:
        return NA
    if len(ratios) == 1:
        return f"{med:.3f}"
    return f"{med:.3f} (median of {len(ratios)} pairs: {', '.join(f'{r:.3f}' for r in ratios)})"


def bandwidth(run):
    return run["bandwidth_mbs"]["overall"] if run and run.get("available") and not run.get("failed") else None


def headline(res):
    """The headline numbers: what the benchmark sets out to show, with its goals."""
    lines = ["## The numbers", "",
             "| quantity | measured | goal |", "|---|---|---|"]
    rpc = res.run("infer_lat", "rtt5", mode="rpc", workload="resnet50")
    replay = res.run("infer_lat", "rtt5", mode="replay", workload="resnet50")
    async_ = res.run("infer_lat", "rtt5", mode="async", workload="resnet50")
    ideal = res.run("infer_lat", "rtt5", mode="ideal", workload="resnet50")

    def reduction(run):
        if median(run) is None or median(rpc) is None:
            return NA if run is None or run.get("available") else "not available"
        return f"{(1 - median(run) / median(rpc)) * 100:.1f}% ({ms(median(rpc))} → {ms(median(run))} ms)"

    lines.append(f"| `replay`'s latency reduction against `rpc`, ResNet-50-shaped, RTT 5 ms | {reduction(replay)} "
                 f"| up to 98% (the paper) |")
    lines.append(f"| (for comparison: `async` against `rpc`, same workload and link) | {reduction(async_)} | |")
    if median(replay) is not None and median(ideal) is not None:
        ri = f"{median(replay) / median(ideal):.3f}"
    else:
        missing = [m for m, r in (("replay", replay), ("ideal", ideal)) if median(r) is None]
        ri = f"not available (no `{'`, `'.join(missing)}` run)"
    lines.append(f"| `replay` / `ideal`, ResNet-50-shaped, RTT 5 ms (medians) | {ri} | ≤ 1.05 |")
    for link, goal in (("5g", "≤ 0.6"), ("rtt0", "≤ 1.03"), ("lan", "≤ 1.03")):
        med, ratios = compression_ratios(res, link)
        if med is None:
            continue
        lines.append(f"| `replay` with compressed uploads / without, ResNet-50-shaped (photographs), "
                     f"{res.link_label(link)}, medians, each pair run back to back | {ratio_text(med, ratios)} "
                     f"| {goal} |")
    med, ratios = pair_ratios(res, lambda p: median(res.run("rpc_lat", "rtt0", p)),
                              lambda p: median(res.run("raw_am_lat", "rtt0", p)))
    lines.append(f"| `rpc_lat` / `raw_am_lat`, loopback (RTT 0), medians, each pair run back to back | "
                 f"{ratio_text(med, ratios)} | ≤ 1.2 |")
    for way, name in (("htod", "host-to-device"), ("dtoh", "device-to-host")):
        med, ratios = pair_ratios(
            res, lambda p: bandwidth(res.run("memcpy_bw", "rtt0", p, workload=way, size=4194304, mode="rpc")),
            lambda p: bandwidth(res.run("raw_am_bw", "rtt0", p, size=4194304)))
        lines.append(f"| `memcpy_bw` {name} / `raw_am_bw`, 4 MiB, loopback, each pair run back to back | "
                     f"{ratio_text(med, ratios)} | ≥ 0.9 |")
    lines += ["", "Latencies are medians of whole inferences (or round trips); MB/s is MiB/s over whole runs "
              "(`overall`). The floors are compared pair by pair (the raw UCX run, then the RRTO run, repeated), "
              "since one run alone can land in a busy moment of a small shared machine. `ideal` is the "
              "non-transparent baseline: the same program's operators registered once with the server, then one "
              "message per synchronisation point carrying only the inputs, the outputs in the reply "
              "(`rrto-perf-workload` with `RRTO_MODE=ideal`, no client library).", ""]
    return lines


def compression_run(res, link, pair, variant):
    """ResNet-50-shaped replay on `link` in compression pair `pair`: "compressed" (uploads compressed when it
    pays) or "uncompressed" (RRTO_COMPRESSION=off)."""
    return res.run("infer_lat", link, pair, variant, mode="replay", workload="resnet50")


def compression_ratios(res, link):
    return pair_ratios(res, lambda p: median(compression_run(res, link, p, "compressed")),
                       lambda p: median(compression_run(res, link, p, "uncompressed")))


def compression_section(res):
    links = [link for link in res.link_names if compression_ratios(res, link)[0] is not None]
    if not links:
        return []
    lines = ["## Compressed uploads (`infer_lat --workload resnet50 --mode replay`)", "",
             "| link | compressed: median (ms) | bytes up / inference | uncompressed: median (ms) | bytes up / inference "
             "| ratio |", "|---|---|---|---|---|---|"]
    for link in links:
        cells = []
        for variant in ("compressed", "uncompressed"):
            runs = [compression_run(res, link, p, variant) for p in res.pairs()]
            runs = [r for r in runs if median(r)]
            cells.append(ms(median_of(median(r) for r in runs)))
            cells.append(bytes_text(median_of(r["per_iteration"]["bytes_up"] for r in runs if r.get("per_iteration"))))
        lines.append(f"| {res.link_label(link)} | {' | '.join(cells)} | {ratio_text(*compression_ratios(res, link))} |")
    lines += ["", "The input is a photograph preprocessed for ImageNet (perf/README.md, workloads). The client "
              "compresses a batch's bulk with zstd when the link's upload speed makes it pay (here the emulated "
              "link's); the uncompressed run sets `RRTO_COMPRESSION=off`. Each pair runs the two back to back; "
              "the medians are over the pairs, the ratio is the median of the pairs' ratios.", ""]
    return lines


def busy_line(res):
    loads = [r.get("load_before") for r in res.data["results"] if r.get("load_before") is not None]
    cores = res.data["machine"].get("cores") or 1
    if not loads:
        return ""
    busy = [r["label"] for r in res.data["results"] if (r.get("load_before") or 0) > cores]
    text = (f"- **Load:** 1-minute load average before each run: median {sorted(loads)[len(loads) // 2]:.2f}, "
            f"highest {max(loads):.2f} ({cores} cores).")
    if busy:
        text += (f" {len(busy)} run(s) started with more load than cores (other work on the machine), which "
                 f"inflates them: {', '.join(busy[:8])}{'…' if len(busy) > 8 else ''}.")
    return text + "\n"


def setup_section(res):
    d = res.data
    m = d["machine"]
    transport = None
    for test in ("raw_am_lat", "rpc_lat"):
        doc = res.doc(test, "rtt0")
        if doc and doc.get("transport"):
            transport = doc["transport"]
            break
    git = d["git"]
    commit = f"{git['commit']}{' with uncommitted changes' if git.get('dirty') else ''}" if git.get("commit") else "unknown"
    lines = [
        "# RRTO edge-network benchmark", "",
        f"Generated {d['generated']} by `perf/run-benchmarks` in {d['duration_s']:.0f} s"
        f"{' (quick mode: a reduced sweep)' if d.get('quick') else ''}; source {commit}.", "",
        "## Set-up", "",
        f"- **Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB memory, Linux {m['kernel']}"
        f"{', virtual machine (' + m['virtualization'] + ')' if m.get('virtualization') and m['virtualization'] != 'none' else ''}.",
        f"- **Client and server on this one machine**, over loopback: an `rrto-perftest` server, which started "
        f"an `rrto-server` with the `{d['backend']}` backend (kernels run on the CPU, from "
        f"`librrto_perf_kernels.so` and `librrto_example_kernels.so`), and `rrto-perftest` clients.",
        f"- **UCX** {m.get('ucx') or '?'}; the transport UCX chose: **{transport or 'unknown'}**"
        f"{' (UCX_TLS=' + m['ucx_tls'] + ')' if m.get('ucx_tls') else ' (UCX_TLS unset)'}.",
        "- **Links** are emulated in RRTO's transport on the client side (`transport/link.h`, `RRTO_LINK`): "
        "every message, both directions, in every mode and in the raw UCX tests alike, is held for the one-way "
        "delay plus its size over the bandwidth. The physical link underneath is loopback.", "",
        busy_line(res),
        "| link | emulation |", "|---|---|"]
    for l in res.links:
        if any(r["link"] == l["name"] for r in d["results"]):
            lines.append(f"| {res.link_label(l['name'])} | `{res.spec_of(l['name'])}` |")
    lines += ["",
              "- **Workloads** (`rrto-perf-workload`, an ordinary driver-API program run through RRTO's "
              "`libcuda.so.1`): `cnn` is the example CNN (13 launches); `resnet50` and `bert` replay the launch "
              "sequences of `tracegen`'s ResNet-50 (about 315 launches of 21 kernels, 602 kB in, 4 kB out) and "
              "BERT-base (about 700 launches of 22 kernels) plans with tiny kernels of the same names and parameter "
              "lists: the number and shape of the operators and the size of inputs and outputs are the models', "
              "the arithmetic is small.",
              "- **Counts** (round trips, bytes) come from the client library's `RRTO_STATS` line: a run minus a "
              "run with the same set-up and warm-up but no measured iteration, divided by the iterations.",
              "- **Floor** = emulated RTT + the program's own input and output bytes / link bandwidth + the "
              "server's compute time for one inference (CUDA events around the kernels, measured in `async` mode "
              "on loopback). With no bandwidth limit the middle term is zero. It counts one round trip: `bert` "
              "and `detector` wait for the server twice per inference (two synchronous output copies; a "
              "proposal count read back mid-inference), so `async` and `ideal` pay about 2 × RTT for them; "
              "`replay` pays one where the server continues past the first copy speculatively (client/README.md, "
              "Speculation).", ""]
    return lines


def median_of(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def floor_us(res, link, run, compute_us):
    """RTT + the program's payload over the link's bandwidth + the server's compute."""
    if compute_us is None:
        return None
    doc = res.doc("infer_lat", link)
    if not doc:
        return None
    l = doc["link"]
    total = l["rtt_us"] + compute_us
    per = run["per_iteration"]
    if l["up_bits_per_second"]:
        total += per["payload_up"] * 8 / l["up_bits_per_second"] * 1e6
    if l["down_bits_per_second"]:
        total += per["payload_down"] * 8 / l["down_bits_per_second"] * 1e6
    return total


def infer_sections(res):
    lines = []
    names = {"cnn": "Example CNN", "resnet50": "ResNet-50-shaped", "bert": "BERT-base-shaped",
             "detector": "Detector-shaped"}
    for workload in res.data["workloads"]:
        links = [l for l in res.links_present("infer_lat")
                 if any(run.get("workload") == workload for _, run in res.runs("infer_lat", l))]
        lines += [f"## {names.get(workload, workload)} (`infer_lat --workload {workload}`)", ""]
        # One compute time per workload for every floor: each rrto-perftest
        # run measures it again, and single measurements wander.
        computes = [run.get("server_compute_us") for _, run in res.runs("infer_lat")
                    if run.get("workload") == workload and run.get("server_compute_us")]
        compute = median_of(computes)
        # The compact view first: median per mode and link.
        header = "| mode | " + " | ".join(res.link_label(l) for l in links) + " |"
        lines += ["Median latency per inference (ms):", "", header, "|---" * (len(links) + 1) + "|"]
        reasons = {}
        for mode in res.data["modes"]:
            cells = []
            for link in links:
                run = res.run("infer_lat", link, mode=mode, workload=workload)
                if run is None:
                    cells.append("")
                elif not run["available"] or run["failed"]:
                    cells.append("n/a")
                    reasons.setdefault(mode, run.get("reason", ""))
                else:
                    cells.append(ms(median(run)))
            lines.append(f"| `{mode}` | " + " | ".join(cells) + " |")
        lines += ["", "| link | mode | n | median (ms) | p99 (ms) | round trips / inference | bytes / inference "
                  "(up + down) | reduction vs `rpc` | × `ideal` | × floor |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for link in links:
            rpc = res.run("infer_lat", link, mode="rpc", workload=workload)
            ideal = res.run("infer_lat", link, mode="ideal", workload=workload)
            for mode in res.data["modes"]:
                run = res.run("infer_lat", link, mode=mode, workload=workload)
                if run is None or not run["available"] or run["failed"]:
                    continue
                per = run["per_iteration"]
                up, down = per.get("bytes_up"), per.get("bytes_down")
                total = None if up is None or down is None else up + down
                rt = per.get("round_trips")
                red = NA if median(rpc) is None else f"{(1 - median(run) / median(rpc)) * 100:.1f}%"
                lines.append(
                    f"| {res.link_label(link)} | `{mode}` | {run['iterations']} | {ms(median(run))} | {ms(p99(run))} | "
                    f"{NA if rt is None else f'{rt:.2f}'} | {bytes_text(total)} ({bytes_text(up)} + "
                    f"{bytes_text(down)}) | {red} | {ratio(median(run), median(ideal))} | "
                    f"{ratio(median(run), floor_us(res, link, run, compute))} |")
        spread = f", {len(computes)} measurements from {ms(min(computes))} to {ms(max(computes))} ms" if computes else ""
        lines += ["", f"Server compute per inference: {ms(compute)} ms (host backend; median{spread}). "
                  "The floor of each row uses it."]
        for mode, why in reasons.items():
            lines.append(f"`{mode}` not available: {why}")
        lines.append("")
    return lines


def launch_section(res):
    links = res.links_present("launch_lat")
    if not links:
        return []
    lines = ["## Kernel launch + synchronise (`launch_lat`)", "",
             "| link | mode | n | median (µs) | p99 (µs) | round trips |", "|---|---|---|---|---|---|"]
    reasons = {}
    for link in links:
        for mode in res.data["modes"]:
            run = res.run("launch_lat", link, mode=mode)
            if run is None:
                continue
            if not run["available"] or run["failed"]:
                reasons.setdefault(mode, run.get("reason", ""))
                continue
            rt = run["per_iteration"].get("round_trips")
            lines.append(f"| {res.link_label(link)} | `{mode}` | {run['iterations']} | {median(run):.1f} | "
                         f"{p99(run):.1f} | {NA if rt is None else f'{rt:.2f}'} |")
    for mode, why in reasons.items():
        lines.append(f"\n`{mode}` not available: {why}")
    return lines + [""]


def latency_floor_section(res):
    links = res.links_present("rpc_lat")
    lines = ["## Round trip: RRTO protocol against plain UCX", "",
             "| link | `raw_am_lat` median (µs) | p99 | `rpc_lat` median (µs) | p99 | `rpc_lat` / `raw_am_lat` |",
             "|---|---|---|---|---|---|"]
    for link in links:
        for pair in (res.pairs() if link == "rtt0" else []) or [None]:
            raw, rpc = res.run("raw_am_lat", link, pair), res.run("rpc_lat", link, pair)
            if not raw or not rpc:
                continue
            name = res.link_label(link) + (f", pair {pair}" if pair and len(res.pairs()) > 1 else "")
            lines.append(f"| {name} | {median(raw):.2f} | {p99(raw):.2f} | {median(rpc):.2f} | "
                         f"{p99(rpc):.2f} | {ratio(median(rpc), median(raw), 3)} |")
    lines += ["", "`raw_am_lat`: an 8-byte UCX active message and its echo, no RRTO header or protocol. "
              "`rpc_lat`: one batch with one `MemGetInfo` call through RRTO's transport, protocol and server, "
              "and its reply. Both are whole round trips (ucx_perftest halves its ping-pong latencies). Over an "
              "emulated RTT both sides sleep between messages (UCX's event wait after 100 µs of polling); the "
              "excess of `raw_am_lat` over the RTT is mostly the time a sleeping process takes to wake on this "
              "machine, paid once per round trip by every test alike.", ""]
    return lines


def bandwidth_section(res):
    pairs = res.pairs() or [None]
    raws = {}
    for _, run in res.runs("raw_am_bw", "rtt0"):
        raws.setdefault(run["size"], [])
    if not raws:
        return []
    modes = sorted({run["mode"] for _, run in res.runs("memcpy_bw", "rtt0") if run.get("mode")},
                   key=lambda m: res.data["modes"].index(m) if m in res.data["modes"] else 9)
    cols = [(way, mode) for mode in modes for way in ("htod", "dtoh")]
    lines = ["## Bandwidth: copies against plain UCX (loopback)", "",
             "| size | `raw_am_bw` MB/s | " + " | ".join(f"`{m}` {w} MB/s (ratio)" for w, m in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for size in sorted(raws):
        raw_bw = median_of(bandwidth(res.run("raw_am_bw", "rtt0", p, size=size)) for p in pairs)
        cells = []
        for way, mode in cols:
            bw = median_of(bandwidth(res.run("memcpy_bw", "rtt0", p, workload=way, size=size, mode=mode))
                           for p in pairs)
            cells.append(NA if bw is None or not raw_bw else f"{bw:.0f} ({bw / raw_bw:.2f})")
        lines.append(f"| {size_text(size)} | {NA if raw_bw is None else f'{raw_bw:.0f}'} | " + " | ".join(cells) + " |")
    lines += ["", "`raw_am_bw` streams messages one way (8 in flight); `memcpy_bw` times synchronous "
              "`cuMemcpyHtoD`/`cuMemcpyDtoH` calls through the client library, one round trip each. "
              f"Each figure is the median over {len(pairs)} run(s); the ratio is against `raw_am_bw`.", ""]
    return lines


def plot(res, out_dir):
    """latest.png: median latency against RTT per mode, a panel per workload."""
    gnuplot = shutil.which("gnuplot")
    sweep = [l for l in res.links if l["kind"] == "sweep" and l["name"] in res.links_present("infer_lat")]
    workloads = res.data["workloads"]
    if not gnuplot or not sweep:
        return None
    modes = res.data["modes"]
    for workload in workloads:
        with open(os.path.join(out_dir, f"latest-{workload}.dat"), "w") as f:
            f.write("# rtt_ms " + " ".join(modes) + " floor (median ms per inference)\n")
            for l in sweep:
                row = [f"{l['rtt_ms']:g}"]
                floor = None
                compute = median_of(run.get("server_compute_us") for _, run in res.runs("infer_lat")
                                    if run.get("workload") == workload)
                for mode in modes:
                    run = res.run("infer_lat", l["name"], mode=mode, workload=workload)
                    m = median(run)
                    row.append("?" if m is None else f"{m / 1000:.4f}")
                    if m is not None:
                        floor = floor_us(res, l["name"], run, compute)
                row.append("?" if floor is None else f"{floor / 1000:.4f}")
                f.write(" ".join(row) + "\n")
    script = ["set terminal pngcairo size %d,420 font 'sans,10'" % (430 * len(workloads)),
              f"set output '{os.path.join(out_dir, 'latest.png')}'",
              "set datafile missing '?'", "set logscale y", "set grid",
              "set xlabel 'emulated RTT (ms)'", "set ylabel 'median latency per inference (ms)'",
              "set key top left", f"set multiplot layout 1,{len(workloads)}"]
    styles = {"rpc": "lc rgb '#d62728' pt 7", "async": "lc rgb '#1f77b4' pt 5", "replay": "lc rgb '#2ca02c' pt 9",
              "ideal": "lc rgb '#9467bd' pt 11"}
    for workload in workloads:
        data = os.path.join(out_dir, f"latest-{workload}.dat")
        has = {mode: any(median(res.run("infer_lat", l["name"], mode=mode, workload=workload)) is not None
                         for l in sweep) for mode in modes}
        parts = [f"'{data}' using 1:{i + 2} with linespoints lw 2 {styles.get(mode, '')} title '{mode}'"
                 for i, mode in enumerate(modes) if has[mode]]
        parts.append(f"'{data}' using 1:{len(modes) + 2} with lines dt 2 lc rgb 'black' title 'floor'")
        script += [f"set title '{workload}'", "plot " + ", ".join(parts)]
    script.append("unset multiplot")
    return "latest.png" if run_gnuplot(gnuplot, script, os.path.join(out_dir, "latest.gp")) else None


def run_gnuplot(gnuplot, script, script_path):
    """Writes the gnuplot `script` (lines) to `script_path` and runs it; False (said on stderr) when it fails."""
    with open(script_path, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run([gnuplot, script_path], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"{os.path.basename(sys.argv[0])}: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
        return False
    return True


def load_results(file_name, usage):
    """RESULTS_DIR from the command line, and the JSON document `file_name` there."""
    if len(sys.argv) != 2:
        sys.exit(usage)
    out_dir = os.path.abspath(sys.argv[1])
    with open(os.path.join(out_dir, file_name)) as f:
        return out_dir, json.load(f)


def main():
    out_dir, data = load_results("latest.json", __doc__)
    res = Results(data)
    lines = setup_section(res) + headline(res)
    png = plot(res, out_dir)
    if png:
        lines += ["## Latency against RTT", "", f"![median latency per inference against RTT, per mode]({png})", ""]
    else:
        lines += ["(No plot: gnuplot is not installed.)", ""]
    lines += (infer_sections(res) + compression_section(res) + launch_section(res) + latency_floor_section(res) +
              bandwidth_section(res))
    failures = res.failures()
    if failures:
        lines += ["## Runs that failed", ""]
        for r in failures:
            lines.append(f"- `{r['label']}` (exit {r['exit_code']}): {r['stderr'].strip().splitlines()[-1] if r['stderr'].strip() else ''}")
        lines.append("")
    lines += ["Raw data: `latest.json` (every run's `rrto-perftest --json` document). "
              "Reproduce: `perf/run-benchmarks`.", ""]
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"render: wrote {os.path.join(out_dir, 'latest.md')}" + (f" and {png}" if png else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
