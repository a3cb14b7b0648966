# OpenIMR — set-up, run, test, bench. Every target sets up what it needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PG_BIN  := /usr/lib/postgresql/15/bin
export PYTHONDONTWRITEBYTECODE=1

.PHONY: run test bench system-deps ocr-deps clean lint library-model

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Debian packages, installed only where missing (apt-get, with sudo when not root).
# The workbench needs Tesseract OCR and its English model (tesseract-ocr, tesseract-ocr-eng)
# to read scanned case files; the tests also need the PostgreSQL 15 server binaries, Chromium
# for the browser tests and poppler-utils for looking at rendered PDFs.
define install_missing
	@missing=""; for check in $(1); do \
	  pkg=$${check%%=*}; test=$${check#*=}; sh -c "$$test" >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef
OCR_DEPS  := "tesseract-ocr=command -v tesseract" \
             "tesseract-ocr-eng=ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata"
TEST_DEPS := "postgresql-15=test -x $(PG_BIN)/initdb" "chromium=command -v chromium" \
             "poppler-utils=command -v pdftoppm"

ocr-deps:
	$(call install_missing,$(OCR_DEPS))

system-deps:
	$(call install_missing,$(OCR_DEPS) $(TEST_DEPS))

run: $(STAMP) ocr-deps
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
