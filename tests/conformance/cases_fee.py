"""Fee-schedule cases: every status code, the payment system of lines outside the fee schedule,
status T, and the modifiers PCTC IND, MULT PROC, BILAT SURG, ASST SURG, CO-SURG, TEAM SURG and
GLOB DAYS allow, each from a row of PPRRVU2025_Oct_nodesc.csv (or one the suite writes).

The expectations restate the PFS relative value file record layout (the file's own documentation
of each field):

* STATUS CODE: A active (paid), B bundled (never separately paid), C contractor priced, D deleted,
  E excluded by regulation, F deleted (no grace period), G not valid (Medicare uses another code,
  grace period), H deleted modifier (the 26 / TC component was deleted), I not valid (no grace
  period), J anesthesia (no RVUs), M measurement (reporting only), N non-covered, P bundled or
  excluded, R restricted coverage, T injection (paid only without another payable PFS service the
  same day), X statutory exclusion. kgraph reports the denials (D F G H I N) as errors, the lines
  that may go unpaid (B P R) as warnings and the lines paid by the contractor or under another
  fee schedule (C E J M X) as info naming that payment system where CMS says (clinical diagnostic
  laboratory and ambulance services are the record layout's own examples for X; drugs under ASP
  pricing, Medicare Claims Processing Manual ch. 17; DMEPOS, ch. 20; vaccines, ch. 18).
* PCTC IND 1: 26 and TC; 6: 26 only; 0, 2-5, 7-9: neither. MULT PROC 2: standard reduction with
  51; 0 / 9: 51 changes nothing; 1, 3-7: special rules (info). BILAT SURG 1: 150% with 50; 3: each
  side at 100% (info); 0, 2, 9: 50 not applicable (warning). ASST SURG 2 paid; 0 with
  documentation (warning); 1 statutory bar, 9 not applicable (error). CO-SURG / TEAM SURG 2
  permitted (66: by report, info); 1 with documentation (warning); 0 not permitted, 9 not
  applicable (error). GLOB DAYS 010 / 090 have a postoperative period for 78/79; 000, YYY, ZZZ
  warnings; MMM warning; XXX error. Anesthesia modifiers only on 00100-01999.
"""

from __future__ import annotations

from tests.conformance.conftest import RVU, Case, Raw
from tests.conformance.written import line as written_line

DATE = "2025-11-03"  # in the October 2025 release's quarter
WRITTEN_DATE = "2026-02-02"  # in the written January 2026 release's quarter
LAYOUT = "PFS relative value file record layout"

#: status -> (severity of mpfs.status or None, claim status when alone)
STATUS = {"A": (None, "pass"), "B": ("warning", "warn"), "C": ("info", "pass"), "D": ("error", "fail"),
          "E": ("info", "pass"), "F": ("error", "fail"), "G": ("error", "fail"), "H": ("error", "fail"),
          "I": ("error", "fail"), "J": ("info", "pass"), "M": ("info", "pass"), "N": ("error", "fail"),
          "P": ("warning", "warn"), "R": ("warning", "warn"), "T": (None, "pass"), "X": ("info", "pass")}

#: the first rows without modifier of each status in the October 2025 file: (line, code)
STATUS_ROWS = {
    "A": [(415, "0446T"), (416, "0447T"), (417, "0448T"), (456, "0509T"), (1065, "10004")],
    "B": [(1684, "20930"), (1689, "20936"), (1986, "22841"), (4109, "34839"), (4304, "36000")],
    "C": [(58, "0042T"), (80, "0054T"), (82, "0055T"), (102, "0071T"), (103, "0072T")],
    "E": [(11207, "90296"), (11208, "90371"), (11209, "90375"), (11210, "90376"), (11211, "90377")],
    "I": [(11, "0001F"), (12, "0005F"), (20, "0012F"), (27, "0014F"), (28, "0015F")],
    "J": [(13, "00100"), (14, "00102"), (15, "00103"), (16, "00104"), (17, "00120")],
    "M": [(442, "0500F"), (455, "0509F"), (462, "0513F"), (470, "0518F"), (474, "0520F")],
    "N": [(421, "0469T"), (644, "0664T"), (645, "0665T"), (646, "0666T"), (647, "0667T")],
    "P": [(13057, "A4211"), (13058, "A4212"), (13064, "A4220"), (13079, "A4239"), (13087, "A4253")],
    "R": [(357, "0275T"), (1142, "11055"), (1143, "11056"), (1144, "11057"), (1233, "11719")],
    "T": [(4404, "36591"), (4405, "36592"), (4410, "36598"), (12241, "94760"), (12242, "94761")],
    "X": [(3663, "32850"), (4001, "33930"), (4004, "33940"), (4345, "36415"), (5497, "47133")],
}

