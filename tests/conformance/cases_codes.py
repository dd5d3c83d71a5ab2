"""ICD-10-CM, modifier-list, modifier-pair, E/M and claim-shape cases.

Expectations restate: ICD-10-CM replaced ICD-9-CM for services on and after 2015-10-01 (45 CFR
162.1002); fiscal year N runs October 1 of N-1 to September 30 of N and a code is valid on a date
when the code file of that fiscal year lists it (billable when its billable flag, column 15 of the
order file, is 1); modifier lists are annual (a list of another year cannot say a modifier was
unknown on the date); the modifier pairs of ``tables/modifier_exclusive.csv`` with the CMS or CPT
source each names; the E/M services of CPT 99202-99499 and the HCPCS visits CMS lists.
"""

from __future__ import annotations

from tests.conformance.conftest import MODS, Case, Raw

#: (fiscal year, code) -> 1-based line of the CMS order file (the order number the file gives it)
ORDER_LINES = {(2025, "C810A"): 2222, (2020, "K210"): 13344, (2021, "K210"): 13499, (2021, "M545"): 19260,
               (2022, "M545"): 19334, (2020, "K222"): 13351, (2026, "K222"): 14075, (2024, "I10"): 11397}


def _order(fy: int, code: str, billable: str) -> Raw:
    """A row of the CMS order file of fiscal year ``fy`` (inside cms_<fy>_dx.zip); line 0 and
    billable "absent": the file does not list the code."""
    return Raw.of(f"icd10cm/cms_{fy}_dx.zip", ORDER_LINES.get((fy, code), 0), code=code, billable=billable)


def icd_cases() -> list[Case]:
    def dx(case_id: str, code: str, day: str, expect=(), absent=(), basis=(), why: str = "") -> Case:
        return Case(case_id, "real", ("20550",), day, expect=expect, absent=absent, basis=basis, definition=why,
                    dx=(code,))

    fy = "fiscal year N runs from October 1 of N-1 to September 30 of N"
    valid = ("icd10cm.unknown", "icd10cm.not-in-fy", "icd10cm.not-billable", "icd10cm.before-icd10")
    return [
        dx("icd-C81.0A-before-fy2025", "C81.0A", "2024-09-30", expect=(("icd10cm.not-in-fy", "error"),),
           basis=(_order(2024, "C810A", "absent"), _order(2025, "C810A", "1")), why=f"{fy}; C81.0A is new in FY2025"),
        dx("icd-C81.0A-fy2025", "C81.0A", "2024-10-01", absent=valid, basis=(_order(2025, "C810A", "1"),),
           why=f"{fy}; C81.0A is new in FY2025"),
        dx("icd-K21.0-fy2020-billable", "K21.0", "2020-09-30", absent=valid, basis=(_order(2020, "K210", "1"),),
           why="K21.0 is billable in FY2020"),
        dx("icd-K21.0-fy2021-header", "K21.0", "2020-10-01", expect=(("icd10cm.not-billable", "error"),),
           basis=(_order(2021, "K210", "0"),), why="K21.0 is a header from FY2021 (K21.00, K21.01 added)"),
        dx("icd-M54.5-fy2021-billable", "M54.5", "2021-09-30", absent=valid, basis=(_order(2021, "M545", "1"),),
           why="M54.5 is billable in FY2021"),
        dx("icd-M54.5-fy2022-header", "M54.5", "2021-10-01", expect=(("icd10cm.not-billable", "error"),),
           basis=(_order(2022, "M545", "0"),), why="M54.5 is a header from FY2022"),
        dx("icd-before-icd10", "K22.2", "2015-09-30", expect=(("icd10cm.before-icd10", "error"),),
           absent=("data.out-of-range::icd10cm",), why="ICD-10-CM codes are valid from 2015-10-01 (45 CFR 162.1002)"),
        dx("icd-first-icd10-day", "K22.2", "2015-10-01", expect=(("data.out-of-range", "warning", "icd10cm"),),
           absent=("icd10cm.before-icd10",), basis=(_order(2020, "K222", "1"),),
           why="2015-10-01 is FY2016, not loaded: the nearest loaded fiscal year (FY2020) is used and named"),
        dx("icd-fy2019-nearest", "K22.2", "2019-09-30", expect=(("data.out-of-range", "warning", "icd10cm"),),
           basis=(_order(2020, "K222", "1"),), why="FY2019 is not loaded: FY2020 is used and named"),
        dx("icd-fy2020-first-day", "K22.2", "2019-10-01", absent=("data.out-of-range::icd10cm",) + valid,
           basis=(_order(2020, "K222", "1"),), why="2019-10-01 is the first day of FY2020, which is loaded"),
        dx("icd-fy2027-nearest", "K22.2", "2026-10-01", expect=(("data.out-of-range", "warning", "icd10cm"),),
           basis=(_order(2026, "K222", "1"),), why="FY2027 is not loaded: FY2026 is used and named"),
        dx("icd-fy2026-last-day", "K22.2", "2026-09-30", absent=("data.out-of-range::icd10cm",) + valid,
           basis=(_order(2026, "K222", "1"),), why="2026-09-30 is the last day of FY2026"),
        dx("icd-unknown-code", "K21.09", "2024-08-01", expect=(("icd10cm.unknown", "error"),),
           why="K21.09 is in no code file"),
        dx("icd-billable-I10", "I10", "2024-08-01", absent=valid, basis=(_order(2024, "I10", "1"),),
           why="I10 is billable in FY2024"),
    ]


