# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv, installs what it needs, then runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.nvc-installed

.PHONY: demo test lint docs names clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nvc demo --out demo_out

# The documentation site (MkDocs): the generated reference pages, then the site in site/.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs
docs: $(STAMP) names
	$(PY) -m nvc_pipelines.reference
	$(MKDOCS) build

# The import names of the folders (pipelines/ -> nvc_pipelines, viewer_plugins/ ->
# nvc_napari) as a git-ignored link tree .names/ for the tools that read the source
# tree instead of importing the installed package (mypy, mkdocstrings).
names:
	mkdir -p .names
	ln -sfn ../pipelines .names/nvc_pipelines
	ln -sfn ../viewer_plugins .names/nvc_napari

lint: $(STAMP) names
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# napari tests need an X server: Xvfb and the few X/GL libraries PyQt5 + vispy load
# (installed only when missing; the rest ship with the machine image).
XLIBS := xvfb xauth libgl1 libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-icccm4 \
	libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 \
	libxcb-xfixes0 libxcb-shape0 libxcb-cursor0 libdbus-1-3 libfontconfig1
XVFB := xvfb-run -a -s "-screen 0 1600x1000x24"

test: lint
	$(MKDOCS) build --strict --quiet
	command -v pdftoppm >/dev/null || (apt-get update && apt-get install -y poppler-utils)
	@(command -v Xvfb >/dev/null && command -v xauth >/dev/null \
	  && ldconfig -p | grep -q libxcb-icccm.so.4 && ldconfig -p | grep -q libxcb-xinerama.so.0 \
	  && ldconfig -p | grep -q libxcb-keysyms.so.1) \
	  || (apt-get update -q && apt-get install -y -q $(XLIBS))
	$(XVFB) $(VENV)/bin/pytest

clean:
	rm -rf $(VENV) demo_out site .names .pytest_cache .mypy_cache .ruff_cache
