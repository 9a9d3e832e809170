// KvStore semantics, run against both stores (InMemKv and RocksDbKv), plus
// RocksDB persistence.

#include "metadata/kv/kv_store.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "metadata/kv/inmem_kv.h"
#include "metadata/kv/rocksdb_kv.h"
#include "metadata/schema/keys.h"
#include "tests/metadata/meta_test_util.h"
#include "tests/testutil/status_matchers.h"

namespace granary::metadata {
namespace {

using testing::TempDir;

class KvStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      auto kv = RocksDbKv::Open({.path = dir_.path() + "/db"});
      ASSERT_OK(kv);
      kv_ = std::move(kv).value();
    } else {
      kv_ = std::make_unique<InMemKv>();
    }
  }
  Status Put(const std::string& k, const std::string& v) {
    KvTxn txn;
    txn.Put(k, v);
    return kv_->Commit(txn, {});
  }
  std::optional<std::string> Read(const std::string& k) {
    auto v = kv_->Get(k);
    EXPECT_OK(v);
    return v.ok() ? *v : std::nullopt;
  }

  TempDir dir_;
  std::unique_ptr<KvStore> kv_;
};

TEST_P(KvStoreTest, PutGetDelete) {
  EXPECT_EQ(Read("a"), std::nullopt);
  ASSERT_OK(Put("a", "1"));
  EXPECT_EQ(Read("a"), "1");
  ASSERT_OK(Put("a", "2"));
  EXPECT_EQ(Read("a"), "2");
  KvTxn del;
  del.Delete("a");
  del.Delete("never-existed");  // deleting a missing key is not an error
  ASSERT_OK(kv_->Commit(del, {}));
  EXPECT_EQ(Read("a"), std::nullopt);
}

TEST_P(KvStoreTest, BinaryKeysAndValues) {
  std::string key("k\0\xff\x01", 4), value("\0\0v\xff", 4);
  ASSERT_OK(Put(key, value));
  EXPECT_EQ(Read(key), value);
  EXPECT_EQ(Read(std::string("k", 1)), std::nullopt);
}

TEST_P(KvStoreTest, ScanIsOrderedBoundedAndPrefixed) {
  // Big-endian ids sort numerically: 2 < 256 < 65536.
  for (uint64_t id : {65536u, 2u, 256u}) ASSERT_OK(Put(DentryKey(7, "x" + std::to_string(id)), ""));
  for (uint64_t id : {65536u, 2u, 256u}) ASSERT_OK(Put(InodeKey(id), std::to_string(id)));
  ASSERT_OK(Put(DentryKey(8, "other"), ""));

  auto inodes = kv_->Scan(KeyRange::Prefix(InodePrefix()), 0);
  ASSERT_OK(inodes);
  ASSERT_EQ(inodes->size(), 3u);
  EXPECT_EQ((*inodes)[0].value, "2");
  EXPECT_EQ((*inodes)[1].value, "256");
  EXPECT_EQ((*inodes)[2].value, "65536");

  auto limited = kv_->Scan(KeyRange::Prefix(DentryPrefix(7)), 2);
  ASSERT_OK(limited);
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ(DentryNameFromKey((*limited)[0].key), "x2");
  EXPECT_EQ(DentryNameFromKey((*limited)[1].key), "x256");

  auto after = kv_->Scan(KeyRange::PrefixAfter(DentryPrefix(7), "x256"), 0);
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(DentryNameFromKey((*after)[0].key), "x65536");

  auto bounded = kv_->Scan(KeyRange{InodeKey(3), InodeKey(65536)}, 0);
  ASSERT_OK(bounded);
  ASSERT_EQ(bounded->size(), 1u);
  EXPECT_EQ((*bounded)[0].value, "256");
}

TEST_P(KvStoreTest, FailingCheckAppliesNothing) {
  ASSERT_OK(Put("exists", "v1"));
  ASSERT_OK(Put("doomed", "d"));
  KvTxn txn;
  txn.ExpectAbsent("free");
  txn.ExpectEquals("exists", "v0");  // fails: the value is v1
  txn.Put("free", "x");
  txn.Put("exists", "v2");
  txn.Delete("doomed");
  Status st = kv_->Commit(txn, {});
  EXPECT_ERROR(st, proto::STALE_VERSION);
  EXPECT_TRUE(st.retryable());
  EXPECT_NE(st.message().find("exists"), std::string::npos) << st.message();
  EXPECT_EQ(Read("free"), std::nullopt);
  EXPECT_EQ(Read("exists"), "v1");
  EXPECT_EQ(Read("doomed"), "d");
}

