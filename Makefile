# Snapshot Q&A: `make run` (set up, build, serve on 127.0.0.1:8501) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501

# Offline and private, always: no model hub, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export TOKENIZERS_PARALLELISM := false

.PHONY: setup build run test lint browser-deps bench eval clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

build: setup
	$(VENV)/bin/chatbot build

run: build
	$(VENV)/bin/streamlit run chatbot/app.py --server.address 127.0.0.1 --server.port $(PORT) \
	  --server.headless true --browser.gatherUsageStats false

# Debian's Chromium for the real-browser test (never `playwright install`: it downloads).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: setup
	$(VENV)/bin/ruff check chatbot tests

test: build browser-deps lint
	$(PY) -m pytest -q -p no:cacheprovider

eval: build
	$(VENV)/bin/chatbot eval --report eval

bench: build
	$(PY) eval/benchmark.py

clean:
	rm -rf $(VENV) indexes/chroma* indexes/manifest.json
