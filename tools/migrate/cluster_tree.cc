// The cluster side of `granary migrate`: path calls of the client library,
// plus the inode-level calls for what paths do not offer (symlinks, mtime,
// owner).
#include <unistd.h>

#include "tools/migrate/tree.h"

namespace granary::tools::migrate {
namespace {

Entry FromInfo(const FileInfo& info) {
  Entry e;
  e.type = info.type == FileType::kFile        ? EntryType::kFile
           : info.type == FileType::kDirectory ? EntryType::kDirectory
           : info.type == FileType::kSymlink   ? EntryType::kSymlink
                                               : EntryType::kOther;
  e.size = info.size;
  e.mode = info.mode & 07777;
  e.uid = info.uid;
  e.gid = info.gid;
  e.mtime_sec = info.mtime_sec;
  e.mtime_nsec = info.mtime_nsec;
  e.symlink_target = info.symlink_target;
  return e;
}

class ClusterSource final : public FileSource {
 public:
  explicit ClusterSource(std::unique_ptr<FileReader> reader) : reader_(std::move(reader)) {}
  Result<size_t> Read(MutableByteSpan out) override {
    ASSIGN_OR_RETURN(size_t n, reader_->PRead(offset_, out));
    offset_ += n;
    return n;
  }

 private:
  std::unique_ptr<FileReader> reader_;
  uint64_t offset_ = 0;
};

class ClusterSink final : public FileSink {
 public:
  ClusterSink(std::unique_ptr<FileWriter> writer, std::string path)
      : writer_(std::move(writer)), path_(std::move(path)) {}
  Status Write(ByteSpan data) override { return writer_->Write(data).WithContext(path_); }
  Status Finish() override { return writer_->Close().WithContext(path_); }

 private:
  std::unique_ptr<FileWriter> writer_;
  std::string path_;
};

class ClusterTree final : public Tree {
 public:
  ClusterTree(std::unique_ptr<Client> client, std::string name, bool fsync)
      : client_(std::move(client)), name_(std::move(name)), fsync_(fsync) {}

  std::string Describe(const std::string& path) const override {
    return "granary://" + name_ + path;
  }
  std::string Join(const std::string& dir, std::string_view name) const override {
    return JoinPath(dir, name);
  }
  std::pair<std::string, std::string> Split(const std::string& path) const override {
    auto split = SplitParent(path);
    if (!split.ok()) return {"/", ""};
    return *split;
  }

  Result<Entry> Stat(const std::string& path) override {
    ASSIGN_OR_RETURN(FileInfo info, client_->Stat(path));
    return FromInfo(info);
  }

  Result<std::vector<Entry>> List(const std::string& dir) override {
    ASSIGN_OR_RETURN(auto entries, client_->ReadDir(dir));
    std::vector<Entry> out;
    out.reserve(entries.size());
    for (const DirEntryInfo& d : entries) {
      out.push_back(FromInfo(d.info));
      out.back().name = d.name;
    }
    return out;
  }

  Status MakeDir(const std::string& path) override {
    auto made = client_->Mkdir(path, 0700);
    if (made.ok() || made.status().code() != proto::ALREADY_EXISTS) return made.status();
    ASSIGN_OR_RETURN(FileInfo info, client_->Stat(path));
    if (info.type != FileType::kDirectory) {
      return Status::NotDirectory(Describe(path) + " exists and is not a folder");
    }
    return Status::Ok();
  }

  Status MakeSymlink(const std::string& path, const std::string& target,
                     const Attrs& attrs) override {
    auto [parent, name] = Split(path);
    ASSIGN_OR_RETURN(FileInfo dir, client_->Stat(parent));
    Credentials cred{attrs.set_owner ? attrs.uid : geteuid(),
                     attrs.set_owner ? attrs.gid : getegid()};
    ASSIGN_OR_RETURN(FileInfo link,
                     client_->SymlinkAt(dir.inode, name, target, cred, Durability::kSynced));
    return SetAttrsAt(link.inode, EntryType::kSymlink, attrs);
  }

  Result<std::unique_ptr<FileSource>> OpenRead(const std::string& path) override {
    ASSIGN_OR_RETURN(auto reader, client_->Open(path));
    return std::unique_ptr<FileSource>(new ClusterSource(std::move(reader)));
  }

  Result<std::unique_ptr<FileSink>> Create(const std::string& path) override {
    CreateOptions options;
    options.mode = 0600;
    options.fsync_on_close = fsync_;
    ASSIGN_OR_RETURN(auto writer, client_->Create(path, options));
    return std::unique_ptr<FileSink>(new ClusterSink(std::move(writer), Describe(path)));
  }

  Status SetAttrs(const std::string& path, EntryType type, const Attrs& attrs) override {
    ASSIGN_OR_RETURN(FileInfo info, client_->Stat(path));
    return SetAttrsAt(info.inode, type, attrs);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    return client_->Rename(from, to);
  }

  Status Remove(const std::string& path) override { return client_->Unlink(path); }
  Status RemoveDir(const std::string& path) override { return client_->Rmdir(path); }

 private:
  Status SetAttrsAt(uint64_t inode, EntryType type, const Attrs& attrs) {
    AttrChanges changes;
    if (type != EntryType::kSymlink) changes.mode = attrs.mode & 07777;
    changes.mtime = TimeSpec{attrs.mtime_sec, attrs.mtime_nsec};
    if (attrs.set_owner) {
      changes.uid = attrs.uid;
      changes.gid = attrs.gid;
    }
    return client_->SetAttrAt(inode, changes, Durability::kSynced).status();
  }

  std::unique_ptr<Client> client_;
  const std::string name_;
  const bool fsync_;
};

}  // namespace

std::unique_ptr<Tree> MakeClusterTree(std::unique_ptr<Client> client, std::string name,
                                      bool fsync) {
  return std::make_unique<ClusterTree>(std::move(client), std::move(name), fsync);
}

}  // namespace granary::tools::migrate
