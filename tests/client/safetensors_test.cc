#include "granary/safetensors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/endian.h"

namespace granary {
namespace {

ByteSpan Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// 8-byte length + `json`, exactly as given (no padding).
std::string RawHeader(std::string_view json) {
  std::string out(8, '\0');
  PutU64(reinterpret_cast<uint8_t*>(out.data()), json.size());
  return out + std::string(json);
}

// Parses `json` as the header of a file whose data region holds data_size bytes.
Result<SafetensorsHeader> ParseJson(std::string_view json, uint64_t data_size) {
  std::string file = RawHeader(json);
  return ParseSafetensorsHeader(Bytes(file), file.size() + data_size);
}

uint64_t DataSize(const std::vector<TensorSpec>& specs) {
  uint64_t n = 0;
  for (const auto& s : specs) n += *TensorByteSize(s.dtype, s.shape);
  return n;
}

// Fails the test unless `r` is an error with `code` whose message has every word.
template <class T>
void ExpectError(const Result<T>& r, ErrorCode code, std::vector<std::string> words) {
  ASSERT_FALSE(r.ok()) << "expected an error containing " << words[0];
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  for (const auto& w : words) {
    EXPECT_NE(r.status().message().find(w), std::string::npos)
        << "message \"" << r.status().message() << "\" lacks \"" << w << "\"";
  }
}

constexpr Dtype kAllDtypes[] = {
    Dtype::kBool, Dtype::kU8,  Dtype::kI8,  Dtype::kF8_E4M3, Dtype::kF8_E5M2,
    Dtype::kI16,  Dtype::kU16, Dtype::kF16, Dtype::kBF16,    Dtype::kI32,
    Dtype::kU32,  Dtype::kF32, Dtype::kI64, Dtype::kU64,     Dtype::kF64,
};

TEST(Dtype, NamesAndSizesMatchSafetensors) {
  EXPECT_EQ(DtypeName(Dtype::kBF16), "BF16");
  EXPECT_EQ(DtypeName(Dtype::kF8_E4M3), "F8_E4M3");
  EXPECT_EQ(DtypeName(Dtype::kBool), "BOOL");
  EXPECT_EQ(DtypeSize(Dtype::kBool), 1u);
  EXPECT_EQ(DtypeSize(Dtype::kF8_E5M2), 1u);
  EXPECT_EQ(DtypeSize(Dtype::kBF16), 2u);
  EXPECT_EQ(DtypeSize(Dtype::kU32), 4u);
  EXPECT_EQ(DtypeSize(Dtype::kF64), 8u);
  for (Dtype d : kAllDtypes) {
    auto parsed = ParseDtype(DtypeName(d));
    ASSERT_TRUE(parsed.ok()) << DtypeName(d);
    EXPECT_EQ(*parsed, d);
  }
}

TEST(Dtype, UnknownNamesAreRejectedByName) {
  ExpectError(ParseDtype("F17"), proto::INVALID_ARGUMENT, {"unknown dtype", "\"F17\""});
  ExpectError(ParseDtype("bf16"), proto::INVALID_ARGUMENT, {"\"bf16\""});
  ExpectError(ParseDtype(""), proto::INVALID_ARGUMENT, {"unknown dtype"});
}

TEST(TensorByteSize, ScalarsZerosAndOverflow) {
  EXPECT_EQ(*TensorByteSize(Dtype::kF32, {}), 4u);
  std::vector<uint64_t> shape = {2, 3};
  EXPECT_EQ(*TensorByteSize(Dtype::kBF16, shape), 12u);
  shape = {1ull << 40, 1ull << 40, 0};
  EXPECT_EQ(*TensorByteSize(Dtype::kF64, shape), 0u);  // empty, whatever the order
  shape = {1ull << 32, 1ull << 32};
  ExpectError(TensorByteSize(Dtype::kU8, shape), proto::INVALID_ARGUMENT, {"overflows"});
  shape = {1ull << 62};
  ExpectError(TensorByteSize(Dtype::kF32, shape), proto::INVALID_ARGUMENT, {"overflows"});
}

TEST(SafetensorsRoundTrip, EveryDtype) {
  for (Dtype d : kAllDtypes) {
    std::vector<TensorSpec> specs = {{"w", d, {3, 5}}, {"b", d, {7}}};
    auto header = BuildSafetensorsHeader(specs);
    ASSERT_TRUE(header.ok()) << header.status().message();
    uint64_t size = header->size() + DataSize(specs);
    auto h = ParseSafetensorsHeader(Bytes(*header), size);
    ASSERT_TRUE(h.ok()) << DtypeName(d) << ": " << h.status().message();
    EXPECT_EQ(h->data_start, header->size());
    EXPECT_EQ(h->header_len + 8, h->data_start);
    EXPECT_EQ(h->data_start % 8, 0u);
    ASSERT_EQ(h->tensors.size(), 2u);
    // Laid out in the given order, so "w" comes first.
    const auto& w = h->tensors[0];
    EXPECT_EQ(w.name, "w");
    EXPECT_EQ(w.dtype, d);
    EXPECT_EQ(w.shape, (std::vector<uint64_t>{3, 5}));
    EXPECT_EQ(w.begin, h->data_start);
    EXPECT_EQ(w.end, h->data_start + 15 * DtypeSize(d));
    const auto& b = h->tensors[1];
    EXPECT_EQ(b.name, "b");
    EXPECT_EQ(b.dtype, d);
    EXPECT_EQ(b.begin, w.end);
    EXPECT_EQ(b.end, size);
    EXPECT_TRUE(h->metadata.empty());
  }
}

TEST(SafetensorsRoundTrip, MixedDtypesMetadataScalarsAndEmptyTensors) {
  std::vector<TensorSpec> specs;
  for (Dtype d : kAllDtypes) specs.push_back({"t_" + std::string(DtypeName(d)), d, {2, 3}});
  specs.push_back({"scalar", Dtype::kF32, {}});
  specs.push_back({"empty", Dtype::kBF16, {0, 4096}});
  specs.push_back({"empty2", Dtype::kF64, {0}});
  specs.push_back({"layers.0.attn.q_proj.weight \xe4\xb8\xad", Dtype::kF16, {4, 4}});
  std::vector<std::pair<std::string, std::string>> meta = {{"format", "pt"}, {"a", "b"}};
  auto header = BuildSafetensorsHeader(specs, meta);
  ASSERT_TRUE(header.ok()) << header.status().message();
  auto h = ParseSafetensorsHeader(Bytes(*header), header->size() + DataSize(specs));
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->tensors.size(), specs.size());
  uint64_t pos = h->data_start;
  for (const TensorInfo& t : h->tensors) {
    EXPECT_EQ(t.begin, pos) << t.name;  // sorted and contiguous
    pos = t.end;
    auto spec = std::find_if(specs.begin(), specs.end(), [&](auto& s) { return s.name == t.name; });
    ASSERT_NE(spec, specs.end()) << t.name;
    EXPECT_EQ(t.dtype, spec->dtype);
    EXPECT_EQ(t.shape, spec->shape);
    EXPECT_EQ(t.end - t.begin, *TensorByteSize(t.dtype, t.shape));
  }
  // Metadata comes back sorted by key.
  EXPECT_EQ(h->metadata,
            (std::vector<std::pair<std::string, std::string>>{{"a", "b"}, {"format", "pt"}}));
}

TEST(SafetensorsRoundTrip, NoTensors) {
  auto header = BuildSafetensorsHeader({});
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->size(), 16u);  // 8 + "{}" padded to 8
  auto h = ParseSafetensorsHeader(Bytes(*header), header->size());
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_TRUE(h->tensors.empty());
  // With no tensors any data byte is a trailing byte.
  ExpectError(ParseSafetensorsHeader(Bytes(*header), header->size() + 1), proto::CORRUPTION,
              {"trailing"});
}

