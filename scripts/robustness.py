"""Run the hardening tests with their figures recorded, and write docs/robustness.md from them.

Run from the project root (a few minutes; the tests build the default store once):

    .venv/bin/python scripts/robustness.py [--output docs/robustness.md]

It runs pytest once on the fuzzing, fault and load tests and the injection tests (``SELECTION``)
with ``KGRAPH_ROBUSTNESS_DIR`` set to a temporary folder, where each test writes its figures as
``<name>.json`` (``tests/figures.py``); then ``render`` turns those figures, the pytest outcome
(from its JUnit XML) and the machine into Markdown. A figure file that is missing (its test did not
run, or failed before recording) is shown as "not measured". Exits with pytest's exit code.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "robustness.md"
COMMAND = ".venv/bin/python scripts/robustness.py"
#: the test files run, and the -k expression that selects them (whole files, plus the injection
#: tests of test_queries.py and test_viz.py by name)
FILES = ["tests/test_fuzz_readers.py", "tests/test_robust_build.py", "tests/test_server_load.py",
         "tests/test_guard.py", "tests/test_server_guard.py", "tests/test_queries.py", "tests/test_viz.py"]
SELECTION = ("test_fuzz_readers or test_robust_build or test_server_load or test_guard or test_server_guard "
             "or bound_as_terms or script or escaped")
NOT_MEASURED = "not measured"

Figures = dict[str, Any]


@dataclass
class Section:
    """One kind of test: the figure file it writes, what was tried, and how to summarize it."""

    name: str  # the figure file: <name>.json
    title: str
    tried: str
    test: str
    summary: Callable[[Figures], str]
    labels: dict[str, str] = field(default_factory=dict)  # figure key -> label, in the order shown


def _n(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


SECTIONS = [
    Section(
        "fuzz_readers", "Readers fed malformed files",
        "Every code-set reader is given generated input: arbitrary bytes, damaged samples of its real files "
        "(truncated, bytes flipped, lines cut, cells overlong, encodings changed) and bad rows at known lines. "
        "A read must end in records and located problems, or a refusal naming the file: never a traceback, "
        "never a wrong line number, never a code that is a number.",
        "tests/test_fuzz_readers.py",
        lambda f: f"{_n(f.get('total', '?'))} cases over {len(f.get('cases', {}))} readers; "
                  f"{len(f.get('crashes_found', []))} crashes and hangs found and fixed",
        {"total": "cases fuzzed", "cases": "cases per reader", "crashes_found": "crashes and hangs found (fixed)",
         "cases_by_test": "cases per test and sample"}),
    Section(
        "build_kill", "Builds killed part-way",
        "A real `kgraph build` subprocess (the payer registry, the seed briefing and the HCPCS file 8 times, "
        "about 5 s) is killed with SIGKILL at several points, from the first code set streaming in to the "
        "degree counting, compaction and swap. After each kill the store must open and answer the same "
        "evidence query with the same rows; a following build must succeed and remove what the killed "
        "builds left.",
        "tests/test_robust_build.py::test_build_killed_part_way_leaves_the_previous_store",
        lambda f: f"{_n(f.get('faults_injected', '?'))} builds killed, {_n(f.get('stores_intact', '?'))} stores "
                  f"intact; {_n(f.get('leftovers_cleaned', '?'))} leftover directories removed by the next build",
        {"faults_injected": "builds killed (SIGKILL)", "stores_intact": "stores intact (open, same rows)",
         "previous_store_kept": "store still the previous build",
         "swap_completed_before_kill": "kill came after the atomic swap (store is the new, complete build)",
         "leftovers_cleaned": "leftover .tmp-* directories removed by the next build",
         "kill_points": "kill points"}),
    Section(
        "build_readers", "Reading while a build runs",
        "The test process keeps a store open and queries it in a loop (and opens the store path anew every "
        "25 queries) while a `kgraph build` subprocess rebuilds the same store path and swaps it.",
        "tests/test_robust_build.py::test_readers_keep_answering_during_a_rebuild",
        lambda f: f"{_n(f.get('queries_during_build', '?'))} queries answered during a "
                  f"{_n(f.get('build_seconds', '?'))} s rebuild, {_n(f.get('reader_errors', '?'))} errors",
        {"queries_during_build": "queries answered during the build (same rows each time)",
         "reopened_during_build": "of which on a store opened anew during the build",
         "build_seconds": "seconds the build ran", "reader_errors": "reader errors"}),
    Section(
        "build_server", "A server across rebuilds",
        "`kgraph serve` keeps the build it opened until restarted. The store is rebuilt three times while it "
        "serves (two builds are kept), then two queries run past the timeout, so both query workers are "
        "killed and restarted: they must reopen the served build, and answer as before.",
        "tests/test_robust_build.py::test_a_server_keeps_answering_across_rebuilds",
        lambda f: f"{_n(f.get('rebuilds_while_serving', '?'))} rebuilds while serving, "
                  f"{_n(f.get('workers_replaced', '?'))} workers restarted; served build kept: "
                  f"{_n(f.get('served_build_kept', '?'))}, answering after: {_n(f.get('answered_after', '?'))}",
        {"rebuilds_while_serving": "rebuilds while serving", "workers_replaced": "query workers restarted",
         "served_build_kept": "the served build was kept", "answered_after": "same answers afterwards"}),
    Section(
        "build_concurrent", "Two builds of one store at once",
        "Two `kgraph build` processes on the same store path, the second started while the first writes.",
        "tests/test_robust_build.py::test_two_builds_at_once_the_second_is_refused",
        lambda f: f"{_n(f.get('refused', '?'))} of {_n(f.get('builds_started', '?'))} refused "
                  f"(exit code {_n(f.get('refused_exit_code', '?'))}), the first "
                  f"{'succeeded' if f.get('first_succeeded') else 'did not succeed'}",
        {"builds_started": "builds started", "refused": "refused (\"another build of this store is running\")",
         "refused_exit_code": "exit code of the refused one", "first_succeeded": "the first succeeded"}),
    Section(
        "server_load", "Server under load",
        "`kgraph serve` on the default store (127.0.0.1, 4 query workers) answers concurrent clients on "
        "keep-alive connections: named queries and SPARQL SELECTs, GET and POST (form and "
        "application/sparql-query), JSON, XML, CSV and TSV answers; every answer compared byte for byte with "
        "the one given to a lone client. Resident memory (VmRSS) of the server process before and after.",
        "tests/test_server_load.py::test_2000_requests_from_16_clients_without_errors_or_memory_growth",
        lambda f: f"{_n(f.get('requests', '?'))} requests from {_n(f.get('clients', '?'))} clients, "
                  f"{_n(f.get('errors', '?'))} errors, {_n(f.get('requests_per_s', '?'))} req/s; server RSS "
                  f"{_n(f.get('rss_before_mb', '?'))} -> {_n(f.get('rss_after_mb', '?'))} MB "
                  f"(x{_n(f.get('growth', '?'))})",
        {"requests": "requests", "clients": "concurrent clients", "errors": "errors (status or body wrong)",
         "answered": "answered with the expected body",
         "seconds": "seconds", "requests_per_s": "requests per second", "p50_ms": "latency p50 (ms)",
         "p99_ms": "latency p99 (ms)", "rss_before_mb": "server RSS before (MB)",
         "rss_after_mb": "server RSS after (MB)", "growth": "RSS growth (after / before)",
         "workers": "query workers", "workers_rss_before_mb": "workers' RSS before, in all (MB)",
         "workers_rss_after_mb": "workers' RSS after, in all (MB)"}),
    Section(
        "server_disconnects", "Clients that hang up",
        "Raw sockets ask for a large answer (4,000 rows) and close: after reading a few bytes, before any "
        "answer, or with a reset (RST). Then the server must answer health and queries, with the same query "
        "worker processes and no socket left open.",
        "tests/test_server_load.py::test_clients_that_hang_up_mid_answer",
        lambda f: f"{_n(f.get('disconnects', '?'))} disconnects; workers {_n(f.get('workers_before', '?'))} -> "
                  f"{_n(f.get('workers_after', '?'))}, open files {_n(f.get('fds_before', '?'))} -> "
                  f"{_n(f.get('fds_after', '?'))}",
        {"disconnects": "connections dropped", "kinds": "how", "workers_before": "worker processes before",
         "workers_after": "worker processes after", "fds_before": "server's open files before",
         "fds_after": "server's open files after"}),
    Section(
        "server_slow_bodies", "Request bodies that stall",
        "Raw sockets send a POST's headers with `Content-Length: 100`, then three bytes and nothing more, or "
        "one byte every 0.2 s; one more sends headers that never end. Other clients run queries meanwhile. "
        "The server's body timeout is set to 2 s for the test (30 s by default). uvicorn itself has no "
        "timeout for headers that never end: such a connection stays open (it holds a socket, no thread "
        "and no query worker), which the last figure shows.",
        "tests/test_server_load.py::test_stalled_request_bodies_time_out_without_holding_up_others",
        lambda f: f"{_n(f.get('answered_408', '?'))} of {_n(f.get('slow_bodies', '?'))} stalled bodies answered "
                  f"408 after {_n(f.get('body_timeout_s', '?'))} s; {_n(f.get('others_answered_meanwhile', '?'))} "
                  f"other requests answered meanwhile (slowest {_n(f.get('others_max_ms', '?'))} ms)",
        {"slow_bodies": "stalled request bodies", "answered_408": "answered 408 and closed",
         "body_timeout_s": "body timeout (s)", "seconds_to_408": "seconds until each 408",
         "others_answered_meanwhile": "other requests answered meanwhile", "others_errors": "errors among them",
         "others_max_ms": "slowest of them (ms)",
         "stalled_headers_dropped": "headers that never end: connection dropped by the server"}),
    Section(
        "server_explosive", "Explosive queries among normal clients",
        "Two clients send a three-way cartesian product (`SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f "
        ". ?g ?h ?i }`) twice each, one client asks for an answer over the row limit (5,000) every 0.2 s, and "
        "four clients run the normal mix meanwhile. Query timeout 2 s, 4 workers.",
        "tests/test_server_load.py::test_explosive_queries_among_normal_clients",
        lambda f: f"{_n(f.get('stopped_by_timeout', '?'))} of {_n(f.get('explosive_queries', '?'))} explosive "
                  f"queries stopped at the timeout (503), {_n(f.get('too_large_refused', '?'))} over the row "
                  f"limit refused (422), {_n(f.get('normal_answered', '?'))} normal requests answered, "
                  f"{_n(f.get('normal_errors', '?'))} errors",
        {"explosive_queries": "explosive queries", "stopped_by_timeout": "stopped at the timeout (503, message)",
         "timeout_s": "query timeout (s)", "seconds_to_stop": "seconds until each was stopped",
         "too_large_sent": "queries over the row limit", "too_large_refused": "refused (422, message)",
         "normal_answered": "normal requests answered meanwhile", "normal_errors": "errors among them",
         "normal_max_ms": "slowest of them (ms)", "seconds": "seconds in all"}),
    Section(
        "query_thresholds", "Query shapes: where pyoxigraph crashes or stalls",
        "Each shape of `tests/query_shapes.py` is given to pyoxigraph in a subprocess (an empty store, the "
        "machine's 8 MB main-thread stack) at growing sizes: the crash size (SIGSEGV, a stack overflow in the "
        "recursive parser) is found by bisection to 5%, and the seconds to parse and plan are measured at and "
        "around the default limits. The defaults of `kgraph.guard.Limits` (`kgraph serve --max-depth ...`) are "
        "set from these with a margin: depth and operators several times below the crash, triple patterns where "
        "planning stays under about half a second. `crash_sizes` are shape sizes (groups nested, chain "
        "members); `crash_depth` and `crash_operators` the same as the guard counts them.",
        "tests/test_guard.py::test_default_limits_keep_a_margin_below_the_measured_thresholds",
        lambda f: f"nesting crashes at depth {_n(f.get('crash_depth', '?'))} (limit "
                  f"{_n(f.get('default_limits', {}).get('max_depth', '?'))}, x{_n(f.get('depth_margin', '?'))}), "
                  f"operator chains at {_n(f.get('crash_operators', '?'))} (limit "
                  f"{_n(f.get('default_limits', {}).get('max_operators', '?'))}, "
                  f"x{_n(f.get('operator_margin', '?'))})",
        {"crash_depth": "nesting depth that crashes", "crash_operators": "operators in a chain that crash",
         "depth_margin": "margin of max_depth (crash / limit)", "operator_margin": "margin of max_operators",
         "default_limits": "default limits", "crash_sizes": "crash sizes by shape (bisection to 5%)",
         "planning_seconds": "seconds to parse and plan (a timeout shows as 60)"}),
    Section(
        "query_limits", "Query shapes: kgraph's own queries under the limits",
        "Every named query (`kgraph/queries/*.rq`) and every SPARQL text kgraph runs while it builds, walks "
        "neighbourhoods (four codes at depth 2, the NCCI hub CPT:77002 at depth 1), finds a path, checks a claim "
        "and validates is checked against the default limits.",
        "tests/test_guard.py::test_every_internal_query_passes",
        lambda f: f"{_n(f.get('named_queries', '?'))} named and {_n(f.get('internal_distinct', '?'))} distinct "
                  f"internal queries pass; widest: depth {_n(f.get('named_max_depth', '?'))}, "
                  f"{_n(f.get('named_max_triples', '?'))} triple patterns",
        {"named_queries": "named queries", "named_max_depth": "their deepest nesting",
         "named_max_operators": "their most operators", "named_max_triples": "their most triple patterns",
         "named_max_length": "their longest text (characters)", "internal_queries": "internal queries run",
         "internal_distinct": "distinct internal texts", "internal_max_depth": "their deepest nesting",
         "internal_max_triples": "their most triple patterns",
         "internal_max_length": "their longest text (characters: VALUES blocks of neighbours)"}),
    Section(
        "query_corpus", "Query shapes against a running server",
        "`kgraph serve` with the default limits (2 workers and a spare, query timeout 10 s, 1 MiB bodies) is sent "
        "a fixed-seed corpus of 1,000 shapes, one after the other: the shapes the issue reports (5,000 and 2,200 "
        "nested groups, 20,000 triple patterns, a `||` chain of 10,000, `UNION` x 8,000, 200 and 1,000 joined "
        "patterns), decoys hiding braces in strings, IRIs and comments, and fuzzed variants (random nesting of "
        "`{ ( [`, flat `||` / `&&` / `+` / `!` / `UNION` chains, deep property paths, huge `VALUES` and `IN` "
        "lists, many joined and optional patterns). Every answer must be 200 or 4xx, and no worker may die or "
        "be killed.",
        "tests/test_server_guard.py::test_1000_shapes_are_answered_200_or_4xx_without_a_worker_dying",
        lambda f: f"{_n(f.get('shapes', '?'))} shapes: {_n(f.get('answered_200', '?'))} answered 200, "
                  f"{_n(f.get('answered_4xx', '?'))} 4xx, {_n(f.get('other_statuses', '?'))} other; workers died "
                  f"{_n(f.get('workers_died', '?'))}, killed {_n(f.get('workers_killed', '?'))}",
        {"shapes": "shapes sent", "seed": "seed", "answered_200": "answered 200", "answered_4xx": "answered 4xx",
         "other_statuses": "any other status", "refused_by": "4xx by limit (or syntax error)",
         "workers_died": "workers that died", "workers_killed": "workers killed at the timeout",
         "timeout_s": "query timeout (s)", "median_ms": "median answer (ms)", "slowest_s": "slowest answer (s)",
         "seconds": "seconds in all"}),
    Section(
        "query_corpus_mixed", "Query shapes among normal clients",
        "Two clients send a hundred shapes (the reported ones first) while four clients run the normal mix of "
        "the load test; every normal answer is compared byte for byte with a lone client's.",
        "tests/test_server_guard.py::test_a_hundred_shapes_among_normal_clients",
        lambda f: f"{_n(f.get('shapes', '?'))} shapes ({_n(f.get('shapes_200_or_4xx', '?'))} answered 200 or 4xx) "
                  f"among {_n(f.get('normal_answered', '?'))} normal requests, {_n(f.get('normal_errors', '?'))} "
                  "errors",
        {"shapes": "shapes sent", "shapes_200_or_4xx": "answered 200 or 4xx",
         "normal_answered": "normal requests answered meanwhile", "normal_errors": "errors among them",
         "normal_max_ms": "slowest of them (ms)", "workers_died": "workers that died",
         "workers_killed": "workers killed at the timeout", "seconds": "seconds in all"}),
]


def load_figures(folder: Path) -> dict[str, Figures | None]:
    """Each section's figures from ``folder/<name>.json``; ``None`` when the file is missing or unreadable."""
    import json

    found: dict[str, Figures | None] = {}
    for section in SECTIONS:
        path = folder / f"{section.name}.json"
        try:
            found[section.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found[section.name] = None
    return found


def read_junit(path: Path) -> dict[str, Any] | None:
    """Totals and per-test outcomes from pytest's JUnit XML; ``None`` when there is none."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return None
    tests = []
    for case in suite.iter("testcase"):
        outcome = "passed"
        for child, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            if case.find(child) is not None:
                outcome = name
        module = case.get("classname", "").replace(".", "/")
        tests.append({"test": f"{module}.py::{case.get('name')}", "outcome": outcome,
                      "seconds": float(case.get("time", 0))})
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return {**counts, "seconds": float(suite.get("time", 0)), "cases": tests}


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "?")
    memory = next((line.split()[1] for line in _lines("/proc/meminfo") if line.startswith("MemTotal:")), None)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"nproc": str(cores), "cpu": cpu, "memory": f"{int(memory) / 1024 / 1024:.1f} GB" if memory else "?",
            "os": platform.platform(), "python": platform.python_version(), "pyoxigraph": version("pyoxigraph"),
            "uvicorn": version("uvicorn"), "kgraph": version("kgraph"), "load average at start": load,
            "commit": _commit()}


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"{head or '?'}{' (with uncommitted changes)' if dirty else ''}"


def _cell(value: Any) -> str:
    return _n(value).replace("|", "\\|").replace("\n", " ")


def _value(value: Any) -> list[str]:
    """A figure's value as Markdown lines: a scalar inline, a dict or list of dicts as a table."""
    if isinstance(value, dict):
        if not value:
            return ["(none)"]
        return ["| | |", "|---|---:|", *[f"| {_cell(k)} | {_cell(v)} |" for k, v in value.items()]]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns = list(dict.fromkeys(k for v in value for k in v))
        return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
                *["| " + " | ".join(_cell(v.get(c, "")) for c in columns) + " |" for v in value]]
    if isinstance(value, list):
        if all(isinstance(v, int | float) for v in value):
            return [", ".join(_n(v) for v in value) or "(none)"]
        return [f"- {_n(v)}" for v in value] or ["(none)"]
    return [_n(value)]


