# Thin wrapper around CMake. The two commands of the README:
#   make run    install missing packages, build, run the default scenario
#   make test   same set-up, then the whole test suite through ctest,
#               in the normal build and again in the ASan+UBSan build
# Other targets: make build, make bench, make fuzz, make valgrind, make format, make clean.

BUILD   ?= build
SAN     ?= build-san
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CUDACXX ?= $(wildcard /usr/local/cuda/bin/nvcc)
export CUDACXX

.PHONY: all deps build build-san run test test-fast bench fuzz valgrind format clean

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

$(SAN)/CMakeCache.txt:
	cmake -S . -B $(SAN) -DCMAKE_BUILD_TYPE=Debug -DSFT_SANITIZE=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-san: deps $(SAN)/CMakeCache.txt
	cmake --build $(SAN) -j $(JOBS)

run: build
	./$(BUILD)/sftsim run

test: build build-san
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(SAN) && ctest --output-on-failure -j $(JOBS) -LE nosan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

bench: build
	./$(BUILD)/sftsim-bench

fuzz: build
	cd $(BUILD) && ctest --output-on-failure -L fuzz

valgrind: build
	cd $(BUILD) && ctest --output-on-failure -L valgrind

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp' '*.cu')

clean:
	rm -rf $(BUILD) $(SAN)
