// OpenFile: a random-access handle (reads, writes at any offset, truncate),
// the data path of the FUSE mount.
//
// Writes land in per-chunk dirty buffers (one vector per 1 MiB block, made
// lazily). A dirty chunk is written back as a whole new chunk version
// (copy-on-write): blocks the caller did not touch are read from the
// committed version first, then every block is encoded on the encode pool,
// sent down a freshly allocated replica chain, committed on the chain (with
// fsync) and recorded in metad. Until metad records it, readers elsewhere see
// the old version; the new one replaces it in one metadata transaction, so
// nobody sees a chunk half old and half new.
//
// A chunk that a sequential writer fills completely is written back in the
// background at once, so copying a large file streams; other dirty chunks are
// written at Flush, or when more than kMaxDirtyChunks are held.
//
// Small files (at most kMaxInlineBytes at Flush) never reach chunk servers:
// their whole contents go to metad with the Close call, in one round trip.
//
// Reads see this handle's own writes: dirty blocks first, then the committed
// chunks through a FileReader (rebuilt whenever the chunk map changes), and
// zeros for holes.
#include "client/src/open_file.h"

#include "client/src/codec_hints.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <deque>

#include "client/src/chunk_io.h"
#include "client/src/convert.h"
#include "client/src/file_reader.h"
#include "client/src/inode_ops.h"
#include "common/codec/block.h"

namespace granary::client {
namespace {

constexpr uint64_t kBlock = codec::kDefaultBlockSize;
constexpr uint64_t kMaxInlineBytes = 64 * 1024;
constexpr uint64_t kMaxFileSize = 1ull << 62;  // metad's limit
constexpr size_t kMaxDirtyChunks = 4;
// Chunks written back at once; a sequential writer beyond this waits.
constexpr int kMaxUploads = 2;

struct DirtyChunk {
  uint64_t index = 0;
  // Block b's bytes; `present[b]` once its old contents are merged in (or it
  // was written whole). A block's vector may be shorter than the block: the
  // rest reads as zeros.
  std::vector<std::vector<uint8_t>> blocks;
  std::vector<bool> present;
  bool uploading = false;
};

class OpenFileImpl final : public OpenFile {
 public:
  OpenFileImpl(std::shared_ptr<ClientContext> ctx, proto::OpenResponse open, bool write,
               Durability durability, net::TraceId trace)
      : ctx_(std::move(ctx)),
        trace_(trace),
        inode_(open.inode().id()),
        chunk_size_(open.inode().chunk_size()),
        write_(write),
        durability_(durability),
        lease_id_(open.lease_id()),
        lease_held_(write),
        hints_(open.inode().codec_hint()),
        committed_(std::move(open)) {
    size_ = committed_.inode().size();
    hints_.base().zstd_level = ctx_->options().zstd_level;
  }

  ~OpenFileImpl() override { (void)Close(); }

  Result<size_t> PRead(uint64_t offset, MutableByteSpan out) override;
  Status PWrite(uint64_t offset, ByteSpan data) override;
  Status Truncate(uint64_t size) override;
  Status Flush() override { return FlushImpl(durability_, /*release=*/false); }
  Status Fsync() override { return FlushImpl(Durability::kSynced, /*release=*/false); }
  Status FlushAndRelease() override { return FlushImpl(durability_, /*release=*/true); }
  Status Close() override;
  Status Refresh() override;
  uint64_t size() const override {
    std::lock_guard lock(mu_);
    return size_;
  }
  FileInfo info() const override {
    std::lock_guard lock(mu_);
    FileInfo f = ToFileInfo(committed_.inode());
    f.size = size_;
    return f;
  }
  LeaseRef lease() const override {
    std::lock_guard lock(mu_);
    return {inode_, write_ && lease_held_ ? lease_id_.load() : 0};
  }

 private:
  using Lock = std::unique_lock<std::mutex>;

