#pragma once
// Blocking reads of chunk replica files (format: chunk_format.h), shared by
// the chunk server and by clients that read replicas on their own host
// (local reads). Every length comes from a validated footer or header and is
// bounded before anything is allocated.

#include <cstdint>
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

}  // namespace granary::codec
