# Galen: `make run` starts the chat UI, `make test` runs the whole test suite.
# Both set up .venv on first use (and again when the requirements change).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.galen-setup
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test bench lint train clean

$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/galen chat

test: $(STAMP)
	bash scripts/test.sh

bench: $(STAMP)
	$(PY) scripts/bench.py

lint: $(STAMP)
	$(VENV)/bin/ruff check galen agent tools specialists knowledge ui evals tests

clean:
	rm -rf $(VENV) .pytest_cache
