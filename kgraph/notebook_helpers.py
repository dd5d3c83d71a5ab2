"""pandas tables of what kgraph returns: neighbourhoods, paths and findings, for notebooks.

Input: a ``networkx`` graph from ``kgraph.neighborhood`` / ``kgraph.path`` (nodes are CURIEs with
``kind`` and ``label``; edges keyed by relation CURIE with ``qualifiers`` and ``evidence``), or
findings from ``kgraph.validate`` / ``kgraph.check`` (``Finding`` objects or their JSON dicts).
Output: ``pandas.DataFrame`` objects with one row per node, edge or finding, in a stable order,
evidence shown as ``file:line``. pandas is imported only when a function is called (it is an
optional dependency, in the dev extras). Raises nothing of its own. Does not query the store
and does not draw anything (``kgraph.viz.notebook`` does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

#: the columns every edges table starts with
EDGE_COLUMNS = ["source", "relation", "target"]


def nodes_frame(G: nx.Graph) -> Any:
    """One row per node: ``id``, ``kind``, ``label`` (and any other node attribute), sorted by kind and id.

    >>> G = nx.MultiDiGraph()
    >>> G.add_node("MOD:26", kind="modifier", label="Professional component")
    >>> G.add_node("CPT:74360", kind="CPT", label="")
    >>> nodes_frame(G)[["id", "kind"]].to_dict("records")
    [{'id': 'CPT:74360', 'kind': 'CPT'}, {'id': 'MOD:26', 'kind': 'modifier'}]
    """
    import pandas as pd

    rows = [{"id": node, "kind": data.get("kind", ""), "label": data.get("label", ""),
             **{k: v for k, v in data.items() if k not in ("kind", "label", "description")}}
            for node, data in G.nodes(data=True)]
    frame = pd.DataFrame(rows, columns=_columns(["id", "kind", "label"], rows))
    return frame.sort_values(["kind", "id"], kind="stable").reset_index(drop=True)


def edges_frame(G: nx.Graph, *, expand: bool = False) -> Any:
    """One row per edge: ``source``, ``relation``, ``target``, its qualifiers and its ``evidence``.

    Qualifiers are one text column (``role=indication; relevanceText=...``), or with
    ``expand=True`` one column per qualifier name (empty where an edge has none). Evidence is
    ``file:line`` joined with ``", "``. Rows are sorted by relation, source and target.

    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("ICD10CM:K22.2", "CPT:74360", key="kg:supports", qualifiers={"role": "indication"},
    ...            evidence=[{"source": "data/briefings/cpt-74360.txt", "line": 41}])
    'kg:supports'
    >>> edges_frame(G).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'source': 'ICD10CM:K22.2', 'relation': 'kg:supports', 'target': 'CPT:74360',
     'qualifiers': 'role=indication', 'evidence': 'data/briefings/cpt-74360.txt:41'}
    >>> list(edges_frame(G, expand=True).columns)
    ['source', 'relation', 'target', 'role', 'evidence']
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for s, o, key, data in _edges(G):
        qualifiers: Mapping[str, Any] = data.get("qualifiers") or {}
        row: dict[str, Any] = {"source": s, "relation": data.get("relation", key), "target": o}
        if expand:
            row.update(sorted(qualifiers.items()))
        else:
            row["qualifiers"] = "; ".join(f"{k}={v}" for k, v in sorted(qualifiers.items()))
        row["evidence"] = ", ".join(_where(e) for e in data.get("evidence") or [])
        rows.append(row)
    middle = sorted({k for r in rows for k in r} - set(EDGE_COLUMNS) - {"evidence"}) if expand else ["qualifiers"]
    frame = pd.DataFrame(rows, columns=[*EDGE_COLUMNS, *middle, "evidence"])
    return frame.sort_values(["relation", "source", "target"], kind="stable").reset_index(drop=True)


def findings_frame(findings: Iterable[Any]) -> Any:
    """One row per finding (``kgraph.validate`` or ``kgraph.check``), in the order given.

    Takes ``Finding`` objects (anything with ``to_json()``) or their JSON dicts; list values
    (``suggestion``, ``codes``, ``lines``) become text joined with ``", "``, an ``explanation``
    (a claim-check finding's rows and edges) the ``file:line`` of each of its entries, and
    ``source`` plus ``line`` one ``where`` column (``file:line``).

    >>> f = {"severity": "error", "rule": "icd10cm.not-billable", "subject": "ICD10CM:K21.0",
    ...      "message": "K21.0 is a header", "source": "data/briefings/cpt-74360.txt", "line": 44,
    ...      "suggestion": ["ICD10CM:K21.00", "ICD10CM:K21.01"]}
    >>> row = findings_frame([f]).iloc[0]
    >>> row["where"], row["suggestion"]
    ('data/briefings/cpt-74360.txt:44', 'ICD10CM:K21.00, ICD10CM:K21.01')
    >>> ptp = {"severity": "error", "rule": "ncci.ptp", "codes": ["CPT:43214", "CPT:74360"], "lines": [1, 2],
    ...        "explanation": [{"relation": "kg:conflictsWith", "source": "ptp.csv", "line": 1261}]}
    >>> findings_frame([ptp]).iloc[0][["codes", "lines", "explanation"]].tolist()
    ['CPT:43214, CPT:74360', '1, 2', 'ptp.csv:1261']
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for finding in findings:
        data = dict(finding.to_json() if hasattr(finding, "to_json") else finding)
        source, line = data.pop("source", None), data.pop("line", None)
        row = {k: _text(v) for k, v in data.items()}
        if source is not None:
            row["where"] = f"{source}:{line}" if line is not None else str(source)
        rows.append(row)
    first = ["severity", "rule", "subject", "codes", "lines", "message", "where", "suggestion", "explanation"]
    present = [c for c in first if any(c in r for r in rows)]
    return pd.DataFrame(rows, columns=_columns(present, rows))


def _edges(G: nx.Graph) -> Iterable[tuple[Any, Any, Any, dict[str, Any]]]:
    if G.is_multigraph():
        yield from G.edges(keys=True, data=True)
    else:
        for s, o, data in G.edges(data=True):
            yield s, o, data.get("relation", ""), data


def _where(evidence: Mapping[str, Any]) -> str:
    line = evidence.get("line")
    return f"{evidence.get('source', '')}:{line}" if line else str(evidence.get("source", ""))


def _text(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(_where(v) if isinstance(v, Mapping) else str(_text(v)) for v in value)
    return value


def _columns(first: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """``first``, then every other key of the rows in the order met."""
    rest: dict[str, None] = {}
    for row in rows:
        rest.update((k, None) for k in row if k not in first)
    return [*first, *rest]
