#include "client/src/local_chunks.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <algorithm>
#include <array>
#include <vector>

#include "common/buffer_pool.h"
#include "common/checksum/xxh3.h"
#include "common/codec/block.h"
#include "common/codec/block_index.h"
#include "common/codec/chunk_file_io.h"
#include "common/endian.h"
#include "common/log.h"
#include "common/net/local_read.h"

namespace granary::client {
namespace {

using Clock = std::chrono::steady_clock;

// A server that is not on this host (or refuses us) is asked again after
// this long: servers come and go, but not every read should pay a connect.
constexpr auto kRetryRemote = std::chrono::seconds(30);
// A stopped or overloaded server must not stall a read past this: the
// network path (with its own deadline) takes over.
constexpr int kSocketTimeoutMs = 2000;

std::string ReplicaName(const std::string& address, const proto::ChunkInfo& c) {
  return "chunk " + std::to_string(c.chunk_id()) + " v" + std::to_string(c.version()) + " on " +
         address;
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

struct LocalChunks::File {
  int fd = -1;
  dev_t dev = 0;  // identity of the file the footer was read from
  ino_t ino = 0;
  codec::ChunkFooter footer;
  // Headers and segment tables read so far: a random read of a segmented
  // block is then one pread.
  codec::BlockIndexCache index;
  ~File() { CloseFd(fd); }
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
};

namespace {

// Every block read must be the block the validated footer describes: its
// header has to agree with the table entry (lengths and both checksums).
// Blocks verify themselves, so this is what stops a descriptor that no
// longer refers to this replica's file from passing off another chunk's
// (self-consistent) blocks as this one's.
Status CheckAgainstTable(ByteSpan bytes, const codec::ChunkFooter& footer, uint32_t first,
                         uint32_t count) {
  const uint64_t base = footer.blocks[first].offset;
  for (uint32_t i = first; i < first + count; ++i) {
    const codec::BlockEntry& e = footer.blocks[i];
    ASSIGN_OR_RETURN(codec::BlockHeader h, codec::ParseBlockHeader(bytes.subspan(e.offset - base)));
    if (!e.Describes(h)) {
      return Status::Corruption("block " + std::to_string(i) +
                                " header disagrees with the replica's block table");
    }
  }
  return Status::Ok();
}

}  // namespace

struct LocalChunks::Server {
  std::mutex mu;  // one request at a time on `sock`
  int sock = -1;
  Clock::time_point retry_after{};
  ~Server() { CloseFd(sock); }
};

LocalChunks::LocalChunks(size_t max_files) : max_files_(max_files == 0 ? 1 : max_files) {}
LocalChunks::~LocalChunks() = default;

uint64_t LocalChunks::bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }

Result<std::shared_ptr<const LocalChunks::File>> LocalChunks::Fetch(
    Server& server, const std::string& address, const proto::ChunkInfo& chunk) {
  const std::string name = net::LocalReadSocketName(address);
  uint8_t req[net::kLocalReadRequestSize] = {};
  PutU32(req, net::kLocalReadRequestMagic);
  PutU32(req + 4, net::kLocalReadFormat);
  PutU64(req + 8, chunk.chunk_id());
  PutU64(req + 16, chunk.version());
  // A kept connection may have been closed by a restarted server: one retry
  // on a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (server.sock < 0) {
      sockaddr_un sa{};
      if (name.size() > sizeof sa.sun_path) return Status::Unavailable("socket name too long");
      sa.sun_family = AF_UNIX;
      std::memcpy(sa.sun_path, name.data(), name.size());
      const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
      server.sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (server.sock < 0) return Status::Unavailable(std::strerror(errno));
      timeval tv{kSocketTimeoutMs / 1000, (kSocketTimeoutMs % 1000) * 1000};
      (void)::setsockopt(server.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      (void)::setsockopt(server.sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(server.sock, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
        CloseFd(server.sock);
        server.retry_after = Clock::now() + kRetryRemote;
        return Status::Unavailable("not on this host");
      }
    }
    if (::send(server.sock, req, sizeof req, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof req)) {
      CloseFd(server.sock);
      continue;
    }
    uint8_t reply[net::kLocalReadReplySize];
    iovec iov{reply, sizeof reply};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = ::recvmsg(server.sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    } while (n < 0 && errno == EINTR);
    // A failed recvmsg leaves msg_controllen as we set it and the control
    // buffer unwritten: walking it then would take a stale number (another
    // reply's descriptor, owned elsewhere) for ours and close it below.
    if (n < 0) msg.msg_controllen = 0;
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
          c->cmsg_len == CMSG_LEN(sizeof(int))) {
        std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
      }
    }
    auto file = std::make_shared<File>();
    file->fd = fd;  // closed with `file` on every error below
    if (n == 0 && attempt == 0) {
      CloseFd(server.sock);
      continue;
    }
    if (n != static_cast<ssize_t>(sizeof reply) || GetU32(reply) != net::kLocalReadReplyMagic ||
        (msg.msg_flags & MSG_CTRUNC) != 0) {
      // A timeout (stopped server) or garbage: drop the connection.
      CloseFd(server.sock);
      return Status::Unavailable("no usable reply from the local socket");
    }
    const auto code = static_cast<proto::ErrorCode>(GetU32(reply + 4));
    if (code == proto::PERMISSION_DENIED) server.retry_after = Clock::now() + kRetryRemote;
    if (code != proto::OK) return Status::FromCode(code, "local read refused");
    if (fd < 0) return Status::Protocol("no descriptor with the reply");
    const uint64_t size = GetU64(reply + 8);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != size) {
      return Status::Corruption("replica file size differs from the server's");
    }
    file->dev = st.st_dev;
    file->ino = st.st_ino;
    ASSIGN_OR_RETURN(file->footer,
                     codec::ReadChunkFooter(fd, size, "local " + ReplicaName(address, chunk)));
    if (file->footer.key.chunk_id != chunk.chunk_id() ||
        file->footer.key.version != chunk.version() ||
        file->footer.blocks.size() != chunk.block_count()) {
      return Status::Corruption("local replica file does not hold " + ReplicaName(address, chunk));
    }
    return std::shared_ptr<const File>(std::move(file));
  }
  return Status::Unavailable("local socket closed");
}

