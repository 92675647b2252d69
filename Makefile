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

# Boot the bundled example: the kiln kernel's hello, under kiln-vmm.
run: build
	$(BUILD)/vmm/kiln-vmm --cmdline "hello" $(BUILD)/kernel/kiln-kernel

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

bench: build
	$(BUILD)/bench/boot-bench --build $(BUILD)

clean:
	rm -rf $(BUILD)