  std::string Name() const { return "inode " + std::to_string(inode_); }
  uint64_t ChunkLen(uint64_t index) const {
    uint64_t start = index * chunk_size_;
    return size_ > start ? std::min(chunk_size_, size_ - start) : 0;
  }
  uint64_t BlocksPerChunk() const { return chunk_size_ / kBlock; }
  Result<std::shared_ptr<FileReader>> Reader(Lock& lock);
  Status ReadCommitted(Lock& lock, uint64_t offset, MutableByteSpan out);
  DirtyChunk& GetDirty(Lock& lock, uint64_t index);
  Status Materialize(Lock& lock, DirtyChunk& c, uint32_t b);
  void StartUpload(Lock& lock, uint64_t index);
  Status WaitUploads(Lock& lock);
  Status UploadChunk(uint64_t index, std::span<const std::vector<uint8_t>> blocks,
                     std::span<const codec::EncodeOptions> options,
                     uint64_t length, proto::ChunkInfo* committed);
  Status FlushImpl(Durability d, bool release);

  std::shared_ptr<ClientContext> ctx_;
  // One trace for everything done through this handle, open to close.
  const net::TraceId trace_;
  const uint64_t inode_;
  const uint64_t chunk_size_;
  const bool write_;
  const Durability durability_;
  // The write lease; re-taken by a write after FlushAndRelease. Uploads read
  // it without mu_ (none runs while it changes).
  std::atomic<uint64_t> lease_id_;
  bool lease_held_ = false;  // under mu_
  Status Reacquire(Lock& lock);
  CodecHints hints_;  // under mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  proto::OpenResponse committed_;  // inode, chunk map and inline data metad has
  std::shared_ptr<FileReader> reader_;  // over committed_; null when stale
  std::map<uint64_t, std::shared_ptr<DirtyChunk>> dirty_;
  uint64_t size_ = 0;
  bool size_dirty_ = false;  // size_ or data differ from what metad shows
  int uploads_ = 0;          // background uploads running
  Status error_;             // first background failure; reported by Flush
  bool closed_ = false;
};

Result<std::shared_ptr<FileReader>> OpenFileImpl::Reader(Lock& lock) {
  if (!reader_) {
    ASSIGN_OR_RETURN(auto r, MakeFileReader(ctx_, Name(), committed_, {}, trace_));
    reader_ = std::shared_ptr<FileReader>(std::move(r));
  }
  return reader_;
}

// Committed bytes at [offset, offset + out.size()), zeros past the committed
// size (a hole the caller extended over).
Status OpenFileImpl::ReadCommitted(Lock& lock, uint64_t offset, MutableByteSpan out) {
  ASSIGN_OR_RETURN(auto reader, Reader(lock));
  size_t got = 0;
  if (offset < reader->size()) {
    ASSIGN_OR_RETURN(got, reader->PRead(offset, out));
  }
  if (got < out.size()) std::memset(out.data() + got, 0, out.size() - got);
  return Status::Ok();
}

Result<size_t> OpenFileImpl::PRead(uint64_t offset, MutableByteSpan out) {
  Lock lock(mu_);
  if (offset >= size_ || out.empty()) return size_t{0};
  const size_t len = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
  if (dirty_.empty()) {
    // The common case (a reader): no lock while the data arrives.
    ASSIGN_OR_RETURN(auto reader, Reader(lock));
    lock.unlock();
    ASSIGN_OR_RETURN(size_t got, reader->PRead(offset, out.first(len)));
    if (got < len) std::memset(out.data() + got, 0, len - got);
    return len;
  }
  uint64_t pos = offset;
  const uint64_t end = offset + len;
  while (pos < end) {
    const uint64_t ci = pos / chunk_size_;
    const uint64_t b = (pos % chunk_size_) / kBlock;
    const uint64_t bstart = ci * chunk_size_ + b * kBlock;
    const uint64_t n = std::min(end, bstart + kBlock) - pos;
    uint8_t* dst = out.data() + (pos - offset);
    auto it = dirty_.find(ci);
    if (it != dirty_.end() && it->second->present[b]) {
      const auto& v = it->second->blocks[b];
      const uint64_t in = pos - bstart;
      const uint64_t have = v.size() > in ? std::min<uint64_t>(n, v.size() - in) : 0;
      if (have) std::memcpy(dst, v.data() + in, have);
      if (have < n) std::memset(dst + have, 0, n - have);
    } else {
      RETURN_IF_ERROR(ReadCommitted(lock, pos, MutableByteSpan(dst, n)));
    }
    pos += n;
  }
  return len;
}

DirtyChunk& OpenFileImpl::GetDirty(Lock& lock, uint64_t index) {
  auto& slot = dirty_[index];
  if (!slot) {
    slot = std::make_shared<DirtyChunk>();
    slot->index = index;
    slot->blocks.resize(BlocksPerChunk());
    slot->present.assign(BlocksPerChunk(), false);
  }
  return *slot;
}

// Merges the committed contents of block b into a dirty chunk, under the
// bytes written so far (writes win).
Status OpenFileImpl::Materialize(Lock& lock, DirtyChunk& c, uint32_t b) {
  if (c.present[b]) return Status::Ok();
  const uint64_t bstart = c.index * chunk_size_ + uint64_t(b) * kBlock;
  const uint64_t committed = committed_.inode().size();
  auto& v = c.blocks[b];
  if (bstart < committed) {
    const uint64_t n = std::min(kBlock, committed - bstart);
    std::vector<uint8_t> old(n);
    RETURN_IF_ERROR(ReadCommitted(lock, bstart, MutableByteSpan(old.data(), n)));
    // Bytes already written into v (a partial write before materializing) win.
    if (v.size() < n) {
      size_t had = v.size();
      v.resize(n);
      std::memcpy(v.data() + had, old.data() + had, n - had);
    }
  }
  c.present[b] = true;
  return Status::Ok();
}

Status OpenFileImpl::PWrite(uint64_t offset, ByteSpan data) {
  if (!write_) return Status::PermissionDenied(Name() + " is not open for writing");
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) {
    return Status::FromCode(proto::FILE_TOO_LARGE,
                            Name() + ": a write past the largest file size (2^62 bytes)");
  }
  Lock lock(mu_);
  if (closed_) return Status::InvalidArgument(Name() + ": write after close");
  if (!error_.ok()) return error_;
  if (!lease_held_) RETURN_IF_ERROR(Reacquire(lock));
  uint64_t pos = offset;
  size_t done = 0;
  while (done < data.size()) {
    const uint64_t ci = pos / chunk_size_;
    const uint32_t b = static_cast<uint32_t>((pos % chunk_size_) / kBlock);
    const uint64_t bstart = ci * chunk_size_ + uint64_t(b) * kBlock;
    const uint64_t in = pos - bstart;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock - in, data.size() - done));
    // A chunk being written back is immutable: wait for it, then start over
    // from its committed version.
    while (true) {
      auto it = dirty_.find(ci);
      if (it == dirty_.end() || !it->second->uploading) break;
      cv_.wait(lock);
    }
    DirtyChunk& c = GetDirty(lock, ci);
    auto& v = c.blocks[b];
    // Old contents are needed only where this write leaves gaps of old data.
    const bool covers_old = in == 0 && (bstart + n >= committed_.inode().size() || n == kBlock);
    if (!c.present[b] && !covers_old) RETURN_IF_ERROR(Materialize(lock, c, b));
    c.present[b] = true;
    if (v.size() < in + n) v.resize(in + n);
    std::memcpy(v.data() + in, data.data() + done, n);
    pos += n;
    done += n;
    if (pos > size_) size_ = pos;
    size_dirty_ = true;
    // A chunk filled to its end by this write streams out now.
    if (pos % chunk_size_ == 0 && std::all_of(c.present.begin(), c.present.end(), [](bool p) { return p; })) {
      StartUpload(lock, ci);
    }
  }
  // Backpressure: a writer faster than the chain waits for uploads to drain.
  cv_.wait(lock, [&] { return uploads_ <= kMaxUploads; });
  // Bound memory: write back the oldest idle dirty chunks.
  size_t idle = 0;
  for (auto& [i, c] : dirty_) idle += c->uploading ? 0 : 1;
  for (auto it = dirty_.begin(); idle > kMaxDirtyChunks && it != dirty_.end(); ++it) {
    if (!it->second->uploading) {
      StartUpload(lock, it->first);
      --idle;
    }
  }
  return Status::Ok();
}

