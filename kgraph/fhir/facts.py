"""The graph facts the FHIR operations read, each one SPARQL query run through a ``Runner``.

Input: a ``Runner``, ``(sparql, {variable: pyoxigraph term}) -> rows`` (rows are dicts of
CURIEs / literal strings, None when unbound): ``store_runner`` runs on an open ``Store`` in this
process (``kgraph.fhir``'s Python functions); ``kgraph.fhir.routes`` runs them on the server's
query workers, so that every query under ``/fhir`` has the same timeout, row limit and guard as
``/sparql``. Output: plain dicts and lists. Billing meaning is not decided here: the fiscal year
of a date is ``kgraph.rules.icd.fiscal_year``, a code's years come from the ``code_history`` named
query, fee-schedule, MUE and NCCI facts from the ``fee_schedule_indicators``, ``mue_limit`` and
``ncci_conflicts`` named queries (the last one states the in-effect rule, in SPARQL); NCCI edit
counts and add-on rows come from the build's claim-check indexes instead when the ``Catalog`` has
them (decided by ``kgraph.rules.releases`` and ``kgraph.rules.ptp``, as ``kgraph check``). Raises what
the runner raises (``QueryError`` and its kinds). Does not build FHIR resources.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as Date
from functools import cache
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import QueryError
from kgraph.internal_queries import prepare
from kgraph.internal_queries import text as internal
from kgraph.rules import ptp, releases
from kgraph.rules.rows import FEE_FIELDS
from kgraph.sparql import named_queries

Rows = list[dict[str, str | None]]
Runner = Callable[[str, dict[str, Any]], Rows]


def _cell(term: Any) -> str | None:
    if term is None:
        return None
    return ns.curie(term.value) if isinstance(term, ox.NamedNode) else term.value


def store_runner(store: Any) -> Runner:
    """A runner on an open ``kgraph.Store`` (no worker process: no timeout, no row limit)."""

    def run(text: str, terms: dict[str, Any]) -> Rows:
        result = store.query(text, substitutions={ox.Variable(k): v for k, v in terms.items()} or None)
        if isinstance(result, ox.QueryBoolean):
            return [{"boolean": "true" if bool(result) else "false"}]
        names = [v.value for v in result.variables]
        return [{n: _cell(t) for n, t in zip(names, solution, strict=True)} for solution in result]

    return run


def json_rows(data: dict[str, Any]) -> Rows:
    """W3C SPARQL JSON results (as the query workers answer) as runner rows."""
    if "boolean" in data:
        return [{"boolean": "true" if data["boolean"] else "false"}]
    names = data["head"]["vars"]
    out: Rows = []
    for binding in data["results"]["bindings"]:  # an unbound variable has no cell: None, as store_runner gives
        row: dict[str, str | None] = dict.fromkeys(names)
        row.update({k: ns.curie(c["value"]) if c["type"] == "uri" else c["value"] for k, c in binding.items()})
        out.append(row)
    return out


def node(curie: str) -> ox.NamedNode:
    return ox.NamedNode(ns.iri(curie))


def named(name: str) -> str:
    return named_queries()[name].text


@cache
def _ncci_counts_text(ranked: tuple[str, ...] = ()) -> str:
    """``ncci_conflicts`` (the edits of a code in effect on a date) counted by status, not listed.

    ``ranked``: the files of the PTP sources to consult, the one that wins first
    (``kgraph.rules.releases.Selection.order``), when several are loaded: a row counts only if its
    file is one of them and is the first of them that lists the pair, whatever the dates of the
    pair's rows (``releases.pick``: a newer release's deleted edit is not brought back by an older
    one). The first file listing each pair is an aggregate, so a hub code's thousands of pairs cost
    one pass, not one look-up per pair."""
    inner = re.split(r"\n\s*ORDER BY", named("ncci_conflicts"))[0]
    if not ranked:
        return f"SELECT ?status (COUNT(*) AS ?n) WHERE {{ {{ {inner} }} }} GROUP BY ?status"
    files = [(ox.Literal(file), ox.Literal(str(n), datatype=ox.NamedNode(ns.XSD + "integer")))
             for n, file in enumerate(ranked)]
    first = prepare("ptp_first_listing", {"listedFile,listedAt": files})
    return prepare(f"SELECT ?status (COUNT(*) AS ?n) WHERE {{\n  {{ {inner} }}\n  VALUES (?source ?rank) {{ }}\n"
                   f"  {{ {first} }}\n}} GROUP BY ?status", {"source,rank": files})


def _ptp_order(run: Runner, day: Date) -> tuple[str, ...]:
    """The files of the PTP sources consulted on ``day``, the one that wins first; () when one
    source or none is loaded (its rows are the rows)."""
    loaded = [releases.from_row("ncci-ptp", r) for r in run(internal("ptp_releases"), {})]
    if len(loaded) < 2:
        return ()
    return tuple(r.file for r in releases.select(loaded, day).order())


# --- the catalog: code systems and their versions -----------------------------------------------------


@dataclass
class Catalog:
    """What a store holds, read once: source releases by kind, ICD-10-CM fiscal years, concept counts."""

    releases: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    fiscal_years: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    build: str = ""
    #: the build's claim-check indexes (``kgraph.indexes``), loaded on first call; None when the
    #: build has none to read (the NCCI edit counts then come from SPARQL)
    indexes: Callable[[], Any] | None = None
    #: the briefing files of every code (``indexed_parts``): None until read, False if too large
    briefing_files: dict[str, list[str]] | bool | None = None
    #: NCCI summaries by code (``ncci_counts``), the oldest dropped past ``SUMMARIES``
    summaries: dict[str, Any] = field(default_factory=dict, repr=False)

    def versions(self, kinds: tuple[str, ...]) -> list[str]:
        if kinds == ("icd10cm",):
            return [str(y) for y in self.fiscal_years]
        return sorted({r for k in kinds for r in self.releases.get(k, [])})


def catalog(run: Runner) -> Catalog:
    found = Catalog()
    for r in run(internal("fhir_sources"), {}):
        kind = r["kind"] or ""
        if r["release"]:
            found.releases.setdefault(kind, []).append(r["release"])
        if r["file"]:
            found.files.setdefault(kind, []).append(r["file"])
    found.fiscal_years = sorted(int(r["y"] or 0) for r in run(internal("icd10cm_fiscal_years"), {}))
    found.counts = {str(r["t"]).partition(":")[2]: int(r["n"] or 0)
                    for r in run(internal("fhir_concept_counts"), {})}
    return found


# --- one concept ------------------------------------------------------------------------------------------


def _parts() -> dict[str, str]:
    """The queries ``concept`` can add as UNION branches, by the key their rows go under: the
    fee-schedule rows (``fee_schedule_indicators``), the MUE rows (``mue_limit``), the briefings."""
    return {"fee": named("fee_schedule_indicators"), "mue": named("mue_limit"),
            "briefing": internal("briefing_files_of_code")}


@cache
def _concept_text(years: bool, parts: tuple[str, ...]) -> str:
    branches = [f"\n{internal('fhir_concept')}\n"]
    if years:
        branches.append(f"\n{named('code_history')}\n")
    texts = _parts()
    # each part's rows carry its key in ?part; a subquery keeps its ORDER BY, and UNION its branches' order
    branches += [f'{{\n{texts[name]}\n}} BIND("{name}" AS ?part)' for name in parts]
    if len(branches) == 1:
        return internal("fhir_concept")
    return "SELECT * WHERE { " + " UNION ".join(f"{{ {b} }}" for b in branches) + " }"


def concept(run: Runner, curie: str, *, years: bool = False, parts: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """Types, labels, titles, parents, children (``child``) and literal properties of a code; None if the
    graph has no type for it. With ``years`` (ICD-10-CM), also its ``code_history`` rows (``years``);
    with ``parts`` (of ``fee``, ``mue``, ``briefing``), the rows of each of those queries under its
    name (the rows ``fee_rows``, ``mue_rows`` give; ``briefing``: the file names ``briefings`` gives).

    One query, the history and the parts in UNION branches: each query is a round trip to a worker
    when served (a procedure's $lookup: one query, not four).
    """
    q = _concept_text(years, tuple(parts))
    terms = {"c": node(curie)}
    if years or parts:
        terms["code"] = node(curie)
    out: dict[str, Any] = {"child": [], "years": [], **{name: [] for name in parts}}
    for r in run(q, terms):
        if r.get("part") is not None:
            name = r.pop("part") or ""
            out[name].append(r["file"] or "" if name == "briefing" else r)
            continue
        if r.get("fy") is not None:
            out["years"].append(r)
            continue
        key = (r["p"] or "").partition(":")[2]
        values = out.setdefault("child" if key == "narrower" else key, [])
        if r["o"] not in values:
            values.append(r["o"])
    out["child"].sort()
    out["years"].sort(key=lambda r: int(r["fy"] or 0))
    return out if "type" in out else None


def billable_below(run: Runner, curie: str, fy: int) -> list[str]:
    """Codes under a diagnosis that are billable in a fiscal year (for the message about a header)."""
    year = ox.Literal(str(fy), datatype=ox.NamedNode(ns.XSD + "integer"))
    return [r["c"] or "" for r in run(internal("billable_below"), {"p": node(curie), "y": year})]


def fee_rows(run: Runner, curie: str) -> Rows:
    return run(named("fee_schedule_indicators"), {"code": node(curie)})


def mue_rows(run: Runner, curie: str) -> Rows:
    return run(named("mue_limit"), {"code": node(curie)})


def indexed_parts(run: Runner, catalog: Catalog, curie: str, parts: tuple[str, ...]) -> dict[str, Any] | None:
    """The ``fee`` and ``mue`` rows of a code (those of ``parts``) from the claim-check indexes, in the
    shape of the ``fee_schedule_indicators`` and ``mue_limit`` rows (every loaded release; the fee
    rows by modifier, the code's own row first), and its ``briefing`` files from a map of every
    code's briefings the catalog reads once; None when the catalog has no indexes (a writable
    server: the store may change under it). A procedure's ``$lookup`` then runs one small query
    instead of a union of four (the fee, MUE and briefing branches were most of its time on the
    full build). A briefing map over the row limit is not kept: the briefings then come with the
    code's query."""
    ix = catalog.indexes() if catalog.indexes else None
    if ix is None:
        return None
    out: dict[str, Any] = {}
    if "briefing" in parts:
        if catalog.briefing_files is None:
            found: dict[str, set[str]] = {}
            try:
                for r in run(internal("briefing_files_of_codes"), {}):
                    found.setdefault(r["c"] or "", set()).add(r["file"] or "")
                catalog.briefing_files = {c: sorted(files) for c, files in found.items()}
            except QueryError:  # over the row limit or the timeout: ask with the code instead
                catalog.briefing_files = False
        if isinstance(catalog.briefing_files, dict):
            out["briefing"] = list(catalog.briefing_files.get(curie, []))
    if "fee" in parts:
        out["fee"] = []
        for modifier in sorted(ix.fee.get(curie, {})):  # "" (the code's own row) sorts first
            for row in sorted(ix.fee[curie][modifier], key=lambda r: (r.source, r.line)):
                cells: dict[str, str | None] = {"code": curie, "modifier": f"MOD:{modifier}" if modifier else None}
                cells.update({k: getattr(row, k) or None for k in FEE_FIELDS})
                if row.endoBase:  # the index keeps the bare code, the store its IRI
                    cells["endoBase"] = ns.procedure_curie(row.endoBase) or row.endoBase
                cells["line"] = str(row.line)
                out["fee"].append(cells)
    if "mue" in parts:
        out["mue"] = [{"code": curie, "units": str(r.units), "adjudicationIndicator": r.mai or None,
                       "rationale": r.rationale or None, "source": ix.sources[r.source].file, "line": str(r.line)}
                      for r in sorted(ix.mue.get(curie, ()), key=lambda r: (r.source, r.line))]
    return out


def addon_rows(run: Runner, catalog: Catalog, curie: str) -> Rows:
    """The add-on edit rows of a code as add-on (``type``, ``primary``), from every loaded release:
    from the claim-check indexes when the catalog has them (a hub add-on has dozens of rows, each
    a few lookups through SPARQL), else from the store."""
    ix = catalog.indexes() if catalog.indexes else None
    if ix is not None:
        found = sorted(ix.addon.get(curie, ()), key=lambda r: r.primary or "")
        return [{"type": r.edit_type or None, "primary": r.primary} for r in found]
    return run(internal("addon_rows_of_code"), {"c": node(curie)})


#: per-code NCCI summaries a catalog keeps (a hub code's takes ~10 ms to make, then ~0.1 ms to count)
SUMMARIES = 4096


@dataclass(frozen=True)
class _PTPSummary:
    """The PTP rows naming one code, in the shape a count on any date needs: the pairs of one row
    grouped by (indicator, effective, deletion, source) with their number and one row of each
    (``ptp.state`` tells the rows of a group apart by nothing else), and the rows of each pair that
    more than one loaded release lists (those are picked pair by pair, by release)."""

    groups: dict[tuple[int, int, int, int], tuple[int, int]]
    shared: list[list[int]]


def _ptp_summary(ix: Any, curie: str) -> _PTPSummary:
    rows = ix.ptp_of(curie)
    keys = ix.ptp_keys
    per_pair = Counter(map(keys.__getitem__, rows))
    shared = {k for k, n in per_pair.items() if n > 1}  # pairs listed by more than one loaded release
    single = [i for i in rows if keys[i] not in shared] if shared else rows
    columns = (ix.ptp_indicator, ix.ptp_effective, ix.ptp_deletion, ix.ptp_source)
    found = list(zip(*[list(map(a.__getitem__, single)) for a in columns], strict=True))
    sizes = Counter(found)
    sample = dict(zip(found, single, strict=True))
    pairs: dict[int, list[int]] = {}
    for i in rows if shared else ():
        if keys[i] in shared:
            pairs.setdefault(keys[i], []).append(i)
    return _PTPSummary({g: (n, sample[g]) for g, n in sizes.items()}, list(pairs.values()))


def ncci_counts(run: Runner, catalog: Catalog, curie: str, day: Date) -> dict[str, int]:
    """The NCCI PTP edits naming a code (column 1 or 2) on a date, counted by ``kgraph.rules.ptp``
    state (``in effect``, ``unknown``; those not in effect are not counted).

    From the claim-check indexes when the catalog has them, as ``kgraph check`` reads them: the rows
    of each pair in force by ``releases.select`` / ``pick``, each decided by ``ptp.state``, on a
    per-code summary the catalog keeps (``_PTPSummary``: a hub code has thousands of rows and a few
    dozen groups; made once per code, whatever the date). Without indexes, from the
    ``ncci_conflicts`` named query counted by its status.
    """
    counts: dict[str, int] = {}
    ix = catalog.indexes() if catalog.indexes else None
    if ix is None:
        date = ox.Literal(day.isoformat(), datatype=ox.NamedNode(ns.XSD + "date"))
        text = _ncci_counts_text(_ptp_order(run, day))
        for r in run(text, {"code": node(curie), "date": date}):  # "unknown: the file of ..."
            status = (r["status"] or "").partition(":")[0]
            counts[status] = counts.get(status, 0) + int(r["n"] or 0)
        return counts
    summary = catalog.summaries.get(curie)
    if summary is None:
        summary = _ptp_summary(ix, curie)
        if len(catalog.summaries) >= SUMMARIES:
            catalog.summaries.pop(next(iter(catalog.summaries)), None)
        catalog.summaries[curie] = summary
    selection = releases.select([s for s in ix.sources if s.family == "ncci-ptp"], day)
    # a pair of one row is in force when its release is: ask pick once per release, not per row
    keep = {s for s in {g[3] for g in summary.groups}
            if releases.pick(selection, [ix.sources[s]], lambda r: r)}
    groups: dict[tuple[int, ...], tuple[int, int]] = {g: v for g, v in summary.groups.items() if g[3] in keep}
    if summary.shared:
        source = ix.ptp_source
        picked = releases.pick_each(selection, summary.shared, lambda i: ix.sources[source[i]])
        columns = (ix.ptp_indicator, ix.ptp_effective, ix.ptp_deletion, source)
        for i in picked:
            g = tuple(a[i] for a in columns)
            n, first = groups.get(g, (0, i))
            groups[g] = (n + 1, first)
    for n, row in groups.values():
        state = ptp.state(ix.ptp_at(row), day)
        if state != ptp.NOT_IN_EFFECT:
            counts[state] = counts.get(state, 0) + n
    return counts


def briefings(run: Runner, curie: str) -> list[str]:
    """The files of the briefings that state something about a code (as subject or object)."""
    return [r["file"] or "" for r in run(internal("briefing_files_of_code"), {"c": node(curie)})]


def is_a(run: Runner, child: str, parent: str) -> bool:
    """Whether ``parent`` is above ``child`` in the code hierarchy (``skos:broader+``)."""
    rows = run(internal("is_below"), {"a": node(child), "b": node(parent)})
    return bool(rows) and rows[0].get("boolean") == "true"


def exists(run: Runner, curies: list[str]) -> set[str]:
    """Which of the CURIEs name a node with a type in the graph."""
    if not curies:
        return set()
    return {r["c"] or "" for r in run(prepare("typed_nodes", {"c": curies}), {})}
