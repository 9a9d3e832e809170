#pragma once
// Manifest: what one backup run holds, written as manifest.json in the run's
// folder (format in docs/backup.md). Every file entry names its chunk objects
// in the pool and carries the XXH3-128 of its whole contents, which restore
// checks after reading the restored file back from the cluster.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "granary/client.h"

namespace granary::tools::backup {

inline constexpr int kManifestFormat = 1;

struct ManifestChunk {
  uint64_t index = 0;
  uint64_t chunk_id = 0;
  uint64_t version = 0;
  uint64_t length = 0;         // raw bytes of the chunk as of the snapshot
  uint64_t stored_length = 0;  // bytes per replica in the cluster
  std::vector<std::string> replicas;  // node ids at the snapshot
  std::string object;          // pool object name ("" with --metadata-only)
};

struct ManifestEntry {
  std::string path;  // relative to the backed-up subtree; "" = its root
  FileType type = FileType::kUnknown;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  TimeSpec atime, mtime, ctime;
  uint64_t size = 0;
  uint32_t replicas = 0;
  uint64_t chunk_size = 0;
  std::string codec;
  std::string symlink_target;
  std::vector<BackupXattr> xattrs;
  std::vector<ManifestChunk> chunks;
  bool has_inline = false;
  std::string inline_object;  // pool object of an inline file's contents
  std::string xxh128;         // hex XXH3-128 of the contents (files)
};

struct ManifestSummary {
  uint64_t files = 0, folders = 0, symlinks = 0;
  uint64_t bytes = 0;             // file contents
  uint64_t chunks = 0;            // chunk references
  uint64_t objects_copied = 0;    // new objects this run wrote
  uint64_t objects_reused = 0;    // already in the pool
  uint64_t bytes_copied = 0;      // raw bytes read from the cluster
  uint64_t object_bytes_written = 0;  // compressed bytes written to the pool
  uint64_t metadata_pairs = 0;
  uint64_t metadata_bytes = 0;
  double seconds = 0;
};

struct Manifest {
  int format = kManifestFormat;
  std::string name;        // the run folder's name (UTC time)
  std::string source_path; // the backed-up subtree, normalized ("/" = all)
  int64_t snapshot_unix_ms = 0;
  bool metadata_only = false;
  std::string metadata_file;   // relative to the run folder
  std::string metadata_xxh128; // of the whole checkpoint file
  std::vector<ManifestEntry> entries;  // depth first, parents before children
  ManifestSummary summary;
};

// Largest manifest read: about 300 bytes per entry, so tens of millions of
// entries; anything bigger is not a manifest this tool wrote.
inline constexpr uint64_t kMaxManifestBytes = 16ull << 30;

std::string ToJson(const Manifest& m);
// INVALID_ARGUMENT / CORRUPTION naming what does not parse.
Result<Manifest> ParseManifest(std::string_view json);

std::string SummaryJson(const ManifestSummary& s);

// "rwx" helpers for the manifest: type names as stored.
std::string_view TypeName(FileType type);

}  // namespace granary::tools::backup
