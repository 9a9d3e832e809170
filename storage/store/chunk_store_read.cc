// ChunkStore read path, deletes and quarantine.
#include <fcntl.h>

#include <algorithm>
#include <utility>

#include "common/buffer_pool.h"
#include "common/codec/block.h"
#include "common/log.h"
#include "storage/store/chunk_store.h"
#include "storage/store/pending_write.h"

namespace granary::storage::store {
namespace {

// The header on disk must say what the footer says about the block; a
// mismatch means the file changed under us (bit rot, a stray writer).
Status CheckHeader(ByteSpan bytes, const BlockEntry& b, uint32_t index) {
  Result<codec::BlockHeader> h = codec::ParseBlockHeader(bytes);
  if (!h.ok()) return h.status().WithContext("block " + std::to_string(index));
  if (!b.Describes(*h)) {
    return Status::Corruption("block " + std::to_string(index) +
                              " header disagrees with the block table");
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const ChunkFile>> ChunkStore::OpenCached(const ChunkKey& key,
                                                                const IndexEntry& e) {
  if (auto file = cache_.Get(key)) return file;
  const std::string path = folders_[e.folder]->ChunkPath(key);
  ASSIGN_OR_RETURN(std::shared_ptr<const ChunkFile> file, OpenChunkFile(path));
  const ChunkFooter& f = file->footer;
  if (f.key != key || f.blocks.size() != e.block_count || f.total_stored != e.total_stored ||
      f.total_raw != e.total_raw) {
    return Status::Corruption(path + " no longer matches the index");
  }
  cache_.Put(key, file);
  return file;
}

void ChunkStore::Quarantine(const ChunkKey& key, const std::string& path, const Status& why) {
  {
    std::unique_lock lock(index_mu_);
    auto it = index_.find(key.chunk_id);
    if (it == index_.end() || !it->second.count(key.version)) return;  // someone else did
    chunk_bytes_ -= it->second[key.version].file_size;
    --chunk_count_;
    it->second.erase(key.version);
    if (it->second.empty()) index_.erase(it);
  }
  cache_.Erase(key);
  QuarantineFile(path, why.WithContext(key.ToString()));
  std::lock_guard lock(lost_mu_);
  lost_.push_back(key);
}

std::vector<ChunkKey> ChunkStore::TakeLost() {
  std::lock_guard lock(lost_mu_);
  return std::exchange(lost_, {});
}

void ChunkStore::ReturnLost(const std::vector<ChunkKey>& keys) {
  std::lock_guard lock(lost_mu_);
  lost_.insert(lost_.end(), keys.begin(), keys.end());
}

void ChunkStore::ForgetLost(const ChunkKey& key) {
  std::lock_guard lock(lost_mu_);
  std::erase(lost_, key);
}

Result<uint64_t> ChunkStore::Verify(const ChunkKey& key) {
  IndexEntry e;
  if (!Lookup(key, &e)) return Status::ChunkNotFound(key.ToString() + " not found");
  const std::string path = folders_[e.folder]->ChunkPath(key);
  Result<std::shared_ptr<const ChunkFile>> opened = OpenCached(key, e);
  if (!opened.ok()) {
    if (opened.status().code() == proto::CORRUPTION) Quarantine(key, path, opened.status());
    return opened.status().WithContext(key.ToString());
  }
  const ChunkFile& file = **opened;
  // One block at a time: a scrub must not hold more than a block in memory.
  Buffer buf;
  uint64_t bytes = 0;
  Status st;
  for (uint32_t i = 0; st.ok() && i < file.footer.blocks.size(); ++i) {
    const BlockEntry& b = file.footer.blocks[i];
    if (buf.size() < b.encoded_size()) buf = Buffer(b.encoded_size());
    MutableByteSpan bytes_of_block(buf.data(), b.encoded_size());
    st = PReadAll(file.fd.get(), bytes_of_block, b.offset, path);
    if (st.ok()) st = CheckHeader(bytes_of_block.first(codec::kBlockHeaderSize), b, i);
    if (st.ok()) {
      Result<codec::BlockHeader> h = codec::ParseBlockHeader(bytes_of_block);
      st = h.ok() ? codec::VerifyStored(*h, bytes_of_block.subspan(codec::kBlockHeaderSize))
                  : h.status();
      if (!st.ok()) st = st.WithContext("block " + std::to_string(i));
    }
    bytes += b.encoded_size();
  }
  if (!st.ok()) {
    // A checksum mismatch is corruption of this file, whatever code it has.
    if (st.code() == proto::CORRUPTION || st.code() == proto::CHECKSUM_MISMATCH) {
      Quarantine(key, path, st);
      return Status::Corruption(key.ToString() + ": " + st.message());
    }
    return st.WithContext(key.ToString());
  }
  return bytes;
}

Result<BlockRange> ChunkStore::LocateBlocks(const ChunkKey& key, uint32_t first_block,
                                            uint32_t block_count, uint32_t max_blocks,
                                            uint64_t max_bytes, bool prefetch) {
  IndexEntry e;
  if (!Lookup(key, &e)) return Status::ChunkNotFound(key.ToString() + " not found");
  BlockRange out;
  out.total_blocks = e.block_count;
  if (e.block_count == 0 && first_block == 0 && block_count == 0) return out;  // empty chunk
  if (first_block >= e.block_count || block_count > e.block_count - first_block) {
    return Status::InvalidArgument(key.ToString() + ": blocks [" + std::to_string(first_block) +
                                   ", +" + std::to_string(block_count) + ") outside the chunk's " +
                                   std::to_string(e.block_count) + " blocks");
  }
  const std::string path = folders_[e.folder]->ChunkPath(key);
  Result<std::shared_ptr<const ChunkFile>> opened = OpenCached(key, e);
  if (!opened.ok()) {
    if (opened.status().code() == proto::CORRUPTION) Quarantine(key, path, opened.status());
    if (opened.status().code() == proto::NOT_FOUND) {
      return Status::ChunkNotFound(key.ToString() + " vanished: " + opened.status().message());
    }
    return opened.status().WithContext(key.ToString());
  }
  const ChunkFile& file = **opened;
  const std::vector<BlockEntry>& blocks = file.footer.blocks;

  // Take whole blocks while under both caps, but always at least one.
  uint32_t want = block_count == 0 ? e.block_count - first_block : block_count;
  want = std::min(want, std::max<uint32_t>(max_blocks, 1));
  const uint64_t start = blocks[first_block].offset;
  uint32_t n = 1;
  while (n < want && blocks[first_block + n].end() - start <= max_bytes) ++n;

  // Callers send the range with sendfile from an I/O thread: start reading it
  // into the page cache now, on this (disk) thread, so the header reads
  // below find it under way. Advisory.
  if (prefetch) {
    (void)::posix_fadvise(file.fd.get(), static_cast<off_t>(start),
                          static_cast<off_t>(blocks[first_block + n - 1].end() - start),
                          POSIX_FADV_WILLNEED);
  }
  // The headers on disk must agree with the block table before any byte of
  // the range is sent whole. A ranged read (no prefetch) skips this: the
  // segments it sends are located and framed by the block's index, which is
  // checked against the table where it comes from (the footer or the file).
  if (prefetch) {
    Status st;
    uint8_t header[codec::kBlockHeaderSize];
    for (uint32_t i = 0; st.ok() && i < n; ++i) {
      const BlockEntry& b = blocks[first_block + i];
      st = PReadAll(file.fd.get(), MutableByteSpan(header, sizeof header), b.offset, path);
      if (st.ok()) st = CheckHeader(ByteSpan(header, sizeof header), b, first_block + i);
    }
    if (!st.ok()) {
      if (st.code() == proto::CORRUPTION) Quarantine(key, path, st);
      return st.WithContext(key.ToString());
    }
  }
  out.file = *opened;
  out.offset = start;
  out.length = blocks[first_block + n - 1].end() - start;
  out.block_count = n;
  return out;
}

Result<ReadResult> ChunkStore::ReadBlocks(const ChunkKey& key, uint32_t first_block,
                                          uint32_t block_count, uint32_t max_blocks,
                                          uint64_t max_bytes) {
  ASSIGN_OR_RETURN(BlockRange range,
                   LocateBlocks(key, first_block, block_count, max_blocks, max_bytes));
  ReadResult out;
  out.total_blocks = range.total_blocks;
  out.block_count = range.block_count;
  if (range.length == 0) return out;
  out.bytes = PooledBuffer(range.length);
  RETURN_IF_ERROR(PReadAll(range.file->fd.get(), out.bytes.span(), range.offset, key.ToString()));
  return out;
}

Result<bool> ChunkStore::Delete(const ChunkKey& key, uint64_t ordered_at) {
  AbortWrite(key, ordered_at);
  IndexEntry e;
  {
    std::unique_lock lock(index_mu_);
    auto it = index_.find(key.chunk_id);
    if (it == index_.end()) return false;
    auto v = it->second.find(key.version);
    if (v == it->second.end()) return false;
    if (v->second.stamp > ordered_at) {
      LOG_INFO("kept {}: committed after its deletion was ordered", key.ToString());
      return false;
    }
    e = v->second;
    it->second.erase(v);
    if (it->second.empty()) index_.erase(it);
    --chunk_count_;
    chunk_bytes_ -= e.file_size;
  }
  cache_.Erase(key);
  // Readers holding the file open finish undisturbed: unlink keeps the inode.
  RETURN_IF_ERROR(RemoveFile(folders_[e.folder]->ChunkPath(key)).WithContext(key.ToString()));
  LOG_DEBUG("deleted {}", key.ToString());
  return true;
}

}  // namespace granary::storage::store
