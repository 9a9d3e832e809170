#pragma once
// How a Granary status becomes the errno a POSIX caller sees.
#include "common/status.h"

namespace granary::fuse {

// 0 for OK. Never ENOSYS: the kernel would stop sending that operation.
int ToErrno(const Status& st);

}  // namespace granary::fuse