TEST(SafetensorsRoundTrip, PrefixMayHoldMoreThanTheHeader) {
  std::vector<TensorSpec> specs = {{"x", Dtype::kU8, {5}}};
  auto header = BuildSafetensorsHeader(specs);
  ASSERT_TRUE(header.ok());
  std::string file = *header + "abcde";
  auto h = ParseSafetensorsHeader(Bytes(file), file.size());
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->tensors[0].end, file.size());
}

TEST(BuildSafetensorsHeader, RejectsBadInput) {
  std::vector<TensorSpec> specs = {{"", Dtype::kU8, {1}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"empty name"});
  specs = {{"a", Dtype::kU8, {1}}, {"a", Dtype::kU8, {2}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"duplicate", "\"a\""});
  specs = {{"__metadata__", Dtype::kU8, {1}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"reserved"});
  specs = {{"bad\xff", Dtype::kU8, {1}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"UTF-8"});
  specs = {{"big", Dtype::kF64, {1ull << 61}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"\"big\"", "overflows"});
  specs = {{"a", Dtype::kU8, {1ull << 63}}, {"b", Dtype::kU8, {1ull << 63}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"\"b\"", "overflows"});
  std::vector<std::pair<std::string, std::string>> meta = {{"k", "1"}, {"k", "2"}};
  ExpectError(BuildSafetensorsHeader({}, meta), proto::INVALID_ARGUMENT, {"duplicate", "\"k\""});
}

