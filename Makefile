# Two commands a learner needs: `make lab` and `make test`. Both create .venv and install the course first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lab test exercises workspace grade clean

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e .
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m course_lib.lab

test: $(STAMP)
	$(BIN)/python -m pytest

# Authoring: regenerate exercises/ from solutions/ (tests fail when they are out of date).
exercises: $(STAMP)
	$(BIN)/python -m course_lib.build_exercises

workspace: $(STAMP)
	$(BIN)/python -m course_lib.workspace

clean:
	rm -rf $(VENV) grading-output
