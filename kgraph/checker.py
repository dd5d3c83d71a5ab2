"""The checks of one claim, each a call into ``kgraph.rules`` over the rows of ``kgraph.indexes``.

Input: ``Indexes`` (wrapped once per build in ``Shared``) and a parsed claim (``kgraph.check``'s
``Claim`` of ``Line`` rows). Output: a ``CheckResult``. What each finding means, and its severity,
is decided in ``kgraph.rules``: this module picks the rows in force (``rules.releases``), asks
the rule and words the finding with the evidence behind it (source file, line, qualifiers).
Raises nothing for a parsed claim. Does not parse claims or read the store.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date
from operator import attrgetter
from typing import Any, NamedTuple

from kgraph.checker_lines import _MODIFIER_SETS, _PROCEDURE_SETS, MEDICARE, LineChecks, _row_ref, edge
from kgraph.indexes import Indexes, SourceInfo
from kgraph.records import Severity
from kgraph.rules import fee, icd, ptp, releases, tables, units
from kgraph.rules.rows import FeeRow, PTPRow

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_source_of = attrgetter("source")


def _order(finding: Any) -> tuple[int, int]:
    """Errors first, then warnings and info; by claim line within each."""
    return _SEVERITY_ORDER[finding.severity], finding.lines[0] if finding.lines else 0


class CodeInfo(NamedTuple):
    """What the indexes hold for one procedure code, looked up once per build."""

    known: bool
    ptp_id: int | None
    mue: list[Any] | None
    addon: list[Any] | None
    fee: dict[str, list[FeeRow]] | None
    supports: list[Any] | None
    specialties: list[Any] | None
    #: (HCPCS termination date, source index) of each loaded HCPCS file that ends the code
    terminations: tuple[tuple[date, int], ...] = ()


#: the memos of ``Shared``: what the rules answered for rows, codes, pairs and dates of one build
_MEMOS = ("dx", "selections", "ranges", "searched", "verdicts", "fys_by_date", "midyears_by_date",
          "versions_by_dates", "pairs", "edges", "wordings", "codes")


class Shared:
    """What every check of one build reuses: the indexes, the releases by family, and caches."""

    def __init__(self, ix: Indexes, *, memo: bool = True) -> None:
        self.ix = ix
        #: False: every claim is checked from nothing kept (each memo emptied before it), the
        #: reference the memoised batch path is compared with (tests/test_check_fastpath.py)
        self.memo = memo
        self.by_kind: dict[str, list[SourceInfo]] = {}
        for s in ix.sources:
            self.by_kind.setdefault(s.kind, []).append(s)
        self.by_family: dict[str, list[SourceInfo]] = {}
        for s in ix.sources:
            self.by_family.setdefault(s.family, []).append(s)
        self.icd_source: SourceInfo | None = next(iter(self.by_kind.get("icd10cm", [])), None)
        wanted = releases.version_kinds()
        self.versions = {k.replace("-", "_"): v for k, v in ix.data_versions.items() if k in wanted}
        self.fys = ix.icd_fys
        self.modifier_lists = [s for k in _MODIFIER_SETS for s in self.by_kind.get(k, [])]
        self.modifier_sets = ", ".join(f"{releases.name(k)} {ix.data_versions[k]}" for k in _MODIFIER_SETS
                                       if k in ix.data_versions)
        self.procedure_sets = ", ".join(f"{releases.name(k)} {ix.data_versions[k]}" for k in _PROCEDURE_SETS
                                        if k in ix.data_versions)
        self.dx: dict[tuple[str, int], Any] = {}
        self.selections: dict[tuple[str, date], releases.Selection] = {}
        self.ranges: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        self.searched: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self.verdicts: dict[tuple[str, str], fee.ModifierVerdicts] = {}
        # per date / pair / row memos: each holds what the rules answered for data of this build
        self.fys_by_date: dict[date, icd.FYChoice] = {}
        self.midyears_by_date: dict[date, icd.MidYear | None] = {}
        self.versions_by_dates: dict[tuple[date, ...], dict[str, str]] = {}
        #: position of a pair's first row in ``ptp_keys`` -> its rows
        self.pairs: dict[int, list[PTPRow]] = {}
        self.edges: dict[tuple[Any, ...], dict[str, Any]] = {}
        #: the words (and evidence) of a finding about one CMS row, by (kind, source, line): a PTP edit's
        #: description, an MUE row's, a fee-schedule status's; made once per row a batch meets
        self.wordings: dict[tuple[Any, ...], Any] = {}
        self.single = {family: len(found) < 2 for family, found in self.by_family.items()}
        self.codes: dict[str, CodeInfo] = {}

    def forget(self) -> None:
        """Empty every memo (each holds what the rules answered for rows of this build)."""
        for name in _MEMOS:
            getattr(self, name).clear()

    def info(self, code: str) -> CodeInfo:
        found = self.codes.get(code)
        if found is None:
            ix = self.ix
            if len(self.codes) > 200_000:
                self.codes.clear()
            found = self.codes[code] = CodeInfo(code in ix.procedures, ix.code_id.get(code), ix.mue.get(code),
                                                ix.addon.get(code), ix.fee.get(code), ix.supports.get(code),
                                                ix.specialties.get(code), ix.terminations.get(code, ()))
        return found

    def fy_choice(self, day: date) -> icd.FYChoice:
        found = self.fys_by_date.get(day)
        if found is None:
            if len(self.fys_by_date) > 50_000:
                self.fys_by_date.clear()
            found = self.fys_by_date[day] = icd.fy_used(day, self.fys)
        return found

    def midyear(self, day: date) -> icd.MidYear | None:
        """The mid-year ICD-10-CM release that answers for ``day`` with the fiscal year used then
        (``kgraph.rules.icd.midyear_on``: for a date after the loaded fiscal years, the newest
        mid-year release of the last one), memoised."""
        if day not in self.midyears_by_date:
            if len(self.midyears_by_date) > 50_000:
                self.midyears_by_date.clear()
            fy = self.fy_choice(day).fy
            self.midyears_by_date[day] = icd.midyear_on(self.ix.icd_midyear, day, fy) if fy else None
        return self.midyears_by_date[day]

    def icd_release(self, day: date) -> str:
        """The ICD-10-CM release that answers for ``day``, as results name it: ``FY2024``, or
        ``FY2026 (April 2026 update)`` when a mid-year release answers."""
        fy = self.fy_choice(day).fy
        if fy is None:
            return "none (before ICD-10-CM)"
        midyear = self.midyear(day) if self.ix.icd_midyear else None
        return f"FY{fy} ({midyear.label} update)" if midyear else f"FY{fy}"

    def versions_for(self, dates: list[date], copy: bool = True) -> dict[str, str]:
        key = tuple(dates)
        found = self.versions_by_dates.get(key)
        if found is None:
            found = dict(self.versions)
            if self.fys:
                found["icd10cm"] = ", ".join(dict.fromkeys(self.icd_release(d) for d in dates))
            if len(self.versions_by_dates) < 50_000:
                self.versions_by_dates[key] = found
        return dict(found) if copy else found

    def ptp_rows(self, i: int, a: str, b: str) -> list[PTPRow]:
        """The PTP rows of the pair (a, b), whose key is at position ``i`` of the index."""
        found = self.pairs.get(i)
        if found is None:
            if len(self.pairs) > 200_000:
                self.pairs.clear()
            found = self.pairs[i] = self.ix.ptp_run(i, a, b)
        return found

    def selection(self, family: str, day: date) -> releases.Selection:
        key = (family, day)
        found = self.selections.get(key)
        if found is None:
            if len(self.selections) > 50_000:
                self.selections.clear()
            found = self.selections[key] = releases.select(self.by_family.get(family, []), day)
        return found


class Checker(LineChecks):
    """The checks of one claim; each appends its findings to ``out`` (the per-line checks are
    ``kgraph.checker_lines.LineChecks``)."""

    def __init__(self, shared: Shared, *, copies: bool = True) -> None:
        self.shared = shared
        self.ix = shared.ix
        self.out: list[Any] = []
        #: False: the memoised evidence entries go into the result as they are, not copied (for a
        #: caller that serialises each result and drops it, ``kgraph.check_batch``)
        self.copies = copies

    def run(self, claim: Any, make_finding: Any, make_result: Any) -> Any:
        self.make = make_finding
        if not self.shared.memo:
            self.shared.forget()
        known, info = self.shared.codes, self.shared.info
        for ln in claim.lines:
            ln.info = known.get(ln.code) or info(ln.code)
        dates = sorted({ln.dos for ln in claim.lines})
        self._claim_level(claim, dates)
        by_date: dict[date, list[Any]] = {}
        if len(dates) == 1:
            by_date[dates[0]] = claim.lines
        else:
            for ln in claim.lines:
                by_date.setdefault(ln.dos, []).append(ln)
        for dos, lines in by_date.items():
            self._ptp(dos, lines)
            self._mue(dos, lines)
            self._addon(dos, lines)
            self._fee_status(dos, lines)
        no_evidence: list[Any] = []
        for ln in claim.lines:
            self._code(ln)
            self._modifiers(ln)
            self._diagnoses(ln, no_evidence)
        if no_evidence:
            self._no_evidence(no_evidence)
        self._taxonomy(claim)
        self._payer_gaps(claim)
        out = self.out
        out.sort(key=_order)
        severities = {f.severity for f in out}
        status = "fail" if "error" in severities else "warn" if "warning" in severities else "pass"
        return make_result(claim.id, status, self.shared.versions_for(dates, self.copies), out)

    def add(self, severity: Severity, rule: str, subject: str, message: str, *, codes: list[str] | None = None,
            lines: list[int] | None = None, explanation: list[dict[str, Any]] | None = None,
            suggestion: list[str] | None = None) -> None:
        """A finding; the lists given become the finding's own (callers pass new lists)."""
        self.out.append(self.make(severity, rule, subject, message, None, None, suggestion or [], codes or [],
                                  lines or [], explanation or []))

    def searched(self, *kinds: str) -> list[dict[str, Any]]:
        """Evidence for a finding about something absent: the sources that were searched."""
        cache = self.shared.searched
        found = cache.get(kinds)
        if found is None:
            found = cache[kinds] = [
                edge("kg:Source", f"SOURCE:{s.id}", None, s.file, None, sourceKind=s.kind, release=s.release)
                for kind in kinds for s in self.shared.by_kind.get(kind, [])]
        return [self.own(e) for e in found]

    # --- claim level ------------------------------------------------------------------------------

    def _claim_level(self, claim: Any, dates: list[date]) -> None:
        if claim.unknown_fields:
            from kgraph.check import CLAIM_FIELDS, LINE_FIELDS

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

    def _ranges(self, claim: Any, dates: list[date]) -> None:
        lines = claim.lines
        mue = addon = fees = dx = False
        for ln in lines:
            info = ln.info
            mue = mue or bool(info.mue)
            addon = addon or bool(info.addon)
            fees = fees or bool(info.fee)
            dx = dx or bool(ln.diagnoses)
        used = (len({ln.code for ln in lines}) > 1, mue, addon, fees, dx)
        key = (used, tuple(dates))
        cache = self.shared.ranges
        found = cache.get(key)
        if found is None:
            found = [(*f[:4], [edge("kg:Source", f"SOURCE:{s.id}", None, s.file, None, release=s.release,
                                    effective=s.effective, layout=s.layout, scope=s.scope) for s in f[4]])
                     for f in self._range_findings(used, dates)]
            if len(cache) < 10_000:
                cache[key] = found
        for severity, rule, subject, message, evidence in found:
            self.add(severity, rule, subject, message,
                     explanation=[self.own(e) for e in evidence])

    def _range_findings(self, used: tuple[bool, ...], dates: list[date]) -> list[tuple[Any, ...]]:
        """(severity, rule, subject, message, sources) for the dates no loaded release covers."""
        out: list[tuple[Any, ...]] = []
        for family, consulted in zip(("ncci-ptp", "ncci-mue", "ncci-addon", "mpfs"), used, strict=False):
            loaded = self.shared.by_family.get(family)
            if not consulted or not loaded:
                continue
            chosen = {d: self.shared.selection(family, d) for d in dates}
            outside = [d for d, s in chosen.items() if not s.covered]
            if not outside:
                continue
            spans = ", ".join(f"{p[0].isoformat() if p[0] != date.min else 'any earlier date'} to {p[1].isoformat()}"
                              for s in loaded if (p := releases.period(s)))
            used_here = list(dict.fromkeys(r for d in outside for r in chosen[d].order()))
            shown = "; ".join(f"{r.release} ({r.file}{', excerpt' if r.excerpt else ''})" for r in used_here)
            extra = ""
            if family == "ncci-ptp" and any(releases.undated_before(r, d) for d in outside for r in chosen[d].order()):
                extra = "; the flat file has no effective dates, so it cannot say which edits were in effect " \
                        "before its date: a pair without an edit here may still have had one then"
            out.append((releases.family(family).outside_severity, "data.out-of-range", family,
                        f"date of service {', '.join(d.isoformat() for d in outside)} is outside the "
                        f"{releases.name(family)} data loaded ({spans}); the release used: {shown}{extra}", used_here))
        fys = self.shared.fys
        if used[4] and fys:
            for d in dates:
                choice = self.shared.fy_choice(d)
                if choice.fy is not None and not choice.exact:
                    midyear = self.shared.midyear(d) if self.ix.icd_midyear else None
                    used_release = f"FY{choice.fy} with its {midyear.label} update (in force from " \
                        f"{midyear.effective.isoformat()})" if midyear else f"FY{choice.fy}"
                    tabular = [s for s in self.shared.by_kind.get("icd10cm-tabular", []) if midyear and
                               s.release == midyear.label]
                    out.append((releases.family("icd10cm").outside_severity, "data.out-of-range", "icd10cm",
                                f"date of service {d.isoformat()} is in FY{icd.fiscal_year(d)}, outside the ICD-10-CM "
                                f"fiscal years loaded (FY{fys[0]}-FY{fys[-1]}); diagnoses were checked against "
                                f"{used_release}, the nearest loaded",
                                ([self.shared.icd_source] if self.shared.icd_source else []) + tabular))
        return out

    # --- NCCI -------------------------------------------------------------------------------------

    def _ptp(self, dos: date, lines: list[Any]) -> None:
        ix = self.ix
        keys, starts, search = ix.ptp_keys, ix.ptp_starts, bisect_left
        coded = []  # (line, code id, the span of the code's edits as column 1 in ``keys``)
        for ln in lines:
            ia = ln.info.ptp_id
            if ia is not None:
                coded.append((ln, ia, starts[ia], starts[ia + 1]))
        if len(coded) < 2:
            return
        # ``Indexes.has_ptp`` inlined (the edits of each column 1 code bisected in place): ~10 line
        # pairs a claim, most without an edit
        for x, first in enumerate(coded):
            for second in coded[x + 1:]:
                if second[1] == first[1]:
                    continue
                for (one, i1, lo, hi), (two, i2, _, _) in ((first, second), (second, first)):  # each as column 1
                    if lo < hi:
                        key = i1 << 32 | i2
                        j = search(keys, key, lo, hi)
                        if j < hi and keys[j] == key:
                            self._pair(dos, one, two, self.shared.ptp_rows(j, one.code, two.code))

    def _pair(self, dos: date, one: Any, two: Any, rows: list[PTPRow]) -> None:
        """Lines ``one`` (column 1) and ``two`` (column 2) and every loaded PTP row of that pair."""
        if not self.shared.single.get("ncci-ptp", True):
            rows = releases.pick(self.shared.selection("ncci-ptp", dos), rows, _source_of)
        found = ptp.verdict(rows, dos, one.local, one.modifiers, two.local, two.modifiers)
        if found.outcome == "none":
            return
        c1, c2, lines = one.code, two.code, [one.n, two.n] if one.n < two.n else [two.n, one.n]
        row = found.row
        assert row is not None
        if found.outcome == "unknown":
            self.add("warning", "ncci.ptp-unknown", c2,
                     f"unknown for {dos.isoformat()}: NCCI PTP {row.source.release} ({row.source.file}:{row.line}) "
                     f"lists an edit {c1} / {c2} (column 2 denied, modifier indicator {row.indicator}), but the "
                     f"file has no effective dates and {dos.isoformat()} is before its date "
                     f"({row.source.effective}), so whether it was in effect then is unknown",
                     codes=[c1, c2], lines=lines, explanation=[self._ptp_edge(r) for r in found.unknown])
            return
        explanation = [self._ptp_edge(r) for r in found.applied]
        rule = ptp.indicator(row.indicator)
        key = ("says", row.source.id, row.line)
        says = self.shared.wordings.get(key)
        if says is None:
            says = self.shared.wordings[key] = (
                f"NCCI PTP edit {c1} / {c2} ({row.source.release}{', excerpt' if row.source.excerpt else ''}, "
                f"{row.source.file}:{row.line}), modifier indicator {row.indicator} ({rule.meaning if rule else ''}); "
                f"rationale: {row.rationale or 'none given'}")
        if found.outcome == "bypassed":
            self.add("info", "ncci.ptp-bypassed", c2,
                     f"documentation required: modifier {', '.join(found.bypass.by)} bypasses the edit that would "
                     f"deny {c2} (line {two.n}) billed with {c1} (line {one.n}): {says}; the record must "
                     "show a distinct service (other site, session or encounter)",
                     codes=[c1, c2], lines=lines, explanation=explanation)
            return
        if rule is not None and rule.detail != "yes":
            self.add(rule.severity or "error", "ncci.ptp", c2, f"{c2} (line {two.n}) is denied when billed with {c1} "
                     f"(line {one.n}) on {dos.isoformat()}: {says}; no modifier bypasses an edit with indicator "
                     f"{row.indicator}", codes=[c1, c2], lines=lines, explanation=explanation)
            return
        why_not = "; ".join(w for _, w in found.bypass.not_here)
        self.add(rule.severity if rule and rule.severity else "error", "ncci.ptp", c2,
                 f"{c2} (line {two.n}) is denied when billed with {c1} (line {one.n}) on {dos.isoformat()}: {says}; "
                 + (f"{why_not}; " if why_not else "")
                 + "an NCCI-associated modifier (59, XE, XP, XS, XU, an anatomic modifier, 25 on the E/M code, "
                 "...) bypasses it only where documentation supports it",
                 codes=[c1, c2], lines=lines, explanation=explanation, suggestion=["MOD:59", "MOD:XS", "MOD:XU"])

    def _ptp_edge(self, row: PTPRow) -> dict[str, Any]:
        key = ("ptp", row.source.id, row.line)
        found = self.shared.edges.get(key)
        if found is None:
            found = self.shared.edges[key] = edge(
                "kg:conflictsWith", row.column1, row.column2, row.source.file, row.line,
                modifierIndicator=row.indicator, rationale=row.rationale, effectiveDate=row.effective,
                deletionDate=row.deletion, release=row.source.release,
                scope=row.source.scope if row.source.excerpt else None, row=_row_ref(row.source, row.line))
        return self.own(found)

    def _in_force(self, family: str, rows: list[Any], dos: date) -> list[Any]:
        """The rows of a code in force on ``dos`` (rows hold their source's index)."""
        if not rows or self.shared.single.get(family, True):
            return rows  # one release of the family loaded: its rows are the rows
        sources = self.ix.sources
        return releases.pick(self.shared.selection(family, dos), rows, lambda r: sources[r.source])

    def _mue(self, dos: date, lines: list[Any]) -> None:
        by_code: dict[str, list[Any]] = {}
        for ln in lines:
            if ln.info.mue:
                by_code.setdefault(ln.code, []).append(ln)
        if not by_code:
            return
        for code, group in by_code.items():
            rows = self._in_force("ncci-mue", group[0].info.mue, dos)
            if not rows:
                continue
            verdict = units.mue(rows[0], [ln.units for ln in group])
            if verdict is None:
                continue
            row = verdict.row
            key = ("mue", code, row.source, row.line)
            said = self.shared.wordings.get(key)
            if said is None:  # the row's evidence and wording, once per MUE row a batch meets
                src = self.ix.sources[row.source]
                said = self.shared.wordings[key] = (
                    edge("kg:MUELimit", code, None, src.file, row.line, units=row.units, adjudicationIndicator=row.mai,
                         rationale=row.rationale, release=src.release, row=_row_ref(src, row.line)),
                    f"MUE {row.units}, adjudication indicator {row.mai} ({src.release}, {src.file}:{row.line}; "
                    f"{row.rationale})")
            entry, where = said
            mai = units.mai(row.mai)
            severity: Severity = (mai.severity if mai else "error") or "error"
            if verdict.outcome == "never-payable":
                self.add(severity, "mue.never-payable", code, f"{code} has an MUE of 0: never payable for a "
                         f"practitioner on one date of service ({where})", codes=[code],
                         lines=[ln.n for ln in group], explanation=[self.own(entry)])
            elif verdict.outcome == "per-line":
                for i in verdict.over:
                    ln = group[i]
                    self.add(severity, "mue.units", code, f"line {ln.n}: {ln.units} units of {code} exceed the "
                             f"limit of {row.units} per claim line ({where})", codes=[code], lines=[ln.n],
                             explanation=[self.own(entry)])
            else:
                parts = " + ".join(str(ln.units) for ln in group)
                self.add(severity, "mue.units", code, f"{verdict.total} units of {code} on {dos.isoformat()} "
                         f"({parts} on line {', '.join(str(ln.n) for ln in group)}) exceed the limit of {row.units} "
                         f"per date of service ({mai.meaning if mai else 'indicator ' + row.mai}; {where})",
                         codes=[code], lines=[ln.n for ln in group], explanation=[self.own(entry)])

    def _addon(self, dos: date, lines: list[Any]) -> None:
        codes = {ln.code for ln in lines}
        for ln in lines:
            rows = ln.info.addon
            if not rows:
                continue
            verdict = units.addon(self._in_force("ncci-addon", rows, dos), dos, ln.code, codes)
            if verdict is None:
                continue
            sources = self.ix.sources
            src = sources[verdict.rows[0].source]
            listed = list(verdict.primaries)
            shown = ", ".join(listed[:6]) + (f" and {len(listed) - 6} more" if len(listed) > 6 else "")
            tail = f"; none of {shown} is on the claim for {dos.isoformat()}" if listed else ""
            what = verdict.rule.meaning if verdict.rule else f"type {verdict.edit_type}"
            self.add(verdict.rule.severity if verdict.rule else "warning", "ncci.addon-without-primary", ln.code,
                     f"{ln.code} (line {ln.n}) is an add-on code, edit type {verdict.edit_type}: {what}{tail} "
                     f"(add-on edits {src.release})", codes=[ln.code], lines=[ln.n], suggestion=listed[:5],
                     explanation=[edge("kg:addOnTo", ln.code, r.primary, sources[r.source].file, r.line,
                                       editType=r.edit_type, release=sources[r.source].release,
                                       row=_row_ref(sources[r.source], r.line)) for r in verdict.rows[:10]])



_SHARED: dict[int, Shared] = {}
tables.on_reset(_SHARED.clear)


def shared(ix: Indexes) -> Shared:
    """The ``Shared`` of a build's indexes (a few kept, keyed by the indexes object)."""
    found = _SHARED.get(id(ix))
    if found is None or found.ix is not ix:
        if len(_SHARED) >= 4:
            _SHARED.pop(next(iter(_SHARED)))
        found = _SHARED[id(ix)] = Shared(ix)
    return found
