# kgraph: `make run` builds the default graph and shows it; `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= .kgraph
# The official code sets (tests, bench/, data/full.toml): ../shared/data next to the project (as CI
# lays a clone out), else wherever you point KGRAPH_SHARED_DATA yourself.
KGRAPH_SHARED_DATA ?= $(wildcard $(abspath ../shared/data))
export KGRAPH_SHARED_DATA

.PHONY: run test check lint format bench clean help chromium notebook virtuoso serve

help:
	@echo "make run    - create .venv, install kgraph, build the default graph, print a sample query"
	@echo "make test   - install with dev extras and run every test (slow full-scale ones too)"
	@echo "make check  - the fast tier of the tests (no full build, browser, server or Virtuoso)"
	@echo "make lint   - ruff and mypy"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/kgraph build --store $(STORE) --format table
	@echo
	@echo "Sample query: diagnoses that support CPT 74360, with the briefing line behind each edge"
	$(BIN)/kgraph query --store $(STORE) --format table \
	  'SELECT ?diagnosis ?role ?line WHERE { ?a rdf:subject ?diagnosis ; rdf:predicate kg:supports ; rdf:object CPT:74360 ; kg:role ?role ; kg:line ?line } ORDER BY ?line'
	$(BIN)/kgraph export html --store $(STORE) --focus CPT:74360 --depth 1 --findings -o cpt-74360.html
	@echo "Picture of CPT 74360's neighbourhood written to cpt-74360.html (self-contained, opens offline)"

# Debian's chromium for the browser tests of the HTML export (idempotent; needs root or sudo)
chromium:
	bash scripts/install-chromium.sh

# Virtuoso Open Source for the remote-endpoint tests (Debian package; idempotent; needs root or sudo)
virtuoso:
	bash scripts/virtuoso.sh install

# every tier, on one pytest-xdist worker per core; --dist loadfile keeps a module's tests on one
# worker (its browser, server or Virtuoso fixture starts once); the full build is made once (a lock
# in .test-cache/), the other worker waits for it
test: $(VENV)/.installed-dev chromium virtuoso
	$(BIN)/python -m pytest -n auto --dist loadfile

# the fast tier: every test that needs no full build, browser, server or Virtuoso (a quick loop while
# you work; `make test` runs every tier). The stores it uses are kept in .test-cache/ (`make clean`
# removes them; a change to their inputs or to kgraph's build code rebuilds them), and it runs on one
# pytest-xdist worker per core (the workers share those stores)
check: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser and not server and not virtuoso"

serve: $(VENV)/.installed
	$(BIN)/kgraph serve --store $(STORE)

$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,notebook]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-dev

# JupyterLab on notebooks/, on the store $(STORE) (built first if missing)
notebook: $(VENV)/.installed-notebook
	@test -e $(STORE) || $(BIN)/kgraph build --store $(STORE) --format table
	KGRAPH_STORE=$(abspath $(STORE)) $(BIN)/jupyter lab notebooks/

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check kgraph tests bench
	$(BIN)/mypy kgraph

clean:
	rm -rf $(VENV) $(STORE) $(STORE).d $(STORE).push.json .pytest_cache .test-cache
