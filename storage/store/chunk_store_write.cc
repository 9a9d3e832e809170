// ChunkStore write path: pieces into a temp file, then commit.
//
// Invariants of a pending write:
//  - Only pieces whose layout was validated (ValidatePiece) reach the file,
//    and a block index, once recorded, keeps its placement: a piece that
//    disagrees with a recorded block is refused before anything is written.
//  - Lock order: pending_mu_ before index_mu_; a write's mu before
//    index_mu_ and pending_mu_; pending_mu_ is never held while taking a mu.
//  - Commit holds io_mu exclusively, so no pwrite is in flight while it checks
//    the blocks, writes the footer and renames.
//  - After an I/O error the file is poisoned: commit refuses it.
#include <fcntl.h>

#include <atomic>
#include <vector>

#include "common/log.h"
#include "storage/store/chunk_store.h"
#include "storage/store/pending_write.h"

namespace granary::storage::store {
namespace {

using Clock = std::chrono::steady_clock;

// Distinguishes temp files of successive attempts at one version.
std::atomic<uint64_t> g_write_attempt{1};

Status Incomplete(std::string msg) { return Status(proto::CHUNK_INCOMPLETE, std::move(msg)); }

bool SameTotals(uint32_t blocks, uint64_t stored, uint64_t raw, const CommitSpec& s) {
  return blocks == s.total_blocks && stored == s.total_stored && raw == s.total_raw;
}

}  // namespace

Result<uint32_t> ChunkStore::PickFolder() const {
  // Most free space first, so a new disk takes new data; folders within 5%
  // of the most free (equal disks, or folders sharing a file system) take
  // turns, so they fill evenly and losing one loses its share only.
  std::vector<std::pair<uint32_t, uint64_t>> eligible;
  uint64_t best_free = 0;
  for (uint32_t i = 0; i < folders_.size(); ++i) {
    if (failed_[i].load()) continue;  // out of service
    Result<FolderUsage> u = folders_[i]->Usage();
    if (!u.ok()) {
      LOG_WARN("skipping data folder: {}", u.status().ToString());
      continue;
    }
    if (u->free_bytes < options_.min_free_bytes) continue;
    eligible.emplace_back(i, u->free_bytes);
    best_free = std::max(best_free, u->free_bytes);
  }
  if (eligible.empty()) {
    return Status::NoSpace("no data folder has " + std::to_string(options_.min_free_bytes) +
                           " bytes free");
  }
  std::vector<uint32_t> near_best;
  for (const auto& [i, free] : eligible) {
    if (free >= best_free - best_free / 20) near_best.push_back(i);
  }
  static std::atomic<uint64_t> turn{0};
  return near_best[turn.fetch_add(1, std::memory_order_relaxed) % near_best.size()];
}

Result<std::shared_ptr<ChunkStore::PendingWrite>> ChunkStore::GetOrCreatePending(
    const ChunkKey& key) {
  std::lock_guard lock(pending_mu_);
  auto it = pending_.find(key);
  if (it != pending_.end()) return it->second;
  // Checked under pending_mu_: Commit indexes a version before it drops the
  // pending entry, so a version is never both committed and re-opened.
  IndexEntry e;
  if (Lookup(key, &e)) return Status::AlreadyExists(key.ToString() + " is already committed");
  if (pending_.size() >= options_.max_pending_writes) {
    return Status::ResourceExhausted(std::to_string(pending_.size()) +
                                     " chunk writes are already open");
  }
  ASSIGN_OR_RETURN(uint32_t folder, PickFolder());
  RETURN_IF_ERROR(folders_[folder]->EnsureSubdir(key.chunk_id));
  auto pw = std::make_shared<PendingWrite>();
  pw->key = key;
  pw->folder = folder;
  pw->temp_path = folders_[folder]->TempPath(key, g_write_attempt++);
  pw->stamp = stamp_.fetch_add(1, std::memory_order_acq_rel) + 1;
  ASSIGN_OR_RETURN(pw->fd, OpenFile(pw->temp_path, O_WRONLY | O_CREAT | O_TRUNC));
  pw->last_activity = Clock::now();
  pending_[key] = pw;
  return pw;
}

void ChunkStore::RemovePending(const ChunkKey& key, const PendingWrite* pw) {
  std::lock_guard lock(pending_mu_);
  auto it = pending_.find(key);
  if (it != pending_.end() && it->second.get() == pw) pending_.erase(it);
}

Status ChunkStore::WritePiece(const ChunkKey& key, const PieceLayout& layout, ByteSpan payload) {
  if (layout.blocks.empty() || layout.blocks.front().offset != layout.offset ||
      layout.blocks.back().end() - layout.offset != payload.size()) {
    return Status::InvalidArgument(key.ToString() + ": piece layout does not match its payload");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<PendingWrite> pw, GetOrCreatePending(key));
  std::shared_lock io(pw->io_mu);
  {
    std::lock_guard lock(pw->mu);
    if (pw->closed) return Status::Cancelled(key.ToString() + " was committed or aborted");
    if (!pw->poison.ok()) return pw->poison;
    // Check every block before recording any: a refused piece leaves no trace.
    for (size_t i = 0; i < layout.blocks.size(); ++i) {
      const uint32_t index = layout.first_block + static_cast<uint32_t>(i);
      auto it = pw->blocks.find(index);
      if (it != pw->blocks.end() && !(it->second == layout.blocks[i])) {
        return Status::InvalidArgument(key.ToString() + ": block " + std::to_string(index) +
                                       " re-sent with a different placement or contents");
      }
    }
    // Recorded before the pwrite so a conflicting piece racing this one is
    // refused; if the pwrite fails the write is poisoned and never commits.
    for (size_t i = 0; i < layout.blocks.size(); ++i) {
      pw->blocks.emplace(layout.first_block + static_cast<uint32_t>(i), layout.blocks[i]);
      if (i < layout.index.size()) {
        pw->index.emplace(layout.first_block + static_cast<uint32_t>(i), layout.index[i]);
      }
    }
    pw->last_activity = Clock::now();
  }
  Status st = PWriteAll(pw->fd.get(), payload, layout.offset, pw->temp_path);
  if (!st.ok()) {
    std::lock_guard lock(pw->mu);
    pw->poison = st.WithContext(key.ToString() + " write failed earlier");
    LOG_ERROR("{}: {}", key.ToString(), st.ToString());
    return st.WithContext(key.ToString());
  }
  // Start writeback of this piece now: the disk then works while the rest of
  // the chunk streams in, and the fdatasync at commit finds little left to do.
  // Advisory: a failure here only loses the head start.
  (void)::sync_file_range(pw->fd.get(), static_cast<off_t>(layout.offset),
                          static_cast<off_t>(payload.size()), SYNC_FILE_RANGE_WRITE);
  return Status::Ok();
}

Status ChunkStore::Commit(const ChunkKey& key, const CommitSpec& spec) {
  if (spec.total_blocks > kMaxBlocksPerChunk || spec.total_stored > kMaxChunkStoredBytes) {
    return Status::InvalidArgument(key.ToString() + ": commit totals exceed the chunk limits");
  }
  std::shared_ptr<PendingWrite> pw;
  {
    std::lock_guard lock(pending_mu_);
    auto it = pending_.find(key);
    if (it != pending_.end()) pw = it->second;
  }
  if (!pw) {
    IndexEntry e;
    if (Lookup(key, &e)) {
      // A retried commit whose first ack was lost.
      if (SameTotals(e.block_count, e.total_stored, e.total_raw, spec)) return Status::Ok();
      return Status::AlreadyExists(key.ToString() + " is committed with other totals");
    }
    if (spec.total_blocks != 0) return Incomplete(key.ToString() + ": no block has arrived");
    ASSIGN_OR_RETURN(pw, GetOrCreatePending(key));  // an empty chunk: footer only
  }
  std::unique_lock io(pw->io_mu);
  std::lock_guard lock(pw->mu);
  if (pw->closed) {
    IndexEntry e;  // a concurrent commit of the same version won the race
    if (Lookup(key, &e) && SameTotals(e.block_count, e.total_stored, e.total_raw, spec)) {
      return Status::Ok();
    }
    return Status::Cancelled(key.ToString() + " was aborted");
  }
  if (!pw->poison.ok()) return pw->poison;
  if (!pw->blocks.empty() && pw->blocks.rbegin()->first >= spec.total_blocks) {
    return Status::InvalidArgument(
        key.ToString() + ": block " + std::to_string(pw->blocks.rbegin()->first) +
        " arrived but total_blocks is " + std::to_string(spec.total_blocks));
  }
  if (pw->blocks.size() != spec.total_blocks) {
    std::string missing;
    size_t shown = 0;
    for (uint32_t i = 0; i < spec.total_blocks && shown < 8; ++i) {
      if (!pw->blocks.count(i)) missing += (shown++ ? ", " : "") + std::to_string(i);
    }
    return Incomplete(
        key.ToString() + ": " + std::to_string(spec.total_blocks - pw->blocks.size()) + " of " +
        std::to_string(spec.total_blocks) + " blocks missing (first: " + missing + ")");
  }
  return FinishCommit(key, *pw, spec);
}

Status ChunkStore::FinishCommit(const ChunkKey& key, PendingWrite& pw, const CommitSpec& spec) {
  ChunkFooter footer;
  footer.key = key;
  footer.total_raw = spec.total_raw;
  footer.total_stored = spec.total_stored;
  footer.blocks.reserve(pw.blocks.size());
  for (const auto& [index, entry] : pw.blocks) footer.blocks.push_back(entry);
  // Every block came with its index entry (ValidatePiece): the file gets the
  // segment index. Anything less (a layout built by hand) writes format 1.
  if (pw.index.size() == pw.blocks.size() && !pw.index.empty()) {
    footer.index.reserve(pw.index.size());
    for (const auto& [index, entry] : pw.index) footer.index.push_back(entry);
  }
  Status valid = ValidateBlockTable(footer.blocks, spec.total_stored, spec.total_raw);
  if (!valid.ok()) {
    // The client's blocks or totals disagree; the write stays open.
    return Status::InvalidArgument(key.ToString() + ": " + valid.message());
  }
  // From here on an error leaves the temp file in an unknown state: abort it.
  auto fail = [&](const Status& st) {
    pw.closed = true;
    RemovePending(key, &pw);
    Status rm = RemoveFile(pw.temp_path);
    LOG_ERROR("commit of {} failed: {}{}", key.ToString(), st.ToString(),
              rm.ok() ? "" : "; " + rm.ToString());
    return st.WithContext("committing " + key.ToString());
  };
  Buffer bytes = EncodeFooter(footer);
  Status st = PWriteAll(pw.fd.get(), bytes.span(), spec.total_stored, pw.temp_path);
  if (st.ok() && spec.fsync) st = DataSync(pw.fd.get(), pw.temp_path);
  const DataFolder& folder = *folders_[pw.folder];
  const std::string path = folder.ChunkPath(key);
  // No other writer can hold this version (pending entries are unique per
  // version and committed versions are refused), so the rename cannot
  // replace a committed file.
  if (st.ok()) st = RenameFile(pw.temp_path, path);
  if (st.ok() && spec.fsync) st = SyncDir(folder.SubdirPath(key.chunk_id));
  if (!st.ok()) return fail(st);
  {
    std::unique_lock lock(index_mu_);
    index_[key.chunk_id][key.version] = {pw.folder, spec.total_blocks, spec.total_raw,
                                         spec.total_stored, footer.file_size(),
                                         stamp_.fetch_add(1, std::memory_order_acq_rel) + 1};
    ++chunk_count_;
    chunk_bytes_ += footer.file_size();
  }
  pw.closed = true;
  RemovePending(key, &pw);
  LOG_DEBUG("committed {} ({} blocks, {} stored bytes) at {}", key.ToString(), spec.total_blocks,
            spec.total_stored, path);
  return Status::Ok();
}

void ChunkStore::AbortWrite(const ChunkKey& key, uint64_t ordered_at) {
  std::shared_ptr<PendingWrite> pw;
  {
    std::lock_guard lock(pending_mu_);
    auto it = pending_.find(key);
    if (it == pending_.end() || it->second->stamp > ordered_at) return;
    pw = std::move(it->second);
    pending_.erase(it);
  }
  std::unique_lock io(pw->io_mu);  // waits for pwrites in flight
  std::lock_guard lock(pw->mu);
  if (pw->closed) return;
  pw->closed = true;
  Status st = RemoveFile(pw->temp_path);
  if (!st.ok()) LOG_WARN("aborting {}: {}", key.ToString(), st.ToString());
}

size_t ChunkStore::AbortIdleWrites(std::chrono::milliseconds max_idle) {
  const auto cutoff = Clock::now() - max_idle;
  std::vector<std::shared_ptr<PendingWrite>> all;
  {
    std::lock_guard lock(pending_mu_);
    for (const auto& [key, pw] : pending_) all.push_back(pw);
  }
  // pw->mu is taken without pending_mu_ held: commit takes them the other way.
  std::vector<ChunkKey> idle;
  for (const auto& pw : all) {
    std::lock_guard pw_lock(pw->mu);
    if (!pw->closed && pw->last_activity < cutoff) idle.push_back(pw->key);
  }
  for (const ChunkKey& key : idle) {
    LOG_WARN("aborting {}: no piece for {} ms", key.ToString(), max_idle.count());
    AbortWrite(key);
  }
  return idle.size();
}

}  // namespace granary::storage::store
