"""Export benchmark: the whole store as N-Quads against pyoxigraph's own ``Store.dump``, and the
peak memory of every streamed export on the default and the full build.

Prints, for N-Quads of each store, ``kgraph export`` and ``Store.dump`` run alternately (paired
runs: a noisy machine slows both of a pair alike), each run's seconds, the medians and their
ratio (target: within 1.1x on the full build); then for each format, one run per store: seconds,
peak RSS and output size. Memory independent of the store's size shows as equal peak RSS on the
default build (2.5M quads) and the full build (18M quads); an "open only" row gives the RSS of
a process that opens the store and exports nothing.

Run: ``.venv/bin/python bench/bench_export.py [--default PATH] [--full PATH] [--runs 2]
[--formats nq,trig,ttl,nt,jsonld,csv] [--skip-full] [--skip-default] [--limit SECONDS]``.
Without ``--default`` the default build is made in a temporary directory; without ``--full``
the tests' cached full build (``.test-cache/``, see conftest.py) is used, built there first if
missing (3-5 minutes); its key holds the files' paths, so set ``KGRAPH_SHARED_DATA`` as ``make
test`` does to find it.
Each measurement runs in a fresh subprocess so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

CHILD = """
import json, resource, sys, time
import kgraph, pyoxigraph as ox
what, store, out = sys.argv[1], sys.argv[2], sys.argv[3]
st = kgraph.open(store)
t = time.perf_counter()
if what == "dump":
    st.ox.dump(out, ox.RdfFormat.N_QUADS)
