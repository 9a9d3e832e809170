// LocalChunks against a scripted local-read server in this process: what a
// misbehaving or vanishing chunk server does to the descriptors already open.
#include "client/src/local_chunks.h"

#include <chrono>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "common/codec/block.h"
#include "common/codec/chunk_format.h"
#include "common/endian.h"
#include "common/net/local_read.h"

namespace granary::client {
namespace {

namespace fs = std::filesystem;

// Writes a one-block replica file of `key` and returns its path.
std::string WriteReplica(const fs::path& dir, codec::ChunkKey key) {
  std::vector<uint8_t> raw(64 * 1024);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 7 + key.chunk_id);
  Buffer enc(codec::MaxEncodedSize(raw.size()));
  auto n = codec::EncodeBlock(ByteSpan(raw.data(), raw.size()), {}, enc.span());
  EXPECT_TRUE(n.ok());
  auto h = codec::ParseBlockHeader(enc.span());
  EXPECT_TRUE(h.ok());
  codec::ChunkFooter f;
  f.key = key;
  f.total_raw = raw.size();
  f.total_stored = *n;
  f.blocks.push_back({0, h->stored_len, h->raw_len, h->stored_xxh3, h->raw_xxh3});
  const Buffer footer = codec::EncodeFooter(f);
  const fs::path path = dir / codec::ChunkFileName(key);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, enc.data(), *n), static_cast<ssize_t>(*n));
  EXPECT_EQ(::write(fd, footer.data(), footer.size()), static_cast<ssize_t>(footer.size()));
  ::close(fd);
  return path;
}

proto::ChunkInfo Info(codec::ChunkKey key) {
  proto::ChunkInfo c;
  c.set_chunk_id(key.chunk_id);
  c.set_version(key.version);
  c.set_block_count(1);
  return c;
}

// A local-read server that answers the i-th request on its one connection
// with script[i](connection fd); it stops after the script runs out.
class ScriptedServer {
 public:
  using Step = std::function<void(int& conn)>;  // may close conn (set -1)
  ScriptedServer(const std::string& address, std::vector<Step> script) {
    const std::string name = net::LocalReadSocketName(address);
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listener_, 4), 0);
    // Connections are taken one after another; a step that closes its
    // connection moves the script on to the next one.
    thread_ = std::thread([this, script = std::move(script)] {
      size_t next = 0;
      while (next < script.size()) {
        int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return;
        while (conn >= 0 && next < script.size()) {
          pollfd p{conn, POLLIN, 0};
          if (::poll(&p, 1, 10000) != 1) break;  // the request is there
          script[next++](conn);
        }
        if (conn >= 0) ::close(conn);
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }

  // Reads one request and answers it with `file`'s descriptor.
  static Step Serve(const std::string& file) {
    return [file](int& conn) {
      uint8_t req[net::kLocalReadRequestSize];
      ASSERT_EQ(::recv(conn, req, sizeof req, MSG_WAITALL), static_cast<ssize_t>(sizeof req));
      const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      uint8_t reply[net::kLocalReadReplySize] = {};
      PutU32(reply, net::kLocalReadReplyMagic);
      PutU64(reply + 8, fs::file_size(file));
      iovec iov{reply, sizeof reply};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
      ASSERT_EQ(::sendmsg(conn, &msg, 0), static_cast<ssize_t>(sizeof reply));
      ::close(fd);
    };
  }

 private:
  int listener_ = -1;
  std::thread thread_;
};

// The descriptors of this process open on `path`.
std::vector<int> DescriptorsOf(const std::string& path) {
  std::vector<int> fds;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(e.path(), ec) == path) fds.push_back(std::stoi(e.path().filename().string()));
  }
  return fds;
}

// The one descriptor of this process open on `path`, or -1. The scripted
// server closes its own copy just after sending it, on its thread: wait
// (bounded) until that has happened, or the server's copy could be taken
// for the client's.
int DescriptorOf(const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<int> fds = DescriptorsOf(path);
  while (fds.size() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    fds = DescriptorsOf(path);
  }
  return fds.size() == 1 ? fds[0] : -1;
}

// Fills the stack below the caller with SCM_RIGHTS control messages naming
// `fd`, starting `phase` bytes in: what a previous reply leaves behind.
[[gnu::noinline]] void SprayStack(int fd, size_t phase) {
  volatile uint8_t area[32 * 1024];
  cmsghdr h{};
  h.cmsg_len = CMSG_LEN(sizeof(int));
  h.cmsg_level = SOL_SOCKET;
  h.cmsg_type = SCM_RIGHTS;
  uint8_t one[CMSG_SPACE(sizeof(int))] = {};
  std::memcpy(one, &h, sizeof h);
  std::memcpy(one + CMSG_LEN(0), &fd, sizeof fd);
  for (size_t i = phase; i + sizeof one <= sizeof area; i += sizeof one) {
    for (size_t j = 0; j < sizeof one; ++j) area[i + j] = one[j];
  }
}

// Regression: a failed recvmsg (here ECONNRESET: the server closed with our
// request unread) leaves the control buffer unwritten. Reading it anyway
// took a stale descriptor number, still owned by an open replica, for this
// reply's and closed it: that number was then reused by some other file.
TEST(LocalChunks, FailedReplyLeavesOpenReplicasAlone) {
  const fs::path dir = fs::temp_directory_path() / ("granary-lc-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const codec::ChunkKey a{11, 1}, b{12, 1};
  const std::string file_a = WriteReplica(dir, a);
  WriteReplica(dir, b);
  const std::string address = "scripted-" + std::to_string(::getpid()) + ":1";
  // Then three connections closed with the request unread.
  const ScriptedServer::Step reset = [](int& conn) {
    ::close(conn);
    conn = -1;
  };
  ScriptedServer server(address, {ScriptedServer::Serve(file_a), reset, reset, reset});
  LocalChunks local;
  auto first = local.ReadBlocks(address, Info(a), 0, 1);
  ASSERT_TRUE(first.has_value()) << "served replica read locally";
  const int held = DescriptorOf(file_a);
  ASSERT_GE(held, 0) << "LocalChunks keeps the replica open";

  // Control buffers are 8-byte aligned and a message is 24 bytes: one of
  // three phases lines up with wherever the buffer lands.
  for (size_t phase : {0, 8, 16}) {
    SprayStack(held, phase);
    EXPECT_FALSE(local.ReadBlocks(address, Info(b), 0, 1).has_value())
        << "no reply: the caller uses the network";
  }
  EXPECT_EQ(DescriptorOf(file_a), held) << "a failed fetch closed the open replica's descriptor";
  auto again = local.ReadBlocks(address, Info(a), 0, 1);
  ASSERT_TRUE(again.has_value()) << "the open replica's descriptor was closed by a failed fetch";
  EXPECT_TRUE(std::equal(again->span().begin(), again->span().end(), first->span().begin()));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace granary::client
