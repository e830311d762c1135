# Two commands for a fresh machine: `make demo` and `make test` (each sets itself up).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[cpu,sdr,plot,monitor,test]'
	# HaarPSI (testbed.metrics): piq without its torchvision, which only piq's network metrics use
	# and whose PyPI build does not load beside the CPU torch
	$(PY) -m pip install -q --no-deps piq==0.8.0
	touch $(STAMP)

.PHONY: install demo test bench tables
install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/diffair loopback

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/diffair bench-phy --out docs/benchmarks/phy_frontend.json

# Every receiver table of the README, re-measured from scratch and written back into README.md
# (docs/benchmarks/tables/make_tables.py; its time on this machine is in the README).
tables: $(STAMP)
	$(PY) docs/benchmarks/tables/make_tables.py
