// The FUSE mount with real tools: cp -a, diff -r, rsync, tar, dd, Python
// file I/O and POSIX error checks (posix_checks.py), on a real mount of a
// real cluster; plus a crash of the mount process.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/fuse/mount_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/weights_data.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;

std::string ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class FuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = TestCluster::Start({.chunkservers = 3});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c).release();
    auto m = Mount::Start(cluster_->meta_address(), cluster_->dir());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    mount_ = std::move(*m).release();
  }
  static void TearDownTestSuite() {
    if (mount_) {
      Status st = mount_->Unmount();
      EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << mount_->LogTail();
    }
    delete mount_;
    mount_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(mount_, nullptr);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = mount_->path() + "/" + info->name();
    local_ = cluster_->dir() + "/local-" + info->name();
    fs::create_directories(local_);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "granary-fuse log:\n" << mount_->LogTail() << "\n";
  }
  // Runs a shell script and expects exit 0.
  void Run(const std::string& script) {
    CommandResult r = Sh(script);
    ASSERT_EQ(r.exit_code, 0) << script << "\nstdout: " << r.out << "\nstderr: " << r.err;
  }
  void Python(const std::string& check, const std::string& dir) {
    Run("python3 " GRANARY_TEST_SRC_DIR "/fuse/posix_checks.py " + check + " '" + dir + "'");
  }

  static TestCluster* cluster_;
  static Mount* mount_;
  std::string dir_;
  std::string local_;
};
TestCluster* FuseTest::cluster_ = nullptr;
Mount* FuseTest::mount_ = nullptr;

TEST_F(FuseTest, FilesOfBoundarySizesReadBackThroughMountAndClient) {
  fs::create_directories(dir_);
  const size_t sizes[] = {0, 1, 4095, 65536, 65537, (1 << 20) - 1, 1 << 20, (1 << 20) + 1,
                          9 << 20};
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  for (size_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + size) % 251);
    std::string path = dir_ + "/f" + std::to_string(size);
    {
      std::ofstream out(path, std::ios::binary);
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    EXPECT_EQ(fs::file_size(path), size);
    EXPECT_TRUE(ReadLocal(path) == data);
    // Another client sees what the mount closed.
    ASSERT_OK_AND_ASSIGN(auto r, client->Open("/FilesOfBoundarySizesReadBackThroughMountAndClient/f" +
                                              std::to_string(size)));
    std::string back(size, '\0');
    ASSERT_OK_AND_ASSIGN(size_t n, r->PRead(0, MutableByteSpan(reinterpret_cast<uint8_t*>(back.data()), size)));
    EXPECT_EQ(n, size);
    EXPECT_TRUE(back == data);
  }
}

TEST_F(FuseTest, CpDashAAndDiffOfARealTree) {
  // A real folder tree: the documentation of a few dozen installed packages
  // (text, gzip files, symlinks).
  Run("mkdir -p '" + local_ + "/doc' && cd /usr/share/doc && "
      "ls | head -60 | xargs cp -a -t '" + local_ + "/doc'");
  Run("cp -a '" + local_ + "/doc' '" + dir_ + "' && diff -r --no-dereference '" + local_ + "/doc' '" + dir_ +
      "' && cp -a '" + dir_ + "' '" + local_ + "/back' && diff -r --no-dereference '" + local_ + "/doc' '" +
      local_ + "/back'");
  // Modes and times survived the trip.
  Run("cd '" + local_ + "/doc' && find . -printf '%p %m %T@ %y\\n' | sort > ../a.txt && cd '" +
      dir_ + "' && find . -printf '%p %m %T@ %y\\n' | sort > '" + local_ + "/b.txt' && diff '" +
      local_ + "/a.txt' '" + local_ + "/b.txt'");
}

