# Two commands a learner needs: `make lab` and `make test`. Both create .venv and install the course first,
# with the exact versions of requirements-lock.txt (the ones the stored outputs were made with).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements-lock.txt
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

.PHONY: install lab test exercises workspace clean

# Re-install only when the dependency lists change. On Linux without an NVIDIA GPU, torch comes first from
# PyTorch's CPU wheel index (a small download instead of the multi-GB CUDA build); where that index cannot
# be reached within a few seconds, the next line installs torch from the default index instead.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	    echo "The course needs Python 3.11; '$(PYTHON)' is not. Run: make clean && make $(MAKECMDGOALS) PYTHON=python3.11"; \
	    exit 1; }
	$(PYTHON) -m venv $(VENV)
	@if [ "$$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null 2>&1; then \
	    echo "Installing the CPU build of torch from $(TORCH_CPU_INDEX) ..."; \
	    $(BIN)/python -m pip install --quiet --no-deps --timeout 5 --retries 0 \
	        --index-url $(TORCH_CPU_INDEX) "$$(grep '^torch==' $(LOCK))" >/dev/null 2>&1 \
	    || echo "... that index cannot be reached: torch comes from the default index (on Linux, the large CUDA build, unless a CPU wheel is served there)."; \
	fi
	$(BIN)/python -m pip install -r $(LOCK) -e ".[lab,test]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m course_lib.authoring.lab

test: $(STAMP)
	$(BIN)/python -m pytest

# Authoring: regenerate exercises/ from solutions/ (tests fail when they are out of date).
exercises: $(STAMP)
	$(BIN)/python -m course_lib.authoring.build_exercises

workspace: $(STAMP)
	$(BIN)/python -m course_lib.authoring.workspace

clean:
	rm -rf $(VENV) grading-output
