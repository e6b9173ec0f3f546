#!/usr/bin/env python3
"""Regenerates docs/benchmarks.md from the raw files of one `make bench` (bench/run.sh).

Usage: bench/report.py RAW_DIR [PREVIOUS_REPORT] > report.md

RAW_DIR (docs/bench/<stamp>/) holds machine.txt and one file per cell: a comment line, a
`META key=value…` line (what was measured, CPU, RSS), the tool's own output (wrk, openloop or
pgbench) and its `RESULT key=value…` line. Medians over the runs; every ratio is taken within a
run (the servers of a run share its conditions) and the median of those per-run ratios is shown.
The hand-written analysis after MARKER in PREVIOUS_REPORT is kept. Standard library only.
"""
import os
import statistics
import sys
from collections import defaultdict

MARKER = "<!-- analysis: kept by bench/report.py -->"
QUERIES = ["q_one", "q_list", "m_update"]
TARGETS = {"q_one": 3.0, "q_list": 2.5, "m_update": 1.5}


def kv(line):
    return dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)


def load(raw_dir):
    cells = []
    for name in sorted(os.listdir(raw_dir)):
        if not name.endswith(".txt") or name == "machine.txt":
            continue
        meta, result = None, None
        with open(os.path.join(raw_dir, name)) as f:
            for line in f:
                if line.startswith("META "):
                    meta = kv(line)
                elif line.startswith("RESULT "):
                    result = kv(line)
        if meta is None:
            continue
        c = dict(meta)
        # The open loop's RESULT names the rate it sent; META's is the rate asked for, kept.
        if result and "rate" in result and "rate" in meta:
            result = dict(result, sent=result["rate"])
            del result["rate"]
        c.update(result or {})
        c["file"] = name
        c["ok"] = result is not None
        for k in ("conns", "run"):
            c[k] = int(c.get(k, 0))
        for k in ("rps", "p50_ms", "p99_ms", "cpu_server", "cpu_postgres", "throughput", "rate", "sent", "tps", "peer_rps"):
            if k in c:
                c[k] = float(c[k])
        for k in ("rss_mb", "bytes", "non2xx", "socket_errors", "timeouts", "bad_answers", "errors", "failed"):
            if k in c:
                c[k] = int(c[k])
        cells.append(c)
    return cells


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=",.0f", none="–"):
    return none if x is None else format(x, spec)


def label(target):
    if target == "plugboard":
        return "Plugboard"
    if target == "plugboard-base":
        return "Plugboard base"
    if target.startswith("pgl"):
        w = target[3:].replace("+writes", "")
        return f"PostGraphile {w}w" + (" +writes" if target.endswith("+writes") else "")
    return target


def errs(c):
    return c.get("bad_answers", 0) + c.get("socket_errors", 0) + c.get("errors", 0)


