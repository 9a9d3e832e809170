// granary backup and granary restore against real clusters: a tree backed up,
// the cluster stopped, the tree restored into a new cluster with fewer chunk
// servers (bytes and attributes equal); incremental runs copy only changed
// chunk versions; a backup session holds back replica deletions; the
// --metadata-only form; a corrupted pool object fails the restore, naming
// the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"
#include "tools/backup/metadata_restore.h"
#include "tests/tools/cli_test_util.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMiB = 1ull << 20;

ByteSpan Bytes(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Status PutFile(Client& c, const std::string& path, const std::string& data, uint32_t mode = 0644) {
  ASSIGN_OR_RETURN(auto w, c.Create(path, {.mode = mode}));
  RETURN_IF_ERROR(w->Write(Bytes(data)));
  return w->Close();
}

Result<std::string> ReadFile(Client& c, const std::string& path) {
  ASSIGN_OR_RETURN(auto r, c.Open(path));
  std::string out(r->size(), '\0');
  uint64_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(size_t n, r->PRead(done, MutableByteSpan(reinterpret_cast<uint8_t*>(out.data()) + done,
                                                              out.size() - done)));
    if (n == 0) break;
    done += n;
  }
  return out;
}

// Chunk objects in a backup pool (inline-file objects excluded).
size_t CountChunkObjects(const std::string& dest) {
  size_t n = 0;
  if (!fs::exists(dest + "/pool")) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dest + "/pool")) {
    if (e.is_regular_file() && e.path().filename().string().starts_with("c") &&
        e.path().filename().string().find(".tmp") == std::string::npos) {
      ++n;
    }
  }
  return n;
}

std::vector<std::string> Runs(const std::string& dest) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dest + "/backups")) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class BackupCli : public ::testing::Test {
 protected:
  CommandResult Granary(const TestCluster& cluster, std::vector<std::string> args) {
    args.insert(args.begin(), {"--meta", cluster.meta_address()});
    return RunGranary(std::move(args));
  }
  TempDir dest_;
};

