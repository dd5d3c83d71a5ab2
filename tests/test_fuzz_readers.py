"""Every source reader on generated input (hypothesis): never a traceback, always file and line.

For each reader of ``kgraph.sources.READERS`` (the built-in ``cpt-modifiers`` reads no file), the
tests feed arbitrary bytes, and real samples (a few dozen lines of the files in ``data/`` and the
fixtures in ``tests/data``) damaged the ways real downloads and hand edits are: cut short, rows and
whole tables duplicated, columns dropped or added, odd unicode (combining marks, RTL marks, NUL, BOM,
non-characters, U+2028, form feeds), CRLF or CR line ends, lines of 100,000 and 150,000 characters,
empty files, truncated and patched zips and gzips. The property checked on every case, with each
reader's generator consumed to the end:

* the read ends cleanly (records; Problems naming the file, and the line when they skip a row; a
  ``file refused`` Problem only as the last record), or raises a ``KGraphError`` naming the file;
  never any other exception;
* every record's origin is the file (or ``file!member`` inside a zip) at a line the file has;
* every code a record names is a string CURIE of its kind (``CPT:74360``), never a number.

A row that cannot be read, put anywhere among rows holding odd unicode and multi-line quoted cells,
is reported at its own physical line (what ``grep -n`` shows).

Runs are reproducible (``derandomize=True``, no example database). The cases run per reader are
recorded with ``tests.figures.record("fuzz_readers", ...)``; the last test checks the total.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import struct
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.errors import KGraphError
from kgraph.namespaces import is_icd10cm_code, is_valid
from kgraph.records import Code, CodeRange, Edge, Fact, Gap, Meta, Problem, Record, Ref, Resource, Row
from kgraph.sources import READERS, payers
from kgraph.sources.briefing import TITLE_RE
from tests.figures import record

from .conftest import DATA, TESTDATA


@pytest.fixture(autouse=True, scope="module")
def _doctest_store() -> None:
    """Overrides the root conftest's session fixture of that name for this module only.

    That fixture builds the default store (20-55 s) for the doctests; nothing here reads a store.
    """


# --- the count of cases, recorded for docs/robustness.md -------------------------------------------------

CASES: Counter[str] = Counter()  # per reader (key of READERS)
BY_TEST: Counter[str] = Counter()  # per test and sample layout
#: (test, reader) pairs planned below, and those that ran: the total is checked only when all ran
PLANNED: set[tuple[str, str]] = set()
RAN: set[tuple[str, str]] = set()
#: reader bugs these tests found, fixed in kgraph/sources (see the report of issue 9)
CRASHES_FOUND = [
    "icd10cm: an order-file line cut to 14 characters raised IndexError (line[14])",
    "icd10cm, hcpcs: a damaged zip (unsupported compression method, encrypted flag, corrupt LZMA data, a "
    "member name flagged UTF-8 that is not) raised NotImplementedError / RuntimeError / lzma.LZMAError / "
    "UnicodeDecodeError instead of a refusal",
    "icd10cm_tabular: an XML declaration naming an unknown or multi-byte encoding raised LookupError / ValueError",
    "nucc, crosswalk, modifiers, mpfs, payers: a CSV cell over 131,072 characters (a long line, an unclosed "
    "quote) raised csv.Error",
    "ncci: such a cell was reported one line after the line holding it",
    "ncci: a gzip holding a byte that is not UTF-8 and also truncated or corrupt raised EOFError / "
    "BadGzipFile while the reader looked for the bad byte's line",
    "ncci read_mue: units written with a digit int() cannot read ('\u00b2') raised ValueError",
    "ncci: a file name with year 0000 (ptp_0000-05.csv) raised ValueError",
    "nucc: a short row in the nucc_file_info.csv beside the file raised AttributeError",
    "payers: rows after a form feed, U+2028 or a quoted cell holding a line break were reported on the wrong "
    "line (str.splitlines, and record numbers instead of physical lines)",
    "briefing: a 96,000-character line of 'payer payer ...' took 18 s (a quadratic prose pattern; the gap is "
    "now bounded; tests/test_briefing.py reads 200,000 characters)",
]
MIN_TOTAL = 10_000


@pytest.fixture(autouse=True, scope="module")
def _figures() -> Iterator[None]:
    yield
    record("fuzz_readers", cases=dict(sorted(CASES.items())), cases_by_test=dict(sorted(BY_TEST.items())),
           total=sum(CASES.values()), crashes_found=CRASHES_FOUND)


def _count(test: str, label: str, reader: str) -> None:
    CASES[reader] += 1
    BY_TEST[f"{test}: {label}"] += 1
    RAN.add((test, label))


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- samples of the real files ----------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _head(path: Path, n: int) -> list[str]:
    """The first ``n`` physical lines of a file, without their line ends."""
    with open(path, "rb") as fh:
        return [_decode(raw).rstrip("\r\n") for raw in itertools.islice(fh, n)]


def _zip_head(path: Path, pattern: str, n: int) -> tuple[str, list[str]]:
    with zipfile.ZipFile(path) as zf:
        name = next(m for m in zf.namelist() if re.search(pattern, m))
        with zf.open(name) as fh:
            return name, [_decode(raw).rstrip("\r\n") for raw in itertools.islice(fh, n)]


def _records(lines: list[str], delimiter: str = ",") -> list[str]:
    """CSV records one per line (records with a line break inside a cell left out)."""
    out = []
    for cells in csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=delimiter):
        if any("\n" in c or "\r" in c for c in cells):
            continue
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(cells)
        out.append(buf.getvalue())
    return out


@dataclass(frozen=True)
class Kind:
    """One reader with one sample layout."""

    label: str  # the name in the figures
    reader: str  # key of READERS
    names: tuple[str, ...]  # file names to use (the first is the real one)
    lines: tuple[str, ...]  # the sample, one record per line
    header: int  # leading notice / header lines
    bad_row: str | None = None  # a row whose code is not a code (None: no line test)
    delim: str = ","  # "" for fixed width
    member: str = ""  # zip member name for zipped kinds
    encoding: str = "utf-8"
    snippets: tuple[str, ...] = ()  # lines in the file's own idiom to insert
    slots: tuple[int, ...] = ()  # where bad_row may go (default: anywhere after the header)
    from_column: int = 0  # odd characters are inserted from this column on in the line test
    xml: bool = False

    def insert_slots(self) -> tuple[int, ...]:
        return self.slots or tuple(range(self.header, len(self.lines) + 1))


def _briefing_kind() -> Kind:
    lines = _head(DATA / "briefings" / "cpt-74360.txt", 200)
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| Modifier |")) + 2
    # the seed's modifier rows have no leading pipe; the taxonomy table right after them does
    end = next(i for i in range(start, len(lines)) if "|" not in lines[i] or lines[i].startswith("|"))
    return Kind(
        "briefing", "briefing", ("cpt-74360.txt", "brief.txt"), tuple(lines), 2,
        bad_row="ZZ9 | Fixture: not a modifier | never", delim="|", slots=tuple(range(start, end + 1)),
        snippets=("| Modifier | Description | When to Use |", "|---|---|---|", "| ICD-10 Code | Description |",
                  "| Payer | Coverage Position | Notes |", "| Taxonomy Code | Specialty | Notes |",
                  "| CPT Code | Description | Relationship to This Procedure |", "| HCPCS Code | Description |",
                  "| Modifier | ICD-10 Code |", "| Widget | Colour |", "CPT 74360: Fixture title", "HCPCS G0008: x",
                  "CPT 7436: short", "CPT 99999 - dash", "Key payers discussed include Aetna, Cigna and Medicare.",
                  "Payers include Blue Cross and Blue Shield, or Humana & Kaiser.", "Service Type: Not provided",
                  "Typical Site of Service:", "| 26 |", "|", "||||", "| | |", "K22.2 | x | Data not available",
                  "Medicare | Covered | Data not available in the input", "74360 | self | bundled",
                  "(N/A)", "Data not available in the input"),
    )


def _tabular_kind() -> Kind:
    lines = _head(TESTDATA / "codesets" / "icd10cm" / "mini-tabular-October-1-2025.xml", 200)
    slots = tuple(i + 1 for i, ln in enumerate(lines) if ln.strip() == "</diag>")
    return Kind(
        "icd10cm-tabular", "icd10cm-tabular",
        ("icd10cm-tabular-October-1-2025.xml", "tabular.xml", "icd10cm-tabular-Foo-1-2026.xml",
         "icd10cm-tabular-April-99-2026.xml", "icd10cm-tabular-april-\u0663-2026.xml"),
        tuple(lines), 2,
        bad_row="<diag><name>!!</name><excludes1><note>Fixture (K20.-)</note></excludes1></diag>",
        delim="", slots=slots, xml=True,
        snippets=('<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="latin-1"?>',
                  '<?xml version="1.0" encoding="utf-16"?>', '<?xml version="1.0" encoding="cp932"?>',
                  '<?xml version="1.0" encoding="no-such-codec"?>', '<!DOCTYPE t [<!ENTITY e "ee">]>',
                  '<!DOCTYPE t SYSTEM "http://example.invalid/t.dtd">', "&e;", "&undefined;", "&#0;",
                  "<![CDATA[ (K20.-) ]]>", "<diag>", "</diag>", "<name>K99</name>", "<name></name>",
                  "<excludes1><note>x (K20.-, C00-D49, E08-E13 with .42)</note></excludes1>",
                  "<excludes1><note>(QA0.-) (K22.7-) (D29.2.-)</note></excludes1>", "<note>", "</note>",
                  "<!-- comment -->", "<ICD10CM.tabular>", "</ICD10CM.tabular>", "<version>2026</version>",
                  "<a xmlns='urn:x'><b/></a>", "<x:y xmlns:x='urn:x'/>", "<?pi data?>"),
    )


def _csv_kind(label: str, reader: str, names: tuple[str, ...], lines: list[str], header: int, bad_row: str,
              **kw: Any) -> Kind:
    head = lines[:header]
    extra = ("", ",,,,", '"', '"unclosed', 'a,"b', '""', "\ufeff" + head[-1], ",".join(["x"] * 40))
    return Kind(label, reader, names, tuple(lines), header, bad_row=bad_row,
                snippets=tuple(head) + extra + kw.pop("snippets", ()), **kw)


def _kinds() -> list[Kind]:
    kinds = [_briefing_kind()]
    kinds.append(_csv_kind("payers", "payers", ("payers.csv",), _records(_head(DATA / "payers.csv", 40)), 1,
                           "Not An Id!,Fixture payer,,,fixture"))
    order_member, order = _zip_head(DATA / "icd10cm" / "cms_2026_dx.zip", r"icd10cm_order_\d{4}\.txt$", 40)
    kinds.append(Kind(
        "icd10cm", "icd10cm", ("cms_2026_dx.zip", "icd.zip"), tuple(order), 1,
        bad_row="99999 1234567 1 Fixture: not a code", delim="", member=order_member, from_column=17,
        snippets=("00001 A00     0 x", "00002 A000    1 x", "00003 a000    1 x", "00004 A000    2 x",
                  "00005 A000    1", "00006 A000000 ", "00007 A000000 1 ", "00008 A00.0   1 x", "00009 QA0     1 x",
                  "0000A A000    1 x", "00010 A000\t   1 x"),
    ))
    kinds.append(_tabular_kind())
    nucc = _records(_head(DATA / "nucc" / "nucc_taxonomy_251.csv", 60))
    nucc_names = ("nucc_taxonomy_251.csv", "nucc_taxonomy_90.csv", "nucc_taxonomy_00.csv",
                  "nucc_taxonomy_\u0662\u0665\u0661.csv", "taxonomy.csv")
    kinds.append(_csv_kind("nucc", "nucc", nucc_names, nucc, 1, "NOTACODE,Fixture,Fixture,,,,Fixture,Individual",
                           snippets=("Copyright 2009 American Medical Association,x,y,z",
                                     '207Q00000X,G,C,,,"[13/45/2007: marked inactive]"',
                                     "207Q00000X,G,C,,,[2/30/2009: marked inactive]")))
    v9 = _records(_head(TESTDATA / "codesets" / "nucc" / "layout-v9-cp1252.csv", 60))
    kinds.append(_csv_kind("nucc (v9, cp1252)", "nucc", nucc_names, v9, 1, '"NOTACODE","G","C","S","D","N"',
                           encoding="cp1252"))
    kinds.append(_csv_kind(
        "crosswalk", "crosswalk", ("cms_medicare_specialty_taxonomy_crosswalk_2025-01-02.csv", "crosswalk.csv"),
        _records(_head(DATA / "nucc" / "cms_medicare_specialty_taxonomy_crosswalk_2025-01-02.csv", 40)), 1,
        "!!,Fixture type,207Q00000X,x", snippets=("A0[7],Hospital[2],207Q00000X,x", "19,Fixture,,x")))
    mods = _head(TESTDATA / "codesets" / "hcpcs" / "bad-modifier-type.csv", 20) + [
        "LT,HCPCS,Anatomic Side of Body,Fixture: left side", "RT,HCPCS,Anatomic Side of Body,Fixture: right side",
        "26,CPT,General,Fixture: professional part", "TC,HCPCS,General,Fixture: technical part",
        "P1,CPT,Anesthesia,Fixture: healthy patient", "P1,HCPCS,Anesthesia,Fixture: listed twice",
        "KX,HCPCS,,Fixture: no category", "XS,HCPCS,Distinct,Fixture: separate structure"]
    kinds.append(_csv_kind("modifiers", "modifiers", ("modifiers_cpt_and_hcpcs_2024.csv", "mods.csv"), mods, 1,
                           "!!!,HCPCS,General,Fixture: not a modifier"))
    hcpcs_member, hcpcs = _zip_head(DATA / "hcpcs" / "2020-Alpha-Numeric-HCPCS-File.zip", r"ANWEB.*\.txt$", 60)
    first = next(i for i, ln in enumerate(hcpcs) if ln[10:11] in ("3", "7") and ln[5:10].isdigit())
    bad = hcpcs[first][:10] + "Z" + hcpcs[first][11:]
    hcpcs_snippets = (hcpcs[first][:11], hcpcs[first][:5] + "00200" + "4" + "continuation", "     00100" + "3",
                      "A999900100" + "3" + "x" * 257 + "20201332" + "20200101" + "        " + "Q")
    kinds.append(Kind("hcpcs", "hcpcs", ("2020-Alpha-Numeric-HCPCS-File.zip", "hcpcs.zip"), tuple(hcpcs),
                      first + 1, bad_row=bad, delim="", member=hcpcs_member, from_column=20,
                      snippets=hcpcs_snippets, encoding="cp1252"))
    kinds.append(Kind("hcpcs (record file)", "hcpcs", ("HCPC2020_ANWEB_w_disclaimer.txt", "hcpcs.txt"),
                      tuple(hcpcs), first + 1, bad_row=bad, delim="", from_column=20, snippets=hcpcs_snippets,
                      encoding="cp1252"))
    ptp_names = ("ptp_practitioner_2024-07-01_flat.csv", "ptp_flat.csv", "ptp_0000-05.csv",
                 "ptp_2024-13-45_flat.csv", "ptp_20240230.csv", "ptp_\u0662\u0660\u0662\u0664-\u0660\u0667-01.csv",
                 "ptp_07-01-2024.csv")
    flat = _head(DATA / "ncci" / "ptp_practitioner_2024-07-01_flat.csv", 40)
    kinds.append(_csv_kind("ncci-ptp (flat)", "ncci-ptp", ptp_names, flat, 1, "XXXXXXX,74360,*,1,Fixture",
                           snippets=("74360,77002,2024-02-30,1,x", "74360,77002,*,2,x", "74360,77002,*,1",
                                     "74360,77002,20240101,1,x")))
    official = _head(TESTDATA / "codesets" / "ncci" / "ptp-impossible-date.txt", 40)
    for row in flat[1:]:
        c1, c2, deletion, indicator, rationale = (next(csv.reader([row])) + [""] * 5)[:5]
        deletion = deletion.replace("-", "") if deletion != "*" else "*"
        official.append("\t".join((c1, c2, "", "20200101", deletion, indicator, rationale)))
    kinds.append(Kind("ncci-ptp (official)", "ncci-ptp", ("ccipra-v321r0-f1.txt", "ccipra_2025-10-01.txt"),
                      tuple(official), 6, bad_row="XXXXXXX\t74360\t\t20240101\t*\t1\tFixture", delim="\t",
                      snippets=tuple(official[:6]) + ("74360\t77002\t?\t20240101\t*\t1\tx", "74360\t77002",
                                                      "\t\t\t\t\t\t")))
    mue_names = ("ncci_mue_practitioner_2024-07-01.csv", "mue.csv", "MUE_Eff_01-01-2026.csv", "mue_0000-05.csv")
    mue = _head(DATA / "ncci" / "ncci_mue_practitioner_2024-07-01.csv", 40)
    kinds.append(_csv_kind("ncci-mue (flat)", "ncci-mue", mue_names, mue, 1, "XXXXXXX,1,1,Fixture,Practitioner",
                           snippets=("74360,-1,1,x,y", "74360,\u00b2,1,x,y", "74360,\u0663,2,x,y", "74360,1,4,x,y",
                                     "74360,1,2x,x,y")))
    notice = ['"Fixture notice written for these tests: codes only.', "", 'Second paragraph of the notice.",,,',
              '"HCPCS/', 'CPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale']
    indicators = {"1": "1 Line Edit", "2": "2 Date of Service Edit: Policy", "3": "3 Date of Service Edit: Clinical"}
    rows = [next(csv.reader([ln])) for ln in mue[1:]]
    official_mue = notice + [f"{r[0]},{r[1]},{indicators.get(r[2], r[2])},{r[3]}" for r in rows if len(r) > 3]
    kinds.append(Kind("ncci-mue (official)", "ncci-mue", mue_names, tuple(official_mue), len(notice),
                      bad_row="XXXXXXX,1,2 Date of Service Edit: Policy,Fixture", snippets=tuple(notice)))
    addon_names = ("ncci_add_on_code_edits_2024-06.csv", "addon.csv", "addon_0000-05.csv", "addon_2024-13.csv")
    addon = _head(DATA / "ncci" / "ncci_add_on_code_edits_2024-06.csv", 40)
    kinds.append(_csv_kind("ncci-addon", "ncci-addon", addon_names, addon, 1, "74360,XXXXXXX,1",
                           snippets=("CCCCC,77002,2", "cccccc,77002,2", "74360,77002,4")))
    dated = _head(TESTDATA / "codesets" / "ncci" / "addon-with-dates.csv", 40)
    kinds.append(_csv_kind("ncci-addon (dated)", "ncci-addon", addon_names, dated, 1, "74360,XXXXXXX,1,20240101,*",
                           snippets=("74360,77002,1,02/30/2024,*", "74360,77002,1,2024-01-01,12/31/2024")))
    mpfs = _records(_head(DATA / "mpfs" / "PPRRVU2025_Oct_nodesc.csv", 40))
    header = next(i for i, ln in enumerate(mpfs) if ln.startswith("HCPCS,MOD,DESCRIPTION")) + 1
    mpfs_bad = "XXXXXXX" + mpfs[header][mpfs[header].index(","):]
    kinds.append(_csv_kind("mpfs", "mpfs", ("PPRRVU2025_Oct_nodesc.csv", "PPRRVU0000_Xyz.csv", "rvu.csv"), mpfs,
                           header, mpfs_bad, snippets=("HCPCS,MOD,DESCRIPTION",)))
    return kinds


KINDS = _kinds()
BY_LABEL = {k.label: k for k in KINDS}
REGISTRY = payers.load(DATA / "payers.csv", display="data/payers.csv")

# --- the property -----------------------------------------------------------------------------------------

PREFIXES = ("CPT", "HCPCS", "ICD10CM", "MOD", "NUCC", "MSPEC", "PAYER")


def _curie_ok(value: object) -> bool:
    """A string CURIE ``PREFIX:code`` of a known kind whose code has that kind's shape."""
    if not isinstance(value, str):
        return False
    prefix, sep, code = value.partition(":")
    if not sep or prefix not in PREFIXES or not code.isascii() or any(c.isspace() for c in code):
        return False
    return is_icd10cm_code(code) if prefix == "ICD10CM" else is_valid(prefix, code)


