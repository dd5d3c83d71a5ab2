"""Compact indexes for claim checking, written into a build directory when the build is made.

Input: a build's pyoxigraph database (``write_indexes``) or an opened ``Store``
(``load_indexes``). Output: ``<build dir>/indexes/check.pickle`` and the ``Indexes`` object a
claim check reads: NCCI PTP edits keyed by (column 1, column 2), MUE limits, add-on edits and
fee-schedule rows and HCPCS termination dates by code, ICD-10-CM fiscal years (present, billable) and parents, the known
procedure codes, modifiers and NUCC taxonomies, briefing evidence (diagnoses supporting a
procedure, specialties reporting it, payer gaps), the payer registry and the data versions.

Why a file next to the database: a check of 100,000 claims cannot afford SPARQL per line pair
(measured on the full build: 2-3 ms per pair query), and the index belongs to one build
directory, so it can never be older than the store it was made from. The format was chosen by
measurement on the 2.5M PTP edits (2 cores): a pickled dict keyed by code pair loads in 4.0 s and
takes 884 MB; SQLite opens at once but answers a pair in 8.3 us; sorted ``array`` columns in a
pickle, searched with ``bisect`` within the edits of one column 1 code, load in 0.2-0.4 s, add
~110 MB to the process and answer a pair in ~1 us. So: plain dicts for the small tables, arrays
for PTP.

Where the rows come from: everything is read from the store with SPARQL over the union graph,
except the PTP rows of a source whose file is still where the build read it and has the same
sha256: those are read again with the same reader (``kgraph.sources.ncci.read_ptp``), because
joining 2.5M row nodes out of Oxigraph takes ~90 s (one 2-pattern join alone 41 s) against ~6 s
for the reader. The row lines, fields and source ids are the same either way (the row IRIs are
minted from source id and line), and a source whose file moved or changed is read from the store.

Raises ``StoreError`` when the index file is damaged. A missing index, or one of another format
version (a build made before this module), is computed in memory from the store instead (slow
on the full build, correct). Does not check claims (``kgraph.check``) nor write into a build
that is already swapped in: ``write_indexes`` is called on the new build directory before the
swap.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import pickle
import re
import threading
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import StoreError
from kgraph.internal_queries import required, select, tuples
from kgraph.rules import icd
from kgraph.rules.releases import Release, from_row, iso_date
from kgraph.rules.rows import FEE_FIELDS, AddOnRow, FeeRow, MUERow, PTPRow
from kgraph.sources import registry

#: bump when the layout of the pickled dict changes; an index of another version is not read
#: (4: typed rows of kgraph.rules.rows, sources with their scope, Evidence and PayerGap rows;
#: 5: icd_midyear, the mid-year ICD-10-CM releases; 6: terminations, the HCPCS termination dates)
FORMAT = 6
INDEX_DIR = "indexes"
INDEX_FILE = "check.pickle"
#: source kinds whose files name existing codes of each kind (kgraph.sources.registry)
PROCEDURE_KINDS = registry.naming("CPT", "HCPCS")
MODIFIER_KINDS = registry.naming("MOD")
_ROW_LINE = re.compile(r"/L(\d+)(?:-\d+)?$")
_KG = ns.KG
_PREFIXES = ns.PREFIXES


class Evidence(NamedTuple):
    """A briefing statement behind an edge: the code at its other end, file, line and qualifiers."""

    other: str
    file: str
    line: int
    qualifiers: dict[str, str]


class PayerGap(NamedTuple):
    """A "data not available" gap of a payer for a code: the field, its text, file and line."""

    field: str
    text: str
    file: str
    line: int


#: a loaded source as a check names it in evidence (the rules' ``Release``: kind, file, release, the
#: file's date, layout and scope)
SourceInfo = Release


@dataclass
class Indexes:
    """What a claim check reads; made by ``collect`` and pickled by ``write_indexes``."""

    build: str
    sources: list[SourceInfo]
    data_versions: dict[str, str]
    codes: list[str]
    ptp_keys: array
    ptp_indicator: bytes
    ptp_effective: array
    ptp_deletion: array
    ptp_rationale: array
    ptp_source: array
    ptp_line: array
    #: offsets into ``ptp_keys`` by column 1 code id (keys sort by column 1 first): a lookup
    #: bisects the few hundred edits of one code, not all 2.5M
    ptp_starts: array
    rationales: list[str]
    procedures: dict[str, tuple[str, ...]]
    mue: dict[str, list[MUERow]]
    addon: dict[str, list[AddOnRow]]
    #: code -> modifier ("" for the code's own row, 26, TC, 53) -> rows (one per loaded release)
    fee: dict[str, dict[str, list[FeeRow]]]
    icd_years: dict[str, tuple[int, int]]
    icd_parent: dict[str, str]
    icd_header_since: dict[str, int]
    icd_fys: tuple[int, ...]
    modifiers: dict[str, str]
    nucc: frozenset[str]
    nucc_parent: dict[str, str]
    supports: dict[str, list[Evidence]]
    specialties: dict[str, list[Evidence]]
    payer_gaps: dict[tuple[str, str], list[PayerGap]]
    payers: dict[str, str]
    payer_labels: dict[str, str]
    payer_parent: dict[str, str]
    seconds: float = 0.0
    #: mid-year ICD-10-CM releases (the April 1 update): what they change against their fiscal year
    icd_midyear: tuple[icd.MidYear, ...] = ()
    #: procedure code -> (termination date, index into ``sources``) of each loaded HCPCS file that ends it
    terminations: dict[str, tuple[tuple[date, int], ...]] = field(default_factory=dict)
    code_id: dict[str, int] = field(default_factory=dict, repr=False)
    _children: dict[str, list[str]] | None = field(default=None, repr=False)
    _column2: tuple[array, array] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.code_id = {c: i for i, c in enumerate(self.codes)}

    # --- PTP --------------------------------------------------------------------------------------

    def ptp(self, column1: str, column2: str) -> list[PTPRow]:
        """Every PTP row of the pair (column 1, column 2), from every loaded PTP source."""
        a, b = self.code_id.get(column1), self.code_id.get(column2)
        if a is None or b is None:
            return []
        key, keys = a << 32 | b, self.ptp_keys
        hi = self.ptp_starts[a + 1]
        i = bisect.bisect_left(keys, key, self.ptp_starts[a], hi)
        return self.ptp_run(i, column1, column2) if i < hi and keys[i] == key else []

    def ptp_run(self, i: int, column1: str, column2: str) -> list[PTPRow]:
        """The PTP rows of one pair from its first position ``i`` in ``ptp_keys`` (a caller that
        has found the pair's key there, as ``ptp`` does): every row with the key of row ``i``."""
        keys = self.ptp_keys
        key, end = keys[i], len(keys)
        out = []
        while i < end and keys[i] == key:
            out.append(self._ptp_row(i, column1, column2))
            i += 1
        return out

    def has_ptp(self, a: int, b: int) -> bool:
        """Whether any PTP row has code ids (a, b); the hot path of a check."""
        lo, hi = self.ptp_starts[a], self.ptp_starts[a + 1]
        if lo == hi:
            return False
        key = a << 32 | b
        i = bisect.bisect_left(self.ptp_keys, key, lo, hi)
        return i < hi and self.ptp_keys[i] == key

    def ptp_of(self, code: str) -> list[int]:
        """Positions (for ``ptp_at``) of every PTP row naming ``code`` in column 1 or column 2, from
        every loaded PTP source. The column 2 side reads an order of the rows by column 2 built on
        first use (about 1 s and 20 MB on the full build), not kept in the index file."""
        a = self.code_id.get(code)
        if a is None:
            return []
        found = list(range(self.ptp_starts[a], self.ptp_starts[a + 1]))
        order, seconds = self._by_column2()
        found += order[bisect.bisect_left(seconds, a):bisect.bisect_right(seconds, a)]
        return found

    def ptp_at(self, i: int) -> PTPRow:
        """The PTP row at a position ``ptp_of`` gave."""
        key = self.ptp_keys[i]
        return self._ptp_row(i, self.codes[key >> 32], self.codes[key & 0xFFFFFFFF])

    def _by_column2(self) -> tuple[array, array]:
        found = self._column2
        if found is None:
            with _LOCK:
                found = self._column2
                if found is None:
                    seconds = [k & 0xFFFFFFFF for k in self.ptp_keys]
                    order = sorted(range(len(seconds)), key=seconds.__getitem__)
                    found = self._column2 = (array("l", order), array("l", sorted(seconds)))
        return found

    def _ptp_row(self, i: int, column1: str, column2: str) -> PTPRow:
        eff, dele = self.ptp_effective[i], self.ptp_deletion[i]
        return PTPRow(column1, column2, chr(self.ptp_indicator[i]), date.fromordinal(eff) if eff else None,
                      date.fromordinal(dele) if dele else None, self.rationales[self.ptp_rationale[i]],
                      self.sources[self.ptp_source[i]], self.ptp_line[i])

    # --- derived, computed on first use -------------------------------------------------------------

    def icd_children(self, code: str) -> list[str]:
        if self._children is None:
            children: dict[str, list[str]] = defaultdict(list)
            for child, parent in self.icd_parent.items():
                children[parent].append(child)
            self._children = {k: sorted(v) for k, v in children.items()}
        return self._children.get(code, [])

    def source(self, kind: str) -> list[SourceInfo]:
        return [s for s in self.sources if s.kind == kind]

    def release_of(self, row: Any) -> SourceInfo:
        """The source a code-set row (``kgraph.rules.rows``, which names it by index) was read from."""
        return self.sources[row.source]


# --- reading the store ----------------------------------------------------------------------------


#: the namespaces of codes, longest first, for CURIEs of the ~10^6 terms an index reads
_CODE_NAMESPACES = sorted(((u, p) for p, u in _PREFIXES.items() if p.isupper()), key=lambda x: -len(x[0]))


def _curie(term: Any) -> str:
    value = term.value
    for namespace, prefix in _CODE_NAMESPACES:
        if value.startswith(namespace):
            return f"{prefix}:{value[len(namespace):]}"
    return ns.curie(value)


def _text(term: Any) -> str:
    return "" if term is None else term.value


def _sources(database: ox.Store) -> list[SourceInfo]:
    out = [from_row(kind, row) for row in select(database, "index_sources")
           for kind in required(row, "index_sources", "kind")]
    return sorted(out, key=lambda s: (s.kind, s.effective or date.min, s.id))


def _data_versions(sources: list[SourceInfo]) -> dict[str, str]:
    versions: dict[str, set[str]] = defaultdict(set)
    for s in sources:
        if s.kind not in ("briefing", "payers", "notes"):  # user input, no release
            versions[s.kind].add(s.release or "unknown")
    return {kind: ", ".join(sorted(r)) for kind, r in sorted(versions.items())}


def _row_source_line(row_iri: str) -> tuple[str, int]:
    local = row_iri[len(_PREFIXES["ROW"]):]
    m = _ROW_LINE.search(local)
    return local.partition("/")[0], int(m.group(1)) if m else 0


def _rows(database: ox.Store, kind: str, graph: str | None = None) -> dict[str, dict[str, Any]]:
    """Row IRI -> field (kg: local name) -> value (CURIE for codes, str / int / date otherwise)."""
    found = tuples(database, "rows_of_class_in_graph", g=ox.NamedNode(graph), **{"class": f"kg:{kind}"}) if graph \
        else tuples(database, "rows_of_class", **{"class": f"kg:{kind}"})
    rows: dict[str, dict[str, Any]] = defaultdict(dict)
    for r, f, v in found:
        name = f.value.removeprefix(_KG)
        if name == f.value:
            continue  # rdf:type
        if isinstance(v, ox.NamedNode):
            value: Any = ns.curie(v.value)
        elif v.datatype.value == ns.XSD + "integer":
            value = int(v.value)
        elif v.datatype.value == ns.XSD + "date":
            value = iso_date(v.value)
        else:
            value = v.value
        rows[r.value][name] = value
    return rows


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source_file(database: ox.Store, source: SourceInfo) -> Path | None:
    """The source's file, if it is still there with the sha256 the build recorded."""
    sha = next((_text(v[0]) for v in tuples(database, "source_sha256", s="SOURCE:" + source.id)), "")
    path = Path(source.file)
    if not sha or not source.file or source.file.startswith(("pkg:", "builtin:")) or not path.is_file():
        return None
    try:
        return path if _sha256(path) == sha else None
    except OSError:
        return None


class _PTPBuilder:
    def __init__(self, sources: list[SourceInfo]) -> None:
        self.src_index = {s.id: i for i, s in enumerate(sources)}
        self.codes: list[str] = []
        self.code_id: dict[str, int] = {}
        self.rationale_id: dict[str, int] = {}
        self.keys = array("q")
        self.indicator = bytearray()
        self.effective = array("i")
        self.deletion = array("i")
        self.rationale = array("H")
        self.source = array("B")
        self.line = array("i")

    def code(self, curie: str) -> int:
        found = self.code_id.get(curie)
        if found is None:
            found = self.code_id[curie] = len(self.codes)
            self.codes.append(curie)
        return found

    def add(self, source_id: str, line: int, fields: dict[str, Any]) -> None:
        """A row read from the store: field name -> value (CURIEs for codes)."""
        c1, c2 = fields.get("column1"), fields.get("column2")
        if c1 is not None and c2 is not None:
            self.add_row(source_id, line, c1, c2, str(fields.get("modifierIndicator", "?")),
                         str(fields.get("rationale", "")), fields.get("effectiveDate"), fields.get("deletionDate"))

    def add_row(self, source_id: str, line: int, column1: str, column2: str, indicator: str, rationale: str,
                effective: date | None, deletion: date | None) -> None:
        ids = self.code_id
        a, b = ids.get(column1), ids.get(column2)
        if a is None:
            a = self.code(column1)
        if b is None:
            b = self.code(column2)
        self.keys.append(a << 32 | b)
        self.indicator.append(ord(indicator[:1] or "?"))
        self.effective.append(effective.toordinal() if effective else 0)
        self.deletion.append(deletion.toordinal() if deletion else 0)
        rid = self.rationale_id.get(rationale)
        if rid is None:
            rid = self.rationale_id[rationale] = len(self.rationale_id)
        self.rationale.append(rid)
        self.source.append(self.src_index[source_id])
        self.line.append(line)

    def sorted_columns(self) -> dict[str, Any]:
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        keys, ind, eff, dele, rat, src, line = (self.keys, self.indicator, self.effective, self.deletion,
                                                self.rationale, self.source, self.line)
        sorted_keys = array("q", (keys[i] for i in order))
        starts = array("i", bytes(4 * (len(self.codes) + 1)))
        for key in sorted_keys:
            starts[(key >> 32) + 1] += 1
        for c in range(len(self.codes)):
            starts[c + 1] += starts[c]
        return {
            "ptp_keys": sorted_keys,
            "ptp_starts": starts,
            "ptp_indicator": bytes(ind[i] for i in order),
            "ptp_effective": array("i", (eff[i] for i in order)),
            "ptp_deletion": array("i", (dele[i] for i in order)),
            "ptp_rationale": array("H", (rat[i] for i in order)),
            "ptp_source": array("B", (src[i] for i in order)),
            "ptp_line": array("i", (line[i] for i in order)),
            "rationales": sorted(self.rationale_id, key=self.rationale_id.__getitem__),
        }


def _ptp(database: ox.Store, sources: list[SourceInfo], builder: _PTPBuilder,
         say: Callable[[str], None]) -> None:
    from kgraph.records import Row
    from kgraph.sources import ncci

    for source in (s for s in sources if s.kind == "ncci-ptp"):
        path = _source_file(database, source)
        if path is not None:
            add = builder.add_row
            sid = source.id
            for record in ncci.read_ptp(path, display=source.file, release=source.release or None):
                if type(record) is Row:
                    # fields: column1, column2, modifierIndicator, rationale, then the dates (ncci.py)
                    fields: Any = record.fields
                    eff = dele = None
                    for name, value in fields[4:]:
                        if name == "effectiveDate":
                            eff = value
                        elif name == "deletionDate":
                            dele = value
                    add(sid, record.origin.line, fields[0][1].curie, fields[1][1].curie, fields[2][1],
                        fields[3][1], eff, dele)
            continue
        say(f"indexes: {source.file} is not where the build read it (or changed); reading its PTP rows "
            "from the store (slow)")
        graph = ns.iri(f"GRAPH:{source.id}")
        for iri, row in _rows(database, "PTPEdit", graph).items():
            sid, line = _row_source_line(iri)
            builder.add(sid, line, row)


def _evidence(database: ox.Store, relation: str) -> dict[str, list[Evidence]]:
    """object or subject -> (other end, file, line, qualifiers) for the statement nodes of a relation."""
    found: dict[str, tuple[str, str, str, int, dict[str, str]]] = {}
    for a, s, o, file, line, q_, v in tuples(database, "evidence_of_relation", rel=f"kg:{relation}"):
        entry = found.get(a.value)
        if entry is None:
            entry = found[a.value] = (_curie(s), _curie(o), file.value, int(line.value), {})
        if q_ is not None:
            entry[4][q_.value.removeprefix(_KG)] = v.value
    out: dict[str, list[Evidence]] = defaultdict(list)
    for s, o, file, line, quals in found.values():
        # supports: diagnosis -> procedure, keyed by the procedure; reportedBy: procedure -> taxonomy
        key, other = (o, s) if relation == "supports" else (s, o)
        out[key].append(Evidence(other, file, line, quals))
    return {k: sorted(v, key=lambda e: (e[1], e[2], e[0])) for k, v in out.items()}


def collect(database: ox.Store, build: str = "", *, progress: Callable[[str], None] | None = None) -> Indexes:
    """Everything a claim check needs, read from a build's database (see the module docstring)."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    sources = _sources(database)
    src_index = {s.id: i for i, s in enumerate(sources)}
    builder = _PTPBuilder(sources)
    _ptp(database, sources, builder, say)

    # which code sets name each code (procedures, modifiers, taxonomies)
    kinds = [ox.Literal(k) for k in sorted({*PROCEDURE_KINDS, *MODIFIER_KINDS, *registry.naming("NUCC")})]
    present: dict[str, set[str]] = defaultdict(set)
    for n, kind in tuples(database, "codes_of_source_kinds", kind=kinds):
        present[_curie(n)].add(kind.value)
    procedures = {c: tuple(sorted(k & set(PROCEDURE_KINDS))) for c, k in present.items()
                  if c.startswith(("CPT:", "HCPCS:")) and k & set(PROCEDURE_KINDS)}
    for c in builder.codes:
        procedures.setdefault(c, ("ncci-ptp",))
    # a modifier the fee schedule names (26, TC, 53) exists, but it lists no other: without a modifier
    # list loaded no modifier is unknown, and the set stays empty (the checker then skips the check)
    lists = set(registry.listing("MOD"))
    modifier_codes = {c for c, k in present.items() if c.startswith("MOD:") and k & set(MODIFIER_KINDS)}
    if not any(c.startswith("MOD:") and k & lists for c, k in present.items()):
        modifier_codes = set()
    modifiers = modifier_labels(database, modifier_codes)
    nucc = frozenset(c for c, k in present.items() if c.startswith("NUCC:") and k & set(registry.naming("NUCC")))

    def line_of(iri: str) -> tuple[int, int]:
        sid, line = _row_source_line(iri)
        return src_index.get(sid, 0), line

    mue: dict[str, list[MUERow]] = defaultdict(list)
    for iri, f in _rows(database, "MUELimit").items():
        if "procedure" in f and "units" in f:
            mue[f["procedure"]].append(MUERow(int(f["units"]), str(f.get("adjudicationIndicator", "")),
                                              str(f.get("rationale", "")), *line_of(iri)))
    addon: dict[str, list[AddOnRow]] = defaultdict(list)
    for iri, f in _rows(database, "AddOnEdit").items():
        if "addOn" in f:
            eff, dele = f.get("effectiveDate"), f.get("deletionDate")
            addon[f["addOn"]].append(AddOnRow(f.get("primary"), str(f.get("editType", "")),
                                              eff.toordinal() if eff else 0, dele.toordinal() if dele else 0,
                                              *line_of(iri)))
    fee: dict[str, dict[str, list[FeeRow]]] = defaultdict(dict)
    for iri, f in _rows(database, "FeeScheduleRow").items():
        if "procedure" in f:
            modifier = str(f.get("modifier", "")).partition(":")[2]
            values = [str(f.get(k, "")).partition(":")[2] if k == "endoBase" else str(f.get(k, ""))
                      for k in FEE_FIELDS]
            row = FeeRow._make([*values, *line_of(iri)])
            fee[f["procedure"]].setdefault(modifier, []).append(row)
    say(f"indexes: code-set rows read ({time.perf_counter() - started:.1f} s)")

    icd_years, icd_parent, header_since, fys = _icd(database)
    nucc_parent = {}
    for s, o in tuples(database, "broader_pairs"):
        if s.value.startswith(_PREFIXES["NUCC"]):
            nucc_parent[_curie(s)] = _curie(o)
    payers, labels, parents = _payers(database)
    columns = builder.sorted_columns()
    return Indexes(
        build=build, sources=sources, data_versions=_data_versions(sources), codes=builder.codes, **columns,
        procedures=procedures, mue=dict(mue), addon=dict(addon), fee=dict(fee), icd_years=icd_years,
        icd_parent=icd_parent, icd_header_since=header_since, icd_fys=fys, modifiers=modifiers, nucc=nucc,
        nucc_parent=nucc_parent, supports=_evidence(database, "supports"),
        specialties=_evidence(database, "reportedBy"), payer_gaps=payer_gaps(database), payers=payers,
        payer_labels=labels, payer_parent=parents, icd_midyear=_midyear(database, sources, icd_years),
        terminations=_terminations(database, src_index),
        seconds=round(time.perf_counter() - started, 3))


def modifier_labels(database: ox.Store, codes: Iterable[str]) -> dict[str, str]:
    """Modifier CURIE -> its first label in the store (``""`` when it has none), for ``codes``."""
    labels = dict.fromkeys(codes, "")
    for n, label in tuples(database, "modifier_labels"):
        c = _curie(n)
        if c in labels and not labels[c]:
            labels[c] = label.value
    return labels


def _terminations(database: ox.Store, src_index: dict[str, int]) -> dict[str, tuple[tuple[date, int], ...]]:
    """Procedure code -> (HCPCS termination date, source index) of each loaded HCPCS file that ends it."""
    found: dict[str, set[tuple[date, int]]] = defaultdict(set)
    for src, c, d in tuples(database, "hcpcs_terminations"):
        code, day = _curie(c), iso_date(d.value)
        if code.startswith(("CPT:", "HCPCS:")) and day is not None:
            found[code].add((day, src_index.get(_curie(src).partition(":")[2], 0)))
    return {c: tuple(sorted(v)) for c, v in found.items()}


def payer_gaps(database: ox.Store) -> dict[tuple[str, str], list[PayerGap]]:
    """(code, payer) -> the gaps a briefing records about the payer's coverage of the code."""
    gaps: dict[tuple[str, str], list[PayerGap]] = defaultdict(list)
    payer_ns = _PREFIXES["PAYER"]
    for about, ctx, fld, text, file, line in tuples(database, "payer_gaps"):
        if ctx.value.startswith(payer_ns):
            gaps[(_curie(about), _curie(ctx))].append(PayerGap(fld.value, text.value, file.value, int(line.value)))
    return dict(gaps)


def _icd(database: ox.Store) -> tuple[dict[str, tuple[int, int]], dict[str, str], dict[str, int], tuple[int, ...]]:
    """code -> (bit mask of fiscal years present, of years billable), parents, header-since years.

    Bit ``fy - 2000`` stands for fiscal year ``fy``; masks keep ~100k codes small and quick to load.
    """
    present: dict[str, int] = {}
    billable: dict[str, int] = {}
    years: set[int] = set()
    # grouped in the query: measured 3x faster than one solution per (code, year)
    for prop, masks in (("inFY", present), ("billableInFY", billable)):
        for n, ys in tuples(database, "fiscal_years_of_codes", prop=f"kg:{prop}"):
            mask = 0
            for y in ys.value.split():
                years.add(int(y))
                mask |= 1 << (int(y) - 2000)
            masks[_curie(n)] = mask
    header = {_curie(n): int(y.value) for n, y in tuples(database, "header_since")}
    parent = {}
    icd_ns = _PREFIXES["ICD10CM"]
    for s, o in tuples(database, "broader_pairs"):
        if s.value.startswith(icd_ns):
            parent[_curie(s)] = _curie(o)
    return ({c: (m, billable.get(c, 0)) for c, m in present.items()}, parent, header, tuple(sorted(years)))


def _midyear(database: ox.Store, sources: list[SourceInfo],
             years: dict[str, tuple[int, int]]) -> tuple[icd.MidYear, ...]:
    """The mid-year releases whose code lists were read (``kgraph.sources.icd10cm_tabular``), each
    with the codes it changes against the fiscal year it falls in (``kgraph.rules.icd``)."""
    listed: dict[date, dict[str, bool]] = defaultdict(dict)
    for prop, billable in (("inRelease", False), ("billableInRelease", True)):
        for n, d in tuples(database, "values_of_property", prop=f"kg:{prop}"):
            listed[date.fromisoformat(d.value)][_curie(n)] = billable
    labels = {s.effective: s.release for s in sources if s.kind == "icd10cm-tabular" and s.effective}
    return tuple(icd.MidYear(labels.get(day, day.isoformat()), day,
                             icd.midyear_changes(codes, years, icd.fiscal_year(day)))
                 for day, codes in sorted(listed.items()))


def _payers(database: ox.Store) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    from kgraph.sources.payers import name_key

    keys: dict[str, str] = {}
    labels: dict[str, str] = {}
    parents: dict[str, str] = {}
    for p, code, label, alias, parent in tuples(database, "payers_with_names"):
        c = _curie(p)
        for name in (code.value, _text(label), _text(alias)):
            if name:
                keys.setdefault(name_key(name), c)
        if label is not None:
            labels[c] = label.value
        if parent is not None:
            parents[c] = _curie(parent)
    return keys, labels, parents


# --- the file --------------------------------------------------------------------------------------


def index_path(build_dir: Path) -> Path:
    return Path(build_dir) / INDEX_DIR / INDEX_FILE


def write_indexes(database: ox.Store, build_dir: Path, *, build: str | None = None,
                  progress: Callable[[str], None] | None = None) -> Path:
    """Write ``<build_dir>/indexes/check.pickle`` from the build's database (atomically: a
    temporary file renamed into place) and return its path. ``build`` is the build id recorded
    in it (default: the directory's name). About 16 s on the full build, 4 s on the default one.

    >>> import kgraph
    >>> ix = load_indexes(kgraph.open(DOCTEST_STORE))   # the file write_indexes wrote, or the same in memory
    >>> row = ix.ptp("CPT:43214", "CPT:74360")[0]
    >>> row.indicator, row.rationale, row.source.file, row.line
    ('0', 'CPT Manual or CMS manual coding instruction', 'data/ncci/ptp_practitioner_2024-07-01_flat.csv', 1261)
    """
    return save(collect(database, build or Path(build_dir).name, progress=progress), build_dir)


def save(indexes: Indexes, build_dir: Path) -> Path:
    """Write ``indexes`` to ``<build_dir>/indexes/check.pickle`` (a temporary file renamed into place)."""
    path = index_path(Path(build_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v for k, v in vars(indexes).items() if not k.startswith("_") and k != "code_id"}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with tmp.open("wb") as handle:
            pickle.dump({"format": FORMAT, "indexes": state}, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_file(path: Path) -> Indexes | None:
    """The indexes in ``path``; None when the file is missing or of another format version."""
    try:
        with Path(path).open("rb") as handle:
            data = pickle.load(handle)  # noqa: S301 - written by write_indexes into the user's own build
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
        raise StoreError(f"{path}: damaged claim-check index ({exc}); rebuild the store") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return Indexes(**data["indexes"])


_CACHE: dict[str, Indexes] = {}
_LOCK = threading.Lock()


def load_indexes(store: Any) -> Indexes:
    """The indexes of an opened store's build, loaded once per build directory.

    A build without an index file (made before indexes were written, or by another format
    version) gets one computed in memory from its database.
    """
    key = str(Path(store.build_dir).resolve())
    with _LOCK:
        found = _saved(key)
        if found is None:
            found = collect(store.ox, Path(store.build_dir).name)
            _keep(key, found)
        return found


def saved_indexes(build_dir: Path | str) -> Indexes | None:
    """The indexes in a build directory's index file, loaded once per directory (as ``load_indexes``);
    None when the file is missing or of another format version (nothing is computed nor cached)."""
    key = str(Path(build_dir).resolve())
    with _LOCK:
        return _saved(key)


def _saved(key: str) -> Indexes | None:
    """The cached or saved indexes of the build directory ``key`` (``_LOCK`` held)."""
    found = _CACHE.get(key)
    if found is None:
        found = load_file(index_path(Path(key)))
        if found is not None:
            _keep(key, found)
    return found


def _keep(key: str, found: Indexes) -> None:
    if len(_CACHE) >= 4:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = found
