#include "common/status.h"

namespace granary {

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = proto::ErrorCode_Name(code_);
  if (s.empty()) s = "ERROR_" + std::to_string(static_cast<int>(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg), retryable_);
}

}  // namespace granary
