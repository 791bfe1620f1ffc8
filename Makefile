# Two user-facing targets: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: demo test test-slow lint clean

# pip's and setuptools' chatter (e.g. the editable-install warning box) goes to .venv/install.log,
# shown only when the install fails.
$(STAMP): pyproject.toml
	@echo "installing sgn into $(VENV) (once; about a minute) ..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install --quiet -e '.[dev,openspiel]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(STAMP)

## Certify the default game (sgn-toy) and write out/certificate.json, out/band.png, out/phase.png.
demo: $(STAMP)
	@mkdir -p out
	@$(VENV)/bin/sgn certify sgn-toy --out out/certificate.json --plot out/band.png --phase-plot out/phase.png

## Run the default (fast) suite: unit tests, doctests and the notebooks' stored outputs.
test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS) --dist loadfile --durations=15

test-slow: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS) --dist loadfile --no-loadscope-reorder -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check sgn games certify policy tests benchmarks examples _sgn_cli.py

clean:
	rm -rf $(VENV) out .pytest_cache
