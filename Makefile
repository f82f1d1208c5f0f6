# Two commands: `make run` serves the app, `make test` runs every test. Both set up first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ADDRESS ?= 0.0.0.0
PORT ?= 8501
DEMO_DIR ?= .demo
PYTEST_ARGS ?=
# The official OpenSpec CLI, a test oracle only (tests/openspec/conftest.py reads the same place).
ORACLE_DIR ?= $(HOME)/.cache/pmdash-tests/openspec-1.13.2

.PHONY: run test setup demo chromium oracle lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@# compat: a plain path entry. The default editable finder is imported by every Python
	@# start in this venv (~12 ms), and Claude Code starts one `pmdata hook` per event.
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' \
	  --config-settings editable_mode=compat
	@# Bytecode once, here: Claude Code starts a `pmdata hook` process per event, and where
	@# PYTHONDONTWRITEBYTECODE is set each would compile our modules again (~5 ms of 40).
	$(PY) -m compileall -q pmdata
	@touch $(STAMP)

# Built once; `make demo` again (or `rm -r .demo`) to refresh its dates.
$(DEMO_DIR)/pmdash.db: | $(STAMP)
	$(VENV)/bin/pmdata demo $(DEMO_DIR) --quiet

demo: $(STAMP)
	$(VENV)/bin/pmdata demo $(DEMO_DIR) --quiet

run: setup
	@if [ -z "$$PMDASH_DB" ]; then \
	  $(MAKE) --no-print-directory $(DEMO_DIR)/pmdash.db && \
	  echo "No PMDASH_DB set: serving the demo data in $(DEMO_DIR)/" && \
	  demo="$$(realpath $(DEMO_DIR))" && \
	  export PMDASH_DB="$$demo/pmdash.db" \
	         PMDASH_PROJECT_ROOTS="$${PMDASH_PROJECT_ROOTS:-$$demo/projects}"; \
	fi; \
	echo "pmdash: http://localhost:$(PORT) (from the home network: this machine's address, port $(PORT))"; \
	exec $(VENV)/bin/streamlit run server.py --server.address=$(ADDRESS) --server.port=$(PORT)

# The browser tests need Debian's chromium; install it when we can (root), never a downloaded one.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
	      || echo "could not install chromium: browser tests will say why they skip"; \
	  else echo "chromium missing and not root: browser tests will say why they skip"; fi; \
	fi

# Fetched before the suite runs, because the suite itself runs with networking off.
oracle:
	@if [ ! -x "$(ORACLE_DIR)/node_modules/.bin/openspec" ]; then \
	  if command -v npm >/dev/null 2>&1; then \
	    mkdir -p "$(ORACLE_DIR)" && cd "$(ORACLE_DIR)" && \
	    npm install --silent --no-audit --no-fund @fission-ai/openspec@1.13.2 >/dev/null 2>&1 \
	      || echo "could not install the OpenSpec CLI: its oracle tests will say why they skip"; \
	  else echo "npm missing: the OpenSpec CLI oracle tests will say why they skip"; fi; \
	fi

# With networking off (a fresh network namespace, loopback only) when the machine allows it:
# that is the proof that nothing in pmdash downloads anything.
test: setup chromium oracle
	@if unshare -n true 2>/dev/null && command -v ip >/dev/null 2>&1; then \
	  echo "running the suite with networking off (unshare -n, loopback only)"; \
	  unshare -n sh -c 'ip link set lo up && exec "$$0" "$$@"' $(PY) -m pytest $(PYTEST_ARGS); \
	else \
	  echo "unshare -n is not permitted here: running the suite with networking on"; \
	  $(PY) -m pytest $(PYTEST_ARGS); \
	fi

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache screenshots
