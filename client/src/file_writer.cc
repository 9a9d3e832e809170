// FileWriter: the write pipeline.
//
//   Write() fills a 1 MiB raw block -> the block is encoded on the encode pool
//   -> encoded blocks of a chunk are sent down its replica chain in order of
//   their stored offsets, up to `write_window` blocks unacknowledged -> when
//   a chunk is sealed (full, or at Fsync/Close) and every block is
//   acknowledged, it is committed on the chain and then in metad.
//
// Encoded blocks of a chunk are kept until the chunk is committed. Fsync of a
// partly filled chunk commits it as it is; later writes to that chunk then go
// to a new version (copy-on-write) that is sent again from these blocks.
//
// Threading: the caller's thread runs Write/Fsync/Close; encode and network
// completions run on pool and I/O threads. State is guarded by mu_; the
// caller never holds mu_ across a blocking RPC (completions need it).
#include "client/src/file_writer.h"
#include "client/src/codec_hints.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

#include "client/src/chunk_io.h"
#include "common/codec/block.h"

namespace granary::client {
namespace {

constexpr uint32_t kBlockSize = codec::kDefaultBlockSize;

struct Chunk {
  proto::ChunkInfo info;                  // index, id, version, replicas
  std::vector<net::SharedBuffer> blocks;  // encoded; null while encoding
  uint32_t sent = 0;                      // blocks handed to SendPiece, in order
  uint32_t acked = 0;
  uint64_t stored = 0;  // stored bytes assigned to sent blocks (next offset)
  uint64_t raw = 0;
  bool sealed = false;  // no more blocks will be added
  bool committing = false;
  bool fsync = false;
  // A chain that loses a member is replaced: the chunk is allocated again
  // (new version, new chain) and every block resent from memory. Sends of an
  // older generation are ignored when they complete.
  uint32_t generation = 0;
  bool recovering = false;
  int recoveries = 0;
};

// Chain replacements per chunk before the write fails.
constexpr int kMaxRecoveries = 3;

class WriterState : public std::enable_shared_from_this<WriterState> {
 public:
  WriterState(std::shared_ptr<ClientContext> ctx, std::string path, const proto::Inode& inode,
              uint64_t lease_id, bool fsync_on_close, net::TraceId trace)
      : ctx_(std::move(ctx)),
        path_(std::move(path)),
        inode_(inode.id()),
        chunk_size_(inode.chunk_size()),
        lease_id_(lease_id),
        fsync_on_close_(fsync_on_close),
        trace_(trace),
        hints_(inode.codec_hint()),
        block_(kBlockSize) {
    hints_.base().zstd_level = ctx_->options().zstd_level;
  }

  Status Write(ByteSpan data);
  Status Sync(bool release);
  uint64_t size() const { return size_; }
  bool closed() const { return closed_; }
  net::TraceId trace() const { return trace_; }

 private:
  Status SubmitBlock(std::unique_lock<std::mutex>& lock, bool keep_raw);
  Status StartChunk(std::unique_lock<std::mutex>& lock, uint64_t chunk_index);
  void PumpSends(const std::shared_ptr<Chunk>& chunk);
  void OnAcked(const std::shared_ptr<Chunk>& chunk, uint32_t generation, Status st);
  // Under mu_: replaces the chunk's chain after `st`, or fails the writer.
  // True when the chunk is being resent on a new chain (its blocks stay
  // counted in unacked_).
  bool Recover(const std::shared_ptr<Chunk>& chunk, const Status& st);
  static net::Awaitable<Status> Reallocate(std::shared_ptr<WriterState> self,
                                           std::shared_ptr<Chunk> chunk);
  void MaybeCommit(const std::shared_ptr<Chunk>& chunk);
  void Fail(Status st) {
    if (error_.ok()) error_ = st.WithContext(path_);
  }

