# The two set-up commands (see README): `make demo` and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_ID := $(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench bench-quick clean

$(VENV)/.installed-base-$(DEPS_ID): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	rm -f $(VENV)/.installed-base-*
	touch $@

$(VENV)/.installed-test-$(DEPS_ID): $(VENV)/.installed-base-$(DEPS_ID)
	$(BIN)/python -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-test-*
	touch $@

demo: $(VENV)/.installed-base-$(DEPS_ID)
	$(BIN)/python -m keras_segmentation demo --out_dir demo_output

test: $(VENV)/.installed-test-$(DEPS_ID)
	$(BIN)/ruff check .
	$(BIN)/python tests/lanes.py

bench: $(VENV)/.installed-test-$(DEPS_ID)
	$(BIN)/python bench/run.py

bench-quick: $(VENV)/.installed-test-$(DEPS_ID)
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) demo_output build *.egg-info