def _inline(value: Any) -> bool:
    """Whether a figure fits in a table cell (a number, a string, a list of numbers)."""
    if isinstance(value, dict):
        return False
    if isinstance(value, list):
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    return True


def render_section(section: Section, figures: Figures | None) -> list[str]:
    out = [f"## {section.title}", "", section.tried, "", f"Test: `{section.test}`", ""]
    if figures is None:
        return [*out, f"**{NOT_MEASURED}**: no figures were recorded (the test did not run, or failed "
                      "before recording them).", ""]
    keys = [k for k in section.labels if k in figures] + sorted(k for k in figures if k not in section.labels)
    scalars = [k for k in keys if _inline(figures[k])]
    out += ["| figure | value |", "|---|---:|"]
    out += [f"| {section.labels.get(k, k)} | {_cell(_value(figures[k])[0])} |" for k in scalars]
    out.append("")
    for k in keys:
        if k not in scalars:
            out += [f"{section.labels.get(k, k)}:", "", *_value(figures[k]), ""]
    return out


def render(figures: dict[str, Figures | None], *, outcome: dict[str, Any] | None, machine_info: dict[str, str],
           date: str, command: str = COMMAND, selection: str = SELECTION, files: list[str] | None = None) -> str:
    """docs/robustness.md from the recorded figures, the pytest outcome and the machine."""
    out = ["# Robustness: bad input, faults and load, measured", "",
           f"Generated by `{command}` on {date}. Every figure below was measured by a test in this run; "
           f"a test whose figures are missing shows \"{NOT_MEASURED}\". Do not edit by hand: run the command "
           "again.", "", "## Summary", "", "| what was tried | result |", "|---|---|"]
    for section in SECTIONS:
        figs = figures.get(section.name)
        try:
            result = section.summary(figs) if figs is not None else NOT_MEASURED
        except (TypeError, ValueError, KeyError):
            result = "recorded, but not in the expected shape (see below)"
        out.append(f"| {section.title} | {_cell(result)} |")
    out += ["", "## Pytest outcome", ""]
    if outcome is None:
        out += ["pytest gave no report (it did not run, or stopped before writing its JUnit XML).", ""]
    else:
        out += [f"{outcome['passed']} passed, {outcome['failures']} failed, {outcome['errors']} errors, "
                f"{outcome['skipped']} skipped in {outcome['seconds']:.1f} s.", "",
                "| test file | passed | not passed | seconds |", "|---|---:|---:|---:|"]
        by_file: dict[str, list[dict[str, Any]]] = {}
        for case in outcome["cases"]:
            by_file.setdefault(case["test"].split("::")[0], []).append(case)
        for name, cases in by_file.items():
            passed = sum(c["outcome"] == "passed" for c in cases)
            out.append(f"| `{name}` | {passed} | {len(cases) - passed} | {sum(c['seconds'] for c in cases):.1f} |")
        out.append("")
        bad = [c for c in outcome["cases"] if c["outcome"] != "passed"]
        if bad:
            out += ["Not passed:", ""] + [f"- `{_cell(c['test'])}`: {c['outcome']}" for c in bad] + [""]
    for section in SECTIONS:
        out += render_section(section, figures.get(section.name))
    out += ["## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {_cell(v)} |" for k, v in machine_info.items()]
    shown = " ".join(files or FILES)
    out += ["", "## Regenerate", "", "From the project root:", "", "```sh", command, "```", "",
            "which runs", "", "```sh",
            f"KGRAPH_ROBUSTNESS_DIR=<a temporary folder> python -m pytest {shown} -k \"{selection}\"", "```", "",
            "Figures depend on the machine and on what else runs on it (see the load average above).", ""]
    return "\n".join(out)


def run_tests(folder: Path) -> tuple[int, list[str]]:
    """pytest on the selection, figures written to ``folder``; its exit code and the files it ran."""
    files = [f for f in FILES if (ROOT / f).exists()]
    missing = sorted(set(FILES) - set(files))
    if missing:
        print(f"robustness: missing, not run: {', '.join(missing)}", file=sys.stderr)
    env = {**os.environ, "KGRAPH_ROBUSTNESS_DIR": str(folder)}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--durations=10",
           f"--junitxml={folder / 'junit.xml'}", "-k", SELECTION, *files]
    print("robustness:", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode, files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="Markdown file to write (docs/robustness.md).")
    args = parser.parse_args(argv)
    info = machine()  # the load average before the tests start
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="kgraph-robustness-") as tmp:
        folder = Path(tmp)
        code, files = run_tests(folder)
        text = render(load_figures(folder), outcome=read_junit(folder / "junit.xml"), machine_info=info,
                      date=date, files=files)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"robustness: wrote {args.output} (pytest exit code {code})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
