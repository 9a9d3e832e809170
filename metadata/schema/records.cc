#include "metadata/schema/records.h"

#include "common/log.h"

namespace granary::metadata {
namespace {

Result<std::optional<ChunkRecord>> LoadChunkAt(KvStore& kv, const std::string& key,
                                               uint64_t index) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, kv.Get(key));
  if (!raw) return std::optional<ChunkRecord>();
  ASSIGN_OR_RETURN(proto::ChunkInfo chunk, DecodeStoredChunk(*raw, index));
  return std::optional<ChunkRecord>(ChunkRecord{std::move(chunk), std::move(*raw)});
}

}  // namespace

std::string SerializeInode(const proto::Inode& inode) {
  std::string out;
  inode.SerializeToString(&out);
  return out;
}

std::string EncodeStoredChunk(const proto::ChunkInfo& chunk) {
  proto::ChunkInfo stored = chunk;
  stored.clear_chunk_index();
  for (proto::NodeAddress& r : *stored.mutable_replicas()) r.clear_address();
  std::string out;
  stored.SerializeToString(&out);
  return out;
}

Result<proto::ChunkInfo> DecodeStoredChunk(std::string_view bytes, uint64_t chunk_index) {
  proto::ChunkInfo chunk;
  if (!chunk.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("chunk record at index " + std::to_string(chunk_index) +
                              " does not parse");
  }
  chunk.set_chunk_index(chunk_index);
  return chunk;
}

Result<std::optional<InodeRecord>> LoadInode(KvStore& kv, uint64_t id) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, kv.Get(InodeKey(id)));
  if (!raw) return std::optional<InodeRecord>();
  InodeRecord rec;
  if (!rec.inode.ParseFromString(*raw) || rec.inode.id() != id) {
    return Status::Corruption("inode record " + std::to_string(id) + " does not parse");
  }
  rec.raw = std::move(*raw);
  return std::optional<InodeRecord>(std::move(rec));
}

Result<InodeRecord> LoadExistingInode(KvStore& kv, uint64_t id) {
  ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(kv, id));
  if (!rec) return Status::NotFound("inode " + std::to_string(id) + " does not exist");
  return std::move(*rec);
}

Result<std::optional<DentryRecord>> LoadDentry(KvStore& kv, uint64_t parent,
                                               std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, kv.Get(DentryKey(parent, name)));
  if (!raw) return std::optional<DentryRecord>();
  ASSIGN_OR_RETURN(Dentry d, DecodeDentry(*raw));
  return std::optional<DentryRecord>(DentryRecord{d, std::move(*raw)});
}

Result<std::optional<ChunkRecord>> LoadChunk(KvStore& kv, uint64_t inode, uint64_t index) {
  return LoadChunkAt(kv, ChunkKey(inode, index), index);
}

Result<std::optional<ChunkRecord>> LoadPendingChunk(KvStore& kv, uint64_t inode, uint64_t index) {
  return LoadChunkAt(kv, PendingChunkKey(inode, index), index);
}

Result<std::vector<ChunkRecord>> LoadChunkRange(KvStore& kv, const std::string& prefix,
                                                uint64_t first_index, size_t limit) {
  std::string start = prefix;
  AppendU64(&start, first_index);
  KeyRange range{std::move(start), PrefixSuccessor(prefix)};
  std::vector<ChunkRecord> out;
  // Page through the range so a huge file never needs one giant read.
  constexpr size_t kPage = 1024;
  while (true) {
    size_t want = limit == 0 ? kPage : std::min(kPage, limit - out.size());
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, want));
    for (KvPair& kvp : page) {
      std::optional<uint64_t> index = ChunkIndexFromKey(kvp.key);
      if (!index) return Status::Corruption("malformed chunk key " + PrintableKey(kvp.key));
      ASSIGN_OR_RETURN(proto::ChunkInfo chunk, DecodeStoredChunk(kvp.value, *index));
      out.push_back(ChunkRecord{std::move(chunk), std::move(kvp.value)});
    }
    if (page.size() < want || (limit != 0 && out.size() >= limit)) break;
    range.start = page.back().key;
    range.start.push_back('\0');
  }
  return out;
}

Result<std::vector<KvPair>> ScanAll(KvStore& kv, KeyRange range) {
  std::vector<KvPair> out;
  constexpr size_t kPage = 1024;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, kPage));
    const size_t n = page.size();
    if (n > 0) range.start = page.back().key + '\0';
    for (KvPair& p : page) out.push_back(std::move(p));
    if (n < kPage) return out;
  }
}

Status ForEachChunkRecord(KvStore& kv, std::string_view prefix,
                          const std::function<bool(uint64_t inode, proto::ChunkInfo& chunk)>& fn) {
  constexpr size_t kPage = 4096;
  KeyRange range = KeyRange::Prefix(prefix);
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, kPage));
    for (const KvPair& kvp : page) {
      std::optional<uint64_t> index = ChunkIndexFromKey(kvp.key);
      Result<uint64_t> inode = DecodeU64(std::string_view(kvp.key).substr(1, 8));
      if (!index || !inode.ok()) continue;
      Result<proto::ChunkInfo> chunk = DecodeStoredChunk(kvp.value, *index);
      if (!chunk.ok()) {
        LOG_ERROR("chunk record {}: {}", PrintableKey(kvp.key), chunk.status().ToString());
        continue;
      }
      if (!fn(*inode, *chunk)) return Status::Ok();
    }
    if (page.size() < kPage) return Status::Ok();
    range.start = page.back().key + std::string(1, '\0');
  }
}

Result<std::vector<KvPair>> LoadXattrs(KvStore& kv, uint64_t inode) {
  return ScanAll(kv, KeyRange::Prefix(XattrPrefix(inode)));
}

Result<std::optional<std::string>> LoadInlineData(KvStore& kv, uint64_t inode) {
  return kv.Get(InlineDataKey(inode));
}

}  // namespace granary::metadata
