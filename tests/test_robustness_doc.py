"""scripts/robustness.py renders docs/robustness.md from recorded figures (fast: no tests are run here)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("robustness", ROOT / "scripts" / "robustness.py")
assert _spec is not None and _spec.loader is not None
robustness = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("robustness", robustness)  # dataclasses look the module up by name
_spec.loader.exec_module(robustness)



@pytest.fixture(autouse=True, scope="module")
def _doctest_store() -> None:
    """Overrides the root conftest's session fixture (the default build, for doctests): nothing here reads a store."""


MACHINE = {"nproc": "2", "python": "3.11.9", "pyoxigraph": "0.5.13"}
FIGURES = {
    "fuzz_readers": {"cases": {"icd10cm": 1234, "nucc": 56}, "total": 1290,
                     "crashes_found": ["icd10cm: a short line raised IndexError"]},
    "build_kill": {"faults_injected": 5, "stores_intact": 5, "previous_store_kept": 4,
                   "swap_completed_before_kill": 1, "leftovers_cleaned": 4,
                   "kill_points": [{"phase": "as degrees start being counted", "killed_after_s": 4.8,
                                    "store": "previous"}]},
    "build_readers": {"queries_during_build": 5875, "build_seconds": 7.86, "reader_errors": 0},
    "build_server": {"rebuilds_while_serving": 3, "workers_replaced": 2, "served_build_kept": True,
                     "answered_after": True},
    "build_concurrent": {"builds_started": 2, "refused": 1, "refused_exit_code": 1, "first_succeeded": True},
    "server_load": {"requests": 2000, "clients": 16, "errors": 0, "seconds": 1.78, "requests_per_s": 1123.4,
                    "rss_before_mb": 64.3, "rss_after_mb": 65.9, "growth": 1.025},
    "server_disconnects": {"disconnects": 90, "kinds": {"before the answer": 30}, "workers_before": 4,
                           "workers_after": 4, "fds_before": 31, "fds_after": 31},
    "server_slow_bodies": {"slow_bodies": 6, "answered_408": 6, "body_timeout_s": 2.0,
                           "seconds_to_408": [2.07, 2.08], "others_answered_meanwhile": 777,
                           "others_max_ms": 10.5, "stalled_headers_dropped": False},
    "server_explosive": {"explosive_queries": 4, "stopped_by_timeout": 4, "too_large_refused": 19,
                         "too_large_sent": 19, "normal_answered": 2326, "normal_errors": 0},
    "query_thresholds": {"crash_depth": 2150, "crash_operators": 9000, "depth_margin": 16.8, "operator_margin": 9.0,
                         "default_limits": {"max_depth": 128, "max_operators": 1000},
                         "crash_sizes": {"groups": 2150}, "planning_seconds": {"star_join x64": 0.4}},
    "query_limits": {"named_queries": 20, "named_max_depth": 8, "named_max_triples": 27, "internal_distinct": 90},
    "query_corpus": {"shapes": 1000, "answered_200": 500, "answered_4xx": 500, "other_statuses": 0,
                     "refused_by": {"max_depth": 180}, "workers_died": 0, "workers_killed": 0},
    "query_corpus_mixed": {"shapes": 100, "shapes_200_or_4xx": 100, "normal_answered": 900, "normal_errors": 0},
}
OUTCOME = {"tests": 3, "passed": 2, "failures": 1, "errors": 0, "skipped": 0, "seconds": 12.5,
           "cases": [{"test": "tests/test_server_load.py::test_a", "outcome": "passed", "seconds": 1.0},
                     {"test": "tests/test_robust_build.py::test_b", "outcome": "failed", "seconds": 2.0}]}


def render(figures: dict) -> str:
    return robustness.render(figures, outcome=OUTCOME, machine_info=MACHINE, date="2026-12-01 03:00 UTC")


def test_every_figure_appears_in_the_document():
    text = render(FIGURES)
    assert text.startswith("# Robustness")
    assert "| not measured |" not in text and "**not measured**" not in text
    # the summary line of each kind of test
    assert "| Readers fed malformed files | 1,290 cases over 2 readers; 1 crashes and hangs found and fixed |" in text
    assert "| Builds killed part-way | 5 builds killed, 5 stores intact; 4 leftover directories" in text
    assert "5,875 queries answered during a 7.86 s rebuild, 0 errors" in text
    assert "1 of 2 refused (exit code 1), the first succeeded" in text
    assert "3 rebuilds while serving, 2 workers restarted; served build kept: yes, answering after: yes" in text
    assert ("2,000 requests from 16 clients, 0 errors, 1,123.4 req/s; server RSS 64.3 -> 65.9 MB (x1.025)"
            in text)
    assert "90 disconnects; workers 4 -> 4, open files 31 -> 31" in text
    assert "6 of 6 stalled bodies answered 408 after 2 s; 777 other requests" in text
    assert "4 of 4 explosive queries stopped at the timeout (503), 19 over the row limit refused (422)" in text
    # the detail tables
    assert "| icd10cm | 1,234 |" in text and "- icd10cm: a short line raised IndexError" in text
    assert "| as degrees start being counted | 4.8 | previous |" in text
    assert "| seconds until each 408 | 2.07, 2.08 |" in text
    assert "| headers that never end: connection dropped by the server | no |" in text
    # the date, the machine, the pytest outcome and the command
    assert "2026-12-01 03:00 UTC" in text
    assert "| nproc | 2 |" in text and "| python | 3.11.9 |" in text and "| pyoxigraph | 0.5.13 |" in text
    assert "2 passed, 1 failed, 0 errors, 0 skipped in 12.5 s." in text
    assert "| `tests/test_server_load.py` | 1 | 0 | 1.0 |" in text
    assert "| `tests/test_robust_build.py` | 0 | 1 | 2.0 |" in text
    assert "- `tests/test_robust_build.py::test_b`: failed" in text
    assert ".venv/bin/python scripts/robustness.py" in text


def test_missing_figures_are_shown_as_not_measured(tmp_path):
    (tmp_path / "server_load.json").write_text(json.dumps(FIGURES["server_load"]))
    (tmp_path / "build_kill.json").write_text("{ not json")
    loaded = robustness.load_figures(tmp_path)
    assert loaded["server_load"] == FIGURES["server_load"]
    assert loaded["build_kill"] is None and loaded["fuzz_readers"] is None
    text = robustness.render(loaded, outcome=None, machine_info=MACHINE, date="today")
    assert "| Readers fed malformed files | not measured |" in text
    assert "| Builds killed part-way | not measured |" in text
    assert "2,000 requests from 16 clients" in text
    assert "pytest gave no report" in text
    assert text.count("**not measured**") == len(robustness.SECTIONS) - 1


def test_unexpected_figures_are_shown_not_dropped():
    text = render({"server_load": {"requests": "many", "new_figure": 7}})
    assert "| new_figure | 7 |" in text


def test_junit_outcome_is_read(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text('<?xml version="1.0"?><testsuites><testsuite tests="2" failures="0" errors="0" skipped="1" '
                     'time="3.5"><testcase classname="tests.test_x" name="test_a" time="1.25"/>'
                     '<testcase classname="tests.test_x" name="test_b" time="0"><skipped/></testcase>'
                     "</testsuite></testsuites>")
    outcome = robustness.read_junit(junit)
    assert (outcome["passed"], outcome["skipped"], outcome["seconds"]) == (1, 1, 3.5)
    assert outcome["cases"][0] == {"test": "tests/test_x.py::test_a", "outcome": "passed", "seconds": 1.25}
    assert robustness.read_junit(tmp_path / "none.xml") is None