TEST_P(KvStoreTest, EveryCheckKind) {
  ASSERT_OK(Put("p/1", "one"));
  auto commit_with = [&](auto add_check) {
    KvTxn txn;
    add_check(txn);
    txn.Put("marker", "m");
    return kv_->Commit(txn, {});
  };
  EXPECT_OK(commit_with([](KvTxn& t) { t.ExpectAbsent("p/2"); }));
  EXPECT_ERROR(commit_with([](KvTxn& t) { t.ExpectAbsent("p/1"); }), proto::STALE_VERSION);
  EXPECT_OK(commit_with([](KvTxn& t) { t.ExpectPresent("p/1"); }));
  EXPECT_ERROR(commit_with([](KvTxn& t) { t.ExpectPresent("p/2"); }), proto::STALE_VERSION);
  EXPECT_OK(commit_with([](KvTxn& t) { t.ExpectEquals("p/1", "one"); }));
  EXPECT_ERROR(commit_with([](KvTxn& t) { t.ExpectEquals("p/2", ""); }), proto::STALE_VERSION);
  EXPECT_OK(commit_with([](KvTxn& t) { t.ExpectValue("p/9", std::nullopt); }));
  EXPECT_OK(commit_with([](KvTxn& t) { t.ExpectRangeEmpty(KeyRange::Prefix("q/")); }));
  EXPECT_ERROR(commit_with([](KvTxn& t) { t.ExpectRangeEmpty(KeyRange::Prefix("p/")); }),
               proto::STALE_VERSION);
  // [p/2, p/9) holds nothing even though p/1 exists just below it.
  EXPECT_OK(commit_with([](KvTxn& t) { t.ExpectRangeEmpty(KeyRange{"p/2", "p/9"}); }));
}

TEST_P(KvStoreTest, LaterWriteToSameKeyWins) {
  KvTxn txn;
  txn.Put("k", "first");
  txn.Delete("k");
  txn.Put("k", "last");
  ASSERT_OK(kv_->Commit(txn, {}));
  EXPECT_EQ(Read("k"), "last");
}

// Compare-and-put increments from several threads: every increment lands
// exactly once only if checks and writes are atomic together.
TEST_P(KvStoreTest, ConcurrentCompareAndPutIsAtomic) {
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        while (true) {
          auto cur = kv_->Get("counter");
          ASSERT_OK(cur);
          uint64_t n = *cur ? DecodeU64(**cur).value() : 0;
          KvTxn txn;
          txn.ExpectValue("counter", *cur);
          txn.Put("counter", EncodeU64(n + 1));
          // Synced: on RocksDB the fsyncs of concurrent commits are shared.
          Status st = kv_->Commit(txn, CommitOptions{.sync = true});
          if (st.ok()) break;
          ASSERT_ERROR(st, proto::STALE_VERSION);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto v = Read("counter");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(DecodeU64(*v).value(), static_cast<uint64_t>(kThreads * kPerThread));
}

// Sync alongside unsynced commits from several threads: every call succeeds
// and every write is visible at once.
TEST_P(KvStoreTest, SyncAlongsideUnsyncedCommits) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        KvTxn txn;
        std::string key = "lazy/" + std::to_string(t) + "/" + std::to_string(i);
        txn.Put(key, "v");
        ASSERT_OK(kv_->Commit(txn, CommitOptions{.sync = false}));
        ASSERT_EQ(Read(key), "v");
        if (i % 5 == 0) ASSERT_OK(kv_->Sync());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK(kv_->Sync());
  auto all = kv_->Scan(KeyRange::Prefix("lazy/"), 0);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 100u);
}

// A snapshot sees the store as of NewSnapshot: later puts, overwrites and
// deletes are invisible to its Get and Scan, and the live store sees them.
TEST_P(KvStoreTest, SnapshotIgnoresLaterCommits) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("b", "2"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<KvSnapshot> snap, kv_->NewSnapshot());
  ASSERT_OK(Put("a", "changed"));
  ASSERT_OK(Put("c", "3"));
  KvTxn del;
  del.Delete("b");
  ASSERT_OK(kv_->Commit(del, {}));

  ASSERT_OK_AND_ASSIGN(auto a, snap->Get("a"));
  EXPECT_EQ(a, std::optional<std::string>("1"));
  ASSERT_OK_AND_ASSIGN(auto c, snap->Get("c"));
  EXPECT_FALSE(c.has_value());
  ASSERT_OK_AND_ASSIGN(auto all, snap->Scan(KeyRange{}, 0));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "a");
  EXPECT_EQ(all[1].key, "b");
  EXPECT_EQ(all[1].value, "2");
  ASSERT_OK_AND_ASSIGN(auto limited, snap->Scan(KeyRange{"b", ""}, 1));
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0].key, "b");

  EXPECT_EQ(Read("a"), std::optional<std::string>("changed"));
  EXPECT_FALSE(Read("b").has_value());
}

