#pragma once
// ClusterSuite: a test suite that shares one real cluster (3 chunk servers
// on 127.0.0.1) across its tests, with a fresh client per test.
//
//   class MyTest : public ClusterSuite {};
//   TEST_F(MyTest, Works) { ASSERT_OK(client_->Mkdir("/x").status()); }

#include <gtest/gtest.h>

#include <memory>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {

class ClusterSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = TestCluster::Start({.chunkservers = 3});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_OK_AND_ASSIGN(client_, cluster_->Connect());
  }

  // Suites run one after another: each starts and stops its own cluster.
  static inline TestCluster* cluster_ = nullptr;
  std::unique_ptr<Client> client_;
};

}  // namespace granary::testutil
