// SetAttr: changes attributes of one inode in one transaction.
//
// size (files only) truncates or extends: shrinking drops whole chunks past
// the new size and caps the last partial chunk's length (TruncateChunks);
// growing leaves a hole that reads as zeros. replicas applies to chunks
// allocated afterwards (existing chunks keep their replica count until repair
// re-replicates them). chunk_size may change only on folders and on files
// without data, since existing chunk indexes depend on it.
//
// A size change on a file with inline data ("L" key) resizes the inline bytes
// instead: cut to the new size, or zero-padded up to it while it stays within
// kMaxInlineBytes. Past that the bytes stay as they are and the size alone
// grows: bytes between the end of the inline data and the size read as zeros
// (a hole, as for chunks). The writer that next writes such a file past
// kMaxInlineBytes moves its contents to chunks.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {
namespace {

// CodecPolicy::kF32, the last of common/codec/block.h's policies.
constexpr uint32_t kMaxCodecPolicy = 5;

Status Validate(const proto::SetAttrRequest& req) {
  if (req.has_atime()) RETURN_IF_ERROR(ValidateTimespec(req.atime(), "atime"));
  if (req.has_mtime()) RETURN_IF_ERROR(ValidateTimespec(req.mtime(), "mtime"));
  if (req.has_replicas()) RETURN_IF_ERROR(ValidateReplicas(req.replicas(), "replicas"));
  if (req.has_chunk_size()) RETURN_IF_ERROR(ValidateChunkSize(req.chunk_size(), "chunk_size"));
  if (req.has_codec() && req.codec() > kMaxCodecPolicy) {
    return Status::InvalidArgument(fmt::format("codec = {} is not a codec policy (0..{})",
                                               req.codec(), kMaxCodecPolicy));
  }
  if (req.has_size() && req.size() > kMaxFileSize) {
    return Status::InvalidArgument(
        fmt::format("size = {} exceeds the largest file size {}", req.size(), kMaxFileSize));
  }
  return Status::Ok();
}

// The inline-data side of a size change (see the file comment).
Status ResizeInlineData(KvStore& kv, KvTxn& txn, uint64_t inode, uint64_t new_size) {
  ASSIGN_OR_RETURN(std::optional<std::string> data, LoadInlineData(kv, inode));
  txn.ExpectValue(InlineDataKey(inode), data);
  if (!data) return Status::Ok();
  std::string resized = *data;
  if (resized.size() > new_size) resized.resize(new_size);
  if (new_size <= kMaxInlineBytes) resized.resize(new_size, '\0');
  if (resized != *data) txn.Put(InlineDataKey(inode), std::move(resized));
  return Status::Ok();
}

}  // namespace

Status SetAttr(MetaState& s, const proto::SetAttrRequest& req, proto::SetAttrResponse* resp) {
  RETURN_IF_ERROR(Validate(req));
  // An explicit mtime wins over a folder time still waiting to be written;
  // dropped before the transaction so that a write-back racing it conflicts.
  if (req.has_mtime()) s.dir_times().Forget(req.inode());
  proto::Inode updated;
  int64_t dropped = 0;
  bool goal_changed = false;
  int64_t shrink = 0;   // bytes a truncate frees from the folders' quotas
  QuotaCharge growth;   // bytes an extension reserves in them
  Status st = RunTxn(s, "setattr", [&]() -> Status {
    dropped = 0;
    shrink = 0;
    growth = QuotaCharge();
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    updated = rec.inode;
    const bool is_dir = updated.type() == proto::INODE_DIR;
    KvTxn txn;
    proto::Timespec now = s.clock().WallTimespec();
    if (req.has_mode()) updated.set_mode(req.mode() & 07777);
    if (req.has_uid()) updated.set_uid(req.uid());
    if (req.has_gid()) updated.set_gid(req.gid());
    if (req.has_atime()) *updated.mutable_atime() = req.atime();
    if (req.has_mtime()) *updated.mutable_mtime() = req.mtime();
    goal_changed = req.has_replicas() && req.replicas() != updated.replicas() &&
                   updated.type() == proto::INODE_FILE;
    if (req.has_replicas()) updated.set_replicas(req.replicas());
    if (req.has_codec()) updated.set_codec_hint(req.codec());
    if (req.has_chunk_size() && req.chunk_size() != updated.chunk_size()) {
      if (!is_dir) {
        ASSIGN_OR_RETURN(std::vector<ChunkRecord> committed,
                         LoadChunkRange(s.kv(), ChunkPrefix(updated.id()), 0, 1));
        ASSIGN_OR_RETURN(std::vector<ChunkRecord> pending,
                         LoadChunkRange(s.kv(), PendingChunkPrefix(updated.id()), 0, 1));
        if (updated.size() != 0 || !committed.empty() || !pending.empty()) {
          return Status::InvalidArgument(fmt::format(
              "chunk_size of inode {} cannot change: the file already has data", updated.id()));
        }
        txn.ExpectRangeEmpty(KeyRange::Prefix(ChunkPrefix(updated.id())));
        txn.ExpectRangeEmpty(KeyRange::Prefix(PendingChunkPrefix(updated.id())));
      }
      updated.set_chunk_size(req.chunk_size());
    }
    if (req.has_size()) {
      RETURN_IF_ERROR(RequireFile(updated));
      // Always cut at the new size: chunks a writer committed past the old
      // (visible) size are cut too, so the file is exactly [0, size).
      ASSIGN_OR_RETURN(dropped, TruncateChunks(s.kv(), txn, updated, req.size()));
      RETURN_IF_ERROR(ResizeInlineData(s.kv(), txn, updated.id(), req.size()));
      if (req.size() != updated.size() && !req.has_mtime()) *updated.mutable_mtime() = now;
      const int64_t delta = static_cast<int64_t>(req.size()) - static_cast<int64_t>(updated.size());
      if (delta > 0) {
        ASSIGN_OR_RETURN(growth, QuotaCharge::Reserve(s, updated.parent(), delta, 0));
      } else {
        shrink = -delta;
      }
      updated.set_size(req.size());
    }
    *updated.mutable_ctime() = now;
    txn.ExpectEquals(InodeKey(updated.id()), rec.raw);
    txn.Put(InodeKey(updated.id()), SerializeInode(updated));
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
  if (!st.ok()) return st;
  growth.Keep();
  ChargeQuota(s, updated.parent(), -shrink, 0);
  if (goal_changed) ++s.goal_generation;
  s.chunk_count -= dropped;
  *resp->mutable_inode() = Visible(s, std::move(updated));
  return Status::Ok();
}

}  // namespace granary::metadata
