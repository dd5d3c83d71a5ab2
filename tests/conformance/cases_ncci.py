"""NCCI cases: PTP modifier indicators 0 / 1 / 9, bypass by every NCCI-associated modifier and on
which line, effective and deletion dates, the release in force with two releases and an excerpt
loaded, MUE adjudication indicators 1 / 2 / 3 and add-on edit types 1 / 2 / 3.

Expectations restate the CMS definitions: the PTP file header (modifier indicator 0 = not allowed,
1 = allowed, 9 = not applicable) and the NCCI Policy Manual ch. I s E (NCCI-associated modifiers:
anatomic E1-E4, FA, F1-F9, LC, LD, LM, RC, RI, LT, RT, TA, T1-T9; global surgery 24, 25, 57, 58,
78, 79; others 27, 59, 91, XE, XP, XS, XU; 24, 25 and 57 on E/M services only; 59 and X{EPSU}
not for E/M services, CMS MLN1783722); an edit applies from its effective date through its
deletion date; the MUE file's adjudication indicator (1 line edit, 2 date of service policy, 3
date of service clinical); the add-on file's edit types (1 listed primaries only, 2 none listed,
3 some listed).
"""

from __future__ import annotations

from tests.conformance.conftest import ADDON, EXCERPT, MUE, PTP, Case, Raw
from tests.conformance.written import line as written_line

DATE = "2024-08-01"  # in the July 2024 quarter of the flat PTP and MUE files

EM_PAIR = Raw.of(PTP, 421507, col1="20610", col2="99214", deletion="*", indicator="1")
EM_FIRST = Raw.of(PTP, 2457027, col1="99214", col2="43752", deletion="*", indicator="1")
PAIR_1 = Raw.of(PTP, 2004244, col1="64483", col2="20550", deletion="*", indicator="1")
PAIR_0 = Raw.of(PTP, 3382, col1="00100", col2="36010", deletion="*", indicator="0")
PAIR_9 = Raw.of(PTP, 3371, col1="00100", col2="0253T", deletion="2011-01-01", indicator="9")
DELETED = Raw.of(PTP, 412503, col1="20100", col2="99217", deletion="2022-12-31", indicator="1")
MANUAL = "NCCI Policy Manual ch. I s E (Modifiers and Modifier Indicators)"

