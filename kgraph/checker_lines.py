"""The per-line checks of a claim (fee schedule, modifiers, diagnoses, taxonomy, payer) and the
ICD-10-CM verdict of a diagnosis: the second half of ``kgraph.checker``.

Input: a parsed claim's lines, each with the ``CodeInfo`` of its code, and the build's ``Shared``
state. Output: findings appended through ``Checker.add``. Every decision is a call into
``kgraph.rules`` (``fee`` for status and modifiers, ``modifiers`` for classes and exclusive pairs,
``icd`` for fiscal years and billable codes); this module words the findings and names the
evidence. ``dx_verdict`` gives None for a billable code, else (rule, severity, message,
suggestion, evidence). Raises nothing; reads nothing but the indexes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kgraph import namespaces as ns
from kgraph.indexes import Indexes, SourceInfo
from kgraph.records import Severity
from kgraph.rules import fee, hcpcs, icd, modifiers, releases
from kgraph.rules.rows import FeeRow

MEDICARE = "PAYER:medicare"
#: source kinds that name modifiers / procedure codes (kgraph.indexes), as messages list them
_MODIFIER_SETS = ("hcpcs", "modifiers", "cpt-modifiers")
_PROCEDURE_SETS = ("mpfs", "ncci-ptp", "ncci-mue", "ncci-addon", "hcpcs")


def _copy(found: dict[str, Any]) -> dict[str, Any]:
    """A copy of a memoised evidence entry: results are the caller's to change."""
    return {**found, "qualifiers": dict(found["qualifiers"])}


def _row_ref(source: SourceInfo, line: int) -> str:
    return f"ROW:{source.id}/L{line}"


def edge(relation: str, subject: str | None, obj: str | None, source: str | None, line: int | None,
         **qualifiers: Any) -> dict[str, Any]:
    """One evidence entry of a finding's explanation."""
    return {"relation": relation, "subject": subject, "object": obj, "source": source, "line": line,
            "qualifiers": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in qualifiers.items()
                           if v not in (None, "")}}



