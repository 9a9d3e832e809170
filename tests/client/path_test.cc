#include <gtest/gtest.h>

#include "granary/client.h"

namespace granary {
namespace {

TEST(NormalizePath, CollapsesSlashes) {
  EXPECT_EQ(*NormalizePath("/"), "/");
  EXPECT_EQ(*NormalizePath("//"), "/");
  EXPECT_EQ(*NormalizePath("/a//b/"), "/a/b");
  EXPECT_EQ(*NormalizePath("/models/llama-3/model.safetensors"), "/models/llama-3/model.safetensors");
}

TEST(NormalizePath, RejectsBadPaths) {
  EXPECT_EQ(NormalizePath("").status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(NormalizePath("relative/x").status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(NormalizePath("/a/../b").status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(NormalizePath("/a/./b").status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(NormalizePath("/" + std::string(256, 'x')).status().code(), proto::NAME_TOO_LONG);
  EXPECT_TRUE(NormalizePath("/" + std::string(255, 'x')).ok());
  EXPECT_EQ(NormalizePath(std::string("/a\0b", 4)).status().code(), proto::INVALID_ARGUMENT);
  std::string deep;
  for (int i = 0; i < 2100; ++i) deep += "/a";
  EXPECT_EQ(NormalizePath(deep).status().code(), proto::NAME_TOO_LONG);
}

TEST(JoinPath, JoinsUnderRootAndFolders) {
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "b/c"), "/a/b/c");
}

TEST(SplitParent, SplitsLastComponent) {
  auto a = SplitParent("/a/b/c");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "/a/b");
  EXPECT_EQ(a->second, "c");
  auto b = SplitParent("/top");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "/");
  EXPECT_EQ(b->second, "top");
  EXPECT_FALSE(SplitParent("/").ok());
}

}  // namespace
}  // namespace granary
