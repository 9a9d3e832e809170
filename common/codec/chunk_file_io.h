#pragma once
// Blocking reads of chunk replica files (format: chunk_format.h), shared by
// the chunk server and by clients that read replicas on their own host
// (local reads). Every length comes from a validated footer or header and is
// bounded before anything is allocated.

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/buffer.h"
#include "common/codec/chunk_format.h"
#include "common/status.h"

namespace granary::codec {

// Reads exactly out.size() bytes at `offset`. IO_ERROR naming `what` on a
// failed read, CORRUPTION when the file ends first.
Status PReadExact(int fd, MutableByteSpan out, uint64_t offset, std::string_view what);

// Reads and validates the footer of a chunk file of `file_size` bytes: the
// trailer first (it bounds the table), then table + trailer in one read so
// the footer checksum covers one buffer. CORRUPTION naming `what` on error.
Result<ChunkFooter> ReadChunkFooter(int fd, uint64_t file_size, std::string_view what);

// The segments of one segmented block whose header starts at `block_offset`
// and which spans `block_length` bytes, covering raw bytes [off, off + len),
// back to back (the CHUNK_READ range reply):
//   kRawSegmented:  block header, segment bytes, their checksums;
//   kZstdSegmented: block header, the whole frame table, the frames.
// nullopt when the block is not segmented: the caller then reads it whole.
Result<std::optional<Buffer>> ReadSegmentRange(int fd, uint64_t block_offset,
                                               uint64_t block_length, uint32_t off, uint32_t len);

}  // namespace granary::codec
