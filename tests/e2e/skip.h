// Skipping an end-to-end test with the reason, when what it needs is not
// on this machine (GoogleTest's GTEST_SKIP, which must run in the test).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "process.h"

#define REQUIRE_KVM()                                                        \
    if (std::string why = kiln::test::kvm_unavailable_reason(); !why.empty()) \
    GTEST_SKIP() << "SKIPPED: KVM unavailable (" << why << ")"

#define REQUIRE_PROGRAM(name) \
    if (!kiln::test::have_program(name)) GTEST_SKIP() << "SKIPPED: " name " not installed"
