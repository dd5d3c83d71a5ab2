"""The query page of ``kgraph serve`` is YASGUI (vendored), driven in headless Chromium (Debian's,
through Playwright) with every request that does not go to the server blocked and counted.

A user opens the page, clicks a named query (it opens in a tab with its parameters documented),
runs it and sees its rows; pages through a longer answer; downloads the answer as TSV; finds the
query in the history and the tabs again after a reload.
"""

from __future__ import annotations

import csv
import io

import pytest

import kgraph
from kgraph.description import example_params

from .test_server import ARTIFACTS, Server, wait_until


@pytest.fixture(scope="module")
def server(default_store, tmp_path_factory):
    s = Server(default_store.path, tmp_path_factory.mktemp("yasgui") / "server.log", workers=2)
    yield s
    s.stop()


def table(page) -> dict[str, list[str]]:
    """The active tab's result table, column name -> the cells shown on this page."""
    return page.evaluate("""() => {
      const t = document.querySelector('.tabPanel.active .yasr table.dataTable');
      const names = [...t.querySelectorAll('thead th')].map((th) => th.textContent.trim());
      const rows = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent.trim()));
      return Object.fromEntries(names.map((n, i) => [n, rows.map((r) => r[i])]));
    }""")


def run_active_tab(page) -> None:
    page.evaluate("window.kgraph.lastRows = null")
    page.click(".tabPanel.active .yasqe_queryButton")
    wait_until(page, "window.kgraph.lastRows !== null", timeout=60)


def test_yasgui_runs_a_named_query_offline(server, browser, default_store, tmp_path):
    blocked: list[str] = []
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()

    def route(r):
        if r.request.url.startswith(server.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url)
    wait_until(page, "window.kgraph && window.kgraph.ready === true")
    queries = kgraph.named_queries()
    assert sorted(page.locator("#named button").all_inner_texts()) == sorted(queries)
    # the parameters of a named query are documented next to it
    assert "?code" in page.locator("#named li", has=page.locator("[data-name=diagnoses_supporting]")).inner_text()

    # one click opens the named query in a tab of its own, its example's parameter written in
    page.click("[data-name=diagnoses_supporting]")
    assert page.locator(".tabPanel.active").count() == 1
    assert "diagnoses_supporting" in page.inner_text(".tabsList .tab.active")
    text = page.evaluate("window.kgraph.yasgui.getTab().getQuery()")
    assert "# parameter ?code: code, the procedure" in text and "CPT:74360" in text
    run_active_tab(page)
    expected = kgraph.query(default_store, "diagnoses_supporting", code="CPT:74360")
    assert page.evaluate("window.kgraph.lastRows") == len(expected.rows) > 0
    shown = table(page)
    assert shown["diagnosis"] == expected.column("diagnosis")  # prefixed names, in the query's order
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "server-yasgui-named-query.png"), full_page=True)

    # a longer answer is paged: 50 rows a page
    page.click("[data-name=billed_with]")
    run_active_tab(page)
    longer = kgraph.query(default_store, "billed_with", **example_params(queries["billed_with"]))
    assert len(longer.rows) > 50
    assert len(table(page)["code"]) == 50
    assert f"of {len(longer.rows)} entries" in page.inner_text(".tabPanel.active .yasr")

    # download the active tab's whole answer as TSV
    with page.expect_download() as download:
        page.click("#downloads button[data-format=tsv]")
    saved = tmp_path / "answer.tsv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8")), delimiter="\t"))
    assert len(rows) == len(longer.rows) + 1 and rows[0][0] == "?" + longer.columns[0]

    # the history lists what was run, newest first; tabs and history survive a reload
    history = page.locator("#history button").all_inner_texts()
    assert len(history) == 2 and history[0].startswith("SELECT")
    page.reload()
    wait_until(page, "window.kgraph && window.kgraph.ready === true")
    tabs = page.locator(".tabsList .tab").all_inner_texts()
    assert any("diagnoses_supporting" in t for t in tabs) and any("billed_with" in t for t in tabs)
    assert page.locator("#history button").count() == 2
    context.close()
    assert blocked == []
    assert errors == []
