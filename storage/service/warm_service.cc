// CHUNK_WARM: reads replicas whole, in order, so that the page cache holds
// them before a fleet of readers arrives (granary warm). The bytes are read
// and dropped; nothing is decoded or sent. Two threads of the service's own
// do it, leaving the disk threads to the reads and writes being served. A replica this server no longer
// has is counted, not an error: the layout the client asked with may be
// older than a repair or a deletion.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/buffer_pool.h"
#include "common/log.h"
#include "common/net/run_blocking.h"
#include "storage/service/chunk_service.h"

namespace granary::storage::service {
namespace {

constexpr int kMaxWarmChunks = 64;
constexpr size_t kReadBytes = 4u << 20;

// Reads `path` to its end; returns the bytes read, or nullopt when the file
// is gone (deleted since the index lookup).
Result<std::optional<uint64_t>> ReadWhole(const std::string& path, Buffer& scratch) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return Status::IoError("open " + path + ": " + std::strerror(errno));
  }
  // Tell the kernel the whole file is wanted: it reads ahead in large steps.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, scratch.data(), scratch.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Status::IoError("read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return std::optional<uint64_t>(total);
}

}  // namespace

net::Awaitable<Status> ChunkService::Warm(net::CallContext& ctx, const proto::ChunkWarmRequest& req,
                                          proto::ChunkWarmResponse* resp) {
  if (!ctx.payload.empty()) co_return Status::InvalidArgument("a warm request carries no payload");
  if (req.chunks_size() > kMaxWarmChunks) {
    co_return Status::InvalidArgument("warm: " + std::to_string(req.chunks_size()) +
                                      " chunks in one request, at most " +
                                      std::to_string(kMaxWarmChunks));
  }
  Status st = co_await net::RunBlocking(warm_pool_.get_executor(), [&]() -> Status {
    Buffer scratch = PooledBuffer(kReadBytes);
    for (const proto::ChunkRef& ref : req.chunks()) {
      const store::ChunkKey key{ref.chunk_id(), ref.version()};
      Result<store::ChunkMeta> meta = store_.Stat(key);
      if (!meta.ok() && meta.status().code() == proto::CHUNK_NOT_FOUND) {
        resp->set_missing(resp->missing() + 1);
        continue;
      }
      if (!meta.ok()) return meta.status();
      ASSIGN_OR_RETURN(std::optional<uint64_t> n, ReadWhole(meta->path, scratch));
      if (!n) {
        resp->set_missing(resp->missing() + 1);
        continue;
      }
      resp->set_warmed(resp->warmed() + 1);
      resp->set_bytes(resp->bytes() + *n);
      warm_bytes_.fetch_add(*n, std::memory_order_relaxed);
    }
    return Status::Ok();
  });
  if (!st.ok()) LOG_WARN("warm: {}", st.ToString());
  co_return st;
}

}  // namespace granary::storage::service
