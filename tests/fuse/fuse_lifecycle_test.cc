// The mount's life cycle and resource limits: SIGTERM publishes files still
// open, a full cluster gives ENOSPC, an unlinked open file's chunks are freed
// at its last close.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/fuse/mount_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace granary::testutil {
namespace {

std::string PyFile(const std::string& code) {
  return "python3 -c '" + code + "'";
}

TEST(FuseLifecycle, SigtermPublishesFilesStillOpen) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto m, Mount::Start(cluster->meta_address(), cluster->dir()));
  // A writer that keeps its file open: 3 MiB (chunks) and a small file
  // (inline), written but never closed.
  Command writer;
  writer.argv = {"/usr/bin/env", "python3", "-c",
                 "import os, sys, time\n"
                 "a = os.open(sys.argv[1] + '/big', os.O_CREAT | os.O_WRONLY)\n"
                 "os.write(a, b'B' * (3 << 20))\n"
                 "b = os.open(sys.argv[1] + '/small', os.O_CREAT | os.O_WRONLY)\n"
                 "os.write(b, b'tiny')\n"
                 "print('written', flush=True)\n"
                 "while os.path.ismount(sys.argv[1]): time.sleep(0.05)\n",
                 m->path()};
  writer.timeout = std::chrono::milliseconds(60000);
  std::thread t([&] { (void)RunCommand(writer); });
  // Wait until both files exist with their sizes as the mount sees them.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Sh("test \"$(stat -c %s '" + m->path() + "/big')\" = 3145728 && test -e '" + m->path() +
            "/small'").exit_code != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "writer did not write";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(::kill(m->pid(), SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(m->pid(), &status, 0), m->pid());
  EXPECT_TRUE(WIFEXITED(status)) << m->LogTail();
  m->Exited();
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto big, client->Stat("/big"));
  EXPECT_EQ(big.size, 3u << 20);
  ASSERT_OK_AND_ASSIGN(auto r, client->Open("/big"));
  std::string back(3 << 20, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, r->PRead(0, MutableByteSpan(reinterpret_cast<uint8_t*>(back.data()), back.size())));
  EXPECT_EQ(n, back.size());
  EXPECT_EQ(back, std::string(3 << 20, 'B'));
  ASSERT_OK_AND_ASSIGN(auto small, client->Stat("/small"));
  EXPECT_EQ(small.size, 4u);
  t.join();  // the writer ends once its mount is gone
}

TEST(FuseLifecycle, FullClusterGivesEnospc) {
  // Every chunk server is below the free-space floor: metad places nothing.
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3,
                                           .metad_config_toml = "[metad]\nmin_free_bytes = 1125899906842624\n"}));
  ASSERT_OK_AND_ASSIGN(auto m, Mount::Start(cluster->meta_address(), cluster->dir()));
  CommandResult r = Sh(PyFile(
      "import errno, os\n"
      "f = open(\"" + m->path() + "/big\", \"wb\")\n"
      "f.write(b\"x\" * (3 << 20))\n"
      "try:\n"
      "    f.close()\n"
      "    raise SystemExit(\"close succeeded on a full cluster\")\n"
      "except OSError as e:\n"
      "    assert e.errno == errno.ENOSPC, e\n"
      "print(\"ENOSPC\")\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << m->LogTail();
  EXPECT_NE(r.out.find("ENOSPC"), std::string::npos);
  // The mount stays usable: small files live in metad.
  EXPECT_EQ(Sh("echo ok > '" + m->path() + "/small' && test \"$(cat '" + m->path() +
               "/small')\" = ok").exit_code, 0);
}

TEST(FuseLifecycle, QuotaGivesEdquot) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK(client->Mkdir("/q").status());
  ASSERT_OK(client->SetQuota("/q", 1 << 20, 3).status());
  ASSERT_OK_AND_ASSIGN(auto m, Mount::Start(cluster->meta_address(), cluster->dir()));
  CommandResult r = Sh(PyFile(
      "import errno, os\n"
      "d = \"" + m->path() + "/q\"\n"
      "try:\n"
      "    with open(d + \"/big\", \"wb\") as f:\n"
      "        f.write(b\"x\" * (3 << 20))\n"
      "    raise SystemExit(\"a 3 MiB file fit a 1 MiB quota\")\n"
      "except OSError as e:\n"
      "    assert e.errno == errno.EDQUOT, e\n"
      "with open(d + \"/ok\", \"wb\") as f:\n"
      "    f.write(b\"y\" * 1000)\n"
      "os.mkdir(d + \"/sub\")\n"
      "try:\n"
      "    os.mkdir(d + \"/one-too-many\")\n"
      "    raise SystemExit(\"a fourth entry fit a 3-file quota\")\n"
      "except OSError as e:\n"
      "    assert e.errno == errno.EDQUOT, e\n"
      "print(\"EDQUOT\")\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << m->LogTail();
  EXPECT_NE(r.out.find("EDQUOT"), std::string::npos);
}

TEST(FuseLifecycle, UnlinkedOpenFileIsFreedAtLastClose) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto m, Mount::Start(cluster->meta_address(), cluster->dir()));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto before, client->StatFs());
  // Chunk size is 64 MiB: 3 MiB makes one chunk.
  CommandResult r = Sh(PyFile(
      "import os\n"
      "p = \"" + m->path() + "/victim\"\n"
      "open(p, \"wb\").write(b\"v\" * (3 << 20))\n"
      "f = open(p, \"rb\")\n"
      "os.unlink(p)\n"
      "assert not os.path.exists(p)\n"
      "assert f.read() == b\"v\" * (3 << 20)\n"
      "f.close()\n"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Release runs after close returns: wait (bounded) for the chunk to go.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto now, client->StatFs());
    if (now.chunks == before.chunks && now.files == before.files) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "chunks " << now.chunks << " files " << now.files << " (before: " << before.chunks
        << ", " << before.files << ")";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace
}  // namespace granary::testutil
