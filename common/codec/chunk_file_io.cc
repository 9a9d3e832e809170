#include "common/codec/chunk_file_io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/codec/block.h"

namespace granary::codec {

Status PReadExact(int fd, MutableByteSpan out, uint64_t offset, std::string_view what) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + std::string(what) + ": " + std::strerror(errno));
    }
    if (n == 0) {
      return Status::Corruption(std::string(what) + " ends at " + std::to_string(offset + done) +
                                ", expected at least " + std::to_string(offset + out.size()));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<ChunkFooter> ReadChunkFooter(int fd, uint64_t file_size, std::string_view what) {
  if (file_size < kTrailerSize) {
    return Status::Corruption(std::string(what) + " is " + std::to_string(file_size) +
                              " bytes, too short for a chunk file");
  }
  uint8_t trailer[kTrailerSize];
  RETURN_IF_ERROR(PReadExact(fd, MutableByteSpan(trailer, sizeof trailer),
                             file_size - kTrailerSize, what));
  Result<TrailerInfo> info = ParseTrailer(ByteSpan(trailer, sizeof trailer), file_size);
  if (!info.ok()) return info.status().WithContext(what);
  Buffer footer(info->footer_size());
  RETURN_IF_ERROR(PReadExact(fd, footer.span(), info->footer_offset(), what));
  Result<ChunkFooter> parsed = ParseFooter(footer.span(), file_size);
  if (!parsed.ok()) return parsed.status().WithContext(what);
  return parsed;
}

}  // namespace granary::codec
