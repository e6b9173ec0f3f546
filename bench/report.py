#!/usr/bin/env python3
"""Turns the raw lines of bench/run.sh into docs/benchmarks.md: medians over the runs, ratios
Plugboard / PostGraphile measured in the same run, and the q_list page-size series."""
import statistics
import subprocess
import sys
from collections import defaultdict

raw = sys.argv[1]
# The hand-written analysis after this marker in the previous report is kept.
MARKER = "<!-- analysis: kept by bench/report.py -->"
previous = sys.argv[2] if len(sys.argv) > 2 else None
rows = []
for line in open(raw):
    if line.startswith("#") or not line.strip():
        continue
    parts = line.split()
    target, q, page, conns, run, size, cpu_s, cpu_p, rss = parts[:9]
    fields = dict(p.split("=", 1) for p in parts[10:] if "=" in p)
    rows.append(dict(target=target, q=q, page=page, conns=int(conns), run=int(run), size=int(size),
                     cpu_s=float(cpu_s), cpu_p=float(cpu_p), rss=int(rss), rps=float(fields["rps"]),
                     p50=float(fields["p50_ms"]), p99=float(fields["p99_ms"]),
                     errors=int(fields["non2xx"]) + int(fields["socket_errors"])))

def med(xs):
    return statistics.median(xs) if xs else float("nan")

def machine():
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except StopIteration:
        model = "?"
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cores} cores ({model})"

# PostGraphile with bench/peer-same-writes.sql: its update then writes what Plugboard's does.
SAME_WRITES = "postgraphile+writes"

def run_ratio(ours, peers):
    """Median over the runs of our req/s / the peer's req/s in the same run."""
    ratios = []
    for r in ours:
        peer = [x for x in peers if x["run"] == r["run"]]
        if peer and peer[0]["rps"] > 0:
            ratios.append(r["rps"] / peer[0]["rps"])
    return med(ratios)

def p99_ratio(ours, peers):
    """Our median p99 / the peer's."""
    return med([r["p99"] for r in ours]) / med([r["p99"] for r in peers])

main = defaultdict(list)
pages = {}
for r in rows:
    if r["page"] == "default":
        main[(r["q"], r["conns"], r["target"])].append(r)
    else:
        pages[(r["page"], r["target"])] = r

runs = max((r["run"] for r in rows), default=0)
out = []
out.append("# Benchmarks: Plugboard vs PostGraphile 5")
out.append("")
out.append(f"Measured by `make bench` (bench/run.sh) on {machine()}; wrk, the server and PostgreSQL 15 share the")
out.append("machine. Both servers read the same database and data (Plugboard's schema, seeded with the shared")
out.append("harness's volumes: 10 organisations x 1,000 connectors, 5 versions and 4 connections with 3 variables")
out.append("each), with a pool of 16 connections, random ids per request, and alternate query by query. wrk (1 thread)")
out.append("formats every request once at start (bench/wrk/graphql.lua) and picks one at random per request.")
out.append(f"Plugboard is called with a real API key of the connector's organisation on every request. Medians of {runs} run(s);")
out.append("ratio = Plugboard / PostGraphile req/s of the same run (median of the per-run ratios). CPU in cores")
out.append("during the measured window; RSS of the server process at the end of it.")
out.append("")
out.append("| query | conns | server | req/s | p50 ms | p99 ms | errors | CPU server | CPU postgres | RSS MB | bytes | ratio |")
out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for q in ["q_one", "q_list", "m_update"]:
    for conns in sorted({k[1] for k in main if k[0] == q}):
        pb = main.get((q, conns, "plugboard"), [])
        for name in ("plugboard", "postgraphile", SAME_WRITES):
            rs = main.get((q, conns, name), [])
            if not rs:
                continue
            ratio = ""
            if name == "plugboard":
                ratio = f"**{run_ratio(pb, main.get((q, conns, 'postgraphile'), [])):.2f}x**"
            elif name == SAME_WRITES:
                ratio = f"({run_ratio(pb, rs):.2f}x)"
            out.append(f"| {q} | {conns} | {name} | {med([r['rps'] for r in rs]):,.0f} | {med([r['p50'] for r in rs]):.2f} | "
                       f"{med([r['p99'] for r in rs]):.2f} | {sum(r['errors'] for r in rs)} | {med([r['cpu_s'] for r in rs]):.2f} | "
                       f"{med([r['cpu_p'] for r in rs]):.2f} | {max(r['rss'] for r in rs)} | {rs[0]['size']:,} | {ratio} |")
out.append("")
p99 = []
for q in ["q_one", "q_list", "m_update"]:
    pb, pg = main.get((q, 64, "plugboard"), []), main.get((q, 64, "postgraphile"), [])
    if pb and pg:
        p99.append(f"{q} {p99_ratio(pb, pg):.2f}")
if p99:
    out.append("p99 at 64 connections, Plugboard / PostGraphile: " + ", ".join(p99) + " (target: at most 0.33).")
    out.append("")
same = [(c, main[("m_update", c, SAME_WRITES)]) for c in sorted({k[1] for k in main if k[2] == SAME_WRITES})]
if same:
    out.append(f"{SAME_WRITES}: PostGraphile with bench/peer-same-writes.sql, triggers that make its update move")
    out.append("updatedAt and the revision and write an audit event naming the changed fields, as Plugboard's")
    line = ("does. Measured in the same runs (first or last, alternating); its ratio (in parentheses) is Plugboard / it: " +
            ", ".join(f"{run_ratio(main[('m_update', c, 'plugboard')], rs):.2f}x at {c}" for c, rs in same))
    if main.get(("m_update", 64, "plugboard")) and main.get(("m_update", 64, SAME_WRITES)):
        line += f"; p99 at 64 connections {p99_ratio(main[('m_update', 64, 'plugboard')], main[('m_update', 64, SAME_WRITES)]):.2f}"
    out.append(line + ".")
    out.append("")
if pages:
    out.append("## q_list cost by page size (16 connections, 1 run)")
    out.append("")
    out.append("| page | server | req/s | connectors/s | p50 ms | p99 ms | CPU server | RSS MB | bytes |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for page in sorted({int(k[0]) for k in pages}):
        for name in ("plugboard", "postgraphile"):
            r = pages.get((str(page), name))
            if r:
                out.append(f"| {page} | {name} | {r['rps']:,.0f} | {r['rps'] * page:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['cpu_s']:.2f} | {r['rss']} | {r['size']:,} |")
    out.append("")
if previous:
    try:
        text = open(previous).read()
        if MARKER in text:
            out.append(text[text.index(MARKER):].rstrip("\n"))
    except FileNotFoundError:
        pass
print("\n".join(out))
