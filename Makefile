# Recap's two commands for a fresh Debian bookworm machine:
#   make demo   install what is missing, build, run the main job on samples/
#   make test   install what is missing, build, run the whole test suite
# Everything downloaded or built (third-party source, models, llama-server,
# libwhisper) lives in $(RECAP_CACHE), outside the repo, and is reused.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export RECAP_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/recap
export RECAP_PREFIX := $(RECAP_CACHE)/prefix
export PKG_CONFIG_PATH := $(RECAP_PREFIX)/lib/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))
export PATH := /opt/swift/usr/bin:$(PATH)

RELEASE_BIN := .build/release/recap
DEMO_OUT ?= $(CURDIR)/out/demo

.PHONY: help deps debian native models build build-debug demo test bench eval samples clean

help:
	@echo "make demo    install, build, and run recap on samples/ (output in out/demo)"
	@echo "make test    install, build, and run the test suite"
	@echo "make bench   benchmarks against the ffmpeg and whisper.cpp CLIs (medians, ratios)"
	@echo "make eval    quality eval on generated talks: fact recall, invented names, title rules, speed, memory"
	@echo "make deps    only install system packages and build third-party code into $(RECAP_CACHE)"

# Debian packages (apt-get), then third-party source from PyPI built into the cache.
deps: debian native

debian:
	@scripts/install-debian.sh

native: debian
	@scripts/deps.sh

build: deps
	swift build -c release --product recap

build-debug: deps
	swift build --build-tests

models: build
	$(RELEASE_BIN) models install --all

demo: build models
	@scripts/demo.sh "$(RELEASE_BIN)" "$(DEMO_OUT)"

# Serial: the suite starts real llama-server, whisper and FFmpeg work; on 2 cores, running suites side by side
# only makes each one wait on the others.
test: deps build-debug
	.build/debug/recap models install --all
	swift test --skip-build --no-parallel

bench: build models
	@scripts/bench.sh "$(RELEASE_BIN)"

eval: build models
	@scripts/eval.sh "$(RELEASE_BIN)"

samples: debian
	@scripts/make-samples.sh

clean:
	rm -rf .build out