def _lines_in(data: bytes) -> int:
    """Physical lines of a file (CRLF, LF or CR end a line); a line end at the end starts an empty one."""
    return len(re.split(rb"\r\n|\r|\n", data))


def check(records: list[Record], shown: str, lines: int | None) -> None:
    """The facts every read must satisfy (see the module docstring)."""
    for i, rec in enumerate(records):
        assert isinstance(rec, Code | Edge | Fact | Gap | Problem | Row | Meta | CodeRange), rec
        origin = rec.origin
        assert origin.path.startswith(shown), f"{rec} does not name the file {shown}"
        assert isinstance(origin.line, int) and origin.line >= 0
        if lines is not None:
            assert origin.line <= lines, f"{rec}: line {origin.line}, but the file has {lines} lines"
        if isinstance(rec, Problem):
            assert rec.message.strip() and str(rec).startswith(origin.path)
            if rec.action == "row skipped" and rec.severity != "info":
                assert origin.line >= 1, f"{rec}: a skipped row without its line"
            if rec.fatal:
                assert i == len(records) - 1, f"records after the file was refused: {records[i + 1:][:3]}"
            assert rec.curie is None or _curie_ok(rec.curie), rec
        elif isinstance(rec, Code):
            assert _curie_ok(rec.curie), rec
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in rec.props), rec
        elif isinstance(rec, Edge):
            assert _curie_ok(rec.subject) and _curie_ok(rec.object), rec
        elif isinstance(rec, Fact):
            # a briefing column kgraph does not know is declared as a property of its own namespace
            assert _curie_ok(rec.subject) or re.fullmatch(r"col:[A-Za-z0-9_-]+", rec.subject), rec
            assert isinstance(rec.value, str | int | date | Ref) and not isinstance(rec.value, bool), rec
        elif isinstance(rec, Gap):
            assert _curie_ok(rec.subject) and (rec.context is None or _curie_ok(rec.context)), rec
        elif isinstance(rec, CodeRange):
            assert _curie_ok(rec.other) and rec.prefix in ("ICD10CM", "CPT", "HCPCS") and rec.written.strip(), rec
            assert all(is_valid(rec.prefix, c) or rec.prefix == "ICD10CM" for c in (rec.first, rec.last) if c), rec
        elif isinstance(rec, Row):
            for _, value in rec.fields:
                assert not isinstance(value, Ref) or _curie_ok(value.curie), rec
                assert isinstance(value, str | int | date | Ref) and not isinstance(value, bool), rec
            assert rec.edge is None or (_curie_ok(rec.edge[0]) and _curie_ok(rec.edge[2])), rec
        elif isinstance(rec, Resource):  # a review note: its own IRI, fields like a row's
            assert rec.curie.startswith("ROW:notes/"), rec
            for _, value in rec.fields:
                assert not isinstance(value, Ref) or _curie_ok(value.curie), rec
        else:
            assert isinstance(rec.key, str) and isinstance(rec.value, str), rec


