// Extended attributes. user.* and trusted.* names are stored in metad;
// security.* is not supported (reads find nothing, writes get EOPNOTSUPP); granary.* is a read-only view of the layout (replicas, chunk size,
// codec, replica locations) that listxattr leaves out, so that copying tools
// (cp -a, rsync -X) do not try to write it elsewhere.
#include <sys/xattr.h>

#include <string>

#include "fmt/format.h"
#include "fuse/ops.h"

namespace granary::fuse {
namespace {

constexpr std::string_view kGranaryPrefix = "granary.";

bool Stored(std::string_view name) {
  return name.starts_with("user.") || name.starts_with("trusted.");
}

// security.* (capabilities, SELinux labels) is not kept: the kernel asks for
// security.capability before every write to a file, and answering that
// locally saves a metadata round trip per write.
bool Security(std::string_view name) { return name.starts_with("security."); }

// The granary.* view; NO_ATTRIBUTE for an unknown name.
Result<std::string> LayoutAttr(GranaryFs& fs, uint64_t ino, std::string_view name) {
  ASSIGN_OR_RETURN(FileInfo info, fs.client().GetAttr(ino));
  if (name == "granary.replicas") return std::to_string(info.replicas);
  if (name == "granary.chunk_size") return std::to_string(info.chunk_size);
  if (name == "granary.codec") return info.codec;
  if (name == "granary.inode") return std::to_string(info.inode);
  if (name == "granary.locations") {
    if (info.type != FileType::kFile) return std::string();
    ASSIGN_OR_RETURN(auto chunks, fs.client().GetLayoutAt(ino));
    std::string out;
    for (const auto& c : chunks) {
      out += fmt::format("chunk {} id {} v{} {} bytes:", c.chunk_index, c.chunk_id, c.version,
                         c.length);
      for (const auto& r : c.replicas) out += " " + r.node_id + "@" + r.address;
      out += "\n";
    }
    return out;
  }
  return Status::FromCode(proto::NO_ATTRIBUTE, std::string(name) + ": no such attribute");
}

void ReplyValue(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) return (void)fuse_reply_xattr(req, value.size());
  if (value.size() > size) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, value.data(), value.size());
}

}  // namespace

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags) {
  std::string_view n = name;
  if (n.starts_with(kGranaryPrefix)) return (void)fuse_reply_err(req, EPERM);
  if (!Stored(n)) return (void)fuse_reply_err(req, EOPNOTSUPP);
  XattrMode mode = XattrMode::kAny;
  if (flags & XATTR_CREATE) mode = XattrMode::kCreate;
  if (flags & XATTR_REPLACE) mode = XattrMode::kReplace;
  Status st = Fs(req).client().SetXattr(
      ino, n, ByteSpan(reinterpret_cast<const uint8_t*>(value), size), mode, kMountDurability);
  if (st.code() == proto::ALREADY_EXISTS) return (void)fuse_reply_err(req, EEXIST);
  if (st.code() == proto::INVALID_ARGUMENT || st.code() == proto::RESOURCE_EXHAUSTED) {
    return (void)fuse_reply_err(req, st.message().find("name") != std::string::npos ? ERANGE : E2BIG);
  }
  ReplyStatus(req, st);
}

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  std::string_view n = name;
  GranaryFs& fs = Fs(req);
  if (Security(n)) return (void)fuse_reply_err(req, ENODATA);
  Result<std::string> value = n.starts_with(kGranaryPrefix) ? LayoutAttr(fs, ino, n)
                              : Stored(n) ? fs.client().GetXattr(ino, n)
                                          : Result<std::string>(Status::Unimplemented(""));
  if (!value.ok()) return ReplyStatus(req, value.status());
  ReplyValue(req, *value, size);
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto names = Fs(req).client().ListXattr(ino);
  if (!names.ok()) return ReplyStatus(req, names.status());
  std::string out;
  for (const auto& n : *names) {
    out += n;
    out.push_back('\0');
  }
  ReplyValue(req, out, size);
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  std::string_view n = name;
  if (n.starts_with(kGranaryPrefix)) return (void)fuse_reply_err(req, EPERM);
  if (!Stored(n)) return (void)fuse_reply_err(req, EOPNOTSUPP);
  ReplyStatus(req, Fs(req).client().RemoveXattr(ino, n, kMountDurability));
}

}  // namespace granary::fuse
