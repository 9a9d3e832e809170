#include "storage/store/chunk_file.h"

#include <fcntl.h>

#include "common/log.h"

namespace granary::storage::store {

Result<std::shared_ptr<const ChunkFile>> OpenChunkFile(const std::string& path) {
  auto file = std::make_shared<ChunkFile>();
  file->path = path;
  ASSIGN_OR_RETURN(file->fd, OpenFile(path, O_RDONLY));
  ASSIGN_OR_RETURN(uint64_t size, FileSize(file->fd.get(), path));
  if (size < kTrailerSize) {
    return Status::Corruption(path + " is " + std::to_string(size) +
                              " bytes, too short for a chunk file");
  }
  // Two reads: the trailer says how long the footer is, then the whole footer
  // (table + trailer again) is read in one piece so its checksum covers one
  // contiguous buffer. ParseTrailer bounds the table before it is allocated.
  uint8_t trailer[kTrailerSize];
  RETURN_IF_ERROR(PReadAll(file->fd.get(), trailer, size - kTrailerSize, path));
  Result<TrailerInfo> info = ParseTrailer(trailer, size);
  if (!info.ok()) return info.status().WithContext(path);
  Buffer footer(info->table_size() + kTrailerSize);
  RETURN_IF_ERROR(PReadAll(file->fd.get(), footer.span(), info->table_offset(), path));
  Result<ChunkFooter> parsed = ParseFooter(footer.span(), size);
  if (!parsed.ok()) return parsed.status().WithContext(path);
  file->footer = std::move(parsed).value();
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
