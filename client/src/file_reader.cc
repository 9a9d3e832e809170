// FileReader: parallel ranged reads with read-ahead.
//
// A PRead is cut into requests of up to kBlocksPerRequest blocks within one
// chunk; requests go to the chunk's replicas round-robin and run in parallel.
// Blocks wholly inside the caller's buffer are decoded straight into it;
// partly covered blocks and read-ahead go through a small block cache. A
// reader that continues where its last PRead ended is sequential: blocks up to
// readahead_bytes ahead are fetched in the background.
#include "client/src/file_reader.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <map>
#include <chrono>
#include <mutex>

#include "client/src/chunk_io.h"
#include "client/src/convert.h"
#include "common/checksum/xxh3.h"
#include "common/codec/block.h"

namespace granary::client {

namespace {
std::atomic<uint64_t> g_decode_ns{0};

// DecodeBlock, with the time it takes added to DecodeNanos().
Status TimedDecode(const codec::BlockHeader& h, ByteSpan stored, MutableByteSpan out) {
  const auto t0 = std::chrono::steady_clock::now();
  Status st = codec::DecodeBlock(h, stored, out);
  g_decode_ns += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - t0)
                                           .count());
  return st;
}
}  // namespace

uint64_t DecodeNanos() { return g_decode_ns.load(std::memory_order_relaxed); }

namespace {

constexpr uint64_t kBlockSize = codec::kDefaultBlockSize;
constexpr uint32_t kBlocksPerRequest = 4;
// Reads up to this size that do not continue the previous one fetch only the
// 64 KiB segments they touch.
constexpr uint64_t kMaxRangeRead = 256u << 10;
// Cache entries kept beyond the read-ahead window (partial blocks of random reads).
constexpr size_t kExtraCachedBlocks = 16;

// Bytes of block `block` of `chunk` that belong to the chunk: its length may
// end inside the block, or before it.
uint64_t BlockBytesInChunk(const proto::ChunkInfo& chunk, uint32_t block) {
  const uint64_t start = uint64_t(block) * kBlockSize;
  return chunk.length() > start ? std::min<uint64_t>(kBlockSize, chunk.length() - start) : 0;
}

struct CachedBlock {
  CachedBlock() : ready(promise.get_future().share()) {}
  std::promise<Status> promise;
  std::shared_future<Status> ready;
  // Decoded bytes, valid once `ready` holds OK. A raw block is a view into
  // the read reply it arrived in (owner), so it is never copied twice.
  std::shared_ptr<const Buffer> owner;
  ByteSpan data;
};

// Where one fetched block goes: straight into the caller's buffer, or a cache slot.
struct Dest {
  uint8_t* direct = nullptr;
  std::shared_ptr<CachedBlock> cached;
};

class ReaderState : public std::enable_shared_from_this<ReaderState> {
 public:
  ReaderState(std::shared_ptr<ClientContext> ctx, std::string path, proto::OpenResponse open,
              net::TraceId trace)
      : ctx_(std::move(ctx)),
        path_(std::move(path)),
        trace_(trace),
        info_(ToFileInfo(open.inode())) {
    size_ = open.inode().size();
    chunk_size_ = open.inode().chunk_size();
    for (auto& c : *open.mutable_chunks()) {
      uint64_t i = c.chunk_index();
      if (i >= chunks_.size()) chunks_.resize(i + 1);
      chunks_[i] = std::move(c);
    }
    readahead_blocks_ = ctx_->options().readahead_bytes / kBlockSize;
  }

  Result<size_t> PRead(uint64_t offset, MutableByteSpan out);
  uint64_t size() const { return size_; }
  const FileInfo& info() const { return info_; }
  net::TraceId trace() const { return trace_; }
  void DisableReadahead() { readahead_blocks_ = 0; }

