// The fixture the stack tests build on: two Stacks on one simulated link
// (net_test_support.h), at 10.0.0.1 and 10.0.0.2 (config_v4), freed after
// each test.
#pragma once

#include <gtest/gtest.h>

#include "mm/new.h"
#include "net/stack.h"
#include "net_test_support.h"

namespace kiln_test {

class TwoStacks : public ::testing::Test {
protected:
    explicit TwoStacks(bool offload = false) : link(offload) {}
    void SetUp() override {
        a = kiln::net::Stack::create();
        b = kiln::net::Stack::create();
        ASSERT_NE(a, nullptr);
        ASSERT_NE(b, nullptr);
        ia = link.attach(0, a);
        ib = link.attach(1, b);
        config_v4(a, ia, 1);
        config_v4(b, ib, 2);
    }
    void TearDown() override {
        kiln::mm::destroy(a);
        kiln::mm::destroy(b);
    }

    NetLink link;
    kiln::net::Stack* a = nullptr;
    kiln::net::Stack* b = nullptr;
    kiln::net::Interface* ia = nullptr;
    kiln::net::Interface* ib = nullptr;
};

}  // namespace kiln_test