def modifier_list_cases() -> list[Case]:
    fs = Raw.of(MODS, 131, modifier="FS", type="HCPCS")
    year = "modifier lists are annual: a list of another year cannot say a modifier was unknown then"
    return [
        Case("modifier-FS-in-2024-list", "real", ("99214-FS",), "2024-08-01", absent=("modifier.unknown",),
             basis=(fs,), definition="FS is in the 2024 modifier list"),
        Case("modifier-ZZ-2024", "real", ("20550-ZZ",), "2024-08-01", expect=(("modifier.unknown", "error"),),
             definition="ZZ is in no modifier list, and the 2024 list is the list of the date"),
        Case("modifier-ZZ-2025", "real", ("20550-ZZ",), "2025-03-01", expect=(("modifier.unknown", "warning"),),
             definition=year),
        Case("modifier-ZZ-2023", "real", ("20550-ZZ",), "2023-06-01", expect=(("modifier.unknown", "warning"),),
             definition=year),
        Case("modifier-ZZ-hcpcs-2020", "written", ("20552-ZZ",), "2020-06-01",
             expect=(("modifier.unknown", "error"),), definition="the HCPCS 2020 file is the list of 2020"),
        Case("modifier-ZZ-hcpcs-2021", "written", ("20552-ZZ",), "2021-01-04",
             expect=(("modifier.unknown", "warning"),), definition=year + " (HCPCS 2020 on a 2021 date)"),
        Case("modifier-FT-hcpcs-2024", "written", ("20552-FT",), "2024-08-01",
             expect=(("modifier.unknown", "warning"),),
             definition="FT (2022) is not in the HCPCS 2020 file, which cannot judge a 2024 date"),
        Case("modifier-98-cpt-2024", "written", ("20552-98",), "2024-08-01", expect=(("modifier.unknown", "error"),),
             definition="98 is not a CPT modifier; the CPT list of 2024 judges it"),
        Case("modifier-98-cpt-2025", "written", ("20552-98",), "2025-02-03",
             expect=(("modifier.unknown", "warning"),), definition=year + " (the CPT list of 2024 on a 2025 date)"),
    ]


#: (a, b, severity): tables/modifier_exclusive.csv restated from its sources
EXCLUSIVE = [("26", "TC", "error"), ("52", "53", "error"), ("50", "LT", "error"), ("50", "RT", "error"),
             ("76", "77", "error"), ("78", "79", "error"), ("80", "81", "error"), ("80", "82", "error"),
             ("80", "AS", "error"), ("81", "82", "error"), ("81", "AS", "error"), ("82", "AS", "error"),
             ("LT", "RT", "warning"), ("59", "XE", "warning"), ("59", "XP", "warning"), ("59", "XS", "warning"),
             ("59", "XU", "warning")]

#: one code of each E/M range CMS lists, with the source of the range
EM_CODES = [("99214", "CPT E/M section 99202-99499"), ("99201", "CPT E/M before 2021"),
            ("92012", "general ophthalmological services (contractors' modifier 25 guidance)"),
            ("G0101", "contractors' modifier 25 guidance"), ("G0175", "contractors' modifier 25 guidance"),
            ("G0402", "IPPE, Claims Processing Manual ch. 12 s30.6.1.1"), ("G0438", "AWV, ch. 18 s140"),
            ("G0463", "OPPS clinic visit, ch. 4 s290.5.1")]


def modifier_cases() -> list[Case]:
    out = [Case(f"exclusive-{a}-{b}", "real", (f"0509T-{a}-{b}",), "2025-11-03",
                expect=(("modifier.exclusive", severity),), definition=f"{a} and {b} on one line")
           for a, b, severity in EXCLUSIVE]
    out.append(Case("exclusive-none-26-59", "real", ("0509T-26-59",), "2025-11-03", absent=("modifier.exclusive",),
                    definition="26 and 59 do not exclude each other"))
    for code, why in EM_CODES:
        out.append(Case(f"em-25-on-{code}", "real", (f"{code}-25",), "2024-08-01", absent=("modifier.em-only",),
                        definition=f"{code} is an E/M service: {why}"))
    for mod in ("24", "25", "27", "57"):
        out.append(Case(f"em-only-{mod}-on-20550", "real", (f"20550-{mod}",), "2024-08-01",
                        expect=(("modifier.em-only", "warning"),),
                        definition=f"NCCI Policy Manual: {mod} is appended to E/M services only"))
    return out


