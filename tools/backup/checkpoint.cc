#include "tools/backup/checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <memory>

#include "common/checksum/xxh3.h"

namespace granary::tools::backup {
namespace {

constexpr char kMagic[8] = {'G', 'R', 'B', 'K', 'M', 'D', '0', '1'};
constexpr uint32_t kEndMarker = 0xffffffffu;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

}  // namespace

Result<std::unique_ptr<CheckpointWriter>> CheckpointWriter::Create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::IoError("creating " + path + ": " + std::strerror(errno));
  auto w = std::unique_ptr<CheckpointWriter>(new CheckpointWriter(path, f));
  RETURN_IF_ERROR(w->Write(std::string_view(kMagic, sizeof(kMagic))));
  return w;
}

CheckpointWriter::~CheckpointWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

Status CheckpointWriter::Write(std::string_view bytes) {
  if (f_ == nullptr) return Status::Internal("checkpoint " + path_ + " is closed");
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size()) {
    return Status::IoError("writing " + path_ + ": " + std::strerror(errno));
  }
  hash_.Update(bytes);
  return Status::Ok();
}

Status CheckpointWriter::Add(std::string_view key, std::string_view value) {
  if (key.size() > kMaxCheckpointKeyBytes || value.size() > kMaxCheckpointValueBytes) {
    return Status::InvalidArgument(fmt::format("metadata pair of {} + {} bytes is past the limits",
                                               key.size(), value.size()));
  }
  std::string rec;
  rec.reserve(16 + key.size() + value.size());
  PutU32(&rec, static_cast<uint32_t>(key.size()));
  PutU32(&rec, static_cast<uint32_t>(value.size()));
  rec.append(key);
  rec.append(value);
  PutU64(&rec, checksum::Xxh3(rec.data(), rec.size()));
  ++records_;
  return Write(rec);
}

Status CheckpointWriter::Close() {
  std::string end;
  PutU32(&end, kEndMarker);
  PutU32(&end, 0);
  PutU64(&end, records_);
  RETURN_IF_ERROR(Write(end));
  Status st;
  if (std::fflush(f_) != 0 || ::fdatasync(::fileno(f_)) != 0) {
    st = Status::IoError("syncing " + path_ + ": " + std::strerror(errno));
  }
  if (std::fclose(f_) != 0 && st.ok()) st = Status::IoError("closing " + path_);
  f_ = nullptr;
  return st;
}

Status ReadCheckpoint(const std::string& path,
                      const std::function<Status(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::IoError("opening " + path + ": " + std::strerror(errno));
  char magic[8];
  if (std::fread(magic, 1, 8, f.get()) != 8 || std::memcmp(magic, kMagic, 8) != 0) {
    return Status::Corruption(path + " is not a metadata checkpoint");
  }
  std::string rec;
  for (uint64_t n = 0;; ++n) {
    char lens[8];
    if (std::fread(lens, 1, 8, f.get()) != 8) {
      return Status::Corruption(fmt::format("{}: truncated at record {}", path, n));
    }
    const uint64_t klen = GetLe(lens, 4), vlen = GetLe(lens + 4, 4);
    if (klen == kEndMarker) {
      char count[8];
      if (std::fread(count, 1, 8, f.get()) != 8 || GetLe(count, 8) != n) {
        return Status::Corruption(fmt::format("{}: end record does not count {} records", path, n));
      }
      return Status::Ok();
    }
    if (klen > kMaxCheckpointKeyBytes || vlen > kMaxCheckpointValueBytes) {
      return Status::Corruption(fmt::format("{}: record {} claims {} + {} bytes", path, n, klen, vlen));
    }
    rec.assign(lens, 8);
    rec.resize(8 + klen + vlen + 8);
    if (std::fread(rec.data() + 8, 1, klen + vlen + 8, f.get()) != klen + vlen + 8) {
      return Status::Corruption(fmt::format("{}: truncated in record {}", path, n));
    }
    const size_t body = 8 + klen + vlen;
    if (checksum::Xxh3(rec.data(), body) != GetLe(rec.data() + body, 8)) {
      return Status::Corruption(fmt::format("{}: record {} fails its checksum", path, n));
    }
    RETURN_IF_ERROR(fn(std::string_view(rec.data() + 8, klen),
                       std::string_view(rec.data() + 8 + klen, vlen)));
  }
}

}  // namespace granary::tools::backup
