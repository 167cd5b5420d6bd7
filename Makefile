# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PORT ?= $(or $(GRADIO_SERVER_PORT),7860)
# The corpus `make run` serves: the two regulations (default) or CORPUS=library (built by `make library`).
CORPUS ?= regulations
LIBRARY_INDEX := data/index-library
LIBRARY_QUESTIONS := data/benchmarks/stard-library

.PHONY: library bench-faiss run test test-full browser-deps setup index model lint mutation mutation-rooms bench-load bench-scale bench-engines bench-stores eval eval-stard clean

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

# The library (data/library: LawRefBook's national and provincial regulations, the two regulations with them) in its
# own index. Unpacks the vendored snapshot (sha256-checked), then builds: incremental (only changed articles are
# embedded again) and resumable (a killed build continues from the chunks it had embedded); the first build embeds
# ~150k chunks, hours on two busy cores. Calibrated on the fit half of the STARD questions mapped onto the library
# and on off-topic and junk questions (data/questions/library-dev.jsonl), which its abstain rule needs, and on what the two
# regulations' development questions answer (their "unanswerable" ones are left out: the library answers many), and
# those questions again searched within the two regulations, for the rule of narrow searches (a few regulations chosen).
# HNSW32 (efSearch 256): on the library's own 149,725 vectors 0.45 ms a question where exact search (Flat) takes 7.3 ms
# and a third of a loaded server's time; it finds 0.987 of the exact top 10, and STARD's recall@10 is unchanged
# (0.534 against 0.531). A narrow filter is searched exactly (`make bench-faiss`, README "The library").
library: model
	$(PY) -m ingest unpack
	$(PY) -m ingest build --source data/library/lawrefbook --source data/regulations --out $(LIBRARY_INDEX) --faiss HNSW32
	$(PY) -m eval calibrate --index $(LIBRARY_INDEX) --questions $(LIBRARY_QUESTIONS)/fit.jsonl \
		--questions data/questions/library-dev.jsonl --answerable data/questions/dev.jsonl \
		--narrow data/questions/dev.jsonl --save --if-stale --no-progress

ifeq ($(CORPUS),library)
run: library
	REGQA_INDEX=$(LIBRARY_INDEX) GRADIO_SERVER_PORT=$(PORT) $(PY) app.py
else ifeq ($(CORPUS),regulations)
run: index
	GRADIO_SERVER_PORT=$(PORT) $(PY) app.py
else
run:
	@echo "CORPUS must be regulations (default) or library, not $(CORPUS)"; exit 2
endif

# The browser tests need Debian's chromium and a CJK font: installed here when running as root (as CI does)
# or with password-less sudo; otherwise those tests fail with the command to run (they never skip).
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "installing chromium and fonts-noto-cjk for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	elif sudo -n true 2>/dev/null; then echo "installing chromium and fonts-noto-cjk for the browser tests"; \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "the browser tests need: sudo apt-get install -y chromium fonts-noto-cjk (they fail until then)"; fi

# The default run checks a fixed sample where a test would cover a whole benchmark set; test-full (CI) all of it.
# Two processes (pytest-xdist; a file's tests stay together, so module fixtures are built once), each shared index
# built once (tests/conftest.py), the 15 slowest tests printed at the end. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: setup model browser-deps
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) --durations=15

test-full:
	REGQA_TEST_FULL=1 $(MAKE) test

lint: setup
	$(VENV)/bin/ruff check .

# Mutation testing (mutmut, configured in pyproject.toml; tests/MUTATION.md): the ranking core and the parser against
# the fast unit tests, 2 workers, about 20 minutes for the default modules. Not part of `make test`. Another set:
# `make mutation MUTATE="retrieval.checker.check retrieval.checker.quotes"`. Results stay in mutants/: a later run with the same
# modules tests them all again; `python tests/mutation_score.py --survivors` lists what survived.
MUTATE ?= retrieval.abstain retrieval.fuse retrieval.references retrieval.citations retrieval.highlight \
	retrieval.signals retrieval.settings retrieval.retriever retrieval.query retrieval.web.cards ingest.parse
mutation: setup
	$(PY) -m mutmut run --max-children 2 $(foreach m,$(MUTATE),'$(m).*')
	$(PY) tests/mutation_score.py $(foreach m,$(MUTATE),$(subst .,/,$(m)).py)

# The rooms around the core (tests/MUTATION.md, "The rooms"): the follow-up rules, the comparison, permalinks, the
# checker, serving, the cache, admission, the HTTP API, feedback, sources, build and the index files, against their
# fast tests. One room at a time (a run tests only its modules' mutants; the other rooms' results are kept), so the 2
# shared cores are never asked for more than one run. `make mutation-rooms MUTATE_ROOMS=checker` does one room.
MUTATE_ROOMS ?= conversation checker serving ingest
ROOM_conversation := retrieval.conversation.followup retrieval.conversation.compare retrieval.conversation.permalinks
ROOM_checker := retrieval.checker.check retrieval.checker.quotes retrieval.checker.catalogue
ROOM_serving := retrieval.serving.service retrieval.serving.answer_cache retrieval.serving.admission \
	retrieval.serving.http_api retrieval.serving.feedback
ROOM_ingest := ingest.sources ingest.build ingest.stores.index_io
mutation-rooms: setup
	set -e; $(foreach r,$(MUTATE_ROOMS),$(PY) -m mutmut run --max-children 2 $(foreach m,$(ROOM_$(r)),'$(m).*');)
	$(PY) tests/mutation_score.py $(foreach r,$(MUTATE_ROOMS),$(foreach m,$(ROOM_$(r)),$(subst .,/,$(m)).py))

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

# FAISS index types (Flat, HNSW, IVF) at the library's size: recall@10 against exact search, latency, build time.
bench-faiss: setup
	$(PY) -m eval.bench.faiss_types

# FAISS vs Milvus (embedded): quality on both question sets, latency at 76 / 1,485 / 100k chunks.
bench-stores: index
	$(PY) -m ingest build --source data/benchmarks/stard/corpus.jsonl --out data/index-stard
	$(PY) -m eval.bench.stores

clean:
	rm -rf data/index data/index-stard data/index-library data/library/lawrefbook reports test-output bench-output .pytest_cache mutants
