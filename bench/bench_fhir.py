"""Benchmark: /fhir $lookup and $validate-code over HTTP, beside /sparql (named queries) on the same server.

Target (issue 17): p50 < 5 ms for each operation on the full build, for K22.2, a 7th-character
code (S72.001A) and the hub CPT:77002, whose NCCI edit count is the slow part. The equivalent
SPARQL is the named query the operation reads most from: ``code_history`` for a diagnosis,
``ncci_conflicts`` (the edits in effect on the date) for a procedure, run at ``/queries/NAME``.

One ``kgraph serve`` in a subprocess; one keep-alive connection; the requests of every case are
interleaved round by round (FHIR, then its SPARQL twin), so a shared machine's load falls on both.
Prints p50 / p95 in ms per case and the FHIR / SPARQL ratio of the p50s.

With ``--before-src DIR`` (the parent commit's source, e.g. ``git archive PARENT | tar -x -C DIR``)
a second server runs that code on ``--before-store`` (default: the same store; give a copy whose
index file that code reads when the index format changed), and each round asks both servers the
same FHIR request, alternating which goes first: the paired ratio this / before of the p50s is
printed per case, and every case's two response bodies must be identical (else it stops).

    .venv/bin/python bench/bench_fhir.py [--store PATH] [--rounds 200] [--before-src DIR [--before-store PATH]]

Without --store it builds data/sources.toml into .bench/default once (about 30 s-2 min).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_server import free_port, wait_for  # noqa: E402 - the bench folder is not a package

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
DAY = "2024-08-01"
#: (label, FHIR path, the equivalent /queries path)
CASES = [
    ("$lookup K22.2", f"/fhir/CodeSystem/$lookup?system={ICD}&code=K22.2&date={DAY}",
     "/queries/code_history?code=K22.2"),
    ("$lookup S72.001A", f"/fhir/CodeSystem/$lookup?system={ICD}&code=S72.001A&date={DAY}",
     "/queries/code_history?code=S72.001A"),
    ("$lookup CPT 77002", f"/fhir/CodeSystem/$lookup?system={CPT}&code=77002&date={DAY}",
     f"/queries/ncci_conflicts?code=CPT:77002&date={DAY}"),
    ("$lookup CPT 77002 MUE only", f"/fhir/CodeSystem/$lookup?system={CPT}&code=77002&date={DAY}&property=mue-units",
     "/queries/mue_limit?code=CPT:77002"),
    ("$validate-code K22.2", f"/fhir/CodeSystem/$validate-code?url={ICD}&code=K22.2&date={DAY}",
     "/queries/code_history?code=K22.2"),
    ("$validate-code S72.001A", f"/fhir/CodeSystem/$validate-code?url={ICD}&code=S72.001A&date={DAY}",
     "/queries/code_history?code=S72.001A"),
    ("$validate-code CPT 77002", f"/fhir/CodeSystem/$validate-code?url={CPT}&code=77002:26&date={DAY}",
     f"/queries/ncci_conflicts?code=CPT:77002&date={DAY}"),
]


def default_store() -> Path:
    path = ROOT / ".bench" / "default"
    if not (path / "build.json").exists() and not path.exists():
        import kgraph

        kgraph.build(ROOT / "data" / "sources.toml", store=path)
    return path


def get(conn: http.client.HTTPConnection, path: str) -> tuple[float, bytes]:
    """(ms, body) of one GET on a keep-alive connection; stops on a status other than 200."""
    quoted = urllib.parse.quote(path, safe="/?&=:$")
    started = time.perf_counter()
    conn.request("GET", quoted)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}: {body[:300]!r}")
    return elapsed * 1000, body


def timed(conn: http.client.HTTPConnection, path: str) -> float:
    return get(conn, path)[0]


def start(src: Path, store: Path) -> tuple[subprocess.Popen, http.client.HTTPConnection]:
    """``kgraph serve`` of the source tree ``src`` on ``store`` (2 query workers), and a connection to it."""
    port = free_port()
    code = (f"import sys; sys.path.insert(0, {str(src)!r}); from kgraph.server import serve; "
            f"serve({str(store)!r}, port={port}, workers=2)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL, cwd=src, env=env)
    wait_for(f"http://127.0.0.1:{port}/health", proc, 300)
    return proc, http.client.HTTPConnection("127.0.0.1", port, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="store or build directory (default: the default build)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--before-src", type=Path, help="the baseline's source tree (the parent commit)")
    parser.add_argument("--before-store", type=Path, help="the store the baseline serves (default: --store)")
    args = parser.parse_args()
    store = args.store or default_store()
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    procs = []
    try:
        proc, conn = start(ROOT, store)
        procs.append(proc)
        before = None
        if args.before_src:
            proc, before = start(args.before_src.resolve(), args.before_store or store)
            procs.append(proc)
        for label, fhir, sparql in CASES:  # warm: the catalog, the indexes' pages, each worker
            for _ in range(3):
                _, body = get(conn, fhir)
                timed(conn, sparql)
                if before is not None and get(before, fhir)[1] != body:
                    raise SystemExit(f"{label}: the response differs from the baseline's")
        times: dict[str, tuple[list[float], list[float], list[float]]] = {label: ([], [], []) for label, _, _ in CASES}
        for r in range(args.rounds):
            for label, fhir, sparql in CASES:
                found = times[label]
                if before is not None and r % 2:  # alternate which server answers first
                    found[2].append(timed(before, fhir))
                found[0].append(timed(conn, fhir))
                if before is not None and not r % 2:
                    found[2].append(timed(before, fhir))
                found[1].append(timed(conn, sparql))
        print(f"store {store}; {args.rounds} rounds, one keep-alive connection per server, 2 query workers each")
        head = f"{'case':<26} {'FHIR p50':>9} {'p95':>7} {'SPARQL p50':>11} {'p95':>7} {'FHIR/SPARQL':>12}"
        print(head + (f" {'before p50':>11} {'this/before':>12}" if before is not None else ""))
        for label, (fhir_ms, sparql_ms, before_ms) in times.items():
            f50, s50 = statistics.median(fhir_ms), statistics.median(sparql_ms)
            f95 = statistics.quantiles(fhir_ms, n=20)[-1]
            s95 = statistics.quantiles(sparql_ms, n=20)[-1]
            line = f"{label:<26} {f50:>8.2f}  {f95:>7.2f} {s50:>10.2f}  {s95:>7.2f} {f50 / s50:>11.1f}x"
            if before_ms:
                b50 = statistics.median(before_ms)
                line += f" {b50:>10.2f}  {f50 / b50:>11.2f}x"
            print(line)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
