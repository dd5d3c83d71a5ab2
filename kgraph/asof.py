"""As-of-date answers: keep the codes and edges of a neighbourhood that are in effect on a date.

Input: an open ``Store`` (or a remote one), a ``networkx.MultiDiGraph`` from ``kgraph.traverse``
and a date. Every decision is ``kgraph.rules``: ICD-10-CM codes are kept when they exist in the
fiscal year of the date (none before ICD-10-CM took effect); NCCI ``kg:conflictsWith`` edges when
a PTP row of the release in force for the pair is in effect on the date. A flat PTP file has no
effective dates: on a date before the file's date such an edge is kept with ``status``
"unknown" in its qualifiers, never dropped as "no edit". Edits deleted before the file's date
are not plain edges; for the focus code they are added back from their rows when in effect on
the date. Other edges (briefing facts, add-on edits, hierarchy) carry no dates and are kept.
Changes the graph in place; returns nothing.
"""

from __future__ import annotations

from datetime import date

import networkx as nx

from kgraph import internal_queries as iq
from kgraph import namespaces as ns
from kgraph.errors import KGraphError
from kgraph.rules.icd import before_icd10, fiscal_year, fy_used, icd10_start
from kgraph.rules.ptp import IN_EFFECT, UNKNOWN, state
from kgraph.rules.releases import Release, from_row, iso_date, pick, select
from kgraph.rules.rows import PTPRow
from kgraph.store import Store

__all__ = ["fiscal_year", "filter_graph", "parse_date"]


def parse_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise KGraphError(f"{value!r}: not a date (YYYY-MM-DD)") from None


def filter_graph(store: Store, graph: nx.MultiDiGraph, as_of: str | date) -> None:
    day = parse_date(as_of)
    graph.graph["as_of"] = day.isoformat()
    _filter_icd(store, graph, day)
    _filter_ptp(store, graph, day)
    focus = graph.graph.get("focus")
    orphans = [n for n in graph if n != focus and graph.degree(n) == 0]
    graph.remove_nodes_from(orphans)


def _filter_icd(store: Store, graph: nx.MultiDiGraph, day: date) -> None:
    icd = [n for n in graph if n.startswith("ICD10CM:")]
    if not icd:
        return
    fy = fiscal_year(day)
    if before_icd10(day):
        graph.graph["as_of_note"] = (f"{day.isoformat()} is before ICD-10-CM took effect "
                                     f"({icd10_start().isoformat()}): no ICD-10-CM code was valid then")
        graph.remove_nodes_from(icd)
        return
    loaded = sorted(int(r["y"] or 0) for r in iq.select(store, "icd10cm_fiscal_years"))
    if not fy_used(day, loaded).exact:
        graph.graph["as_of_note"] = (f"FY{fy} is outside the loaded ICD-10-CM fiscal years"
                                     f"{f' (FY{min(loaded)}-FY{max(loaded)})' if loaded else ''}; "
                                     "diagnoses were not filtered")
        return
    present = {r["c"] for r in iq.select(store, "codes_in_fiscal_year", c=icd, fy=fy)}
    graph.remove_nodes_from([n for n in icd if n not in present])


def _releases(store: Store) -> dict[str, Release]:
    """The loaded NCCI PTP sources by graph IRI, as the rules' ``Release`` rows."""
    return {r["g"] or "": from_row("ncci-ptp", r) for r in iq.select(store, "ptp_releases")}


def _rows(store: Store, pairs: list[tuple[str, str]], sources: dict[str, Release]) -> list[PTPRow]:
    out = []
    for r in iq.select(store, "ptp_rows_of_pairs", **{"a,b": pairs}):
        source = sources.get(r["g"] or "")
        if source is None:
            continue
        out.append(PTPRow(r["a"] or "", r["b"] or "", r["mi"] or "", iso_date(r["eff"]),
                          iso_date(r["del"]), "", source, 0))
    return out


def _filter_ptp(store: Store, graph: nx.MultiDiGraph, day: date) -> None:
    edges = [(s, o) for s, o, k in graph.edges(keys=True) if k == "kg:conflictsWith"
             and not s.startswith("ICD10CM:")]
    focus = graph.graph.get("focus")
    wanted = graph.graph.get("relations") or []
    if focus and "kg:conflictsWith" in wanted and not focus.startswith("ICD10CM:"):
        edges += _focus_row_pairs(store, focus)
    if not edges:
        return
    status: dict[tuple[str, str], str] = {}
    sources = _releases(store)
    rows = _rows(store, sorted(set(edges)), sources)
    selection = select(sources.values(), day)
    by_pair: dict[tuple[str, str], list[PTPRow]] = {}
    for row in rows:
        by_pair.setdefault((row.column1, row.column2), []).append(row)
    for key, pair_rows in by_pair.items():
        for row in pick(selection, pair_rows, lambda r: r.source):
            found = state(row, day)
            if found == IN_EFFECT:
                status[key] = "in effect"
            elif found == UNKNOWN and key not in status:
                status[key] = f"unknown: the file of {row.source.release} has no effective dates"
    for s, o in set(edges):
        if (s, o) not in status:
            if graph.has_edge(s, o, key="kg:conflictsWith"):
                graph.remove_edge(s, o, key="kg:conflictsWith")
            continue
        if not graph.has_edge(s, o, key="kg:conflictsWith"):
            for node in (s, o):
                if node not in graph:
                    graph.add_node(node, kind=ns.CODE_KINDS.get(node.partition(":")[0], ""), label="")
            graph.add_edge(s, o, key="kg:conflictsWith", relation="kg:conflictsWith", qualifiers={}, evidence=[])
        graph.edges[s, o, "kg:conflictsWith"]["qualifiers"]["status"] = status[(s, o)]


def _focus_row_pairs(store: Store, focus: str) -> list[tuple[str, str]]:
    """Pairs of every PTP row of the focus code, including edits deleted before the file's date."""
    return [(r["a"] or "", r["b"] or "") for r in iq.select(store, "ptp_pairs_of_code", code=focus)]