std::shared_ptr<const LocalChunks::File> LocalChunks::Open(const std::string& address,
                                                          const proto::ChunkInfo& chunk) {
  const Key key{address, chunk.chunk_id(), chunk.version()};
  std::shared_ptr<Server> server;
  {
    std::lock_guard lock(mu_);
    if (auto it = files_.find(key); it != files_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);
      return it->second.first;
    }
    auto& s = servers_[address];
    if (!s) s = std::make_shared<Server>();
    server = s;
  }
  Result<std::shared_ptr<const File>> file;
  {
    std::lock_guard lock(server->mu);
    if (server->sock < 0 && Clock::now() < server->retry_after) return nullptr;
    file = Fetch(*server, address, chunk);
  }
  if (!file.ok()) {
    const auto code = file.status().code();
    if (code != proto::UNAVAILABLE && code != proto::CHUNK_NOT_FOUND) {
      LOG_WARN("local read of {} not possible: {}", ReplicaName(address, chunk),
               file.status().ToString());
    }
    return nullptr;
  }
  std::lock_guard lock(mu_);
  if (auto it = files_.find(key); it != files_.end()) return it->second.first;  // raced
  lru_.push_front(key);
  files_.emplace(key, std::make_pair(*file, lru_.begin()));
  while (files_.size() > max_files_) {
    files_.erase(lru_.back());
    lru_.pop_back();
  }
  return *file;
}

void LocalChunks::Drop(const std::string& address, const proto::ChunkInfo& chunk) {
  std::lock_guard lock(mu_);
  auto it = files_.find(Key{address, chunk.chunk_id(), chunk.version()});
  if (it == files_.end()) return;
  lru_.erase(it->second.second);
  files_.erase(it);
}