def read_all(reader: str, path: Path, shown: str, lines: int | None, **kw: Any) -> list[Record]:
    """Every record of a read, checked; [] when the reader raised a KGraphError naming the file."""
    try:
        records = list(READERS[reader](path, display=shown, **kw))
    except KGraphError as exc:
        assert shown in str(exc), f"error does not name the file {shown}: {exc}"
        return []
    check(records, shown, lines)
    return records


# --- writing the cases ------------------------------------------------------------------------------------

_serial = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / f"{next(_serial):06d}-{name}"
    path.write_bytes(data)
    return path


def _shown(path: Path) -> str:
    return f"fuzz/{path.name}"


def _zip(member: str, data: bytes, method: int = zipfile.ZIP_DEFLATED, extra: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        zf.writestr(zipfile.ZipInfo(member, date_time=(2025, 6, 6, 0, 0, 0)), data, compress_type=method)
        for name in extra:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 6, 6, 0, 0, 0)), b"00001 A00     0 x\n")
    return buf.getvalue()


def _pack(kind: Kind, data: bytes) -> bytes:
    return _zip(kind.member, data) if kind.member else data


# --- strategies -------------------------------------------------------------------------------------------

#: odd text: combining marks, RTL, NUL, BOM, non-characters, line and paragraph separators, digits
#: int() reads, case mappings that change length, quotes, delimiters, numbers in the codes' places
ODD = ("\u0301", "e\u0301\u0336", "\u202e", "\u200f", "\u0645\u0631\u062d\u0628\u0627", "\u05e2\u05d1\u05e8",
       "\x00", "\ufeff", "\uffff", "\ufdd0", "\U0010ffff", "\U0001f600", "\u00a0", "\u2028", "\u2029", "\x85",
       "\x0c", "\x0b", "\x1c", "\x1e", "\u200b", "\u00b2", "\u0663", "\uff11\uff12\uff13", "\u00df", "\ufb03",
       "\u0130", "\u01c5", "\x7f", "\x1b[31m", "   ", "---", ":", "*", "CCCCC", "20241332", "99999999", "-1",
       "0", "000", "x" * 300, "\t", "\r", "\r\n", "\n", '"', "|", ",", ";", "'", "&", "<", "]]>", "&amp;")