 private:
  // The chunk holding global block g, or null for a hole; *bic = block in chunk.
  const proto::ChunkInfo* ChunkOf(uint64_t g, uint32_t* bic) const {
    uint64_t ci = g * kBlockSize / chunk_size_;
    *bic = static_cast<uint32_t>((g * kBlockSize % chunk_size_) / kBlockSize);
    if (ci >= chunks_.size() || chunks_[ci].chunk_id() == 0) return nullptr;
    if (*bic >= chunks_[ci].block_count()) return nullptr;
    // Past a chunk cut by a truncate (the file may have grown since): a hole.
    if (uint64_t(*bic) * kBlockSize >= chunks_[ci].length()) return nullptr;
    return &chunks_[ci];
  }
  uint64_t BlockLen(uint64_t g) const {
    uint64_t start = g * kBlockSize;
    return start >= size_ ? 0 : std::min<uint64_t>(kBlockSize, size_ - start);
  }
  // Launches fetches of blocks [g0, g1) into `dests` (one per block), cut into
  // per-chunk requests; returns their futures.
  void Launch(uint64_t g0, uint64_t g1, std::vector<Dest> dests,
              std::vector<std::future<Status>>* futures);
  net::Awaitable<Status> Fetch(proto::ChunkInfo chunk, uint32_t first, std::vector<Dest> dests);
  // Every replica in turn from `base`, moving on after bad bytes.
  net::Awaitable<Status> FetchFromReplicas(const proto::ChunkInfo& chunk, uint32_t first,
                                           std::vector<Dest>& dests, size_t base);
  // The chunk's current replicas from metad, when they are not the ones in
  // `chunk` (repair or rebalance moved it since this reader opened the
  // file) but the version is the same; they replace the reader's copy.
  net::Awaitable<std::optional<proto::ChunkInfo>> MovedReplicas(const proto::ChunkInfo& chunk);
  net::Awaitable<Status> FetchOnce(const proto::ChunkInfo& chunk, uint32_t first,
                                   std::vector<Dest>& dests, size_t replica);
  Status Use(const proto::ChunkInfo& chunk, uint32_t first, std::vector<Dest>& dests, Buffer got);
  void Prefetch(uint64_t from_block);
  // A small random read inside one block: only the 64 KiB segments covering
  // it cross the network (see codec::CodecId::kRawSegmented). UNIMPLEMENTED
  // means "use the whole-block path".
  Status ReadSmall(uint64_t offset, MutableByteSpan out);
  net::Awaitable<Status> FetchRange(proto::ChunkInfo chunk, uint32_t block, uint32_t off,
                                    MutableByteSpan out);
  Status UseRange(const proto::ChunkInfo& chunk, uint64_t expected, uint32_t off,
                  const RangeReply& r, MutableByteSpan out);
  Status UseFrames(const std::string& where, const codec::BlockHeader& h, uint64_t expected,
                   uint32_t off, const RangeReply& r, MutableByteSpan out);

  std::shared_ptr<ClientContext> ctx_;
  const std::string path_;
  const net::TraceId trace_;  // carried by every chunk read of this reader
  FileInfo info_;
  uint64_t size_ = 0;
  uint64_t chunk_size_ = 0;
  std::vector<proto::ChunkInfo> chunks_;  // by chunk index; chunk_id 0 = hole
  uint64_t readahead_blocks_ = 0;

