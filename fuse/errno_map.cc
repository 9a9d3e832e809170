#include "fuse/errno_map.h"

#include <cerrno>

namespace granary::fuse {

int ToErrno(const Status& st) {
  switch (st.code()) {
    case proto::OK: return 0;
    case proto::INVALID_ARGUMENT: return EINVAL;
    case proto::NOT_FOUND: return ENOENT;
    case proto::ALREADY_EXISTS: return EEXIST;
    case proto::PERMISSION_DENIED: return EACCES;
    case proto::NO_SPACE:
    case proto::NOT_ENOUGH_NODES:
    case proto::RESOURCE_EXHAUSTED: return ENOSPC;
    case proto::UNIMPLEMENTED: return EOPNOTSUPP;
    case proto::TIMEOUT: return ETIMEDOUT;
    case proto::CANCELLED: return EINTR;
    case proto::NOT_DIRECTORY: return ENOTDIR;
    case proto::IS_DIRECTORY: return EISDIR;
    case proto::NOT_EMPTY: return ENOTEMPTY;
    case proto::NAME_TOO_LONG: return ENAMETOOLONG;
    case proto::LEASE_CONFLICT: return EBUSY;
    case proto::NO_ATTRIBUTE: return ENODATA;
    case proto::FILE_TOO_LARGE: return EFBIG;
    case proto::QUOTA_EXCEEDED: return EDQUOT;
    case proto::ACROSS_QUOTAS: return EXDEV;  // mv copies instead
    default: return EIO;  // I/O, corruption, unavailable, protocol, lease lost
  }
}

}  // namespace granary::fuse
