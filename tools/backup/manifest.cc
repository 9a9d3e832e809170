#include "tools/backup/manifest.h"

#include <nlohmann/json.hpp>

namespace granary::tools::backup {
namespace {

using nlohmann::json;

// JSON strings must be UTF-8, names in the namespace need not be: a name that
// is not valid UTF-8 is stored as "<field>_hex".
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

Result<std::string> Unhex(std::string_view s) {
  if (s.size() % 2 != 0) return Status::Corruption("odd-length hex string in manifest");
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return Status::Corruption("bad hex digit in manifest");
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

void PutName(json& j, const char* field, const std::string& value) {
  if (ValidUtf8(value)) {
    j[field] = value;
  } else {
    j[std::string(field) + "_hex"] = Hex(value);
  }
}

Result<std::string> GetName(const json& j, const char* field) {
  if (auto it = j.find(field); it != j.end()) return it->get<std::string>();
  if (auto it = j.find(std::string(field) + "_hex"); it != j.end()) {
    return Unhex(it->get<std::string>());
  }
  return std::string();
}

json Time(const TimeSpec& t) { return json::array({t.sec, t.nsec}); }
TimeSpec ParseTime(const json& j) {
  if (!j.is_array() || j.size() != 2) return {};
  return TimeSpec{j[0].get<int64_t>(), j[1].get<uint32_t>()};
}

FileType ParseType(const std::string& s) {
  if (s == "file") return FileType::kFile;
  if (s == "dir") return FileType::kDirectory;
  if (s == "symlink") return FileType::kSymlink;
  return FileType::kUnknown;
}

json SummaryObject(const ManifestSummary& s) {
  return json{{"files", s.files},
              {"folders", s.folders},
              {"symlinks", s.symlinks},
              {"bytes", s.bytes},
              {"chunks", s.chunks},
              {"objects_copied", s.objects_copied},
              {"objects_reused", s.objects_reused},
              {"bytes_copied", s.bytes_copied},
              {"object_bytes_written", s.object_bytes_written},
              {"metadata_pairs", s.metadata_pairs},
              {"metadata_bytes", s.metadata_bytes},
              {"seconds", s.seconds}};
}

}  // namespace

std::string_view TypeName(FileType type) {
  switch (type) {
    case FileType::kFile: return "file";
    case FileType::kDirectory: return "dir";
    case FileType::kSymlink: return "symlink";
    default: return "unknown";
  }
}

std::string SummaryJson(const ManifestSummary& s) { return SummaryObject(s).dump(2) + "\n"; }

std::string ToJson(const Manifest& m) {
  json entries = json::array();
  for (const ManifestEntry& e : m.entries) {
    json j;
    PutName(j, "path", e.path);
    j["type"] = std::string(TypeName(e.type));
    j["mode"] = e.mode;
    j["uid"] = e.uid;
    j["gid"] = e.gid;
    j["atime"] = Time(e.atime);
    j["mtime"] = Time(e.mtime);
    j["ctime"] = Time(e.ctime);
    j["size"] = e.size;
    j["replicas"] = e.replicas;
    j["chunk_size"] = e.chunk_size;
    j["codec"] = e.codec;
    if (e.type == FileType::kSymlink) PutName(j, "target", e.symlink_target);
    if (!e.xattrs.empty()) {
      json xs = json::array();
      for (const BackupXattr& x : e.xattrs) {
        json xj;
        PutName(xj, "name", x.name);
        xj["value_hex"] = Hex(x.value);
        xs.push_back(std::move(xj));
      }
      j["xattrs"] = std::move(xs);
    }
    if (e.type == FileType::kFile) {
      json cs = json::array();
      for (const ManifestChunk& c : e.chunks) {
        cs.push_back(json{{"index", c.index},
                          {"id", c.chunk_id},
                          {"version", c.version},
                          {"length", c.length},
                          {"stored_length", c.stored_length},
                          {"replicas", c.replicas},
                          {"object", c.object}});
      }
      j["chunks"] = std::move(cs);
      if (e.has_inline) j["inline_object"] = e.inline_object;
      j["xxh128"] = e.xxh128;
    }
    entries.push_back(std::move(j));
  }
  json root{{"format", m.format},
            {"name", m.name},
            {"snapshot_unix_ms", m.snapshot_unix_ms},
            {"metadata_only", m.metadata_only},
            {"metadata", {{"file", m.metadata_file}, {"xxh128", m.metadata_xxh128}}},
            {"summary", SummaryObject(m.summary)},
            {"entries", std::move(entries)}};
  PutName(root, "source_path", m.source_path);
  return root.dump(1) + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  try {
    json root = json::parse(text);
    Manifest m;
    m.format = root.at("format").get<int>();
    if (m.format != kManifestFormat) {
      return Status::InvalidArgument("manifest format " + std::to_string(m.format) +
                                     " is not supported (this tool reads " +
                                     std::to_string(kManifestFormat) + ")");
    }
    m.name = root.at("name").get<std::string>();
    ASSIGN_OR_RETURN(m.source_path, GetName(root, "source_path"));
    m.snapshot_unix_ms = root.at("snapshot_unix_ms").get<int64_t>();
    m.metadata_only = root.at("metadata_only").get<bool>();
    m.metadata_file = root.at("metadata").at("file").get<std::string>();
    m.metadata_xxh128 = root.at("metadata").at("xxh128").get<std::string>();
    const json& s = root.at("summary");
    m.summary.files = s.value("files", uint64_t{0});
    m.summary.folders = s.value("folders", uint64_t{0});
    m.summary.symlinks = s.value("symlinks", uint64_t{0});
    m.summary.bytes = s.value("bytes", uint64_t{0});
    m.summary.chunks = s.value("chunks", uint64_t{0});
    for (const json& j : root.at("entries")) {
      ManifestEntry e;
      ASSIGN_OR_RETURN(e.path, GetName(j, "path"));
      e.type = ParseType(j.at("type").get<std::string>());
      if (e.type == FileType::kUnknown) {
        return Status::Corruption("manifest entry " + e.path + " has an unknown type");
      }
      e.mode = j.at("mode").get<uint32_t>();
      e.uid = j.at("uid").get<uint32_t>();
      e.gid = j.at("gid").get<uint32_t>();
      e.atime = ParseTime(j.at("atime"));
      e.mtime = ParseTime(j.at("mtime"));
      e.ctime = ParseTime(j.at("ctime"));
      e.size = j.at("size").get<uint64_t>();
      e.replicas = j.at("replicas").get<uint32_t>();
      e.chunk_size = j.at("chunk_size").get<uint64_t>();
      e.codec = j.at("codec").get<std::string>();
      if (e.type == FileType::kSymlink) {
        ASSIGN_OR_RETURN(e.symlink_target, GetName(j, "target"));
      }
      if (auto it = j.find("xattrs"); it != j.end()) {
        for (const json& xj : *it) {
          BackupXattr x;
          ASSIGN_OR_RETURN(x.name, GetName(xj, "name"));
          ASSIGN_OR_RETURN(x.value, Unhex(xj.at("value_hex").get<std::string>()));
          e.xattrs.push_back(std::move(x));
        }
      }
      if (e.type == FileType::kFile) {
        for (const json& cj : j.at("chunks")) {
          ManifestChunk c;
          c.index = cj.at("index").get<uint64_t>();
          c.chunk_id = cj.at("id").get<uint64_t>();
          c.version = cj.at("version").get<uint64_t>();
          c.length = cj.at("length").get<uint64_t>();
          c.stored_length = cj.at("stored_length").get<uint64_t>();
          c.replicas = cj.at("replicas").get<std::vector<std::string>>();
          c.object = cj.at("object").get<std::string>();
          e.chunks.push_back(std::move(c));
        }
        if (auto it = j.find("inline_object"); it != j.end()) {
          e.has_inline = true;
          e.inline_object = it->get<std::string>();
        }
        e.xxh128 = j.at("xxh128").get<std::string>();
      }
      m.entries.push_back(std::move(e));
    }
    return m;
  } catch (const std::exception& ex) {
    return Status::Corruption(std::string("manifest does not parse: ") + ex.what());
  }
}

}  // namespace granary::tools::backup
