"""Benchmark: checking 100,000 synthetic claims on the full build, against SPARQL per line pair.

Claims (fixed seed): 2 to 6 lines each, codes drawn from the NCCI PTP and MUE files of
../shared/data, 30% of the claims holding a real active PTP pair (a third of those with a
bypass modifier), some units above the MUE, diagnoses drawn from the FY2024 ICD-10-CM order
file (3% of them headers, not billable), dates of service in 2024 Q3 (10% in 2023: the "unknown" path).

Prints, each measured in a fresh subprocess so that its peak RSS is its own:

* the index load time, and claims per second for ``check_many`` over the JSON Lines file with
  every result serialised to JSON (end to end), and for ``check`` alone on claims already parsed;
  peak RSS of that process;
* the same PTP question answered with one SPARQL query per line pair (both directions in one
  query) on a sample of claims, extrapolated to the whole batch, and the ratio. The SPARQL side
  does only the PTP lookups, so the ratio understates the difference.

Run: ``.venv/bin/python bench/bench_check.py --store /tmp/full`` on a full build
(``kgraph build --manifest data/full.toml --store /tmp/full``).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
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


def sources(rnd: random.Random) -> tuple[list[tuple[str, str]], list[str], list[tuple[str, int]], list[str]]:
    """(active PTP pairs sampled, all PTP codes, MUE (code, units), FY2024 diagnoses)."""
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
    return pairs, sorted(codes), mue, rnd.sample(billable, 4850) + rnd.sample(headers, 150)  # 3% headers


def claims(n: int, seed: int) -> tuple[list[str], dict[str, int]]:
    rnd = random.Random(seed)
    pairs, codes, mue, dx = sources(rnd)
    out, stats = [], {"with_ptp_pair": 0, "with_bypass": 0, "lines": 0}
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
            stats["with_ptp_pair"] += 1
            if rnd.random() < 0.33:
                lines[1]["modifiers"] = [rnd.choice(BYPASS)]
                stats["with_bypass"] += 1
        when = start + timedelta(days=rnd.randrange(92)) if rnd.random() < 0.9 else \
            date(2023, 1, 1) + timedelta(days=rnd.randrange(365))
        stats["lines"] += len(lines)
        out.append(json.dumps({"id": f"b{i}", "date": when.isoformat(), "payer": rnd.choice(PAYERS),
                               "taxonomy": rnd.choice(TAXONOMIES), "lines": lines}))
    return out, stats


CHECK = """
import io, json, resource, sys, time, kgraph
from kgraph.check import check, check_many, read_claims
from kgraph.indexes import load_indexes
rss = lambda: round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
store = kgraph.open(sys.argv[1])
before = rss()
t = time.perf_counter(); load_indexes(store); load = time.perf_counter() - t
after_load = rss()
statuses, rules, out_bytes = {}, {}, 0
t, cpu = time.perf_counter(), time.process_time()
with open(sys.argv[2], encoding="utf-8") as handle:
    for result in check_many(store, read_claims(handle)):
        out_bytes += len(json.dumps(result.to_json()))
        statuses[result.status] = statuses.get(result.status, 0) + 1
        for f in result.findings:
            rules[f.rule] = rules.get(f.rule, 0) + 1
end_to_end, end_to_end_cpu = time.perf_counter() - t, time.process_time() - cpu
n = sum(statuses.values())
with open(sys.argv[2], encoding="utf-8") as handle:
    parsed = [json.loads(next(handle)) for _ in range(min(n, 20_000))]
t, cpu = time.perf_counter(), time.process_time()
for c in parsed:
    check(store, c)
only, only_cpu = time.perf_counter() - t, time.process_time() - cpu
print(json.dumps({"claims": n, "load_s": load, "end_to_end_s": end_to_end, "end_to_end_per_s": n / end_to_end,
                  "end_to_end_per_cpu_s": n / end_to_end_cpu, "check_only_per_cpu_s": len(parsed) / only_cpu,
                  "check_only_per_s": len(parsed) / only, "rss_open_mb": before, "rss_loaded_mb": after_load,
                  "peak_rss_mb": rss(), "out_bytes_per_claim": out_bytes / n, "statuses": statuses,
                  "rules": dict(sorted(rules.items(), key=lambda kv: -kv[1]))}))
