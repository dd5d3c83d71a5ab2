"""Benchmark: the full build from ../shared/data, against pyoxigraph's own bulk_load and rdflib.

Prints: wall time, peak RSS, quads, disk size of the full build; the time pyoxigraph's
``bulk_load`` takes for the same quads as one N-Quads file (and the ratio); and rdflib's
in-memory store at 1M triples (time, memory, extrapolated to the full graph) to show why it
cannot be the default. Run: ``.venv/bin/python bench/bench_build.py [--skip-rdflib]``.
Each measurement runs in a fresh subprocess so peak RSS is its own.
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
    args = parser.parse_args()
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
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
