# Two commands: `make run` serves the app, `make test` runs every test. Both set up first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ADDRESS ?= 0.0.0.0
PORT ?= 8501
DEMO_DIR ?= .demo
PYTEST_ARGS ?=

.PHONY: run test setup demo chromium lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
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
	exec $(VENV)/bin/streamlit run app.py --server.address=$(ADDRESS) --server.port=$(PORT)

# The browser tests need Debian's chromium; install it when we can (root), never a downloaded one.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
	      || echo "could not install chromium: browser tests will say why they skip"; \
	  else echo "chromium missing and not root: browser tests will say why they skip"; fi; \
	fi

test: setup chromium
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache screenshots
