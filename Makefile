# The two commands of the README:
#   make run    - set up (once) and run the whole workflow on corpus/ into aligned/
#   make test   - set up (once) and run the test suite (what .ci/run calls)
# and, for your own loop:
#   make test-fast - the suite without the tests marked slow (e2e and unit tests over ~2 s)
# Set-up creates .venv, installs the local CPU build of torch first (a bare `torch`
# would pull a multi-GB CUDA build), then the project, and the Debian hunspell
# dictionaries and Chromium used by the spelling check and the review-page test (and
# LibreOffice Calc and OmegaT, which the spreadsheet and OmegaT tests drive).

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast setup system-deps bench-quick

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,ray]'
	touch $(STAMP)

system-deps:
	@if [ ! -f /usr/share/hunspell/ru_RU.dic ] || [ ! -f /usr/share/hunspell/be_BY.dic ] || ! command -v chromium >/dev/null || ! command -v soffice >/dev/null || ! command -v omegat >/dev/null || [ ! -f /usr/share/apertium/modes/bel-rus.mode ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: hunspell-be hunspell-ru chromium libreoffice-calc-nogui omegat apertium apertium-bel-rus"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hunspell-be hunspell-ru chromium libreoffice-calc-nogui omegat apertium apertium-bel-rus >/dev/null) \
	      || echo "warning: could not install Debian packages; spelling, browser, spreadsheet, OmegaT and BE<->RU cross-check tests will be skipped"; \
	  else echo "note: hunspell-be, hunspell-ru, chromium, libreoffice-calc-nogui, omegat or apertium-bel-rus missing and not root; related checks/tests are skipped"; fi; \
	fi

run: setup
	$(VENV)/bin/workflow run

test: setup
	HF_HUB_OFFLINE=1 TQDM_DISABLE=1 $(PY) -m pytest -q -p no:cacheprovider

test-fast: setup
	HF_HUB_OFFLINE=1 TQDM_DISABLE=1 $(PY) -m pytest -q -p no:cacheprovider -m "not slow"

bench-quick: setup
	HF_HUB_OFFLINE=1 $(PY) bench/translate.py --quick
