#pragma once
// The chunk file format lives in common/codec/chunk_format.h: clients that
// share a host with a chunk server read replica files directly (local reads),
// so they parse the same footer. The store uses the names unqualified.

#include "common/codec/chunk_format.h"

namespace granary::storage::store {

using codec::BlockEntry;
using codec::ChunkFileName;
using codec::ChunkFooter;
using codec::ChunkKey;
using codec::ChunkKeyHash;
using codec::ChunkSubdirName;
using codec::EncodeFooter;
using codec::kBlockEntrySize;
using codec::kChunkFormatVersion;
using codec::kChunkMagic;
using codec::kMaxBlocksPerChunk;
using codec::kMaxChunkStoredBytes;
using codec::kTrailerSize;
using codec::ParseChunkFileName;
using codec::ParseFooter;
using codec::ParseTrailer;
using codec::PieceLayout;
using codec::TrailerInfo;
using codec::ValidateBlockTable;
using codec::ValidatePiece;

}  // namespace granary::storage::store
