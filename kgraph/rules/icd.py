"""ICD-10-CM on a date: the fiscal year, which loaded release answers, and whether a code is valid
and billable then.

Input: dates, fiscal years, the fiscal years a code is listed / billable in (as sets or as bit
masks, bit ``fy - BASE_YEAR`` standing for fiscal year ``fy``, the form ``kgraph.indexes`` keeps),
and ``ICDRelease`` rows for releases with their own effective dates. Output: plain values.

The calendar comes from ``tables/calendar.csv``: ICD-10-CM replaced ICD-9-CM for services on or
after 2015-10-01 (before it every ICD-10-CM code is wrong on a claim); fiscal year N runs from
October 1 of N-1 to September 30 of N; a mid-year release (the April 1 update, such as the
April 2026 tabular) is in force from its own date until the next release. Does not read files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import NamedTuple

from kgraph.rules import tables

#: bit ``fy - BASE_YEAR`` of a fiscal-year mask stands for fiscal year ``fy``
BASE_YEAR = 2000


def _calendar() -> dict[str, str]:
    return {row.name: row.value for row in tables.rows("calendar")}


def icd10_start() -> date:
    """The first date of service on which ICD-10-CM codes are valid (2015-10-01)."""
    return tables.derived("icd10-start", lambda: date.fromisoformat(_calendar()["icd10cm-start"]))


def _fy_month_day() -> tuple[int, int]:
    def build() -> tuple[int, int]:
        month, day = _calendar()["fiscal-year-start"].split("-")
        return int(month), int(day)
    return tables.derived("fy-start", build)


def fiscal_year(day: date) -> int:
    """The ICD-10-CM fiscal year of a date.

    >>> fiscal_year(date(2024, 10, 1)), fiscal_year(date(2024, 9, 30))
    (2025, 2024)
    """
    return day.year + 1 if (day.month, day.day) >= _fy_month_day() else day.year


def fy_start(fy: int) -> date:
    """The first day of fiscal year ``fy`` (FY2026: 2025-10-01)."""
    month, day = _fy_month_day()
    return date(fy - 1, month, day)


def fy_end(fy: int) -> date:
    """The last day of fiscal year ``fy`` (FY2026: 2026-09-30)."""
    return fy_start(fy + 1) - timedelta(days=1)


def before_icd10(day: date) -> bool:
    """Whether ``day`` is before ICD-10-CM took effect (ICD-9-CM was in force then)."""
    return day < icd10_start()


class FYChoice(NamedTuple):
    """The fiscal year whose code set answers for a date, and whether it is the date's own."""

    fy: int | None
    exact: bool


def fy_used(day: date, loaded: Sequence[int]) -> FYChoice:
    """The loaded fiscal year to check a diagnosis of ``day`` against: its own, else the nearest
    loaded one (``exact`` False); ``fy`` None before ICD-10-CM or when none is loaded.

    >>> fy_used(date(2019, 6, 1), [2020, 2021]), fy_used(date(2015, 9, 30), [2020])
    (FYChoice(fy=2020, exact=False), FYChoice(fy=None, exact=False))
    """
    if before_icd10(day) or not loaded:
        return FYChoice(None, False)
    fy = fiscal_year(day)
    if fy in loaded:
        return FYChoice(fy, True)
    return FYChoice(min(loaded, key=lambda y: (abs(y - fy), y)), False)


def fy_bit(fy: int) -> int:
    return 1 << (fy - BASE_YEAR)


def fy_mask(years: Iterable[int]) -> int:
    mask = 0
    for fy in years:
        mask |= fy_bit(fy)
    return mask


def fy_years(mask: int) -> list[int]:
    return [BASE_YEAR + i for i in range(mask.bit_length()) if mask >> i & 1]


def describe_years(mask: int) -> str:
    """``FY2020-FY2026``, ``FY2020, FY2022`` or ``none`` for a mask of fiscal years."""
    years = fy_years(mask)
    if not years:
        return "none"
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"FY{years[0]}-FY{years[-1]}"
    return ", ".join(f"FY{y}" for y in years)


def code_status(present: int, billable: int, fy: int) -> str:
    """What a code is in fiscal year ``fy``, from the masks of the years it is listed and billable
    in: ``billable``, ``header`` (listed, not billable), ``not-in-fy`` (listed in other years
    only) or ``unknown`` (in no loaded year)."""
    bit = fy_bit(fy)
    if present & bit:
        return "billable" if billable & bit else "header"
    return "not-in-fy" if present else "unknown"


