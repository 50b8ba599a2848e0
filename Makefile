# Set-up, tests, demo and benchmark. Every target creates or reuses .venv;
# a second run installs nothing (the stamp file tracks pyproject.toml).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
FAIRSEQ_WHEEL := ve-fairseq==0.12.3

.PHONY: install test demo bench lint clean

install: $(STAMP)

# torch first and pinned (a bare "torch" would resolve a multi-GB CUDA build);
# fairseq from a Python 3.11 wheel of upstream main, --no-deps so that its
# torchaudio requirement cannot pull another torch; then the project, whose
# pyproject lists fairseq's real runtime dependencies.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/pip install --quiet --no-deps $(FAIRSEQ_WHEEL)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo/run.sh --quick

bench: $(STAMP)
	$(BIN)/python benchmarks/aiw_step.py

lint: $(STAMP)
	$(BIN)/ruff check fairseq_aiw tests benchmarks data-prep
	$(BIN)/ruff format --check fairseq_aiw tests benchmarks data-prep

clean:
	rm -rf $(VENV) build
