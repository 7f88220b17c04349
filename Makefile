# The whole set-up on a fresh machine: `make install`, `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Debian packages the integration tests run for real (servers, not mocks).
TEST_DEBS := etcd-server redis-server zookeeper nginx-light
# Executables and files that tell whether each package above is present.
TEST_EXES := etcd redis-server java
TEST_FILES := /usr/share/java/zookeeper.jar /usr/sbin/nginx

.PHONY: install demo test test-slow image lint debs clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { echo "cannot create $(VENV): on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip

# confpy into .venv (an editable install: the checkout is what runs), byte-compiled:
# start-up time matters for -onetime, and without byte code each run compiles again.
$(BIN)/confpy: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

install: $(BIN)/confpy
	@$(BIN)/python -m compileall -q confpy
	@echo "confpy is in $(BIN): run '. $(BIN)/activate' to put it on your PATH"

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@ $(BIN)/confpy

debs:
	@missing=""; for exe in $(TEST_EXES); do command -v $$exe >/dev/null 2>&1 || missing=1; done; \
	for file in $(TEST_FILES); do [ -e $$file ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $(TEST_DEBS)"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(TEST_DEBS) >/dev/null; \
	fi

lint: $(VENV)/.test-deps
	$(BIN)/ruff check confpy tests benchmarks examples
	$(BIN)/mypy

test: $(VENV)/.test-deps debs lint
	@$(BIN)/python -m compileall -q confpy
	$(BIN)/python -m pytest -q

# The tests marked slow, left out of `make test` (minutes each): the image built with
# buildah from a debootstrap root, and the Ansible role run into a scratch root.
$(VENV)/.slow-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test-slow]'
	@touch $@ $(VENV)/.test-deps $(BIN)/confpy

test-slow: $(VENV)/.slow-deps debs
	$(BIN)/python -m pytest -q -m slow -p no:cacheprovider

# An OCI image (buildah, from a debootstrap root; no registry): confpy:<version>.
image: $(BIN)/python
	PYTHON=$(BIN)/python image/build.sh

# The seed scenario from the bundled copy of Registrator's keys (no server needed);
# -sync-only skips `nginx -t` and `nginx -s reload`, which need a running nginx.
demo: install
	@mkdir -p examples/registrator-nginx/out
	$(BIN)/confpy -onetime -backend file -file examples/registrator-nginx/data.yaml \
		-confdir examples/registrator-nginx -sync-only
	@echo "--- examples/registrator-nginx/out/nginx.conf"
	@cat examples/registrator-nginx/out/nginx.conf

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