elif what != "open":
    kgraph.export(st, out, format=what)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _hwm_mb(pid: int) -> float:
    """Peak RSS so far of a running process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(what: str, store: Path, out: Path, limit: float | None = None) -> dict:
    """One export in a fresh process; with ``limit`` (seconds) it is stopped then, and its peak RSS
    and output so far are reported (a streamed export's memory levels off early)."""
    child = subprocess.Popen([PY, "-c", CHILD, what, str(store), str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    started, hwm, stopped = time.perf_counter(), 0.0, False
    while child.poll() is None:
        time.sleep(1)
        hwm = max(hwm, _hwm_mb(child.pid)) if child.poll() is None else hwm
        if limit and time.perf_counter() - started > limit:
            child.kill()
            stopped = True
    stdout, stderr = child.communicate()
    if stopped:
        result = {"seconds": time.perf_counter() - started, "rss_mb": hwm, "stopped": True}
    elif child.returncode:
        raise SystemExit(f"{what} on {store} failed:\n{stderr}")
    else:
        result = json.loads(stdout.strip().splitlines()[-1])
    files = {out} if out.exists() else {*out.parent.glob(out.stem + ".*.csv"), *out.parent.glob(f".{out.stem}.*.part")}
    result["mb"] = sum(f.stat().st_size for f in files) / 1e6
    for f in files:
        f.unlink(missing_ok=True)
    return result


def paired(name: str, store: Path, work: Path, runs: int) -> None:
    ours, theirs = [], []
    print(f"\n{name}: whole store as N-Quads, paired runs")
    print(f"{'run':>4} {'kgraph export nq s':>19} {'Store.dump s':>13} {'ratio':>6} {'MB':>8} {'peak RSS MB':>18}")
    for i in range(runs):
        order = [("export", "nq"), ("dump", "dump")] if i % 2 == 0 else [("dump", "dump"), ("export", "nq")]
        got = {}
        for label, what in order:
            got[label] = run(what, store, work / f"{label}.nq")
        ours.append(got["export"]["seconds"])
        theirs.append(got["dump"]["seconds"])
        print(f"{i + 1:>4} {ours[-1]:>19.1f} {theirs[-1]:>13.1f} {ours[-1] / theirs[-1]:>6.3f} "
              f"{got['export']['mb']:>8.0f} {got['export']['rss_mb']:>8.0f} / {got['dump']['rss_mb']:<8.0f}",
              flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    pairs = statistics.median(x / y for x, y in zip(ours, theirs, strict=True))
    print(f"median: kgraph export nq {a:.1f} s, Store.dump {b:.1f} s, ratio {a / b:.3f}; fastest runs "
          f"{min(ours):.1f} s / {min(theirs):.1f} s = {min(ours) / min(theirs):.3f}; median of the paired ratios "
          f"{pairs:.3f} (target <= 1.1)")


def side_by_side(name: str, store: Path, work: Path) -> None:
    """``kgraph export nq`` and ``Store.dump`` started together, so both see the same machine load."""
    outs = {"export": work / "export.nq", "dump": work / "dump.nq"}
    children = {label: subprocess.Popen([PY, "-c", CHILD, "nq" if label == "export" else "dump", str(store),
                                         str(out)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
                for label, out in outs.items()}
    got = {label: json.loads(child.communicate()[0].strip().splitlines()[-1]) for label, child in children.items()}
    for out in outs.values():
        out.unlink(missing_ok=True)
    a, b = got["export"]["seconds"], got["dump"]["seconds"]
    print(f"\n{name}: N-Quads side by side (started together): kgraph export nq {a:.1f} s, Store.dump {b:.1f} s, "
          f"ratio {a / b:.3f} (target <= 1.1); peak RSS {got['export']['rss_mb']:.0f} / {got['dump']['rss_mb']:.0f} MB",
          flush=True)


def footprint(name: str, store: Path, work: Path, formats: list[str], limit: float | None) -> None:
    print(f"\n{name}: one run per format" + (f" (stopped after {limit:.0f} s where marked *)" if limit else ""))
    print(f"{'format':>8} {'seconds':>8} {'peak RSS MB':>12} {'output MB':>10}")
    base = run("open", store, work / "none")
    print(f"{'open only':>8} {base['seconds']:>8.1f} {base['rss_mb']:>12.0f} {'':>10}")
    for fmt in formats:
        got = run(fmt, store, work / f"out.{fmt}", limit)
        mark = "*" if got.get("stopped") else " "
        print(f"{fmt:>8} {got['seconds']:>7.1f}{mark} {got['rss_mb']:>12.0f} {got['mb']:>10.0f}", flush=True)


def full_store() -> Path:
    sys.path.insert(0, str(ROOT))
    import kgraph
    from conftest import full_build_key

    manifest = ROOT / "data" / "full.toml"
    path = Path(os.environ.get("KGRAPH_TEST_CACHE", ROOT / ".test-cache")) / f"full-{full_build_key(manifest)}" / "kg"
    try:
        kgraph.open(path)
    except kgraph.StoreError:
        print(f"building the full store at {path} (3-5 minutes)", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        kgraph.build(manifest, store=path, reuse=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default", type=Path, help="a default build (else one is built in a temp dir)")
    parser.add_argument("--full", type=Path, help="a full build (else the tests' cached one)")
    parser.add_argument("--runs", type=int, default=2, help="paired N-Quads runs per store (0: none)")
    parser.add_argument("--formats", default="nq,trig,ttl,nt,jsonld,csv")
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--side-by-side", action="store_true",
                        help="also run kgraph export nq and Store.dump at the same time, once per store")
    parser.add_argument("--limit", type=float, help="stop each format's run after this many seconds (peak RSS so far)")
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    work = Path(tempfile.mkdtemp(prefix="kgraph-bench-export-"))
    try:
        import kgraph

        stores = []
        if not args.skip_default:
            default = args.default
            if default is None:
                default = work / "default"
                kgraph.build(ROOT / "data" / "sources.toml", store=default)
            stores.append(("default build", default))
        if not args.skip_full:
            stores.append(("full build", args.full or full_store()))
        for name, store in stores if args.runs else []:
            quads = kgraph.open(store).counts.get("quads", 0)
            paired(f"{name} ({quads:,} quads)", store, work, args.runs)
        for name, store in stores if args.side_by_side else []:
            side_by_side(name, store, work)
        for name, store in stores if formats else []:
            footprint(name, store, work, formats, args.limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
