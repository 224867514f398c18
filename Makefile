# dragoman — `make serve` and `make test` set everything up from a bare machine
# (python3, pip, make). One virtualenv, .venv, serves both.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROTOS := $(shell find proto -name '*.proto')
HOST   ?= 127.0.0.1
PORT   ?= 50051

.PHONY: serve test lint proto proto-check proto-breaking system-deps demo-model demo-build bench clean

# --- environments ----------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

# Serving install: no torch.
$(VENV)/.serve: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

# Everything the tests need: dev tools and the training/convert extras (torch pinned).
$(VENV)/.dev: $(VENV)/.serve
	$(BIN)/pip install -q -e '.[dev,train]'
	touch $@

# Debian packages and npm tools the tests use (redis-server, buf).
system-deps:
	@bash .ci/system-deps

# --- the two README commands -------------------------------------------------------

serve: $(VENV)/.serve
	$(BIN)/dragoman serve --model demo --host $(HOST) --port $(PORT)

test: $(VENV)/.dev system-deps proto-check demo-build
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# --- development -------------------------------------------------------------------

proto: $(VENV)/.dev
	$(BIN)/python -m grpc_tools.protoc -Iproto --python_out=. --pyi_out=. \
		--grpc_python_out=. $(PROTOS)

# Fails when the committed generated code differs from what `make proto` writes.
proto-check: $(VENV)/.dev
	@tmp=$$(mktemp -d) && \
	$(BIN)/python -m grpc_tools.protoc -Iproto --python_out=$$tmp --pyi_out=$$tmp \
		--grpc_python_out=$$tmp $(PROTOS) && \
	for f in $$(cd $$tmp && find . -name '*.py*'); do \
		cmp -s $$tmp/$$f $$f || { echo "stale generated code: $$f (run make proto)"; exit 1; }; \
	done && echo "generated code is up to date"

lint: $(VENV)/.dev system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy engine server
	cd proto && ../.tools/node_modules/.bin/buf lint
	bash .ci/buf-breaking

# Fails when proto/ breaks the API against main (see .ci/buf-breaking for what it compares).
proto-breaking: system-deps
	bash .ci/buf-breaking

demo-model: $(VENV)/.dev
	$(BIN)/dragoman demo-model

# The tests check the shipped demo model against a fresh pipeline build and train adapters
# on it; build it (about 7 minutes on 2 cores, once: cached by recipe hash) before pytest,
# so that no test's timeout has to cover it.
demo-build: $(VENV)/.dev
	$(BIN)/dragoman demo-model --cache-dir .cache/dragoman --no-progress

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
