"""Benchmark: claims per second end to end (JSON Lines in, JSON out) on the full build, on two
fixed-seed generators, as paired ratios against a baseline checkout (the parent commit).

Generators (both read their codes from the real files of ../shared/data, fixed seed):

* ``mixed``: 2 to 6 lines, codes drawn from the NCCI PTP and MUE files, 30% of the claims holding a
  real active PTP pair (a third of those with a bypass modifier), some units above the MUE,
  diagnoses drawn from the FY2024 ICD-10-CM order file (3% headers), dates in 2024 Q3 (10% in
  2023), payers and taxonomies mixed.
* ``ptp-pairs``: each claim a real active PTP pair of the July 2024 file plus 0-4 codes of the MUE
  file, every line with one diagnosis from a short list of common codes, dates in 2024 Q3.

Each measurement runs in a fresh subprocess: the CLI's batch path over the JSON Lines file, every
result serialised as ``kgraph check claims.jsonl --format json`` writes it (one process; and with
``--workers N``, this branch's option for batches). With
``--before-src DIR --before-store STORE`` (a checkout of the parent commit, e.g. ``git worktree
add /tmp/kg-main main``, and a full build made by it), each round runs before and after on the
same file, alternating which goes first, and prints the paired ratio after / before; the median
of the rounds is the figure. With ``--workers N`` (default 2) the baseline also runs with N
workers where it has the option, and that paired ratio is printed too. Also prints the findings
per claim and the statuses, so a faster run that says less is visible.

Run: ``.venv/bin/python bench/bench_check.py --store /tmp/full [--before-src /tmp/kg-main
--before-store /tmp/full-main] [--rounds 3] [--claims 100000] [--profile]``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KGRAPH_SHARED_DATA") or ROOT.parent / "shared" / "data")  # as data/full.toml
PY = sys.executable
BYPASS = ["59", "XS", "XU", "XE", "LT", "RT", "25"]
OTHER_MODIFIERS = ["26", "TC", "51", "50", "80", "62"]
PAYERS = ["medicare"] * 7 + ["aetna", "bcbs", "uhc"]
TAXONOMIES = ["207RG0100X", "207Q00000X", "208800000X", "207R00000X", "2085R0202X"]
#: common diagnoses, billable in FY2024 and FY2025 (checked against the order files by ``sources``)
COMMON_DX = ["I10", "E11.9", "E78.5", "J06.9", "K21.9", "R10.9", "N39.0", "I25.10", "M25.561", "Z00.00",
             "E03.9", "F41.9", "R51.9", "M54.50", "J45.909"]


def sources(rnd: random.Random) -> dict[str, list]:
    """Active PTP pairs (sampled), all PTP codes, MUE (code, units), FY2024 diagnoses."""
    pairs: list[tuple[str, str]] = []
    codes: set[str] = set()
    seen = 0
    with gzip.open(SHARED / "ncci" / "ptp_practitioner_2024-07-01_flat.csv.gz", "rt", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for col1, col2, deletion, *_ in reader:
            codes.add(col1)
            codes.add(col2)
            if deletion != "*":
                continue
            seen += 1  # reservoir sample of the active pairs
            if len(pairs) < 20_000:
                pairs.append((col1, col2))
            elif (j := rnd.randrange(seen)) < 20_000:
                pairs[j] = (col1, col2)
    with (SHARED / "ncci" / "ncci_mue_practitioner_2024-07-01.csv").open(encoding="utf-8") as handle:
        mue = [(row["hcpcs_code"], int(row["mue_units"])) for row in csv.DictReader(handle)]
    with zipfile.ZipFile(SHARED / "icd10cm" / "cms_2024_dx.zip") as z:
        name = next(n for n in z.namelist() if re.search(r"icd10cm_order_2024\.txt$", n))
        text = z.read(name).decode("utf-8")
    billable = [line[6:13].strip() for line in text.splitlines() if line[14:15] == "1"]
    headers = [line[6:13].strip() for line in text.splitlines() if line[14:15] == "0"]
    missing = [d for d in COMMON_DX if d.replace(".", "") not in set(billable)]
    if missing:
        raise SystemExit(f"COMMON_DX not billable in FY2024: {missing}")
    return {"pairs": pairs, "codes": sorted(codes), "mue": mue,
            "dx": rnd.sample(billable, 4850) + rnd.sample(headers, 150)}  # 3% headers


def mixed(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    src = sources(rnd)
    pairs, codes, mue, dx = src["pairs"], src["codes"], src["mue"], src["dx"]
    out = []
    start = date(2024, 7, 1)
    for i in range(n):
        lines = []
        for _ in range(rnd.randint(2, 6)):
            if rnd.random() < 0.5:
                code, limit = rnd.choice(mue)
                units = limit + 1 if limit and rnd.random() < 0.05 else 1 if rnd.random() < 0.85 else rnd.randint(2, 3)
            else:
                code, units = rnd.choice(codes), 1
            line = {"code": code, "units": max(units, 1), "diagnoses": rnd.sample(dx, rnd.randint(1, 2))}
            if rnd.random() < 0.1:
                line["modifiers"] = [rnd.choice(OTHER_MODIFIERS)]
            lines.append(line)
        if rnd.random() < 0.3:
            a, b = rnd.choice(pairs)
            lines[0]["code"], lines[1]["code"] = a, b
            if rnd.random() < 0.33:
                lines[1]["modifiers"] = [rnd.choice(BYPASS)]
        when = start + timedelta(days=rnd.randrange(92)) if rnd.random() < 0.9 else \
            date(2023, 1, 1) + timedelta(days=rnd.randrange(365))
        out.append(json.dumps({"id": f"b{i}", "date": when.isoformat(), "payer": rnd.choice(PAYERS),
                               "taxonomy": rnd.choice(TAXONOMIES), "lines": lines}))
    return out


def ptp_pairs(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    src = sources(rnd)
    pairs, mue = src["pairs"], src["mue"]
    out = []
    start = date(2024, 7, 1)
    for i in range(n):
        a, b = rnd.choice(pairs)
        codes = [a, b] + [rnd.choice(mue)[0] for _ in range(rnd.randint(0, 4))]
        lines = [{"code": c, "units": 1, "diagnoses": [rnd.choice(COMMON_DX)]} for c in codes]
        out.append(json.dumps({"id": f"p{i}", "date": (start + timedelta(days=rnd.randrange(92))).isoformat(),
                               "payer": "medicare", "lines": lines}))
    return out


GENERATORS = {"mixed": mixed, "ptp-pairs": ptp_pairs}

# the CLI's batch path, ``kgraph check claims.jsonl --format json [--workers N]``: JSON Lines in, JSON
# lines out (kgraph.check_batch.check_blocks; a baseline without it: check_jsonl, or check_many + json)
CHECK = """
import io, json, resource, sys, time
import kgraph
from kgraph.check import check_many, read_claims
from kgraph.indexes import load_indexes
workers = int(sys.argv[3])
try:  # the CLI's path: blocks of JSON lines, each written as it comes
    from kgraph.check_batch import check_blocks
