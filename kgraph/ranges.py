"""Expanding a briefing's ranges and wildcards (``K20-K22``, ``K22.x``, ``J1100-J1130``) against code sets.

Input: a pyoxigraph database holding code sets (a build being written, or an opened store) and
``CodeRange`` records from the briefing reader. Output: an ``Expansion`` per range: the member
codes (CURIEs, sorted), the code-set release they come from, and a problem when the range holds
no code. Read-only; never raises for a range (an empty one is a problem, not an error).

Which codes: ICD-10-CM ranges and wildcards expand to the codes *billable* in the fiscal year in
force on the briefing's date (FY N runs from October 1 of N-1), else in the newest loaded year;
a range ``K20-K22`` holds every code from K20 up to and under K22, a wildcard ``K22.x`` every code
under K22. CPT and HCPCS ranges expand to the codes the procedure code sets name (HCPCS Level II
file, fee schedule, NCCI PTP / MUE / add-on files, as ``kgraph validate`` counts a code as
existing) of the same shape between the two ends; a HCPCS code terminated before the reference
date (the briefing's date, else the HCPCS release's) is left out. A range wider than
``MAX_MEMBERS`` codes is kept unexpanded, with a problem.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from datetime import date

import pyoxigraph as ox

from kgraph import internal_queries as iq
from kgraph import namespaces as ns
from kgraph.records import CodeRange
from kgraph.rules import hcpcs
from kgraph.rules.icd import fiscal_year
from kgraph.sources import registry

CODE = ox.NamedNode(ns.KG + "code")
BILLABLE = ox.NamedNode(ns.KG + "billableInFY")
BROADER = ox.NamedNode(ns.SKOS + "broader")
TERMINATION = ox.NamedNode(ns.KG + "terminationDate")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: source kinds whose files name existing procedure codes (kgraph.sources.registry)
PROCEDURE_KINDS = registry.naming("CPT", "HCPCS")
MAX_MEMBERS = 10_000


@dataclass
class Expansion:
    """The members of one range, what they were taken from, and what went wrong."""

    members: list[str] = field(default_factory=list)
    against: str = ""
    problem: str = ""
    severity: str = "warning"


def _categories(first: str, last: str) -> list[str]:
    """The ICD-10-CM categories (letter, digit or A of QA, digit or letter) from ``first`` to ``last``."""
    out = []
    for letter in _ALNUM[_ALNUM.index(first[0]):_ALNUM.index(last[0]) + 1]:
        for second, third in itertools.product("0123456789A", _ALNUM):
            category = letter + second + third
            if first <= category <= last:
                out.append(category)
    return out


def _procedure_candidates(rng: CodeRange) -> list[str]:
    """Every code of the range's shape it can hold: 4325x -> 43250 ... 4325U; J1100-J1130 -> J1100 ... J1130."""
    if rng.stem:
        width = 5 - len(rng.stem)
        if rng.prefix == "HCPCS":
            return [rng.stem + "".join(t) for t in itertools.product("0123456789", repeat=width)]
        return [rng.stem + "".join(t[:-1]) + t[-1] for t in itertools.product(
            *(["0123456789"] * (width - 1)), "0123456789AFMTU")]
    head, tail = (1, 5) if rng.prefix == "HCPCS" else (0, 5 if rng.first[-1].isdigit() else 4)
    lo, hi = int(rng.first[head:tail]), int(rng.last[head:tail])
    digits = tail - head
    return [f"{rng.first[:head]}{n:0{digits}d}{rng.first[tail:]}" for n in range(lo, hi + 1)]