TEST(SafetensorsHeaderLength, Bounds) {
  std::string h(8, '\0');
  PutU64(reinterpret_cast<uint8_t*>(h.data()), 100);
  EXPECT_EQ(*SafetensorsHeaderLength(Bytes(h), 108), 100u);
  ExpectError(SafetensorsHeaderLength(Bytes(h), 107), proto::CORRUPTION,
              {"header length 100", "past the end", "107"});
  ExpectError(SafetensorsHeaderLength(Bytes(h).first(7), 108), proto::INVALID_ARGUMENT,
              {"first 8 bytes", "got 7"});
  ExpectError(SafetensorsHeaderLength(Bytes(h).first(5), 5), proto::CORRUPTION,
              {"file of 5 bytes", "too short"});
  PutU64(reinterpret_cast<uint8_t*>(h.data()), 0);
  ExpectError(SafetensorsHeaderLength(Bytes(h), 1000), proto::CORRUPTION, {"header length is 0"});
  PutU64(reinterpret_cast<uint8_t*>(h.data()), kMaxSafetensorsHeader);
  EXPECT_EQ(*SafetensorsHeaderLength(Bytes(h), 1ull << 40), kMaxSafetensorsHeader);
  PutU64(reinterpret_cast<uint8_t*>(h.data()), kMaxSafetensorsHeader + 1);
  ExpectError(SafetensorsHeaderLength(Bytes(h), 1ull << 40), proto::CORRUPTION,
              {std::to_string(kMaxSafetensorsHeader + 1), "exceeds the cap"});
  PutU64(reinterpret_cast<uint8_t*>(h.data()), ~0ull);
  ExpectError(SafetensorsHeaderLength(Bytes(h), ~0ull), proto::CORRUPTION, {"exceeds the cap"});
}

TEST(ParseSafetensorsHeader, TruncatedPrefix) {
  std::vector<TensorSpec> specs = {{"x", Dtype::kF32, {4}}};
  auto header = BuildSafetensorsHeader(specs);
  ASSERT_TRUE(header.ok());
  uint64_t size = header->size() + 16;
  ExpectError(ParseSafetensorsHeader(Bytes(*header).first(20), size), proto::INVALID_ARGUMENT,
              {"have 20 bytes", "needs 8 + " + std::to_string(header->size() - 8)});
  ExpectError(ParseSafetensorsHeader(Bytes(*header).first(3), size), proto::INVALID_ARGUMENT,
              {"first 8 bytes"});
  EXPECT_TRUE(ParseSafetensorsHeader(Bytes(*header), size).ok());
  // The file itself shorter than its header claims.
  ExpectError(ParseSafetensorsHeader(Bytes(*header).first(20), 20), proto::CORRUPTION,
              {"past the end"});
}

