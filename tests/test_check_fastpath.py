"""The claim check's memoised fast path says exactly what the direct path says: every finding, its
rule, severity, message and evidence, for every claim of both generators of
``bench/bench_check.py`` (real PTP pairs, MUE codes and diagnoses of ../shared/data, fixed seed) on
the full build.

The reference is ``kgraph.checker.Shared(ix, memo=False)``: the same checks asking
``kgraph.rules`` afresh for every line and pair (no per-code, per-pair or per-date memo), as the
check ran before the memos; the fast path is the ``Shared`` a batch uses.
"""

from __future__ import annotations

import importlib.util

import orjson
import pytest

from kgraph.check import CheckResult, ClaimFinding, _parse, check_many
from kgraph.checker import Checker, Shared
from kgraph.indexes import index_path, load_file, load_indexes, write_indexes
from tests.conftest import ROOT

CLAIMS = 2000
SEED = 20240801


def _generators():
    spec = importlib.util.spec_from_file_location("bench_check", ROOT / "bench" / "bench_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GENERATORS


@pytest.fixture(scope="module")
def full(full_store):
    if load_file(index_path(full_store.build_dir)) is None:
        write_indexes(full_store.ox, full_store.build_dir)
    return full_store


@pytest.mark.parametrize("generator", ["mixed", "ptp-pairs"])
def test_the_fast_path_says_what_the_direct_path_says(full, generator: str) -> None:
    claims = [orjson.loads(text) for text in _generators()[generator](CLAIMS, SEED)]
    ix = load_indexes(full)
    reference = Shared(ix, memo=False)
    expected = [orjson.dumps(Checker(reference).run(_parse(c, ix, f"#{n}"), ClaimFinding, CheckResult).to_json())
                for n, c in enumerate(claims, start=1)]
    # the batch path twice: the second pass answers from the memos the first one filled
    for _ in range(2):
        got = [orjson.dumps(r.to_json()) for r in check_many(full, claims)]
        assert len(got) == len(expected)
        differ = [n for n, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
        assert not differ, f"claim {differ[0]}: {got[differ[0]][:2000]!r}\n!=\n{expected[differ[0]][:2000]!r}"
    findings = sum(text.count(b'"severity"') for text in expected)
    assert findings > CLAIMS  # the claims hold findings to compare, not only clean passes