  std::shared_ptr<ClientContext> ctx_;
  const std::string path_;
  const uint64_t inode_;
  const uint64_t chunk_size_;
  const uint64_t lease_id_;
  const bool fsync_on_close_;
  const net::TraceId trace_;  // carried by every request of this writer
  CodecHints hints_;  // caller's thread only

  std::mutex mu_;
  std::condition_variable cv_;
  Status error_;                   // first failure; sticky
  uint32_t unacked_ = 0;           // blocks submitted and not yet acknowledged
  uint32_t uncommitted_ = 0;       // chunks sealed and not yet committed
  std::shared_ptr<Chunk> current_;  // the chunk receiving blocks
  std::shared_ptr<Chunk> resume_;   // committed partial chunk that later writes extend
  uint32_t resume_blocks_ = 0;      // full blocks of resume_ to send again

  // Touched by the caller's thread only.
  Buffer block_;
  size_t block_fill_ = 0;
  uint64_t size_ = 0;         // bytes written
  uint64_t flushed_ = 0;      // bytes handed to blocks (full blocks only)
  uint64_t published_size_ = 0;  // size metad shows readers
  bool dirty_ = true;         // written since the last successful Sync
  bool closed_ = false;
};

Status WriterState::Write(ByteSpan data) {
  if (closed_) return Status::InvalidArgument(path_ + ": write after close");
  {
    std::lock_guard lock(mu_);
    if (!error_.ok()) return error_;
  }
  dirty_ = true;
  while (!data.empty()) {
    size_t n = std::min<size_t>(kBlockSize - block_fill_, data.size());
    hints_.Observe(size_, data.first(n));
    std::memcpy(block_.data() + block_fill_, data.data(), n);
    block_fill_ += n;
    size_ += n;
    data = data.subspan(n);
    if (block_fill_ == kBlockSize) {
      std::unique_lock lock(mu_);
      RETURN_IF_ERROR(SubmitBlock(lock, /*keep_raw=*/false));
    }
  }
  return Status::Ok();
}

// Hands the filled part of block_ to the pipeline. keep_raw: a partial block
// at Fsync; its bytes stay in block_ so later writes extend it.
Status WriterState::SubmitBlock(std::unique_lock<std::mutex>& lock, bool keep_raw) {
  const uint64_t chunk_index = flushed_ / chunk_size_;
  if (!current_ || current_->info.chunk_index() != chunk_index) {
    RETURN_IF_ERROR(StartChunk(lock, chunk_index));
  }
  cv_.wait(lock, [&] { return unacked_ < ctx_->options().write_window || !error_.ok(); });
  if (!error_.ok()) return error_;

  // The block starts at flushed_; its encoder options are decided here, on
  // the caller's thread, which owns hints_.
  auto ranges = std::make_shared<std::vector<codec::TypedRange>>();
  codec::EncodeOptions options =
      hints_.ForBlock(flushed_, static_cast<uint32_t>(block_fill_), ranges.get());
  Buffer raw;
  if (keep_raw) {
    raw = Buffer::CopyOf(ByteSpan(block_.data(), block_fill_));
  } else {
    raw = std::move(block_);
    raw.Truncate(block_fill_);
    block_ = Buffer(kBlockSize);
    flushed_ += block_fill_;
    block_fill_ = 0;
  }
  auto chunk = current_;
  const size_t idx = chunk->blocks.size();
  chunk->blocks.push_back(nullptr);
  chunk->raw += raw.size();
  if (chunk->raw >= chunk_size_) chunk->sealed = true;
  ++unacked_;
  asio::post(ctx_->encode_pool(), [self = shared_from_this(), chunk, idx, raw = std::move(raw),
                                   options, ranges]() mutable {
    Buffer out(codec::MaxEncodedSize(raw.size()));
    auto n = codec::EncodeBlock(raw.span(), options, out.span());
    std::lock_guard lock(self->mu_);
    if (!n.ok()) {
      --self->unacked_;
      self->Fail(n.status());
      self->cv_.notify_all();
      return;
    }
    out.Truncate(*n);
    chunk->blocks[idx] = std::make_shared<const Buffer>(std::move(out));
    self->PumpSends(chunk);
  });
  if (chunk->sealed) {
    MaybeCommit(chunk);
    current_.reset();
  }
  return Status::Ok();
}

// Allocates chunk `chunk_index` (a new version when it exists already). Blocks
// of a resumed partial chunk are queued again first.
Status WriterState::StartChunk(std::unique_lock<std::mutex>& lock, uint64_t chunk_index) {
  if (current_) {
    current_->sealed = true;
    MaybeCommit(current_);
    current_.reset();
  }
  proto::AllocateChunkRequest req;
  req.set_inode(inode_);
  req.set_lease_id(lease_id_);
  req.set_chunk_index(chunk_index);
  lock.unlock();  // completions need mu_ while the RPC runs
  auto r = ctx_->RunSync(ctx_->Meta<proto::AllocateChunkResponse>(proto::META_ALLOCATE_CHUNK, req,
                                                                  trace_));
  lock.lock();
  if (!r.ok()) {
    Fail(r.status().WithContext("allocating chunk " + std::to_string(chunk_index)));
    return error_;
  }
  auto chunk = std::make_shared<Chunk>();
  chunk->info = r->chunk();
  chunk->info.set_chunk_index(chunk_index);
  if (resume_ && resume_->info.chunk_index() == chunk_index) {
    for (uint32_t i = 0; i < resume_blocks_; ++i) {
      chunk->blocks.push_back(resume_->blocks[i]);
      chunk->raw += kBlockSize;
      ++unacked_;
    }
  }
  resume_.reset();
  current_ = chunk;
  PumpSends(chunk);
  return Status::Ok();
}

// Under mu_: sends every encoded block whose predecessors have been sent.
void WriterState::PumpSends(const std::shared_ptr<Chunk>& chunk) {
  if (chunk->recovering) return;
  while (chunk->sent < chunk->blocks.size() && chunk->blocks[chunk->sent]) {
    const uint32_t i = chunk->sent++;
    const uint64_t offset = chunk->stored;
    chunk->stored += chunk->blocks[i]->size();
    asio::co_spawn(ctx_->io(), SendPiece(*ctx_, chunk->info, i, 1, offset, chunk->blocks[i], trace_),
                   [self = shared_from_this(), chunk, gen = chunk->generation](
                       std::exception_ptr e, Status st) {
                     if (e) st = Status::Internal("send failed with an exception");
                     self->OnAcked(chunk, gen, std::move(st));
                   });
  }
}

void WriterState::OnAcked(const std::shared_ptr<Chunk>& chunk, uint32_t generation, Status st) {
  std::lock_guard lock(mu_);
  // A send of a replaced chain: its block is counted (and sent) again.
  if (generation != chunk->generation) return;
  if (!st.ok()) {
    // A block being resent stays counted; one given up on is done.
    if (!Recover(chunk, st)) --unacked_;
  } else {
    --unacked_;
    ++chunk->acked;
    MaybeCommit(chunk);
  }
  cv_.notify_all();
}

bool WriterState::Recover(const std::shared_ptr<Chunk>& chunk, const Status& st) {
  if (chunk->recovering) return true;
  if (!error_.ok() || chunk->recoveries >= kMaxRecoveries || st.code() == proto::LEASE_CONFLICT) {
    Fail(st);
    return false;
  }
  ++chunk->recoveries;
  ++chunk->generation;
  chunk->recovering = true;
  // Every block of the chunk goes out again: the acknowledged ones count as
  // unacknowledged once more.
  unacked_ += chunk->acked;
  chunk->acked = 0;
  chunk->sent = 0;
  chunk->stored = 0;
  ++uncommitted_;  // holds Sync until the new chain has the chunk
  asio::co_spawn(ctx_->io(), Reallocate(shared_from_this(), chunk),
                 [self = shared_from_this(), chunk, cause = st](std::exception_ptr e, Status r) {
                   if (e) r = Status::Internal("reallocation failed with an exception");
                   std::lock_guard lock(self->mu_);
                   --self->uncommitted_;
                   chunk->recovering = false;
                   if (!r.ok()) {
                     self->Fail(cause.WithContext("replacing its chain failed: " + r.ToString()));
                   }
                   // Also after a failure: every counted block is sent (to
                   // the old chain then) and uncounted as it completes, so
                   // Sync sees the writer settle and reports the error.
                   self->PumpSends(chunk);
                   self->MaybeCommit(chunk);
                   self->cv_.notify_all();
                 });
  return true;
}

// A new version of the chunk on a chain without the replicas that no longer
// answer (PING with a short deadline) or that say they are full: the chain's
// error does not say which member failed, and metad hears of a full server
// only at its next heartbeat.
net::Awaitable<Status> WriterState::Reallocate(std::shared_ptr<WriterState> self,
                                               std::shared_ptr<Chunk> chunk) {
  proto::AllocateChunkRequest req;
  req.set_inode(self->inode_);
  req.set_lease_id(self->lease_id_);
  req.set_chunk_index(chunk->info.chunk_index());
  for (const proto::NodeAddress& r : chunk->info.replicas()) {
    auto pong = co_await self->ctx_->chunk_servers().Call<proto::PingResponse>(
        r.address(), proto::PING, proto::PingRequest{}, net::Millis(1000), nullptr, nullptr,
        self->trace_);
    if (!pong.ok() || pong->full()) req.add_exclude_nodes(r.node_id());
  }
  auto r = co_await self->ctx_->Meta<proto::AllocateChunkResponse>(proto::META_ALLOCATE_CHUNK,
                                                                   req, self->trace_);
  if (!r.ok()) co_return r.status();
  std::lock_guard lock(self->mu_);
  const uint64_t index = chunk->info.chunk_index();
  chunk->info = r->chunk();
  chunk->info.set_chunk_index(index);
  co_return Status::Ok();
}

// Under mu_: commits a sealed chunk once every block is acknowledged.
void WriterState::MaybeCommit(const std::shared_ptr<Chunk>& chunk) {
  if (!chunk->sealed || chunk->committing || chunk->recovering || !error_.ok()) return;
  if (chunk->acked != chunk->blocks.size()) return;
  chunk->committing = true;
  ++uncommitted_;
  chunk->info.set_length(chunk->raw);
  chunk->info.set_stored_length(chunk->stored);
  chunk->info.set_block_count(static_cast<uint32_t>(chunk->blocks.size()));
  auto commit = [](std::shared_ptr<WriterState> self, std::shared_ptr<Chunk> c,
                   bool fsync) -> net::Awaitable<Status> {
    CO_RETURN_IF_ERROR(co_await CommitOnChain(*self->ctx_, c->info, fsync, self->trace_));
    proto::CommitChunkRequest req;
    req.set_inode(self->inode_);
    req.set_lease_id(self->lease_id_);
    *req.mutable_chunk() = c->info;
    auto r = co_await self->ctx_->Meta<proto::CommitChunkResponse>(proto::META_COMMIT_CHUNK, req,
                                                                   self->trace_);
    if (!r.ok()) co_return r.status().WithContext("recording chunk " + std::to_string(c->info.chunk_index()));
    co_return Status::Ok();
  };
  const bool fsync = chunk->fsync || fsync_on_close_;
  asio::co_spawn(ctx_->io(), commit(shared_from_this(), chunk, fsync),
                 [self = shared_from_this(), chunk](std::exception_ptr e, Status st) {
                   if (e) st = Status::Internal("commit failed with an exception");
                   std::lock_guard lock(self->mu_);
                   --self->uncommitted_;
                   if (!st.ok()) {
                     // A chain that failed at commit is replaced like one
                     // that failed mid-chunk; metad errors end the write.
                     chunk->committing = false;
                     if (st.code() == proto::UNAVAILABLE || st.code() == proto::TIMEOUT ||
                         st.code() == proto::IO_ERROR || st.code() == proto::NO_SPACE) {
                       (void)self->Recover(chunk, st);
                     } else {
                       self->Fail(st);
                     }
                   }
                   self->cv_.notify_all();
                 });
}

// Flushes everything written, commits it (durably when fsync) and publishes
// the size. release: also gives up the write lease (Close).
Status WriterState::Sync(bool release) {
  if (closed_) return Status::Ok();
  const bool fsync = !release || fsync_on_close_;
  std::unique_lock lock(mu_);
  if (dirty_ && error_.ok()) {
    if (block_fill_ > 0) {
      Status st = SubmitBlock(lock, /*keep_raw=*/!release);
      if (!st.ok()) Fail(st);
    }
    if (current_) {
      auto chunk = current_;
      chunk->sealed = true;
      chunk->fsync = fsync;
      MaybeCommit(chunk);
      current_.reset();
      if (!release && chunk->raw < chunk_size_) {
        // Later writes extend this chunk as a new version.
        resume_ = chunk;
        resume_blocks_ = static_cast<uint32_t>((flushed_ % chunk_size_) / kBlockSize);
      }
    }
  }
  cv_.wait(lock, [&] { return unacked_ == 0 && uncommitted_ == 0; });
  Status failure = error_;
  lock.unlock();

  proto::CloseRequest req;
  req.set_inode(inode_);
  req.set_lease_id(lease_id_);
  // After a failure nothing new becomes visible: the size stays at the last
  // published one, and the lease is released so the file is not stuck.
  req.set_size(failure.ok() ? size_ : published_size_);
  req.set_release(release);
  if (failure.ok() || release) {
    auto r = ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, req, trace_));
    if (!r.ok() && failure.ok()) {
      failure = r.status().WithContext("closing " + path_);
      if (release && r.status().code() == proto::QUOTA_EXCEEDED) {
        // The new size did not fit the folder's quota and nothing changed:
        // close at the last published size, so the lease is given back and
        // the chunks written past it are freed.
        req.set_size(published_size_);
        (void)ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, req, trace_));
      }
    }
  }
  if (failure.ok()) {
    published_size_ = size_;
    dirty_ = false;
  }
  if (release) closed_ = true;
  return failure;
}

