"""Benchmark: the full build from ../shared/data, against pyoxigraph's own bulk_load and rdflib.

Prints: wall time, peak RSS, quads, disk size of the full build; the time pyoxigraph's
``bulk_load`` takes for the same quads as one N-Quads file (and the ratio); rdflib's
in-memory store at 1M triples (time, memory, extrapolated to the full graph) to show why it
cannot be the default; and the time to add one briefing to the full build (a rebuild that reads
only the briefings and updates degrees, counts and indexes, issue 14: target < 15 s) beside the
full build's. Run: ``.venv/bin/python bench/bench_build.py [--skip-rdflib] [--skip-baseline]``, or
``--store PATH`` to time only adding a briefing to a full build made before (its build.json holds
its build time). Each measurement runs in a fresh subprocess so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def run(code: str) -> dict:
    """Run Python code in a subprocess; it prints one JSON line; add its peak RSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(max(after, before) / 1024)  # children's max so far: each run is larger
    return result


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-rdflib", action="store_true")
    parser.add_argument("--rdflib-triples", type=int, default=1_000_000)
    parser.add_argument("--skip-baseline", action="store_true", help="Do not time pyoxigraph's bulk_load alone.")
    parser.add_argument("--store", type=Path, help="An existing full build: only time adding a briefing to it.")
    parser.add_argument("--briefing", default=BRIEFING, help="The briefing to add (default: %(default)s).")
    parser.add_argument("--manifest", default="data/full.toml",
                        help="With --store: the manifest it was built from (data/sources.toml for the default build).")
    args = parser.parse_args()
    if args.store:
        info = json.loads((args.store.resolve() / "build.json").read_text(encoding="utf-8"))
        add_briefing(args.store, args.briefing, info["seconds"], args.manifest, "the build it starts from took")
        return
    work = Path(tempfile.mkdtemp(prefix="kgraph-bench-"))
    try:
        store = work / "full"
        build = run(f"""
import json, time, kgraph
t = time.perf_counter()
s = kgraph.build("data/full.toml", store={str(store)!r}, reuse=False)
print(json.dumps({{"seconds": time.perf_counter() - t, "quads": s.counts["quads"]}}))
""")
        disk = du(store.resolve())
        print(f"full build: {build['seconds']:.1f} s wall, peak RSS {build['peak_rss_mb']} MB, "
              f"{build['quads']:,} quads, {disk / 1e9:.2f} GB on disk")
        if not args.skip_baseline:
            baseline_and_rdflib(work, store, build, args)
        add_briefing(store, args.briefing, build["seconds"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


BRIEFING = "tests/data/styles/cpt-43249-markdown.md"


def add_briefing(store: Path, briefing: str, full_seconds: float, manifest: str = "data/full.toml",
                 before: str = "the full build took") -> None:
    """Time a rebuild of a build with one more briefing (only briefings and payers are read again)."""
    added = run(f"""
import json, resource, time, kgraph
t = time.perf_counter()
s = kgraph.build({manifest!r}, store={str(store)!r}, briefings=[{briefing!r}])
print(json.dumps({{"seconds": time.perf_counter() - t, "incremental": s.info["incremental"],
                  "quads": s.counts["quads"], "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}}))
""")
    print(f"add one briefing ({briefing}) to the build of {manifest}: {added['seconds']:.1f} s wall "
          f"(incremental: {added['incremental']}), peak RSS {added['rss']} MB, {added['quads']:,} quads; "
          f"{before} {full_seconds:.1f} s ({full_seconds / added['seconds']:.1f}x; target < 15 s)")


def baseline_and_rdflib(work: Path, store: Path, build: dict, args: argparse.Namespace) -> None:
    """pyoxigraph's bulk_load of the same quads, and rdflib's in-memory store at 1M of them."""
    dump = work / "full.nq"
    subprocess.run([PY, "-c", f"""
import pyoxigraph as ox
ox.Store.read_only({str(store.resolve() / 'oxigraph')!r}).dump({str(dump)!r}, format=ox.RdfFormat.N_QUADS)
"""], check=True)
    baseline = run(f"""
import json, time, pyoxigraph as ox
t = time.perf_counter()
s = ox.Store({str(work / 'baseline')!r})
s.bulk_load(path={str(dump)!r}, format=ox.RdfFormat.N_QUADS)
s.optimize()
print(json.dumps({{"seconds": time.perf_counter() - t}}))
""")
    ratio = build["seconds"] / baseline["seconds"]
    print(f"pyoxigraph bulk_load of the same {build['quads']:,} quads (one N-Quads file, "
          f"{dump.stat().st_size / 1e9:.2f} GB): {baseline['seconds']:.1f} s; "
          f"kgraph build / bulk_load = {ratio:.2f}x (target < 2x)")
    if not args.skip_rdflib:
        n = args.rdflib_triples
        sample = work / "sample.nt"
        with dump.open("rb") as fin, sample.open("wb") as fout:
            for i, line in enumerate(fin):
                if i >= n:
                    break
                # N-Quads -> N-Triples: drop the graph name (the last IRI before " .")
                fout.write(line[: line.rstrip().rfind(b" <")] + b" .\n")
        rd = run(f"""
import json, time, rdflib
t = time.perf_counter()
g = rdflib.Graph()
g.parse({str(sample)!r}, format="nt")
print(json.dumps({{"seconds": time.perf_counter() - t, "triples": len(g)}}))
""")
        ox1 = run(f"""
import json, time, pyoxigraph as ox
t = time.perf_counter()
s = ox.Store({str(work / 'ox1m')!r})
s.bulk_load(path={str(sample)!r}, format=ox.RdfFormat.N_TRIPLES)
print(json.dumps({{"seconds": time.perf_counter() - t}}))
""")
        scale = build["quads"] / max(rd["triples"], 1)
        print(f"rdflib in-memory, {rd['triples']:,} triples: {rd['seconds']:.1f} s, "
              f"peak RSS {rd['peak_rss_mb']} MB "
              f"(pyoxigraph on disk: {ox1['seconds']:.1f} s, {rd['seconds'] / ox1['seconds']:.1f}x faster); "
              f"extrapolated to the full graph: {rd['seconds'] * scale / 60:.0f} min and "
              f"{rd['peak_rss_mb'] * scale / 1024:.0f} GB, beyond this 24 GB machine")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