// Under mu_: writes dirty chunk `index` back on a new thread. The chunk stays
// readable (and immutable) until metad has recorded the new version.
void OpenFileImpl::StartUpload(Lock& lock, uint64_t index) {
  auto c = dirty_.at(index);
  c->uploading = true;
  ++uploads_;
  std::thread([this, c] {
    Lock l(mu_);
    Status st;
    const uint64_t length = ChunkLen(c->index);
    const uint32_t nblocks = static_cast<uint32_t>((length + kBlock - 1) / kBlock);
    for (uint32_t b = 0; b < nblocks && st.ok(); ++b) st = Materialize(l, *c, b);
    if (st.ok()) {
      // Exact block lengths (a short block reads as zeros up to its end).
      // While `uploading` is set nobody else touches c->blocks, so the
      // upload reads them without the lock and without a copy.
      for (uint32_t b = 0; b < nblocks; ++b) {
        c->blocks[b].resize(std::min(kBlock, length - uint64_t(b) * kBlock));
      }
    }
    // What the encoder knows of each block (the dtypes of a safetensors
    // file, whose header is in its first chunk), decided under mu_.
    std::vector<std::vector<codec::TypedRange>> ranges(nblocks);
    std::vector<codec::EncodeOptions> options(nblocks);
    if (st.ok()) {
      for (uint32_t b = 0; b < nblocks; ++b) {
        const uint64_t off = c->index * chunk_size_ + uint64_t(b) * kBlock;
        if (c->index == 0) hints_.Observe(off, ByteSpan(c->blocks[b].data(), c->blocks[b].size()));
        options[b] = hints_.ForBlock(off, static_cast<uint32_t>(c->blocks[b].size()), &ranges[b]);
      }
    }
    proto::ChunkInfo info;
    if (st.ok()) {
      l.unlock();
      st = length == 0 ? Status::Ok()
                       : UploadChunk(c->index, std::span(c->blocks.data(), nblocks), options, length,
                                     &info);
      l.lock();
    }
    if (st.ok()) {
      if (length > 0) {
        // Replace the chunk's entry in the committed map.
        auto* chunks = committed_.mutable_chunks();
        auto it = std::find_if(chunks->begin(), chunks->end(),
                               [&](const proto::ChunkInfo& x) { return x.chunk_index() == c->index; });
        if (it != chunks->end()) *it = info; else *chunks->Add() = info;
        std::sort(chunks->begin(), chunks->end(), [](const auto& a, const auto& b) {
          return a.chunk_index() < b.chunk_index();
        });
        committed_.set_has_inline_data(false);
        committed_.clear_inline_data();
        // Readers of the committed map may now read up to this chunk's end.
        uint64_t end = c->index * chunk_size_ + length;
        if (end > committed_.inode().size()) committed_.mutable_inode()->set_size(end);
        reader_.reset();
      }
      auto it = dirty_.find(c->index);
      if (it != dirty_.end() && it->second == c) dirty_.erase(it);
    } else {
      if (error_.ok()) error_ = st.WithContext(Name());
      c->uploading = false;  // keep the data; Flush reports the failure
    }
    --uploads_;
    cv_.notify_all();
  }).detach();
}

