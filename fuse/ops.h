#pragma once
// The low-level operations, grouped by file (ops_entry.cc, ops_dir.cc,
// ops_file.cc, ops_xattr.cc); fs_ops.cc puts them in the table.
#include "fuse/granary_fs.h"

namespace granary::fuse {

// Replies with an error from a Status (never ENOSYS).
void ReplyStatus(fuse_req_t req, const Status& st);
// struct stat of a Granary inode.
struct stat ToStat(const FileInfo& info);
// Replies to a lookup-like request with `info` and counts the kernel reference.
// Replies with `info` (from a change this mount made, or from a read begun at
// `epoch`: see GranaryFs::Remember).
void ReplyEntry(fuse_req_t req, const FileInfo& info, uint64_t epoch = GranaryFs::kChange);
// Fills `e` for `info` (timeouts from the mount options).
void FillEntry(GranaryFs& fs, const FileInfo& info, fuse_entry_param* e);
// Durability of namespace changes made through the mount.
inline constexpr Durability kMountDurability = Durability::kLazy;
Credentials Caller(fuse_req_t req);

// ops_entry.cc: names and attributes.
void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets);
void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);
void OpReadlink(fuse_req_t req, fuse_ino_t ino);
void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);
void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags);
void OpStatfs(fuse_req_t req, fuse_ino_t ino);

// ops_dir.cc: listing.
void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpReleasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);

// ops_file.cc: file data.
void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi);
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi);
void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
// The shared OpenFile of `ino` when a handle of this mount writes it
// (ops_file.cc): setattr goes through it.
std::shared_ptr<OpenFile> WritableFileOf(GranaryFs& fs, fuse_ino_t ino);

// ops_xattr.cc: extended attributes.
void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags);
void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name);

}  // namespace granary::fuse
