#include "common/codec/chunk_format.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "common/checksum/xxh3.h"
#include "common/codec/block.h"
#include "common/endian.h"

namespace granary::codec {
namespace {

constexpr size_t kTrailerChecksumOffset = kTrailerSize - 8;

std::string BlockName(size_t i) { return "block " + std::to_string(i); }

// Format 2's index, checked entry by entry against the (validated) block
// table: a known codec whose shape fits the block's lengths, and a table
// whose length the codec and raw length fix. A kZstdSegmented table must
// also place its frames exactly within the stored bytes.
Result<std::vector<BlockIndexEntry>> ParseIndex(ByteSpan bytes,
                                                const std::vector<BlockEntry>& blocks) {
  std::vector<BlockIndexEntry> index(blocks.size());
  size_t pos = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const BlockEntry& b = blocks[i];
    if (pos >= bytes.size()) return Status::Corruption("chunk index ends before " + BlockName(i));
    const uint8_t codec = bytes[pos++];
    const auto id = static_cast<CodecId>(codec);
    if (codec > static_cast<uint8_t>(CodecId::kZstdSegmented)) {
      return Status::Corruption("chunk index: " + BlockName(i) + " has unknown codec " +
                                std::to_string(codec));
    }
    const size_t table = SegmentTableSize(id, b.raw_len);
    const bool fits = id == CodecId::kRaw            ? b.stored_len == b.raw_len
                      : id == CodecId::kRawSegmented ? b.stored_len == b.raw_len + table
                      : id == CodecId::kZstdSegmented ? b.stored_len >= table
                                                      : true;
    if (!fits || table > bytes.size() - pos) {
      return Status::Corruption("chunk index: " + BlockName(i) + " entry does not fit its lengths");
    }
    index[i].codec = codec;
    index[i].table.assign(bytes.begin() + pos, bytes.begin() + pos + table);
    if (id == CodecId::kZstdSegmented) {
      BlockHeader h;
      h.codec = id;
      h.raw_len = b.raw_len;
      h.stored_len = b.stored_len;
      Result<ZstdSegmentTable> t = ParseZstdSegmentTable(h, ByteSpan(index[i].table));
      if (!t.ok()) return t.status().WithContext("chunk index: " + BlockName(i));
    }
    pos += table;
  }
  if (pos != bytes.size()) {
    return Status::Corruption("chunk index has " + std::to_string(bytes.size() - pos) +
                              " bytes past its last block");
  }
  return index;
}

}  // namespace

std::string ChunkKey::ToString() const {
  return "chunk " + ChunkFileName(*this).substr(0, 16) + " v" + std::to_string(version);
}

uint64_t BlockEntry::encoded_size() const { return codec::kBlockHeaderSize + stored_len; }

bool BlockEntry::Describes(const BlockHeader& h) const {
  return h.stored_len == stored_len && h.raw_len == raw_len && h.stored_xxh3 == stored_xxh3 &&
         h.raw_xxh3 == raw_xxh3;
}

uint64_t ChunkFooter::index_size() const {
  uint64_t n = 0;
  for (const BlockIndexEntry& e : index) n += 1 + e.table.size();
  return n;
}

Buffer EncodeFooter(const ChunkFooter& f) {
  Buffer out(f.footer_size());
  uint8_t* p = out.data();
  for (const BlockIndexEntry& e : f.index) {
    *p++ = e.codec;
    if (!e.table.empty()) std::memcpy(p, e.table.data(), e.table.size());
    p += e.table.size();
  }
  for (const BlockEntry& b : f.blocks) {
    PutU64(p + 0, b.offset);
    PutU32(p + 8, b.stored_len);
    PutU32(p + 12, b.raw_len);
    PutU64(p + 16, b.stored_xxh3);
    PutU64(p + 24, b.raw_xxh3);
    p += kBlockEntrySize;
  }
  std::memset(p, 0, kTrailerSize);
  PutU32(p + 0, kChunkMagic);
  PutU16(p + 4, f.index.empty() ? kOldestChunkFormatVersion : kChunkFormatVersion);
  PutU32(p + 8, static_cast<uint32_t>(f.blocks.size()));
  PutU64(p + 16, f.total_raw);
  PutU64(p + 24, f.total_stored);
  PutU64(p + 32, f.key.chunk_id);
  PutU64(p + 40, f.key.version);
  PutU64(p + 48, f.index_size());
  const size_t covered = out.size() - 8;
  PutU64(p + kTrailerChecksumOffset, checksum::Xxh3(out.data(), covered));
  return out;
}

