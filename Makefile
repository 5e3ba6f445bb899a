# Two commands on a fresh machine: `make run` (the chat UI) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
QA := $(VENV)/bin/qa
# Seed eval gate: `make test` fails when F1 (0-100, official CMRC metric) on eval/seeds_qa.jsonl
# drops below this; keep it just under the current score (see README: 83.3 since the ranker
# learns from the train files only).
MIN_F1 ?= 83

.PHONY: run test install install-test browser index clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) install -q -e .

# torch is pinned to the CPU build so that the `st` extra never pulls a CUDA build.
install-test: $(PY)
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test,st,scale]" "torch==2.13.0"

# Debian's Chromium for the browser tests; installed only when missing and we are root.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "note: could not install chromium; browser tests will be skipped"; \
	  else echo "note: /usr/bin/chromium missing and not root; browser tests will be skipped"; fi; \
	fi

index: install
	$(QA) ingest seeds --index index/default

test: install-test browser
	$(PY) -m pytest -q
	$(QA) eval --set eval/seeds_qa.jsonl --min-f1 $(MIN_F1) --report eval/reports/seeds_latest.json

run: install
	$(QA) serve

clean:
	rm -rf $(VENV) index/default
