"""HTML export benchmark: export time and file size at 100, 1,000 and 5,000 nodes, and how long
headless Chromium (Debian's chromium, driven by Playwright) takes to show them.

Run: python bench/bench_viz.py [--sizes 100,1000,5000] [--runs 3] [--no-browser]
     python bench/bench_viz.py --vs REV [--sizes 100,300,1000] [--runs 5]

--vs REV times the export against git revision REV's kgraph package (extracted with ``git
archive``), each side in its own Python process, alternating A B A B, and prints the median of
the paired ratios (this tree / REV) per size.

Browser figures are milliseconds from navigation start: "stabilised" is vis-network's
stabilizationIterationsDone (graphs up to 300 nodes, physics on) or, with physics off (larger
graphs, positions computed in Python), the moment the data was set; "drawn" is the first
afterDrawing after that. Every request that is not file: is aborted and counted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

from kgraph import tools, viz

CHROMIUM = tools.chromium()  # $KGRAPH_CHROMIUM or chromium on PATH
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KINDS = {"CPT": ("CPT:{:05d}", "kg:conflictsWith", True), "ICD-10-CM": ("ICD10CM:A{:05d}", "kg:supports", False),
         "modifier": ("MOD:M{}", "kg:modifierFor", False), "taxonomy": ("NUCC:{:09d}X", "kg:reportedBy", True),
         "payer": ("PAYER:p{}", "kg:coveredBy", True), "gap": ("GAP:g{}", "kg:hasGap", True)}


def synthetic(n: int, seed: int = 7) -> nx.MultiDiGraph:
    """A neighbourhood-shaped graph: a focus CPT code, mixed kinds, ~1.1 edges per node."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph(focus="CPT:10000", depth=2)
    G.add_node("CPT:10000", kind="CPT", label="focus code", description="focus code")
    ids = ["CPT:10000"]
    for i in range(1, n):
        kind = rng.choice(["CPT", "CPT", "CPT", "ICD-10-CM", "modifier", "taxonomy", "payer", "gap"])
        pattern, relation, outward = KINDS[kind]
        node = pattern.format(10000 + i)
        G.add_node(node, kind=kind, label=f"label {i}", description=f"a description of code number {i}")
        parent = ids[0] if rng.random() < 0.6 else rng.choice(ids)
        s, o = (parent, node) if outward else (node, parent)
        qualifiers = {"modifierIndicator": rng.choice("019")} if relation == "kg:conflictsWith" else {}
        G.add_edge(s, o, key=relation, relation=relation, qualifiers=qualifiers,
                   evidence=[{"source": "synthetic.csv", "line": i}])
        if kind == "CPT" and rng.random() < 0.2:
            G.add_edge(s, o, key="kg:billedWith", relation="kg:billedWith", qualifiers={}, evidence=[])
        ids.append(node)
    return G


def export(sizes: list[int], runs: int, out: Path) -> dict[int, Path]:
    files = {}
    print(f"{'nodes':>6} {'edges':>6} {'export s (median of ' + str(runs) + ')':>24} {'file MB':>8}")
    for n in sizes:
        G = synthetic(n)
        path = out / f"synthetic-{n}.html"
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            viz.write_html(G, path, max_nodes=max(n, viz.DEFAULT_MAX_NODES))
            times.append(time.perf_counter() - t)
        files[n] = path
        print(f"{n:>6} {G.number_of_edges():>6} {statistics.median(times):>24.3f} {path.stat().st_size / 1e6:>8.2f}")
    return files


def browse(files: dict[int, Path], runs: int) -> None:
    from playwright.sync_api import sync_playwright

    print(f"\n{'nodes':>6} {'physics':>8} {'stabilised ms':>14} {'drawn ms':>9} {'wall s':>7} {'blocked':>8}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for n, path in files.items():
            rows = []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                blocked: list[str] = []

                def route(r, blocked=blocked):
                    if r.request.url.startswith("file:"):
                        r.continue_()
                    else:
                        blocked.append(r.request.url)
                        r.abort()

                page.route("**/*", route)
                t = time.perf_counter()
                page.goto(path.resolve().as_uri())
                page.wait_for_function("window.kgraph && window.kgraph.ready === true", timeout=240_000)
                wall = time.perf_counter() - t
                timings = page.evaluate("kgraph.timings")
                physics = n <= viz.PHYSICS_MAX_NODES
                rows.append((timings["stabilized"], timings["drawn"], wall, len(blocked), physics))
                context.close()
            stab = statistics.median(r[0] for r in rows)
            drawn = statistics.median(r[1] for r in rows)
            wall = statistics.median(r[2] for r in rows)
            print(f"{n:>6} {'on' if rows[0][4] else 'off':>8} {stab:>14.0f} {drawn:>9.0f} {wall:>7.2f} "
                  f"{max(r[3] for r in rows):>8}")
        browser.close()


ROOT = Path(__file__).resolve().parent.parent
#: one side of a paired run: the median export time of ``runs`` exports of ``synthetic(n)``
CHILD = """
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from kgraph import viz
sys.path.insert(0, sys.argv[2])
from bench_viz import synthetic
n, runs, out = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
G = synthetic(n)
viz.to_html(G, max_nodes=max(n, viz.DEFAULT_MAX_NODES))  # warm: templates, vis-network read once
times = []
for _ in range(runs):
    t = time.perf_counter()
    viz.write_html(G, out, max_nodes=max(n, viz.DEFAULT_MAX_NODES))
    times.append(time.perf_counter() - t)
print(json.dumps(statistics.median(times)))
"""


def versus(rev: str, sizes: list[int], runs: int, rounds: int, tmp: Path) -> None:
    base = tmp / "base"
    base.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "kgraph"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
    sides = {"this tree": ROOT, rev: base}
    env = {**os.environ, "PYTHONPATH": ""}
    print(f"{'nodes':>6} {'this tree s':>12} {rev + ' s':>14} {'ratio (median of ' + str(rounds) + ' pairs)':>28}")
    for n in sizes:
        got: dict[str, list[float]] = {k: [] for k in sides}
        for r in range(rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for name in order:
                out = subprocess.run([sys.executable, "-c", CHILD, str(sides[name]), str(ROOT / "bench"), str(n),
                                      str(runs), str(tmp / f"{n}.html")], check=True, capture_output=True,
                                     text=True, env=env, cwd=tmp)
                got[name].append(json.loads(out.stdout))
        ratios = [a / b for a, b in zip(got["this tree"], got[rev], strict=True)]
        print(f"{n:>6} {statistics.median(got['this tree']):>12.3f} {statistics.median(got[rev]):>14.3f} "
              f"{statistics.median(ratios):>28.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--vs", metavar="REV", help="time the export against git revision REV, paired")
    ap.add_argument("--rounds", type=int, default=5, help="paired rounds with --vs")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.vs:
        with tempfile.TemporaryDirectory() as tmp:
            versus(args.vs, sizes, args.runs, args.rounds, Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = export(sizes, args.runs, Path(tmp))
        if not args.no_browser:
            browse(files, args.runs)


if __name__ == "__main__":
    main()