TEST(ParseSafetensorsHeader, RejectsInvalidJson) {
  ExpectError(ParseJson("{", 0), proto::CORRUPTION, {"invalid JSON"});
  ExpectError(ParseJson("{} x", 0), proto::CORRUPTION, {"invalid JSON"});
  // nlohmann alone would stop at the NUL and accept the header.
  ExpectError(ParseJson(std::string("{}\0", 3), 0), proto::CORRUPTION, {"invalid JSON", "NUL"});
  ExpectError(ParseJson(std::string("{}\0garbage", 10), 0), proto::CORRUPTION, {"NUL"});
  ExpectError(ParseJson("{\"x\xff\": 1}", 0), proto::CORRUPTION, {"invalid JSON"});
  ExpectError(ParseJson("{\"\\ud800\": 1}", 0), proto::CORRUPTION, {"invalid JSON"});
  // Whitespace around the object is fine (writers pad with spaces).
  EXPECT_TRUE(ParseJson(" {}   ", 0).ok());
}

TEST(ParseSafetensorsHeader, TopLevelMustBeAnObject) {
  ExpectError(ParseJson("[]", 0), proto::CORRUPTION, {"top level", "array", "not an object"});
  ExpectError(ParseJson("\"x\"", 0), proto::CORRUPTION, {"top level", "not an object"});
  ExpectError(ParseJson("12", 0), proto::CORRUPTION, {"top level", "not an object"});
}

TEST(ParseSafetensorsHeader, DuplicateKeysAreRejected) {
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                            "x": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})",
                        2),
              proto::CORRUPTION, {"duplicate key", "\"x\""});
  ExpectError(
      ParseJson(R"({"x": {"dtype": "U8", "dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})",
                1),
      proto::CORRUPTION, {"duplicate key", "\"dtype\""});
  ExpectError(ParseJson(R"({"__metadata__": {"a": "1", "a": "2"}})", 0), proto::CORRUPTION,
              {"duplicate key", "\"a\""});
}

TEST(ParseSafetensorsHeader, DeepNestingIsRejectedWithoutRecursion) {
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [[[1]]], "data_offsets": [0, 1]}})", 1),
              proto::CORRUPTION, {"nesting deeper than 4"});
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  ExpectError(ParseJson(deep, 0), proto::CORRUPTION, {"nesting"});
  // One level too deep for a shape still gets a precise message.
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [[1]], "data_offsets": [0, 1]}})", 1),
              proto::CORRUPTION, {"shape[0] is an array"});
}

TEST(ParseSafetensorsHeader, TensorEntryShape) {
  ExpectError(ParseJson(R"({"": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})", 1),
              proto::CORRUPTION, {"empty name"});
  ExpectError(ParseJson(R"({"x": [1, 2]})", 0), proto::CORRUPTION,
              {"tensor \"x\"", "not an object"});
  ExpectError(
      ParseJson(R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1], "y": 1}})", 1),
      proto::CORRUPTION, {"tensor \"x\"", "unexpected key \"y\""});
  ExpectError(ParseJson(R"({"x": {"shape": [1], "data_offsets": [0, 1]}})", 1), proto::CORRUPTION,
              {"tensor \"x\"", "missing \"dtype\""});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "data_offsets": [0, 1]}})", 1), proto::CORRUPTION,
              {"tensor \"x\"", "missing \"shape\""});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1]}})", 1), proto::CORRUPTION,
              {"tensor \"x\"", "missing \"data_offsets\""});
}

TEST(ParseSafetensorsHeader, DtypeMustBeAKnownString) {
  ExpectError(ParseJson(R"({"x": {"dtype": 3, "shape": [1], "data_offsets": [0, 1]}})", 1),
              proto::CORRUPTION, {"tensor \"x\"", "dtype is 3", "not a string"});
  ExpectError(ParseJson(R"({"x": {"dtype": "F4", "shape": [1], "data_offsets": [0, 1]}})", 1),
              proto::CORRUPTION, {"tensor \"x\"", "unknown dtype \"F4\""});
}

