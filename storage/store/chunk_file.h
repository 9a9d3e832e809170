#pragma once
// ChunkFile: an open, committed chunk replica whose footer has been read and
// validated. Immutable once opened, so one instance may be shared by any
// number of concurrent readers (pread needs no lock). Blocking I/O.

#include <memory>
#include <string>

#include "common/buffer.h"
#include "common/codec/block_index.h"
#include "common/status.h"
#include "storage/store/chunk_format.h"
#include "storage/store/file_util.h"

namespace granary::storage::store {

struct ChunkFile {
  std::string path;
  UniqueFd fd;
  ChunkFooter footer;
  // Headers and segment tables of the blocks read so far (thread-safe).
  codec::BlockIndexCache index;
};

// Opens `path` read-only and validates its trailer and footer (sizes, footer
// checksum, block table). CORRUPTION when the file is not a valid chunk file;
// IO_ERROR / NOT_FOUND from the file system.
Result<std::shared_ptr<const ChunkFile>> OpenChunkFile(const std::string& path);

// Renames a bad replica to "<path>.corrupt" so it is never served or indexed
// again but stays on disk for inspection. Logs `reason`.
void QuarantineFile(const std::string& path, const Status& reason);

}  // namespace granary::storage::store
