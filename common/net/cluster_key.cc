#include "common/net/cluster_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/log.h"

namespace granary::net {
namespace {

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> DecodeSecret(std::string_view text) {
  constexpr std::string_view kBase64 = "base64:";
  std::string out;
  if (text.substr(0, kBase64.size()) == kBase64) {
    text.remove_prefix(kBase64.size());
    // Bounded before decoding: 4 characters per 3 bytes.
    if (text.empty() || text.size() % 4 != 0 || text.size() > kMaxSecretBytes / 3 * 4 + 4) {
      return Status::InvalidArgument("base64 secret has a bad length");
    }
    out.resize(text.size() / 4 * 3);
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) return Status::InvalidArgument("secret is not valid base64");
    // EVP_DecodeBlock counts the padding as zero bytes.
    size_t pad = (text.back() == '=') + (text.size() > 1 && text[text.size() - 2] == '=');
    out.resize(static_cast<size_t>(n) - pad);
  } else {
    if (text.size() % 2 != 0 || text.size() > 2 * kMaxSecretBytes) {
      return Status::InvalidArgument("hex secret has a bad length");
    }
    out.resize(text.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("secret is neither hex nor base64:...");
      }
      out[i] = static_cast<char>(hi << 4 | lo);
    }
  }
  if (out.size() < kMinSecretBytes || out.size() > kMaxSecretBytes) {
    return Status::InvalidArgument(fmt::format("secret of {} bytes: it must hold {} to {}",
                                               out.size(), kMinSecretBytes, kMaxSecretBytes));
  }
  return out;
}

}  // namespace

std::string_view KeyRoleName(KeyRole role) {
  switch (role) {
    case KeyRole::kReadOnly:
      return "ro";
    case KeyRole::kReadWrite:
      return "rw";
    case KeyRole::kCluster:
      return "cluster";
  }
  return "?";
}

Result<KeyRole> ParseKeyRole(std::string_view name) {
  if (name == "ro") return KeyRole::kReadOnly;
  if (name == "rw") return KeyRole::kReadWrite;
  if (name == "cluster") return KeyRole::kCluster;
  return Status::InvalidArgument(fmt::format("role '{}' is not cluster, rw or ro", name));
}

Result<KeyRing> KeyRing::Parse(std::string_view text, std::string_view origin) {
  KeyRing ring;
  ring.origin_ = std::string(origin);
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string id, role, secret, extra;
    if (!(fields >> id)) continue;  // blank or comment
    auto bad = [&](std::string_view why) {
      return Status::InvalidArgument(fmt::format("key file {}:{}: {}", origin, lineno, why));
    };
    if (!(fields >> role >> secret) || (fields >> extra)) {
      return bad("expected three fields: ID ROLE SECRET");
    }
    if (!ValidId(id)) return bad("key id must be 1-64 of [A-Za-z0-9._-]");
    Result<KeyRole> r = ParseKeyRole(role);
    if (!r.ok()) return bad(r.status().message());
    Result<std::string> s = DecodeSecret(secret);
    if (!s.ok()) return bad(s.status().message());
    if (ring.Find(id) != nullptr) return bad(fmt::format("key id '{}' appears twice", id));
    ring.keys_.push_back(ClusterKey{std::move(id), *r, std::move(*s)});
  }
  if (ring.keys_.empty()) {
    return Status::InvalidArgument(fmt::format("key file {} holds no key", origin));
  }
  return ring;
}

Result<std::shared_ptr<const KeyRing>> KeyRing::Load(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    std::string msg = fmt::format("key file {}: {}", path, std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("key file " + path + " is not a file");
  // Secrets readable by others are as good as published: refuse rather than warn.
  if ((st.st_mode & 077) != 0) {
    return Status::PermissionDenied(
        fmt::format("key file {} has mode {:04o}: group and others must have no access "
                    "(chmod 600 {})",
                    path, st.st_mode & 07777, path));
  }
  // A key file is a few lines; refuse anything large before reading it.
  if (st.st_size > 1 << 20) return Status::InvalidArgument("key file " + path + " is over 1 MiB");
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::IoError("cannot read key file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << f.rdbuf();
  ASSIGN_OR_RETURN(KeyRing ring, Parse(text.str(), path));
  return std::make_shared<const KeyRing>(std::move(ring));
}

const ClusterKey* KeyRing::Find(std::string_view id) const {
  for (const ClusterKey& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

Result<std::shared_ptr<const ClusterKey>> KeyRing::DaemonKey() const {
  for (const ClusterKey& k : keys_) {
    if (k.role == KeyRole::kCluster) return std::make_shared<const ClusterKey>(k);
  }
  return Status::InvalidArgument(fmt::format(
      "key file {} has no key with role cluster: daemons need one for their own calls", origin_));
}

Result<std::shared_ptr<const ClusterKey>> LoadClientKey(const std::string& path) {
  if (path.empty()) return std::shared_ptr<const ClusterKey>();
  ASSIGN_OR_RETURN(std::shared_ptr<const KeyRing> ring, KeyRing::Load(path));
  return std::make_shared<const ClusterKey>(*ring->First());
}

Result<DaemonKeys> LoadDaemonKeys(const std::string& path) {
  DaemonKeys k;
  if (path.empty()) return k;
  ASSIGN_OR_RETURN(k.ring, KeyRing::Load(path));
  ASSIGN_OR_RETURN(k.own, k.ring->DaemonKey());
  LOG_INFO("cluster key file {}: {} keys; connections must authenticate", path,
           k.ring->keys().size());
  return k;
}

Result<ClusterKey> GenerateClusterKey(std::string id, KeyRole role, size_t bytes) {
  if (!ValidId(id)) return Status::InvalidArgument("key id must be 1-64 of [A-Za-z0-9._-]");
  if (bytes < kMinSecretBytes || bytes > kMaxSecretBytes) {
    return Status::InvalidArgument(
        fmt::format("a secret holds {} to {} bytes", kMinSecretBytes, kMaxSecretBytes));
  }
  ClusterKey key{std::move(id), role, std::string(bytes, '\0')};
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.secret.data()), static_cast<int>(bytes)) !=
      1) {
    return Status::Internal("RAND_bytes failed: no secure randomness for the key");
  }
  return key;
}

std::string FormatKeyLine(const ClusterKey& key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(key.secret.size() * 2);
  for (unsigned char c : key.secret) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return fmt::format("{} {} {}\n", key.id, KeyRoleName(key.role), hex);
}

}  // namespace granary::net
