# Ganglion's front door. `make run` installs what is missing, builds, and starts a
# single-node broker with every listener on; `make test` builds and runs every test.
# The Debian package list lives in .ci/packages.txt (shared with CI and the Dockerfile).

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
DATA_DIR   ?= ./data
CMAKE_ARGS ?=
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PACKAGES   := $(shell grep -v '^\#' .ci/packages.txt)

.PHONY: all deps build run test test-unit test-asan bench fuzz format clean

all: build

# Installs only the packages that are missing (a no-op on a ready machine).
deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	mkdir -p $(DATA_DIR)
	./$(BUILD)/ganglion --data.dir=$(DATA_DIR)

test: build
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 600

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j2 -L unit

# Under the sanitizers: every unit and integration test, and of the cluster tests (three
# brokers each, run one at a time) the ASAN_CLUSTER subset, so that CI stays within its
# 20 minutes on 2 cores; `make test-asan ASAN_CLUSTER=.` runs them all.
ASAN_CLUSTER ?= cluster/(0002|0004|0030)
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGN_SANITIZE=ON -DGN_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure -j2 --timeout 600 -LE cluster
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure --timeout 600 -L cluster -R '$(ASAN_CLUSTER)'

bench: build
	./tests/bench/run.sh $(BUILD)

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGN_FUZZ=ON -DGN_BENCH=OFF -DGN_TESTS=ON
	cmake --build build-fuzz -j$(JOBS)
	./tests/fuzz/run.sh build-fuzz 30

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