Status OpenFileImpl::WaitUploads(Lock& lock) {
  cv_.wait(lock, [&] { return uploads_ == 0; });
  return error_;
}

// Encodes `blocks`, allocates a new version of chunk `index`, sends it down
// the chain (fsync on commit) and records it in metad. Runs without mu_.
Status OpenFileImpl::UploadChunk(uint64_t index, std::span<const std::vector<uint8_t>> blocks,
                                 std::span<const codec::EncodeOptions> options,
                                 uint64_t length, proto::ChunkInfo* committed) {
  // Encode every block in parallel on the encode pool.
  std::vector<std::future<Result<Buffer>>> encoded;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const std::vector<uint8_t>& raw = blocks[b];
    const codec::EncodeOptions& o = options[b];
    auto task = std::make_shared<std::packaged_task<Result<Buffer>()>>([&raw, &o]() -> Result<Buffer> {
      Buffer out(codec::MaxEncodedSize(raw.size()));
      ASSIGN_OR_RETURN(size_t n, codec::EncodeBlock(ByteSpan(raw.data(), raw.size()), o, out.span()));
      out.Truncate(n);
      return out;
    });
    encoded.push_back(task->get_future());
    asio::post(ctx_->encode_pool(), [task] { (*task)(); });
  }
  std::vector<net::SharedBuffer> pieces;
  Status enc_status;
  for (auto& f : encoded) {
    auto r = f.get();
    if (!r.ok()) {
      if (enc_status.ok()) enc_status = r.status();
      continue;
    }
    pieces.push_back(std::make_shared<const Buffer>(std::move(*r)));
  }
  RETURN_IF_ERROR(enc_status);

  // One retry on a fresh chain, avoiding nothing in particular: a failed
  // replica is usually down and metad no longer places on it.
  Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    proto::AllocateChunkRequest areq;
    areq.set_inode(inode_);
    areq.set_lease_id(lease_id_);
    areq.set_chunk_index(index);
    auto alloc = ctx_->RunSync(
        ctx_->Meta<proto::AllocateChunkResponse>(proto::META_ALLOCATE_CHUNK, areq, trace_));
    if (!alloc.ok()) return alloc.status().WithContext("allocating chunk " + std::to_string(index));
    proto::ChunkInfo info = alloc->chunk();
    info.set_chunk_index(index);
    // Sends, up to write_window pieces in flight.
    std::deque<std::future<Status>> inflight;
    uint64_t offset = 0;
    last = Status::Ok();
    const size_t window = std::max<uint32_t>(1, ctx_->options().write_window);
    for (uint32_t i = 0; i < pieces.size(); ++i) {
      if (inflight.size() >= window) {
        Status s = inflight.front().get();
        inflight.pop_front();
        if (!s.ok() && last.ok()) last = s;
      }
      if (!last.ok()) break;
      inflight.push_back(asio::co_spawn(ctx_->io(), SendPiece(*ctx_, info, i, 1, offset, pieces[i], trace_),
                                        asio::use_future));
      offset += pieces[i]->size();
    }
    for (auto& f : inflight) {
      Status s = f.get();
      if (!s.ok() && last.ok()) last = s;
    }
    if (!last.ok()) continue;
    info.set_length(length);
    info.set_stored_length(offset);
    info.set_block_count(static_cast<uint32_t>(pieces.size()));
    last = ctx_->RunSync(CommitOnChain(*ctx_, info, /*fsync=*/true, trace_));
    if (!last.ok()) continue;
    proto::CommitChunkRequest creq;
    creq.set_inode(inode_);
    creq.set_lease_id(lease_id_);
    *creq.mutable_chunk() = info;
    auto r = ctx_->RunSync(ctx_->Meta<proto::CommitChunkResponse>(proto::META_COMMIT_CHUNK, creq, trace_));
    if (!r.ok()) return r.status().WithContext("recording chunk " + std::to_string(index));
    *committed = info;
    return Status::Ok();
  }
  return last.WithContext("writing chunk " + std::to_string(index));
}

