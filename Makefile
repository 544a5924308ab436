# spinesim: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# re-install when the project metadata changes
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	rm -f $(VENV)/.installed-*
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/spinesim run -o results/demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	mkdir -p results
	$(BIN)/python benchmarks/assembly.py --json results/bench_assembly.json
	$(BIN)/python benchmarks/solve.py --json results/bench_solve.json
	$(BIN)/python benchmarks/hardware.py --json results/bench_hardware.json
	$(BIN)/python benchmarks/segment.py --json results/bench_segment.json
	$(BIN)/python benchmarks/timeline.py --json results/bench_timeline.json

clean:
	rm -rf $(VENV) results .pytest_cache