struct Snapshot {
  FileInfo info;
  std::string contents;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Every path under /data with its attributes, contents and xattrs.
Result<std::map<std::string, Snapshot>> Capture(Client& c, const std::vector<std::string>& paths) {
  std::map<std::string, Snapshot> out;
  for (const std::string& p : paths) {
    Snapshot s;
    ASSIGN_OR_RETURN(s.info, c.Stat(p));
    if (s.info.type == FileType::kFile) {
      ASSIGN_OR_RETURN(s.contents, ReadFile(c, p));
    }
    ASSIGN_OR_RETURN(auto names, c.ListXattr(s.info.inode));
    for (const std::string& n : names) {
      ASSIGN_OR_RETURN(std::string v, c.GetXattr(s.info.inode, n));
      s.xattrs.emplace_back(n, v);
    }
    out[p] = std::move(s);
  }
  return out;
}

TEST_F(BackupCli, RestoresATreeIntoASmallerClusterByteForByte) {
  const std::vector<std::string> paths = {"/data",       "/data/sub",       "/data/sub/nested",
                                          "/data/sub/nested/big.bin", "/data/empty",
                                          "/data/small.txt", "/data/link"};
  const std::string big = RandomData(3 * kMiB + 12345, 7);  // 4 chunks of 1 MiB
  std::map<std::string, Snapshot> before;
  {
    ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
    ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
    ASSERT_OK(c->Mkdir("/data", 0750).status());
    ASSERT_OK(c->SetLayout("/data", {.replicas = 3, .chunk_size = kMiB}).status());
    ASSERT_OK(c->Mkdir("/data/sub", 0755).status());
    ASSERT_OK(c->SetLayout("/data/sub", {.codec = "zstd"}).status());
    ASSERT_OK(c->Mkdir("/data/sub/nested", 0700).status());
    ASSERT_OK(PutFile(*c, "/data/sub/nested/big.bin", big, 0600));
    ASSERT_OK(PutFile(*c, "/data/empty", ""));
    ASSERT_OK(PutFile(*c, "/data/small.txt", "hello, backup\n", 0640));
    ASSERT_OK_AND_ASSIGN(FileInfo data, c->Stat("/data"));
    ASSERT_OK(c->SymlinkAt(data.inode, "link", "sub/nested/big.bin", {.uid = 7, .gid = 8},
                           Durability::kSynced)
                  .status());
    ASSERT_OK_AND_ASSIGN(FileInfo bigi, c->Stat("/data/sub/nested/big.bin"));
    ASSERT_OK(c->SetXattr(bigi.inode, "user.origin", Bytes(std::string("run\0 42", 7)),
                          XattrMode::kAny, Durability::kSynced));
    ASSERT_OK(c->SetAttrAt(bigi.inode,
                           {.uid = 1234, .gid = 99, .mtime = TimeSpec{1'600'000'000, 123}},
                           Durability::kSynced)
                  .status());
    ASSERT_OK(c->SetAttrAt(data.inode, {.mtime = TimeSpec{1'500'000'000, 5}}, Durability::kSynced)
                  .status());
    ASSERT_OK_AND_ASSIGN(before, Capture(*c, paths));

    auto r = Granary(*cluster, {"backup", dest_.path(), "--path", "/data"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // big.bin's four chunks and small.txt's one (the writer keeps no file inline).
    EXPECT_NE(r.out.find("5 copied"), std::string::npos) << r.out;
    EXPECT_EQ(CountChunkObjects(dest_.path()), 5u);
    ASSERT_EQ(Runs(dest_.path()).size(), 1u);
    const std::string run = dest_.path() + "/backups/" + Runs(dest_.path())[0];
    EXPECT_TRUE(fs::exists(run + "/manifest.json"));
    EXPECT_TRUE(fs::exists(run + "/summary.json"));
    EXPECT_GT(fs::file_size(run + "/metadata.ckpt"), 100u);
  }  // the source cluster is gone

  ASSERT_OK_AND_ASSIGN(auto fresh, TestCluster::Start({.chunkservers = 2}));
  auto r = Granary(*fresh, {"restore", dest_.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified 3 files"), std::string::npos) << r.out;
  ASSERT_OK_AND_ASSIGN(auto c, fresh->Connect());
  ASSERT_OK_AND_ASSIGN(auto after, Capture(*c, paths));
  for (const std::string& p : paths) {
    SCOPED_TRACE(p);
    const FileInfo& a = before[p].info;
    const FileInfo& b = after[p].info;
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(b.mode, a.mode);
    EXPECT_EQ(b.uid, a.uid);
    EXPECT_EQ(b.gid, a.gid);
    EXPECT_EQ(b.size, a.size);
    EXPECT_EQ(b.mtime_sec, a.mtime_sec);
    EXPECT_EQ(b.mtime_nsec, a.mtime_nsec);
    EXPECT_EQ(b.chunk_size, a.chunk_size);
    EXPECT_EQ(b.codec, a.codec);
    EXPECT_EQ(b.symlink_target, a.symlink_target);
    // Three replicas do not fit on two servers: capped to what there is.
    EXPECT_EQ(b.replicas, std::min<uint32_t>(a.replicas, 2));
    EXPECT_EQ(after[p].contents, before[p].contents);
    EXPECT_EQ(after[p].xattrs, before[p].xattrs);
  }
  EXPECT_EQ(after["/data/sub/nested/big.bin"].contents, big);

  // Not over what is there now, unless forced.
  auto again = Granary(*fresh, {"restore", dest_.path()});
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  auto forced = Granary(*fresh, {"restore", dest_.path(), "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;

  // Damaged pool objects fail the restore, naming the files they belong to.
  for (const auto& e : fs::recursive_directory_iterator(dest_.path() + "/pool")) {
    if (!e.is_regular_file() || !e.path().filename().string().starts_with("c")) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(33);
    const char was = static_cast<char>(f.get());
    f.seekp(33);
    f.put(static_cast<char>(was ^ 0x5a));
  }
  auto damaged = Granary(*fresh, {"restore", dest_.path(), "--path", "/elsewhere"});
  EXPECT_EQ(damaged.exit_code, 1) << damaged.out;
  EXPECT_NE(damaged.err.find("/elsewhere/sub/nested/big.bin"), std::string::npos) << damaged.err;
  EXPECT_NE(damaged.err.find("CORRUPTION"), std::string::npos) << damaged.err;
}

TEST_F(BackupCli, IncrementalRunsCopyOnlyChangedChunks) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
  ASSERT_OK(c->Mkdir("/d", 0755).status());
  ASSERT_OK(c->SetLayout("/d", {.chunk_size = kMiB}).status());
  ASSERT_OK(PutFile(*c, "/d/a.bin", RandomData(3 * kMiB, 1)));
  const std::string b = RandomData(2 * kMiB, 2);
  ASSERT_OK(PutFile(*c, "/d/b.bin", b));

  auto first = Granary(*cluster, {"backup", dest_.path()});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(CountChunkObjects(dest_.path()), 5u);

  // Rewrite a few bytes of b.bin's second chunk: one new chunk version.
  ASSERT_OK_AND_ASSIGN(FileInfo bi, c->Stat("/d/b.bin"));
  {
    ASSERT_OK_AND_ASSIGN(auto f, c->OpenAt(bi.inode, {.write = true}));
    ASSERT_OK(f->PWrite(kMiB + 100, Bytes("changed")));
    ASSERT_OK(f->Close());
  }
  auto second = Granary(*cluster, {"backup", dest_.path()});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("1 copied"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("4 already in the pool"), std::string::npos) << second.out;
  EXPECT_EQ(CountChunkObjects(dest_.path()), 6u);

  auto third = Granary(*cluster, {"backup", dest_.path()});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.out.find("0 copied"), std::string::npos) << third.out;
  EXPECT_EQ(CountChunkObjects(dest_.path()), 6u);
  ASSERT_EQ(Runs(dest_.path()).size(), 3u);

  // Each run restores its own point in time (the backed-up root, /, lands at
  // --path: /d/b.bin at /old/d/b.bin).
  const std::vector<std::string> runs = Runs(dest_.path());
  auto old = Granary(*cluster, {"restore", dest_.path(), "--backup", runs[0], "--path", "/old"});
  ASSERT_EQ(old.exit_code, 0) << old.out << old.err;
  ASSERT_OK_AND_ASSIGN(std::string restored_b, ReadFile(*c, "/old/d/b.bin"));
  EXPECT_EQ(restored_b, b);
  auto latest = Granary(*cluster, {"restore", dest_.path(), "--path", "/new"});
  ASSERT_EQ(latest.exit_code, 0) << latest.out << latest.err;
  ASSERT_OK_AND_ASSIGN(std::string now_b, ReadFile(*c, "/d/b.bin"));
  ASSERT_OK_AND_ASSIGN(std::string new_b, ReadFile(*c, "/new/d/b.bin"));
  EXPECT_EQ(new_b, now_b);
  EXPECT_NE(new_b, b);
}

TEST_F(BackupCli, MetadataOnlyStoresNoData) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
  ASSERT_OK(PutFile(*c, "/m.bin", RandomData(300000, 3)));
  auto r = Granary(*cluster, {"backup", dest_.path(), "--metadata-only"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(CountChunkObjects(dest_.path()), 0u);
  const std::string run = dest_.path() + "/backups/" + Runs(dest_.path()).at(0);
  std::ifstream in(run + "/manifest.json");
  const std::string manifest((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(manifest.find("\"metadata_only\": true"), std::string::npos);
  EXPECT_NE(manifest.find("m.bin"), std::string::npos);
  EXPECT_GT(fs::file_size(run + "/metadata.ckpt"), 100u);
  auto restore = Granary(*cluster, {"restore", dest_.path(), "--path", "/back"});
  EXPECT_EQ(restore.exit_code, 1);
  EXPECT_NE(restore.err.find("metadata-only"), std::string::npos) << restore.err;
}

// metad's disk is lost; the chunk servers keep their data. The checkpoint of
// a --metadata-only run, loaded into a new data folder, brings the namespace
// back as of the backup, and new files get ids nobody used before.
TEST_F(BackupCli, MetadataCheckpointBringsBackALostMetad) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  const std::string keep = RandomData(3 * kMiB + 5, 11);
  {
    ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
    ASSERT_OK(c->Mkdir("/models").status());
    ASSERT_OK(PutFile(*c, "/models/keep.bin", keep));
    ASSERT_OK(PutFile(*c, "/models/small.txt", "inline bytes"));
  }
  auto b = Granary(*cluster, {"backup", dest_.path(), "--metadata-only"});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  {
    ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
    ASSERT_OK(PutFile(*c, "/models/after.bin", RandomData(kMiB, 12)));
  }
  ASSERT_OK(cluster->KillMetad(9));
  fs::remove_all(cluster->metad_data_dir());

  // A damaged checkpoint is refused before anything is written.
  const std::string run = dest_.path() + "/backups/" + Runs(dest_.path()).at(0);
  fs::copy(dest_.path(), dest_.path() + "-damaged", fs::copy_options::recursive);
  ASSERT_OK(FlipByte(dest_.path() + "-damaged/backups/" + Runs(dest_.path()).at(0) +
                         "/metadata.ckpt", 40, 0x01));
  auto bad = RunGranary({"restore", dest_.path() + "-damaged", "--metadata-to",
                         cluster->metad_data_dir()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("XXH3-128"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(cluster->metad_data_dir() + "/meta.db"));
  fs::remove_all(dest_.path() + "-damaged");

  auto r = RunGranary({"restore", dest_.path(), "--metadata-to", cluster->metad_data_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("loaded the metadata"), std::string::npos) << r.out;
  // Never over a store that exists.
  auto again = RunGranary({"restore", dest_.path(), "--metadata-to", cluster->metad_data_dir()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;

  ASSERT_OK(cluster->RestartMetad());
  ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(std::string back, ReadFile(*c, "/models/keep.bin"));
  EXPECT_TRUE(back == keep);
  ASSERT_OK_AND_ASSIGN(std::string small, ReadFile(*c, "/models/small.txt"));
  EXPECT_EQ(small, "inline bytes");
  EXPECT_ERROR(c->Stat("/models/after.bin"), proto::NOT_FOUND);  // written after the backup

  const std::string fresh = RandomData(2 * kMiB + 3, 13);
  ASSERT_OK(PutFile(*c, "/models/new.bin", fresh));
  ASSERT_OK_AND_ASSIGN(std::string fresh_back, ReadFile(*c, "/models/new.bin"));
  EXPECT_TRUE(fresh_back == fresh);
  ASSERT_OK_AND_ASSIGN(auto info, c->Stat("/models/new.bin"));
  EXPECT_GT(info.inode, tools::backup::kIdGap);
  ASSERT_OK_AND_ASSIGN(auto layout, c->GetLayout("/models/new.bin"));
  ASSERT_FALSE(layout.empty());
  EXPECT_GT(layout.front().chunk_id, tools::backup::kIdGap);

  auto fsck = Granary(*cluster, {"fsck", "/"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
}

// While a backup session is open, a file deleted or rewritten keeps its old
// replicas readable; once the session ends they are deleted after all.
TEST_F(BackupCli, OpenSessionHoldsReplicasOfDeletedAndRewrittenFiles) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3,
                                           .metad_config_toml = "[metad]\n"
                                                                "heartbeat_interval_ms = 100\n"}));
  ASSERT_OK_AND_ASSIGN(auto c, cluster->Connect());
  const std::string gone = RandomData(300000, 4);
  const std::string old = RandomData(300000, 5);
  ASSERT_OK(PutFile(*c, "/gone.bin", gone));
  ASSERT_OK(PutFile(*c, "/rewritten.bin", old));

  ASSERT_OK_AND_ASSIGN(BackupSession s, c->BackupBegin(10000));
  ASSERT_OK_AND_ASSIGN(BackupPage page, c->BackupList(s.id, "/", false, "", 100));
  ASSERT_EQ(page.entries.size(), 3u);  // "", gone.bin, rewritten.bin
  ASSERT_OK(c->Unlink("/gone.bin"));
  ASSERT_OK(PutFile(*c, "/rewritten.bin", RandomData(300000, 6)));

  // Several heartbeats pass; every replica of the snapshot stays.
  auto replicas_left = [&](const BackupEntry& e) {
    int n = 0;
    for (const ChunkLocation& ch : e.chunks) {
      for (int i = 0; i < cluster->num_chunkservers(); ++i) {
        if (fs::exists(cluster->ReplicaPath(i, ch.chunk_id, ch.version))) ++n;
      }
    }
    return n;
  };
  const int total = replicas_left(page.entries[1]) + replicas_left(page.entries[2]);
  ASSERT_GT(total, 0);
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(replicas_left(page.entries[1]) + replicas_left(page.entries[2]), total);
  }
  for (int i : {1, 2}) {
    const BackupEntry& e = page.entries[i];
    ASSERT_EQ(e.chunks.size(), 1u);
    ASSERT_OK_AND_ASSIGN(auto reader, c->OpenChunk(e.chunks[0], e.info.chunk_size));
    std::string got(e.chunks[0].length, '\0');
    ASSERT_OK_AND_ASSIGN(size_t n, reader->PRead(0, MutableByteSpan(
                                                        reinterpret_cast<uint8_t*>(got.data()),
                                                        got.size())));
    EXPECT_EQ(n, got.size());
    EXPECT_EQ(got, i == 1 ? gone : old);
  }

  // Deferred, not dropped: gone once the session ends (bounded wait).
  ASSERT_OK(c->BackupEnd(s.id));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (replicas_left(page.entries[1]) + replicas_left(page.entries[2]) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(replicas_left(page.entries[1]) + replicas_left(page.entries[2]), 0);
}

}  // namespace
}  // namespace granary::testutil
