# Spring Thunder: the two commands a new user needs are `make run` and `make test`.
.PHONY: deps build build-debug build-tsan run test test-sanitize test-tsan fuzz bench clean

PORT ?= 8080
DATA_DIR ?= data/demo

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

build-debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug

build-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan

# Installs what is missing, builds, seeds the demo data set and serves it.
run: build
	@build/release/src/app/thunder demo --data-dir $(DATA_DIR) --listen 127.0.0.1:$(PORT)

# Installs what is missing, builds, runs every test.
test: build
	@ctest --preset release

# The unit and API tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: build-debug
	@ctest --preset debug

# Every test again under ThreadSanitizer, built by clang with its thread-safety analysis.
test-tsan: build-tsan
	@ctest --preset tsan

# Fuzzes the write-ahead log reader for FUZZ_SECONDS (default 60).
FUZZ_SECONDS ?= 60
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz
	@mkdir -p build/fuzz/corpus
	@build/fuzz/src/log/wal_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus

# Benchmarks against Redis, PostgreSQL and nginx started on 127.0.0.1 (see bench/run.sh).
bench: build
	@scripts/install-deps.sh --bench
	@bench/run.sh

clean:
	rm -rf build
