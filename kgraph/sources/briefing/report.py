"""The account of how a briefing was read: per table its kind and why, per row its edges and problems.

Input: filled in by ``reader`` as it reads. Output: ``Reading`` (the records, the tables, the
normalisations and what was not read), ``summary`` counts whose rows read plus rows skipped
equal the rows of the tables, and the build's one ``line`` per briefing. Pure data; raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kgraph.records import CodeRange, Edge, Gap, Problem, Record


@dataclass
class RowReport:
    """One body row of a table: read (it made an edge, a range or a gap) or skipped (a problem says why)."""

    line: int
    status: str = "read"  # read | skipped
    codes: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class TableReport:
    """One table: its header, its kind (None: not read) and why, its columns and its rows."""

    line: int
    header: list[str]
    kind: str | None
    why: str
    section: str | None
    key: str | None = None
    columns: list[dict[str, str | None]] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)


@dataclass
class Reading:
    """How one briefing was read: its records and an account an author can check."""

    path: str
    format: str = ""
    why: str = ""
    subject: str | None = None
    title: str | None = None
    as_of: str | None = None
    records: list[Record] = field(default_factory=list)
    tables: list[TableReport] = field(default_factory=list)
    normalisations: dict[str, int] = field(default_factory=dict)
    not_read: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [r for r in self.records if isinstance(r, Problem)]

    @property
    def refused(self) -> bool:
        return any(p.fatal for p in self.problems)

    def summary(self) -> dict[str, int]:
        rows = [r for t in self.tables for r in t.rows]
        return {"tables": len(self.tables), "tables_read": sum(1 for t in self.tables if t.kind),
                "rows": len(rows), "rows_read": sum(1 for r in rows if r.status == "read"),
                "rows_skipped": sum(1 for r in rows if r.status != "read"),
                "normalisations": sum(self.normalisations.values())}

    def line(self) -> str:
        """The build's one line for this briefing."""
        s = self.summary()
        skipped = s["tables"] - s["tables_read"]
        return (f"{self.path}: {self.format}, {s['tables_read']} tables read" + (f" ({skipped} not read)" if skipped
                else "") + f", {s['rows_read']} rows read, {s['rows_skipped']} rows skipped, "
                f"{s['normalisations']} normalisations")


def describe(record: Record) -> str:
    """A record as the report shows it: ``ICD10CM:K22.2 kg:supports CPT:74360 (role=indication; ...)``."""
    if isinstance(record, Edge):
        quals = "; ".join(f"{k}={v}" for k, v in record.qualifiers if k != "section")
        return f"{record.subject} kg:{record.relation} {record.object}" + (f" ({quals})" if quals else "")
    if isinstance(record, CodeRange):
        end = f"{record.written} (a {'wildcard' if record.stem else 'range'} of {record.prefix} codes)"
        s, o = (record.other, end) if record.member_is_object else (end, record.other)
        return f"{s} kg:{record.relation} {o}"
    if isinstance(record, Gap):
        return f"gap: {record.subject} {record.field}" + (f" ({record.context})" if record.context else "")
    return str(record)
