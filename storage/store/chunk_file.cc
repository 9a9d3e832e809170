#include "storage/store/chunk_file.h"

#include <fcntl.h>

#include "common/codec/chunk_file_io.h"
#include "common/log.h"

namespace granary::storage::store {

Result<std::shared_ptr<const ChunkFile>> OpenChunkFile(const std::string& path) {
  auto file = std::make_shared<ChunkFile>();
  file->path = path;
  ASSIGN_OR_RETURN(file->fd, OpenFile(path, O_RDONLY));
  ASSIGN_OR_RETURN(uint64_t size, FileSize(file->fd.get(), path));
  ASSIGN_OR_RETURN(file->footer, codec::ReadChunkFooter(file->fd.get(), size, path));
  return std::shared_ptr<const ChunkFile>(std::move(file));
}

void QuarantineFile(const std::string& path, const Status& reason) {
  Status st = RenameFile(path, path + ".corrupt");
  if (st.ok()) {
    LOG_ERROR("quarantined {} as {}.corrupt: {}", path, path, reason.ToString());
  } else {
    LOG_ERROR("cannot quarantine {} ({}): {}", path, reason.ToString(), st.ToString());
  }
}

}  // namespace granary::storage::store
