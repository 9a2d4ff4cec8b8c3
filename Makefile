# Two entry points (see README): `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint vectors bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/casecircle demo

vectors: $(STAMP)
	$(BIN)/casecircle vectors

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.bench_group

.PHONY: bench-relay
bench-relay: $(STAMP)
	$(BIN)/python -m tests.benchmarks.bench_relay

.PHONY: bench-notes
bench-notes: $(STAMP)
	$(BIN)/python -m tests.benchmarks.bench_notes

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis

# The desktop app's Czech texts: extract the English sources into the .ts file (then
# translate what lupdate marks unfinished), and compile the .qm the app loads.
TS := client/desktop/translations/casecircle_cs.ts
.PHONY: translations
translations: $(STAMP)
	$(BIN)/pyside6-lupdate -no-obsolete client/desktop/*.py -ts $(TS)
	$(BIN)/pyside6-lrelease $(TS) -qm $(TS:.ts=.qm)

# PNG screenshots of each main screen in both languages, from the real app (offscreen).
.PHONY: screenshots
screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m client.desktop.screenshots docs/screenshots
