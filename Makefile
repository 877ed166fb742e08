# Kakehashi — the two commands a newcomer types are `make demo` and `make test`.
SWIFT ?= swift
SOURCES := Package.swift Shared SQLite Client Server Sources Tests fuzz

.PHONY: all deps test-deps bench-deps build test lint format soak bench fuzz clean help demo

all: build

help:
	@echo "make demo    build, start a server, play three advisors' week on three laptops, write exports"
	@echo "make test    install missing system packages, build, check formatting, run every test"
	@echo "make build   debug build of both executables"
	@echo "make soak    the convergence test with 50,000 randomized trials, the chaos test with 2,000 steps (SQLite; 1,000 on two servers sharing PostgreSQL)"
	@echo "make bench   benchmarks (release build), each next to a limit measured in the same run"
	@echo "make fuzz    libFuzzer on the push/pull body decoders, binary pushes and pages and the change validator (FUZZ_SECONDS each, default 60)"
	@echo "make format  format the tree with swift format"

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh test

bench-deps:
	@scripts/install-deps.sh bench

build: deps
	$(SWIFT) build

# The server tests run against SQLite and a throwaway PostgreSQL cluster that is always stopped.
# Three runs, one after the other: the in-process tests; the end-to-end tests, which wait on real
# processes and would hold every thread of the test runner's small pool (2 cores) from the
# in-process tests beside them for minutes; and the attacks on the HTTP edge (1,500 slow
# connections), which would starve the tests beside them and be starved in turn. The tests'
# temporary files (stores, logs, workbooks) go into one directory that is removed afterwards.
test: test-deps lint
	$(SWIFT) build --build-tests
	@mkdir -p .build
	scripts/test-postgres.sh start > .build/test-postgres.env
	scratch=$$(mktemp -d /tmp/kakehashi-tests.XXXXXX) && . ./.build/test-postgres.env && export TMPDIR=$$scratch \
		&& $(SWIFT) test --skip-build --skip HTTPEdgeTests --skip '^EndToEndTests\.' \
		&& $(SWIFT) test --skip-build --filter '^EndToEndTests\.' \
		&& $(SWIFT) test --skip-build --filter HTTPEdgeTests; status=$$?; scripts/test-postgres.sh stop; \
		rm -rf "$$scratch"; exit $$status
	Tests/API/schemathesis.sh

lint:
	$(SWIFT) format lint --strict --recursive $(SOURCES)

format:
	$(SWIFT) format --in-place --recursive $(SOURCES)

# Release builds; the sync benchmarks start the release kakehashi-server next to the benchmark.
bench: bench-deps
	$(SWIFT) build -c release --product kakehashi-server
	$(SWIFT) build -c release --product kakehashi-bench
	@test -x .build/venv/bin/pip || python3 -m venv .build/venv
	.build/venv/bin/pip install --quiet --disable-pip-version-check pycrdt==0.14.13
	.build/release/kakehashi-bench --changes 100000 --events 100000 --records 100000

fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# The chaos test runs on SQLite and on two servers sharing one PostgreSQL database.
soak: test-deps
	$(SWIFT) build --build-tests
	KAKEHASHI_CONVERGENCE_TRIALS=50000 $(SWIFT) test --skip-build --filter ConvergenceTests
	@mkdir -p .build
	scripts/test-postgres.sh start > .build/test-postgres.env
	. ./.build/test-postgres.env && KAKEHASHI_CHAOS_STEPS=2000 $(SWIFT) test --skip-build --filter ChaosTests; \
		status=$$?; scripts/test-postgres.sh stop; exit $$status

clean:
	rm -rf .build

demo: deps
	$(SWIFT) build --product kakehashi
	$(SWIFT) build --product kakehashi-server
	scripts/demo.sh