#: the same without what ends a line, a cell or a CSV quote (for the line-number test)
PLAIN_ODD = tuple(s for s in ODD if not set(s) & set('\r\n"|,\t'))
odd_text = st.one_of(st.sampled_from(ODD), st.text(max_size=12))
plain_odd_text = st.one_of(
    st.sampled_from(PLAIN_ODD),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters='\r\n"|,\t'), max_size=12))
#: bytes that are not UTF-8 (Latin-1, lone continuation, truncated sequence, encoded surrogate, overlong)
BAD_BYTES = (b"\xff", b"\xe9", b"\x92", b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88")
EOLS = ("\n", "\r\n", "\r")

Draw = Callable[[st.SearchStrategy[Any]], Any]


def _at(draw: Draw, lines: list[str], extra: int = 0) -> int:
    return draw(st.integers(0, max(len(lines) - 1 + extra, 0)))


def _targets(draw: Draw, lines: list[str]) -> list[int]:
    return list(range(len(lines))) if draw(st.booleans()) else [_at(draw, lines)]


def op_drop_line(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if lines:
        del lines[_at(draw, lines)]
    return lines


def op_duplicate(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    """A row, several rows or a whole table repeated somewhere."""
    if lines:
        i = _at(draw, lines)
        j = draw(st.integers(i + 1, len(lines)))
        k = draw(st.integers(0, len(lines)))
        lines[k:k] = lines[i:j]
    return lines


def op_swap(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if lines:
        i, j = _at(draw, lines), _at(draw, lines)
        lines[i], lines[j] = lines[j], lines[i]
    return lines


def op_cut(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    """The file cut short inside a line."""
    if not lines:
        return lines
    i = _at(draw, lines)
    return lines[:i] + [lines[i][: draw(st.integers(0, len(lines[i])))]]


def op_cut_line(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if lines:
        i = _at(draw, lines)
        lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return lines


def op_drop_column(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if not lines:
        return lines
    targets = _targets(draw, lines)
    if kind.delim:
        col = draw(st.integers(0, 9))
        for i in targets:
            cells = lines[i].split(kind.delim)
            if col < len(cells):
                del cells[col]
            lines[i] = kind.delim.join(cells)
    else:
        start, width = draw(st.integers(0, 320)), draw(st.integers(1, 40))
        for i in targets:
            lines[i] = lines[i][:start] + lines[i][start + width:]
    return lines


def op_extra_column(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if not lines:
        return lines
    targets, value = _targets(draw, lines), draw(odd_text)
    col = draw(st.integers(0, 9))
    for i in targets:
        if kind.delim:
            cells = lines[i].split(kind.delim)
            cells.insert(min(col, len(cells)), value)
            lines[i] = kind.delim.join(cells)
        else:
            at = min(col * 11, len(lines[i]))
            lines[i] = lines[i][:at] + value + lines[i][at:]
    return lines


def op_replace_cell(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if lines and kind.delim:
        i = _at(draw, lines)
        cells = lines[i].split(kind.delim)
        cells[draw(st.integers(0, len(cells) - 1))] = draw(st.one_of(odd_text, st.sampled_from(("", " ", "*"))))
        lines[i] = kind.delim.join(cells)
    elif lines:
        i = _at(draw, lines)
        at, value = draw(st.integers(0, len(lines[i]))), draw(odd_text)
        lines[i] = lines[i][:at] + value + lines[i][at + len(value):]
    return lines


def op_odd(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    if lines:
        i = _at(draw, lines)
        at = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:at] + draw(odd_text) + lines[i][at:]
    return lines


def op_insert_line(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    choices = [odd_text, st.sampled_from(("", "   ", "\t"))]
    if kind.snippets:
        choices.append(st.sampled_from(kind.snippets))
    lines.insert(_at(draw, lines, 1), draw(st.one_of(*choices)))
    return lines


def op_header_only(draw: Draw, lines: list[str], kind: Kind) -> list[str]:
    return lines[: draw(st.integers(0, kind.header + 1))]


LINE_OPS = (op_drop_line, op_duplicate, op_swap, op_cut, op_cut_line, op_drop_column, op_extra_column,
            op_replace_cell, op_odd, op_insert_line, op_insert_line, op_header_only)


def _damage(draw: Draw, data: bytes) -> bytes:
    """Byte-level damage: cut, bytes that are not UTF-8, a BOM, NUL padding, nothing at all."""
    how = draw(st.sampled_from(("none", "none", "none", "cut", "bad bytes", "bom", "nul padding", "empty")))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "bad bytes":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "nul padding":
        return data + b"\x00" * draw(st.integers(1, 40))
    if how == "empty":
        return draw(st.sampled_from((b"", b"\n", b"\r\n", b" \t\n", b"\x00")))
    return data


@st.composite
def sample_text(draw: Draw, kind: Kind, ops: int = 4) -> bytes:
    """The kind's sample after up to ``ops`` line mutations, joined with some line end, encoded."""
    lines = list(kind.lines)
    for _ in range(draw(st.integers(0, ops))):
        lines = draw(st.sampled_from(LINE_OPS))(draw, lines, kind)
    eol = draw(st.sampled_from(EOLS))
    text = eol.join(lines) + draw(st.sampled_from(("", eol)))
    return text.encode(kind.encoding, errors="replace")


@st.composite
def mutated(draw: Draw, kind: Kind) -> bytes:
    return _damage(draw, draw(sample_text(kind)))


# --- 1. arbitrary bytes -----------------------------------------------------------------------------------

FILE_READERS = sorted(k for k in READERS if k != "cpt-modifiers")  # cpt-modifiers reads no file
MAGIC = (b"PK\x03\x04", b"PK\x05\x06" + b"\x00" * 18, b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"\xef\xbb\xbf",
         b"\xff\xfe", b"<?xml version='1.0'?>", b"<ICD10CM.tabular>", b"CPT 74360: x\n", b"id,name\n",
         b"col1,col2,deletion_date,modifier_indicator,rationale\n", b"Column 1\tColumn 2\n",
         b"hcpcs_code,mue_units,mue_mai,mue_rationale\n", b"primary_code,add_on_code,aoc_edit_type\n",
         b"HCPCS,MOD,DESCRIPTION\n", b"Code,Grouping,Classification,Specialization\n",
         b"mod_code,mod_type,mod_description\n", b"00001 A00     0 ")
RAW = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(str.encode),
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=400)).map(b"".join),
    st.tuples(st.sampled_from(MAGIC), st.text(max_size=300).map(str.encode)).map(b"".join),
)
BYTES_EXAMPLES = 160
for _reader in FILE_READERS:
    PLANNED.add(("bytes", _reader))


@pytest.mark.parametrize("reader", FILE_READERS)
@fuzz(BYTES_EXAMPLES)
@given(blob=RAW)
def test_arbitrary_bytes_are_read_or_refused_naming_the_file(folder: Path, reader: str, blob: bytes) -> None:
    """Any file at all, given to any reader: records or Problems naming the file, never a traceback."""
    path = _write(folder, "input.bin", blob)
    try:
        read_all(reader, path, _shown(path), _lines_in(blob))
    finally:
        path.unlink()
    _count("bytes", reader, reader)


# --- 2. real samples, damaged -----------------------------------------------------------------------------

MUTATED_EXAMPLES = 500
for _kind in KINDS:
    PLANNED.add(("mutated", _kind.label))


@pytest.mark.parametrize("label", [k.label for k in KINDS])
@fuzz(MUTATED_EXAMPLES)
@given(data=st.data())
def test_damaged_sample_is_read_with_located_problems(folder: Path, label: str, data: st.DataObject) -> None:
    """A real sample cut short, with rows / tables repeated, columns dropped or added, odd unicode,
    other line ends, bytes that are not UTF-8: the reader ends cleanly and every Problem names the
    file and (for a row) its line."""
    kind = BY_LABEL[label]
    content = data.draw(mutated(kind), label="content")
    name = data.draw(st.sampled_from(kind.names), label="name")
    path = _write(folder, name, _pack(kind, content))
    kw = {"payers": REGISTRY} if kind.reader == "briefing" and data.draw(st.booleans(), label="registry") else {}
    try:
        read_all(kind.reader, path, _shown(path), _lines_in(content), **kw)
    finally:
        path.unlink()
    _count("mutated", label, kind.reader)


# --- 3. a bad row is reported at its physical line ---------------------------------------------------------

LINE_KINDS = [k for k in KINDS if k.bad_row is not None]
LINE_EXAMPLES = 100
for _kind in LINE_KINDS:
    PLANNED.add(("line", _kind.label))

XML_ODD = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="<>&\ufffe\uffff"), max_size=8)


@pytest.mark.parametrize("label", [k.label for k in LINE_KINDS])
@fuzz(LINE_EXAMPLES)
@given(data=st.data())
def test_bad_row_is_reported_at_its_physical_line(folder: Path, label: str, data: st.DataObject) -> None:
    """A row whose code cannot be a code, anywhere among rows holding combining marks, RTL marks, NUL,
    BOM, U+2028, form feeds and quoted cells with line breaks: the Problem names the line that
    ``grep -n`` shows for it."""
    kind = BY_LABEL[label]
    assert kind.bad_row is not None
    lines = list(kind.lines)
    slot = data.draw(st.sampled_from(kind.insert_slots()), label="slot")
    lines.insert(slot, kind.bad_row)
    for _ in range(data.draw(st.integers(0, 6), label="odd cells")):
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        if i == slot or not _may_change(kind, lines[i], i):
            continue
        at = data.draw(st.integers(min(kind.from_column, len(lines[i])), len(lines[i])), label="column")
        if kind.xml:
            if "<desc>" not in lines[i]:
                continue
            at = lines[i].index("<desc>") + len("<desc>")
        lines[i] = lines[i][:at] + data.draw(XML_ODD if kind.xml else plain_odd_text, label="odd") + lines[i][at:]
    if kind.delim == "," and data.draw(st.booleans(), label="multi-line cell"):
        # a quoted last cell with a line break, in a data row above or below the bad row
        i = data.draw(st.integers(kind.header, len(lines) - 1), label="row")
        if i != slot:
            cells = lines[i].split(",")
            lines[i] = ",".join(cells[:-1] + ['"Fixture note\nwith a line break"'])
    eol = data.draw(st.sampled_from(("\n", "\r\n")), label="eol")
    text = eol.join(lines) + eol
    expected = (eol.join(lines[:slot]) + eol).count("\n") + 1 if slot else 1
    content = text.encode(kind.encoding, errors="replace")
    path = _write(folder, kind.names[0], _pack(kind, content))
    try:
        records = read_all(kind.reader, path, _shown(path), _lines_in(content))
    finally:
        path.unlink()
    where = _shown(path) + (f"!{kind.member}" if kind.member else "")
    found = [r for r in records if isinstance(r, Problem) and r.origin.path == where and r.origin.line == expected
             and r.action == "row skipped"]
    assert found, (f"no Problem on line {expected} ({kind.bad_row!r}); problems: "
                   f"{[str(r) for r in records if isinstance(r, Problem)][:6]}")
    _count("line", label, kind.reader)


def _may_change(kind: Kind, line: str, i: int) -> bool:
    """Lines that may get odd characters without changing what the file is (its title and headers)."""
    if kind.reader == "briefing":
        return "|" not in line and not TITLE_RE.match(line)
    return kind.xml or i >= kind.header


# --- 4. damaged zips ----------------------------------------------------------------------------------------

ZIP_KINDS = [k for k in KINDS if k.member]
ZIP_EXAMPLES = 240
for _kind in ZIP_KINDS:
    PLANNED.add(("zip", _kind.label))
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def _patch(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Every local / central header (found by its signature) with one field overwritten."""
    out = bytearray(data)
    for m in re.finditer(re.escape(signature), data):
        at = m.start() + offset
        if at + struct.calcsize(fmt) <= len(out):
            struct.pack_into(fmt, out, at, value)
    return bytes(out)


@st.composite
def damaged_zip(draw: Draw, kind: Kind) -> tuple[bytes, int | None]:
    """(zip bytes, physical lines of the member, or None when the zip's bytes were patched after writing)."""
    content = draw(sample_text(kind, ops=2))
    member = draw(st.sampled_from((kind.member, f"sub/{kind.member}", kind.member.replace("2026", "0000"),
                                   kind.member.upper(), "other.txt", "icd10cm_order_2026.txt\u202e",
                                   "HCPC2020_ANWEB_\u00e9.txt")))
    extra = draw(st.sampled_from(((), ("icd10cm_order_2025.txt",), ("HCPC2021_ANWEB.txt",), ("README.txt",))))
    data = _zip(member, content, draw(st.sampled_from(METHODS)), extra)
    how = draw(st.sampled_from(("none", "cut", "bytes", "method", "flags", "garbage", "utf8 name")))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))], _lines_in(content)
    if how == "bytes":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out), None
    if how == "method":
        value = draw(st.sampled_from((0, 1, 8, 9, 12, 14, 93, 99, 0xFFFF)))
        return _patch(_patch(data, b"PK\x01\x02", 10, "<H", value), b"PK\x03\x04", 8, "<H", value), None
    if how == "flags":
        value = draw(st.sampled_from((0x1, 0x8, 0x40, 0x800, 0x2000)))
        return _patch(_patch(data, b"PK\x01\x02", 8, "<H", value), b"PK\x03\x04", 6, "<H", value), None
    if how == "garbage":
        junk = draw(st.binary(min_size=1, max_size=64))
        return (junk + data if draw(st.booleans()) else data + junk), _lines_in(content)
    if how == "utf8 name":
        # the UTF-8 flag on a name that is not UTF-8
        return _patch(_patch(data.replace(b"order", b"ord\xffr").replace(b"ANWEB", b"ANW\xffB"),
                             b"PK\x01\x02", 8, "<H", 0x800), b"PK\x03\x04", 6, "<H", 0x800), None
    return data, _lines_in(content)


@pytest.mark.parametrize("label", [k.label for k in ZIP_KINDS])
@fuzz(ZIP_EXAMPLES)
@given(data=st.data())
def test_damaged_zip_is_refused_naming_the_zip(folder: Path, label: str, data: st.DataObject) -> None:
    """A zip cut short, with bytes changed, an unknown or unsupported compression method, the
    encrypted flag, a name that is not UTF-8, garbage around it, or no member to read: the zip is
    refused with a Problem naming it (or read, if nothing that matters was hit), never a traceback."""
    kind = BY_LABEL[label]
    blob, lines = data.draw(damaged_zip(kind), label="zip")
    if kind.reader == "icd10cm" and data.draw(st.booleans(), label="as a directory"):
        # a directory of zips: this one and, maybe, a good one of another or the same year
        where = folder / f"{next(_serial):06d}-dir"
        where.mkdir()
        (where / "cms_2026_dx.zip").write_bytes(blob)
        twin = data.draw(st.sampled_from((None, "icd10cm_order_2025.txt", "icd10cm_order_2026.txt")), label="twin")
        if twin:
            (where / "cms_2025_dx.zip").write_bytes(_zip(twin, "\n".join(kind.lines).encode()))
        try:
            read_all(kind.reader, where, _shown(where), None)
        finally:
            for p in where.iterdir():
                p.unlink()
            where.rmdir()
    else:
        path = _write(folder, kind.names[0], blob)
        try:
            read_all(kind.reader, path, _shown(path), lines)
        finally:
            path.unlink()
    _count("zip", label, kind.reader)


# --- 5. gzipped NCCI files ----------------------------------------------------------------------------------

GZ_KINDS = [k for k in KINDS if k.reader.startswith("ncci-")]
GZ_EXAMPLES = 110
for _kind in GZ_KINDS:
    PLANNED.add(("gzip", _kind.label))


@pytest.mark.parametrize("label", [k.label for k in GZ_KINDS])
@fuzz(GZ_EXAMPLES)
@given(data=st.data())
def test_damaged_gzip_is_refused_at_the_line_it_breaks(folder: Path, label: str, data: st.DataObject) -> None:
    """An NCCI file gzipped, then cut, with bytes changed, garbage appended or a second member:
    rows before the damage are read, then the file is refused naming it, never a traceback."""
    kind = BY_LABEL[label]
    content = data.draw(sample_text(kind, ops=3), label="content")
    if data.draw(st.booleans(), label="bad bytes"):
        at = data.draw(st.integers(0, len(content)), label="at")
        content = content[:at] + data.draw(st.sampled_from(BAD_BYTES), label="bytes") + content[at:]
    blob = gzip.compress(content, mtime=0)
    how = data.draw(st.sampled_from(("none", "cut", "bytes", "garbage", "two members")), label="damage")
    if how == "cut":
        blob = blob[: data.draw(st.integers(0, len(blob)), label="cut")]
    elif how == "bytes":
        out = bytearray(blob)
        out[data.draw(st.integers(0, len(out) - 1), label="at")] ^= data.draw(st.integers(1, 255), label="xor")
        blob = bytes(out)
    elif how == "garbage":
        blob += data.draw(st.binary(min_size=1, max_size=40), label="junk")
    elif how == "two members":
        blob += gzip.compress(content[: data.draw(st.integers(0, len(content)), label="cut")], mtime=0)
    name = data.draw(st.sampled_from(kind.names), label="name") + ".gz"
    path = _write(folder, name, blob)
    try:
        read_all(kind.reader, path, _shown(path), None if how in ("bytes", "two members") else _lines_in(content))
    finally:
        path.unlink()
    _count("gzip", label, kind.reader)


# --- 6. very long lines -------------------------------------------------------------------------------------

LONG_EXAMPLES = 8
for _kind in KINDS:
    PLANNED.add(("long", _kind.label))
CHUNKS = ("x", "\u00e9", "\u202e", "0", " ", "a,b", "a\tb", "\x00", '"', "|", "\ufeff", "e\u0301")


@pytest.mark.parametrize("label", [k.label for k in KINDS])
@fuzz(LONG_EXAMPLES)
@given(data=st.data())
def test_very_long_line_is_read_or_refused(folder: Path, label: str, data: st.DataObject) -> None:
    """A line of 100,000 or 150,000 characters, as a line of its own or a cell grown that long: read,
    or refused naming file and line. A CSV cell of 150,000 characters (past the csv module's limit of
    131,072) refuses the file at that line."""
    kind = BY_LABEL[label]
    lines = list(kind.lines)
    length = data.draw(st.sampled_from((150_000, 100_000)), label="length")
    chunk = data.draw(st.sampled_from(CHUNKS), label="chunk")
    long = (chunk * (length // len(chunk) + 1))[:length]
    i = data.draw(st.integers(0, len(lines)), label="line")
    if i < len(lines) and data.draw(st.booleans(), label="grow a cell"):
        lines[i] += long
    else:
        lines.insert(i, long)
    content = "\n".join(lines).encode(kind.encoding, errors="replace")
    path = _write(folder, kind.names[0], _pack(kind, content))
    try:
        records = read_all(kind.reader, path, _shown(path), _lines_in(content))
    finally:
        path.unlink()
    for problem in (r for r in records if isinstance(r, Problem) and "field limit" in r.message):
        assert problem.origin.line == i + 1, f"{problem}: the long line is line {i + 1}"
    if kind.delim in (",", "\t") and length == 150_000 and not set(chunk) & {kind.delim, '"', "\x00"}:
        assert any(isinstance(r, Problem) and r.fatal and r.origin.line == i + 1 for r in records), (
            f"no refusal at line {i + 1}: {[str(r) for r in records if isinstance(r, Problem)][:4]}")
    _count("long", label, kind.reader)


# --- 7. the NUCC release table next to a taxonomy file ------------------------------------------------------

INFO_EXAMPLES = 120
PLANNED.add(("info", "nucc (nucc_file_info.csv)"))
INFO = _csv_kind("nucc_file_info", "nucc", ("nucc_file_info.csv",),
                 _records(_head(DATA / "nucc" / "nucc_file_info.csv", 40)), 1, "x")


@fuzz(INFO_EXAMPLES)
@given(info=mutated(INFO))
def test_damaged_release_table_does_not_break_the_nucc_read(folder: Path, info: bytes) -> None:
    """A damaged ``nucc_file_info.csv`` beside a NUCC file (short rows, extra cells, odd unicode):
    the taxonomy is still read; at worst the release date is not known."""
    where = folder / "nucc-info"
    where.mkdir(exist_ok=True)
    (where / "nucc_file_info.csv").write_bytes(info)
    path = where / "nucc_taxonomy_251.csv"
    if not path.exists():
        path.write_bytes("\n".join(BY_LABEL["nucc"].lines).encode())
    records = read_all("nucc", path, "nucc_taxonomy_251.csv", None)
    assert any(isinstance(r, Code) for r in records)
    effective = [r.value for r in records if isinstance(r, Meta) and r.key == "effective"]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in effective)
    _count("info", "nucc (nucc_file_info.csv)", "nucc")


# --- the count ----------------------------------------------------------------------------------------------


def test_at_least_10000_generated_cases_ran() -> None:
    """The tests above ran at least 10,000 generated cases in all (skipped when only some were selected)."""
    missing = PLANNED - RAN
    if missing:
        pytest.skip(f"only part of the fuzz tests ran ({len(missing)} of {len(PLANNED)} not run)")
    total = sum(CASES.values())
    assert total >= MIN_TOTAL, f"{total} cases ran: {dict(CASES)}"
