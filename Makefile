# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create .venv on first use. torch==2.13.0 is installed first so that pip takes the
# CPU build on disk instead of pulling a multi-GB CUDA build to satisfy the package's range.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

.PHONY: install demo test bench
install: $(BIN)/.installed

demo: install
	$(BIN)/qvec demo

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/bench_qubit.py
