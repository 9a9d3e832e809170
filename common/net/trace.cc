#include "common/net/trace.h"

#include <fmt/format.h>

#include <random>

namespace granary::net {

TraceId NewTraceId() {
  // Per-thread generator: no lock on the I/O path; seeded from the OS so
  // processes started together do not produce the same ids.
  thread_local std::mt19937 gen{std::random_device{}()};
  TraceId id = 0;
  while (id == 0) id = static_cast<TraceId>(gen());
  return id;
}

std::string TraceHex(TraceId trace) {
  if (trace == 0) return "-";
  return fmt::format("{:08x}", trace);
}

bool IsExpectedAnswer(proto::ErrorCode code) {
  switch (code) {
    case proto::OK:
    case proto::INVALID_ARGUMENT:
    case proto::NOT_FOUND:
    case proto::ALREADY_EXISTS:
    case proto::NOT_DIRECTORY:
    case proto::IS_DIRECTORY:
    case proto::NOT_EMPTY:
    case proto::NAME_TOO_LONG:
    case proto::LEASE_CONFLICT:
    case proto::NO_ATTRIBUTE:
    case proto::FILE_TOO_LARGE:
    case proto::QUOTA_EXCEEDED:
    case proto::ACROSS_QUOTAS:
    case proto::CANCELLED:
    case proto::UNIMPLEMENTED:
      return true;
    default:
      return false;
  }
}

Status WithTrace(Status st, TraceId trace) {
  if (st.ok() || trace == 0 || IsExpectedAnswer(st.code())) return st;
  // Once is enough: a status passed up through several layers keeps the
  // trace of the operation that first saw it.
  if (st.message().find("[trace ") != std::string::npos) return st;
  return Status(st.code(), st.message() + " [trace " + TraceHex(trace) + "]", st.retryable());
}

}  // namespace granary::net