class LineChecks:
    """The per-line and claim-wide checks ``kgraph.checker.Checker`` runs (see the module docstring)."""

    shared: Any
    ix: Indexes
    copies: bool

    def add(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - Checker.add
        raise NotImplementedError

    def own(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A memoised evidence entry for one finding: the finding's own copy, or the entry itself for
        a caller that serialises each result and changes none (``copies`` False: the batch path)."""
        return _copy(entry) if self.copies else entry

    def searched(self, *kinds: str) -> list[dict[str, Any]]:  # pragma: no cover - Checker.searched
        raise NotImplementedError

    def _in_force(self, family: str, rows: list[Any], dos: date) -> list[Any]:  # pragma: no cover
        raise NotImplementedError

    # --- fee schedule -------------------------------------------------------------------------------

    def _fee_row(self, ln: Any, modifier: str | None = None) -> tuple[str, FeeRow] | None:
        """(modifier of the row, the fee-schedule row in force) for a line: the 26 / TC / 53 row
        when the line carries that modifier and the file prices it, else the code's own row."""
        rows = ln.info.fee
        if not rows:
            return None
        if modifier is not None:
            which = modifier
        elif ln.modifiers:
            which = next((m for m in ("26", "TC", "53") if m in ln.modifiers and m in rows), "")
        else:
            which = ""  # most lines carry no modifier: their code's own row
        found = self._in_force("mpfs", rows.get(which, []), ln.dos)
        return (which, found[0]) if found else None

    def _fee_edge(self, code: str, modifier: str, row: FeeRow) -> dict[str, Any]:
        key = ("fee", code, modifier, row.source, row.line)
        found = self.shared.edges.get(key)
        if found is None:
            src = self.ix.sources[row.source]
            found = self.shared.edges[key] = edge(
                "kg:FeeScheduleRow", code, f"MOD:{modifier}" if modifier else None, src.file, row.line,
                **row.fields(), release=src.release, row=_row_ref(src, row.line))
        return self.own(found)

    def _fee_where(self, row: FeeRow) -> str:
        src = self.ix.sources[row.source]
        return f"({src.release}, {src.file}:{row.line})"

    def _fee_status(self, dos: date, lines: list[Any]) -> None:
        found = [(ln, self._fee_row(ln)) for ln in lines]
        for ln, pair in found:
            if pair is None:
                continue
            which, row = pair
            rule = fee.status(row.status)
            if rule is None:
                continue
            if rule.outcome == "injection":
                others = [(o, p[1].status) for o, p in found if o is not ln and p is not None]
                if fee.injection_bundled(row.status, [s for _, s in others]):
                    payable = [o for o, s in others if fee.pfs_payable(s)]
                    where, label = self._fee_where(row), f"{ln.code}-{which}" if which else ln.code
                    self.add("warning", "mpfs.injection-bundled", ln.code, f"{label} (line {ln.n}) has fee-schedule "
                             f"status T: {rule.meaning}; line {', '.join(str(o.n) for o in payable)} "
                             f"({', '.join(o.code for o in payable)}) is payable under the fee schedule on "
                             f"{dos.isoformat()}, so {ln.code} is bundled {where}", codes=[ln.code],
                             lines=[ln.n, *(o.n for o in payable)], explanation=[self._fee_edge(ln.code, which, row)])
                    continue
            if not rule.severity:
                continue
            label = f"{ln.code}-{which}" if which else ln.code
            key = ("status", label, row.source, row.line)
            tail = self.shared.wordings.get(key)
            if tail is None:
                tail = f"has fee-schedule status {row.status}: {rule.meaning} {self._fee_where(row)}"
                if rule.outcome in ("outside", "bundled-or-outside"):
                    system = fee.payment_system(ln.local, row.status)
                    tail += (f"; paid, if covered, under {system[0]} ({system[1]})" if system else
                             "; the file and the CMS definitions loaded do not say which payment system applies")
                self.shared.wordings[key] = tail
            self.add(rule.severity, "mpfs.status", ln.code, f"{label} (line {ln.n}) {tail}", codes=[ln.code],
                     lines=[ln.n], explanation=[self._fee_edge(ln.code, which, row)])

    # --- per line ---------------------------------------------------------------------------------

    def _code(self, ln: Any) -> None:
        if not ln.info.known and self.shared.procedure_sets:
            self.add("warning", "code.unknown", ln.code, f"{ln.code} (line {ln.n}) is in none of the loaded code "
                     f"sets ({self.shared.procedure_sets}): no edit, limit or indicator could be checked for it",
                     codes=[ln.code], lines=[ln.n], explanation=self.searched(*_PROCEDURE_SETS))
        for ended, source in ln.info.terminations:
            if hcpcs.terminated(ended, ln.dos):
                src = self.ix.sources[source]
                self.add("error", hcpcs.RULE, ln.code, f"{ln.code} (line {ln.n}) was terminated: the HCPCS file "
                         f"{src.release} ends it on {ended.isoformat()} (TERM DT, the last date it may be reported), "
                         f"before the date of service {ln.dos.isoformat()}", codes=[ln.code], lines=[ln.n],
                         explanation=[edge("kg:terminationDate", ln.code, ended.isoformat(), src.file, None,
                                           release=src.release)])
                break

    def _verdicts(self, ln: Any) -> tuple[fee.ModifierVerdicts | None, FeeRow | None]:
        rows = ln.info.fee
        if not rows or "" not in rows:
            return None, None
        pair = self._fee_row(ln, "")
        if pair is None:
            return None, None
        row = pair[1]
        key = (ln.code, self.ix.sources[row.source].id)
        cache = self.shared.verdicts
        if key not in cache:
            base = {**row.fields(), "procedure": ln.code}
            cache[key] = fee.ModifierVerdicts(base, has_26_row="26" in rows, has_tc_row="TC" in rows)
        return cache[key], row

    def _modifiers(self, ln: Any) -> None:
        mods = ln.modifiers
        if not mods:
            return
        if self.ix.modifiers:
            for m in mods:
                if f"MOD:{m}" in self.ix.modifiers:
                    continue
                severity, judges = modifiers.unknown_severity(self.shared.modifier_lists, m, ln.dos)
                named = ", ".join(f"{releases.name(r.kind)} {r.release}" for r in judges) or self.shared.modifier_sets
                note = "" if severity == "error" else (
                    f"; the lists loaded are not of {ln.dos.year}, so a modifier added or dropped since may be valid "
                    "on the date of service")
                self.add(severity, "modifier.unknown", f"MOD:{m}", f"modifier {m} (line {ln.n}) is not in the "
                         f"modifier code sets ({named}){note}", codes=[f"MOD:{m}", ln.code], lines=[ln.n],
                         explanation=self.searched(*_MODIFIER_SETS))
        for m in modifiers.em_only_misused(ln.local, mods):
            c: Any = modifiers.modifier_class(m)
            self.add("warning", "modifier.em-only", f"MOD:{m}", f"{m} on {ln.code} (line {ln.n}): {ln.code} is not "
                     f"an evaluation and management service; {c.meaning} ({c.source})", codes=[f"MOD:{m}", ln.code],
                     lines=[ln.n])
        verdicts, row = self._verdicts(ln)
        if verdicts and row is not None:
            release = self.ix.sources[row.source].release
            for m in mods:
                v = verdicts.get(m)
                if v is not None and v.severity is not None:
                    self.add(v.severity, "mpfs.modifier-not-allowed", f"MOD:{m}",
                             f"{m} on {ln.code} (line {ln.n}): {v.reason} (fee schedule {release})",
                             codes=[f"MOD:{m}", ln.code], lines=[ln.n], explanation=[self._fee_edge(ln.code, "", row)])
        for i, a in enumerate(mods):
            for b in mods[i + 1:]:
                rule = modifiers.exclusive(a, b)
                if rule:
                    self.add(rule.severity, "modifier.exclusive", f"MOD:{a}", f"line {ln.n}: {rule.reason}",
                             codes=[f"MOD:{a}", f"MOD:{b}", ln.code], lines=[ln.n],
                             explanation=[edge("kg:conflictsWith", f"MOD:{a}", f"MOD:{b}",
                                               "kgraph/rules/tables/modifier_exclusive.csv", None,
                                               reason=rule.reason, cmsSource=rule.source)])

    # --- diagnoses ----------------------------------------------------------------------------------

    def _diagnoses(self, ln: Any, no_evidence: list[Any]) -> None:
        if not ln.diagnoses:
            self.add("warning", "dx.missing", ln.code, f"line {ln.n} ({ln.code}) has no diagnosis; every claim line "
                     "points to at least one", codes=[ln.code], lines=[ln.n])
            return
        if self.shared.fys:
            choice = self.shared.fy_choice(ln.dos)
            if choice.fy is None:
                for dx in ln.diagnoses:
                    self.add("error", "icd10cm.before-icd10", dx, f"line {ln.n}: {dx.partition(':')[2]} is an "
                             f"ICD-10-CM code, but the date of service {ln.dos.isoformat()} is before "
                             f"{icd.icd10_start().isoformat()}, when ICD-9-CM was in force",
                             codes=[dx, ln.code], lines=[ln.n])
                return
            midyear = self.shared.midyear(ln.dos) if self.ix.icd_midyear else None
            for dx in ln.diagnoses:
                self._dx_valid(ln, dx, choice.fy, midyear)
        if not ln.info.supports:
            no_evidence.append(ln)
            return
        self._dx_support(ln)

    def _dx_valid(self, ln: Any, dx: str, fy: int, midyear: icd.MidYear | None = None) -> None:
        key = (dx, fy, midyear.effective if midyear else None)
        cache = self.shared.dx
        if key not in cache:
            cache[key] = dx_verdict(self.ix, self.shared.icd_source, dx, fy, midyear)
        verdict = cache[key]
        if verdict is None:
            return
        rule, severity, message, suggestion, evidence = verdict
        self.add(severity, rule, dx, f"line {ln.n}: {message}", codes=[dx, ln.code], lines=[ln.n],
                 explanation=[self.own(evidence)], suggestion=suggestion)

    def _dx_support(self, ln: Any) -> None:
        evidence = ln.info.supports
        supporting = {e.other for e in evidence}
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
                 f"it lists {', '.join(c.partition(':')[2] for c in listed[:10])}", codes=[ln.code, *ln.diagnoses],
                 lines=[ln.n], suggestion=listed[:10],
                 explanation=[edge("kg:supports", e.other, ln.code, e.file, e.line, **e.qualifiers)
                              for e in evidence[:10]])

    def _no_evidence(self, lines: list[Any]) -> None:
        codes = list(dict.fromkeys(ln.code for ln in lines))
        shown = ", ".join(codes[:10]) + (f" and {len(codes) - 10} more" if len(codes) > 10 else "")
        self.add("info", "dx.no-evidence", codes[0], f"the graph holds no diagnosis evidence for {shown} (no "
                 "briefing covers them), so their diagnoses were checked against the code set only",
                 codes=codes, lines=[ln.n for ln in lines], explanation=self.searched("briefing"))

    # --- claim-wide per code -------------------------------------------------------------------------

    def _taxonomy(self, claim: Any) -> None:
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
            listed = ln.info.specialties
            if not listed or ln.code in done:
                continue
            done.add(ln.code)
            if chain & {e.other for e in listed}:
                continue
            names = ", ".join(f"{e.other.partition(':')[2]} ({e.qualifiers.get('statedSpecialty', '')})"
                              for e in listed)
            self.add("info", "taxonomy.not-listed", ln.code,
                     f"the rendering provider's taxonomy {taxonomy.partition(':')[2]} is not among the specialties "
                     f"the graph lists for {ln.code}: {names}", codes=[ln.code, taxonomy],
                     lines=[x.n for x in claim.lines if x.code == ln.code],
                     explanation=[edge("kg:reportedBy", ln.code, e.other, e.file, e.line, **e.qualifiers)
                                  for e in listed])

    def _payer_gaps(self, claim: Any) -> None:
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
                         f"({gaps[0].text})", codes=[ln.code, p], lines=[x.n for x in claim.lines if x.code == ln.code],
                         explanation=[edge("kg:hasGap", ln.code, p, g.file, g.line, field=g.field, gapText=g.text)
                                      for g in gaps])