TEST(ParseSafetensorsHeader, ShapeMustBeNonNegativeIntegers) {
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": 4, "data_offsets": [0, 4]}})", 4),
              proto::CORRUPTION, {"tensor \"x\"", "shape is 4", "not an array"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [2, -2], "data_offsets": [0, 4]}})", 4),
              proto::CORRUPTION, {"tensor \"x\"", "shape[1] is -2", "non-negative integer"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [2.0], "data_offsets": [0, 2]}})", 2),
              proto::CORRUPTION, {"shape[0]", "non-negative integer"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": ["2"], "data_offsets": [0, 2]}})", 2),
              proto::CORRUPTION, {"shape[0] is the string \"2\""});
  // "-0" is 0, as the reference implementation reads it.
  auto zero = ParseJson(R"({"x": {"dtype": "U8", "shape": [-0], "data_offsets": [-0, 0]}})", 0);
  ASSERT_TRUE(zero.ok()) << zero.status().message();
  EXPECT_EQ(zero->tensors[0].shape, std::vector<uint64_t>{0});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1e999], "data_offsets": [0, 2]}})", 2),
              proto::CORRUPTION, {"invalid JSON", "number overflow"});
  // 2^64 does not fit: nlohmann reads it as a float.
  ExpectError(
      ParseJson(
          R"({"x": {"dtype": "U8", "shape": [18446744073709551616], "data_offsets": [0, 2]}})", 2),
      proto::CORRUPTION, {"shape[0]", "non-negative integer"});
  ExpectError(
      ParseJson(
          R"({"x": {"dtype": "BF16", "shape": [4294967296, 4294967296], "data_offsets": [0, 2]}})",
          2),
      proto::CORRUPTION, {"tensor \"x\"", "shape [4294967296,4294967296] x BF16 overflows"});
  ExpectError(
      ParseJson(
          R"({"x": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 2]}})", 2),
      proto::CORRUPTION, {"overflows"});
}

TEST(ParseSafetensorsHeader, DataOffsetsMustBeTwoOrderedIntegers) {
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1, 2]}})", 1),
              proto::CORRUPTION, {"tensor \"x\"", "data_offsets must be [begin, end]", "[0,1,2]"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": [0]}})", 1),
              proto::CORRUPTION, {"data_offsets must be [begin, end]"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": [-1, 0]}})", 1),
              proto::CORRUPTION, {"data_offsets must be [begin, end]", "[-1,0]"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": {"a": 1}}})", 1),
              proto::CORRUPTION, {"data_offsets must be [begin, end]", "an object"});
  ExpectError(ParseJson(R"({"x": {"dtype": "U8", "shape": [0], "data_offsets": [2, 1]}})", 2),
              proto::CORRUPTION, {"tensor \"x\"", "[2, 1]", "begin > end"});
}

TEST(ParseSafetensorsHeader, SizeMustMatchShapeAndDtype) {
  auto r = ParseJson(R"({"x": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 10]}})", 10);
  ExpectError(r, proto::CORRUPTION,
              {"tensor \"x\": shape [2,3] x BF16 = 12 bytes but data_offsets span 10"});
}

TEST(ParseSafetensorsHeader, OffsetsMustLieInTheFile) {
  auto r = ParseJson(R"({"x": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}})", 7);
  ExpectError(r, proto::CORRUPTION,
              {"tensor \"x\"", "[0, 8]", "end past the data region of 7 bytes"});
  // Huge offsets must not wrap around when made absolute.
  r = ParseJson(R"({"x": {"dtype": "U8", "shape": [0],
                   "data_offsets": [18446744073709551615, 18446744073709551615]}})",
                0);
  ExpectError(r, proto::CORRUPTION, {"end past the data region"});
}

TEST(ParseSafetensorsHeader, TensorsMustTileTheDataRegion) {
  ExpectError(ParseJson(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                            "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})",
                        6),
              proto::CORRUPTION, {"tensor \"b\"", "[2, 6]", "overlaps tensor \"a\"", "[0, 4]"});
  ExpectError(ParseJson(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                            "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
                        4),
              proto::CORRUPTION, {"overlaps"});
  // An empty tensor inside another one overlaps it too.
  ExpectError(ParseJson(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                            "b": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2]}})",
                        4),
              proto::CORRUPTION, {"tensor \"b\"", "overlaps tensor \"a\""});
  ExpectError(ParseJson(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                            "b": {"dtype": "U8", "shape": [4], "data_offsets": [6, 10]}})",
                        10),
              proto::CORRUPTION, {"gap", "[4, 6]", "before tensor \"b\""});
  ExpectError(ParseJson(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})", 6),
              proto::CORRUPTION, {"gap", "[0, 2]"});
  ExpectError(ParseJson(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})", 5),
              proto::CORRUPTION, {"[0, 4)", "holds 5 bytes", "trailing"});
  // Empty tensors at a boundary are fine, in any key order.
  auto ok = ParseJson(R"({"z": {"dtype": "U8", "shape": [0], "data_offsets": [4, 4]},
                          "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                          "e": {"dtype": "F32", "shape": [3, 0], "data_offsets": [0, 0]}})",
                      4);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_EQ(ok->tensors.size(), 3u);
  EXPECT_EQ(ok->tensors[0].name, "e");
  EXPECT_EQ(ok->tensors[1].name, "a");
  EXPECT_EQ(ok->tensors[2].name, "z");
}

