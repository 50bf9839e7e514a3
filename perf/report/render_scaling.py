"""Turns perf/results/scaling.json (scaling.py) into scaling.md and the plot
scaling.png (aggregate throughput against clients, a line per device count;
drawn by gnuplot when it is installed).

Usage: render_scaling.py RESULTS_DIR"""
import os
import shutil
import sys

from render import load_results, run_gnuplot

NA = "n/a"


def clients_of(result):
    """The --clients record of a point, None when it did not run."""
    doc = result.get("perftest")
    if not doc or not doc.get("runs"):
        return None
    run = doc["runs"][0]
    if not run.get("available") or run.get("failed"):
        return None
    return run.get("clients")


def throughput(data, devices, clients):
    for r in data["results"]:
        if r["devices"] == devices and r["clients"] == clients:
            c = clients_of(r)
            return c["aggregate_per_second"] if c else None
    return None


def ratio(data, devices, clients):
    """Throughput / (min(N, D) x one client on one device)."""
    one, value = throughput(data, 1, 1), throughput(data, devices, clients)
    if not one or value is None:
        return None
    return value / (min(clients, devices) * one)


def grid(data):
    devices = sorted({r["devices"] for r in data["results"]})
    clients = sorted({r["clients"] for r in data["results"]})
    return devices, clients


def table(data, title, cell):
    devices, clients = grid(data)
    lines = [title, "", "| devices \\ clients | " + " | ".join(str(n) for n in clients) + " |",
             "|---" * (len(clients) + 1) + "|"]
    for d in devices:
        lines.append(f"| {d} | " + " | ".join(cell(d, n) for n in clients) + " |")
    return lines + [""]


def detail(data):
    lines = ["| devices | clients | inferences/s | per-client median (ms) | per-client p99 (ms) | "
             "max/min per-client throughput | window (s) | device busy |", "|---|---|---|---|---|---|---|---|"]
    for r in sorted(data["results"], key=lambda r: (r["devices"], r["clients"])):
        c = clients_of(r)
        if not c:
            lines.append(f"| {r['devices']} | {r['clients']} | failed | | | | | |")
            continue
        med = [p["latency_us"]["p50"] / 1e3 for p in c["per_client"]]
        p99 = [p["latency_us"]["p99"] / 1e3 for p in c["per_client"]]
        lines.append(f"| {r['devices']} | {r['clients']} | {c['aggregate_per_second']:.1f} | "
                     f"{min(med):.2f}–{max(med):.2f} | {min(p99):.2f}–{max(p99):.2f} | {c['spread']:.2f} | "
                     f"{c['window_s']:.2f} | {busy(c)} |")
    return lines + [""]


def busy(clients):
    """Each device's busy share of the window, as rrto-server's status endpoint counted it."""
    devices = clients.get("device_busy")
    return " ".join(f"{100 * d['fraction']:.0f}%" for d in devices) if devices else NA


def plot(data, out_dir):
    gnuplot = shutil.which("gnuplot")
    devices, clients = grid(data)
    if not gnuplot:
        return None
    dat = os.path.join(out_dir, "scaling.dat")
    with open(dat, "w") as f:
        f.write("# clients " + " ".join(f"d{d} d{d}_ratio" for d in devices) + " (aggregate inferences/s, ratio)\n")
        for n in clients:
            row = [str(n)]
            for d in devices:
                t, q = throughput(data, d, n), ratio(data, d, n)
                row += ["?" if t is None else f"{t:.2f}", "?" if q is None else f"{q:.4f}"]
            f.write(" ".join(row) + "\n")
    script = ["set terminal pngcairo size 900,420 font 'sans,10'", f"set output '{os.path.join(out_dir, 'scaling.png')}'",
              "set datafile missing '?'", "set logscale x 2", "set grid", "set key top left",
              "set xlabel 'clients'", "set multiplot layout 1,2",
              "set title 'aggregate throughput'", "set ylabel 'inferences/s'", "set yrange [0:*]",
              "plot " + ", ".join(f"'{dat}' using 1:{2 + 2 * i} with linespoints lw 2 title '{d} device(s)'"
                                  for i, d in enumerate(devices)),
              "set title 'throughput / (min(clients, devices) x one client on one device)'",
              "set ylabel 'ratio'", "set yrange [0:*]",
              "plot " + ", ".join(f"'{dat}' using 1:{3 + 2 * i} with linespoints lw 2 title '{d} device(s)'"
                                  for i, d in enumerate(devices)),
              "unset multiplot"]
    return "scaling.png" if run_gnuplot(gnuplot, script, os.path.join(out_dir, "scaling.gp")) else None


def report(data, png):
    w, m, git = data["workload"], data["machine"], data["git"]
    commit = f"{git['commit']}{' with uncommitted changes' if git.get('dirty') else ''}" if git.get("commit") else "unknown"
    lines = ["# RRTO scaling: clients and devices", "",
             f"Generated {data['generated']} by `perf/run-benchmarks --scaling` in {data['duration_s']:.0f} s"
             f"{' (quick mode: a reduced sweep)' if data.get('quick') else ''}; source {commit}.", "",
             f"- **Machine:** {m['cpu']}, {m['cores']} cores; clients and server on it, over loopback.",
             f"- **Each point:** an `rrto-perftest` server side with `--devices D` (host backend, D emulated devices), "
             f"and `rrto-perftest -t infer_lat --workload sleep --kernel-us {w['kernel_us']} --mode {w['mode']} "
             f"--clients N` (N `rrto-perf-workload` processes, each its own session, placed on the devices "
             f"by load). Per inference: 1 KiB up, one kernel that sleeps {w['kernel_us']} µs on the server, "
             f"1 KiB down. Each client warms up ({w['warmup']} inferences), then all start together and run for "
             f"about {w['seconds_per_point']} s.",
             "- **inferences/s** = all clients' measured inferences / the window from their common start to the "
             "end of the last client's last inference. **Ratio** = that / (min(N, D) × the figure of 1 client on "
             "1 device): 1.0 is perfect scaling over the devices in use.", ""]
    one = throughput(data, 1, 1)
    lines += table(data, "Aggregate inferences/s:", lambda d, n: NA if throughput(data, d, n) is None
                   else f"{throughput(data, d, n):.0f}")
    lines += table(data, f"Ratio to min(N, D) × one client on one device ({NA if one is None else f'{one:.0f}'} "
                         "inferences/s):",
                   lambda d, n: NA if ratio(data, d, n) is None else f"{ratio(data, d, n):.2f}")
    lines += [f"![aggregate throughput and ratio against clients, a line per device count]({png})", ""] if png else \
        ["(No plot: gnuplot is not installed.)", ""]
    lines += ["Per point:", ""] + detail(data)
    failures = [r for r in data["results"] if r["exit_code"] != 0]
    if failures:
        lines += ["## Points that failed", ""]
        for r in failures:
            last = r["stderr"].strip().splitlines()[-1] if r["stderr"].strip() else ""
            lines.append(f"- {r['label']} (exit {r['exit_code']}): {last}")
        lines.append("")
    lines += ["Raw data: `scaling.json`.", ""]
    return lines


def main():
    out_dir, data = load_results("scaling.json", __doc__)
    png = plot(data, out_dir)
    path = os.path.join(out_dir, "scaling.md")
    with open(path, "w") as f:
        f.write("\n".join(report(data, png)))
    print(f"render_scaling: wrote {path}" + (f" and {png}" if png else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