#: (code, line, status, words the finding must hold): the payment system CMS names
PAYMENT = [
    ("85025", 10301, "X", "Clinical Laboratory Fee Schedule"),
    ("82947", 10038, "X", "Clinical Laboratory Fee Schedule"),
    ("80053", 9408, "X", "Clinical Laboratory Fee Schedule"),
    ("36415", 4345, "X", "Clinical Laboratory Fee Schedule (specimen collection)"),
    ("P2028", 17655, "X", "Clinical Laboratory Fee Schedule"),
    ("P9604", 17710, "X", "specimen collection travel"),
    ("A0427", 13000, "X", "Ambulance Fee Schedule"),
    ("A0425", 12998, "X", "Ambulance Fee Schedule"),
    ("A4211", 13057, "P", "DMEPOS Fee Schedule (medical supplies)"),
    ("V2020", 18893, "X", "DMEPOS Fee Schedule (prosthetic lenses)"),
    ("J0696", 16322, "E", "Average Sales Price (ASP) drug pricing (Part B drugs)"),
    ("J1100", 16404, "E", "Average Sales Price (ASP) drug pricing (Part B drugs)"),
    ("Q5101", 18175, "E", "ASP) drug pricing (biosimilars)"),
    ("90296", 11207, "E", "(immune globulins)"),
    ("90585", 11234, "E", "vaccine payment limits of the quarterly ASP pricing file"),
    ("91304", 11455, "X", "COVID-19 vaccines"),
    ("G0008", 14756, "X", "preventive vaccine administration"),
    ("A9150", 13675, "E", "do not say which payment system"),
]


def _rvu(line: int, code: str, **values: str) -> Raw:
    return Raw.of(RVU, line, HCPCS=code, **values)


