// NewDirs: what the mount knows about folders it just created.
#include "fuse/new_dirs.h"

#include <gtest/gtest.h>

namespace granary::fuse {
namespace {

TEST(NewDirs, FreshFolderKnowsItsNames) {
  NewDirs d(std::chrono::seconds(60));
  EXPECT_FALSE(d.KnownAbsent(7, "a"));  // not created here: ask metad
  d.Created(7);
  EXPECT_TRUE(d.KnownAbsent(7, "a"));
  d.Added(7, "a");
  EXPECT_FALSE(d.KnownAbsent(7, "a"));
  EXPECT_TRUE(d.KnownAbsent(7, "b"));
  d.Removed(7, "a");
  EXPECT_TRUE(d.KnownAbsent(7, "a"));
  d.Added(8, "x");  // names in folders not tracked are ignored
  EXPECT_FALSE(d.KnownAbsent(8, "x"));
  EXPECT_FALSE(d.KnownAbsent(8, "y"));
}

TEST(NewDirs, ZeroWindowKnowsNothing) {
  NewDirs d(std::chrono::seconds(0));
  d.Created(7);
  EXPECT_FALSE(d.KnownAbsent(7, "a"));
}

TEST(NewDirs, ExpiredKnowledgeIsDropped) {
  NewDirs d(std::chrono::nanoseconds(1));
  d.Created(7);
  // The window (1 ns) has passed by the time of the lookup.
  EXPECT_FALSE(d.KnownAbsent(7, "a"));
}

}  // namespace
}  // namespace granary::fuse
