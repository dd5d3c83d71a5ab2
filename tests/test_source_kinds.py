"""The registry of source kinds (kgraph.sources.registry): one place that knows each kind."""

from __future__ import annotations

from pathlib import Path

import pytest

import kgraph
from kgraph.build import SMALL_KINDS, read_manifest
from kgraph.check import check, parse_line_spec
from kgraph.errors import BuildError
from kgraph.indexes import MODIFIER_KINDS
from kgraph.sources import READERS, registry
from kgraph.validate import CODE_SETS
from tests.conftest import ROOT

MPFS = ROOT / "data" / "mpfs" / "PPRRVU2025_Oct_nodesc.csv"


def test_every_registered_kind_has_a_reader_a_label_and_says_how_its_release_is_read():
    kinds = registry.kinds()
    assert {k.name for k in kinds} == set(READERS)
    for kind in kinds:
        assert callable(kind.reader), kind.name
        assert kind.label.strip() and kind.release.strip(), kind.name
    # the rules' families table names what users call the CMS kinds; the registry reads it there
    assert registry.get("ncci-ptp").label == "NCCI PTP" and registry.get("mpfs").label == "fee schedule"


def test_an_unknown_kind_in_a_manifest_is_refused_naming_the_file_entry_and_every_registered_kind(tmp_path):
    manifest = tmp_path / "sources.toml"
    manifest.write_text('[[source]]\nkind = "ncci-ptpp"\npath = "x.txt"\n', encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        read_manifest(manifest)
    message = str(caught.value)
    assert "source #1" in message and "'ncci-ptpp'" in message
    for kind in registry.kinds():
        assert f"{kind.name}," in message or message.rstrip().endswith(kind.name) or f"{kind.name} " in message
    with pytest.raises(KeyError, match="known kinds: .*ncci-ptp"):
        registry.get("ncci-ptpp")


def test_the_kinds_read_first_are_the_user_written_ones():
    # the payer registry, briefings and review notes: small, all their problems reported at once
    assert set(SMALL_KINDS) == {"payers", "briefing", "notes"}


def test_a_kind_cannot_be_registered_twice_with_another_meaning():
    hcpcs = registry.get("hcpcs")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.SourceKind("hcpcs", hcpcs.reader, "elsewhere"))


def test_the_fee_schedule_names_modifiers_but_does_not_list_them():
    # PPRRVU rows carry only modifiers 26, TC and 53 (the file's own MOD column): a modifier found
    # there exists, a modifier missing from it may still exist
    names = {row.split(",")[1] for row in MPFS.read_text(encoding="utf-8").splitlines() if row.count(",") > 2}
    assert {"26", "TC"} <= names and "59" not in names
    assert "mpfs" in MODIFIER_KINDS
    assert "mpfs" not in CODE_SETS["MOD"]
    assert "mpfs" in CODE_SETS["CPT"] and CODE_SETS["HCPCS"][0] == "hcpcs"


def test_with_only_the_fee_schedule_loaded_no_modifier_is_called_unknown(tmp_path):
    manifest = tmp_path / "sources.toml"
    manifest.write_text(f'[[source]]\nkind = "mpfs"\npath = "{Path(MPFS).as_posix()}"\nrelease = "2025-10"\n',
                        encoding="utf-8")
    store = kgraph.build(manifest, store=tmp_path / "kg")
    # modifier 59 (distinct procedural service, CPT Appendix A) is real; the fee schedule only lacks a row for it
    line = {**parse_line_spec("74360-59"), "diagnoses": ["K22.2"]}
    result = check(store, {"id": "t", "date": "2025-11-03", "lines": [line]})
    assert "modifier.unknown" not in [f.rule for f in result.findings]
