"""Benchmark: the VoID statistics a build stores for the Service Description (``kgraph.description``).

Prints, for a built store: its quads, the time ``void_statistics`` takes for every graph (a fresh
build), and for a build that only adds a briefing (the reused code-set graphs' statistics known,
the briefing, degrees, ontology, payers and queries graphs counted), with the ratio, and checks
both give the same figures. Run: ``.venv/bin/python bench/bench_void.py STORE`` (e.g. the full
build, ``kgraph build --manifest data/full.toml --store DIR/kg``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pyoxigraph as ox

from kgraph.description import void_statistics

RECOUNTED = ("/degrees", "/ontology", "/payers-payers", "/queries", "/briefing-cpt-74360")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    store = parser.parse_args().store.resolve()
    database = ox.Store.read_only(str(store / "oxigraph"))
    started = time.perf_counter()
    every = void_statistics(database)
    full = time.perf_counter() - started
    known = {g: v for g, v in every.items() if not g.endswith(RECOUNTED)}
    started = time.perf_counter()
    partial = void_statistics(database, known)
    incremental = time.perf_counter() - started
    print(f"{store}: {len(database):,} quads in {len(every)} graphs")
    print(f"void_statistics, every graph:                 {full:8.1f} s")
    print(f"void_statistics, code-set graphs known:        {incremental:8.1f} s  ({full / incremental:.0f}x faster)")
    print(f"same statistics: {partial == every}")


if __name__ == "__main__":
    main()
