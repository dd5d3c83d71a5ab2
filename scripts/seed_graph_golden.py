"""Write tests/data/seed-graph.nq: the seed briefing's named graph as built by a given commit.

The "before" of the seed-graph test (tests/test_briefing_seed_graph.py): the briefing reader was
rewritten for issue 14 (Markdown, HTML, value-shape tables, ranges), and the seed's named graph
must not change. This script exports the commit's tree (default c615615, the last commit before
the rewrite) into a temporary folder, builds tests/data/small.toml there with that commit's own
kgraph (the payer registry and the seed briefing), and writes the sorted N-Quads of the graph
GRAPH:briefing-cpt-74360 without its kg:builtAt quad (the build time differs on every build).
Run from the project root with the project's virtualenv:

    .venv/bin/python scripts/seed_graph_golden.py [--commit c615615] [-o tests/data/seed-graph.nq]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DUMP = """
import sys
sys.path.insert(0, ".")
import kgraph, pyoxigraph as ox
from kgraph import namespaces as ns
store = kgraph.build("tests/data/small.toml", store=sys.argv[1], reuse=False)
graph = ox.NamedNode(ns.iri("GRAPH:briefing-cpt-74360"))
lines = [str(q) + " .\\n" for q in store.ox.quads_for_pattern(None, None, None, graph)
         if q.predicate.value != ns.KG + "builtAt"]
sys.stdout.write("".join(sorted(lines)))
"""


def golden(commit: str) -> str:
    """The sorted N-Quads of the seed's named graph, built by ``commit``'s kgraph."""
    with tempfile.TemporaryDirectory(prefix="kgraph-golden-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        out = subprocess.run([sys.executable, "-c", DUMP, str(Path(tmp) / "store" / "kg")], cwd=tmp,
                             check=True, capture_output=True, text=True)
        return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="c615615")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "tests" / "data" / "seed-graph.nq")
    args = parser.parse_args()
    text = golden(args.commit)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {text.count(chr(10))} quads of the seed's graph as commit {args.commit} builds it")


if __name__ == "__main__":
    main()