// A folder's mtime moves with every entry made or removed in it, also right
// after it was set explicitly and cached (rsync and cp -a set a folder's time
// again only when a fresh stat shows it changed).
TEST_F(FuseTest, FolderTimesFollowEveryChange) {
  const std::string d = "'" + dir_ + "'";
  const std::string old = "touch -d @978307200 " + d + " && [ $(stat -c %Y " + d +
                          ") = 978307200 ]";
  const std::string newer = "[ $(stat -c %Y " + d + ") -gt 978307200 ]";
  Run("mkdir -p " + d + " && " + old);
  for (const std::string& change :
       {": > " + d + "/f", "python3 -c 'import os; os.close(os.open(\"" + dir_ +
                               "/x\", os.O_CREAT | os.O_EXCL | os.O_WRONLY))'",
        "mv " + d + "/f " + d + "/g", "rm " + d + "/g", "mkdir " + d + "/sub",
        "rmdir " + d + "/sub", "ln -s target " + d + "/link"}) {
    SCOPED_TRACE(change);
    Run(old + " && " + change + " && " + newer);
  }
}

// A safetensors checkpoint copied in through the mount is stored with byte
// planes (the header's dtypes reach the encoder), reads back identical, and
// shows its codec policy in the granary.codec attribute.
TEST_F(FuseTest, SafetensorsCopiedInAreStoredAsBytePlanes) {
  fs::create_directories(dir_);
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(3 << 20);
  const std::string local = local_ + "/model.safetensors";
  {
    std::ofstream out(local, std::ios::binary);
    out.write(reinterpret_cast<const char*>(ckpt.data()), ckpt.size());
  }
  Run("cp '" + local + "' '" + dir_ + "/model.safetensors' && cmp '" + local + "' '" + dir_ +
      "/model.safetensors' && python3 -c 'import os, sys; sys.exit(os.getxattr(sys.argv[1], "
      "\"granary.codec\") != b\"auto\")' '" + dir_ + "/model.safetensors'");
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  ASSERT_OK_AND_ASSIGN(auto layout,
                       client->GetLayout("/" + std::string(::testing::UnitTest::GetInstance()
                                                               ->current_test_info()
                                                               ->name()) +
                                         "/model.safetensors"));
  uint64_t raw = 0, stored = 0;
  for (const auto& c : layout) {
    raw += c.length;
    stored += c.stored_length;
  }
  EXPECT_EQ(raw, ckpt.size());
  EXPECT_GT(static_cast<double>(raw) / static_cast<double>(stored), 1.25);
}

TEST_F(FuseTest, RsyncTarAndDd) {
  fs::create_directories(dir_);
  Run("mkdir -p '" + local_ + "/src/a/b' && head -c 3000000 /dev/urandom > '" + local_ +
      "/src/a/big' && echo hi > '" + local_ + "/src/a/b/small' && ln -s big '" + local_ +
      "/src/a/link'");
  Run("rsync -a '" + local_ + "/src/' '" + dir_ + "/rs/' && diff -r --no-dereference '" + local_ + "/src' '" + dir_ +
      "/rs'");
  // A second rsync finds nothing to do and changes nothing.
  Run("rsync -a --itemize-changes '" + local_ + "/src/' '" + dir_ + "/rs/' | (! grep .)");
  Run("tar -C '" + local_ + "/src' -cf '" + dir_ + "/t.tar' . && mkdir '" + local_ +
      "/untar' && tar -C '" + local_ + "/untar' -xf '" + dir_ + "/t.tar' && diff -r --no-dereference '" + local_ +
      "/src' '" + local_ + "/untar'");
  Run("mkdir -p '" + dir_ + "/tx' && tar -C '" + local_ + "/src' -cf - . | tar -C '" + dir_ +
      "/tx' -xf - && diff -r --no-dereference '" + local_ + "/src' '" + dir_ + "/tx'");
  // dd: a 24 MiB file, then 1 MiB rewritten in place in its middle.
  Run("head -c 25165824 /dev/urandom > '" + local_ + "/dd' && dd if='" + local_ + "/dd' of='" +
      dir_ + "/dd' bs=1M status=none && cmp '" + local_ + "/dd' '" + dir_ + "/dd'");
  Run("head -c 1048576 /dev/urandom > '" + local_ + "/patch' && "
      "dd if='" + local_ + "/patch' of='" + local_ + "/dd' bs=4096 seek=2000 conv=notrunc status=none && "
      "dd if='" + local_ + "/patch' of='" + dir_ + "/dd' bs=4096 seek=2000 conv=notrunc status=none && "
      "cmp '" + local_ + "/dd' '" + dir_ + "/dd'");
}