TEST(ParseSafetensorsHeader, UnknownFileSizeLeavesOnlyTheEndFree) {
  std::vector<TensorSpec> specs = {{"a", Dtype::kBF16, {1024}}, {"b", Dtype::kF32, {8}}};
  auto header = BuildSafetensorsHeader(specs);
  ASSERT_TRUE(header.ok());
  // Only the header has been written so far.
  auto h = ParseSafetensorsHeader(Bytes(*header), kUnknownSafetensorsFileSize);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->tensors.size(), 2u);
  EXPECT_EQ(h->tensors[1].end, header->size() + 2048 + 32);
  // The known-size check is what rejects that same prefix as a whole file.
  ExpectError(ParseSafetensorsHeader(Bytes(*header), header->size()), proto::CORRUPTION,
              {"tensor \"a\"", "end past the data region of 0 bytes"});
  // Gaps and overlaps are still errors.
  std::string gap = RawHeader(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})");
  ExpectError(ParseSafetensorsHeader(Bytes(gap), kUnknownSafetensorsFileSize), proto::CORRUPTION,
              {"gap"});
  // Offsets that would wrap around 64 bits are still errors.
  std::string wrap = RawHeader(R"({"a": {"dtype": "U8", "shape": [0],
      "data_offsets": [18446744073709551615, 18446744073709551615]}})");
  ExpectError(ParseSafetensorsHeader(Bytes(wrap), kUnknownSafetensorsFileSize), proto::CORRUPTION,
              {"largest file offset"});
}

TEST(ParseSafetensorsHeader, Metadata) {
  auto ok = ParseJson(R"({"__metadata__": {"format": "pt", "x": ""}})", 0);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->metadata,
            (std::vector<std::pair<std::string, std::string>>{{"format", "pt"}, {"x", ""}}));
  ExpectError(ParseJson(R"({"__metadata__": ["a"]})", 0), proto::CORRUPTION,
              {"__metadata__ is an array", "not an object"});
  ExpectError(ParseJson(R"({"__metadata__": null})", 0), proto::CORRUPTION,
              {"__metadata__ is null"});
  ExpectError(ParseJson(R"({"__metadata__": {"n": 1}})", 0), proto::CORRUPTION,
              {"__metadata__ \"n\"", "value is 1", "not a string"});
  ExpectError(ParseJson(R"({"__metadata__": {"n": {"m": "x"}}})", 0), proto::CORRUPTION,
              {"__metadata__ \"n\"", "value is an object"});
}

TEST(ParseSafetensorsHeader, MessagesQuoteNamesSafely) {
  std::string name(300, 'n');
  auto r = ParseJson("{\"" + name + "\": 1}", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("... (300 bytes)"), std::string::npos)
      << r.status().message();
  EXPECT_LT(r.status().message().size(), 200u);
  r = ParseJson("{\"a\\u0001\": 2}", 0);
  ExpectError(r, proto::CORRUPTION, {"tensor \"a\\x01\""});
  // Names given to Build need not be UTF-8; messages still are.
  std::vector<TensorSpec> specs = {{"x\xff", Dtype::kU8, {1}}, {"x\xff", Dtype::kU8, {1}}};
  ExpectError(BuildSafetensorsHeader(specs), proto::INVALID_ARGUMENT, {"\"x\\xff\""});
  ExpectError(ParseDtype("\xc3"), proto::INVALID_ARGUMENT, {"\"\\xc3\""});
  // A multi-byte character is never cut in half.
  std::string wide;
  for (int i = 0; i < 40; ++i) wide += "\xe4\xb8\xad";
  r = ParseJson("{\"" + wide + "\": 1}", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"" + wide.substr(0, 63) + "\"... (120 bytes)"),
            std::string::npos)
      << r.status().message();
  // Nor is a message made huge by a shape of many dimensions.
  std::string dims = "1";
  for (int i = 0; i < 5000; ++i) dims += ",1";
  r = ParseJson(R"({"x": {"dtype": "U8", "shape": [)" + dims + R"(], "data_offsets": [0, 2]}})", 2);
  ExpectError(r, proto::CORRUPTION, {"[1,1,1,1,1,1,1,1,... (5001 dimensions)] x U8 = 1 bytes"});
  EXPECT_LT(r.status().message().size(), 200u);
}

