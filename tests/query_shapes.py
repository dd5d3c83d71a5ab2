"""Query shapes that hurt pyoxigraph's parser or planner, and a fixed-seed corpus of them (issue 19).

``SHAPES[name](n)`` is one query of size ``n``; ``corpus()`` mixes the shapes the issue reports
(5,000 nested groups, 20,000 triple patterns, a ``||`` chain of 10,000, ``UNION`` x 8,000, 200
and 1,000 joined patterns) with fuzzed variants: random nesting of ``{ ( [``, flat chains, deep
property paths, huge ``VALUES`` blocks, many joined patterns, and decoys that hide braces in
strings, IRIs and comments. Predicates are ``urn:`` IRIs the store does not hold, so a query that
is answered is answered at once: what is measured is the parser and the planner.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable


def _chain(op: str, term: str, n: int) -> str:
    return f" {op} ".join([term] * n)


SHAPES: dict[str, Callable[[int], str]] = {
    "groups": lambda n: "SELECT * WHERE " + "{ " * n + "?s <urn:p> ?o " + "} " * n,
    "parens": lambda n: "SELECT * WHERE { ?s <urn:p> ?o FILTER(" + "(" * n + "?o" + ")" * n + ") }",
    "brackets": lambda n: "SELECT * WHERE { ?s <urn:p> " + "[ <urn:p> " * n + "?o" + " ]" * n + " }",
    "or_chain": lambda n: "SELECT * WHERE { ?s <urn:p> ?o FILTER(" + _chain("||", "?o = 1", n) + ") }",
    "and_chain": lambda n: "SELECT * WHERE { ?s <urn:p> ?o FILTER(" + _chain("&&", "?o", n) + ") }",
    "plus_chain": lambda n: "SELECT * WHERE { ?s <urn:p> ?o FILTER(" + _chain("+", "1", n) + " > 0) }",
    "not_chain": lambda n: "SELECT * WHERE { ?s <urn:p> ?o FILTER(" + "!" * n + "?o) }",
    "union_chain": lambda n: "SELECT * WHERE { " + _chain("UNION", "{ ?s <urn:p> ?o }", n) + " }",
    "path_sequence": lambda n: "SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * n) + " ?o }",
    "path_alternative": lambda n: "SELECT * WHERE { ?s " + "|".join(["<urn:p>"] * n) + " ?o }",
    "path_nesting": lambda n: "SELECT * WHERE { ?s " + "(" * n + "<urn:p>" + ")" * n + " ?o }",
    "star_join": lambda n: "SELECT * WHERE { " + " ".join(f"?s <urn:p{i}> ?o{i} ." for i in range(n)) + " }",
    "chain_join": lambda n: "SELECT * WHERE { " + " ".join(f"?v{i} <urn:p> ?v{i + 1} ." for i in range(n)) + " }",
    "optional_chain": lambda n: "SELECT * WHERE { ?s <urn:p> ?o "
                                + " ".join(f"OPTIONAL {{ ?s <urn:p{i}> ?o{i} }}" for i in range(n)) + " }",
    "values_block": lambda n: "SELECT * WHERE { VALUES ?x { " + " ".join(map(str, range(n))) + " } ?x <urn:p> ?o }",
    "in_list": lambda n: "SELECT * WHERE { ?s <urn:p> ?o FILTER(?o IN (" + ", ".join(map(str, range(n))) + ")) }",
}

#: the shapes and sizes the issue reports as crashing or slow to plan (pyoxigraph 0.5, 8 MB stack)
REPORTED = [("groups", 5_000), ("groups", 2_200), ("chain_join", 20_000), ("or_chain", 10_000),
            ("union_chain", 8_000), ("star_join", 200), ("star_join", 1_000)]

#: decoys: braces, parentheses and operators inside strings, IRIs and comments are no structure
DECOYS = [
    "SELECT ?o WHERE { ?s <urn:p> ?o FILTER(?o = '" + "{" * 5000 + "') }",
    "SELECT ?o WHERE { ?s <urn:p> ?o FILTER(?o = \"\"\"" + "((((\n" * 2000 + "\"\"\") }",
    "SELECT ?o WHERE { ?s <urn:p" + "(" * 3000 + "> ?o }",
    "SELECT ?o WHERE { ?s <urn:p> ?o } # " + "{ ( [ || " * 3000,
    "SELECT ?o WHERE { ?s <urn:p> ?o FILTER(?o != '" + "|| && " * 3000 + "') }",
]


def _nesting(rng: random.Random, depth: int) -> str:
    """Random nesting of groups, parentheses (in a FILTER) and blank-node brackets around one pattern."""
    kinds = [rng.choice("{([") for _ in range(depth)]
    opened, closed = [], []
    for k in kinds:
        if k == "{":
            opened.append("{ ")
            closed.append(" }")
        elif k == "(":
            opened.append("{ ?s <urn:p> ?o FILTER(")
            closed.append(") }")
        else:
            opened.append("{ ?s <urn:p> [ <urn:q> ")
            closed.append(" ] }")
    inner = "?s <urn:p> ?o" if kinds[-1:] != ["("] else "?o"
    return "SELECT * WHERE { " + "".join(opened) + inner + "".join(reversed(closed)) + " }"


def corpus(seed: int = 19, count: int = 1_000, max_chars: int = 900_000) -> list[tuple[str, str]]:
    """``count`` (label, query) pairs, the same for the same seed; every text under ``max_chars``."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = [(f"reported {name} x{n}", SHAPES[name](n)) for name, n in REPORTED]
    out += [(f"decoy {i}", text) for i, text in enumerate(DECOYS)]
    names = list(SHAPES)
    while len(out) < count:
        pick = rng.random()
        if pick < 0.2:
            depth = int(10 ** rng.uniform(0, 3.6))  # 1 to about 4,000
            label, text = f"nesting {depth}", _nesting(rng, depth)
        else:
            name = rng.choice(names)
            top = 200_000 if name in ("values_block", "in_list") else 12_000
            if name in ("star_join", "optional_chain", "brackets", "path_sequence"):
                top = 1_200  # planning time grows fast: past the limit a few suffice
            n = int(10 ** rng.uniform(0, math.log10(top)))
            label, text = f"{name} x{n}", SHAPES[name](max(1, n))
        if len(text) <= max_chars:
            out.append((label, text))
    return out[:count]
