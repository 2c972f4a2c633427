# Galen: `make run` starts the chat UI, `make test` runs the whole test suite, `make test-fast`
# the quick lane (no servers, no browser, no real LLM, nothing marked slow; a few minutes).
# All set up .venv on first use (and again when the requirements change).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.galen-setup
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test test-fast bench lint readme train clean

$(STAMP): requirements.txt requirements-dev.txt requirements-postgres.txt requirements-pacs.txt requirements-test.txt \
          requirements-nodeps.txt pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/galen chat

test: $(STAMP)
	bash scripts/test.sh

test-fast: $(STAMP)
	bash scripts/test.sh --fast

bench: $(STAMP)
	$(PY) scripts/bench.py

# Re-render README.md's figure tables from evals/results/*.json (tests/test_readme.py checks them).
readme: $(STAMP)
	$(PY) scripts/render_readme.py

lint: $(STAMP)
	$(VENV)/bin/ruff check galen agent tools specialists knowledge ui evals tests

clean:
	rm -rf $(VENV) .pytest_cache
