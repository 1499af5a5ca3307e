# Two entry points for a fresh machine with only python3 and git: `make demo` and `make test`.
# The interpreter the venv is made from: the system's python3 when it is 3.11 or newer and can make a venv with pip
# (Debian's and Ubuntu's are built with profile-guided and link-time optimisation and without a shared libpython:
# the suite needs a tenth less CPU than with a default source build, such as pyenv's; bench/RESULTS.md), else the
# python3 on PATH (also when the system's fails to make one). `make PYTHON=python3.13 …` chooses another; an
# existing .venv is kept (`make clean` first).
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
                  >/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The project's own checks must not see an operator's site runbooks or settings.
CLEAN_ENV := env -u MEDIAOPS_RUNBOOK_PATH -u MEDIAOPS_CONFIG -u MEDIAOPS_REPO

.PHONY: install bytecode demo test lint docs docs-check suite bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); python3 -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Every command is a new Python process. The package is installed editable, so its bytecode is written only where
# the environment allows it (PYTHONDONTWRITEBYTECODE=1 forbids it): without it each command compiles every module
# it imports again. Written here, as an installed package has it; only what changed is compiled again.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q mediaops runbooks tests/runbooks

demo: bytecode
	$(CLEAN_ENV) $(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check mediaops runbooks tests bench examples
	$(BIN)/mypy
	$(BIN)/vulture mediaops runbooks vulture_allowlist.py --min-confidence 60

docs: $(STAMP)
	$(CLEAN_ENV) $(BIN)/mediaops --repo examples/home-ops docs

# The checks and the suite at once: the suite's workers leave about a tenth of two cores idle, which a cold mypy
# (12 s of CPU in a fresh clone) fills. Either failing fails `make test`; their lines may interleave.
test: bytecode
	$(MAKE) --no-print-directory -j2 lint docs-check suite

docs-check: $(STAMP)
	$(CLEAN_ENV) $(BIN)/mediaops --repo examples/home-ops docs --check

suite: bytecode
	$(CLEAN_ENV) $(BIN)/pytest -q -n 4 --dist worksteal

bench: bytecode
	$(CLEAN_ENV) $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