// Snapshots are independent, and releasing one leaves the other intact.
TEST_P(KvStoreTest, SnapshotsAreIndependent) {
  ASSERT_OK(Put("k", "v1"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<KvSnapshot> first, kv_->NewSnapshot());
  ASSERT_OK(Put("k", "v2"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<KvSnapshot> second, kv_->NewSnapshot());
  ASSERT_OK(Put("k", "v3"));
  first.reset();
  ASSERT_OK_AND_ASSIGN(auto v, second->Get("k"));
  EXPECT_EQ(v, std::optional<std::string>("v2"));
}

INSTANTIATE_TEST_SUITE_P(Stores, KvStoreTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "RocksDb" : "InMem"; });

TEST(KeyRange, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
  KeyRange r = KeyRange::Prefix("ab");
  EXPECT_TRUE(r.Contains("ab"));
  EXPECT_TRUE(r.Contains(std::string("ab\xff\xff", 4)));
  EXPECT_FALSE(r.Contains("ac"));
  EXPECT_FALSE(r.Contains("aa"));
}

// Close() releases snapshots still held (RocksDB refuses to close with
// snapshots alive); the snapshot then answers UNAVAILABLE.
TEST(RocksDbKv, CloseReleasesHeldSnapshots) {
  TempDir dir;
  auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
  ASSERT_OK(kv);
  KvTxn txn;
  txn.Put("k", "v");
  ASSERT_OK((*kv)->Commit(txn, {}));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<KvSnapshot> snap, (*kv)->NewSnapshot());
  ASSERT_OK((*kv)->Close());
  EXPECT_ERROR(snap->Get("k"), proto::UNAVAILABLE);
}

TEST(RocksDbKv, ReopenKeepsCommittedData) {
  TempDir dir;
  {
    auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
    ASSERT_OK(kv);
    KvTxn txn;
    txn.Put("synced", "1");
    ASSERT_OK((*kv)->Commit(txn, CommitOptions{.sync = true}));
    KvTxn lazy;
    lazy.Put("unsynced", "2");
    ASSERT_OK((*kv)->Commit(lazy, CommitOptions{.sync = false}));
    ASSERT_OK((*kv)->Close());
    ASSERT_OK((*kv)->Close());  // idempotent
    EXPECT_ERROR((*kv)->Get("synced"), proto::UNAVAILABLE);
  }
  auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
  ASSERT_OK(kv);
  auto a = (*kv)->Get("synced");
  auto b = (*kv)->Get("unsynced");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(*a, "1");
  EXPECT_EQ(*b, "2");  // a clean close syncs everything
}

// Group commit: many threads committing synced batches at once all succeed,
// each sees its own write at once, and all of them are there after a reopen.
TEST(RocksDbKv, ConcurrentSyncedCommitsAllSurviveReopen) {
  TempDir dir;
  constexpr int kThreads = 8, kPerThread = 40;
  {
    auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
    ASSERT_OK(kv);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string key = "k/" + std::to_string(t) + "/" + std::to_string(i);
          KvTxn txn;
          txn.ExpectAbsent(key);
          txn.Put(key, std::to_string(i));
          ASSERT_OK((*kv)->Commit(txn, CommitOptions{.sync = true}));
          auto back = (*kv)->Get(key);
          ASSERT_OK(back);
          ASSERT_EQ(*back, std::to_string(i));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
  ASSERT_OK(kv);
  auto all = (*kv)->Scan(KeyRange::Prefix("k/"), 0);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kPerThread));
}

// An unsynced commit is in the WAL file at once: a process that dies without
// closing the database (no flush, no sync) loses nothing.
TEST(RocksDbKv, UnsyncedCommitSurvivesAProcessCrash) {
  TempDir dir;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
    if (!kv.ok()) ::_exit(2);
    KvTxn txn;
    txn.Put("lazy", "kept");
    if (!(*kv)->Commit(txn, CommitOptions{.sync = false}).ok()) ::_exit(3);
    ::_exit(0);  // no destructor, no Close: as if killed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto kv = RocksDbKv::Open({.path = dir.path() + "/db"});
  ASSERT_OK(kv);
  auto v = (*kv)->Get("lazy");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "kept");
  ASSERT_OK((*kv)->Sync());
  ASSERT_OK((*kv)->Close());
  EXPECT_ERROR((*kv)->Sync(), proto::UNAVAILABLE);
}

TEST(RocksDbKv, SecondOpenOfSameDatabaseFails) {
  TempDir dir;
  auto first = RocksDbKv::Open({.path = dir.path() + "/db"});
  ASSERT_OK(first);
  auto second = RocksDbKv::Open({.path = dir.path() + "/db"});
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(dir.path()), std::string::npos)
      << second.status().ToString();
}

}  // namespace
}  // namespace granary::metadata