// Takes the write lease again after FlushAndRelease (under mu_; nothing is
// dirty and no upload runs then). Another writer may have changed the file
// meanwhile: the chunk map and size are reloaded with the lease.
Status OpenFileImpl::Reacquire(Lock& lock) {
  proto::OpenRequest req;
  req.set_inode(inode_);
  req.set_write(true);
  req.set_client_id(ctx_->options().client_id);
  lock.unlock();
  auto r = ctx_->RunSync(ctx_->Meta<proto::OpenResponse>(proto::META_OPEN, req, trace_));
  lock.lock();
  if (!r.ok()) return r.status().WithContext("reopening " + Name() + " for writing");
  if (lease_held_) {
    // Another thread re-took it meanwhile: give this one back.
    proto::CloseRequest c;
    c.set_inode(inode_);
    c.set_lease_id(r->lease_id());
    c.set_release(true);
    c.set_release_only(true);
    lock.unlock();
    (void)ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, c, trace_));
    lock.lock();
    return Status::Ok();
  }
  lease_id_ = r->lease_id();
  lease_held_ = true;
  if (dirty_.empty() && !size_dirty_) {
    committed_ = std::move(*r);
    size_ = committed_.inode().size();
    reader_.reset();
  }
  return Status::Ok();
}

Status OpenFileImpl::Truncate(uint64_t size) {
  if (!write_) return Status::PermissionDenied(Name() + " is not open for writing");
  if (size > kMaxFileSize) {
    return Status::FromCode(proto::FILE_TOO_LARGE, Name() + ": size past the largest file size");
  }
  Lock lock(mu_);
  RETURN_IF_ERROR(WaitUploads(lock));
  if (!lease_held_) RETURN_IF_ERROR(Reacquire(lock));
  if (size >= size_) {
    // Growing: the new range reads as zeros (a hole), nothing to write.
    if (size > size_) size_dirty_ = true;
    size_ = size;
    return Status::Ok();
  }
  // Shrinking: dirty data past the end goes; a committed chunk cut in the
  // middle is rewritten at its new length on Flush; metad drops whole chunks
  // past the end now, so that bytes there read as zeros if the file grows.
  const uint64_t keep = (size + chunk_size_ - 1) / chunk_size_;
  for (auto it = dirty_.lower_bound(keep); it != dirty_.end();) it = dirty_.erase(it);
  if (size % chunk_size_ != 0) {
    const uint64_t ci = size / chunk_size_;
    DirtyChunk& c = GetDirty(lock, ci);
    const uint64_t in_chunk = size - ci * chunk_size_;
    const uint32_t last_block = static_cast<uint32_t>(in_chunk / kBlock);
    for (uint32_t b = 0; b <= last_block && b < c.blocks.size(); ++b) {
      RETURN_IF_ERROR(Materialize(lock, c, b));
    }
    for (uint32_t b = 0; b < c.blocks.size(); ++b) {
      const uint64_t bstart = uint64_t(b) * kBlock;
      if (bstart >= in_chunk) {
        c.blocks[b].clear();
        c.present[b] = true;  // past the end: zeros
      } else if (c.blocks[b].size() > in_chunk - bstart) {
        c.blocks[b].resize(in_chunk - bstart);
      }
    }
  }
  size_ = size;
  size_dirty_ = true;
  if (size < committed_.inode().size()) {
    proto::SetAttrRequest req;
    req.set_inode(inode_);
    req.set_size(size);
    req.set_lazy_sync(durability_ == Durability::kLazy);
    lock.unlock();
    auto r = ctx_->RunSync(ctx_->Meta<proto::SetAttrResponse>(proto::META_SETATTR, req, trace_));
    lock.lock();
    if (!r.ok()) return r.status().WithContext("truncating " + Name());
    // Mirror metad's cut in the committed map (whole chunks past the end).
    auto* chunks = committed_.mutable_chunks();
    for (int i = chunks->size() - 1; i >= 0; --i) {
      if ((*chunks)[i].chunk_index() >= keep) chunks->DeleteSubrange(i, 1);
    }
    if (committed_.has_inline_data()) committed_.mutable_inline_data()->resize(size);
    committed_.mutable_inode()->set_size(size);
    reader_.reset();
  }
  return Status::Ok();
}

