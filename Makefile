# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Everything lands in .venv; torch's CPU wheel goes in first so nothing pulls CUDA.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test eval bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime install, redone when the dependency pins change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: $(VENV)/.installed  ## start the tutor: Telegram if TELEGRAM_BOT_TOKEN is set, else a terminal chat
	$(BIN)/tutor

test: $(VENV)/.installed-dev  ## run the test suite (offline)
	$(BIN)/python -m pytest

eval: $(VENV)/.installed-dev  ## print the quality tables (retrieval, grader, learner simulation)
	$(BIN)/python -m evals

bench: $(VENV)/.installed-dev  ## print speed figures (start-up, retrieval, grading)
	$(BIN)/python -m evals.bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV)