std::optional<Buffer> LocalChunks::ReadBlocks(const std::string& address,
                                              const proto::ChunkInfo& chunk, uint32_t first,
                                              uint32_t count) {
  std::shared_ptr<const File> file = Open(address, chunk);
  if (!file) return std::nullopt;
  const auto& blocks = file->footer.blocks;
  if (count == 0 || first >= blocks.size() || count > blocks.size() - first) return std::nullopt;
  const uint64_t start = blocks[first].offset;
  const uint64_t end = blocks[first + count - 1].end();
  Buffer out = PooledBuffer(end - start);
  Status st = SameFile(*file) ? Status::Ok()
                              : Status::Internal("descriptor no longer refers to the replica file");
  if (st.ok()) st = codec::PReadExact(file->fd, out.span(), start, ReplicaName(address, chunk));
  if (st.ok()) st = CheckAgainstTable(out.span(), file->footer, first, count);
  if (!st.ok()) {
    LOG_ERROR("local read of {} failed, using the network: {}", ReplicaName(address, chunk),
              st.ToString());
    Drop(address, chunk);
    return std::nullopt;
  }
  bytes_read_.fetch_add(out.size(), std::memory_order_relaxed);
  return out;
}

std::optional<Status> LocalChunks::ReadRawInto(const std::string& address,
                                               const proto::ChunkInfo& chunk, uint32_t first,
                                               std::span<const MutableByteSpan> dests) {
  // Enough for the largest request a reader makes (kBlocksPerRequest) and
  // then some.
  constexpr size_t kMaxBlocks = 64;
  const size_t count = dests.size();
  if (count == 0 || count > kMaxBlocks) return std::nullopt;
  std::shared_ptr<const File> file = Open(address, chunk);
  if (!file) return std::nullopt;
  const auto& blocks = file->footer.blocks;
  if (first >= blocks.size() || count > blocks.size() - first) return std::nullopt;
  // Per block: the table's word on how it is stored. Raw blocks hold their
  // data as is (both lengths and both checksums agree); segmented raw blocks
  // hold it followed by one u64 checksum per 64 KiB segment, which lands in
  // a scratch slot. Anything else (compressed) takes the decoding path.
  std::array<codec::CodecId, kMaxBlocks> codecs;
  std::array<uint32_t, kMaxBlocks> tails;  // segment-table bytes after the data
  uint32_t max_tail = 0;
  for (size_t i = 0; i < count; ++i) {
    const codec::BlockEntry& e = blocks[first + i];
    const uint32_t table = 8 * codec::SegmentCount(e.raw_len);
    if (e.stored_len == e.raw_len && e.stored_xxh3 == e.raw_xxh3) {
      codecs[i] = codec::CodecId::kRaw;
      tails[i] = 0;
    } else if (e.stored_len == e.raw_len + table) {
      codecs[i] = codec::CodecId::kRawSegmented;
      tails[i] = table;
    } else {
      return Status::Unimplemented("not stored raw");
    }
    max_tail = std::max(max_tail, tails[i]);
    if (dests[i].size() != e.raw_len) return std::nullopt;
  }
  if (!SameFile(*file)) return std::nullopt;
  // One preadv per block, verified at once: the block is hashed while it is
  // still in this core's cache (hashing a 4 MiB run after reading all of it
  // goes back to memory for the first blocks).
  // Cold data: have the kernel start reading the whole run now, so the
  // disk sees one deep queue rather than one block at a time (a no-op for
  // pages already cached).
  if (count > 1) {
    (void)::posix_fadvise(file->fd, static_cast<off_t>(blocks[first].offset),
                          static_cast<off_t>(blocks[first + count - 1].end() - blocks[first].offset),
                          POSIX_FADV_WILLNEED);
  }
  std::array<uint8_t, codec::kBlockHeaderSize> header;
  std::vector<uint8_t> scratch(max_tail);  // a segment table, not used here
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    const codec::BlockEntry& e = blocks[first + i];
    std::array<iovec, 3> iov = {iovec{header.data(), header.size()},
                                iovec{dests[i].data(), dests[i].size()},
                                iovec{scratch.data(), tails[i]}};
    const size_t want = header.size() + dests[i].size() + tails[i];
    ssize_t n;
    do {
      n = ::preadv(file->fd, iov.data(), tails[i] > 0 ? 3 : 2, static_cast<off_t>(e.offset));
    } while (n < 0 && errno == EINTR);
    // A regular file gives all of it or an error; anything short goes the
    // long way, which reports what is wrong.
    if (n != static_cast<ssize_t>(want)) return std::nullopt;
    total += want;
    Result<codec::BlockHeader> h = codec::ParseBlockHeader(ByteSpan(header.data(), header.size()));
    // Lengths alone told the form; the header has the last word (nothing
    // has been returned to the caller yet, so another path can still serve).
    if (h.ok() && h->codec != codecs[i]) return Status::Unimplemented("not stored raw");
    if (!h.ok() || !e.Describes(*h)) {
      LOG_ERROR("local read of {} block {}: header disagrees with the block table, using "
                "another path",
                ReplicaName(address, chunk), first + i);
      Drop(address, chunk);
      return std::nullopt;
    }
    // The raw checksum covers exactly the data, in either form: this is the
    // end-to-end check every read makes (the stored one, over the data and
    // the segment table, is the chunk servers' on write and scrub).
    if (checksum::Xxh3(dests[i].data(), dests[i].size()) != e.raw_xxh3) {
      Drop(address, chunk);
      return Status::ChecksumMismatch(ReplicaName(address, chunk) + " block " +
                                      std::to_string(first + i) + ": raw checksum mismatch");
    }
  }
  bytes_read_.fetch_add(total, std::memory_order_relaxed);
  return Status::Ok();
}