Result<TrailerInfo> ParseTrailer(ByteSpan t, uint64_t file_size) {
  if (t.size() != kTrailerSize || file_size < kTrailerSize) {
    return Status::Corruption("file of " + std::to_string(file_size) +
                              " bytes is too short for a chunk trailer");
  }
  const uint8_t* p = t.data();
  if (GetU32(p) != kChunkMagic) return Status::Corruption("bad chunk trailer magic");
  const uint16_t version = GetU16(p + 4);
  if (version < kOldestChunkFormatVersion || version > kChunkFormatVersion) {
    return Status::Corruption("unsupported chunk format version " + std::to_string(version));
  }
  if (GetU16(p + 6) != 0 || GetU32(p + 12) != 0 || (version == 1 && GetU64(p + 48) != 0)) {
    return Status::Corruption("chunk trailer reserved fields are not zero");
  }
  TrailerInfo info;
  info.index_size = version >= 2 ? GetU64(p + 48) : 0;
  info.block_count = GetU32(p + 8);
  info.total_raw = GetU64(p + 16);
  info.total_stored = GetU64(p + 24);
  info.key = {GetU64(p + 32), GetU64(p + 40)};
  info.footer_xxh3 = GetU64(p + kTrailerChecksumOffset);
  // The largest index: every block at the largest raw size, with the
  // largest table (kZstdSegmented).
  const uint64_t max_index =
      uint64_t{info.block_count} *
      (1 + SegmentTableSize(CodecId::kZstdSegmented, kMaxBlockSize));
  if (info.block_count > kMaxBlocksPerChunk || info.total_stored > kMaxChunkStoredBytes ||
      info.index_size > max_index) {
    return Status::Corruption("chunk trailer claims " + std::to_string(info.block_count) +
                              " blocks / " + std::to_string(info.total_stored) +
                              " stored bytes / an index of " + std::to_string(info.index_size) +
                              " bytes, beyond the format's bounds");
  }
  // Every term is bounded above, so the sum cannot overflow.
  const uint64_t expected = info.total_stored + info.footer_size();
  if (expected != file_size) {
    return Status::Corruption("chunk file is " + std::to_string(file_size) +
                              " bytes, its trailer implies " + std::to_string(expected));
  }
  return info;
}

Result<ChunkFooter> ParseFooter(ByteSpan footer, uint64_t file_size) {
  if (footer.size() < kTrailerSize) return Status::Corruption("chunk footer truncated");
  // Re-parse the trailer from these very bytes: the file may have changed
  // since the caller read the trailer alone to learn the footer's size.
  ASSIGN_OR_RETURN(TrailerInfo info, ParseTrailer(footer.last(kTrailerSize), file_size));
  if (footer.size() != info.footer_size()) {
    return Status::Corruption("chunk footer has the wrong size");
  }
  if (checksum::Xxh3(footer.data(), footer.size() - 8) != info.footer_xxh3) {
    return Status::Corruption("chunk footer checksum mismatch");
  }
  ChunkFooter f;
  f.key = info.key;
  f.total_raw = info.total_raw;
  f.total_stored = info.total_stored;
  f.blocks.resize(info.block_count);
  const uint8_t* p = footer.data() + info.index_size;
  for (BlockEntry& b : f.blocks) {
    b.offset = GetU64(p + 0);
    b.stored_len = GetU32(p + 8);
    b.raw_len = GetU32(p + 12);
    b.stored_xxh3 = GetU64(p + 16);
    b.raw_xxh3 = GetU64(p + 24);
    p += kBlockEntrySize;
  }
  RETURN_IF_ERROR(ValidateBlockTable(f.blocks, f.total_stored, f.total_raw));
  if (info.index_size > 0 || info.block_count == 0) {
    ASSIGN_OR_RETURN(f.index, ParseIndex(footer.first(info.index_size), f.blocks));
  }
  return f;
}

Status ValidateBlockTable(const std::vector<BlockEntry>& blocks, uint64_t total_stored,
                          uint64_t total_raw) {
  uint64_t expect_offset = 0;
  uint64_t raw_sum = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const BlockEntry& b = blocks[i];
    if (b.offset != expect_offset) {
      return Status::Corruption(BlockName(i) + " starts at stored offset " +
                                std::to_string(b.offset) + ", expected " +
                                std::to_string(expect_offset));
    }
    if (b.raw_len > codec::kMaxBlockSize || b.encoded_size() > codec::MaxEncodedSize(b.raw_len)) {
      return Status::Corruption(BlockName(i) + " lengths out of bounds (raw " +
                                std::to_string(b.raw_len) + ", stored " +
                                std::to_string(b.stored_len) + ")");
    }
    expect_offset = b.end();
    raw_sum += b.raw_len;
    if (expect_offset > total_stored) break;  // reported just below
  }
  if (expect_offset != total_stored) {
    return Status::Corruption("blocks cover " + std::to_string(expect_offset) +
                              " stored bytes, expected " + std::to_string(total_stored));
  }
  if (raw_sum != total_raw) {
    return Status::Corruption("blocks hold " + std::to_string(raw_sum) + " raw bytes, expected " +
                              std::to_string(total_raw));
  }
  return Status::Ok();
}

