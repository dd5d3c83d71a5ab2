"""Builds under faults, measured: a build killed with SIGKILL part-way, readers during a rebuild, and
two ``kgraph build`` processes on one store at once. Every build here is a real ``python -m kgraph
build`` subprocess; the figures go to ``tests.figures.record`` (``docs/robustness.md``).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import kgraph
from tests.figures import record

from .conftest import DATA, ROOT, SEED, SMALL

SUPPORTS = "SELECT ?dx WHERE { ?dx kg:supports CPT:74360 } ORDER BY ?dx"
EVIDENCE = """SELECT ?dx ?line ?role WHERE {
  ?a rdf:subject ?dx ; rdf:predicate kg:supports ; rdf:object CPT:74360 ; kg:line ?line ; kg:role ?role
} ORDER BY ?dx ?line ?role"""
HCPCS = DATA / "hcpcs" / "2020-Alpha-Numeric-HCPCS-File.zip"
#: copies of the HCPCS file in the "medium" manifest: ~0.45 s each on this machine, ~5 s in all
COPIES = 8


def medium_manifest(folder: Path, copies: int = COPIES) -> Path:
    """The payer registry, the seed briefing and the HCPCS file ``copies`` times: a build of a few
    seconds that writes ~30k records per copy (the same 8 kg:supports edges as tests/data/small.toml)."""
    entries = [("payers", DATA / "payers.csv"), ("briefing", SEED)] + [("hcpcs", HCPCS)] * copies
    text = "".join(f'[[source]]\nkind = "{kind}"\npath = "{path}"\nlicence = "test"\n\n' for kind, path in entries)
    manifest = folder / "medium.toml"
    manifest.write_text(text, encoding="utf-8")
    return manifest


class Build:
    """``kgraph build`` in a subprocess; its stderr (progress) read line by line in a thread."""

    def __init__(self, manifest: Path, store: Path) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kgraph", "build", "--manifest", str(manifest), "--store", str(store),
             "--format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, needle: str, timeout: float = 60.0) -> str:
        """Wait until a progress line contains ``needle``; fails if the build ends first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {needle!r} in {timeout} s; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"the build ended before {needle!r}; saw {self.seen}")
            self.seen.append(line)
            if needle in line:
                return line

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL
        self.close()

    def finish(self, timeout: float = 120.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:  # a test that failed half-way: no build outlives it
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.reader.join(timeout=30)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def spawn() -> Iterator[Callable[[Path, Path], Build]]:
    """Starts builds, and ends any still running when the test ends."""
    started: list[Build] = []

    def start(manifest: Path, store: Path) -> Build:
        started.append(Build(manifest, store))
        return started[-1]

    yield start
    for build in started:
        build.close()


def built_small(store: Path) -> kgraph.Store:
    return kgraph.build(SMALL, store=store)


def leftovers(store: Path) -> list[str]:
    return sorted(p.name for p in store.with_name(store.name + ".d").glob(".tmp-*"))


#: where each kill lands: after the progress line holding ``needle``, ``delay`` seconds later
KILL_POINTS = [
    ("reading data/hcpcs", 0.0, "as the first code set starts streaming in"),
    ("reading data/hcpcs", 1.0, "1.0 s into streaming the code sets"),
    ("reading data/hcpcs", 2.5, "2.5 s into streaming the code sets"),
    ("counting degrees", 0.0, "as degrees start being counted"),
    ("counting degrees", 0.3, "0.3 s later (degrees, compaction, indexes or the swap)"),
]


def test_build_killed_part_way_leaves_the_previous_store(tmp_path, spawn):
    store = tmp_path / "kg"
    first = built_small(store)
    before_link = os.readlink(store)
    expected = kgraph.query(first, EVIDENCE).rows
    supports = kgraph.query(first, SUPPORTS).rows
    assert len(supports) == 8 and len(expected) >= 8
    manifest = medium_manifest(tmp_path)
    intact, swapped, outcomes = 0, 0, []
    for needle, delay, phase in KILL_POINTS:
        build = spawn(manifest, store)
        build.wait_for(needle)
        time.sleep(delay)
        killed_after = time.monotonic() - build.started
        build.kill()
        # what a user checks next: the store opens and answers the same query with the same rows
        again = kgraph.open(store)
        assert kgraph.query(again, EVIDENCE).rows == expected, phase
        assert kgraph.query(again, SUPPORTS).rows == supports, phase
        assert (again.build_dir / "build.json").is_file()
        # the symlink still names the previous build, unless the kill came after the atomic swap
        if os.readlink(store) == before_link:
            intact += 1
        else:
            swapped += 1
            assert again.info["counts"]["nodes"]["HCPCS"] > 0, phase
        outcomes.append({"phase": phase, "killed_after_s": round(killed_after, 2), "last_line": build.seen[-1],
                         "store": "previous" if os.readlink(store) == before_link else "new, complete"})
    stale = leftovers(store)
    assert stale, "a build killed while writing leaves its temporary directory"
    # a following build succeeds and removes what the killed ones left
    after = spawn(SMALL, store)
    assert after.finish() == 0, after.seen
    assert leftovers(store) == []
    assert not list(tmp_path.glob(".kg.swap-*"))
    final = kgraph.open(store)
    assert kgraph.query(final, EVIDENCE).rows == expected
    builds = [p for p in (tmp_path / "kg.d").iterdir() if not p.name.startswith(".")]
    assert len(builds) <= 2
    record("build_kill", faults_injected=len(KILL_POINTS), stores_intact=intact + swapped,
           previous_store_kept=intact, swap_completed_before_kill=swapped, leftovers_cleaned=len(stale),
           kill_points=outcomes)


def test_readers_keep_answering_during_a_rebuild(tmp_path, spawn):
    store = tmp_path / "kg"
    opened = built_small(store)
    expected = kgraph.query(opened, EVIDENCE).rows
    manifest = medium_manifest(tmp_path)
    build = spawn(manifest, store)
    build.wait_for("reading data/hcpcs")  # the new build is being written
    answered, reopened, errors = 0, 0, []
    started = time.monotonic()
    while build.proc.poll() is None and time.monotonic() - started < 120:
        try:
            assert kgraph.query(opened, EVIDENCE).rows == expected
            answered += 1
            if answered % 25 == 0:  # a reader that opens the store path now sees the old build or the new one
                assert kgraph.query(kgraph.open(store), EVIDENCE).rows == expected
                reopened += 1
        except Exception as exc:  # noqa: BLE001 - counted and shown: the assertion below names them
            errors.append(repr(exc))
    seconds = time.monotonic() - started
    assert build.finish() == 0, build.seen
    assert errors == []
    assert answered > 0
    # the opened store still answers after the swap, and the store path now opens the new build
    assert kgraph.query(opened, EVIDENCE).rows == expected
    new = kgraph.open(store)
    assert new.build_dir != opened.build_dir and new.info["counts"]["nodes"]["HCPCS"] > 0
    assert kgraph.query(new, EVIDENCE).rows == expected
    record("build_readers", queries_during_build=answered, reopened_during_build=reopened,
           build_seconds=round(seconds, 2), reader_errors=len(errors))


def test_two_builds_at_once_the_second_is_refused(tmp_path, spawn):
    store = tmp_path / "kg"
    first = spawn(medium_manifest(tmp_path), store)
    first.wait_for("reading data/hcpcs")  # it holds the lock from before its first progress line
    second = subprocess.run([sys.executable, "-m", "kgraph", "build", "--manifest", str(SMALL), "--store",
                             str(store), "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    still_running = first.proc.poll() is None
    assert first.finish() == 0, first.seen
    assert still_running, "the first build ended before the second started: the test did not overlap them"
    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        f"error: {store}: another build of this store is running; try again when it ends")
    assert second.stdout == ""
    built = kgraph.open(store)
    assert built.info["counts"]["nodes"]["HCPCS"] > 0  # the store is the first build's
    assert kgraph.query(built, SUPPORTS).rows and leftovers(store) == []
    record("build_concurrent", builds_started=2, refused=1, refused_exit_code=second.returncode,
           first_succeeded=True)



def test_a_server_keeps_answering_across_rebuilds(tmp_path):
    """``kgraph serve`` keeps the build it opened; rebuilds must not delete it under its query workers."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.test_server import CARTESIAN, Server

    def get(query: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{server.sparql}?query={urllib.parse.quote(query)}", timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    store = tmp_path / "kg"
    served = built_small(store)
    server = Server(store, tmp_path / "server.log", timeout=1.0, workers=2)
    try:
        expected = get(SUPPORTS)
        assert expected[0] == 200
        rebuilds = 3  # two builds are kept: the served one is no longer among the newest
        for _ in range(rebuilds):
            kgraph.build(SMALL, store=store)
        assert served.build_dir.is_dir(), "a rebuild deleted the build a running server uses"
        assert get(SUPPORTS) == expected
        # queries stopped at the timeout: both workers are killed and restarted on the served build
        assert [get(CARTESIAN)[0] for _ in range(2)] == [503, 503]
        deadline = time.monotonic() + 30
        answer = get(SUPPORTS)
        while answer != expected and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = get(SUPPORTS)
        assert answer == expected, answer
        with urllib.request.urlopen(server.url + "health", timeout=30) as r:
            health = json.loads(r.read())
        assert health["build"] == served.build_dir.name and health["newest_build"] != health["build"]
    finally:
        server.stop()
    # once the server has stopped, the next build removes the old build
    kgraph.build(SMALL, store=store)
    assert not served.build_dir.exists()
    record("build_server", rebuilds_while_serving=rebuilds, workers_replaced=2, served_build_kept=True,
           answered_after=True)
