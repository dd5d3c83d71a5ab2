"""Check what briefings say against the official code sets loaded in the same store.

Input: an open ``Store``. Output: ``Findings`` (a list of ``Finding`` with ``data_versions``),
each with a stable rule id, a severity (error, warning, info), the subject CURIE, a message in
compiler style, the briefing file and line, and suggestions. Rules:

* ``code.unknown``: a briefing code that is not in its code set (ICD-10-CM, NUCC, HCPCS,
  modifiers; CPT codes exist if the fee schedule, PTP, MUE or add-on files name them), with the
  closest codes by code and by the description the briefing gave. An error, unless the code-set
  release is more than a year older than the reference date (``as_of``, default today): then
  a newer release may hold the code, and it is a warning.
* ``icd10cm.not-billable``: a diagnosis that is a header, with its billable children and the
  fiscal year it became a header.
* ``icd10cm.description-mismatch`` / ``nucc.name-mismatch`` / ``modifier.description-mismatch``:
  the briefing's text disagrees with the official text; gives the official text and the codes
  whose official text matches what the briefing wrote.
* ``mpfs.modifier-not-allowed``: a modifier listed for a code that the fee-schedule indicators
  rule out (``kgraph.rules.fee.modifier_verdicts``).
* ``ncci.bundled``: codes a briefing says are billed together that an NCCI PTP edit in effect on
  the reference date bundles (the release in force then, ``kgraph.rules``), with its modifier
  indicator; ``ncci.addon-without-primary``: an add-on code listed without an eligible primary.
  Severities and meanings come from ``kgraph.rules`` tables.
* ``shacl.violation``: the briefing graphs against ``ontology/shapes.ttl``;
* ``notes.open``: a review note (``kgraph notes import``) whose decision is question or action, as an
  info finding on its target; ``notes.target-missing``: a note on a node or assertion this build does not
  have (a warning; the note is kept in ``GRAPH:notes``, ``kgraph.notes``).
* ``briefing.range-empty``: a range or wildcard of a briefing (``K96-K99``) that holds no code of
  the code set it was expanded with (``kgraph.ranges``).

A rule whose code set is not in the build is skipped, and an info finding says so. Does not
write to the store.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.internal_queries import required
from kgraph.progress import Progress
from kgraph.progress import of as progress_of
from kgraph.records import Severity
from kgraph.rules import ptp, releases, units
from kgraph.sources import registry
from kgraph.store import Store

SEVERITIES = ("info", "warning", "error")
#: the source kinds that list every code of a kind: a code missing from all loaded is unknown. Not the
#: fee schedule for modifiers: it names only 26, TC and 53 (kgraph.sources.registry)
CODE_SETS: dict[str, tuple[str, ...]] = {
    prefix: registry.listing(prefix) for prefix in ("ICD10CM", "NUCC", "HCPCS", "CPT", "MOD")}
#: the code set that defines each kind of code (CPT has no official set in the data: AMA licence)
AUTHORITY = {prefix: kind for prefix in CODE_SETS if (kind := registry.authority(prefix))}
#: text similarity (0-100, rapidfuzz token_sort_ratio) from which a stated text agrees
MISMATCH_BELOW = 85


@dataclass
class Finding:
    """One validation or claim-check finding (INTERFACE.md shape)."""

    severity: Severity
    rule: str
    subject: str
    message: str
    source: str | None = None
    line: int | None = None
    suggestion: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.source else ""
        return f"{where}{self.severity}: {self.subject}: {self.message} [{self.rule}]"


class Findings(list[Finding]):
    """Findings with the data versions they were computed from."""

    def __init__(self, items: Iterable[Finding] = (), data_versions: dict[str, str] | None = None) -> None:
        super().__init__(items)
        self.data_versions = dict(data_versions or {})

    def at_least(self, severity: str) -> list[Finding]:
        floor = SEVERITIES.index(severity)
        return [f for f in self if SEVERITIES.index(f.severity) >= floor]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self if f.severity == s) for s in SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {"data_versions": self.data_versions, "counts": self.counts(),
                "findings": [f.to_json() for f in self]}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1)


@dataclass
class _Fact:
    subject: str
    relation: str
    object: str
    file: str
    line: int
    qualifiers: dict[str, str]


STOPWORDS = frozenset(["a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"])


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOPWORDS}


def agrees(stated: str, official: str) -> bool:
    """Whether a briefing's text says the same as the official text: nearly the same words, or
    only words of the official text (a shortened form such as "Technical component").

    >>> agrees("Gastroenterology", "Gastroenterology Physician")
    True
    >>> agrees("Diverticulum of esophagus", "Ulcer of esophagus")
    False
    """
    from rapidfuzz import fuzz, utils

    if fuzz.token_sort_ratio(stated, official, processor=utils.default_process) >= MISMATCH_BELOW:
        return True
    words = _tokens(stated)
    return bool(words) and words <= _tokens(official)


#: sources written by users (briefings, the payer registry, review notes): no release to report
USER_KINDS = ("briefing", "payers", "notes")


def data_versions(store: Store) -> dict[str, str]:
    """Source kind -> release (several releases of one kind are joined with ', ')."""
    versions: dict[str, set[str]] = defaultdict(set)
    for source in store.info.get("sources", []):
        if source.get("kind") not in USER_KINDS:
            versions[source["kind"]].add(source.get("release") or "unknown")
    for row in store.select("source_releases"):
        kind, release = required(row, "source_releases", "kind", "release")
        if kind not in USER_KINDS:
            versions[kind].discard("unknown")
            versions[kind].add(release)
    return {kind: ", ".join(sorted(r)) for kind, r in sorted(versions.items())}


class _Validator:
    def __init__(self, store: Store, as_of: date | None) -> None:
        self.store = store
        self.as_of = as_of or date.today()
        self.findings: list[Finding] = []
        self.versions = data_versions(store)
        self.facts = self._briefing_facts()
        self.codes = {c for f in self.facts for c in (f.subject, f.object)
                      if c.partition(":")[0] in CODE_SETS}
        self.present = self._present(self.codes)

    def add(self, severity: Severity, rule: str, subject: str, message: str, fact: _Fact | None = None,
            suggestion: Iterable[str] = ()) -> None:
        self.findings.append(Finding(severity, rule, subject, message, fact.file if fact else None,
                                     fact.line if fact else None, list(suggestion)))

    def _briefing_facts(self) -> list[_Fact]:
        facts: dict[str, _Fact] = {}
        for row in self.store.select("briefing_facts"):
            a, s, p, o, file, line = required(row, "briefing_facts", "a", "s", "p", "o", "file", "line")
            fact = facts.get(a)
            if fact is None:
                fact = facts[a] = _Fact(s, p, o, file, int(line), {})
            q, v = row["q"], row["v"]  # OPTIONAL together: a fact without qualifiers has neither
            if q is not None and v is not None:
                fact.qualifiers[q.removeprefix("kg:")] = v
        return list(facts.values())

    def _present(self, codes: set[str]) -> dict[str, set[str]]:
        """Code -> the source kinds that hold it."""
        found: dict[str, set[str]] = defaultdict(set)
        if not codes:
            return found
        for row in self.store.select("code_source_kinds", n=sorted(codes)):
            code, kind = required(row, "code_source_kinds", "n", "kind")
            found[code].add(kind)
        return found

    def loaded(self, kinds: Iterable[str]) -> list[str]:
        return [k for k in kinds if k in self.versions]

    # --- rules ---------------------------------------------------------------------------------

    def unknown_codes(self) -> None:
        skipped: set[str] = set()
        for fact in self.facts:
            for code in (fact.subject, fact.object):
                prefix = code.partition(":")[0]
                if prefix not in CODE_SETS:
                    continue
                kinds = self.loaded(CODE_SETS[prefix])
                if not kinds:
                    skipped.add(prefix)
                    continue
                if self.present.get(code, set()) & set(kinds):
                    continue
                releases = [self.versions[k] for k in kinds]
                # the code set that defines the kind decides; CPT has none here (AMA), so all must be old
                judges = [k for k in kinds if k == AUTHORITY.get(prefix)] or kinds
                old = [k for k in judges if self._may_be_outdated(k)]
                severity: Severity = "warning" if len(old) == len(judges) else "error"
                stated = fact.qualifiers.get("statedDescription") or fact.qualifiers.get("statedSpecialty") or ""
                suggestion = self.closest(prefix, code, stated)
                note = " (the release may predate the code)" if severity == "warning" else ""
                self.add(severity, "code.unknown", code,
                         f"{code} is not in {', '.join(f'{k} {r}' for k, r in zip(kinds, releases, strict=True))}"
                         f"{note}", fact, suggestion)
        for prefix in sorted(skipped):
            self.add("info", "code.unchecked", f"{prefix}:",
                     f"no {ns.CODE_KINDS[prefix]} code set in this build; {prefix} codes were not checked")

    def _may_be_outdated(self, kind: str) -> bool:
        """Whether a newer release than the loaded one may be in force on the reference date."""
        return any(releases.may_be_outdated(kind, label.strip(), self.as_of)
                   for label in self.versions[kind].split(","))

    def _titles(self, prefix: str) -> dict[str, str]:
        cache = getattr(self, "_title_cache", {})
        self._title_cache = cache
        if prefix not in cache:
            rows = self.store.select("official_titles", namespace=ox.Literal(ns.PREFIXES[prefix]))
            cache[prefix] = {row["n"]: row["t"] for row in rows}
        return cache[prefix]

    def closest(self, prefix: str, code: str, stated: str, limit: int = 3) -> list[str]:
        """Closest existing codes: by code shape, then by official text matching what was stated."""
        from rapidfuzz import fuzz, process

        titles = self._titles(prefix)
        local = code.partition(":")[2]
        by_code = process.extract(local, [c.partition(":")[2] for c in titles], scorer=fuzz.ratio, limit=limit,
                                  score_cutoff=60)
        out = [f"{prefix}:{c}" for c, _, _ in by_code]
        if stated:
            out += self.matching_text(prefix, stated, limit=limit)
        return list(dict.fromkeys(out))

    def matching_text(self, prefix: str, text: str, *, limit: int = 3, exclude: str = "") -> list[str]:
        from rapidfuzz import fuzz, process, utils

        titles = self._titles(prefix)
        keys = list(titles)
        found = process.extract(text, [titles[k] for k in keys], scorer=fuzz.token_set_ratio,
                                processor=utils.default_process, limit=limit + 1, score_cutoff=85)
        return [keys[i] for _, _, i in found if keys[i] != exclude][:limit]

    def text_mismatches(self) -> None:
        for fact in self.facts:
            stated, code, rule = None, None, ""
            if fact.relation == "kg:supports" and fact.subject.startswith("ICD10CM:"):
                stated, code = fact.qualifiers.get("statedDescription"), fact.subject
                rule = "icd10cm.description-mismatch"
            elif fact.relation == "kg:reportedBy":
                stated, code, rule = fact.qualifiers.get("statedSpecialty"), fact.object, "nucc.name-mismatch"
            elif fact.relation == "kg:modifierFor":
                stated, code, rule = (fact.qualifiers.get("statedDescription"), fact.subject,
                                      "modifier.description-mismatch")
            if not stated or not code:
                continue
            prefix = code.partition(":")[0]
            official = self._titles(prefix).get(code)
            if not official or any(agrees(stated, name) for name in [official, *self._other_names(code)]):
                continue
            matches = self.matching_text(prefix, stated, exclude=code)
            also = f"; official text matching it: {', '.join(matches)}" if matches else ""
            version = self.versions.get(CODE_SETS.get(prefix, ("",))[0], "")
            what = "specialty" if prefix == "NUCC" else "description"
            self.add("warning", rule, code, f'{what} "{stated}" does not match the official "{official}" '
                     f"({version}){also}", fact, matches)

    def _other_names(self, code: str) -> list[str]:
        if not code.startswith("NUCC:"):
            return []
        return [required(row, "taxonomy_other_names", "v")[0]
                for row in self.store.select("taxonomy_other_names", code=code)]

    def not_billable(self) -> None:
        if "icd10cm" not in self.versions:
            return
        dx = sorted({f.subject for f in self.facts if f.relation == "kg:supports" and f.subject.startswith("ICD10CM:")})
        if not dx:
            return
        for row in self.store.select("diagnosis_last_years", n=sorted(set(dx))):
            last = row["last"]
            if last is None or row["lastBillable"] == last:
                continue
            code = required(row, "diagnosis_last_years", "n")[0]
            kids = [required(r, "billable_children", "c")[0]
                    for r in self.store.select("billable_children", code=code, fy=int(last))]
            since = f"since FY{row['header']}" if row["header"] is not None else (
                f"in every loaded fiscal year ({self.versions.get('icd10cm', '')})")
            for fact in (f for f in self.facts if f.subject == code and f.relation == "kg:supports"):
                self.add("error", "icd10cm.not-billable", code,
                         f"{code.partition(':')[2]} is a header, not billable, {since}; billable codes below it "
                         f"in FY{last}: {', '.join(kids[:8]) or 'none'}", fact, kids[:8])

    def fee_schedule_modifiers(self) -> None:
        if "mpfs" not in self.versions:
            return
        from kgraph.rules.fee import modifier_verdicts

        pairs = [(f, f.subject, f.object) for f in self.facts if f.relation == "kg:modifierFor"]
        codes = sorted({c for _, _, c in pairs})
        if not codes:
            return
        rows = self.fee_rows(codes)
        for fact, modifier, code in pairs:
            code_rows = rows.get(code)
            if not code_rows:
                continue
            base = code_rows.get("")
            if base is None:
                continue
            verdicts = modifier_verdicts(base, has_26_row="26" in code_rows, has_tc_row="TC" in code_rows)
            verdict = verdicts.get(modifier.partition(":")[2])
            if verdict is None or verdict.severity is None:
                continue  # allowed without condition, or no fee-schedule rule for this modifier
            self.add(verdict.severity, "mpfs.modifier-not-allowed", modifier,
                     f"{modifier} on {code}: {verdict.reason} (fee schedule {self.versions['mpfs']})", fact)

    def fee_rows(self, codes: Iterable[str]) -> dict[str, dict[str, dict[str, str]]]:
        """code -> modifier ('' for the code's own row) -> field -> value."""
        by_row: dict[str, dict[str, str]] = defaultdict(dict)
        code_of: dict[str, str] = {}
        for row in self.store.select("fee_schedule_fields", c=sorted(set(codes))):
            fee_row, code, name, value = required(row, "fee_schedule_fields", "r", "c", "f", "v")
            code_of[fee_row] = code
            by_row[fee_row][name.removeprefix("kg:")] = value
        out: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
        for r, fields in by_row.items():
            modifier = fields.get("modifier", "").partition(":")[2]
            out[code_of[r]][modifier] = fields
        return out

    def ncci_pairs(self) -> None:
        """Briefing pairs billed together that a PTP edit in effect on the reference date bundles
        (the release in force on that date, ``kgraph.rules``)."""
        if "ncci-ptp" not in self.versions:
            return
        pairs = [f for f in self.facts if f.relation == "kg:billedWith"]
        if not pairs:
            return
        from kgraph.indexes import load_indexes

        ix = load_indexes(self.store)
        selection = releases.select([s for s in ix.sources if s.family == "ncci-ptp"], self.as_of)
        for fact in pairs:
            for a, b in ((fact.subject, fact.object), (fact.object, fact.subject)):
                rows = releases.pick(selection, ix.ptp(a, b), lambda r: r.source)
                for row in rows:
                    if ptp.state(row, self.as_of) != ptp.IN_EFFECT:
                        continue
                    rule = ptp.indicator(row.indicator)
                    severity: Severity = rule.validate_severity if rule else "warning"
                    meaning = rule.meaning if rule else f"indicator {row.indicator}"
                    self.add(severity, "ncci.bundled", fact.object,
                             f"the briefing says {fact.subject} and {fact.object} are billed together, but NCCI PTP "
                             f"edit {a} / {b} (column 2 denied) is in effect on {self.as_of.isoformat()}: modifier "
                             f"indicator {row.indicator}, {meaning}; rationale: {row.rationale or 'n/a'} (PTP "
                             f"{row.source.release}, {row.source.file}:{row.line})", fact, [a, b])

    def addons(self) -> None:
        if "ncci-addon" not in self.versions:
            return
        by_briefing: dict[str, set[str]] = defaultdict(set)
        for f in self.facts:
            for c in (f.subject, f.object):
                if c.startswith(("CPT:", "HCPCS:")):
                    by_briefing[f.file].add(c)
        for file, codes in by_briefing.items():
            primaries: dict[str, set[str]] = defaultdict(set)
            types: dict[str, str] = {}
            found: dict[str, set[str]] = defaultdict(set)
            for row in self.store.select("addon_edits", addon=sorted(codes)):
                addon, edit_type = required(row, "addon_edits", "addon", "type")
                found[addon].add(edit_type)
                if row["primary"] is not None:
                    primaries[addon].add(row["primary"])
            for addon, kinds in found.items():
                # the most restrictive edit type of the code's rows (1 before 3 before 2)
                types[addon] = units.most_restrictive(kinds, "validate_severity")
            for addon, edit_type in sorted(types.items()):
                if primaries[addon] & codes:
                    continue
                fact = next(f for f in self.facts if f.file == file and addon in (f.subject, f.object))
                rule = units.edit_type(edit_type)
                severity: Severity = rule.validate_severity if rule else "warning"
                what = rule.meaning if rule else f"type {edit_type}"
                self.add(severity, "ncci.addon-without-primary", addon,
                         f"{addon} is an add-on code (edit type {edit_type}: {what}) and the briefing lists no "
                         f"eligible primary for it (add-on edits {self.versions['ncci-addon']})", fact,
                         sorted(primaries[addon])[:5])

    def empty_ranges(self) -> None:
        """Ranges the build expanded against a code set and found empty (kgraph.ranges)."""
        for row in self.store.select("empty_ranges"):
            written, against, file, line = required(row, "empty_ranges", "written", "against", "file", "line")
            fact = _Fact("", "", "", file, int(line), {})
            self.add("warning", "briefing.range-empty", written,
                     f"{written!r} holds no code of {against}; no edge was made from it", fact)

    def review_notes(self) -> None:
        """Open review notes (question, action) and notes whose target this build does not have."""
        from kgraph import notes

        if not self.store.ox.contains_named_graph(ns.term("GRAPH:notes")):
            return
        gone = notes.missing(self.store)
        folders = self.store.select("notes_source_files")
        where = folders[0]["file"] or "notes" if folders else "notes"
        for n in notes.stored(self.store):
            fact = _Fact("", "", "", f"{where.rstrip('/')}/{n['file']}", n["line"], {})
            said = f"{n['author'] or 'someone'} ({n['time']}): {n['text'] or '(no comment)'}"
            if n["note_id"] in gone:
                self.add("warning", "notes.target-missing", n["target_curie"],
                         f"review note {n['note_id']} ({n['decision']}) is on {n['target_curie']}, which this "
                         f"build does not have; the note is kept. {said}", fact)
            elif n["decision"] in notes.reader.OPEN:
                self.add("info", "notes.open", n["target_curie"], f"open review note ({n['decision']}) on "
                         f"{n['target_label'] or n['target_curie']}: {said}", fact)

    def shacl(self) -> None:
        import pyshacl
        import rdflib

        # the briefing graphs with the payer registry they point into (pyshacl is too slow for code sets)
        graphs = [required(row, "briefing_graphs", "g")[0] for row in self.store.select("briefing_graphs")]
        if not graphs:
            return
        data = rdflib.Graph()
        for graph in graphs:
            text = self.store.ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(ns.iri(graph))) or b""
            data.parse(data=text.decode("utf-8"), format="nt")
        shapes = rdflib.Graph().parse(ns.ONTOLOGY_DIR / "shapes.ttl")
        conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes)
        if conforms:
            return
        sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
        for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
            focus = str(report.value(result, sh.focusNode))
            message = str(report.value(result, sh.resultMessage) or "violates a shape")
            self.add("error", "shacl.violation", ns.curie(focus), message)