class FileWriterImpl final : public FileWriter {
 public:
  explicit FileWriterImpl(std::shared_ptr<WriterState> s) : s_(std::move(s)) {}
  ~FileWriterImpl() override { (void)Close(); }
  Status Write(ByteSpan data) override { return s_->Write(data); }
  Status Fsync() override { return s_->Sync(/*release=*/false); }
  Status Close() override {
    if (s_->closed()) return close_status_;
    close_status_ = s_->Sync(/*release=*/true);
    return close_status_;
  }
  uint64_t size() const override { return s_->size(); }
  uint32_t trace_id() const override { return s_->trace(); }

 private:
  std::shared_ptr<WriterState> s_;
  Status close_status_;
};

}  // namespace

Result<std::unique_ptr<FileWriter>> MakeFileWriter(std::shared_ptr<ClientContext> ctx,
                                                   std::string path, const proto::Inode& inode,
                                                   uint64_t lease_id, bool fsync_on_close,
                                                   net::TraceId trace) {
  if (inode.chunk_size() == 0 || inode.chunk_size() % kBlockSize != 0) {
    return Status::Internal(path + ": metadata returned chunk size " +
                            std::to_string(inode.chunk_size()) + ", not a multiple of 1 MiB");
  }
  auto state = std::make_shared<WriterState>(std::move(ctx), std::move(path), inode, lease_id,
                                             fsync_on_close, trace);
  return std::unique_ptr<FileWriter>(new FileWriterImpl(std::move(state)));
}

}  // namespace granary::client
