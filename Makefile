# geobrief — `make run` (the main job) and `make test` (the suite) work on a fresh clone.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
BASE_MODEL := models/base/SmolLM2-135M-Instruct

.PHONY: setup run demo test bench clean

setup: ## venv, torch (CPU build where there is no CUDA), the project, the base model; idempotent
	@scripts/setup.sh

run: setup ## the service; the offline demo when TELEGRAM_BOT_TOKEN is unset
	$(BIN)/geobrief run

demo: setup
	$(BIN)/geobrief demo

test: setup ## the test suite (what .ci/run runs)
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/feeds.py && $(BIN)/python bench/delivery.py && $(BIN)/python bench/train.py

clean:
	rm -rf $(VENV) models data
