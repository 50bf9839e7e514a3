"""soak.md from the document run-soak writes to soak.json."""

MIB = 1 << 20
REFUSED = ["error_reply", "error_reply_then_closed", "closed"]
NOT_REFUSED = ["served", "not_tried", "server_gone"]


def not_refused(intruder):
    """The intruder's attempts that were not refused, in words ('' when none)."""
    totals = {o: sum(k[o] for k in intruder.get("kinds", {}).values()) for o in NOT_REFUSED}
    return ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in totals.items() if n)


def mib(n):
    return f"{n / MIB:.1f} MiB" if n else "-"


def bars(doc):
    c, rss, i = doc["clients"], doc["rss_bytes"], doc["intruder"]
    warm, end = rss.get("after_warmup", 0), rss.get("end", 0)
    growth = f"{(end / warm - 1):+.1%}" if warm else "-"
    yes = lambda ok: "yes" if ok else "**no**"
    return [
        "| bar | figure | met |",
        "|---|---|---|",
        f"| inferences completed by well-behaved clients | {c['inferences']:,} | {yes(c['inferences'] > 0)} |",
        f"| wrong outputs (must be 0) | {c['wrong_outputs']} | {yes(c['wrong_outputs'] == 0)} |",
        f"| lost inferences (must be 0) | {c['lost_inferences']} ({c['lost_runs']} runs) | "
        f"{yes(c['lost_inferences'] == 0)} |",
        f"| server RSS: start / after warm-up / end | {mib(rss.get('start'))} / {mib(warm)} / {mib(end)} "
        f"(end {growth} against after warm-up; at most +20%) | {yes(warm and end <= warm * 1.2)} |",
        f"| intruder attempts refused | {i.get('refused', 0):,} of {i.get('attempts', 0):,} "
        f"({not_refused(i) or 'none served, none not tried, the server there throughout'}) | "
        f"{yes('error' not in i and i['attempts'] and i['refused'] == i['attempts'])} |",
        f"| server survived and stopped cleanly on SIGTERM | exit {doc['server']['exit_code']} | "
        f"{yes(doc['server']['survived'] and doc['server']['exit_code'] == 0)} |",
    ]


def intruder_table(i):
    if "kinds" not in i:
        return [f"The intruder gave no counts: {i.get('error')}"]
    outcomes = REFUSED + NOT_REFUSED
    lines = ["| attempt | tries | " + " | ".join(o.replace("_", " ") for o in outcomes) + " |",
             "|---|" + "---:|" * (len(outcomes) + 1)]
    for kind, k in i["kinds"].items():
        lines.append(f"| `{kind}` | {k['attempts']:,} | " + " | ".join(f"{k[o]:,}" for o in outcomes) + " |")
    return lines


def server_lines(s, intruder):
    st = s["status"]
    if not st:
        return ["The server's status could not be read at the end."]
    refusals = ", ".join(f"{k} {v}" for k, v in st["refusals"].items())
    wrong_key = intruder.get("kinds", {}).get("wrong_key", {}).get("attempts", 0)
    return [f"- sessions admitted {st['sessions_admitted']:,}, ended {st['sessions_ended']:,}; "
            f"connections open at the end {st['connections']}",
            f"- session refusals: {refusals} (the intruder's wrong-key attempts: {wrong_key:,}); "
            f"protocol errors (malformed requests): {st['protocol_errors']:,}",
            f"- messages in {st['messages_in']:,} ({mib(st['bytes_in'])}), out {st['messages_out']:,} "
            f"({mib(st['bytes_out'])})"]


def rss_samples_line(samples):
    sizes = [r["bytes"] for r in samples]
    return (f"- RSS every 10 s ({len(sizes)} samples in soak.json): lowest {mib(min(sizes))}, highest {mib(max(sizes))}"
            if sizes else "- no RSS samples")


def markdown(doc):
    c, setup = doc["clients"], doc["setup"]
    by_mode = ", ".join(f"{m} {n:,}" for m, n in c["inferences_by_mode"].items())
    out = ["# Soak test", "",
           "**All bars met.**" if not doc["missed"] else "**Bars missed:** " + "; ".join(doc["missed"]) + ".", "",
           *bars(doc), "",
           "## Set-up", "",
           f"- {doc['seconds']:.0f} s (asked {setup['duration_s']:.0f} s); one rrto-server, host backend, "
           f"{setup['devices']} emulated devices, the example kernels; limits {setup['limits']}",
           f"- {setup['clients']} well-behaved clients at once, `cnn_driver --inferences 1..{setup['max_inferences']} "
           f"--batch 1..4` through the client library, modes {', '.join(setup['modes'])} by slot; a random run "
           f"SIGKILLed every {setup['kill_every_s']} s on average and its slot restarted",
           f"- RSS after warm-up sampled at {setup['warmup_s']:.0f} s; seed {setup['seed']}; "
           f"runaway grid {'tried' if setup['runaway_grid'] else 'not tried'}", "",
           "## Well-behaved clients", "",
           f"- runs {c['runs']:,}: completed {c['completed_runs']:,}, killed by the soak {c['killed_runs']:,}, "
           f"wrong outputs {c['wrong_outputs']}, lost {c['lost_runs']}",
           f"- inferences by mode: {by_mode}"]
    out += [f"- failure: `{f}`" for f in c["failures"]]
    out += ["", "## The misbehaving client", "", *intruder_table(doc["intruder"]), "",
            "## Server", "", *server_lines(doc["server"], doc["intruder"]),
            rss_samples_line(doc["rss_samples"]),
            f"- log: `{doc['server']['log']}`", ""]
    return "\n".join(out)