ANATOMIC = ("E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD", "LM",
            "RC", "RI", "LT", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9")
EITHER_LINE = ("58", "78", "79", "59", "XE", "XP", "XS", "XU", "91")
EM_ONLY = ("24", "25", "57", "27")


def ptp_cases() -> list[Case]:
    out = [
        Case("ptp-1-no-modifier", "real", ("64483", "20550"), DATE, expect=(("ncci.ptp", "error"),), status="fail",
             basis=(PAIR_1,), definition="modifier indicator 1 without a modifier: column 2 is denied", line=2004244),
        Case("ptp-1-26-is-not-ncci-associated", "real", ("64483", "20550-26"), DATE, expect=(("ncci.ptp", "error"),),
             basis=(PAIR_1,), definition=f"{MANUAL}: 26 is not an NCCI-associated modifier"),
        Case("ptp-QK-is-not-ncci-associated", "real", ("64483", "20550-QK"), DATE, expect=(("ncci.ptp", "error"),),
             absent=("ncci.ptp-bypassed",), basis=(PAIR_1,),
             definition=f"{MANUAL}: an anesthesia modifier is not NCCI-associated"),
        Case("ptp-0-no-modifier", "real", ("00100", "36010"), DATE, expect=(("ncci.ptp", "error"),), basis=(PAIR_0,),
             definition="modifier indicator 0: no modifier bypasses the edit", line=3382),
        Case("ptp-0-with-59", "real", ("00100", "36010-59"), DATE, expect=(("ncci.ptp", "error"),),
             absent=("ncci.ptp-bypassed",), basis=(PAIR_0,), definition="modifier indicator 0: not even 59"),
        Case("ptp-0-with-XS-on-column-1", "real", ("00100-XS", "36010"), DATE, expect=(("ncci.ptp", "error"),),
             absent=("ncci.ptp-bypassed",), basis=(PAIR_0,), definition="modifier indicator 0: not even XS"),
        Case("ptp-9-never-applies", "real", ("00100", "0253T"), "2010-06-01",
             absent=("ncci.ptp", "ncci.ptp-unknown", "ncci.ptp-bypassed"), basis=(PAIR_9,),
             definition="modifier indicator 9: not applicable (the edit was deleted back to its effective date)"),
        Case("ptp-9-never-applies-after", "real", ("00100", "0253T"), DATE, absent=("ncci.ptp", "ncci.ptp-unknown"),
             basis=(PAIR_9,), definition="modifier indicator 9, after its deletion date too"),
        Case("ptp-other-dates-no-pair", "real", ("64483", {"code": "20550", "date": "2024-08-02"}), DATE,
             absent=("ncci.ptp",), basis=(PAIR_1,), definition="PTP edits pair lines of one date of service"),
        # E/M pairs: 25 bypasses only on the E/M code of the pair
        Case("ptp-em-25-on-em", "real", ("20610", "99214-25"), DATE, expect=(("ncci.ptp-bypassed", "info"),),
             absent=("ncci.ptp", "modifier.em-only"), basis=(EM_PAIR,), definition=f"{MANUAL}: 25 on the E/M code"),
        Case("ptp-em-57-on-em", "real", ("20610", "99214-57"), DATE, expect=(("ncci.ptp-bypassed", "info"),),
             absent=("ncci.ptp",), basis=(EM_PAIR,), definition=f"{MANUAL}: 57 on the E/M code"),
        Case("ptp-em-24-on-em", "real", ("20610", "99214-24"), DATE, expect=(("ncci.ptp-bypassed", "info"),),
             absent=("ncci.ptp",), basis=(EM_PAIR,), definition=f"{MANUAL}: 24 on the E/M code"),
        Case("ptp-em-25-on-procedure", "real", ("20610-25", "99214"), DATE,
             expect=(("ncci.ptp", "error"), ("modifier.em-only", "warning")), absent=("ncci.ptp-bypassed",),
             basis=(EM_PAIR,), definition=f"{MANUAL}: 25 on 20610, not an E/M service, bypasses nothing"),
        Case("ptp-em-59-on-procedure", "real", ("20610-59", "99214"), DATE, expect=(("ncci.ptp", "error"),),
             absent=("ncci.ptp-bypassed",), basis=(EM_PAIR,),
             definition="CMS MLN1783722: 59 and X{EPSU} are not used for an edit with an E/M service"),
        Case("ptp-em-XU-on-em", "real", ("20610", "99214-XU"), DATE, expect=(("ncci.ptp", "error"),),
             absent=("ncci.ptp-bypassed",), basis=(EM_PAIR,),
             definition="CMS MLN1783722: X{EPSU} are not used on E/M services"),
        Case("ptp-em-first-25", "real", ("99214-25", "43752"), DATE, expect=(("ncci.ptp-bypassed", "info"),),
             absent=("ncci.ptp",), basis=(EM_FIRST,), definition=f"{MANUAL}: 25 on the E/M code in column 1"),
        Case("ptp-em-first-no-modifier", "real", ("99214", "43752"), DATE, expect=(("ncci.ptp", "error"),),
             basis=(EM_FIRST,), definition="modifier indicator 1 without a modifier", line=2457027),
        Case("ptp-em-active-row-of-two", "real", ("20610", "99214"), DATE, expect=(("ncci.ptp", "error"),),
             basis=(EM_PAIR, Raw.of(PTP, 421750, col1="20610", col2="99214", deletion="2019-12-31", indicator="1")),
             definition="the row deleted 2019-12-31 is not in effect; the active row (*) is", line=421507),
    ]
    for mod in EITHER_LINE:
        out.append(Case(f"ptp-bypass-{mod}-column-2", "real", ("64483", f"20550-{mod}"), DATE,
                        expect=(("ncci.ptp-bypassed", "info"),), absent=("ncci.ptp",), basis=(PAIR_1,),
                        definition=f"{MANUAL}: {mod} is NCCI-associated and bypasses on either line"))
        out.append(Case(f"ptp-bypass-{mod}-column-1", "real", (f"64483-{mod}", "20550"), DATE,
                        expect=(("ncci.ptp-bypassed", "info"),), absent=("ncci.ptp",), basis=(PAIR_1,),
                        definition=f"{MANUAL}: {mod} is NCCI-associated and bypasses on either line"))
    for mod in ANATOMIC:
        out.append(Case(f"ptp-anatomic-{mod}-one-line", "real", ("64483", f"20550-{mod}"), DATE,
                        expect=(("ncci.ptp-bypassed", "info"),), absent=("ncci.ptp",), basis=(PAIR_1,),
                        definition=f"{MANUAL}: anatomic modifier {mod}, a site the other line does not name"))
        out.append(Case(f"ptp-anatomic-{mod}-both-lines", "real", (f"64483-{mod}", f"20550-{mod}"), DATE,
                        expect=(("ncci.ptp", "error"),), absent=("ncci.ptp-bypassed",), basis=(PAIR_1,),
                        definition=f"{MANUAL}: {mod} on both lines names the same site, not a different one"))
    for mod in EM_ONLY:
        out.append(Case(f"ptp-em-modifier-{mod}-on-non-em-pair", "real", ("64483", f"20550-{mod}"), DATE,
                        expect=(("ncci.ptp", "error"), ("modifier.em-only", "warning")),
                        absent=("ncci.ptp-bypassed",), basis=(PAIR_1,),
                        definition=f"{MANUAL}: {mod} belongs on an E/M service; 20550 is not one"))
    # a deleted flat row, before the file's date: unknown up to the deletion, no edit after it
    for day, expect in (("2022-12-30", "unknown"), ("2022-12-31", "unknown"), ("2023-01-01", None)):
        out.append(Case(f"ptp-flat-deletion-{day}", "real", ("20100", "99217"), day,
                        expect=(("ncci.ptp-unknown", "warning"),) if expect else (),
                        absent=("ncci.ptp",) + (() if expect else ("ncci.ptp-unknown",)), basis=(DELETED,),
                        definition="an edit applies through its deletion date; a flat file without effective dates "
                                   "cannot say whether it applied before the file's date"))
    return out


def excerpt_cases() -> list[Case]:
    """The official 2026 excerpt (loaded as an excerpt) over the July 2024 flat file."""
    def row(line: int, c1: str, c2: str, eff: str, dele: str, mi: str) -> Raw:
        return Raw.of(EXCERPT, line, col1=c1, col2=c2, effective=eff, deletion=dele, indicator=mi)

    r_0417 = row(24, "0001U", "0417U", "20250101", "*", "1")
    r_0428 = row(25, "0001U", "0428U", "20241001", "20241231", "1")
    r_0029 = row(21, "0001U", "0029U", "20180701", "20260630", "1")
    r_36591 = row(8, "0001A", "36591", "20220101", "20231231", "0")
    r_90473 = row(10, "0001A", "90473", "20220101", "20220101", "9")
    r_0002t = row(18, "0001T", "0002T", "20030101", "20040331", "1")
    flat_0029 = Raw.of(PTP, 84, col1="0001U", col2="0029U", deletion="*", indicator="1")
    out = []
    for day, hit in (("2024-12-31", False), ("2025-01-01", True), ("2025-01-02", True)):
        out.append(_edit(f"excerpt-effective-0417U-{day}", ("0001U", "0417U"), day, hit, (r_0417,),
                         "an edit applies from its effective date (2025-01-01)"))
    for day, hit in (("2024-09-30", False), ("2024-10-01", True), ("2024-12-31", True), ("2025-01-01", False)):
        out.append(_edit(f"excerpt-0428U-{day}", ("0001U", "0428U"), day, hit, (r_0428,),
                         "an edit applies from its effective date through its deletion date"))
    for day, hit in (("2026-06-29", True), ("2026-06-30", True), ("2026-07-01", False)):
        out.append(_edit(f"excerpt-deletion-beats-older-active-{day}", ("0001U", "0029U"), day, hit,
                         (r_0029, flat_0029), "the newer release's deletion (2026-06-30) overrides the older "
                                              "release's active row of the same pair"))
    for day, hit in (("2023-12-31", True), ("2024-01-01", False)):
        out.append(_edit(f"excerpt-36591-{day}", ("0001A", "36591"), day, hit, (r_36591,),
                         "the official row's dates answer, not the flat file's unknown effective date"))
    out.append(_edit("excerpt-9-2022-01-01", ("0001A", "90473"), "2022-01-01", False, (r_90473,),
                     "modifier indicator 9 with equal effective and deletion dates: never applied"))
    out.append(_edit("excerpt-only-pair-2003", ("0001T", "0002T"), "2003-06-01", True, (r_0002t,),
                     "an excerpt's rows answer for the pairs it lists, also before the flat file's date"))
    return out


def _edit(case_id: str, codes: tuple[str, str], day: str, hit: bool, basis: tuple[Raw, ...], why: str,
          store: str = "real", error: str = "ncci.ptp") -> Case:
    if hit:
        return Case(case_id, store, codes, day, expect=((error, "error"),), basis=basis, definition=why)
    return Case(case_id, store, codes, day, absent=("ncci.ptp", "ncci.ptp-unknown", "ncci.ptp-bypassed"),
                basis=basis, definition=why)


def release_cases() -> list[Case]:
    """Two complete official releases (October 2025, January 2026) and an April 2026 excerpt."""
    oct_, jan, apr = "ptp-2025-10-01.txt", "ptp-2026-01-01.txt", "ptp-2026-04-01-excerpt.txt"

    def raw(file: str, key: str, c1: str, c2: str, eff: str, dele: str, mi: str) -> Raw:
        return Raw.of(f"written/{file}", written_line(file, key), col1=c1, col2=c2, effective=eff, deletion=dele,
                      indicator=mi)

    p1 = (raw(oct_, "pair1", "29877", "29880", "20210101", "*", "0"),
          raw(jan, "pair1", "29877", "29880", "20210101", "20251231", "0"))
    p2 = (raw(jan, "pair2", "64483", "64479", "20260101", "*", "0"),)
    p3 = (raw(jan, "pair3", "20552", "20553", "20200101", "*", "1"),
          raw(apr, "pair3", "20552", "20553", "20200101", "20260331", "1"))
    p4 = (raw(jan, "pair4", "12001", "12002", "20200101", "*", "0"),)
    why = "the newest complete release in force on the date decides for the family"
    out = []
    for day, hit in (("2025-12-30", True), ("2025-12-31", True), ("2026-01-01", False), ("2026-02-01", False)):
        out.append(_edit(f"releases-pair1-{day}", ("29877", "29880"), day, hit, p1, why, "written"))
    for day, hit in (("2025-12-31", False), ("2026-01-01", True), ("2026-01-02", True)):
        out.append(_edit(f"releases-pair2-{day}", ("64483", "64479"), day, hit, p2, why, "written"))
    for day, hit in (("2026-03-30", True), ("2026-03-31", True), ("2026-04-01", False), ("2026-04-02", False)):
        out.append(Case(f"releases-excerpt-pair3-{day}", "written", ("20552", "20553"), day,
                        expect=(("ncci.ptp", "error"),) if hit else (),
                        absent=() if hit else ("ncci.ptp", "ncci.ptp-bypassed"), basis=p3,
                        definition="an excerpt's row overrides the same pair's row of older releases"))
    for day in ("2026-02-01", "2026-04-15"):
        out.append(_edit(f"releases-excerpt-silent-pair4-{day}", ("12001", "12002"), day, True, p4,
                         "an excerpt says nothing about the pairs it does not list", "written"))
    out.append(Case("releases-out-of-range-2026-05-01", "written", ("12001", "12002"), "2026-05-01",
                    expect=(("data.out-of-range", "info", "ncci-ptp"), ("ncci.ptp", "error")), basis=p4,
                    contains=("2026-01-01",),
                    definition="a date after the newest release's quarter: the nearest release answers, named in "
                               "an info note"))
    return out


def mue_cases() -> list[Case]:
    mai1 = Raw.of(MUE, 10191, code="99486", units="4", mai="1")
    mai2 = Raw.of(MUE, 6154, code="64483", units="1", mai="2")
    mai3 = Raw.of(MUE, 8237, code="85025", units="2", mai="3")
    zero = Raw.of(MUE, 10016, code="99070", units="0", mai="3")
    d1 = "MUE adjudication indicator 1: a claim line edit"
    d2 = "MUE adjudication indicator 2: a date of service edit (policy)"
    d3 = "MUE adjudication indicator 3: a date of service edit (clinical)"
    out = [
        Case("mue-1-at-limit", "real", ("99486x4",), DATE, absent=("mue.units",), basis=(mai1,), definition=d1),
        Case("mue-1-over", "real", ("99486x5",), DATE, expect=(("mue.units", "error"),), basis=(mai1,),
             definition=d1, line=10191),
        Case("mue-1-split-lines", "real", ("99486x3", "99486x3"), DATE, absent=("mue.units",), basis=(mai1,),
             definition=d1 + ": each line on its own"),
        Case("mue-2-at-limit", "real", ("64483",), DATE, absent=("mue.units",), basis=(mai2,), definition=d2),
        Case("mue-2-over", "real", ("64483x2",), DATE, expect=(("mue.units", "error"),), basis=(mai2,),
             definition=d2, line=6154),
        Case("mue-2-split-lines", "real", ("64483", "64483"), DATE, expect=(("mue.units", "error"),), basis=(mai2,),
             definition=d2 + ": the lines of one date add up"),
        Case("mue-2-other-dates", "real", ("64483", {"code": "64483", "date": "2024-08-02"}), DATE,
             absent=("mue.units",), basis=(mai2,), definition=d2 + ": per date of service"),
        Case("mue-3-at-limit", "real", ("85025x2",), DATE, absent=("mue.units",), basis=(mai3,), definition=d3),
        Case("mue-3-split-lines", "real", ("85025x2", "85025"), DATE, expect=(("mue.units", "error"),),
             contains=("on appeal",), basis=(mai3,), definition=d3 + ": payable above it only on appeal"),
        Case("mue-0-never-payable", "real", ("99070",), DATE, expect=(("mue.never-payable", "error"),),
             basis=(zero,), definition="an MUE of 0: the code is not payable for this provider type", line=10016),
    ]
    written = "written/mue-2025-10-01.csv"
    excerpt = "written/mue-2026-04-01-excerpt.csv"
    complete = Raw.of(written, written_line("mue-2025-10-01.csv", "20552"), code="20552", units="1", mai="2")
    over = Raw.of(excerpt, written_line("mue-2026-04-01-excerpt.csv", "20552"), code="20552", units="3", mai="2")
    other = Raw.of(written, written_line("mue-2025-10-01.csv", "20553"), code="20553", units="1", mai="3")
    why = "an MUE excerpt without effective dates overrides the complete release from its own date"
    out += [
        Case("mue-release-before-excerpt", "written", ("20552x2",), "2026-03-31", expect=(("mue.units", "error"),),
             basis=(complete, over), definition=why),
        Case("mue-release-excerpt-in-force", "written", ("20552x2",), "2026-04-01", absent=("mue.units",),
             basis=(complete, over), definition=why),
        Case("mue-release-excerpt-over", "written", ("20552x4",), "2026-04-01", expect=(("mue.units", "error"),),
             contains=("mue-2026-04-01-excerpt.csv",), basis=(over,), definition=why),
        Case("mue-release-excerpt-silent", "written", ("20553x2",), "2026-04-01", expect=(("mue.units", "error"),),
             basis=(other,), definition="an excerpt says nothing about the codes it does not list"),
    ]
    return out


def addon_cases() -> list[Case]:
    t1 = Raw.of(ADDON, 5678, primary="10160", addon="77002", type="1")
    t3 = Raw.of(ADDON, 873, primary="11010", addon="20701", type="3")
    t2 = Raw.of(ADDON, 2, primary="CCCCC", addon="0054T", type="2")
    return [
        Case("addon-1-alone", "real", ("77002",), DATE, expect=(("ncci.addon-without-primary", "error"),),
             basis=(t1,), definition="add-on edit type 1: only the primary codes CMS lists"),
        Case("addon-1-with-primary", "real", ("10160", "77002"), DATE, absent=("ncci.addon-without-primary",),
             basis=(t1,), definition="add-on edit type 1 with a listed primary"),
        Case("addon-1-primary-other-date", "real", ("77002", {"code": "10160", "date": "2024-08-02"}), DATE,
             expect=(("ncci.addon-without-primary", "error"),), basis=(t1,),
             definition="an add-on code is reported with its primary on the same date"),
        Case("addon-3-alone", "real", ("20701",), DATE, expect=(("ncci.addon-without-primary", "warning"),),
             basis=(t3,), definition="add-on edit type 3: CMS lists some primaries, others may be eligible"),
        Case("addon-3-with-primary", "real", ("11010", "20701"), DATE, absent=("ncci.addon-without-primary",),
             basis=(t3,), definition="add-on edit type 3 with a listed primary"),
        Case("addon-2-alone", "real", ("0054T",), DATE, expect=(("ncci.addon-without-primary", "info"),),
             basis=(t2,), definition="add-on edit type 2 (primary CCCCC): CMS lists none, the contractor decides"),
    ]


CASES = ptp_cases() + excerpt_cases() + release_cases() + mue_cases() + addon_cases()