Verdict = tuple[str, Severity, str, list[str], dict[str, Any]]


def dx_verdict(ix: Indexes, source: SourceInfo | None, dx: str, fy: int,
               midyear: icd.MidYear | None = None) -> Verdict | None:
    """(rule, severity, message, suggestion, evidence) for a diagnosis in a fiscal year (and the
    mid-year release in force then, if any); None if billable."""
    found = _problem(ix, dx, fy, midyear)
    if found is None:
        return None
    present, billable = ix.icd_years.get(dx, (0, 0))
    if midyear is not None and dx in midyear.changes:
        tabular = next((s for s in ix.sources if s.kind == "icd10cm-tabular"), None)
        listed, bill = midyear.changes[dx]
        return (*found, {"relation": "kg:billableInRelease" if bill else "kg:inRelease", "subject": dx,
                         "object": None, "source": tabular.file if tabular else None, "line": None,
                         "qualifiers": {"release": midyear.label, "effective": midyear.effective.isoformat(),
                                        "listed": listed, "billable": bill}})
    evidence = {"relation": "kg:billableInFY" if present & icd.fy_bit(fy) else "kg:inFY", "subject": dx,
                "object": None, "source": source.file if source else None, "line": None,
                "qualifiers": {k: v for k, v in {
                    "fiscalYear": f"FY{fy}", "inFY": icd.describe_years(present),
                    "billableInFY": icd.describe_years(billable), "headerSinceFY": ix.icd_header_since.get(dx),
                    "release": source.release if source else None}.items() if v not in (None, "")}}
    return (*found, evidence)