class Expander:
    """Expands ranges against one database, reading each code set once."""

    def __init__(self, database: ox.Store) -> None:
        self.database = database
        self._years: list[int] | None = None
        self._sources: dict[str, tuple[str, str]] | None = None

    def icd_years(self) -> list[int]:
        if self._years is None:
            years: set[int] = set()
            for row in iq.select(self.database, "icd10cm_histories"):
                first, _, last = (row["h"] or "").replace("FY", "").partition("-")
                if first.isdigit():
                    years.update(range(int(first), int(last or first) + 1))
            self._years = sorted(years)
        return self._years

    def _exists(self, iri: str) -> bool:
        return next(iter(self.database.quads_for_pattern(ox.NamedNode(iri), CODE, None, None)), None) is not None

    def icd_codes(self, year: int, rng: CodeRange) -> list[str]:
        """The codes billable in a fiscal year under the range's categories (or the wildcard's stem), sorted.

        Walked down the ICD-10-CM hierarchy (skos:broader) from the categories the range names: filtering
        the 74,000 billable codes of a year took 2-8 s, the walk takes milliseconds."""
        namespace = ns.PREFIXES["ICD10CM"]
        roots = [rng.stem] if rng.stem else [c for c in _categories(rng.first[:3], rng.last[:3])
                                             if self._exists(namespace + c)]
        fy = ox.Literal(str(year), datatype=ox.NamedNode(ns.XSD + "integer"))
        found: set[str] = set()
        todo = [ox.NamedNode(namespace + r) for r in roots]
        seen: set[str] = set()
        while todo:
            node = todo.pop()
            if node.value in seen:
                continue
            seen.add(node.value)
            if next(iter(self.database.quads_for_pattern(node, BILLABLE, fy, None)), None) is not None:
                found.add(node.value[len(namespace):])
            todo += [q.subject for q in self.database.quads_for_pattern(None, BROADER, node, None)
                     if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(namespace)]
        return sorted(found)

    def procedure_sources(self) -> dict[str, tuple[str, str]]:
        """Graph IRI -> (kind, release) of the sources that name procedure codes."""
        if self._sources is None:
            rows = iq.select(self.database, "sources_of_kinds", kind=[ox.Literal(k) for k in PROCEDURE_KINDS])
            self._sources = {ns.iri(r["g"] or ""): (r["kind"] or "", r["release"] or "") for r in rows}
        return self._sources

    def procedures(self, rng: CodeRange) -> list[tuple[str, str, str, str]]:
        """(code, source kind, release, termination date) of the codes of the range's shape that a procedure
        code set names, sorted: each code the range can hold is looked up by its IRI."""
        namespace = ns.PREFIXES[rng.prefix]
        sources = self.procedure_sources()
        rows = []
        for code in _procedure_candidates(rng):
            node = ox.NamedNode(namespace + code)
            ended = next((str(getattr(q.object, "value", "")) for q in self.database.quads_for_pattern(
                node, TERMINATION, None, None)), "")
            for q in self.database.quads_for_pattern(node, CODE, None, None):
                graph = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
                if graph in sources:
                    rows.append((code, *sources[graph], ended))
        return sorted(rows)

    def expand(self, rng: CodeRange) -> Expansion:
        """The members of a range or wildcard (see the module docstring)."""
        day = date.fromisoformat(rng.as_of) if rng.as_of else None
        if rng.prefix == "ICD10CM":
            return self._expand_icd(rng, day)
        return self._expand_procedures(rng, day)

    def _expand_icd(self, rng: CodeRange, day: date | None) -> Expansion:
        years = self.icd_years()
        if not years:
            return Expansion(problem=f"{rng.written!r} not expanded: no ICD-10-CM code set in this build",
                             severity="info")
        year = fiscal_year(day) if day else years[-1]
        if year not in years:
            year = years[-1]
        lo = rng.stem or rng.first
        codes = self.icd_codes(year, rng)
        start = bisect.bisect_left(codes, lo)
        members = []
        for code in codes[start:]:
            if rng.stem and not code.startswith(rng.stem) or not rng.stem and code[:len(rng.last)] > rng.last:
                break
            members.append(f"ICD10CM:{code}")
        chosen = f"icd10cm FY{year}" + (f" (in force on {day.isoformat()})" if day and fiscal_year(day) == year else "")
        return self._done(rng, members, chosen, "billable code")

    def _expand_procedures(self, rng: CodeRange, day: date | None) -> Expansion:
        if not self.procedure_sources():
            return Expansion(problem=f"{rng.written!r} not expanded: no CPT or HCPCS code set in this build",
                             severity="info")
        rows = self.procedures(rng)
        releases = sorted({(k, r) for _, k, r, _ in rows} or set(self.procedure_sources().values()))
        if day:  # the releases in force on the date; none: the newest of each kind
            dated = {(k, r) for k, r in releases if r[:10] <= day.isoformat()}
            releases = sorted(dated) or releases
        keep = set(releases)
        lo = rng.stem or rng.first
        start = bisect.bisect_left(rows, (lo,))
        members: set[str] = set()
        for code, kind, release, term in rows[start:]:
            if rng.stem and not code.startswith(rng.stem) or not rng.stem and code > rng.last:
                break
            if (kind, release) not in keep or len(code) != 5 or not ns.is_valid(rng.prefix, code):
                continue
            if not rng.stem and (code[0].isalpha() != rng.first[0].isalpha() or
                                 code[-1].isalpha() != rng.first[-1].isalpha()):
                continue
            # ended before the reference date: the briefing's, else January 1 of the release's year
            reference = day or (date(int(release[:4]), 1, 1) if release[:4].isdigit() else None)
            if reference is not None and hcpcs.terminated(term, reference):
                continue
            members.add(f"{rng.prefix}:{code}")
        chosen = ", ".join(f"{k} {r}".strip() for k, r in sorted(keep))
        return self._done(rng, sorted(members), chosen, "code")

    def _done(self, rng: CodeRange, members: list[str], against: str, what: str) -> Expansion:
        if not members:
            return Expansion([], against, f"{rng.written!r} holds no {what} of {against}; check the range")
        if len(members) > MAX_MEMBERS:
            return Expansion([], against, f"{rng.written!r} holds {len(members):,} codes of {against}, more than "
                             f"{MAX_MEMBERS:,}; kept unexpanded: narrow it")
        return Expansion(members, against)