TEST(ParseSafetensorsIndex, Good) {
  auto idx = ParseSafetensorsIndex(R"({
    "metadata": {"total_size": 1234, "nested": {"ok": [1, 2]}},
    "weight_map": {
      "lm_head.weight": "model-00002-of-00002.safetensors",
      "embed.weight": "model-00001-of-00002.safetensors",
      "layers.0.w": "model-00001-of-00002.safetensors"
    }})");
  ASSERT_TRUE(idx.ok()) << idx.status().message();
  EXPECT_EQ(idx->shards, (std::vector<std::string>{"model-00001-of-00002.safetensors",
                                                   "model-00002-of-00002.safetensors"}));
  ASSERT_EQ(idx->weight_map.size(), 3u);
  EXPECT_EQ(idx->weight_map[0].first, "embed.weight");
  EXPECT_EQ(idx->weight_map[2].first, "lm_head.weight");
  EXPECT_EQ(idx->weight_map[2].second, "model-00002-of-00002.safetensors");
  // metadata is optional.
  EXPECT_TRUE(ParseSafetensorsIndex(R"({"weight_map": {"a": "x.safetensors"}})").ok());
}

TEST(ParseSafetensorsIndex, RejectsPathTraversal) {
  for (const char* shard : {"../secret.safetensors", "/etc/passwd", "sub/a.safetensors", "..", ".",
                            "", "a\\\\b", "a\\u0000b"}) {
    std::string json = std::string(R"({"weight_map": {"w": ")") + shard + "\"}}";
    ExpectError(ParseSafetensorsIndex(json), proto::CORRUPTION,
                {"weight_map \"w\"", "not a plain file name"});
  }
}

TEST(ParseSafetensorsIndex, RejectsMalformed) {
  ExpectError(ParseSafetensorsIndex("{"), proto::CORRUPTION, {"safetensors index", "invalid JSON"});
  ExpectError(ParseSafetensorsIndex("[]"), proto::CORRUPTION, {"top level", "not an object"});
  ExpectError(ParseSafetensorsIndex(R"({"metadata": {}})"), proto::CORRUPTION,
              {"missing \"weight_map\""});
  ExpectError(ParseSafetensorsIndex(R"({"weight_map": []})"), proto::CORRUPTION,
              {"weight_map is an array"});
  ExpectError(ParseSafetensorsIndex(R"({"weight_map": {}})"), proto::CORRUPTION,
              {"weight_map is empty"});
  ExpectError(ParseSafetensorsIndex(R"({"weight_map": {"w": 3}})"), proto::CORRUPTION,
              {"weight_map \"w\"", "shard is 3", "not a string"});
  ExpectError(ParseSafetensorsIndex(R"({"weight_map": {"": "a.safetensors"}})"), proto::CORRUPTION,
              {"empty tensor name"});
  ExpectError(ParseSafetensorsIndex(R"({"weight_map": {"w": "a", "w": "b"}})"), proto::CORRUPTION,
              {"duplicate key \"w\""});
  std::string deep = R"({"metadata": )" + std::string(100, '[') + std::string(100, ']') +
                     R"(, "weight_map": {"w": "a"}})";
  ExpectError(ParseSafetensorsIndex(deep), proto::CORRUPTION, {"nesting deeper than 16"});
}

}  // namespace
}  // namespace granary
