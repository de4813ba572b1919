# Two commands on a fresh machine: `make run` (install, ingest corpus/, serve the UI) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install browser ingest run test test-fast test-integration eval lint bench bench-ingest clean

$(STAMP): pyproject.toml
	@echo "==> [1/4] virtual environment in $(VENV)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> [2/4] torch (CPU build)"
	# CPU build of torch first: any other spec pulls gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	@echo "==> [3/4] the package and its models; on a fresh machine llama-cpp-python is compiled from source (about 9 min on 2 cores)"
	$(BIN)/python -m pip install --progress-bar off -e ".[dev]"
	@echo "==> [4/4] pip check"
	$(BIN)/python -m pip check
	touch $(STAMP)

# Bytecode of the package written once (an editable install writes none, and where PYTHONDONTWRITEBYTECODE is set
# every one-shot `assistant ask` would compile it again: 0.5 s of its 3 s). Cheap when nothing changed.
install: $(STAMP)
	$(BIN)/python -m compileall -q assistant

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }

ingest: install
	@echo "==> ingesting corpus/ (the first run on a machine also builds the fast embedder, about 10 s)"
	$(BIN)/assistant ingest corpus

run: ingest
	@echo "==> starting the UI (the first start assembles the model once into ~/.cache/assistant/models)"
	$(BIN)/python app.py

lint: install
	$(BIN)/ruff check assistant tests app.py bench
	$(BIN)/ruff format --check assistant tests app.py bench
	$(BIN)/mypy assistant

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not scale" -q

test-integration: install browser
	$(BIN)/python -m pytest -m "integration or scale" -q

eval: install
	$(BIN)/assistant eval eval/seed.yaml --output eval/out

# In `make test` (and so in CI) a missing browser fails the browser tests instead of skipping them.
test: export ASSISTANT_REQUIRE_BROWSER := 1
test: browser lint test-fast test-integration eval

bench: install
	$(BIN)/python bench/run.py

bench-ingest: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf .assistant eval/out