except ImportError:  # a baseline without blocks: a JSON line per claim
    try:
        from kgraph.check_batch import check_jsonl
    except ImportError:  # a baseline without kgraph.check_batch
        if workers > 1:
            raise SystemExit("the baseline has no --workers")
        def check_jsonl(store, handle, workers=1):
            for r in check_many(store, read_claims(handle)):
                yield json.dumps(r.to_json()), r.status
    def check_blocks(store, handle, workers=1):
        for text, status in check_jsonl(store, handle, workers=workers):
            yield text + "\\n", [status]
store = kgraph.open(sys.argv[1])
t = time.perf_counter(); load_indexes(store); load = time.perf_counter() - t
statuses, findings, out_bytes = {}, 0, 0
profile = len(sys.argv) > 4
if profile:
    import cProfile, pstats
    prof = cProfile.Profile(); prof.enable()
t, cpu = time.perf_counter(), time.process_time()
with open(sys.argv[2], encoding="utf-8") as handle:
    for text, block_statuses in check_blocks(store, handle, workers=workers):
        out_bytes += len(text) - len(block_statuses)  # without the newlines
        for status in block_statuses:
            statuses[status] = statuses.get(status, 0) + 1
        findings += text.count('"severity"')
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
if profile:
    prof.disable(); pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
