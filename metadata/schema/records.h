#pragma once
// Typed reads of the records in docs/metadata_schema.md. Each load returns the
// decoded record together with its raw bytes, so a transaction can pin exactly
// what was read (KvTxn::ExpectEquals(key, raw)).
//
// Decoding errors are CORRUPTION naming the record; NOT_FOUND messages name the
// id so a client sees "inode 42 does not exist", not a bare code.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/granary.pb.h"
#include "common/status.h"
#include "metadata/kv/kv_store.h"
#include "metadata/schema/keys.h"

namespace granary::metadata {

struct InodeRecord {
  proto::Inode inode;
  std::string raw;
};

struct DentryRecord {
  Dentry dentry;
  std::string raw;
};

struct ChunkRecord {
  proto::ChunkInfo chunk;  // chunk_index filled from the key; replica addresses empty
  std::string raw;
};

std::string SerializeInode(const proto::Inode& inode);

// The stored form of a chunk: chunk_index is dropped (the key holds it) and
// replicas keep only their node id (addresses come from the node registry when
// a layout is served), which keeps per-chunk records near 40 bytes.
std::string EncodeStoredChunk(const proto::ChunkInfo& chunk);
Result<proto::ChunkInfo> DecodeStoredChunk(std::string_view bytes, uint64_t chunk_index);

// nullopt when the inode does not exist.
Result<std::optional<InodeRecord>> LoadInode(KvStore& kv, uint64_t id);
// NOT_FOUND when the inode does not exist.
Result<InodeRecord> LoadExistingInode(KvStore& kv, uint64_t id);

// nullopt when `parent` has no entry `name`.
Result<std::optional<DentryRecord>> LoadDentry(KvStore& kv, uint64_t parent,
                                               std::string_view name);

// A committed ("C") or pending ("P") chunk at `index`; nullopt when none.
Result<std::optional<ChunkRecord>> LoadChunk(KvStore& kv, uint64_t inode, uint64_t index);
Result<std::optional<ChunkRecord>> LoadPendingChunk(KvStore& kv, uint64_t inode, uint64_t index);

// Committed chunks of `inode` with index >= first_index, in index order, at
// most `limit` (0 = all). `prefix` selects C (ChunkPrefix) or P (PendingChunkPrefix).
Result<std::vector<ChunkRecord>> LoadChunkRange(KvStore& kv, const std::string& prefix,
                                                uint64_t first_index, size_t limit);

// Every pair of `range`, read in pages.
Result<std::vector<KvPair>> ScanAll(KvStore& kv, KeyRange range);

// Visits every chunk record under `prefix` (AllChunksPrefix() or
// AllPendingChunksPrefix()) in key order, a page at a time, so a cluster's
// whole chunk map is never held in memory: fn(inode, chunk) with the chunk's
// index filled in; it returns false to stop. Records that do not decode are
// logged and skipped. For whole-cluster passes (repair, rebalance, orphan
// sweep, node status), not for per-file work.
Status ForEachChunkRecord(KvStore& kv, std::string_view prefix,
                          const std::function<bool(uint64_t inode, proto::ChunkInfo& chunk)>& fn);

// The extended attributes of `inode` ("X" keys), in name order.
Result<std::vector<KvPair>> LoadXattrs(KvStore& kv, uint64_t inode);

// A file's inline data ("L" key); nullopt when its data is in chunks.
Result<std::optional<std::string>> LoadInlineData(KvStore& kv, uint64_t inode);

}  // namespace granary::metadata
