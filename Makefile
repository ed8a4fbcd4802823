# The test command (README): `make test`. It always tests this working tree:
# tools/devenv.py first makes $(VENV) an editable install of it with the test
# extra (creating or repairing it, e.g. after the README demo's `pip install .`).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: test lint install demo bench dist

install:
	@$(PYTHON) tools/devenv.py $(VENV)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n auto -q

demo: install
	$(BIN)/promoter demo

# sdist and wheel into dist/ (the release workflow runs the same).
dist: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