  std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<CachedBlock>> cache_;  // by global block
  uint64_t next_sequential_ = 0;  // offset a sequential reader asks for next
  uint64_t prefetched_until_ = 0;  // global blocks below this were prefetched
  // Where the round-robin over a chunk's replicas starts: the random trace
  // id, so that many readers of one file (a fleet loading one checkpoint)
  // do not all begin at each chunk's first replica.
  std::atomic<size_t> next_replica_{trace_};
};

// Fetches and decodes blocks [first, first + dests.size()) of `chunk` from one
// replica (ReadBlocks itself moves on after transport errors).
net::Awaitable<Status> ReaderState::FetchOnce(const proto::ChunkInfo& chunk, uint32_t first,
                                              std::vector<Dest>& dests, size_t replica) {
  const uint32_t count = static_cast<uint32_t>(dests.size());
  size_t served = replica;
  // Blocks bound for the caller's memory whose lengths are plain (no cut
  // or extended chunk) may come straight from a local replica file into it.
  if (ctx_->local_chunks() != nullptr) {
    std::vector<MutableByteSpan> direct;
    direct.reserve(count);
    const uint64_t base_g = chunk.chunk_index() * (chunk_size_ / kBlockSize) + first;
    for (uint32_t i = 0; i < count && dests[i].direct != nullptr; ++i) {
      const uint64_t expected = BlockBytesInChunk(chunk, first + i);
      if (expected == 0 || BlockLen(base_g + i) != expected) break;
      direct.emplace_back(dests[i].direct, expected);
    }
    if (direct.size() == count) {
      std::optional<Status> st =
          co_await ReadLocalInto(*ctx_, chunk, first, std::move(direct), replica, &served);
      if (st) {
        if (st->code() == proto::CHECKSUM_MISMATCH) {
          ReportBadReplica(*ctx_, chunk, served, *st, trace_);
        }
        co_return *st;
      }
    }
  }
  CO_ASSIGN_OR_RETURN(Buffer got, co_await ReadBlocks(*ctx_, chunk, first, count, replica, trace_,
                                                      &served));
  Status st = Use(chunk, first, dests, std::move(got));
  if (st.code() == proto::CHECKSUM_MISMATCH || st.code() == proto::CORRUPTION) {
    ReportBadReplica(*ctx_, chunk, served, st, trace_);
  }
  co_return st;
}

// Decodes and verifies the blocks of one read reply into `dests`.
Status ReaderState::Use(const proto::ChunkInfo& chunk, uint32_t first, std::vector<Dest>& dests,
                        Buffer got) {
  const uint32_t count = static_cast<uint32_t>(dests.size());
  auto reply = std::make_shared<const Buffer>(std::move(got));
  ASSIGN_OR_RETURN(auto blocks, SplitBlocks(chunk, reply->span(), count));
  for (uint32_t i = 0; i < count; ++i) {
    const auto& b = blocks[i];
    const uint64_t start = uint64_t(first + i) * kBlockSize;
    const uint64_t expected = BlockBytesInChunk(chunk, first + i);
    // A chunk cut by a truncate keeps its stored blocks: its last block may
    // hold more than the chunk's length; only its first `expected` bytes count.
    const bool cut = b.header.raw_len > expected && start + expected == chunk.length() &&
                     b.header.raw_len <= kBlockSize;
    // The file may extend past the chunk (it grew after a truncate): the
    // block then reads as its bytes followed by zeros up to `in_file`.
    const uint64_t g = chunk.chunk_index() * (chunk_size_ / kBlockSize) + first + i;
    const uint64_t in_file = std::max(BlockLen(g), expected);
    if (cut || in_file > expected) {
      if (b.header.raw_len < expected || b.header.raw_len > kBlockSize) {
        return Status::Corruption("chunk " + std::to_string(chunk.chunk_id()) + " block " +
                                     std::to_string(first + i) + " holds " +
                                     std::to_string(b.header.raw_len) + " bytes, expected " +
                                     std::to_string(expected));
      }
      auto full = std::make_shared<Buffer>(std::max<uint64_t>(b.header.raw_len, in_file));
      RETURN_IF_ERROR(TimedDecode(b.header, b.stored,
                                            MutableByteSpan(full->data(), b.header.raw_len))
                             .WithContext("chunk " + std::to_string(chunk.chunk_id()) + " block " +
                                          std::to_string(first + i)));
      std::memset(full->data() + expected, 0, full->size() - expected);
      if (dests[i].direct) {
        std::memcpy(dests[i].direct, full->data(), in_file);
      } else {
        dests[i].cached->data = ByteSpan(full->data(), in_file);
        dests[i].cached->owner = std::move(full);
      }
      continue;
    }
    if (b.header.raw_len != expected) {
      return Status::Corruption("chunk " + std::to_string(chunk.chunk_id()) + " block " +
                                   std::to_string(first + i) + " holds " +
                                   std::to_string(b.header.raw_len) + " bytes, expected " +
                                   std::to_string(expected));
    }
    const std::string where =
        "chunk " + std::to_string(chunk.chunk_id()) + " block " + std::to_string(first + i);
    if (dests[i].direct) {
      RETURN_IF_ERROR(
          TimedDecode(b.header, b.stored, MutableByteSpan(dests[i].direct, expected))
              .WithContext(where));
    } else if (b.header.codec == codec::CodecId::kRaw ||
               b.header.codec == codec::CodecId::kRawSegmented) {
      // Raw bytes are already the data: verify in place, keep a view.
      ByteSpan data = b.stored.first(b.header.raw_len);
      if (checksum::Xxh3(data.data(), data.size()) != b.header.raw_xxh3) {
        return Status::ChecksumMismatch(where + ": raw checksum mismatch");
      }
      dests[i].cached->owner = reply;
      dests[i].cached->data = data;
    } else {
      auto decoded = std::make_shared<Buffer>(expected);
      RETURN_IF_ERROR(
          TimedDecode(b.header, b.stored, decoded->span()).WithContext(where));
      dests[i].cached->data = decoded->span();
      dests[i].cached->owner = std::move(decoded);
    }
  }
  return Status::Ok();
}

net::Awaitable<Status> ReaderState::Fetch(proto::ChunkInfo chunk, uint32_t first,
                                          std::vector<Dest> dests) {
  const size_t base = next_replica_++;
  Status st = co_await FetchFromReplicas(chunk, first, dests, base);
  if (st.code() == proto::UNAVAILABLE) {
    // No listed replica could serve: a long-lived reader may hold a chunk
    // map from before a rebalance or repair moved the chunk and deleted
    // the old copies. Ask metad where the same version is now, once.
    std::optional<proto::ChunkInfo> moved = co_await MovedReplicas(chunk);
    if (moved) st = co_await FetchFromReplicas(*moved, first, dests, base);
  }
  if (!st.ok()) st = st.WithContext(path_);
  for (auto& d : dests) {
    if (d.cached) d.cached->promise.set_value(st);
  }
  co_return st;
}

net::Awaitable<Status> ReaderState::FetchFromReplicas(const proto::ChunkInfo& chunk,
                                                      uint32_t first, std::vector<Dest>& dests,
                                                      size_t base) {
  // A replica whose bytes fail the end-to-end checksum is skipped: the next
  // attempt starts at the next replica.
  const int attempts = std::max(1, chunk.replicas_size());
  Status st;
  for (int a = 0; a < attempts; ++a) {
    st = co_await FetchOnce(chunk, first, dests, base + a);
    if (st.ok() || (st.code() != proto::CHECKSUM_MISMATCH && st.code() != proto::CORRUPTION)) break;
  }
  co_return st;
}

net::Awaitable<std::optional<proto::ChunkInfo>> ReaderState::MovedReplicas(
    const proto::ChunkInfo& chunk) {
  proto::GetLayoutRequest req;
  req.set_inode(info_.inode);
  req.set_first_chunk(chunk.chunk_index());
  req.set_count(1);
  auto r = co_await ctx_->Meta<proto::GetLayoutResponse>(proto::META_GET_LAYOUT, req, trace_);
  if (!r.ok() || r->chunks_size() != 1) co_return std::nullopt;
  proto::ChunkInfo now = r->chunks(0);
  if (now.chunk_index() != chunk.chunk_index() || now.chunk_id() != chunk.chunk_id() ||
      now.version() != chunk.version()) {
    co_return std::nullopt;  // rewritten since: not the contents this reader serves
  }
  auto nodes = [](const proto::ChunkInfo& c) {
    std::vector<std::string> ids;
    for (const proto::NodeAddress& n : c.replicas()) ids.push_back(n.node_id());
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  if (now.replicas().empty() || nodes(now) == nodes(chunk)) co_return std::nullopt;
  {
    std::lock_guard lock(mu_);
    const uint64_t i = chunk.chunk_index();
    if (i < chunks_.size() && chunks_[i].chunk_id() == now.chunk_id()) {
      *chunks_[i].mutable_replicas() = now.replicas();
    }
  }
  co_return now;
}

void ReaderState::Launch(uint64_t g0, uint64_t g1, std::vector<Dest> dests,
                         std::vector<std::future<Status>>* futures) {
  uint64_t g = g0;
  while (g < g1) {
    uint32_t first;
    const proto::ChunkInfo* chunk = ChunkOf(g, &first);
    uint64_t run = 1;
    while (g + run < g1 && run < kBlocksPerRequest) {
      uint32_t b;
      if (ChunkOf(g + run, &b) != chunk || chunk == nullptr) break;
      ++run;
    }
    std::vector<Dest> part(std::make_move_iterator(dests.begin() + (g - g0)),
                           std::make_move_iterator(dests.begin() + (g - g0 + run)));
    if (chunk == nullptr) {
      // A hole (never written): zeros.
      for (auto& d : part) {
        uint64_t len = BlockLen(g);
        if (d.direct) {
          std::memset(d.direct, 0, len);
        } else {
          auto zeros = std::make_shared<Buffer>(len);
          std::memset(zeros->data(), 0, len);
          d.cached->data = zeros->span();
          d.cached->owner = std::move(zeros);
          d.cached->promise.set_value(Status::Ok());
        }
      }
    } else {
      // The lambda (and with it `self`) lives until the fetch completes.
      auto f = asio::co_spawn(
          ctx_->io(),
          [self = shared_from_this(), c = *chunk, first, part = std::move(part)]() mutable {
            return self->Fetch(std::move(c), first, std::move(part));
          },
          asio::use_future);
      if (futures) futures->push_back(std::move(f));
    }
    g += run;
  }
}

// Under mu_: fetches the read-ahead window after `from_block` into the cache.
void ReaderState::Prefetch(uint64_t from_block) {
  uint64_t end_block = (size_ + kBlockSize - 1) / kBlockSize;
  uint64_t start = std::max(from_block, prefetched_until_);
  uint64_t stop = std::min(end_block, from_block + readahead_blocks_);
  // Prefetch in whole requests only, to keep requests large.
  if (stop <= start || (stop - start < kBlocksPerRequest && stop != end_block)) return;
  std::vector<Dest> dests;
  for (uint64_t g = start; g < stop; ++g) {
    auto slot = std::make_shared<CachedBlock>();
    cache_[g] = slot;
    dests.push_back({nullptr, slot});
  }
  prefetched_until_ = stop;
  Launch(start, stop, std::move(dests), nullptr);
}

Status ReaderState::UseRange(const proto::ChunkInfo& chunk, uint64_t expected, uint32_t off,
                             const RangeReply& r, MutableByteSpan out) {
  const std::string where = "chunk " + std::to_string(chunk.chunk_id());
  ByteSpan p = r.payload.span();
  if (!r.segments) {
    // Not segmented (compressed, or an older raw block): the whole block came.
    ASSIGN_OR_RETURN(auto blocks, SplitBlocks(chunk, p, 1));
    const auto& b = blocks[0];
    if (b.header.raw_len != expected) return Status::Unimplemented("block length differs");
    Buffer full(expected);
    RETURN_IF_ERROR(TimedDecode(b.header, b.stored, full.span()).WithContext(where));
    std::memcpy(out.data(), full.data() + off, out.size());
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(codec::BlockHeader h, codec::ParseBlockHeader(p));
  if (h.codec == codec::CodecId::kZstdSegmented) return UseFrames(where, h, expected, off, r, out);
  if (h.codec != codec::CodecId::kRawSegmented) {
    return Status::Corruption(where + ": a segment reply of a block that is not segmented");
  }
  if (h.raw_len != expected) return Status::Unimplemented("block length differs");
  const uint32_t s0 = off / codec::kSegmentSize;
  const uint32_t s1 = static_cast<uint32_t>((off + out.size() + codec::kSegmentSize - 1) /
                                            codec::kSegmentSize);
  const uint64_t b0 = uint64_t(s0) * codec::kSegmentSize;
  const uint64_t b1 = std::min<uint64_t>(h.raw_len, uint64_t(s1) * codec::kSegmentSize);
  const size_t sums = 8ull * (s1 - s0);
  if (r.first_segment != s0 || p.size() != codec::kBlockHeaderSize + (b1 - b0) + sums) {
    return Status::Corruption(where + ": segment reply of " + std::to_string(p.size()) +
                              " bytes does not match the range asked for");
  }
  ByteSpan bytes = p.subspan(codec::kBlockHeaderSize, b1 - b0);
  RETURN_IF_ERROR(codec::VerifySegments(s0, bytes, p.subspan(codec::kBlockHeaderSize + (b1 - b0)))
                      .WithContext(where));
  std::memcpy(out.data(), bytes.data() + (off - b0), out.size());
  return Status::Ok();
}

// A range reply of a kZstdSegmented block: header, the whole frame table,
// the frames of the segments covering the range. Each frame is decoded into
// a 64 KiB scratch and checked against its segment checksum.
Status ReaderState::UseFrames(const std::string& where, const codec::BlockHeader& h,
                              uint64_t expected, uint32_t off, const RangeReply& r,
                              MutableByteSpan out) {
  if (h.raw_len != expected) return Status::Unimplemented("block length differs");
  ByteSpan p = r.payload.span().subspan(codec::kBlockHeaderSize);
  const size_t table_len = codec::ZstdSegmentTableSize(h.raw_len);
  Result<codec::ZstdSegmentTable> parsed = codec::ParseZstdSegmentTable(h, p);
  if (!parsed.ok()) return parsed.status().WithContext(where);
  const codec::ZstdSegmentTable& t = *parsed;
  const uint32_t s0 = off / codec::kSegmentSize;
  const uint32_t s1 = static_cast<uint32_t>((off + out.size() + codec::kSegmentSize - 1) /
                                            codec::kSegmentSize);
  const uint64_t f0 = t.frame_offset[s0];
  const uint64_t f1 = t.frame_offset[s1 - 1] + t.frame_len[s1 - 1];
  if (r.first_segment != s0 || p.size() != table_len + (f1 - f0)) {
    return Status::Corruption(where + ": frame reply of " + std::to_string(p.size()) +
                              " bytes does not match the range asked for");
  }
  thread_local std::vector<uint8_t> scratch(codec::kSegmentSize);
  for (uint32_t i = s0; i < s1; ++i) {
    const uint64_t seg_start = uint64_t(i) * codec::kSegmentSize;
    const size_t seg_len = static_cast<size_t>(
        std::min<uint64_t>(codec::kSegmentSize, h.raw_len - seg_start));
    ByteSpan frame = p.subspan(table_len + (t.frame_offset[i] - f0), t.frame_len[i]);
    RETURN_IF_ERROR(codec::DecodeZstdSegment(t, i, frame, MutableByteSpan(scratch.data(), seg_len))
                        .WithContext(where));
    // The part of this segment inside [off, off + out.size()).
    const uint64_t from = std::max<uint64_t>(seg_start, off);
    const uint64_t to = std::min<uint64_t>(seg_start + seg_len, uint64_t(off) + out.size());
    std::memcpy(out.data() + (from - off), scratch.data() + (from - seg_start), to - from);
  }
  return Status::Ok();
}

net::Awaitable<Status> ReaderState::FetchRange(proto::ChunkInfo chunk, uint32_t block,
                                               uint32_t off, MutableByteSpan out) {
  const uint64_t expected = BlockBytesInChunk(chunk, block);
  if (off + out.size() > expected) co_return Status::Unimplemented("range past the chunk");
  // A replica whose bytes fail their checksum is skipped, as for whole blocks.
  const size_t base = next_replica_++;
  Status st;
  for (int a = 0; a < std::max(1, chunk.replicas_size()); ++a) {
    auto r = co_await ReadRange(*ctx_, chunk, block, off, static_cast<uint32_t>(out.size()),
                                base + a, trace_);
    if (!r.ok()) co_return r.status().WithContext(path_);
    st = UseRange(chunk, expected, off, *r, out);
    if (st.ok() || (st.code() != proto::CHECKSUM_MISMATCH && st.code() != proto::CORRUPTION)) {
      break;
    }
  }
  if (!st.ok() && st.code() != proto::UNIMPLEMENTED) st = st.WithContext(path_);
  co_return st;
}

Status ReaderState::ReadSmall(uint64_t offset, MutableByteSpan out) {
  const uint64_t g = offset / kBlockSize;
  uint32_t bic = 0;
  proto::ChunkInfo chunk;
  {
    std::lock_guard lock(mu_);
    if (cache_.count(g)) return Status::Unimplemented("cached");
    const proto::ChunkInfo* c = ChunkOf(g, &bic);
    if (c == nullptr) return Status::Unimplemented("hole");
    chunk = *c;
    next_sequential_ = offset + out.size();
  }
  const uint32_t off = static_cast<uint32_t>(offset - g * kBlockSize);
  // A replica on this host is read and decoded on this thread: the async
  // path below costs four thread hand-offs (to an I/O thread, to the
  // local-read pool and back, back to this caller), which were most of a
  // small cold read's time besides the disk. Bytes that fail their checks
  // go the async way, which tries every replica.
  if (const uint64_t expected = BlockBytesInChunk(chunk, bic); off + out.size() <= expected) {
    const size_t preferred = next_replica_++;
    if (std::optional<RangeReply> r = ReadRangeLocal(*ctx_, chunk, bic, off,
                                                     static_cast<uint32_t>(out.size()), preferred)) {
      if (UseRange(chunk, expected, off, *r, out).ok()) return Status::Ok();
    }
  }
  return asio::co_spawn(
             ctx_->io(),
             [self = shared_from_this(), chunk = std::move(chunk), bic, off, out]() mutable {
               return self->FetchRange(std::move(chunk), bic, off, out);
             },
             asio::use_future)
      .get();
}

Result<size_t> ReaderState::PRead(uint64_t offset, MutableByteSpan out) {
  if (offset >= size_ || out.empty()) return size_t{0};
  const uint64_t len = std::min<uint64_t>(out.size(), size_ - offset);
  {
    // Random small reads fetch only the segments they need.
    bool random;
    {
      std::lock_guard lock(mu_);
      random = offset != next_sequential_;
    }
    if (random && len <= kMaxRangeRead && offset / kBlockSize == (offset + len - 1) / kBlockSize) {
      Status st = ReadSmall(offset, out.first(len));
      if (st.ok()) return static_cast<size_t>(len);
      if (st.code() != proto::UNIMPLEMENTED) return st;
    }
  }
  const uint64_t g0 = offset / kBlockSize;
  const uint64_t g1 = (offset + len - 1) / kBlockSize + 1;

  // Plan every block: from the cache, straight into `out`, or via a new slot.
  std::vector<std::shared_ptr<CachedBlock>> slots(g1 - g0);
  std::vector<std::future<Status>> futures;
  {
    std::lock_guard lock(mu_);
    std::vector<Dest> dests;
    uint64_t run_start = g1;
    auto flush = [&](uint64_t g) {
      if (run_start < g) Launch(run_start, g, std::move(dests), &futures);
      dests.clear();
      run_start = g1;
    };
    for (uint64_t g = g0; g < g1; ++g) {
      auto it = cache_.find(g);
      if (it != cache_.end()) {
        slots[g - g0] = it->second;
        flush(g);
        continue;
      }
      if (run_start == g1) run_start = g;
      uint64_t bstart = g * kBlockSize;
      bool whole = bstart >= offset && bstart + BlockLen(g) <= offset + len;
      if (whole) {
        dests.push_back({out.data() + (bstart - offset), nullptr});
      } else {
        auto slot = std::make_shared<CachedBlock>();
        cache_[g] = slot;
        slots[g - g0] = slot;
        dests.push_back({nullptr, slot});
      }
    }
    flush(g1);
    if (readahead_blocks_ && offset == next_sequential_) Prefetch(g1);
    next_sequential_ = offset + len;
  }

  Status st;
  for (auto& f : futures) {
    Status s = f.get();
    if (st.ok() && !s.ok()) st = s;
  }
  for (uint64_t g = g0; g < g1; ++g) {
    auto& slot = slots[g - g0];
    if (!slot) continue;
    Status s = slot->ready.get();
    if (!s.ok()) {
      std::lock_guard lock(mu_);
      cache_.erase(g);  // a later read tries again
      if (st.ok()) st = s;
      continue;
    }
    uint64_t bstart = g * kBlockSize;
    uint64_t from = std::max(bstart, offset);
    uint64_t to = std::min(bstart + slot->data.size(), offset + len);
    if (to > from) std::memcpy(out.data() + (from - offset), slot->data.data() + (from - bstart), to - from);
  }
  {
    // Blocks wholly behind this read are no longer needed; keep the cache bounded.
    std::lock_guard lock(mu_);
    uint64_t keep_from = (offset + len) / kBlockSize;
    cache_.erase(cache_.begin(), cache_.lower_bound(keep_from));
    while (cache_.size() > readahead_blocks_ + kExtraCachedBlocks) cache_.erase(std::prev(cache_.end()));
    if (prefetched_until_ > 0 && !cache_.empty()) prefetched_until_ = std::min(prefetched_until_, std::prev(cache_.end())->first + 1);
  }
  if (!st.ok()) return st;
  return static_cast<size_t>(len);
}

class FileReaderImpl final : public FileReader {
 public:
  explicit FileReaderImpl(std::shared_ptr<ReaderState> s) : s_(std::move(s)) {}
  Result<size_t> PRead(uint64_t offset, MutableByteSpan out) override { return s_->PRead(offset, out); }
  uint64_t size() const override { return s_->size(); }
  const FileInfo& info() const override { return s_->info(); }
  uint32_t trace_id() const override { return s_->trace(); }

 private:
  std::shared_ptr<ReaderState> s_;
};

// A small file whose whole contents metad keeps (inline data): no chunk
// server is involved. Bytes past the inline data read as zeros.
class InlineReader final : public FileReader {
 public:
  InlineReader(proto::OpenResponse open, net::TraceId trace)
      : info_(ToFileInfo(open.inode())),
        data_(std::move(*open.mutable_inline_data())),
        trace_(trace) {}
  Result<size_t> PRead(uint64_t offset, MutableByteSpan out) override {
    if (offset >= info_.size || out.empty()) return size_t{0};
    const size_t len = static_cast<size_t>(std::min<uint64_t>(out.size(), info_.size - offset));
    const size_t have = offset < data_.size() ? std::min(len, data_.size() - offset) : 0;
    if (have) std::memcpy(out.data(), data_.data() + offset, have);
    if (have < len) std::memset(out.data() + have, 0, len - have);
    return len;
  }
  uint64_t size() const override { return info_.size; }
  const FileInfo& info() const override { return info_; }
  uint32_t trace_id() const override { return trace_; }

 private:
  FileInfo info_;
  std::string data_;
  net::TraceId trace_;
};

}  // namespace

Result<std::unique_ptr<FileReader>> MakeFileReader(std::shared_ptr<ClientContext> ctx,
                                                   std::string path, proto::OpenResponse open,
                                                   const ReadOptions& options, net::TraceId trace) {
  if (trace == 0) trace = net::NewTraceId();
  if (open.inode().chunk_size() == 0 || open.inode().chunk_size() % kBlockSize != 0) {
    return Status::Internal(path + ": metadata returned chunk size " +
                            std::to_string(open.inode().chunk_size()));
  }
  if (open.has_inline_data()) {
    return std::unique_ptr<FileReader>(new InlineReader(std::move(open), trace));
  }
  auto state =
      std::make_shared<ReaderState>(std::move(ctx), std::move(path), std::move(open), trace);
  if (!options.readahead) state->DisableReadahead();
  return std::unique_ptr<FileReader>(new FileReaderImpl(std::move(state)));
}

}  // namespace granary::client

namespace granary {

Status ReadExactly(FileReader& reader, uint64_t offset, MutableByteSpan out) {
  size_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(size_t n, reader.PRead(offset + done, out.subspan(done)));
    if (n == 0) {
      return Status::Corruption("file ends at " + std::to_string(offset + done) +
                                " bytes, expected at least " + std::to_string(offset + out.size()));
    }
    done += n;
  }
  return Status::Ok();
}

}  // namespace granary
