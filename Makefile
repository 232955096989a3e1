# Two entry points (README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean chromium

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The lock pins torch==2.13.0, which pip takes from the CPU build on local disk.
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/catalog demo

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# The browser tests (tests/browser) drive Debian's Chromium at /usr/bin/chromium, never a downloaded browser.
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

lint: $(STAMP)
	$(BIN)/ruff check .

# These take a generated catalog, a CATALOG_HOME or trained heads (README "Performance" and benchmarks/NOTES.md
# give their commands); the rest run as they are.
WITH_ARGUMENTS := bench_heads_latency bench_peer bench_scale_embed_text bench_scale_index bench_scale_profile \
	bench_scale_search bench_scale_upsert bench_static_embedder

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do \
	  case " $(WITH_ARGUMENTS) " in *" $$(basename $$b .py) "*) echo "skip $$b (takes arguments)"; continue;; esac; \
	  $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
