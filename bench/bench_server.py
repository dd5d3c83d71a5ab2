"""Benchmark: kgraph serve against ``oxigraph serve-read-only`` on the same store, and push throughput.

A typical named query (diagnoses_supporting, code=CPT:74360: 15 rows) over HTTP on loopback with
1, 4 and 16 concurrent clients, a bounded number of requests each round (curl --parallel, one
keep-alive connection per client, so the load generator costs little CPU). Servers:

- ``kgraph``: ``kgraph.server.serve`` (uvicorn, ASGI) at ``/queries/NAME?code=...`` (named query,
  parameter bound as a term) and at ``/sparql?query=...`` (the same text, bound);
- ``oxigraph``: ``oxigraph serve-read-only --union-default-graph`` at ``/query?query=...``.

Prints requests/s and p50 / p95 latency per server and concurrency, and kgraph / oxigraph ratios.
(uvicorn was chosen against waitress, a WSGI server, measured 10-25% ahead at 4-16 clients; the app is
Starlette's now, so that comparison is no longer run here.)
With ``--push`` it also pushes the store to a fresh ``oxigraph serve`` (and to Virtuoso when
scripts/virtuoso.sh can start one) and prints triples per second.

    .venv/bin/python bench/bench_server.py [--store PATH] [--requests 600] [--push]

Without --store it builds data/sources.toml into .bench/default once (about 30 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import kgraph
from kgraph import tools
from kgraph.remote import bind, with_prefixes
from kgraph.sparql import resolve

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ACCEPT = "application/sparql-results+json"
NAME, PARAMS = "diagnoses_supporting", {"code": "CPT:74360"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url} after {seconds} s")


def load(url: str, clients: int, requests: int) -> tuple[float, list[float]]:
    """``requests`` GETs of ``url`` by ``clients`` parallel keep-alive connections: (seconds, latencies ms)."""
    with tempfile.NamedTemporaryFile("w", suffix=".curl", delete=False) as f:
        for _ in range(requests):
            f.write(f'url = "{url}"\noutput = "/dev/null"\n')
        config = f.name
    try:
        started = time.perf_counter()
        out = subprocess.run(["curl", "-s", "--parallel", "--parallel-immediate", "--parallel-max", str(clients),
                              "-H", f"Accept: {ACCEPT}", "-w", "%{http_code} %{time_total}\n", "-K", config],
                             capture_output=True, text=True, check=False, timeout=600)
        seconds = time.perf_counter() - started
    finally:
        os.unlink(config)
    lines = [ln.split() for ln in out.stdout.splitlines() if ln.strip()]
    bad = [code for code, _ in lines if code != "200"]
    if bad or len(lines) != requests:
        raise SystemExit(f"{url}: {len(bad)} failed requests of {len(lines)} (statuses {sorted(set(bad))[:5]})")
    return seconds, [float(t) * 1000 for _, t in lines]


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def start_kgraph(store: Path, workers: int | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = f"from kgraph.server import serve; serve({str(store)!r}, port={port}, workers={workers})"
    proc = subprocess.Popen([PY, "-c", code], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/health", proc)
    return proc, base


def start_oxigraph(store: Path) -> tuple[subprocess.Popen, str]:
    exe = shutil.which("oxigraph") or str(Path(PY).parent / "oxigraph")
    port = free_port()
    database = kgraph.open(store).build_dir / "oxigraph"
    proc = subprocess.Popen([exe, "serve-read-only", "--location", str(database), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/query?query=" + urllib.parse.quote("ASK {}"), proc)
    return proc, base


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench_queries(store: Path, servers: list[str], clients: list[int], requests: int,
                  workers: int | None = None) -> None:
    text, bindings = resolve(NAME, PARAMS)
    sparql = with_prefixes(bind(text, bindings))
    named = f"/queries/{NAME}?" + urllib.parse.urlencode(PARAMS)
    targets = {"kgraph": [("named", named), ("sparql", "/sparql?query=" + urllib.parse.quote(sparql))],
               "oxigraph": [("sparql", "/query?query=" + urllib.parse.quote(sparql))]}
    results: dict[tuple[str, str, int], tuple[float, float, float]] = {}
    print(f"{NAME} {PARAMS}: {len(kgraph.query(kgraph.open(store), NAME, **PARAMS))} rows; "
          f"{requests} requests per round")
    print(f"{'server':10} {'route':7} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for server in servers:
        proc, base = start_oxigraph(store) if server == "oxigraph" else start_kgraph(store, workers)
        try:
            for route, path in targets[server]:
                load(base + path, 4, 50)  # warm the caches and the connections
                for c in clients:
                    seconds, latencies = load(base + path, c, requests)
                    results[(server, route, c)] = (requests / seconds, pct(latencies, 50), pct(latencies, 95))
                    rps, p50, p95 = results[(server, route, c)]
                    print(f"{server:10} {route:7} {c:>7} {rps:>8.0f} {p50:>8.2f} {p95:>8.2f}", flush=True)
        finally:
            stop(proc)
    if "oxigraph" in servers:
        print("\nratios against oxigraph serve-read-only (latency p50 ratio; throughput ratio)")
        for server, route in [("kgraph", "named"), ("kgraph", "sparql")]:
            for c in clients:
                if (server, route, c) in results and ("oxigraph", "sparql", c) in results:
                    ours, theirs = results[(server, route, c)], results[("oxigraph", "sparql", c)]
                    print(f"  {server:9} {route:7} {c:>3} clients: p50 x{ours[1] / theirs[1]:.2f}, "
                          f"throughput x{ours[0] / theirs[0]:.2f}")


def bench_push(store: Path, chunk: int) -> None:
    from kgraph.remote import push

    exe = shutil.which("oxigraph") or str(Path(PY).parent / "oxigraph")
    opened = kgraph.open(store)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = subprocess.Popen([exe, "serve", "--location", tmp, "--bind", f"127.0.0.1:{port}"],
                                stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{port}/query?query=" + urllib.parse.quote("ASK {}"), proc)
            report = push(opened, f"http://127.0.0.1:{port}/query", chunk_triples=chunk,
                          state_file=Path(tmp) / "push.json")
            print(f"push to oxigraph serve: {report.sent:,} triples, {report.chunks} chunks of {chunk:,} in "
                  f"{report.seconds:.1f} s: {report.triples_per_second:,.0f} triples/s")
        finally:
            stop(proc)
    script = ROOT / "scripts" / "virtuoso.sh"
    if tools.virtuoso() is None:
        print("push to Virtuoso: skipped (run: bash scripts/virtuoso.sh install)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["bash", str(script), "start", tmp], check=True, capture_output=True)
        try:
            endpoint = (Path(tmp) / "endpoint").read_text().strip()
            report = push(opened, endpoint, auth=("dba", "dba"), chunk_triples=chunk, state_file=Path(tmp) / "p.json")
            print(f"push to Virtuoso 7.2: {report.sent:,} triples, {report.chunks} chunks of {chunk:,} in "
                  f"{report.seconds:.1f} s: {report.triples_per_second:,.0f} triples/s")
        finally:
            subprocess.run(["bash", str(script), "stop", tmp], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--requests", type=int, default=600, help="requests per round (bounded)")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--servers", default="kgraph,oxigraph", help="kgraph, oxigraph")
    parser.add_argument("--workers", type=int, help="kgraph serve's query workers (default: cores, at most 8)")
    parser.add_argument("--push", action="store_true", help="also measure push throughput")
    parser.add_argument("--chunk", type=int, default=50_000)
    args = parser.parse_args()
    if args.store is None:
        args.store = ROOT / ".bench" / "default"
        try:
            kgraph.open(args.store)
        except kgraph.StoreError:
            print("building data/sources.toml into .bench/default ...")
            kgraph.build(ROOT / "data" / "sources.toml", store=args.store)
    store = kgraph.open(args.store)
    print(f"store: {store.path} ({store.counts.get('quads', 0):,} quads); {os.cpu_count()} cores")
    bench_queries(args.store, args.servers.split(","), [int(c) for c in args.clients.split(",")], args.requests,
                  args.workers)
    if args.push:
        bench_push(args.store, args.chunk)


if __name__ == "__main__":
    main()