bool LocalChunks::KnownRemote(const std::string& address) const {
  std::shared_ptr<Server> server;
  {
    std::lock_guard lock(mu_);
    auto it = servers_.find(address);
    if (it == servers_.end()) return false;
    server = it->second;
  }
  // The server's lock is held across a socket round trip: when it is busy,
  // someone is talking to it, so it may well be local.
  std::unique_lock lock(server->mu, std::try_to_lock);
  return lock.owns_lock() && server->sock < 0 && Clock::now() < server->retry_after;
}

bool LocalChunks::SameFile(const File& file) {
  struct stat st {};
  return ::fstat(file.fd, &st) == 0 && st.st_dev == file.dev && st.st_ino == file.ino;
}

std::optional<Buffer> LocalChunks::ReadRange(const std::string& address,
                                             const proto::ChunkInfo& chunk, uint32_t block,
                                             uint32_t offset, uint32_t length, bool* segments) {
  std::shared_ptr<const File> file = Open(address, chunk);
  if (!file) return std::nullopt;
  const auto& blocks = file->footer.blocks;
  if (block >= blocks.size() || !SameFile(*file)) return std::nullopt;
  // The index is checked against the block table when it is first read.
  Result<std::shared_ptr<const codec::BlockIndex>> index =
      file->index.Get(file->fd, file->footer, block, "local " + ReplicaName(address, chunk));
  if (!index.ok()) {
    LOG_ERROR("local read of {} failed, using the network: {}", ReplicaName(address, chunk),
              index.status().ToString());
    Drop(address, chunk);
    return std::nullopt;
  }
  if (!(*index)->segmented()) {
    *segments = false;
    return ReadBlocks(address, chunk, block, 1);
  }
  Result<Buffer> r = codec::ReadSegmentRange(file->fd, blocks[block], **index, offset, length);
  if (!r.ok()) {
    if (r.status().code() != proto::INVALID_ARGUMENT) Drop(address, chunk);
    return std::nullopt;
  }
  *segments = true;
  bytes_read_.fetch_add(r->size(), std::memory_order_relaxed);
  return std::move(*r);
}

}  // namespace granary::client