n = sum(statuses.values())
print(json.dumps({"claims": n, "load_s": load, "seconds": seconds, "per_s": n / seconds, "per_cpu_s": n / cpu,
                  "findings_per_claim": findings / n, "statuses": statuses, "bytes_per_claim": out_bytes / n,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def run(src: Path, store: str, batch: Path, profile: bool = False, workers: int = 1) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    args = [PY, "-c", CHECK, store, str(batch), str(workers)] + (["profile"] if profile else [])
    out = subprocess.run(args, capture_output=True, text=True, cwd=src, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{src}: the check run failed:\n{out.stderr[-3000:]}")
    if profile:
        print(out.stderr, file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a full build made by this checkout")
    parser.add_argument("--before-src", type=Path, help="a checkout of the baseline (the parent commit)")
    parser.add_argument("--before-store", help="a full build made by the baseline checkout")
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240801)
    parser.add_argument("--generator", choices=[*GENERATORS, "all"], default="all")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of this checkout (stderr)")
    parser.add_argument("--workers", type=int, default=2,
                        help="also measure this checkout with --workers N (the CLI's batch option; 1: skip)")
    args = parser.parse_args()
    if bool(args.before_src) != bool(args.before_store):
        parser.error("give --before-src and --before-store together")
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    names = list(GENERATORS) if args.generator == "all" else [args.generator]
    baseline_workers = True  # the baseline is also run with --workers N while it can
    with tempfile.TemporaryDirectory(prefix="kgraph-bench-check-") as work:
        for name in names:
            batch = Path(work) / f"{name}.jsonl"
            batch.write_text("\n".join(GENERATORS[name](args.claims, args.seed)) + "\n", encoding="utf-8")
            print(f"\n{name}: {args.claims:,} claims, {batch.stat().st_size / 1e6:.1f} MB JSON Lines")
            if args.profile:
                run(ROOT, args.store, batch, profile=True)
                continue
            ratios, cpu_ratios, afters, befores, parallel, parallel_before = [], [], [], [], [], []
            for r in range(args.rounds):
                sides = [("after", ROOT, args.store, 1)]
                if args.workers > 1:
                    sides.append(("workers", ROOT, args.store, args.workers))
                if args.before_src:
                    sides.append(("before", args.before_src, args.before_store, 1))
                    if args.workers > 1 and baseline_workers:
                        sides.append(("before-workers", args.before_src, args.before_store, args.workers))
                if r % 2:
                    sides.reverse()  # alternate which side runs first
                got = {}
                for side, src, store, w in sides:
                    try:
                        got[side] = run(src, store, batch, workers=w)
                    except SystemExit as exc:
                        if side != "before-workers":
                            raise
                        baseline_workers = False  # a baseline without --workers: its one process only
                        print(f"  (the baseline cannot run --workers {w}: {str(exc)[-200:]})")
                after = got["after"]
                afters.append(after["per_s"])
                line = (f"  round {r + 1}: after {after['per_s']:,.0f} claims/s ({after['per_cpu_s']:,.0f}/CPU s, "
                        f"{after['findings_per_claim']:.2f} findings/claim, {after['statuses']})")
                if "workers" in got:
                    parallel.append(got["workers"]["per_s"])
                    line += f"; --workers {args.workers}: {parallel[-1]:,.0f} claims/s"
                if "before-workers" in got:
                    parallel_before.append(got["before-workers"]["per_s"])
                    line += f" (before: {parallel_before[-1]:,.0f}, ratio {parallel[-1] / parallel_before[-1]:.2f}x)"
                if "before" in got:
                    before = got["before"]
                    befores.append(before["per_s"])
                    ratios.append(after["per_s"] / before["per_s"])
                    cpu_ratios.append(after["per_cpu_s"] / before["per_cpu_s"])
                    line += (f"; before {before['per_s']:,.0f} claims/s ({before['per_cpu_s']:,.0f}/CPU s, "
                             f"{before['findings_per_claim']:.2f} findings/claim, {before['statuses']}); ratio "
                             f"{ratios[-1]:.2f}x wall, {cpu_ratios[-1]:.2f}x CPU")
                print(line, flush=True)
            print(f"  {name}: median after {statistics.median(afters):,.0f} claims/s end to end (one process), peak "
                  f"RSS {after['peak_rss_mb']} MB, index load {after['load_s']:.2f} s")
            if parallel:
                print(f"  {name}: median with --workers {args.workers}: {statistics.median(parallel):,.0f} claims/s")
            if ratios:
                par = [p / b for p, b in zip(parallel, befores, strict=False)]
                print(f"  {name}: median before {statistics.median(befores):,.0f} claims/s; paired ratio after / "
                      f"before: median {statistics.median(ratios):.2f}x (rounds: "
                      f"{', '.join(f'{x:.2f}' for x in ratios)}); per CPU second: median "
                      f"{statistics.median(cpu_ratios):.2f}x"
                      + (f"; --workers {args.workers} / before: median {statistics.median(par):.2f}x" if par else ""))
            if parallel_before:
                pairs = [p / b for p, b in zip(parallel, parallel_before, strict=False)]
                print(f"  {name}: --workers {args.workers} both sides: median before "
                      f"{statistics.median(parallel_before):,.0f} claims/s; paired ratio after / before: median "
                      f"{statistics.median(pairs):.2f}x (rounds: {', '.join(f'{x:.2f}' for x in pairs)})")

if __name__ == "__main__":
    main()
