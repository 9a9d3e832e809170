#pragma once
// gtest assertions for Status and Result<T>. Each evaluates its argument once
// and prints the Status (code and message) on failure.
//
//   ASSERT_OK(client->Mkdir("/a"));
//   EXPECT_OK(writer->Close());
//   ASSERT_ERROR(client->Stat("/missing"), proto::NOT_FOUND);
//   ASSERT_OK_AND_ASSIGN(auto reader, client->Open("/a/b"));

#include <gtest/gtest.h>

#include <utility>

#include "common/status.h"

namespace granary::testutil {

inline const Status& StatusOf(const Status& s) { return s; }
template <class T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

template <class S>
::testing::AssertionResult IsOk(const char* expr, const S& value) {
  Status s = StatusOf(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " failed: " << s.ToString();
}

template <class S>
::testing::AssertionResult HasCode(const char* expr, const char* code_expr, const S& value,
                                   ErrorCode code) {
  Status s = StatusOf(value);
  if (s.code() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " returned " << s.ToString() << ", expected "
                                       << code_expr << " (" << proto::ErrorCode_Name(code) << ")";
}

}  // namespace granary::testutil

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::granary::testutil::IsOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::granary::testutil::IsOk, expr)
#define EXPECT_ERROR(expr, code) EXPECT_PRED_FORMAT2(::granary::testutil::HasCode, expr, code)
#define ASSERT_ERROR(expr, code) ASSERT_PRED_FORMAT2(::granary::testutil::HasCode, expr, code)

#define GRANARY_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  ASSERT_OK(tmp);                                         \
  lhs = std::move(tmp).value()

// ASSERT_OK_AND_ASSIGN(auto x, Foo()); only in functions returning void.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  GRANARY_ASSERT_OK_AND_ASSIGN_IMPL(GRANARY_CONCAT(_assert_res_, __LINE__), lhs, expr)