TEST_F(FuseTest, PythonFileIo) { Python("fileio", dir_); }
TEST_F(FuseTest, UnlinkAndRenameOverOpenFiles) { Python("open_unlink", dir_); }
TEST_F(FuseTest, TwoProcesses) { Python("two_processes", dir_); }
TEST_F(FuseTest, ErrnoOfEveryFailure) { Python("errnos", dir_); }
TEST_F(FuseTest, PermissionsEnforced) { Python("permissions", dir_); }
TEST_F(FuseTest, ExtendedAttributes) { Python("xattr", dir_); }
TEST_F(FuseTest, RenameNoReplaceAndExchange) { Python("rename_flags", dir_); }

TEST_F(FuseTest, StatfsReportsClusterCapacity) {
  CommandResult r = Sh("stat -f -c '%b %S' '" + mount_->path() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint64_t blocks = 0, unit = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "%lu %lu", &blocks, &unit), 2) << r.out;
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  ASSERT_OK_AND_ASSIGN(auto st, client->StatFs());
  EXPECT_EQ(blocks * unit, st.capacity_bytes / unit * unit);
}

TEST_F(FuseTest, ReadOnlyMountGivesErofs) {
  fs::create_directories(dir_);
  ASSERT_OK_AND_ASSIGN(auto ro, Mount::Start(cluster_->meta_address(), cluster_->dir(), {"ro"}));
  Python("erofs", ro->path() + "/ReadOnlyMountGivesErofs");
  EXPECT_OK(ro->Unmount());
}

TEST_F(FuseTest, CrashOfTheMountKeepsClosedFiles) {
  ASSERT_OK_AND_ASSIGN(auto m, Mount::Start(cluster_->meta_address(), cluster_->dir()));
  const std::string d = m->path() + "/crash";
  Run("mkdir '" + d + "' && head -c 5000000 /dev/urandom > '" + local_ + "/big' && cp '" + local_ +
      "/big' '" + d + "/big' && echo small > '" + d + "/small' && mkdir '" + d + "/sub'");
  m->Crash();
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect());
  ASSERT_OK_AND_ASSIGN(auto r, client->Open("/crash/big"));
  std::string want = ReadLocal(local_ + "/big");
  std::string back(want.size(), '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, r->PRead(0, MutableByteSpan(reinterpret_cast<uint8_t*>(back.data()), back.size())));
  EXPECT_EQ(n, want.size());
  EXPECT_TRUE(back == want);
  ASSERT_OK_AND_ASSIGN(auto s, client->Open("/crash/small"));
  EXPECT_EQ(s->size(), 6u);
  ASSERT_OK_AND_ASSIGN(auto sub, client->Stat("/crash/sub"));
  EXPECT_EQ(sub.type, FileType::kDirectory);
}

TEST_F(FuseTest, MountErrorsAreClear) {
  CommandResult r = Sh(std::string(GRANARY_BIN_DIR) + "/granary-fuse --meta " +
                       cluster_->meta_address() + " /nonexistent/mnt -f");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("mount point /nonexistent/mnt"), std::string::npos) << r.err;
  r = Sh(std::string(GRANARY_BIN_DIR) + "/granary-fuse --meta " + cluster_->meta_address() + " '" +
         mount_->path() + "' -f");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("busy"), std::string::npos) << r.err;
  fs::create_directories(local_ + "/m");
  r = Sh(std::string(GRANARY_BIN_DIR) + "/granary-fuse --meta 127.0.0.1:1 '" + local_ + "/m'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot reach granary-metad"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace granary::testutil