Status OpenFileImpl::FlushImpl(Durability d, bool release) {
  Lock lock(mu_);
  if (closed_) return Status::Ok();
  if (!write_) return Status::Ok();
  if (!lease_held_) {
    // Released at an earlier flush and not written since: nothing to do but
    // make metad durable for fsync.
    if (d != Durability::kSynced) return Status::Ok();
    lock.unlock();
    auto r = ctx_->RunSync(ctx_->Meta<proto::SyncResponse>(proto::META_SYNC, proto::SyncRequest{}, trace_));
    return r.ok() ? Status::Ok() : r.status().WithContext("syncing metadata");
  }
  Status st = WaitUploads(lock);
  if (st.ok() && (size_dirty_ || !dirty_.empty())) {
    proto::CloseRequest req;
    req.set_inode(inode_);
    req.set_lease_id(lease_id_);
    req.set_size(size_);
    req.set_release(release);
    req.set_lazy_sync(d == Durability::kLazy);
    if (size_ <= kMaxInlineBytes) {
      // Small file: its whole contents go to metad with the size.
      std::string bytes(size_, '\0');
      lock.unlock();  // PRead takes mu_
      auto got = PRead(0, MutableByteSpan(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
      lock.lock();
      if (!got.ok()) return got.status();
      req.set_inline_data(bytes);
      lock.unlock();
      auto r = ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, req, trace_));
      lock.lock();
      if (!r.ok()) return r.status().WithContext("closing " + Name());
      committed_.clear_chunks();
      committed_.set_inline_data(std::move(bytes));
      committed_.set_has_inline_data(true);
      *committed_.mutable_inode() = r->inode();
      dirty_.clear();
    } else {
      for (auto& [i, c] : dirty_) {
        if (!c->uploading) StartUpload(lock, i);
      }
      RETURN_IF_ERROR(WaitUploads(lock));
      lock.unlock();
      auto r = ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, req, trace_));
      lock.lock();
      if (!r.ok()) return r.status().WithContext("closing " + Name());
      committed_.clear_inline_data();
      committed_.set_has_inline_data(false);
      *committed_.mutable_inode() = r->inode();
    }
    reader_.reset();
    size_dirty_ = false;
    if (release) lease_held_ = false;
    return Status::Ok();
  }
  if (!st.ok()) return st;
  if (release) {
    // Nothing new to publish: give the lease back, touching nothing else.
    proto::CloseRequest req;
    req.set_inode(inode_);
    req.set_lease_id(lease_id_);
    req.set_size(size_);
    req.set_release(true);
    req.set_release_only(true);
    req.set_lazy_sync(true);
    lock.unlock();
    auto r = ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, req, trace_));
    lock.lock();
    if (!r.ok()) return r.status().WithContext("closing " + Name());
    lease_held_ = false;
  } else if (d == Durability::kSynced) {
    lock.unlock();
    auto r = ctx_->RunSync(ctx_->Meta<proto::SyncResponse>(proto::META_SYNC, proto::SyncRequest{}, trace_));
    if (!r.ok()) return r.status().WithContext("syncing metadata");
  }
  return Status::Ok();
}