def main():
    raw_dir = sys.argv[1].rstrip("/")
    previous = sys.argv[2] if len(sys.argv) > 2 else None
    cells = load(raw_dir)
    machine = open(os.path.join(raw_dir, "machine.txt")).read().splitlines() if os.path.exists(os.path.join(raw_dir, "machine.txt")) else []
    smoke = any("SMOKE RUN" in l for l in machine)
    rel = os.path.relpath(raw_dir, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs"))

    closed = defaultdict(dict)  # (q, conns) -> target -> run -> cell
    pages = defaultdict(dict)   # page -> target -> cell
    opened = defaultdict(dict)  # q -> run -> target -> cell
    floors = defaultdict(dict)  # q -> run -> cell
    action = defaultdict(dict)  # run -> target -> cell
    for c in cells:
        kind = c.get("kind")
        if kind == "closed" and c.get("page") == "default":
            closed[(c["query"], c["conns"])].setdefault(c["target"], {})[c["run"]] = c
        elif kind == "closed":
            pages[int(c["page"])][c["target"]] = c
        elif kind == "open":
            opened[c["query"]].setdefault(c["run"], {})[c["target"]] = c
        elif kind == "floor":
            floors[c["query"]][c["run"]] = c
        elif kind == "action":
            action[c["run"]][c["target"]] = c
    runs = sorted({c["run"] for c in cells if c.get("kind") == "closed" and c.get("page") == "default"})

    def best_ratio(q, conns, writes):
        """Per run: Plugboard's req/s / the faster PostGraphile's (plain, or +writes)."""
        per_run = {}
        ts = closed[(q, conns)]
        for r in runs:
            pb = ts.get("plugboard", {}).get(r)
            peers = [ts[t][r]["rps"] for t in ts if t.startswith("pgl") and t.endswith("+writes") == writes and r in ts[t]]
            if pb and peers and max(peers) > 0:
                per_run[r] = pb["rps"] / max(peers)
        return per_run

    def ratio_to(q, conns, target):
        ts = closed[(q, conns)]
        rs = [ts["plugboard"][r]["rps"] / ts[target][r]["rps"] for r in runs
              if r in ts.get("plugboard", {}) and r in ts.get(target, {}) and ts[target][r]["rps"] > 0]
        return med(rs)

    out = []
    w = out.append
    w("# Benchmarks: Plugboard vs PostGraphile 5")
    w("")
    if smoke:
        w("> **SMOKE RUN** of the harness on a shared, busy machine: these figures check that every part")
        w("> runs and are not a measurement.")
        w("")
    w(f"Generated by bench/report.py from the raw files in [`{rel}/`]({rel}/) (one file per run, query,")
    w("server and connection count: the tool's own output, CPU, RSS), written by `make bench` (bench/run.sh).")
    for l in machine[1:]:
        w(f"- {l}")
    w("")
    w("How to read it. wrk (1 thread), the servers and PostgreSQL 15 share the machine; both servers read the")
    w("same database and data (10 organisations x 1,000 connectors, 5 versions and 4 connections with 3")
    w("variables each) with 16 pool connections in total, random ids per request, and every answer is checked")
    w("(HTTP 200, no `errors`; any bad answer fails the run). Plugboard runs with the defaults of `plugboard")
    w("serve` and a real API key of the connector's organisation on every request. PostGraphile runs with 1")
    w("worker (pool 16) and with 2 (node:cluster, pool 8 each). **ratio** = Plugboard's req/s / the faster")
    w("PostGraphile's in the same run, median over the runs; the PostGraphile rows give Plugboard / that")
    w("configuration in parentheses. For m_update the target is judged against PostGraphile with the same")
    w("writes (`+writes`: bench/peer-same-writes.sql). CPU in cores over the measured window; RSS at its end")
    w("(PostGraphile with 2 workers: the sum of its processes). errors = bad answers + socket errors.")
    w("")
    w(f"## Closed loop (wrk), medians of {len(runs)} run(s)")
    w("")
    w("| query | conns | server | req/s | p50 ms | p99 ms | errors | CPU server | CPU postgres | RSS MB | bytes | ratio |")
    w("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for q in QUERIES:
        for conns in sorted(k[1] for k in closed if k[0] == q):
            ts = closed[(q, conns)]
            order = ["plugboard"] + [t for t in ("plugboard-base",) if t in ts] + sorted(t for t in ts if t.startswith("pgl") and not t.endswith("+writes")) + \
                sorted(t for t in ts if t.endswith("+writes"))
            plain = med(list(best_ratio(q, conns, False).values()))
            same = med(list(best_ratio(q, conns, True).values()))
            summary[(q, conns)] = (plain, same)
            for t in order:
                rs = list(ts[t].values())
                if t == "plugboard":
                    ratio = f"**{fmt(plain, '.2f')}x**"
                    if same is not None:
                        ratio += f" / **{fmt(same, '.2f')}x** +writes"
                else:
                    ratio = f"({fmt(ratio_to(q, conns, t), '.2f')}x)"
                w(f"| {q} | {conns} | {label(t)} | {fmt(med([c['rps'] for c in rs]))} | {fmt(med([c['p50_ms'] for c in rs]), '.2f')} | "
                  f"{fmt(med([c['p99_ms'] for c in rs]), '.2f')} | {sum(errs(c) for c in rs)} | {fmt(med([c['cpu_server'] for c in rs]), '.2f')} | "
                  f"{fmt(med([c['cpu_postgres'] for c in rs]), '.2f')} | {max(c['rss_mb'] for c in rs)} | {fmt(rs[0].get('bytes'))} | {ratio} |")
    w("")
    if len(runs) > 0 and summary:
        w("Per run, Plugboard / the faster PostGraphile (m_update: / the faster +writes), by connection count:")
        w("")
        keys = sorted(summary, key=lambda k: (QUERIES.index(k[0]), k[1]))
        w("| run | " + " | ".join(f"{q} c{c}" for q, c in keys) + " |")
        w("|---:|" + "---:|" * len(keys))
        for r in runs:
            row = []
            for q, c in keys:
                x = best_ratio(q, c, q == "m_update").get(r)
                row.append(fmt(x, ".2f") + ("x" if x is not None else ""))
            w(f"| {r} | " + " | ".join(row) + " |")
        w("")

    if opened:
        w("## Open loop: p99 at equal offered load")
        w("")
        w("bench/tools/openloop (vegeta's attacker) sends requests at a constant rate, 80 % of the faster")
        w("PostGraphile's closed-loop req/s of the same run (m_update: the faster +writes), to Plugboard and to")
        w("that PostGraphile; a late answer does not delay the next request. **p99 ratio** = Plugboard's p99 /")
        w("the peer's, median of the per-run ratios (target: at most 0.33). At most 256 requests are in flight")
        w("(OPEN_WORKERS): a run that reached the cap sent below the rate asked (**sent**) and is marked")
        w("capped; its latencies then leave out the time requests waited for a free worker, so a capped")
        w("server's p99 understates what its clients would see, and the ratio flatters that server.")
        w("")
        w("| query | run | rate asked req/s | server | sent req/s | achieved req/s | p50 ms | p99 ms | max ms | errors | capped | CPU server | p99 ratio |")
        w("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        p99_summary = {}
        for q in QUERIES:
            ratios = []
            for r in sorted(opened.get(q, {})):
                cs = opened[q][r]
                pb = cs.get("plugboard")
                peer = next((cs[t] for t in cs if t != "plugboard"), None)
                ratio = pb["p99_ms"] / peer["p99_ms"] if pb and peer and pb.get("ok") and peer.get("ok") and peer["p99_ms"] > 0 else None
                if ratio is not None:
                    ratios.append(ratio)
                for t in ["plugboard"] + [t for t in cs if t != "plugboard"]:
                    c = cs.get(t)
                    if not c:
                        continue
                    w(f"| {q} | {r} | {fmt(c.get('rate'))} | {label(t)} | {fmt(c.get('sent'))} | {fmt(c.get('throughput'))} | {fmt(c.get('p50_ms'), '.2f')} | "
                      f"{fmt(c.get('p99_ms'), '.2f')} | {fmt(float(c['max_ms']) if 'max_ms' in c else None, '.2f')} | {c.get('errors', '–')} | {'yes' if c.get('capped') == '1' else 'no'} | "
                      f"{fmt(c.get('cpu_server'), '.2f')} | {fmt(ratio, '.2f') if t == 'plugboard' else ''} |")
            p99_summary[q] = med(ratios)
        w("")
        w("p99 ratio, median over the runs: " + ", ".join(f"{q} {fmt(p99_summary[q], '.2f')}" for q in QUERIES if q in p99_summary) + ".")
        w("")

    if floors:
        w("## The floor: Plugboard's own statements through pgx")
        w("")
        w("bench/tools/pgxfloor runs the statement Plugboard sends per request (bench/pgbench/<query>.sql,")
        w("captured with log_min_duration_statement=0; the API key's lookup is cached and not per request) from")
        w("16 connections on the same database, through pgx as Plugboard does (prepared, binary results, rows")
        w("read raw): what PostgreSQL alone does with no HTTP, GraphQL or JSON. (pgbench was the floor before; it")
        w("reads text, which for q_list's arrays of records cost the database more than Plugboard's binary reads.)")
        w("**fraction** = Plugboard's closed-loop req/s at 16 connections / the floor's TPS in the same run,")
        w("median over the runs.")
        w("")
        w("| query | floor TPS | CPU postgres | Plugboard req/s (16) | fraction |")
        w("|---|---:|---:|---:|---:|")
        for q in QUERIES:
            fs = floors.get(q)
            if not fs:
                continue
            pb = closed.get((q, 16), {}).get("plugboard", {})
            fr = med([pb[r]["rps"] / fs[r]["tps"] for r in fs if r in pb and fs[r].get("tps")])
            w(f"| {q} | {fmt(med([c.get('tps') for c in fs.values()]))} | {fmt(med([c['cpu_postgres'] for c in fs.values()]), '.2f')} | "
              f"{fmt(med([c['rps'] for c in pb.values()]))} | {fmt(None if fr is None else fr * 100, '.0f')} % |")
        w("")

    if pages:
        w("## q_list cost by page size (16 connections, 1 run, the order of the servers alternating by page)")
        w("")
        w("| page | server | req/s | connectors/s | p50 ms | p99 ms | errors | CPU server | RSS MB | bytes |")
        w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for page in sorted(pages):
            for t in sorted(pages[page], key=lambda t: (t != "plugboard", t)):
                c = pages[page][t]
                w(f"| {page} | {label(t)} | {fmt(c['rps'])} | {fmt(c['rps'] * page)} | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {errs(c)} | "
                  f"{c['cpu_server']:.2f} | {c['rss_mb']} | {fmt(c.get('bytes'))} |")
        w("")

    if action:
        w("## executeAction against HAProxy")
        w("")
        w("A published action (`GET /v1/items/{{itemId}}`) of a connection whose API-key credential goes in")
        w("`X-Api-Key`, executed through Plugboard against a loopback nginx upstream (one worker process,")
        w("401 without the key), beside HAProxy proxying the same GET to the same upstream and adding the same")
        w("header. Plugboard's answer must be `ok: true` and HAProxy's the upstream's document. This part runs")
        w("Plugboard with `PLUGBOARD_OUTBOUND_ALLOW=127.0.0.0/8` (the SSRF guard refuses loopback otherwise).")
        w("**fraction** = Plugboard's req/s / HAProxy's in the same run (target: at least 25 %, DESIGN's")
        w("ruling); **µs/call** = the process's CPU over the cell / its requests. With `BASE=<revision>`,")
        w("that revision's server (\"Plugboard base\") runs in the same runs, for before/after ratios.")
        w("")
        w("| run | conns | server | req/s | p50 ms | p99 ms | errors | CPU server | server µs/call | CPU postgres | postgres µs/call | upstream CPU s | RSS MB | fraction |")
        w("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        fracs, base_fracs, speedups = [], [], []
        names = {"plugboard": "Plugboard", "plugboard-base": "Plugboard base", "haproxy": "HAProxy"}
        for r in sorted(action):
            cs = action[r]
            ha = cs.get("haproxy")
            def frac(t):
                return cs[t]["rps"] / ha["rps"] if t in cs and ha and ha["rps"] > 0 else None
            if frac("plugboard") is not None:
                fracs.append(frac("plugboard"))
            if frac("plugboard-base") is not None:
                base_fracs.append(frac("plugboard-base"))
            if "plugboard" in cs and "plugboard-base" in cs and cs["plugboard-base"]["rps"] > 0:
                speedups.append(cs["plugboard"]["rps"] / cs["plugboard-base"]["rps"])
            for t in ("plugboard", "plugboard-base", "haproxy"):
                c = cs.get(t)
                if not c:
                    continue
                per = lambda cpu: fmt(cpu * 1e6 / c["rps"] if c["rps"] > 0 else None)
                fr = frac(t) if t != "haproxy" else None
                w(f"| {r} | {c['conns']} | {names[t]} | {fmt(c['rps'])} | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {errs(c)} | "
                  f"{c['cpu_server']:.2f} | {per(c['cpu_server'])} | {c['cpu_postgres']:.2f} | {per(c['cpu_postgres'])} | {c.get('upstream_cpu_s', '–')} | {c['rss_mb']} | "
                  f"{fmt(None if fr is None else fr * 100, '.1f', '')}{' %' if fr is not None else ''} |")
        w("")
        w(f"executeAction, Plugboard / HAProxy, median over the runs: {fmt(None if not fracs else med(fracs) * 100, '.1f')} %"
          + (f" (base: {fmt(med(base_fracs) * 100, '.1f')} %; Plugboard / base req/s, median of the per-run ratios: {fmt(med(speedups), '.2f')}x)" if base_fracs and speedups else "") + ".")
        w("")

    if summary:
        w("## Against the targets of issue 18")
        w("")
        w("| target | reached (16 / 64 connections) |")
        w("|---|---|")
        for q in QUERIES:
            vals = [summary[k][1 if q == "m_update" else 0] for k in sorted(summary) if k[0] == q]
            if vals:
                w(f"| {q} ≥ {TARGETS[q]}x{' (vs +writes)' if q == 'm_update' else ''} | " + " / ".join(fmt(v, '.2f') + "x" for v in vals) + " |")
        rss = [c["rss_mb"] for c in cells if c.get("target") == "plugboard" and c.get("kind") in ("closed", "open")]
        if rss:
            w(f"| Plugboard RSS ≤ 100 MB | max {max(rss)} MB |")
        if opened:
            w("| open-loop p99 ≤ ⅓ of the peer's | " + ", ".join(f"{q} {fmt(p99_summary[q], '.2f')}" for q in QUERIES if q in p99_summary) + " |")
        if action:
            w(f"| executeAction ≥ 25 % of HAProxy | {fmt(None if not fracs else med(fracs) * 100, '.1f')} % |")
        w("")

    bad = [c["file"] for c in cells if not c["ok"] or errs(c) - c.get("socket_errors", 0) > 0 or c.get("failed", 0) > 0]
    if bad:
        w("**Bad answers** (the run failed): " + ", ".join(f"`{b}`" for b in bad))
        w("")
    if previous and os.path.exists(previous):
        text = open(previous).read()
        if MARKER in text:
            out.append(text[text.index(MARKER):].rstrip("\n"))
    print("\n".join(out))


if __name__ == "__main__":
    main()