"""

SPARQL = """
import json, sys, time, kgraph
from kgraph import namespaces as ns
from kgraph.check import _procedure
store = kgraph.open(sys.argv[1])
Q = ("SELECT ?a ?b ?mi ?rat ?eff ?del WHERE {{ VALUES (?a ?b) {{ (<{a}> <{b}>) (<{b}> <{a}>) }} "
     "?r kg:column1 ?a ; kg:column2 ?b ; kg:modifierIndicator ?mi . OPTIONAL {{ ?r kg:rationale ?rat }} "
     "OPTIONAL {{ ?r kg:effectiveDate ?eff }} OPTIONAL {{ ?r kg:deletionDate ?del }} }}")
claims = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")][: int(sys.argv[3])]
store.query("ASK { ?s ?p ?o }")
pairs = hits = 0
t, cpu = time.perf_counter(), time.process_time()
for c in claims:
    lines = [(_procedure(ln["code"]), ln.get("date", c["date"])) for ln in c["lines"]]
    for i, (a, da) in enumerate(lines):
        for b, db in lines[i + 1:]:
            if a == b or da != db:
                continue
            pairs += 1
            hits += bool(list(store.query(Q.format(a=ns.iri(a), b=ns.iri(b)))))
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
print(json.dumps({"claims": len(claims), "pairs": pairs, "pairs_with_edit": hits, "seconds": seconds, "cpu": cpu}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a full build (kgraph build --manifest data/full.toml)")
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--sparql-sample", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20240801)
    args = parser.parse_args()
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="kgraph-bench-check-") as work:
        batch = Path(work) / "claims.jsonl"
        lines, stats = claims(args.claims, args.seed)
        batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
        del lines
        size = batch.stat().st_size
        print(f"claims: {args.claims:,} ({stats['lines']:,} lines, {stats['with_ptp_pair']:,} with a real active "
              f"PTP pair, {stats['with_bypass']:,} of them with a bypass modifier), {size / 1e6:.1f} MB JSON Lines")
        idx = run(CHECK, args.store, str(batch))
        print(f"index load: {idx['load_s']:.2f} s; RSS {idx['rss_open_mb']} MB with the store open, "
              f"{idx['rss_loaded_mb']} MB with the indexes loaded, peak {idx['peak_rss_mb']} MB")
        print(f"check_many, JSON Lines in -> JSON out: {idx['end_to_end_s']:.1f} s = "
              f"{idx['end_to_end_per_s']:,.0f} claims/s ({idx['end_to_end_per_cpu_s']:,.0f} per CPU second; "
              f"{idx['out_bytes_per_claim']:,.0f} bytes of JSON per result)")
        print(f"check() alone on parsed claims: {idx['check_only_per_s']:,.0f} claims/s "
              f"({idx['check_only_per_cpu_s']:,.0f} per CPU second)")
        print(f"statuses: {idx['statuses']}")
        print("findings by rule: " + ", ".join(f"{k} {v:,}" for k, v in idx["rules"].items()))
        sp = run(SPARQL, args.store, str(batch), str(args.sparql_sample))
        per_claim = sp["seconds"] / sp["claims"]
        whole = per_claim * idx["claims"]
        print(f"SPARQL, one query per line pair: {sp['claims']:,} claims, {sp['pairs']:,} pairs "
              f"({sp['pairs_with_edit']:,} with an edit) in {sp['seconds']:.1f} s ({sp['cpu']:.1f} s CPU) = "
              f"{1 / per_claim:,.0f} claims/s; "
              f"extrapolated to {idx['claims']:,} claims: {whole:,.0f} s (PTP lookups only)")
        cpu_ratio = sp["cpu"] / sp["claims"] * idx["end_to_end_per_cpu_s"]
        print(f"ratio: the index answers {whole / idx['end_to_end_s']:,.0f}x faster end to end in wall time, "
              f"{cpu_ratio:,.0f}x in CPU time ({per_claim * idx['check_only_per_s']:,.0f}x for check() alone)")


if __name__ == "__main__":
    main()
