"""A rebuild that only adds or removes briefings updates degrees, counts and indexes (kgraph.incremental),
and they are the same as a fresh build's of the same inputs: quad for quad, count for count, row for row."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

import kgraph
from kgraph import namespaces as ns
from kgraph.indexes import index_path, load_file

from .conftest import DATA, TESTDATA, clone_store

#: fields of the claim-check index that name the build or are caches, not data
NOT_DATA = {"build", "seconds", "code_id", "_verdicts", "_children"}


def degrees(store):
    graph = ox.NamedNode(ns.iri("GRAPH:degrees"))
    return sorted(str(q) for q in store.ox.quads_for_pattern(None, None, None, graph))


def index_data(store):
    found = load_file(index_path(store.build_dir))
    assert found is not None
    return {k: v for k, v in vars(found).items() if k not in NOT_DATA}


def assert_same(updated, fresh):
    assert updated.info["incremental"] is True and fresh.info["incremental"] is False
    assert degrees(updated) == degrees(fresh)
    assert updated.counts == fresh.counts
    assert len(updated.ox) == fresh.counts["quads"]
    mine, theirs = index_data(updated), index_data(fresh)
    assert [k for k in mine if mine[k] != theirs[k]] == []


@pytest.fixture(scope="module")
def fresh_styles(tmp_path_factory):
    """The same inputs as styles_store, built from nothing."""
    return kgraph.build(DATA / "sources.toml", store=tmp_path_factory.mktemp("fresh") / "kg",
                        briefing_dirs=[str(TESTDATA / "styles")], reuse=False)


def test_adding_briefings_updates_degrees_counts_and_indexes_as_a_fresh_build(styles_store, fresh_styles):
    assert_same(styles_store, fresh_styles)
    # the briefings' edges are counted: 43249's diagnoses, K22.x among them, make it the hub of kg:supports
    hubs = kgraph.query(styles_store, "hubs_by_degree", relation="kg:supports").rows
    assert hubs[0]["node"] == "CPT:43249" and int(hubs[0]["inDegree"]) > 8


def test_removing_briefings_gives_back_the_fresh_build_without_them(styles_store, default_store, tmp_path):
    path = clone_store(styles_store, tmp_path / "kg")
    back = kgraph.build(DATA / "sources.toml", store=path)
    assert_same(back, default_store)
    assert kgraph.query(back, "ASK { ?a kg:inRange ?r }").json["boolean"] is False


def test_a_changed_code_set_takes_the_full_path(default_store, tmp_path):
    path = clone_store(default_store, tmp_path / "kg")
    manifest = tmp_path / "m.toml"
    text = re.sub(r'path = "(?!pkg:|builtin:)', f'path = "{DATA}/', (DATA / "sources.toml").read_text(encoding="utf-8"))
    manifest.write_text(text.replace('release = "2025-10"', 'release = "2025-10-a"'), encoding="utf-8")
    rebuilt = kgraph.build(manifest, store=path)
    assert rebuilt.info["incremental"] is False
    assert degrees(rebuilt) == degrees(default_store)