def validate(store: Store, *, as_of: date | str | None = None,
             progress: Progress | Callable[[str], None] | None = None) -> Findings:
    """Findings for every briefing in the store, checked against the code sets in the same store.

    ``progress`` (``kgraph.progress``) is told of each rule as it runs; by default nothing is said.

    >>> import kgraph
    >>> findings = kgraph.validate(kgraph.open(DOCTEST_STORE))
    >>> sorted({f.rule for f in findings})[:2]
    ['icd10cm.description-mismatch', 'icd10cm.not-billable']
    """
    when = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    report = progress_of(progress)
    report.step("validate: reading the briefings' facts ...")
    v = _Validator(store, when)
    rules = (v.unknown_codes, v.not_billable, v.text_mismatches, v.fee_schedule_modifiers, v.ncci_pairs, v.addons,
             v.empty_ranges, v.review_notes, v.shacl)
    with report.task("validate: checking the rules", len(rules), unit="rules") as advance:
        for rule in rules:
            rule()
            advance(1)
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    v.findings.sort(key=lambda f: (f.source or "~", f.line or 0, order[f.severity], f.rule, f.subject))
    # the keys of INTERFACE.md (ncci_ptp), as kgraph check writes them: manifest kinds use a hyphen
    return Findings(v.findings, {kind.replace("-", "_"): release for kind, release in v.versions.items()})
