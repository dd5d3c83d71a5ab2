"""Medicare Physician Fee Schedule indicators: status codes, the payment system of a line outside
the fee schedule, the injection (status T) rule, and the modifiers the indicators allow.

Input: values of one row of the PFS relative value file (PPRRVU) as ``kgraph.sources.mpfs``
reads them (``status``, ``pctc``, ``globalDays``, ``multProc``, ``bilatSurg``, ``asstSurg``,
``coSurg``, ``teamSurg``, ``endoBase``) and codes as written in the file (``85025``). Output:
table rows and ``Verdict`` values. The meanings are those of the RVU file's record layout
(``tables/mpfs_status.csv``, ``mpfs_pctc.csv``, ``mpfs_indicators.csv``); which fee schedule pays
a line the PFS excludes is read from ``tables/mpfs_payment_systems.csv`` (the Claims Processing
Manual chapter of each). Does not price anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kgraph.rules import tables
from kgraph.rules.modifiers import ANESTHESIA, in_ranges, modifiers_of_class

VerdictSeverity = Literal["error", "warning", "info"]


def _status() -> dict[str, Any]:
    return {row.status: row for row in tables.rows("mpfs_status")}


def status(value: str) -> Any | None:
    """The ``mpfs_status`` row of a status code (severity, outcome, pfs_payable, meaning, source)."""
    return tables.derived("status", _status).get(value)


def statuses() -> frozenset[str]:
    """Every status code the record layout defines (A-X)."""
    return frozenset(tables.derived("status", _status))


def pfs_payable(value: str) -> bool:
    """Whether a line of this status is a service payable under the physician fee schedule."""
    row = status(value)
    return row is not None and row.pfs_payable == "yes"


def injection_bundled(value: str, others: Iterable[str]) -> bool:
    """Status T: whether the injection is bundled because another line of the same provider and
    date has a status payable under the fee schedule (``others`` are those lines' statuses)."""
    row = status(value)
    return row is not None and row.outcome == "injection" and any(pfs_payable(s) for s in others)


def payment_system(code: str, value: str) -> tuple[str, str] | None:
    """(payment system, CMS source) of a line of status ``value`` that the fee schedule does not
    pay, where CMS says which (clinical laboratory, ambulance, ASP drug pricing, DMEPOS, vaccine
    pricing); None where the tables do not say.

    >>> payment_system("85025", "X")[0], payment_system("J0696", "E")[0]
    ('the Clinical Laboratory Fee Schedule', 'Average Sales Price (ASP) drug pricing (Part B drugs)')
    """
    cache: dict[tuple[str, str], tuple[str, str] | None] = tables.derived("payment-systems", dict)
    key = (code, value)
    if key not in cache:
        cache[key] = next(((row.payment_system, row.source) for row in tables.rows("mpfs_payment_systems")
                           if value in row.statuses.split() and in_ranges(code, [(row.first, row.last)])), None)
    return cache[key]


# --- modifiers ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the fee schedule says about one modifier on one code, and why."""

    modifier: str
    allowed: bool
    severity: VerdictSeverity | None
    reason: str


def _pctc() -> dict[str, Any]:
    return {row.value: row for row in tables.rows("mpfs_pctc")}


def _indicators() -> dict[tuple[str, str], Any]:
    return {(row.field, row.value): row for row in tables.rows("mpfs_indicators")}


def _fields() -> list[tuple[str, str, tuple[str, ...]]]:
    seen: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for row in tables.rows("mpfs_indicators"):
        seen.setdefault(row.field, (row.field, row.column, tuple(row.modifiers.split())))
    return list(seen.values())


def modifier_verdicts(code_row: Mapping[str, object], *, has_26_row: bool, has_tc_row: bool) -> dict[str, Verdict]:
    """The fee-schedule verdict for each modifier its indicators decide, for one code.

    ``code_row`` holds the fields of the code's row without modifier (the global service), named
    as in ``FeeScheduleRow``; ``has_26_row`` / ``has_tc_row`` say whether the file has a (code,
    26) / (code, TC) row. A modifier missing from the result (59, 22, 52, XS, ...) is not decided
    by the fee schedule. Severities: ``None`` allowed; ``info`` allowed, with a note on how it is
    paid; ``warning`` allowed only with documentation, or not allowed but harmless; ``error`` not
    allowed (a claim line would be denied or mispriced).

    * 26 / TC: allowed when the file has that row; otherwise a ``warning`` when PCTC IND allows
      the component (nothing prices it) and an ``error`` when it does not.
    * 51, 50, 62, 66, 80 / 81 / 82 / AS, 78 / 79: as ``tables/mpfs_indicators.csv`` says for the
      code's MULT PROC, BILAT SURG, CO-SURG, TEAM SURG, ASST SURG and GLOB DAYS values; a value
      the record layout does not define is an ``error``.
    * anesthesia modifiers on a code outside the anesthesia range (00100-01999): ``error``.

    >>> row = {"procedure": "CPT:74360", "pctc": "1", "globalDays": "XXX", "multProc": "0",
    ...        "bilatSurg": "0", "asstSurg": "0", "coSurg": "0", "teamSurg": "0"}
    >>> v = modifier_verdicts(row, has_26_row=True, has_tc_row=True)
    >>> v["26"].allowed, v["62"].severity, v["80"].severity, v["QK"].severity
    (True, 'error', 'warning', 'error')
    >>> v["78"].reason
    'GLOB DAYS XXX: the global surgery concept does not apply, so there is no postoperative period for 78/79'
    """
    return ModifierVerdicts(code_row, has_26_row=has_26_row, has_tc_row=has_tc_row).all()


class ModifierVerdicts:
    """``modifier_verdicts`` of one code, each verdict looked up when asked for (``get``): a claim
    line asks for its one or two modifiers, not for the thirty the indicators decide.

    The verdicts that depend only on the indicator values (26 / TC, the surgery indicators) are
    worked out once per distinct set of values (kept until a table is replaced); the anesthesia
    verdicts name the code, so they are worked out per ``get``.
    """

    __slots__ = ("_anesthesia", "_code", "_common")

    def __init__(self, code_row: Mapping[str, object], *, has_26_row: bool, has_tc_row: bool) -> None:
        get = {k: ("" if v is None else str(getattr(v, "curie", v))).strip() for k, v in code_row.items()}
        self._code = get.get("procedure", "").rpartition(":")[2]
        fields = tables.derived("indicator-fields", _fields)
        key = (has_26_row, has_tc_row, get.get("pctc", ""), get.get("endoBase", ""),
               *(get.get(field, "") for field, _, _ in fields))
        cache: dict[tuple[Any, ...], dict[str, Verdict]] = tables.derived("modifier-verdicts", dict)
        common = cache.get(key)
        if common is None:
            common = cache[key] = _common_verdicts(get, has_26_row, has_tc_row)
        self._common = common
        self._anesthesia: bool | None = None

    def get(self, modifier: str) -> Verdict | None:
        """The verdict for ``modifier`` on this code; None when the fee schedule does not decide it."""
        if modifier in tables.derived("anesthesia-modifiers", lambda: frozenset(modifiers_of_class("anesthesia"))):
            return self._anesthesia_verdict(modifier)
        return self._common.get(modifier)

    def all(self) -> dict[str, Verdict]:
        """Every verdict, as ``modifier_verdicts`` returns them."""
        out = dict(self._common)
        for mod in modifiers_of_class("anesthesia"):
            out[mod] = self._anesthesia_verdict(mod)
        return out

    def _anesthesia_verdict(self, mod: str) -> Verdict:
        code = self._code
        if self._anesthesia is None:
            self._anesthesia = in_ranges(code, ANESTHESIA())
        if self._anesthesia:
            return Verdict(mod, True, None, f"{code} is an anesthesia code (00100-01999)")
        return Verdict(mod, False, "error", f"{mod} is an anesthesia modifier; {code or 'the code'} is not "
                                            "an anesthesia code (00100-01999)")


def _common_verdicts(get: Mapping[str, str], has_26_row: bool, has_tc_row: bool) -> dict[str, Verdict]:
    """The verdicts of ``modifier_verdicts`` that do not name the code: 26 / TC and the surgery
    indicators (read from ``get``'s ``pctc``, ``endoBase`` and indicator fields only)."""
    out: dict[str, Verdict] = {}
    pctc = get.get("pctc", "")
    pctc_row = tables.derived("pctc", _pctc).get(pctc)
    pctc_says = f"PCTC IND {pctc} ({pctc_row.meaning if pctc_row else 'undocumented value'})"
    for mod, has_row, part, allows in (("26", has_26_row, "professional", "allows_26"),
                                       ("TC", has_tc_row, "technical", "allows_tc")):
        if has_row:
            out[mod] = Verdict(mod, True, None, f"{pctc_says}: the fee schedule prices a {mod} ({part} component) row")
        elif pctc_row is not None and getattr(pctc_row, allows) == "yes":
            out[mod] = Verdict(mod, False, "warning", f"{pctc_says} allows {mod}, but this file has no {mod} row to "
                                                       "price it")
        else:
            out[mod] = Verdict(mod, False, "error", f"{pctc_says}: the code has no separately payable {part} "
                                                     f"component, so {mod} cannot be used")
    indicators = tables.derived("indicators", _indicators)
    endo = get.get("endoBase", "").rpartition(":")[2] or "(none given)"
    for field, column, mods in tables.derived("indicator-fields", _fields):
        value = get.get(field, "")
        row = indicators.get((field, value))
        verdict: tuple[bool, Any, str]
        if row is None:
            verdict = (False, "error", f"{column} {value or '(blank)'}: undocumented value")
        else:
            verdict = (row.allowed == "yes", row.severity or None, f"{column} {value}: "
                       + row.reason.replace("{endo}", endo))
        for mod in mods:
            out[mod] = Verdict(mod, *verdict)
    return out
