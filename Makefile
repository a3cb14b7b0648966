# OpenIMR — set-up, run, test, bench. Every target sets up what it needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PG_BIN  := /usr/lib/postgresql/15/bin
export PYTHONDONTWRITEBYTECODE=1

.PHONY: run test bench system-deps clean lint library-model

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Debian packages the tests need: PostgreSQL 15 server binaries, Chromium for the browser
# tests, poppler-utils for looking at rendered PDFs, Tesseract's models (tesseract-ocr,
# tesseract-ocr-eng) for OCR of scanned case files. Installed only where missing.
system-deps:
	@missing=""; \
	test -x $(PG_BIN)/initdb || missing="$$missing postgresql-15"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata >/dev/null 2>&1 || missing="$$missing tesseract-ocr-eng"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/openimr demo

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n 2 -q

# The precedent library's offline semantic model, distilled once from the packaged MiniLM
# (also built on first use).
library-model: $(STAMP)
	$(BIN)/openimr library-model

# Lint: ruff (rules in pyproject.toml) and mypy (modules still on its baseline list are skipped).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
