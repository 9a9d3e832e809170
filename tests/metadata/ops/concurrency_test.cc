// Namespace operations racing on a few folders from several threads: the
// transactions must keep the tree consistent (no orphans, no cycles, counters
// exact) whatever interleaving happens.

#include <gtest/gtest.h>

#include <iostream>
#include <latch>
#include <map>
#include <random>
#include <thread>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

// A store whose commits wait a little first, so that other threads' commits
// land between an operation's reads and its commit: the window that the
// transaction checks must cover.
class SlowCommitKv final : public KvStore {
 public:
  explicit SlowCommitKv(std::unique_ptr<KvStore> inner) : kv_(std::move(inner)) {}
  Result<std::optional<std::string>> Get(std::string_view key) override { return kv_->Get(key); }
  Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) override {
    return kv_->Scan(range, limit);
  }
  Status Commit(const KvTxn& txn, const CommitOptions& options) override {
    thread_local std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    return kv_->Commit(txn, options);
  }
  Status Sync() override { return kv_->Sync(); }
  Result<std::shared_ptr<KvSnapshot>> NewSnapshot() override { return kv_->NewSnapshot(); }

 private:
  std::unique_ptr<KvStore> kv_;
};

// Runs on the in-memory store and on RocksDB (group commit).
class ConcurrencyTest : public testing::MetaTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    std::unique_ptr<KvStore> inner = std::make_unique<InMemKv>();
    if (GetParam()) {
      auto rocks = RocksDbKv::Open({.path = dir_.path() + "/db"});
      ASSERT_OK(rocks);
      inner = std::move(rocks).value();
    }
    kv_ = std::make_unique<SlowCommitKv>(std::move(inner));
    MetaTest::SetUp();
  }
  void TearDown() override {
    state_.reset();
    kv_.reset();  // before dir_ goes away
  }
  testing::TempDir dir_;
};

// Checks every invariant of the stored tree; returns the first violation.
std::string CheckTree(KvStore& kv) {
  auto inodes = kv.Scan(KeyRange::Prefix(InodePrefix()), 0);
  auto dentries = kv.Scan(KeyRange::Prefix("D"), 0);
  if (!inodes.ok() || !dentries.ok()) return "scan failed";
  std::map<uint64_t, proto::Inode> by_id;
  for (const KvPair& p : *inodes) {
    proto::Inode i;
    if (!i.ParseFromString(p.value)) return "bad inode record";
    by_id[i.id()] = i;
  }
  std::map<uint64_t, int> links;
  for (const KvPair& p : *dentries) {
    uint64_t parent = DecodeU64(std::string_view(p.key).substr(1, 8)).value();
    auto d = DecodeDentry(p.value);
    if (!d.ok()) return "bad dentry";
    auto pit = by_id.find(parent);
    if (pit == by_id.end()) return "dentry under a missing folder " + std::to_string(parent);
    if (pit->second.type() != proto::INODE_DIR) return "dentry under a file";
    auto cit = by_id.find(d->inode);
    if (cit == by_id.end()) return "dentry to a missing inode " + std::to_string(d->inode);
    if (cit->second.type() != d->type) return "dentry type mismatch";
    if (cit->second.parent() != parent) return "inode parent mismatch for " + std::to_string(d->inode);
    ++links[d->inode];
  }
  for (const auto& [id, inode] : by_id) {
    if (id == kRootInode) continue;
    if (links[id] != 1) return "inode " + std::to_string(id) + " has " + std::to_string(links[id]) + " entries";
    uint64_t cur = id;
    for (int depth = 0; cur != kRootInode; ++depth) {
      if (depth > 100) return "cycle through inode " + std::to_string(id);
      cur = by_id[cur].parent();
    }
  }
  return "";
}

TEST_P(ConcurrencyTest, RacingChangesKeepTheTreeConsistent) {
  constexpr int kThreads = 4, kOps = 1500;
  std::atomic<int> unexpected{0}, succeeded{0};
  std::vector<std::thread> threads;
  std::latch start(kThreads);  // all threads race from the same moment
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      std::mt19937 rng(1000 + t);
      auto pick = [&](int n) { return static_cast<int>(rng() % n); };
      for (int i = 0; i < kOps; ++i) {
        // Names from a small set so that operations collide often.
        std::string a = "n" + std::to_string(pick(4)), b = "n" + std::to_string(pick(4));
        auto dir_of = [&](const std::string& path) -> uint64_t {
          auto r = ResolvePath(path);
          return r.ok() && r->type() == proto::INODE_DIR ? r->id() : kRootInode;
        };
        uint64_t p1 = pick(2) ? kRootInode : dir_of("/" + a);
        uint64_t p2 = pick(2) ? kRootInode : dir_of("/" + b);
        Status st;
        switch (pick(6)) {
          case 0: st = Mkdir(p1, b).status(); break;
          case 1: st = Create(p1, b).status(); break;
          case 2: st = Unlink(p1, b); break;
          case 3: st = Rmdir(p1, b); break;
          default: st = Rename(p1, a, p2, b); break;
        }
        switch (st.code()) {
          case proto::OK:
            ++succeeded;
            break;
          case proto::NOT_FOUND: case proto::ALREADY_EXISTS:
          case proto::NOT_EMPTY: case proto::IS_DIRECTORY: case proto::NOT_DIRECTORY:
          case proto::INVALID_ARGUMENT:
            break;
          default:
            ADD_FAILURE() << st.ToString();
            ++unexpected;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(succeeded.load(), kThreads * kOps / 10);  // the race did change things
  std::cout << succeeded.load() << " of " << kThreads * kOps << " operations succeeded\n";
  EXPECT_EQ(CheckTree(*kv_), "");
  auto inodes = kv_->Scan(KeyRange::Prefix(InodePrefix()), 0);
  ASSERT_OK(inodes);
  EXPECT_EQ(state_->inode_count.load(), static_cast<int64_t>(inodes->size()));
}

INSTANTIATE_TEST_SUITE_P(Stores, ConcurrencyTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "RocksDb" : "InMem"; });

}  // namespace
}  // namespace granary::metadata
