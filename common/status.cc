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

bool Status::IsRetryableCode(ErrorCode code) {
  switch (code) {
    case proto::UNAVAILABLE:
    case proto::TIMEOUT:
    case proto::NOT_ENOUGH_NODES:
      return true;
    default:
      return false;
  }
}

Status Status::FromCode(ErrorCode code, std::string message) {
  if (code == proto::OK) return Status();
  if (!proto::ErrorCode_IsValid(code)) {
    message = "unknown error code " + std::to_string(static_cast<int>(code)) + ": " + message;
    code = proto::INTERNAL;
  }
  return Status(code, std::move(message), IsRetryableCode(code));
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg), retryable_);
}

}  // namespace granary
