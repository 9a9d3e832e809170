#pragma once
// FilePayload: a frame payload that sits in a file. It is sent with
// sendfile(2) straight from the page cache to the socket, never copied
// through user space (chunk servers serve reads this way). sendfile cannot
// suppress SIGPIPE per call, so a process that sends file payloads must
// ignore SIGPIPE (granary::InitProcess in common/process.h does).

#include <cstdint>
#include <memory>

namespace granary::net {

struct FilePayload {
  std::shared_ptr<const void> keep_alive;  // owns `fd` until the bytes are sent
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
};

}  // namespace granary::net
