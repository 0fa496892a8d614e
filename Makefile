# Two entry points for a fresh machine: `make demo` and `make test` (`make docs` builds the documentation).
# Both create .venv on first use. torch==2.13.0 is installed first so that pip takes the
# CPU build on disk instead of pulling a multi-GB CUDA build to satisfy the package's range.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[apps,dask,test,docs]'
	touch $@

.PHONY: install demo test docs bench
install: $(BIN)/.installed

# Each demo run writes a new folder under runs/ (a run folder refuses to be trained twice without --resume).
demo: install
	$(BIN)/qvec train classify --quick-test --out runs/demo-$$(date +%Y%m%d-%H%M%S)

# The documentation, then the suite (pytest's summary stays the last line CI prints): --strict turns
# a broken docstring or link into a failure (never add --quiet: it hides the warnings, and --strict then passes).
# The suite runs on two worker processes (pytest-xdist; one torch thread each, tests/conftest.py); tests marked
# with one xdist_group run on one worker, one after another (a shared cluster or cached example run).
test: install
	$(BIN)/mkdocs build --strict --site-dir site
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

docs: install
	$(BIN)/mkdocs build --strict --site-dir site
	@echo "open site/index.html (API reference: site/api/)"

bench: install
	$(BIN)/python bench/bench_qubit.py