def _problem(ix: Indexes, dx: str, fy: int, midyear: icd.MidYear | None = None
             ) -> tuple[str, Severity, str, list[str]] | None:
    present, billable = ix.icd_years.get(dx, (0, 0))
    status = icd.status_on(present, billable, fy, midyear, dx)
    local = dx.partition(":")[2]
    if status == "billable":
        return None
    if midyear is not None and dx in midyear.changes:
        when = f"the {midyear.label} release, in force from {midyear.effective.isoformat()}"
        if status == "header":
            return ("icd10cm.not-billable", "error", f"{local} is a header, not billable in {when}", [])
        return ("icd10cm.not-in-fy", "error", f"{local} is not an ICD-10-CM code in {when} (it is in "
                f"{icd.describe_years(present)})", [])
    if status == "header":
        since = ix.icd_header_since.get(dx)
        kids = billable_below(ix, dx, fy)
        when = f", since FY{since}" if since else ""
        return ("icd10cm.not-billable", "error", f"{local} is a header, not billable in FY{fy}{when}; billable "
                f"codes below it: {', '.join(k.partition(':')[2] for k in kids[:8]) or 'none'}", kids[:8])
    if status == "not-in-fy":
        return ("icd10cm.not-in-fy", "error", f"{local} is not an ICD-10-CM code in FY{fy} (it is in "
                f"{icd.describe_years(present)})", billable_below(ix, nearest(ix, dx, fy), fy)[:5])
    loaded = icd.describe_years(icd.fy_mask(ix.icd_fys))
    return ("icd10cm.unknown", "error", f"{local} is not an ICD-10-CM code in any loaded fiscal year ({loaded})",
            billable_below(ix, nearest(ix, dx, fy), fy)[:5])


def nearest(ix: Indexes, dx: str, fy: int) -> str:
    """The longest existing code of ``fy`` that ``dx`` starts with (K21.09 -> K21.0)."""
    bit = icd.fy_bit(fy)
    code = dx.partition(":")[2].replace(".", "")
    while len(code) > 3:
        code = code[:-1]
        curie = "ICD10CM:" + ns.icd10cm_with_dot(code)
        if ix.icd_years.get(curie, (0, 0))[0] & bit:
            return curie
    curie = "ICD10CM:" + code
    return curie if ix.icd_years.get(curie, (0, 0))[0] & bit else ""


def billable_below(ix: Indexes, dx: str, fy: int) -> list[str]:
    """Up to 20 codes below ``dx`` that are billable in ``fy``, nearest first."""
    if not dx:
        return []
    bit = icd.fy_bit(fy)
    out: list[str] = []
    todo = list(ix.icd_children(dx))
    while todo and len(out) < 20:
        code = todo.pop(0)
        present, billable = ix.icd_years.get(code, (0, 0))
        if billable & bit:
            out.append(code)
        elif present & bit:
            todo.extend(ix.icd_children(code))
    return out
