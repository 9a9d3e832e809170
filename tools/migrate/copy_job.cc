#include "tools/migrate/copy_job.h"

#include "tools/content_hash.h"

namespace granary::tools::migrate {
namespace {

bool SameMtime(const Entry& a, const Entry& b) {
  return a.mtime_sec == b.mtime_sec && a.mtime_nsec == b.mtime_nsec;
}

}  // namespace

bool CopyJob::LooksComplete(const FileItem& item) {
  if (!item.existing) return false;
  const Entry& e = *item.existing;
  if (item.source.type == EntryType::kSymlink) {
    return e.type == EntryType::kSymlink && e.symlink_target == item.source.symlink_target;
  }
  return e.type == EntryType::kFile && e.size == item.source.size && SameMtime(e, item.source);
}

Attrs CopyJob::AttrsOf(const Entry& e) const {
  Attrs a;
  a.mode = e.mode;
  a.mtime_sec = e.mtime_sec;
  a.mtime_nsec = e.mtime_nsec;
  a.set_owner = options_.set_owner;
  a.uid = e.uid;
  a.gid = e.gid;
  return a;
}

Result<Outcome> CopyJob::Copy(const FileItem& item) {
  if (item.source.type == EntryType::kSymlink) return CopySymlink(item);
  return CopyFile(item);
}

Result<Outcome> CopyJob::CopySymlink(const FileItem& item) {
  if (LooksComplete(item)) return Outcome::kSkipped;
  if (options_.dry_run) return Outcome::kCopied;
  // Made under a temporary name and renamed over whatever is there, so the
  // name never disappears in between.
  auto [parent, name] = dst_.Split(item.dst);
  std::string tmp = dst_.Join(parent, TempName(name));
  Status s = dst_.MakeSymlink(tmp, item.source.symlink_target, AttrsOf(item.source));
  if (s.ok()) s = dst_.Rename(tmp, item.dst);
  if (!s.ok()) {
    (void)dst_.Remove(tmp);
    return s;
  }
  progress_.FileDone();
  return Outcome::kCopied;
}

Result<ContentHash> CopyJob::HashFile(Tree& tree, const std::string& path, bool limited) {
  ASSIGN_OR_RETURN(auto source, tree.OpenRead(path));
  Buffer buf(kTransferBufferBytes);
  size_t piece = limited ? limiter_.PieceBytes(buf.size()) : buf.size();
  ContentHasher hasher;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, source->Read(MutableByteSpan(buf.data(), piece)));
    if (n == 0) break;
    if (limited) limiter_.Acquire(n);
    hasher.Update(ByteSpan(buf.data(), n));
  }
  return hasher.Digest();
}

Result<Outcome> CopyJob::CopyFile(const FileItem& item) {
  const Entry& e = item.source;
  if (LooksComplete(item) && !options_.checksum) return Outcome::kSkipped;
  if (options_.checksum && item.existing && item.existing->type == EntryType::kFile &&
      item.existing->size == e.size) {
    ASSIGN_OR_RETURN(ContentHash a, HashFile(src_, item.src, true));
    ASSIGN_OR_RETURN(ContentHash b, HashFile(dst_, item.dst, false));
    if (a == b) {
      // Same bytes: only the attributes may differ (a copy made by another tool).
      if (!options_.dry_run && !LooksComplete(item)) {
        RETURN_IF_ERROR(dst_.SetAttrs(item.dst, EntryType::kFile, AttrsOf(e)));
      }
      return Outcome::kSkipped;
    }
  }
  if (options_.dry_run) return Outcome::kCopied;

  auto [parent, name] = dst_.Split(item.dst);
  std::string tmp = dst_.Join(parent, TempName(name));
  Status s = StreamToTemp(item, tmp);
  if (s.ok()) s = dst_.Rename(tmp, item.dst);
  if (!s.ok()) {
    // Best effort: a temporary left behind is removed by the next run.
    (void)dst_.Remove(tmp);
    return s;
  }
  progress_.FileDone();
  return Outcome::kCopied;
}

Status CopyJob::StreamToTemp(const FileItem& item, const std::string& tmp) {
  ASSIGN_OR_RETURN(auto source, src_.OpenRead(item.src));
  ASSIGN_OR_RETURN(auto sink, dst_.Create(tmp));
  Buffer buf(kTransferBufferBytes);
  size_t piece = limiter_.PieceBytes(buf.size());
  ContentHasher hasher;
  uint64_t copied = 0;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, source->Read(MutableByteSpan(buf.data(), piece)));
    if (n == 0) break;
    limiter_.Acquire(n);
    ByteSpan data(buf.data(), n);
    hasher.Update(data);
    RETURN_IF_ERROR(sink->Write(data));
    copied += n;
    progress_.AddBytes(n);
  }
  RETURN_IF_ERROR(sink->Finish());
  sink.reset();
  source.reset();

  // A file that changed while it was read would be stored with the old
  // mtime and a mix of contents, and then skipped by every rerun.
  ASSIGN_OR_RETURN(Entry after, src_.Stat(item.src));
  if (after.size != item.source.size || copied != item.source.size ||
      !SameMtime(after, item.source)) {
    return Status::IoError(src_.Describe(item.src) +
                           " changed while it was being copied; run migrate again");
  }
  RETURN_IF_ERROR(dst_.SetAttrs(tmp, EntryType::kFile, AttrsOf(item.source)));

  ContentHash want = hasher.Digest();
  ASSIGN_OR_RETURN(ContentHash got, HashFile(dst_, tmp, false));
  if (!(got == want)) {
    return Status::Corruption("verifying " + dst_.Describe(item.dst) + ": XXH3-128 of the copy " +
                              got.ToHex() + " differs from the source's " + want.ToHex() + " (" +
                              src_.Describe(item.src) + ")");
  }
  return Status::Ok();
}

Status CopyJob::FinishDir(const DirItem& dir) {
  if (options_.dry_run) return Status::Ok();
  return dst_.SetAttrs(dir.dst, EntryType::kDirectory, AttrsOf(dir.source));
}

}  // namespace granary::tools::migrate