def claim_cases() -> list[Case]:
    return [
        Case("claim-clean-passes", "real", ("0509T-26",), "2025-11-03", status="pass",
             definition="a line without an edit, limit or status against it passes"),
        Case("claim-no-evidence-once", "real", ("20550", "64483-59", "99214-25"), "2024-08-01",
             expect=(("dx.no-evidence", "info"),), definition="no briefing covers these codes: one note a claim"),
        Case("claim-dx-missing", "real", ({"code": "0509T", "modifiers": ["26"], "diagnoses": []},), "2025-11-03",
             expect=(("dx.missing", "warning"),), definition="CMS-1500 item 24E points each line to a diagnosis"),
        Case("claim-dx-unsupported", "real", ("74360-26",), "2024-08-01", expect=(("dx.unsupported", "warning"),),
             dx=("I10",), definition="the seed briefing lists diagnoses for 74360; I10 is not among them"),
        Case("claim-payer-gap", "real", ("74360-26",), "2024-08-01", expect=(("payer.gap", "info"),), dx=("K22.2",),
             extra={"payer": "aetna"}, definition="the briefing holds no coverage position of Aetna"),
        Case("claim-payer-not-medicare", "real", ("20550",), "2024-08-01", expect=(("payer.not-medicare", "info"),),
             extra={"payer": "aetna"}, definition="Medicare edits applied to another payer's claim"),
        Case("claim-payer-unknown", "real", ("20550",), "2024-08-01", expect=(("payer.unknown", "warning"),),
             extra={"payer": "Acme Health"}, definition="a payer the registry does not hold"),
        Case("claim-taxonomy-unknown", "real", ("20550",), "2024-08-01", expect=(("taxonomy.unknown", "warning"),),
             extra={"taxonomy": "999999999X"}, definition="a taxonomy NUCC 25.1 does not list"),
        Case("claim-taxonomy-not-listed", "real", ("74360-26",), "2024-08-01", dx=("K22.2",),
             expect=(("taxonomy.not-listed", "info"),), extra={"taxonomy": "2085R0202X"},
             definition="the briefing lists other specialties for 74360"),
        Case("claim-institutional", "real", ("20550",), "2024-08-01", expect=(("claim.institutional", "warning"),),
             extra={"claim_type": "institutional"}, definition="only the practitioner edits are loaded"),
        Case("claim-unknown-field", "real", ("20550",), "2024-08-01", expect=(("claim.unknown-field", "info"),),
             extra={"provider": "x"}, definition="fields kgraph does not read are named"),
        Case("claim-code-unknown", "real", ("0999T",), "2024-08-01", expect=(("code.unknown", "warning"),),
             definition="a code in none of the loaded code sets"),
        Case("hcpcs-terminated", "written", ("J1942",), "2019-10-01", expect=(("hcpcs.terminated", "error"),),
             definition="the HCPCS 2020 file ends J1942 with TERM DT 20190930, the last date it may be reported"),
        Case("hcpcs-on-its-termination-date", "written", ("J1942",), "2019-09-30", absent=("hcpcs.terminated",),
             definition="on TERM DT itself the code may still be reported"),
        Case("data-out-of-range-fee-schedule", "real", ("20550",), "2024-08-01",
             expect=(("data.out-of-range", "info", "mpfs"),), contains=("2025-10",),
             definition="the October 2025 fee schedule on a 2024 date: the nearest release, named"),
        Case("data-out-of-range-mue", "real", ("85025",), "2025-11-03",
             expect=(("data.out-of-range", "info", "ncci-mue"),), absent=("data.out-of-range:warning",),
             definition="the July 2024 MUE file on a 2025 date, past its quarter: the release used is named"),
        Case("data-out-of-range-addon", "real", ("10160", "77002"), "2025-11-03",
             expect=(("data.out-of-range", "info", "ncci-addon"),), absent=("data.out-of-range:warning",),
             definition="the June 2024 add-on file on a 2025 date, past its quarter: the release used is named"),
        Case("data-in-range-fee-schedule", "real", ("0509T-26",), "2025-11-03", absent=("data.out-of-range::mpfs",),
             definition="the October 2025 fee schedule covers its quarter"),
    ]


CASES = icd_cases() + modifier_list_cases() + modifier_cases() + claim_cases()
