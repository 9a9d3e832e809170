#pragma once
// Status and Result<T>: Granary's one error type.
//
// Errors are values: they cross the wire (the code and message travel in every
// RPC response frame), get retried, and become errno values in the FUSE mount.
// A Status is OK or holds a code from proto::ErrorCode, a message a user can act
// on, and whether retrying the same operation may succeed.
//
// Exceptions are caught only at coroutine roots and in main(); everything else
// returns Status or Result<T>.

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/proto/granary.pb.h"

namespace granary {

using ErrorCode = proto::ErrorCode;

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(ErrorCode code, std::string message, bool retryable = false)
      : code_(code), message_(std::move(message)), retryable_(retryable) {}

  static Status Ok() { return Status(); }
  // Rebuilds a Status that arrived as a code and message (an RPC response);
  // the retryable flag follows from the code.
  static Status FromCode(ErrorCode code, std::string message);
  static bool IsRetryableCode(ErrorCode code);
  static Status InvalidArgument(std::string msg) { return {proto::INVALID_ARGUMENT, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {proto::NOT_FOUND, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {proto::ALREADY_EXISTS, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {proto::PERMISSION_DENIED, std::move(msg)}; }
  static Status Internal(std::string msg) { return {proto::INTERNAL, std::move(msg)}; }
  static Status IoError(std::string msg) { return {proto::IO_ERROR, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {proto::CORRUPTION, std::move(msg)}; }
  static Status NoSpace(std::string msg) { return {proto::NO_SPACE, std::move(msg)}; }
  static Status Unimplemented(std::string msg) { return {proto::UNIMPLEMENTED, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {proto::RESOURCE_EXHAUSTED, std::move(msg)}; }
  // Transient conditions: the caller may retry, possibly elsewhere.
  static Status Unavailable(std::string msg) { return {proto::UNAVAILABLE, std::move(msg), true}; }
  static Status Timeout(std::string msg) { return {proto::TIMEOUT, std::move(msg), true}; }
  static Status Cancelled(std::string msg) { return {proto::CANCELLED, std::move(msg)}; }
  static Status Protocol(std::string msg) { return {proto::PROTOCOL_ERROR, std::move(msg)}; }
  // Namespace errors (metadata service).
  static Status NotDirectory(std::string msg) { return {proto::NOT_DIRECTORY, std::move(msg)}; }
  static Status IsDirectory(std::string msg) { return {proto::IS_DIRECTORY, std::move(msg)}; }
  static Status NotEmpty(std::string msg) { return {proto::NOT_EMPTY, std::move(msg)}; }
  static Status NameTooLong(std::string msg) { return {proto::NAME_TOO_LONG, std::move(msg)}; }
  static Status LeaseConflict(std::string msg) { return {proto::LEASE_CONFLICT, std::move(msg)}; }
  static Status StaleVersion(std::string msg) { return {proto::STALE_VERSION, std::move(msg)}; }
  static Status NoAttribute(std::string msg) { return {proto::NO_ATTRIBUTE, std::move(msg)}; }
  static Status FileTooLarge(std::string msg) { return {proto::FILE_TOO_LARGE, std::move(msg)}; }
  static Status NotEnoughNodes(std::string msg) { return {proto::NOT_ENOUGH_NODES, std::move(msg), true}; }
  // Storage errors (chunk servers).
  static Status ChunkNotFound(std::string msg) { return {proto::CHUNK_NOT_FOUND, std::move(msg)}; }
  static Status ChecksumMismatch(std::string msg) { return {proto::CHECKSUM_MISMATCH, std::move(msg)}; }

  bool ok() const { return code_ == proto::OK; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }

  // "NOT_FOUND: /a/b does not exist"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("reading chunk 7: ...").
  Status WithContext(std::string_view context) const;

  bool operator==(ErrorCode c) const { return code_ == c; }

 private:
  ErrorCode code_ = proto::OK;
  std::string message_;
  bool retryable_ = false;
};

// Holds a T or a non-OK Status. Modelled after std::expected<T, Status>.
template <class T>
class [[nodiscard]] Result {
 public:
  // An empty Result holds an INTERNAL error; it exists so that Results can
  // pass through APIs that need default construction (futures, channels).
  Result() : v_(Status(proto::INTERNAL, "empty Result")) {}
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace granary

#define GRANARY_CONCAT_INNER(a, b) a##b
#define GRANARY_CONCAT(a, b) GRANARY_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::granary::Status _st = (expr);                    \
    if (!_st.ok()) return _st;                         \
  } while (0)

#define CO_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    ::granary::Status _st = (expr);                    \
    if (!_st.ok()) co_return _st;                      \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

// ASSIGN_OR_RETURN(auto x, Foo());
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(GRANARY_CONCAT(_res_, __LINE__), lhs, expr)

#define CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) co_return tmp.status();         \
  lhs = std::move(tmp).value()

// CO_ASSIGN_OR_RETURN(auto x, co_await Foo());
#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  CO_ASSIGN_OR_RETURN_IMPL(GRANARY_CONCAT(_res_, __LINE__), lhs, expr)