class ICDRelease(NamedTuple):
    """An ICD-10-CM release with its own effective date: a fiscal-year file (October 1) or a
    mid-year update (April 1)."""

    label: str
    effective: date
    codes: frozenset[str] = frozenset()


def fiscal_release(fy: int, codes: Iterable[str] = ()) -> ICDRelease:
    """The release of fiscal year ``fy``, in force from its first day."""
    return ICDRelease(f"FY{fy}", fy_start(fy), frozenset(codes))


def release_on(releases: Sequence[ICDRelease], day: date) -> tuple[ICDRelease | None, bool]:
    """The release in force on ``day`` (the newest whose date is on or before it) and True; the
    nearest one and False when none is in force yet or the newest has been replaced (its fiscal
    year is over); (None, False) before ICD-10-CM or without releases."""
    if before_icd10(day) or not releases:
        return None, False
    ordered = sorted(releases, key=lambda r: r.effective)
    in_force = [r for r in ordered if r.effective <= day]
    if not in_force:
        return ordered[0], False
    chosen = in_force[-1]
    return chosen, day <= fy_end(fiscal_year(chosen.effective))


def valid_on(code: str, releases: Sequence[ICDRelease], day: date) -> bool | None:
    """Whether ``code`` is in the release in force on ``day``; None when no release answers."""
    release, _exact = release_on(releases, day)
    return None if release is None else code in release.codes


def listed_billable(codes: Iterable[str]) -> dict[str, bool]:
    """Code -> billable for a code list without billable flags (the CDC ``code-list-*.txt``): a code
    is billable when no other code of the list extends it (CMS: a code with no further
    subdivision is a valid code for billing).

    >>> listed_billable(["K22", "K222", "K227", "K2270"])
    {'K22': False, 'K222': True, 'K227': False, 'K2270': True}
    """
    ordered = sorted(set(codes))
    return {c: not (i + 1 < len(ordered) and ordered[i + 1].startswith(c)) for i, c in enumerate(ordered)}


class MidYear(NamedTuple):
    """A mid-year release (the April 1 update) as the claim check keeps it: its label, effective
    date, and the codes whose standing differs from its fiscal year's October file, code ->
    (listed, billable) in the mid-year release."""

    label: str
    effective: date
    changes: dict[str, tuple[bool, bool]]


def midyear_changes(listed: dict[str, bool], years: dict[str, tuple[int, int]],
                    fy: int) -> dict[str, tuple[bool, bool]]:
    """The codes whose (listed, billable) in a mid-year list ``listed`` (code -> billable) differs
    from fiscal year ``fy`` of ``years`` (code -> masks, ``kgraph.indexes``)."""
    bit = fy_bit(fy)
    out: dict[str, tuple[bool, bool]] = {}
    for code, bill in listed.items():
        present, billable = years.get(code, (0, 0))
        if not present & bit or bool(billable & bit) != bill:
            out[code] = (True, bill)
    for code, (present, _billable) in years.items():
        if present & bit and code not in listed:
            out[code] = (False, False)
    return out


def midyear_on(midyears: Sequence[MidYear], day: date, fy: int | None = None) -> MidYear | None:
    """The mid-year release that answers for ``day`` when its diagnoses are checked against fiscal
    year ``fy`` (default: the date's own, ``fy_used``): the newest dated on or before ``day``
    within ``fy`` (the next October file replaces it). For a date after ``fy`` (no newer fiscal
    year loaded) that is the newest mid-year release of ``fy``: the newest release in force on the
    date, the nearest one to it; for a date before ``fy``, none. None when there is none.

    >>> april = MidYear("April 2026", date(2026, 4, 1), {})
    >>> [getattr(midyear_on([april], date.fromisoformat(d), 2026), "label", None)
    ...  for d in ("2026-03-31", "2026-04-01", "2026-11-15")]
    [None, 'April 2026', 'April 2026']
    """
    fy = fiscal_year(day) if fy is None else fy
    found = [m for m in midyears if m.effective <= day and fiscal_year(m.effective) == fy]
    return max(found, key=lambda m: m.effective) if found else None


def status_on(present: int, billable: int, fy: int, midyear: MidYear | None, code: str) -> str:
    """``code_status`` on a date whose fiscal year is ``fy``, with the mid-year release in force
    then (if any): a code it changed is ``billable``, ``header`` or ``not-in-release``."""
    change = midyear.changes.get(code) if midyear else None
    if change is None:
        return code_status(present, billable, fy)
    listed, bill = change
    return ("billable" if bill else "header") if listed else "not-in-release"
