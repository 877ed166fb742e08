# Kakehashi — the two commands a newcomer types are `make demo` and `make test`.
SWIFT ?= swift
SOURCES := Package.swift Shared Client Server Sources Tests

.PHONY: all deps build test lint format soak clean help demo

all: build

help:
	@echo "make test    install missing system packages, build, check formatting, run every test"
	@echo "make build   debug build of both executables"
	@echo "make soak    the convergence test with 50,000 randomized trials"
	@echo "make format  format the tree with swift format"

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# The server tests run against SQLite and a throwaway PostgreSQL cluster that is always stopped.
test: deps lint
	$(SWIFT) build --build-tests
	@mkdir -p .build
	scripts/test-postgres.sh start > .build/test-postgres.env
	. ./.build/test-postgres.env && $(SWIFT) test; status=$$?; scripts/test-postgres.sh stop; exit $$status

lint:
	$(SWIFT) format lint --strict --recursive $(SOURCES)

format:
	$(SWIFT) format --in-place --recursive $(SOURCES)

soak: deps
	KAKEHASHI_CONVERGENCE_TRIALS=50000 $(SWIFT) test --filter ConvergenceTests

clean:
	rm -rf .build

demo:
	@echo "make demo arrives with the exports-and-demo issue; today 'make test' shows what works." >&2
	@exit 1
