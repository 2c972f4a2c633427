#!/usr/bin/env bash
# Runs the test suite (called by `make test` and `make test-fast` after setup). Screenshots and
# reports from the browser tests land in test-artifacts/.
#   scripts/test.sh [PYTEST ARGS]          the whole suite
#   scripts/test.sh --fast [PYTEST ARGS]   the fast lane: not slow, browser or server; the real LLM
#                                          refused (GALEN_TEST_LANE=fast, tests/conftest.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False TOKENIZERS_PARALLELISM=false
mkdir -p test-artifacts
if [ "${1:-}" = "--fast" ]; then
  shift
  export GALEN_TEST_LANE=fast
  exec .venv/bin/python -m pytest -q -p no:cacheprovider --timeout=300 -m "not slow and not browser and not server" "$@"
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider --timeout=900 "$@"
