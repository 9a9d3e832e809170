#pragma once
// Cluster keys: the shared secrets that authenticate every connection when a
// cluster is configured with a key file (protocol: docs/security.md).
//
// Key file format, one key per line, '#' starts a comment:
//
//   # ID        ROLE     SECRET
//   daemons     cluster  9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//   trainers    rw       base64:Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=
//
// ID: 1-64 of [A-Za-z0-9._-]. ROLE: `cluster` (daemons and admins: every
// method), `rw` (clients: read and write) or `ro` (read only). SECRET: hex,
// or base64 after a "base64:" prefix; at least 32 bytes once decoded.
//
// Daemons load every key of their file and accept any of them; for their own
// calls (heartbeats, chain forwarding, repair copies) they use the first key
// with role `cluster`. Clients use the first key of their file.
//
// The file holds secrets, so Load refuses a file that its group or others may
// read or write (PERMISSION_DENIED naming the mode and the chmod to run).
// KeyRing is immutable after loading and safe to share between threads.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace granary::net {

enum class KeyRole : uint8_t { kReadOnly = 1, kReadWrite = 2, kCluster = 3 };

// "ro", "rw", "cluster".
std::string_view KeyRoleName(KeyRole role);
Result<KeyRole> ParseKeyRole(std::string_view name);

// Secrets shorter than this (in bytes, once decoded) are refused.
inline constexpr size_t kMinSecretBytes = 32;
// And longer than this: a bound on what a key file line may allocate.
inline constexpr size_t kMaxSecretBytes = 1024;
inline constexpr size_t kMaxKeyIdBytes = 64;

struct ClusterKey {
  std::string id;
  KeyRole role = KeyRole::kReadOnly;
  std::string secret;  // raw bytes, never logged and never sent
};

class KeyRing {
 public:
  // Parses key file text; `origin` (the path) prefixes every error, which
  // also names the line. Errors: INVALID_ARGUMENT.
  static Result<KeyRing> Parse(std::string_view text, std::string_view origin);
  // Reads and parses `path` after checking its permissions (see above).
  // Errors: NOT_FOUND/IO_ERROR reading, PERMISSION_DENIED for a file others
  // may read, INVALID_ARGUMENT for its contents (no key at all included).
  static Result<std::shared_ptr<const KeyRing>> Load(const std::string& path);

  const ClusterKey* Find(std::string_view id) const;
  // The key a client uses: the first one. Null only for an empty ring.
  const ClusterKey* First() const { return keys_.empty() ? nullptr : &keys_.front(); }
  // The key a daemon uses for its own calls. Errors: INVALID_ARGUMENT
  // naming `origin` when the file has no `cluster` key.
  Result<std::shared_ptr<const ClusterKey>> DaemonKey() const;

  const std::vector<ClusterKey>& keys() const { return keys_; }
  const std::string& origin() const { return origin_; }

 private:
  std::vector<ClusterKey> keys_;
  std::string origin_;
};

// Loads `path` and returns the key a client uses (its first). Empty path:
// null, no key (the wire stays unauthenticated).
Result<std::shared_ptr<const ClusterKey>> LoadClientKey(const std::string& path);

// A daemon's keys: every key of its file is accepted from peers, and its
// own calls (registration, heartbeats, chain forwarding, repair) use `own`,
// its cluster key. Both null for an empty path (no authentication).
struct DaemonKeys {
  std::shared_ptr<const KeyRing> ring;
  std::shared_ptr<const ClusterKey> own;
};
// Loads `path` for a daemon and logs how many keys it holds. Errors as
// KeyRing::Load, and INVALID_ARGUMENT for a file with no `cluster` key.
Result<DaemonKeys> LoadDaemonKeys(const std::string& path);

// A new key with `bytes` bytes of secret from OpenSSL's CSPRNG (RAND_bytes).
// Errors: INVALID_ARGUMENT for a bad id or too short a secret, INTERNAL when
// the generator fails.
Result<ClusterKey> GenerateClusterKey(std::string id, KeyRole role, size_t bytes = 32);
// "ID ROLE HEXSECRET\n", a key file line.
std::string FormatKeyLine(const ClusterKey& key);

}  // namespace granary::net
