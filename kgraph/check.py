"""Explainable claim-line checking: will these lines pass, and if not, why.

Input: an open ``Store`` and a claim, a dict in the INTERFACE.md shape (``id``, ``date``,
``payer``, ``taxonomy``, ``claim_type``, ``lines`` of ``code``, ``modifiers``, ``units``,
``diagnoses`` and an optional line ``date``). Codes may be CURIEs or bare codes. Output: a
``CheckResult`` (``id``, ``status`` fail / warn / pass, ``data_versions``, ``findings``), each
finding a ``ClaimFinding`` whose ``explanation`` lists the rows and edges behind it with their
source file, line and qualifiers. The checks read the indexes written into the build directory
(``kgraph.indexes``), never SPARQL per line.

Checks (rule ids in brackets):

* NCCI PTP [ncci.ptp, ncci.ptp-bypassed, ncci.ptp-unknown]: every pair of lines with the same
  date of service and an edit in effect on it (effective <= date <= deletion; an edit with equal
  dates and indicator 9 never applied). Column 2 is denied: an error, unless the indicator is
  1 and an NCCI-associated modifier (``BYPASS_MODIFIERS``) is on either line: then info,
  documentation required. Indicator 0 is never bypassed. Indicator 9 rows never apply (CMS gives
  9 only to edits deleted back to their effective date, so a flat row with 9 is one too). A flat
  file has no effective dates: for a date before the file's date an edit it lists is *unknown*
  (a warning), never "no edit".
* MUE [mue.units, mue.never-payable]: adjudication indicator 1 per line; 2 (policy) and 3
  (clinical, payable on appeal) on the units of all lines of the code on one date; MUE 0.
* Add-on [ncci.addon-without-primary]: no listed primary on the claim that date: edit type 1
  error, 3 warning, 2 info (CMS lists none; the contractor decides).
* Modifiers [modifier.unknown, mpfs.modifier-not-allowed, modifier.exclusive]: not in the
  modifier code sets; ruled out by the fee-schedule indicators (``mpfs.modifier_verdicts``); two
  modifiers on one line that exclude each other (``EXCLUSIVE``, curated here: 26/TC, 52/53,
  50/LT, 50/RT, 76/77, 78/79, two assistant-at-surgery modifiers are errors; LT with RT and 59
  with an X{EPSU} modifier are warnings).
* Diagnoses [icd10cm.unknown, icd10cm.not-in-fy, icd10cm.not-billable, dx.missing,
  dx.unsupported, dx.no-evidence]: by the fiscal year of the date of service (FY N = Oct 1 N-1
  to Sep 30 N); whether a diagnosis of the line, or a code above it in the ICD-10-CM hierarchy,
  supports the procedure in the graph. No supporting evidence is a warning that says the graph
  holds none (for the procedure, or for these diagnoses), never an error.
* Taxonomy [taxonomy.unknown, taxonomy.not-listed (info)], fee-schedule status
  [mpfs.status: I, N, X, E errors (Medicare denies the line); B, P warnings (bundled, no separate
  payment)], code [code.unknown], payer [payer.unknown, payer.gap (info), payer.not-medicare
  (info)], claim [claim.institutional, claim.unknown-field] and data [data.out-of-range: a date
  of service outside a loaded release's period names the release used; warning for NCCI and
  ICD-10-CM, info for the fee schedule, whose indicators rarely change between releases].

A claim without a payer is checked as a Medicare claim. An NCCI or fee-schedule release answers
for the three months from its date (the files are quarterly; an official PTP file, which dates
every edit, also for earlier dates); ICD-10-CM for its fiscal years, a date outside them being
checked against the nearest one. Lines with different dates of service are never a PTP pair.

Raises ``ClaimError`` (a ``KGraphError``) for a claim that cannot be checked, naming the claim
and every bad field at once: unknown code kind, units that are zero, negative or not integers,
a date that is not a date. ``check_many`` does not raise: a bad claim gives a result with status
``error`` and the batch goes on. Does not price lines, read payer policies (only Medicare NCCI
practitioner edits are loaded) or write anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import IO, Any

from kgraph import namespaces as ns
from kgraph.errors import KGraphError
from kgraph.indexes import FEE_FIELDS, MODIFIER_KINDS, PROCEDURE_KINDS, Indexes, PTPRow, SourceInfo, load_indexes
from kgraph.records import Severity
from kgraph.validate import Finding

#: NCCI-associated modifiers that may bypass a PTP edit with modifier indicator 1
BYPASS_MODIFIERS = frozenset(
    ["E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD", "LM", "LT",
     "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "24", "25", "27", "57", "58",
     "59", "78", "79", "91", "XE", "XP", "XS", "XU"])
_ASSISTANT = ("80", "81", "82", "AS")
#: modifiers that cannot both be on one line: (a, b) -> (severity, why)
EXCLUSIVE: dict[tuple[str, str], tuple[Severity, str]] = {
    ("26", "TC"): ("error", "26 (professional component) and TC (technical component) together are the global "
                            "service: report it without either, or the components on separate claims"),
    ("52", "53"): ("error", "52 (reduced services) and 53 (discontinued procedure) describe different outcomes"),
    ("50", "LT"): ("error", "50 (bilateral) already covers both sides; LT contradicts it"),
    ("50", "RT"): ("error", "50 (bilateral) already covers both sides; RT contradicts it"),
    ("76", "77"): ("error", "a repeat cannot be by the same (76) and by another (77) physician"),
    ("78", "79"): ("error", "a procedure in the postoperative period is related (78) or unrelated (79), not both"),
    **{(a, b): ("error", f"one assistant-at-surgery modifier per line ({a} or {b})")
       for i, a in enumerate(_ASSISTANT) for b in _ASSISTANT[i + 1:]},
    ("LT", "RT"): ("warning", "LT and RT on one line: report a bilateral procedure with 50 where the fee "
                              "schedule allows it (BILAT SURG 1), otherwise each side on its own line"),
    **{("59", x): ("warning", f"CMS asks for 59 or {x}, not both: {x} is the more specific form of 59")
       for x in ("XE", "XP", "XS", "XU")},
}
#: fee-schedule status -> (severity, meaning)
STATUS: dict[str, tuple[Severity, str]] = {
    "I": ("error", "not valid for Medicare purposes: Medicare uses another code for this service"),
    "N": ("error", "not covered by Medicare"),
    "X": ("error", "excluded from the fee schedule by statute"),
    "E": ("error", "excluded from the fee schedule by regulation"),
    "B": ("warning", "bundled: Medicare always pays it as part of other services, never separately"),
    "P": ("warning", "bundled or excluded: no separate payment"),
}
#: severity of a date outside the period of a loaded release, by source kind
RANGE_SEVERITY: dict[str, Severity] = {"ncci-ptp": "warning", "ncci-mue": "warning", "ncci-addon": "warning",
                                       "icd10cm": "warning", "mpfs": "info"}
KIND_NAMES = {"ncci-ptp": "NCCI PTP", "ncci-mue": "NCCI MUE", "ncci-addon": "NCCI add-on edits",
              "mpfs": "fee schedule", "icd10cm": "ICD-10-CM", "hcpcs": "HCPCS", "modifiers": "modifiers",
              "cpt-modifiers": "CPT modifiers", "nucc": "NUCC"}
#: source kinds whose versions a check result names
USED_KINDS = ("ncci-ptp", "ncci-mue", "ncci-addon", "mpfs", "icd10cm", "hcpcs", "modifiers", "cpt-modifiers",
              "nucc")
CLAIM_FIELDS = ("id", "date", "payer", "taxonomy", "claim_type", "lines")
LINE_FIELDS = ("code", "modifiers", "units", "diagnoses", "date")
_CLAIM_FIELDS = frozenset(CLAIM_FIELDS)
_LINE_FIELDS = frozenset(LINE_FIELDS)
CLAIM_TYPES = ("professional", "institutional")
MEDICARE = "PAYER:medicare"
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class ClaimError(KGraphError, ValueError):
    """A claim that cannot be checked; ``problems`` lists every bad field."""

    def __init__(self, message: str, problems: Iterable[str] = (), *, claim_id: str | None = None,
                 line: int | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.claim_id = claim_id
        self.line = line


@dataclass
class ClaimFinding(Finding):
    """A finding about a claim: the ``Finding`` fields plus the codes, claim lines and evidence."""

    codes: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    explanation: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "rule": self.rule, "subject": self.subject,
                               "codes": self.codes, "lines": self.lines, "message": self.message,
                               "explanation": self.explanation}
        if self.suggestion:
            out["suggestion"] = self.suggestion
        return out

    def __str__(self) -> str:
        where = f"line {', '.join(map(str, self.lines))}: " if self.lines else ""
        return f"{where}{self.severity}: {self.message} [{self.rule}]"


@dataclass
class CheckResult:
    """The answer for one claim (INTERFACE.md shape); ``status`` is ``error`` for a bad claim."""

    id: str | None
    status: str
    data_versions: dict[str, str]
    findings: list[ClaimFinding] = field(default_factory=list)
    error: str | None = None
    #: for a claim read from a JSON Lines batch: its 1-based line in the file
    input_line: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "data_versions": self.data_versions,
                               "findings": [f.to_json() for f in self.findings]}
        if self.error is not None:
            out["error"] = self.error
        if self.input_line is not None:
            out["input_line"] = self.input_line
        return out

    def dumps(self, indent: int | None = None) -> str:
        return json.dumps(self.to_json(), indent=indent)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in ("error", "warning", "info")}

    def rows(self) -> list[dict[str, str | None]]:
        """One row per finding (one for a claim without any), for tables and CSV."""
        head = {"claim": self.id or "", "status": self.status}
        if self.error is not None:
            return [{**head, "severity": "error", "rule": "claim.invalid", "lines": "",
                     "message": self.error, "evidence": ""}]
        if not self.findings:
            return [{**head, "severity": "", "rule": "", "lines": "", "message": "no findings", "evidence": ""}]
        return [{**head, "severity": f.severity, "rule": f.rule, "lines": ",".join(map(str, f.lines)),
                 "message": f.message,
                 "evidence": " ".join(f"{e['source']}:{e['line']}" if e.get("line") else str(e.get("source"))
                                      for e in f.explanation[:3])}
                for f in self.findings]


# --- input ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    n: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    diagnoses: tuple[str, ...]
    dos: date


@lru_cache(maxsize=65536)
def _procedure(raw: str) -> str | None:
    prefix, sep, local = raw.strip().rpartition(":")
    code = local.upper()
    for kind in ("CPT", "HCPCS"):
        if (not sep or prefix.upper() == kind) and ns.is_valid(kind, code):
            return f"{kind}:{code}"
    return None


@lru_cache(maxsize=65536)
def _diagnosis(raw: str) -> str | None:
    prefix, sep, local = raw.strip().rpartition(":")
    code = ns.icd10cm_with_dot(local)
    return f"ICD10CM:{code}" if (not sep or prefix.upper() == "ICD10CM") and ns.is_valid("ICD10CM", code) else None


@lru_cache(maxsize=4096)
def _modifier(raw: str) -> str | None:
    prefix, sep, local = raw.strip().rpartition(":")
    code = local.upper()
    return code if (not sep or prefix.upper() == "MOD") and ns.is_valid("MOD", code) else None


@lru_cache(maxsize=4096)
def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return _parse_date(value) if isinstance(value, str) else None


def _what(raw: str) -> str:
    """What a code that is not a procedure code looks like, for messages."""
    if _diagnosis(raw):
        return "an ICD-10-CM diagnosis code, not a CPT or HCPCS procedure code"
    if _modifier(raw):
        return "a modifier, not a CPT or HCPCS procedure code"
    return "not a CPT or HCPCS code"


@dataclass
class _Claim:
    id: str
    lines: list[_Line]
    payer: str | None
    payer_raw: str | None
    taxonomy: str | None
    claim_type: str
    unknown_fields: list[str]


def _parse(claim: Any, ix: Indexes, default_id: str) -> _Claim:
    if not isinstance(claim, dict):
        raise ClaimError(f"claim {default_id}: not a JSON object but {type(claim).__name__}", claim_id=default_id)
    cid = claim.get("id")
    cid = default_id if cid is None else str(cid)
    problems: list[str] = []
    unknown = [f"'{k}'" for k in claim.keys() - _CLAIM_FIELDS]
    claim_date = claim.get("date")
    dos = _as_date(claim_date) if claim_date is not None else None
    if claim_date is not None and dos is None:
        problems.append(f"date {claim_date!r} is not a date (YYYY-MM-DD)")
        dos = date.min  # reported once, not again on every line without a date of its own
    claim_type = claim.get("claim_type") or "professional"
    if claim_type not in CLAIM_TYPES:
        problems.append(f"claim_type {claim_type!r} is not one of {', '.join(CLAIM_TYPES)}")
    taxonomy = None
    if claim.get("taxonomy"):
        raw = str(claim["taxonomy"]).strip()
        local = raw.removeprefix("NUCC:").upper()
        if ns.is_valid("NUCC", local):
            taxonomy = "NUCC:" + local
        else:
            problems.append(f"taxonomy {raw!r} is not a NUCC taxonomy code (10 characters ending in X)")
    payer_raw = claim.get("payer")
    payer = _payer(str(payer_raw), ix) if payer_raw else None
    raw_lines = claim.get("lines")
    lines: list[_Line] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append("no lines: 'lines' must be a list of at least one line")
        raw_lines = []
    for n, raw_line in enumerate(raw_lines, start=1):
        line = _parse_line(n, raw_line, dos, problems, unknown)
        if line is not None:
            lines.append(line)
    if problems:
        raise ClaimError(f"claim {cid}: " + "; ".join(problems), problems, claim_id=cid)
    return _Claim(cid, lines, payer, str(payer_raw) if payer_raw else None, taxonomy, claim_type, unknown)


def _parse_line(n: int, raw: Any, claim_date: date | None, problems: list[str], unknown: list[str]) -> _Line | None:
    if not isinstance(raw, dict):
        problems.append(f"line {n}: not a JSON object")
        return None
    before = len(problems)
    if raw.keys() - _LINE_FIELDS:
        unknown.extend(f"'{k}' on line {n}" for k in raw if k not in _LINE_FIELDS)
    code_raw = raw.get("code")
    code = _procedure(code_raw) if isinstance(code_raw, str) else None
    if code is None:
        what = _what(code_raw) if isinstance(code_raw, str) else "missing" if code_raw is None else "not a string"
        problems.append(f"line {n}: code {code_raw!r} is {what}")
    mods_raw = raw.get("modifiers") or []
    if isinstance(mods_raw, str):
        mods_raw = [mods_raw]
    mods = []
    for m in mods_raw if isinstance(mods_raw, list) else [mods_raw]:
        mod = _modifier(m) if isinstance(m, str) else None
        if mod is None:
            problems.append(f"line {n}: modifier {m!r} is not a modifier code (two letters or digits)")
        elif mod not in mods:
            mods.append(mod)
    units = raw.get("units", 1)
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        problems.append(f"line {n}: units {units!r} must be a whole number, 1 or more")
    dx_raw = raw.get("diagnoses") or []
    if isinstance(dx_raw, str):
        dx_raw = [dx_raw]
    dx = []
    for d in dx_raw if isinstance(dx_raw, list) else [dx_raw]:
        curie = _diagnosis(d) if isinstance(d, str) else None
        if curie is None:
            problems.append(f"line {n}: diagnosis {d!r} is not an ICD-10-CM code")
        elif curie not in dx:
            dx.append(curie)
    line_date = raw.get("date")
    dos = _as_date(line_date) if line_date is not None else claim_date
    if line_date is not None and dos is None:
        problems.append(f"line {n}: date {line_date!r} is not a date (YYYY-MM-DD)")
    elif dos is None:
        problems.append(f"line {n}: no date of service (give the claim a date, or the line its own)")
    if len(problems) > before or dos is date.min:
        return None
    assert code is not None and dos is not None
    return _Line(n, code, tuple(mods), units, tuple(dx), dos)


def _payer(raw: str, ix: Indexes) -> str | None:
    from kgraph.sources.payers import name_key

    if raw.startswith("PAYER:"):
        return raw if raw in ix.payer_labels else None
    return ix.payers.get(name_key(raw))


def parse_line_spec(spec: str) -> dict[str, Any]:
    """A claim line from the CLI form ``CODE[-MOD...][xUNITS]``.

    >>> parse_line_spec("74360-26x2")
    {'code': '74360', 'modifiers': ['26'], 'units': 2}
    >>> parse_line_spec("43249-59-XS")
    {'code': '43249', 'modifiers': ['59', 'XS'], 'units': 1}
    """
    text = spec.strip()
    units: Any = 1
    head, sep, tail = text.rpartition("x") if "x" in text else (text, "", "")
    if sep:
        text = head
        try:
            units = int(tail)
        except ValueError:
            raise ClaimError(f"--line {spec!r}: units {tail!r} after 'x' must be a whole number") from None
    code, *mods = text.split("-")
    if not code or any(not m for m in mods):
        raise ClaimError(f"--line {spec!r}: expected CODE[-MOD...][xUNITS], e.g. 74360-26x2")
    return {"code": code, "modifiers": mods, "units": units}


# --- the checks ----------------------------------------------------------------------------------------


def _fy(when: date) -> int:
    """ICD-10-CM fiscal year N runs from October 1 of N-1 to September 30 of N."""
    return when.year + 1 if when.month >= 10 else when.year


def _years(mask: int) -> str:
    years = [2000 + i for i in range(mask.bit_length()) if mask >> i & 1]
    if not years:
        return "none"
    if years == list(range(years[0], years[-1] + 1)) and len(years) > 1:
        return f"FY{years[0]}-FY{years[-1]}"
    return ", ".join(f"FY{y}" for y in years)


def _quarter_end(start: date) -> date:
    month = start.month + 3
    return date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1) - timedelta(days=1)


def _period(source: SourceInfo) -> tuple[date, date] | None:
    """The dates of service a release answers for: its quarter (NCCI, fee schedule); an official
    PTP file, which dates every edit, also answers for earlier dates."""
    if source.effective is None:
        return None
    start = date.min if source.kind == "ncci-ptp" and source.layout == "official" else source.effective
    return start, _quarter_end(source.effective)


def _row_ref(source: SourceInfo, line: int) -> str:
    return f"ROW:{source.id}/L{line}"


class _Shared:
    """What every check of one build reuses: the indexes and texts worked out once."""

    def __init__(self, ix: Indexes) -> None:
        self.ix = ix
        self.by_kind: dict[str, list[SourceInfo]] = {}
        for s in ix.sources:
            self.by_kind.setdefault(s.kind, []).append(s)
        self.icd_source: SourceInfo | None = next(iter(self.by_kind.get("icd10cm", [])), None)
        self.versions = {k.replace("-", "_"): v for k, v in ix.data_versions.items() if k in USED_KINDS}
        self.fys = ix.icd_fys
        self.modifier_sets = ", ".join(f"{KIND_NAMES[k]} {ix.data_versions[k]}"
                                       for k in ("hcpcs", "modifiers", "cpt-modifiers") if k in ix.data_versions)
        self.procedure_sets = ", ".join(f"{KIND_NAMES[k]} {ix.data_versions[k]}"
                                        for k in ("mpfs", "ncci-ptp", "ncci-mue", "ncci-addon", "hcpcs")
                                        if k in ix.data_versions)
        self.dx_cache: dict[tuple[str, int], tuple[str, Severity, str, list[str], dict[str, Any]] | None] = {}
        self.periods = {kind: [(s, _period(s)) for s in sources] for kind, sources in self.by_kind.items()}
        self.range_cache: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        self.searched: dict[tuple[str, ...], list[dict[str, Any]]] = {}


class _Checker:
    """The checks of one claim; each appends its findings to ``out``."""

    def __init__(self, shared: _Shared) -> None:
        self.ix = shared.ix
        self.by_kind = shared.by_kind
        self.icd_source = shared.icd_source
        self.versions = shared.versions
        self.fys = shared.fys
        self.modifier_sets = shared.modifier_sets
        self.procedure_sets = shared.procedure_sets
        self._dx_cache = shared.dx_cache
        self.periods = shared.periods
        self._range_cache = shared.range_cache
        self._searched = shared.searched
        self.out: list[ClaimFinding] = []

    def run(self, claim: _Claim) -> CheckResult:
        dates = sorted({ln.dos for ln in claim.lines})
        self._claim_level(claim, dates)
        by_date: dict[date, list[_Line]] = {}
        for ln in claim.lines:
            by_date.setdefault(ln.dos, []).append(ln)
        for dos, lines in by_date.items():
            self._ptp(dos, lines)
            self._mue(dos, lines)
            self._addon(dos, lines)
        for ln in claim.lines:
            self._code(ln)
            self._modifiers(ln)
            self._status(ln)
            self._diagnoses(ln)
        self._taxonomy(claim)
        self._payer_gaps(claim)
        # errors first, then by claim line; the order of the checks otherwise
        self.out.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.lines[0] if f.lines else 0))
        status = "fail" if any(f.severity == "error" for f in self.out) else \
            "warn" if any(f.severity == "warning" for f in self.out) else "pass"
        versions = dict(self.versions)
        if self.fys:
            versions["icd10cm"] = ", ".join(dict.fromkeys(f"FY{self._fy_used(d)}" for d in dates))
        return CheckResult(claim.id, status, versions, self.out)

    def add(self, severity: Severity, rule: str, subject: str, message: str, *, codes: Iterable[str] = (),
            lines: Iterable[int] = (), explanation: Iterable[dict[str, Any]] = (),
            suggestion: Iterable[str] = ()) -> None:
        self.out.append(ClaimFinding(severity, rule, subject, message, suggestion=list(suggestion),
                                     codes=list(codes), lines=list(lines), explanation=list(explanation)))

    def searched(self, *kinds: str) -> list[dict[str, Any]]:
        """Evidence for a finding about something absent: the sources that were searched."""
        found = self._searched.get(kinds)
        if found is None:
            found = self._searched[kinds] = [
                self.edge("kg:Source", f"SOURCE:{s.id}", None, s.file, None, sourceKind=s.kind, release=s.release)
                for kind in kinds for s in self.by_kind.get(kind, [])]
        return [{**e, "qualifiers": dict(e["qualifiers"])} for e in found]  # copies: results are the caller's

    @staticmethod
    def edge(relation: str, subject: str | None, obj: str | None, source: str | None, line: int | None,
             **qualifiers: Any) -> dict[str, Any]:
        return {"relation": relation, "subject": subject, "object": obj, "source": source, "line": line,
                "qualifiers": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in qualifiers.items()
                               if v not in (None, "")}}

    # --- claim level ------------------------------------------------------------------------------

    def _claim_level(self, claim: _Claim, dates: list[date]) -> None:
        if claim.unknown_fields:
            self.add("info", "claim.unknown-field", f"claim:{claim.id}",
                     f"not read: {', '.join(claim.unknown_fields)} (a claim has {', '.join(CLAIM_FIELDS)}; a line "
                     f"has {', '.join(LINE_FIELDS)})")
        if claim.claim_type == "institutional":
            self.add("warning", "claim.institutional", f"claim:{claim.id}",
                     "an institutional (facility) claim: only the NCCI practitioner edits are loaded, so the "
                     "hospital outpatient edits that apply to it were not checked",
                     explanation=self.searched("ncci-ptp", "ncci-mue"))
        if claim.payer_raw and claim.payer is None:
            self.add("warning", "payer.unknown", f"claim:{claim.id}",
                     f"payer {claim.payer_raw!r} is not in the payer registry; Medicare NCCI edits and the "
                     "Medicare fee schedule were applied", explanation=self.searched("payers"))
        elif claim.payer and claim.payer != MEDICARE and self.ix.payer_parent.get(claim.payer) != MEDICARE:
            name = self.ix.payer_labels.get(claim.payer, claim.payer)
            self.add("info", "payer.not-medicare", claim.payer,
                     f"{name} is not Medicare: Medicare NCCI edits and fee-schedule indicators were applied; "
                     f"{name}'s own edits and policies may differ", codes=[claim.payer],
                     explanation=self.searched("payers", "ncci-ptp"))
        self._ranges(claim, dates)

    def _ranges(self, claim: _Claim, dates: list[date]) -> None:
        codes = {ln.code for ln in claim.lines}
        ix = self.ix
        used = (len(codes) > 1, any(c in ix.mue for c in codes), any(c in ix.addon for c in codes),
                any(c in ix.fee for c in codes), any(ln.diagnoses for ln in claim.lines))
        key = (used, tuple(dates))
        found = self._range_cache.get(key)
        if found is None:
            found = self._range_findings(used, dates)
            if len(self._range_cache) < 10_000:
                self._range_cache[key] = found
        for severity, rule, subject, message, sources in found:
            self.add(severity, rule, subject, message, explanation=[
                self.edge("kg:Source", f"SOURCE:{s.id}", None, s.file, None, release=s.release,
                          effective=s.effective, layout=s.layout) for s in sources])

    def _range_findings(self, used: tuple[bool, ...], dates: list[date]) -> list[tuple[Any, ...]]:
        """(severity, rule, subject, message, sources) for the dates outside a consulted release."""
        out: list[tuple[Any, ...]] = []
        for kind, consulted in zip(("ncci-ptp", "ncci-mue", "ncci-addon", "mpfs"), used, strict=False):
            periods = self.periods.get(kind)
            if not consulted or not periods:
                continue
            outside = [d for d in dates if not any(p and p[0] <= d <= p[1] for _, p in periods)]
            if not outside:
                continue
            sources = [s for s, _ in periods]
            shown = "; ".join(f"{s.release} ({s.file})" for s in sources)
            spans = ", ".join(f"{p[0].isoformat() if p[0] != date.min else 'any earlier date'} to {p[1].isoformat()}"
                              for _, p in periods if p)
            extra = ""
            if kind == "ncci-ptp" and any(s.layout == "flat" and s.effective and d < s.effective
                                          for s in sources for d in outside):
                extra = "; the flat file has no effective dates, so it cannot say which edits were in effect " \
                        "before its date: a pair without an edit here may still have had one then"
            out.append((RANGE_SEVERITY.get(kind, "warning"), "data.out-of-range", kind,
                        f"date of service {', '.join(d.isoformat() for d in outside)} is outside the "
                        f"{KIND_NAMES[kind]} data loaded ({spans}); the release used: {shown}{extra}", sources))
        if used[4] and self.fys:
            for d in dates:
                if _fy(d) not in self.fys:
                    out.append((RANGE_SEVERITY["icd10cm"], "data.out-of-range", "icd10cm",
                                f"date of service {d.isoformat()} is in FY{_fy(d)}, outside the ICD-10-CM fiscal "
                                f"years loaded (FY{self.fys[0]}-FY{self.fys[-1]}); diagnoses were checked against "
                                f"FY{self._fy_used(d)}", [self.icd_source] if self.icd_source else []))
        return out

    def _fy_used(self, when: date) -> int:
        fy = _fy(when)
        if not self.fys or fy in self.fys:
            return fy
        return self.fys[0] if fy < self.fys[0] else self.fys[-1]

    # --- NCCI -------------------------------------------------------------------------------------

    def _ptp(self, dos: date, lines: list[_Line]) -> None:
        ids = self.ix.code_id
        has = self.ix.has_ptp
        for i, a in enumerate(lines):
            ia = ids.get(a.code)
            if ia is None:
                continue
            for b in lines[i + 1:]:
                ib = ids.get(b.code)
                if ib is None or ib == ia:
                    continue
                if has(ia, ib):
                    self._pair(dos, a, b, self.ix.ptp(a.code, b.code))
                if has(ib, ia):
                    self._pair(dos, b, a, self.ix.ptp(b.code, a.code))

    def _pair(self, dos: date, one: _Line, two: _Line, rows: list[PTPRow]) -> None:
        """Lines ``one`` (column 1) and ``two`` (column 2) and the PTP rows of that pair."""
        applied, unknown = [], []
        for row in rows:
            if row.indicator == "9":
                continue  # CMS gives 9 only to edits deleted back to their first day: never applied
            state = _in_effect(row, dos)
            if state is True:
                applied.append(row)
            elif state is None:
                unknown.append(row)
        c1, c2, lines = one.code, two.code, sorted((one.n, two.n))
        if applied:
            applied.sort(key=lambda r: (r.indicator != "0", r.indicator != "1"))
            row = applied[0]
            explanation = [self._ptp_edge(r) for r in applied]
            says = (f"NCCI PTP edit {c1} / {c2} ({row.source.release}, {row.source.file}:{row.line}), modifier "
                    f"indicator {row.indicator}; rationale: {row.rationale or 'none given'}")
            if row.indicator == "0":
                self.add("error", "ncci.ptp", c2, f"{c2} (line {two.n}) is denied when billed with {c1} (line "
                         f"{one.n}) on {dos.isoformat()}: {says}; no modifier bypasses an edit with indicator 0",
                         codes=[c1, c2], lines=lines, explanation=explanation)
                return
            bypass = sorted((set(one.modifiers) | set(two.modifiers)) & BYPASS_MODIFIERS)
            if bypass:
                self.add("info", "ncci.ptp-bypassed", c2,
                         f"documentation required: modifier {', '.join(bypass)} bypasses the edit that would "
                         f"deny {c2} (line {two.n}) billed with {c1} (line {one.n}): {says}; the record must "
                         "show a distinct service (other site, session or encounter)",
                         codes=[c1, c2], lines=lines, explanation=explanation)
            else:
                self.add("error", "ncci.ptp", c2,
                         f"{c2} (line {two.n}) is denied when billed with {c1} (line {one.n}) on "
                         f"{dos.isoformat()}: {says}; an NCCI-associated modifier (59, XE, XP, XS, XU, an "
                         "anatomic modifier, ...) bypasses it only where documentation supports it",
                         codes=[c1, c2], lines=lines, explanation=explanation,
                         suggestion=["MOD:59", "MOD:XS", "MOD:XU"])
            return
        if unknown:
            row = unknown[0]
            self.add("warning", "ncci.ptp-unknown", c2,
                     f"unknown for {dos.isoformat()}: NCCI PTP {row.source.release} ({row.source.file}:{row.line}) "
                     f"lists an edit {c1} / {c2} (column 2 denied, modifier indicator {row.indicator}), but the "
                     f"file has no effective dates and {dos.isoformat()} is before its date "
                     f"({row.source.effective}), so whether it was in effect then is unknown",
                     codes=[c1, c2], lines=lines, explanation=[self._ptp_edge(r) for r in unknown])

    def _ptp_edge(self, row: PTPRow) -> dict[str, Any]:
        return self.edge("kg:conflictsWith", row.column1, row.column2, row.source.file, row.line,
                         modifierIndicator=row.indicator, rationale=row.rationale, effectiveDate=row.effective,
                         deletionDate=row.deletion, release=row.source.release, row=_row_ref(row.source, row.line))

    def _pick(self, kind: str, rows: list[Any], dos: date) -> list[Any]:
        """The rows of the release in force on ``dos`` (else the nearest release), for a kind whose
        rows are tuples ending in (source index, line)."""
        if len(rows) < 2:
            return rows
        sources = {self.ix.sources[r[-2]] for r in rows}
        if len(sources) == 1:
            return rows
        before = [s for s in sources if s.effective and s.effective <= dos]
        chosen = max(before, key=lambda s: s.effective) if before else min(
            sources, key=lambda s: s.effective or date.max)
        return [r for r in rows if self.ix.sources[r[-2]] is chosen]

    def _mue(self, dos: date, lines: list[_Line]) -> None:
        by_code: dict[str, list[_Line]] = {}
        for ln in lines:
            if ln.code in self.ix.mue:
                by_code.setdefault(ln.code, []).append(ln)
        for code, group in by_code.items():
            units, mai, rationale, src_i, row_line = self._pick("ncci-mue", self.ix.mue[code], dos)[0]
            if units > 0 and (max(ln.units for ln in group) if mai == "1" else sum(ln.units for ln in group)) <= units:
                continue  # within the limit (the common case: no evidence to build)
            src = self.ix.sources[src_i]
            evidence = [self.edge("kg:MUELimit", code, None, src.file, row_line, units=units,
                                  adjudicationIndicator=mai, rationale=rationale, release=src.release,
                                  row=_row_ref(src, row_line))]
            where = f"MUE {units}, adjudication indicator {mai} ({src.release}, {src.file}:{row_line}; {rationale})"
            if units == 0:
                self.add("error", "mue.never-payable", code, f"{code} has an MUE of 0: never payable for a "
                         f"practitioner on one date of service ({where})", codes=[code],
                         lines=[ln.n for ln in group], explanation=evidence)
                continue
            if mai == "1":
                for ln in group:
                    if ln.units > units:
                        self.add("error", "mue.units", code, f"line {ln.n}: {ln.units} units of {code} exceed the "
                                 f"limit of {units} per claim line ({where})", codes=[code], lines=[ln.n],
                                 explanation=evidence)
                continue
            total = sum(ln.units for ln in group)
            if total > units:
                kind = "policy: not payable above it" if mai == "2" else \
                    "clinical: payable above it only on appeal with documentation"
                parts = " + ".join(str(ln.units) for ln in group)
                self.add("error", "mue.units", code, f"{total} units of {code} on {dos.isoformat()} "
                         f"({parts} on line {', '.join(str(ln.n) for ln in group)}) exceed the limit of {units} "
                         f"per date of service (indicator {mai}, {kind}; {where})", codes=[code],
                         lines=[ln.n for ln in group], explanation=evidence)

    def _addon(self, dos: date, lines: list[_Line]) -> None:
        codes = {ln.code for ln in lines}
        ordinal = dos.toordinal()
        for ln in lines:
            rows = self.ix.addon.get(ln.code)
            if not rows:
                continue
            rows = [r for r in rows if (not r[2] or r[2] <= ordinal) and (not r[3] or ordinal <= r[3])]
            if not rows:
                continue
            primaries = {r[0] for r in rows if r[0]}
            if primaries & (codes - {ln.code}):
                continue
            edit_type = min(r[1] for r in rows)
            src = self.ix.sources[rows[0][4]]
            severity: Severity = "error" if edit_type == "1" else "warning" if edit_type == "3" else "info"
            what = {"1": "only the primary codes CMS lists are eligible",
                    "3": "CMS lists some eligible primary codes; others may be",
                    "2": "CMS lists no primary codes; the contractor decides"}.get(edit_type, f"type {edit_type}")
            listed = sorted(primaries)
            shown = ", ".join(listed[:6]) + (f" and {len(listed) - 6} more" if len(listed) > 6 else "")
            tail = f"; none of {shown} is on the claim for {dos.isoformat()}" if listed else ""
            self.add(severity, "ncci.addon-without-primary", ln.code,
                     f"{ln.code} (line {ln.n}) is an add-on code, edit type {edit_type}: {what}{tail} "
                     f"(add-on edits {src.release})", codes=[ln.code], lines=[ln.n], suggestion=listed[:5],
                     explanation=[self.edge("kg:addOnTo", ln.code, r[0], self.ix.sources[r[4]].file, r[5],
                                            editType=r[1], release=self.ix.sources[r[4]].release,
                                            row=_row_ref(self.ix.sources[r[4]], r[5])) for r in rows[:10]])

    # --- per line ---------------------------------------------------------------------------------

    def _code(self, ln: _Line) -> None:
        if ln.code not in self.ix.procedures and self.procedure_sets:
            self.add("warning", "code.unknown", ln.code, f"{ln.code} (line {ln.n}) is in none of the loaded code "
                     f"sets ({self.procedure_sets}): no edit, limit or indicator could be checked for it",
                     codes=[ln.code], lines=[ln.n], explanation=self.searched(*PROCEDURE_KINDS))

    def _fee_edge(self, code: str, modifier: str) -> dict[str, Any]:
        row = self.ix.fee[code][modifier]
        src = self.ix.sources[row[-2]]
        quals = dict(zip(FEE_FIELDS, row[: len(FEE_FIELDS)], strict=True))
        return self.edge("kg:FeeScheduleRow", code, f"MOD:{modifier}" if modifier else None, src.file, row[-1],
                         **quals, release=src.release, row=_row_ref(src, row[-1]))

    def _modifiers(self, ln: _Line) -> None:
        if not ln.modifiers:
            return
        mods = ln.modifiers
        if self.ix.modifiers:
            for m in mods:
                if f"MOD:{m}" not in self.ix.modifiers:
                    self.add("error", "modifier.unknown", f"MOD:{m}", f"modifier {m} (line {ln.n}) is not in the "
                             f"modifier code sets ({self.modifier_sets})", codes=[f"MOD:{m}", ln.code], lines=[ln.n],
                             explanation=self.searched(*MODIFIER_KINDS))
        verdicts = self.ix.verdicts(ln.code)
        if verdicts:
            release = self.ix.data_versions.get("mpfs", "")
            for m in mods:
                v = verdicts.get(m)
                if v is not None and v.severity is not None:
                    self.add(v.severity, "mpfs.modifier-not-allowed", f"MOD:{m}",
                             f"{m} on {ln.code} (line {ln.n}): {v.reason} (fee schedule {release})",
                             codes=[f"MOD:{m}", ln.code], lines=[ln.n], explanation=[self._fee_edge(ln.code, "")])
        for i, a in enumerate(mods):
            for b in mods[i + 1:]:
                rule = EXCLUSIVE.get((a, b)) or EXCLUSIVE.get((b, a))
                if rule:
                    self.add(rule[0], "modifier.exclusive", f"MOD:{a}", f"line {ln.n}: {rule[1]}",
                             codes=[f"MOD:{a}", f"MOD:{b}", ln.code], lines=[ln.n],
                             explanation=[self.edge("kg:conflictsWith", f"MOD:{a}", f"MOD:{b}",
                                                    "kgraph.check.EXCLUSIVE", None, reason=rule[1])])

    def _status(self, ln: _Line) -> None:
        rows = self.ix.fee.get(ln.code)
        if not rows:
            return
        which = next((m for m in ("26", "TC", "53") if m in ln.modifiers and m in rows), "")
        row = rows.get(which)
        if row is None:
            return
        status = row[0]
        if status in STATUS:
            severity, meaning = STATUS[status]
            src = self.ix.sources[row[-2]]
            label = f"{ln.code}-{which}" if which else ln.code
            self.add(severity, "mpfs.status", ln.code, f"{label} (line {ln.n}) has fee-schedule status {status}: "
                     f"{meaning} ({src.release}, {src.file}:{row[-1]})", codes=[ln.code], lines=[ln.n],
                     explanation=[self._fee_edge(ln.code, which)])

    def _diagnoses(self, ln: _Line) -> None:
        if not ln.diagnoses:
            self.add("warning", "dx.missing", ln.code, f"line {ln.n} ({ln.code}) has no diagnosis; every claim line "
                     "points to at least one", codes=[ln.code], lines=[ln.n])
            return
        if self.fys:
            fy = self._fy_used(ln.dos)
            for dx in ln.diagnoses:
                self._dx_valid(ln, dx, fy)
        self._dx_support(ln)

    def _dx_valid(self, ln: _Line, dx: str, fy: int) -> None:
        key = (dx, fy)
        if key not in self._dx_cache:
            self._dx_cache[key] = self._dx_verdict(dx, fy)
        verdict = self._dx_cache[key]
        if verdict is None:
            return
        rule, severity, message, suggestion, evidence = verdict
        self.add(severity, rule, dx, f"line {ln.n}: {message}", codes=[dx, ln.code], lines=[ln.n],
                 explanation=[{**evidence, "qualifiers": dict(evidence["qualifiers"])}], suggestion=suggestion)

    def _dx_evidence(self, dx: str, fy: int) -> dict[str, Any]:
        present, billable = self.ix.icd_years.get(dx, (0, 0))
        src = self.icd_source
        return self.edge("kg:billableInFY" if present >> (fy - 2000) & 1 else "kg:inFY", dx, None,
                         src.file if src else None, None, fiscalYear=f"FY{fy}", inFY=_years(present),
                         billableInFY=_years(billable), headerSinceFY=self.ix.icd_header_since.get(dx),
                         release=src.release if src else None)

    def _dx_verdict(self, dx: str, fy: int) -> tuple[str, Severity, str, list[str], dict[str, Any]] | None:
        """(rule, severity, message, suggestion, evidence) for a diagnosis in a fiscal year; None if billable."""
        found = self._dx_problem(dx, fy)
        return None if found is None else (*found, self._dx_evidence(dx, fy))

    def _dx_problem(self, dx: str, fy: int) -> tuple[str, Severity, str, list[str]] | None:
        present, billable = self.ix.icd_years.get(dx, (0, 0))
        bit = 1 << (fy - 2000)
        local = dx.partition(":")[2]
        if present & bit:
            if billable & bit:
                return None
            since = self.ix.icd_header_since.get(dx)
            kids = self._billable_below(dx, fy)
            when = f", since FY{since}" if since else ""
            return ("icd10cm.not-billable", "error", f"{local} is a header, not billable in FY{fy}{when}; billable "
                    f"codes below it: {', '.join(k.partition(':')[2] for k in kids[:8]) or 'none'}", kids[:8])
        if present:
            return ("icd10cm.not-in-fy", "error", f"{local} is not an ICD-10-CM code in FY{fy} (it is in "
                    f"{_years(present)})", self._billable_below(self._nearest(dx, fy), fy)[:5])
        near = self._nearest(dx, fy)
        return ("icd10cm.unknown", "error", f"{local} is not an ICD-10-CM code in any loaded fiscal year "
                f"({_years(sum(1 << (y - 2000) for y in self.fys))})", self._billable_below(near, fy)[:5])

    def _nearest(self, dx: str, fy: int) -> str:
        """The longest existing code of ``fy`` that ``dx`` starts with (K21.09 -> K21.0)."""
        bit = 1 << (fy - 2000)
        code = dx.partition(":")[2].replace(".", "")
        while len(code) > 3:
            code = code[:-1]
            curie = "ICD10CM:" + ns.icd10cm_with_dot(code)
            if self.ix.icd_years.get(curie, (0, 0))[0] & bit:
                return curie
        curie = "ICD10CM:" + code
        return curie if self.ix.icd_years.get(curie, (0, 0))[0] & bit else ""

    def _billable_below(self, dx: str, fy: int) -> list[str]:
        if not dx:
            return []
        bit = 1 << (fy - 2000)
        out: list[str] = []
        todo = list(self.ix.icd_children(dx))
        while todo and len(out) < 20:
            code = todo.pop(0)
            present, billable = self.ix.icd_years.get(code, (0, 0))
            if billable & bit:
                out.append(code)
            elif present & bit:
                todo.extend(self.ix.icd_children(code))
        return out

    def _dx_support(self, ln: _Line) -> None:
        evidence = self.ix.supports.get(ln.code)
        if not evidence:
            self.add("warning", "dx.no-evidence", ln.code, f"line {ln.n}: the graph holds no diagnosis that supports "
                     f"{ln.code} (no briefing lists any), so {', '.join(d.partition(':')[2] for d in ln.diagnoses)} "
                     "could not be confirmed", codes=[ln.code, *ln.diagnoses], lines=[ln.n],
                     explanation=self.searched("briefing"))
            return
        supporting = {e[0] for e in evidence}
        for dx in ln.diagnoses:
            code = dx
            while code:
                if code in supporting:
                    return
                code = self.ix.icd_parent.get(code, "")
        listed = sorted(supporting)
        stated = ", ".join(d.partition(":")[2] for d in ln.diagnoses)
        self.add("warning", "dx.unsupported", ln.code,
                 f"line {ln.n}: the graph holds no evidence that {stated} (or a code above it) supports {ln.code}; "
                 "it lists "
                 f"{', '.join(c.partition(':')[2] for c in listed[:10])}", codes=[ln.code, *ln.diagnoses],
                 lines=[ln.n], suggestion=listed[:10],
                 explanation=[self.edge("kg:supports", e[0], ln.code, e[1], e[2], **e[3]) for e in evidence[:10]])

    # --- claim-wide per code -------------------------------------------------------------------------

    def _taxonomy(self, claim: _Claim) -> None:
        taxonomy = claim.taxonomy
        if taxonomy is None:
            return
        if self.ix.nucc and taxonomy not in self.ix.nucc:
            self.add("warning", "taxonomy.unknown", taxonomy, f"taxonomy {taxonomy.partition(':')[2]} is not in the "
                     f"NUCC code set ({self.ix.data_versions.get('nucc', '')})", codes=[taxonomy],
                     explanation=self.searched("nucc"))
        chain, code = set(), taxonomy
        while code and code not in chain:
            chain.add(code)
            code = self.ix.nucc_parent.get(code, "")
        done: set[str] = set()
        for ln in claim.lines:
            listed = self.ix.specialties.get(ln.code)
            if not listed or ln.code in done:
                continue
            done.add(ln.code)
            if chain & {e[0] for e in listed}:
                continue
            names = ", ".join(f"{e[0].partition(':')[2]} ({e[3].get('statedSpecialty', '')})" for e in listed)
            self.add("info", "taxonomy.not-listed", ln.code,
                     f"the rendering provider's taxonomy {taxonomy.partition(':')[2]} is not among the specialties "
                     f"the graph lists for {ln.code}: {names}", codes=[ln.code, taxonomy],
                     lines=[x.n for x in claim.lines if x.code == ln.code],
                     explanation=[self.edge("kg:reportedBy", ln.code, e[0], e[1], e[2], **e[3]) for e in listed])

    def _payer_gaps(self, claim: _Claim) -> None:
        payer = claim.payer or (None if claim.payer_raw else MEDICARE)
        if payer is None:
            return
        payers = [payer] + ([self.ix.payer_parent[payer]] if payer in self.ix.payer_parent else [])
        done: set[str] = set()
        for ln in claim.lines:
            if ln.code in done:
                continue
            done.add(ln.code)
            for p in payers:
                gaps = self.ix.payer_gaps.get((ln.code, p))
                if not gaps:
                    continue
                name = self.ix.payer_labels.get(p, p)
                self.add("info", "payer.gap", ln.code,
                         f"policy not available: the graph holds no coverage position of {name} for {ln.code} "
                         f"({gaps[0][1]})", codes=[ln.code, p], lines=[x.n for x in claim.lines if x.code == ln.code],
                         explanation=[self.edge("kg:hasGap", ln.code, p, g[2], g[3], field=g[0], gapText=g[1])
                                      for g in gaps])


def _in_effect(row: PTPRow, dos: date) -> bool | None:
    """True / False, or None when a flat file (no effective dates) cannot say for a date before it."""
    if row.indicator == "9" and row.effective is not None and row.effective == row.deletion:
        return False
    if row.deletion is not None and dos > row.deletion:
        return False
    if row.effective is not None:
        return row.effective <= dos
    if row.source.effective is not None and dos < row.source.effective:
        return None
    return True


# --- public API ------------------------------------------------------------------------------------------


def _shared(store: Any) -> _Shared:
    ix = load_indexes(store)
    found = _SHARED.get(id(ix))
    if found is None or found.ix is not ix:
        if len(_SHARED) >= 4:
            _SHARED.pop(next(iter(_SHARED)))
        found = _SHARED[id(ix)] = _Shared(ix)
    return found


_SHARED: dict[int, _Shared] = {}


class BatchClaim(dict[str, Any]):
    """A claim read from a JSON Lines file, knowing its 1-based line."""

    line: int = 0


def check(store: Any, claim: dict[str, Any]) -> CheckResult:
    """Check one claim; raises ``ClaimError`` when it cannot be checked.

    >>> import kgraph
    >>> result = check(kgraph.open(DOCTEST_STORE), {"id": "c1", "date": "2024-08-01", "payer": "medicare",
    ...     "lines": [{"code": "74360", "modifiers": ["26"], "diagnoses": ["K22.2"]},
    ...               {"code": "43214", "diagnoses": ["K22.2"]}]})
    >>> result.status, [f.rule for f in result.findings if f.severity == "error"]
    ('fail', ['ncci.ptp'])
    >>> ptp = next(f for f in result.findings if f.rule == "ncci.ptp")
    >>> ptp.codes, ptp.explanation[0]["source"], ptp.explanation[0]["line"]
    (['CPT:43214', 'CPT:74360'], 'data/ncci/ptp_practitioner_2024-07-01_flat.csv', 1261)
    """
    shared = _shared(store)
    return _Checker(shared).run(_parse(claim, shared.ix, "claim"))


def check_many(store: Any, claims: Iterable[dict[str, Any] | ClaimError]) -> Iterator[CheckResult]:
    """Check claims one by one, streaming: a result per claim, in order, as each is checked.

    A claim that cannot be checked (or a ``ClaimError`` item, as ``read_claims`` yields for a
    line that is not JSON) gives a result with status ``error`` and the message; the batch goes on.
    """
    shared = _shared(store)
    versions = shared.versions
    for n, claim in enumerate(claims, start=1):
        line = getattr(claim, "line", None)
        if isinstance(claim, ClaimError):
            yield CheckResult(claim.claim_id, "error", dict(versions), error=str(claim), input_line=line)
            continue
        try:
            result = _Checker(shared).run(_parse(claim, shared.ix, f"line {line}" if line else f"#{n}"))
        except ClaimError as exc:
            result = CheckResult(exc.claim_id, "error", dict(versions), error=str(exc))
        result.input_line = line
        yield result


def read_claims(stream: IO[str], *, display: str = "<claims>") -> Iterator[dict[str, Any] | ClaimError]:
    """Claims from JSON Lines, one object per line (blank lines skipped), streamed; a line that is
    not a JSON object yields a ``ClaimError`` naming ``display`` and its 1-based line."""
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            claim = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield ClaimError(f"{display}:{number}: not valid JSON: {exc.msg} (column {exc.colno})", line=number)
            continue
        if not isinstance(claim, dict):
            yield ClaimError(f"{display}:{number}: a claim must be a JSON object, not {type(claim).__name__}",
                             line=number)
            continue
        found = BatchClaim(claim)
        found.line = number
        yield found