Result<PieceLayout> ValidatePiece(ByteSpan payload, uint64_t offset, uint32_t first_block,
                                  uint32_t block_count) {
  if (block_count == 0 || payload.empty()) {
    return Status::InvalidArgument("write piece has no blocks");
  }
  if (first_block >= kMaxBlocksPerChunk || block_count > kMaxBlocksPerChunk - first_block) {
    return Status::InvalidArgument("blocks [" + std::to_string(first_block) + ", +" +
                                   std::to_string(block_count) + ") exceed the limit of " +
                                   std::to_string(kMaxBlocksPerChunk) + " blocks per chunk");
  }
  if (offset > kMaxChunkStoredBytes || payload.size() > kMaxChunkStoredBytes - offset) {
    return Status::InvalidArgument("piece at offset " + std::to_string(offset) +
                                   " exceeds the chunk size limit");
  }
  PieceLayout layout;
  layout.offset = offset;
  layout.first_block = first_block;
  layout.blocks.reserve(block_count);
  size_t pos = 0;
  for (uint32_t i = 0; i < block_count; ++i) {
    const std::string name = BlockName(size_t{first_block} + i);
    if (payload.size() - pos < codec::kBlockHeaderSize) {
      return Status::InvalidArgument("payload ends before " + name + " (" +
                                     std::to_string(block_count) + " blocks announced)");
    }
    Result<codec::BlockHeader> h = codec::ParseBlockHeader(payload.subspan(pos));
    if (!h.ok()) return h.status().WithContext(name);
    if (h->encoded_size() > payload.size() - pos) {
      return Status::InvalidArgument(name + " needs " + std::to_string(h->encoded_size()) +
                                     " bytes, the payload has " +
                                     std::to_string(payload.size() - pos) + " left");
    }
    ByteSpan stored = payload.subspan(pos + codec::kBlockHeaderSize, h->stored_len);
    RETURN_IF_ERROR(codec::VerifyStored(*h, stored).WithContext(name));
    layout.blocks.push_back({offset + pos, h->stored_len, h->raw_len, h->stored_xxh3, h->raw_xxh3});
    // The footer's index keeps the codec and a copy of the segment table.
    BlockIndexEntry& ie = layout.index.emplace_back();
    ie.codec = static_cast<uint8_t>(h->codec);
    const size_t table = SegmentTableSize(h->codec, h->raw_len);
    if (table > h->stored_len) return Status::InvalidArgument(name + " is too short for its table");
    const size_t at = h->codec == CodecId::kRawSegmented ? h->stored_len - table : 0;
    ie.table.assign(stored.begin() + at, stored.begin() + at + table);
    pos += h->encoded_size();
  }
  if (pos != payload.size()) {
    return Status::InvalidArgument(std::to_string(block_count) + " blocks cover " +
                                   std::to_string(pos) + " bytes, the payload has " +
                                   std::to_string(payload.size()));
  }
  return layout;
}

std::string ChunkFileName(const ChunkKey& key) {
  char buf[48];
  int n =
      std::snprintf(buf, sizeof(buf), "%016llx.%llu", static_cast<unsigned long long>(key.chunk_id),
                    static_cast<unsigned long long>(key.version));
  return std::string(buf, static_cast<size_t>(n));
}

std::string ChunkSubdirName(uint64_t chunk_id) {
  char buf[4];
  std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned>(chunk_id & 0xff));
  return buf;
}

std::optional<ChunkKey> ParseChunkFileName(std::string_view name) {
  if (name.size() < 18 || name[16] != '.') return std::nullopt;
  ChunkKey key;
  for (char c : name.substr(0, 16)) {
    // Lower-case only, so every key has exactly one name.
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  auto id = std::from_chars(name.data(), name.data() + 16, key.chunk_id, 16);
  std::string_view v = name.substr(17);
  if (v.size() > 1 && v[0] == '0') return std::nullopt;  // no leading zeros
  auto ver = std::from_chars(v.data(), v.data() + v.size(), key.version, 10);
  if (id.ec != std::errc() || ver.ec != std::errc() || ver.ptr != v.data() + v.size()) {
    return std::nullopt;
  }
  return key;
}

}  // namespace granary::codec
