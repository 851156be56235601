# Conjure: `make serve` builds and serves the app; `make test` installs what is
# missing and runs every test layer. Both work on a fresh Debian machine.

GO      ?= go
PYTHON  ?= /usr/bin/python3
BIN     := bin
# Debian packages the test layers need; installed only when missing.
DEB_PKGS := python3-torch python3-numpy python3-pil mesa-vulkan-drivers libvulkan1 gcc libc6-dev

.PHONY: all build test test-go test-fuzz test-train deps serve clean

all: build

build:
	$(GO) build -o $(BIN)/conjure ./cmd/conjure

## deps: install the Debian packages the tests need, if any are missing.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

## test: every test layer that exists.
test: deps test-go test-fuzz test-train

test-go:
	$(GO) vet ./...
	$(GO) test ./...

# Short fuzzing runs of the parsers and constructors that take untrusted input.
test-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzNew$$' -fuzztime 10s ./operator
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime 10s -fuzzminimizetime 100x ./model

# Training layer: Python unit tests, then a tiny model trains for a few steps on
# the CPU, exports f32 and int8 weights and a golden file, and Go reproduces
# PyTorch's outputs from them (model.TestGolden reads CONJURE_GOLDEN_DIR).
GOLDEN_TMP := $(shell mktemp -d -u /tmp/conjure-golden.XXXXXX)
test-train:
	$(PYTHON) -m unittest discover -s train/tests -t .
	PYTHON=$(PYTHON) train/test_pipeline.sh $(GOLDEN_TMP)
	CONJURE_GOLDEN_DIR=$(GOLDEN_TMP) $(GO) test -count=1 -run '^TestGolden$$' -v ./model
	rm -rf $(GOLDEN_TMP)

## serve: build and serve the web app (the web issue builds it).
serve: build
	@echo "The web app is not built yet: the site, wasm and edge worker land with the web issue."
	@echo "Meanwhile: $(BIN)/conjure toy --problem FILE.json"

clean:
	rm -rf $(BIN)
