#!/usr/bin/env bash
# Runs the whole test suite (called by `make test` after setup). Screenshots and reports from
# the browser tests land in test-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False TOKENIZERS_PARALLELISM=false
mkdir -p test-artifacts
exec .venv/bin/python -m pytest -q -p no:cacheprovider --timeout=900 "$@"
