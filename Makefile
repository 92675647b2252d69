# Thin wrapper over CMake + Ninja; see README.md.
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all setup configure build run test bench clean

all: build

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD)

# Run the bundled example, an ordinary Linux program, as its own VM.
run: build
	$(BUILD)/cli/kiln run $(BUILD)/examples/hello

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

bench: build
	$(BUILD)/bench/boot-bench --build $(BUILD)
	$(BUILD)/bench/syscall-bench-driver --build $(BUILD)
	$(BUILD)/bench/syscall-bench-driver --build $(BUILD) --sched
	$(BUILD)/bench/net-bench-driver --build $(BUILD)

clean:
	rm -rf $(BUILD)
