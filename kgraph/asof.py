"""As-of-date answers: keep the codes and edges of a neighbourhood that are in effect on a date.

Input: an open ``Store``, a ``networkx.MultiDiGraph`` from ``kgraph.traverse`` and a date.
ICD-10-CM codes are kept when they exist in the fiscal year of the date (FY N runs from
October 1 of N-1 to September 30 of N); NCCI ``kg:conflictsWith`` edges when a PTP row for the
pair is in effect (effective <= date <= deletion; equal effective and deletion dates with
indicator 9 never applied). A flat PTP file has no effective dates: on a date before the file's
date such an edge is kept with ``status`` "unknown" in its qualifiers, never dropped as "no
edit". Edits deleted before the file's date are not plain edges; for the focus code they are
added back from their rows when in effect on the date. Other edges (briefing facts, add-on
edits, hierarchy) carry no dates and are kept. Changes the graph in place; returns nothing.
"""

from __future__ import annotations

from datetime import date

import networkx as nx

from kgraph import namespaces as ns
from kgraph.errors import KGraphError
from kgraph.store import Store


def fiscal_year(day: date) -> int:
    """The ICD-10-CM fiscal year of a date.

    >>> fiscal_year(date(2024, 10, 1)), fiscal_year(date(2024, 9, 30))
    (2025, 2024)
    """
    return day.year + 1 if day.month >= 10 else day.year


def parse_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise KGraphError(f"{value!r}: not a date (YYYY-MM-DD)") from None


def _values(nodes: list[str]) -> str:
    return " ".join(f"<{ns.iri(n)}>" for n in nodes)


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
    loaded = [int(r["y"].value) for r in store.query("SELECT DISTINCT ?y WHERE { ?c kg:inFY ?y }")]
    if not loaded or not min(loaded) <= fy <= max(loaded):
        graph.graph["as_of_note"] = (f"FY{fy} is outside the loaded ICD-10-CM fiscal years"
                                     f"{f' (FY{min(loaded)}-FY{max(loaded)})' if loaded else ''}; "
                                     "diagnoses were not filtered")
        return
    q = f"SELECT DISTINCT ?c WHERE {{ VALUES ?c {{ {_values(icd)} }} ?c kg:inFY {fy} }}"
    present = {ns.curie(r["c"].value) for r in store.query(q)}
    graph.remove_nodes_from([n for n in icd if n not in present])


def _rows(store: Store, pairs: list[tuple[str, str]]) -> list[dict[str, str | None]]:
    values = " ".join(f"(<{ns.iri(a)}> <{ns.iri(b)}>)" for a, b in pairs)
    q = (f"SELECT ?a ?b ?mi ?eff ?del ?release WHERE {{ VALUES (?a ?b) {{ {values} }} "
         "?r kg:column1 ?a ; kg:column2 ?b ; kg:modifierIndicator ?mi . "
         "OPTIONAL { ?r kg:effectiveDate ?eff } OPTIONAL { ?r kg:deletionDate ?del } "
         "GRAPH ?g { ?r kg:column1 ?a } OPTIONAL { ?s kg:graph ?g ; kg:release ?release } }")
    out = []
    for r in store.query(q):
        out.append({"a": ns.curie(r["a"].value), "b": ns.curie(r["b"].value), "mi": r["mi"].value,
                    "eff": r["eff"].value if r["eff"] else None, "del": r["del"].value if r["del"] else None,
                    "release": r["release"].value if r["release"] else None})
    return out


def _status(row: dict[str, str | None], day: str) -> str | None:
    """'in effect', 'unknown ...' or None (not in effect) for one PTP row on a day."""
    eff, dele = row["eff"], row["del"]
    if eff and dele and eff == dele and row["mi"] == "9":
        return None
    if dele and day > dele:
        return None
    if eff:
        return "in effect" if eff <= day else None
    release = row["release"] or ""
    if release and day < release[:10]:
        return f"unknown: the file of {release} has no effective dates"
    return "in effect"


def _filter_ptp(store: Store, graph: nx.MultiDiGraph, day: date) -> None:
    iso = day.isoformat()
    edges = [(s, o) for s, o, k in graph.edges(keys=True) if k == "kg:conflictsWith"
             and not s.startswith("ICD10CM:")]
    focus = graph.graph.get("focus")
    wanted = graph.graph.get("relations") or []
    if focus and "kg:conflictsWith" in wanted and not focus.startswith("ICD10CM:"):
        edges += _focus_row_pairs(store, focus)
    if not edges:
        return
    status: dict[tuple[str, str], str] = {}
    for row in _rows(store, sorted(set(edges))):
        assert row["a"] and row["b"]
        found = _status(row, iso)
        key = (row["a"], row["b"])
        if found and (key not in status or status[key] != "in effect"):
            status[key] = found
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
    q = (f"SELECT DISTINCT ?a ?b WHERE {{ {{ ?r kg:column1 <{ns.iri(focus)}> }} UNION "
         f"{{ ?r kg:column2 <{ns.iri(focus)}> }} ?r kg:column1 ?a ; kg:column2 ?b }}")
    return [(ns.curie(r["a"].value), ns.curie(r["b"].value)) for r in store.query(q)]
