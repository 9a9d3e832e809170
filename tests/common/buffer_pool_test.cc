#include "common/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace granary {
namespace {

TEST(BufferPool, ReleasedBufferIsHandedOutAgain) {
  const uint8_t* first;
  {
    Buffer b = PooledBuffer(1u << 20);
    ASSERT_EQ(b.size(), 1u << 20);
    std::memset(b.data(), 0xAB, b.size());
    first = b.data();
  }
  const BufferPoolStats kept = GetBufferPoolStats();
  EXPECT_GE(kept.free_buffers, 1u);
  // Any size of the same class gets the same memory back.
  Buffer again = PooledBuffer((1u << 20) - 4096);
  EXPECT_EQ(again.data(), first);
  EXPECT_EQ(again.size(), (1u << 20) - 4096);
  EXPECT_EQ(GetBufferPoolStats().free_buffers, kept.free_buffers - 1);
}

TEST(BufferPool, SmallAndHugeSizesAreNotPooled) {
  const BufferPoolStats before = GetBufferPoolStats();
  { Buffer small = PooledBuffer(4096); }
  { Buffer huge = PooledBuffer(17u << 20); }
  { Buffer empty = PooledBuffer(0); }
  const BufferPoolStats after = GetBufferPoolStats();
  EXPECT_EQ(after.free_buffers, before.free_buffers);
  EXPECT_EQ(after.free_bytes, before.free_bytes);
}

TEST(BufferPool, FreeListsAreBounded) {
  std::vector<Buffer> held;
  for (int i = 0; i < 100; ++i) held.push_back(PooledBuffer(3u << 20));
  held.clear();
  // 16 MiB kept free per class: five 3 MiB buffers, the rest freed.
  const BufferPoolStats s = GetBufferPoolStats();
  EXPECT_LE(s.free_bytes, 13u * (16u << 20));
  std::set<const uint8_t*> distinct;
  for (int i = 0; i < 100; ++i) held.push_back(PooledBuffer(3u << 20));
  for (const Buffer& b : held) distinct.insert(b.data());
  EXPECT_EQ(distinct.size(), 100u);  // none handed out twice
}

TEST(BufferPool, BuffersMoveAndTruncateLikeAnyOther) {
  Buffer a = PooledBuffer(600u << 10);
  a.data()[0] = 7;
  Buffer b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), 600u << 10);
  b.Truncate(10);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.data()[0], 7);
}

TEST(BufferPool, ThreadsShareItSafely) {
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &bad] {
      for (int i = 0; i < 2000; ++i) {
        Buffer b = PooledBuffer((256u << 10) + static_cast<size_t>((i * 7919 + t) % (4u << 20)));
        std::memset(b.data(), t, b.size());
        if (b.data()[b.size() - 1] != static_cast<uint8_t>(t)) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace granary