Status OpenFileImpl::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Ok();
  }
  Status st = FlushImpl(durability_, /*release=*/true);
  Lock lock(mu_);
  if (!st.ok() && write_ && lease_held_) {
    // Give the lease back anyway so the file is not stuck; what was not
    // flushed is lost and the caller hears about it.
    cv_.wait(lock, [&] { return uploads_ == 0; });
    proto::CloseRequest req;
    req.set_inode(inode_);
    req.set_lease_id(lease_id_);
    req.set_size(committed_.inode().size());
    req.set_release(true);
    req.set_release_only(true);
    lock.unlock();
    (void)ctx_->RunSync(ctx_->Meta<proto::CloseResponse>(proto::META_CLOSE, req, trace_));
    lock.lock();
    lease_held_ = false;
  }
  closed_ = true;
  dirty_.clear();
  return st;
}

Status OpenFileImpl::Refresh() {
  Lock lock(mu_);
  if (!dirty_.empty() || size_dirty_ || uploads_ > 0) return Status::Ok();  // our view is newer
  proto::OpenRequest req;
  req.set_inode(inode_);
  lock.unlock();
  auto r = ctx_->RunSync(ctx_->Meta<proto::OpenResponse>(proto::META_OPEN, req, trace_));
  lock.lock();
  if (!r.ok()) return r.status().WithContext("refreshing " + Name());
  if (!dirty_.empty() || size_dirty_ || uploads_ > 0) return Status::Ok();
  r->set_lease_id(committed_.lease_id());
  committed_ = std::move(*r);
  size_ = committed_.inode().size();
  reader_.reset();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<OpenFile>> MakeOpenFile(std::shared_ptr<ClientContext> ctx,
                                               proto::OpenResponse open,
                                               const OpenFileOptions& options,
                                               net::TraceId trace) {
  if (trace == 0) trace = net::NewTraceId();
  const uint64_t cs = open.inode().chunk_size();
  if (cs == 0 || cs % kBlock != 0) {
    return Status::Internal("inode " + std::to_string(open.inode().id()) +
                            ": metadata returned chunk size " + std::to_string(cs));
  }
  auto f = std::make_unique<OpenFileImpl>(std::move(ctx), std::move(open), options.write,
                                          options.durability, trace);
  if (options.write && options.truncate) RETURN_IF_ERROR(f->Truncate(0));
  return std::unique_ptr<OpenFile>(std::move(f));
}

Result<std::unique_ptr<OpenFile>> OpenFileAt(std::shared_ptr<ClientContext> ctx, uint64_t inode,
                                             const OpenFileOptions& options) {
  proto::OpenRequest req;
  req.set_inode(inode);
  req.set_write(options.write);
  req.set_client_id(ctx->options().client_id);
  const net::TraceId trace = net::NewTraceId();
  auto r = ctx->RunSync(ctx->Meta<proto::OpenResponse>(proto::META_OPEN, req, trace));
  if (!r.ok()) return r.status().WithContext("open inode " + std::to_string(inode));
  return MakeOpenFile(std::move(ctx), std::move(*r), options, trace);
}

Result<std::unique_ptr<OpenFile>> CreateOpenFile(std::shared_ptr<ClientContext> ctx,
                                                 uint64_t parent, std::string_view name,
                                                 uint32_t mode, Credentials cred, bool exclusive,
                                                 bool truncate, Durability d) {
  proto::CreateRequest req = MakeCreateRequest(*ctx, parent, name, mode, cred, exclusive, d);
  req.set_truncate(truncate);
  req.set_open_for_write(true);
  const net::TraceId trace = net::NewTraceId();
  auto r = ctx->RunSync(ctx->Meta<proto::CreateResponse>(proto::META_CREATE, req, trace));
  if (!r.ok()) {
    return r.status().WithContext("create '" + std::string(name) + "' in folder " +
                                  std::to_string(parent));
  }
  if (r->inode().type() != proto::INODE_FILE) {
    return Status::IsDirectory("'" + std::string(name) + "' is not a file");
  }
  proto::OpenResponse open;
  if (r->inode().size() > 0) {
    // An existing file with data: its chunk map (or inline data) comes from
    // a read-only open; the lease from the create stands.
    proto::OpenRequest oreq;
    oreq.set_inode(r->inode().id());
    auto o = ctx->RunSync(ctx->Meta<proto::OpenResponse>(proto::META_OPEN, oreq, trace));
    if (!o.ok()) return o.status().WithContext("open inode " + std::to_string(r->inode().id()));
    open = std::move(*o);
  } else {
    *open.mutable_inode() = r->inode();
  }
  open.set_lease_id(r->lease_id());
  open.set_lease_ms(r->lease_ms());
  return MakeOpenFile(std::move(ctx), std::move(open),
                      {.write = true, .truncate = false, .durability = d}, trace);
}

}  // namespace granary::client
