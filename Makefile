# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PORT ?= $(or $(GRADIO_SERVER_PORT),7860)

.PHONY: run test setup index model lint bench-load bench-scale bench-engines bench-stores eval eval-stard clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

model: setup
	$(PY) -m ingest model

# Rebuilds only when a source document or a setting changed (the manifest records both); a new build is
# calibrated on the corpus's development questions (fusion weight, abstain rule), stored with the index.
index: model
	$(PY) -m ingest build
	$(PY) -m eval calibrate --questions data/questions/dev.jsonl --save --if-stale --no-progress

run: index
	GRADIO_SERVER_PORT=$(PORT) $(PY) app.py

test: setup model
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

eval: index
	$(PY) -m eval run --questions data/questions/test.jsonl --mode all --report reports/latest

eval-stard: setup
	$(PY) -m ingest build --source data/benchmarks/stard/corpus.jsonl --out data/index-stard
	$(PY) -m eval run --index data/index-stard --questions data/benchmarks/stard/test.jsonl --mode all

bench-engines: setup
	$(PY) -m eval.bench.engines

bench-load: index
	$(PY) -m eval.bench.load

bench-scale: setup
	$(PY) -m eval.bench.scale

# FAISS vs Milvus (embedded): quality on both question sets, latency at 76 / 1,485 / 100k chunks.
bench-stores: index
	$(PY) -m ingest build --source data/benchmarks/stard/corpus.jsonl --out data/index-stard
	$(PY) -m eval.bench.stores

clean:
	rm -rf data/index data/index-stard reports test-output bench-output .pytest_cache
