# Two commands for a fresh machine with only Python: `make run` and `make test`.
# Re-running either is fast: the virtualenv is rebuilt only when pyproject.toml changes, and
# ingest only embeds what changed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8501
API_PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run serve test install index eval eval-release bench bench-full bench-load profile lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: otherwise pip resolves a CUDA build (gigabytes).
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/assistant ingest

run: index
	@if [ -f ui/app.py ]; then \
	  echo "Chat UI: http://$(HOST):$(PORT)"; \
	  $(BIN)/streamlit run ui/app.py --server.address $(HOST) --server.port $(PORT); \
	else \
	  $(BIN)/assistant ask "Can I give a West Virginia client a \$$20 credit?"; \
	fi

# The HTTP API for agent desktops (OpenAPI at http://$(HOST):$(API_PORT)/docs); `make run` stays the chat.
serve: index
	$(BIN)/assistant serve --host $(HOST) --port $(API_PORT)

test: install
	$(BIN)/pytest

# The last release's per-case results: `make eval` lists what was fixed and broken since.
RELEASE := evals/results/release

eval: index
	$(BIN)/assistant eval evals/*.yaml --out eval-report --min-pass-rate 0.94 --min-guardrail-pass-rate 1.0 \
	  --compare $(RELEASE)-gated.json
	$(BIN)/assistant eval evals/held-out --out eval-report/held-out --naive-baseline \
	  --compare $(RELEASE)-held-out.json  # reported, not gated: see docs/metrics.md

# At a release: record its results as the baseline the next changes are compared with (commit them).
eval-release: index
	$(BIN)/assistant eval evals/*.yaml --out eval-report --save-results $(RELEASE)-gated.json
	$(BIN)/assistant eval evals/held-out --out eval-report/held-out --naive-baseline --save-results $(RELEASE)-held-out.json

bench: install
	$(BIN)/python -m benchmarks --quick

bench-full: install
	$(BIN)/python -m benchmarks

# Many agents at once against the HTTP API (loopback only; bounded per level in requests and seconds):
# its own `chroma run`, 1 and 2 API processes, 1/4/8/16 agents, then 8 during an `ingest --rebuild`.
bench-load: install
	$(BIN)/python -m benchmarks.load

profile: install
	$(BIN)/python -m benchmarks.profile

lint: install
	$(BIN)/ruff check assistant ui tests benchmarks
	$(BIN)/mypy assistant benchmarks

clean:
	rm -rf .data eval-report test-output benchmarks/out