def status_cases() -> list[Case]:
    out = []
    for status, rows in STATUS_ROWS.items():
        severity, _alone = STATUS[status]
        for line, code in rows:
            expect = (("mpfs.status", severity),) if severity else ()
            out.append(Case(f"status-{status}-{code}", "real", (code,), DATE, expect=expect,
                            absent=() if severity else ("mpfs.status", "mpfs.injection-bundled"),
                            basis=(_rvu(line, code, **{"STATUS CODE": status, "MOD": ""}),),
                            definition=f"{LAYOUT}, STATUS CODE {status}", line=line if severity else None))
    for code, line, status, words in PAYMENT:
        severity, _alone = STATUS[status]
        out.append(Case(f"payment-{code}", "real", (code,), DATE, expect=(("mpfs.status", severity),),
                        contains=(words,), line=line,
                        basis=(_rvu(line, code, **{"STATUS CODE": status, "MOD": ""}),),
                        definition=f"{LAYOUT}, STATUS CODE {status}; the payment system CMS names for the code"))
    file = "written/rvu-2026-01.csv"
    for key, code, status, lines in (("D", "0446T", "D", ("0446T",)), ("F", "0447T", "F", ("0447T",)),
                                     ("G", "0448T", "G", ("0448T",)), ("H-26", "0509T", "H", ("0509T-26",))):
        severity, alone = STATUS[status]
        ln = written_line("rvu-2026-01.csv", key)
        out.append(Case(f"status-{status}-written", "written", lines, WRITTEN_DATE, expect=(("mpfs.status", severity),),
                        status=alone, line=ln, basis=(Raw.of(file, ln, HCPCS=code, **{"STATUS CODE": status}),),
                        definition=f"{LAYOUT}, STATUS CODE {status} (the October 2025 file holds none: a row the "
                                   "suite writes)"))
    ln = written_line("rvu-2026-01.csv", "H-global")
    out.append(Case("status-H-global-row-is-paid", "written", ("0509T",), WRITTEN_DATE, absent=("mpfs.status",),
                    basis=(Raw.of(file, ln, HCPCS="0509T", MOD="", **{"STATUS CODE": "A"}),),
                    definition=f"{LAYOUT}, STATUS CODE H is on the deleted component's row only"))
    # status T: paid alone, bundled with another service payable under the fee schedule the same day
    t_rows = [_rvu(12613, "96523", **{"STATUS CODE": "T"}), _rvu(1632, "20550", **{"STATUS CODE": "A"})]
    t_def = f"{LAYOUT}, STATUS CODE T"
    out += [
        Case("status-T-alone", "real", ("96523",), DATE, absent=("mpfs.injection-bundled", "mpfs.status"),
             basis=t_rows[:1], definition=t_def),
        Case("status-T-with-A", "real", ("96523", "20550"), DATE, expect=(("mpfs.injection-bundled", "warning"),),
             basis=tuple(t_rows), definition=t_def, line=12613),
        Case("status-T-with-A-other-date", "real", ("96523", {"code": "20550", "date": "2025-11-04"}), DATE,
             absent=("mpfs.injection-bundled",), basis=tuple(t_rows), definition=t_def + " (same date only)"),
        Case("status-T-with-X", "real", ("96523", "85025"), DATE, absent=("mpfs.injection-bundled",),
             basis=(t_rows[0], _rvu(10301, "85025", **{"STATUS CODE": "X"})),
             definition=t_def + ": X is not payable under the fee schedule"),
        Case("status-T-with-T", "real", ("96523", "36591"), DATE, absent=("mpfs.injection-bundled",),
             basis=(t_rows[0], _rvu(4404, "36591", **{"STATUS CODE": "T"})),
             definition=t_def + ": another injection is not a service payable under the fee schedule either"),
        Case("status-T-with-C", "real", ("96523", "0042T"), DATE, expect=(("mpfs.injection-bundled", "warning"),),
             basis=(t_rows[0], _rvu(58, "0042T", **{"STATUS CODE": "C"})),
             definition=t_def + "; STATUS CODE C is paid under the fee schedule (contractor priced)"),
        Case("status-T-with-R", "real", ("96523", "11055"), DATE, expect=(("mpfs.injection-bundled", "warning"),),
             basis=(t_rows[0], _rvu(1142, "11055", **{"STATUS CODE": "R"})),
             definition=t_def + "; STATUS CODE R is paid under the fee schedule if covered"),
    ]
    # the examples: each alone is not a denial
    for code, line, status in (("85025", 10301, "X"), ("82947", 10038, "X"), ("A0427", 13000, "X"),
                               ("J0696", 16322, "E")):
        out.append(Case(f"issue-example-{code}-not-denied", "real", (code,), DATE, status="pass",
                        absent=("mpfs.status:error",), basis=(_rvu(line, code, **{"STATUS CODE": status}),),
                        definition=f"{LAYOUT}, STATUS CODE {status}: excluded from the fee schedule, paid elsewhere"))
    return out


#: PCTC IND -> (26 allowed, TC allowed), and real codes with that value (line, code, has 26 / TC rows)
PCTC = {"0": (False, False), "1": (True, True), "2": (False, False), "3": (False, False), "4": (False, False),
        "5": (False, False), "6": (True, False), "7": (False, False), "8": (False, False), "9": (False, False)}
PCTC_ROWS = {"0": (415, "0446T"), "1": (456, "0509T"), "2": (3648, "32701"), "3": (1662, "20697"),
             "4": (8848, "77089"), "5": (1459, "15853"), "7": (11579, "92507"), "8": (10311, "85060"),
             "9": (1077, "10030")}


def _verdict(rule: tuple[str, str] | None) -> dict:
    return {"expect": (rule,)} if rule else {"absent": ("mpfs.modifier-not-allowed",)}


