#include "metadata/kv/kv_store.h"

#include <fmt/format.h>

namespace granary::metadata {

std::string PrefixSuccessor(std::string_view prefix) {
  std::string end(prefix);
  // Drop trailing 0xff bytes, then increment the last byte: every key with the
  // prefix sorts below the result, and nothing between them has the prefix.
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

KeyRange KeyRange::Prefix(std::string_view prefix) {
  return KeyRange{std::string(prefix), PrefixSuccessor(prefix)};
}

KeyRange KeyRange::PrefixAfter(std::string_view prefix, std::string_view after) {
  // prefix + after + "\0" is the smallest key sorting after prefix + after.
  std::string start(prefix);
  start.append(after);
  start.push_back('\0');
  return KeyRange{std::move(start), PrefixSuccessor(prefix)};
}

bool KeyRange::Contains(std::string_view key) const {
  return key >= std::string_view(start) && (end.empty() || key < std::string_view(end));
}

void KvTxn::ExpectAbsent(std::string key) {
  checks_.push_back({KvCheck::Kind::kAbsent, std::move(key), {}, {}});
}

void KvTxn::ExpectPresent(std::string key) {
  checks_.push_back({KvCheck::Kind::kPresent, std::move(key), {}, {}});
}

void KvTxn::ExpectEquals(std::string key, std::string value) {
  checks_.push_back({KvCheck::Kind::kEquals, std::move(key), std::move(value), {}});
}

void KvTxn::ExpectValue(std::string key, const std::optional<std::string>& expected) {
  if (expected) {
    ExpectEquals(std::move(key), *expected);
  } else {
    ExpectAbsent(std::move(key));
  }
}

void KvTxn::ExpectRangeEmpty(KeyRange range) {
  checks_.push_back({KvCheck::Kind::kRangeEmpty, {}, {}, std::move(range)});
}

void KvTxn::Put(std::string key, std::string value) {
  writes_.push_back({KvWrite::Kind::kPut, std::move(key), std::move(value)});
}

void KvTxn::Delete(std::string key) {
  writes_.push_back({KvWrite::Kind::kDelete, std::move(key), {}});
}

Status EvaluateCheck(const KvCheck& check, const KvGetFn& get, const KvRangeEmptyFn& range_empty) {
  if (check.kind == KvCheck::Kind::kRangeEmpty) {
    ASSIGN_OR_RETURN(bool empty, range_empty(check.range));
    if (empty) return Status::Ok();
    return KvConflict("transaction check failed: range [" +
                                PrintableKey(check.range.start) + ", " +
                                PrintableKey(check.range.end) + ") is not empty");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> value, get(check.key));
  bool holds = false;
  const char* want = "";
  switch (check.kind) {
    case KvCheck::Kind::kAbsent:
      holds = !value.has_value();
      want = "absent";
      break;
    case KvCheck::Kind::kPresent:
      holds = value.has_value();
      want = "present";
      break;
    case KvCheck::Kind::kEquals:
      holds = value.has_value() && *value == check.value;
      want = "unchanged";
      break;
    case KvCheck::Kind::kRangeEmpty:
      break;  // handled above
  }
  if (holds) return Status::Ok();
  return KvConflict(fmt::format("transaction check failed: key {} is no longer {}",
                                PrintableKey(check.key), want));
}

Status KvConflict(std::string message) {
  return Status(proto::STALE_VERSION, std::move(message), /*retryable=*/true);
}

std::string PrintableKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && u != '\\') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

}  // namespace granary::metadata
