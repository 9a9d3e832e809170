#include "tools/backup/metadata_restore.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "common/endian.h"
#include "metadata/kv/rocksdb_kv.h"
#include "metadata/schema/keys.h"
#include "tools/backup/backup_run.h"
#include "tools/backup/checkpoint.h"
#include "tools/backup/manifest.h"
#include "tools/backup/pool.h"
#include "tools/content_hash.h"

namespace granary::tools::backup {
namespace {

namespace fs = std::filesystem;

// Writes go to the store in transactions of about this many bytes: large
// enough to load quickly, small enough to bound memory for any checkpoint.
constexpr size_t kBatchBytes = 4u << 20;

Result<std::string> HashFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::IoError("opening " + path + ": " + std::strerror(errno));
  ContentHasher h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    h.Update(std::string_view(buf.data(), n));
  }
  if (std::ferror(f.get())) return Status::IoError("reading " + path);
  return h.HexDigest();
}

// The counter after the gap; CORRUPTION when the value is not a u64.
Result<std::string> Advanced(std::string_view key, std::string_view value, uint64_t* out) {
  if (value.size() != 8) {
    return Status::Corruption("checkpoint value of " + std::string(key) + " is " +
                              std::to_string(value.size()) + " bytes, not 8");
  }
  uint64_t v = 0;
  for (char c : value) v = (v << 8) | static_cast<uint8_t>(c);
  *out = v + kIdGap;
  std::string enc(8, '\0');
  for (int i = 7; i >= 0; --i) enc[7 - i] = static_cast<char>(*out >> (8 * i));
  return enc;
}

}  // namespace

Result<MetadataRestoreReport> RestoreMetadata(const MetadataRestoreOptions& options) {
  MetadataRestoreReport report;
  ASSIGN_OR_RETURN(RunRef run, OpenRun(options.src, options.backup));
  report.backup = run.name;
  const Manifest& m = run.manifest;
  const std::string& run_dir = run.dir;
  if (m.metadata_file.empty() || m.metadata_file.find('/') != std::string::npos) {
    return Status::Corruption("manifest of " + report.backup + " names no metadata checkpoint");
  }
  const std::string ckpt = run_dir + "/" + m.metadata_file;

  // The whole file is checked before anything is written: a damaged
  // checkpoint must not leave a half-loaded store behind.
  ASSIGN_OR_RETURN(std::string digest, HashFile(ckpt));
  if (digest != m.metadata_xxh128) {
    return Status::Corruption(ckpt + " has XXH3-128 " + digest + ", the manifest says " +
                              m.metadata_xxh128);
  }

  if (options.data_dir.empty()) return Status::InvalidArgument("--metadata-to needs a folder");
  report.db_path = options.data_dir + "/meta.db";
  std::error_code ec;
  if (fs::exists(report.db_path, ec)) {
    return Status::AlreadyExists(report.db_path +
                                 " exists: metadata is restored only into a new data folder "
                                 "(stop that metad and move its folder away first)");
  }
  ASSIGN_OR_RETURN(auto kv, metadata::RocksDbKv::Open({.path = report.db_path}));

  metadata::KvTxn txn;
  size_t pending = 0;
  auto flush = [&](bool sync) -> Status {
    if (txn.empty()) return Status::Ok();
    Status st = kv->Commit(txn, {.sync = sync});
    txn = metadata::KvTxn();
    pending = 0;
    return st;
  };
  RETURN_IF_ERROR(ReadCheckpoint(ckpt, [&](std::string_view key, std::string_view value) -> Status {
    std::string v(value);
    if (key == metadata::kNextInodeKey) {
      ASSIGN_OR_RETURN(v, Advanced(key, value, &report.next_inode));
    } else if (key == metadata::kNextChunkKey) {
      ASSIGN_OR_RETURN(v, Advanced(key, value, &report.next_chunk));
    }
    ++report.records;
    report.bytes += key.size() + value.size();
    pending += key.size() + v.size();
    txn.Put(std::string(key), std::move(v));
    if (pending >= kBatchBytes) return flush(/*sync=*/false);
    return Status::Ok();
  }).WithContext("loading " + ckpt));
  RETURN_IF_ERROR(flush(/*sync=*/false));
  // Everything on disk before the command reports success.
  RETURN_IF_ERROR(kv->Sync());
  return report;
}

}  // namespace granary::tools::backup