def modifier_cases() -> list[Case]:
    out = []
    for value, (line, code) in PCTC_ROWS.items():
        has = value == "1"  # 0509T has 26 and TC rows (lines 457, 458); the others none
        for mod, allowed in (("26", PCTC[value][0]), ("TC", PCTC[value][1])):
            rule = None if has and allowed else ("mpfs.modifier-not-allowed", "warning" if allowed else "error")
            out.append(Case(f"pctc-{value}-{mod}", "real", (f"{code}-{mod}",), DATE, **_verdict(rule),
                            basis=(_rvu(line, code, **{"PCTC IND": value, "MOD": ""}),),
                            definition=f"{LAYOUT}, PCTC IND {value}"))
    for key, code, value in (("pctc6", "86077", "6"), ("pctc1-no-rows", "76499", "1")):
        ln = written_line("rvu-2026-01.csv", key)
        for mod, allowed in (("26", PCTC[value][0]), ("TC", PCTC[value][1])):
            rule = ("mpfs.modifier-not-allowed", "warning" if allowed else "error")
            out.append(Case(f"pctc-{value}-{mod}-no-component-row", "written", (f"{code}-{mod}",), WRITTEN_DATE,
                            expect=(rule,), basis=(Raw.of("written/rvu-2026-01.csv", ln, HCPCS=code,
                                                          **{"PCTC IND": value}),),
                            definition=f"{LAYOUT}, PCTC IND {value} (a component without a row of its own)"))
    mult = {"0": (1065, "10004", "warning"), "2": (415, "0446T", None), "3": (3190, "29806", "info"),
            "4": (7574, "70336", "info"), "5": (11579, "92507", "info"), "6": (8309, "75600", "info"),
            "7": (456, "0509T", "info"), "9": (8931, "77427", "warning")}
    for value, (line, code, severity) in mult.items():
        out.append(Case(f"mult-{value}-51", "real", (f"{code}-51",), DATE,
                        **_verdict(("mpfs.modifier-not-allowed", severity) if severity else None),
                        basis=(_rvu(line, code, **{"MULT PROC": value}),), definition=f"{LAYOUT}, MULT PROC {value}"))
    ln = written_line("rvu-2026-01.csv", "mult1")
    out.append(Case("mult-1-51", "written", ("17000-51",), WRITTEN_DATE,
                    expect=(("mpfs.modifier-not-allowed", "info"),),
                    basis=(Raw.of("written/rvu-2026-01.csv", ln, HCPCS="17000", **{"MULT PROC": "1"}),),
                    definition=f"{LAYOUT}, MULT PROC 1 (pre-1995 rules; the October 2025 file has none)"))
    groups = [
        ("BILAT SURG", "50", {"0": (415, "0446T", "warning"), "1": (1078, "10035", None),
                              "2": (456, "0509T", "warning"), "3": (7502, "70030", "info"),
                              "9": (1077, "10030", "warning")}),
        ("CO-SURG", "62", {"0": (415, "0446T", "error"), "1": (1274, "12007", "warning"), "2": (1410, "15756", None),
                           "9": (8931, "77427", "error")}),
        ("TEAM SURG", "66", {"0": (415, "0446T", "error"), "1": (1982, "22836", "warning"),
                             "2": (1979, "22818", "info"), "9": (8931, "77427", "error")}),
    ]
    assistant = {"0": (456, "0509T", "warning"), "1": (415, "0446T", "error"), "2": (1282, "12018", None),
                 "9": (8126, "74176", "error")}
    groups += [("ASST SURG", mod, assistant) for mod in ("80", "81", "82", "AS")]
    glob = {"000": (415, "0446T", "warning"), "010": (1081, "10040", None), "090": (1200, "11450", None),
            "MMM": (6486, "59400", "warning"), "XXX": (456, "0509T", "error"), "YYY": (246, "0164T", "warning"),
            "ZZZ": (1065, "10004", "warning")}
    groups += [("GLOB DAYS", mod, glob) for mod in ("78", "79")]
    for column, mod, values in groups:
        for value, (line, code, severity) in values.items():
            out.append(Case(f"{column.lower().replace(' ', '-')}-{value}-{mod}", "real", (f"{code}-{mod}",), DATE,
                            **_verdict(("mpfs.modifier-not-allowed", severity) if severity else None),
                            basis=(_rvu(line, code, **{column: value}),), definition=f"{LAYOUT}, {column} {value}"))
    anesthesia = ("AA", "AD", "G8", "G9", "QK", "QS", "QX", "QY", "QZ", "23", "P1", "P2", "P3", "P4", "P5", "P6")
    for mod in anesthesia:
        out.append(Case(f"anesthesia-{mod}-on-00100", "real", (f"00100-{mod}",), DATE,
                        absent=("mpfs.modifier-not-allowed",), basis=(_rvu(13, "00100", **{"STATUS CODE": "J"}),),
                        definition="anesthesia modifiers on the CPT Anesthesia section (00100-01999)"))
        out.append(Case(f"anesthesia-{mod}-on-20550", "real", (f"20550-{mod}",), DATE,
                        expect=(("mpfs.modifier-not-allowed", "error"),), basis=(_rvu(1632, "20550"),),
                        definition="anesthesia modifiers belong on anesthesia codes (00100-01999) only"))
    return out


CASES = status_cases() + modifier_cases()
