#pragma once
// safetensors headers: the loader reads a checkpoint's tensor table before any
// data, and a writer lays one out, so both go through this parser.
//
// File layout (https://github.com/huggingface/safetensors):
//   u64 LE N | N bytes of JSON | data region
// The JSON maps each tensor name to {"dtype", "shape", "data_offsets"}, plus an
// optional "__metadata__" object of string -> string. data_offsets are
// [begin, end) relative to the data region (which starts at 8 + N).
//
// The header comes from untrusted files, so everything is validated before it
// is used: a tensor's offsets, shape and dtype must agree, tensors must tile the
// data region exactly (no gaps, no overlaps), and the last tensor must end at
// the end of the file. Errors name the tensor and what disagrees.
//
// Error codes: CORRUPTION when the file's bytes are wrong; INVALID_ARGUMENT
// when the caller's input is (too short a prefix, a bad name to Build...).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"

namespace granary {

// Element types, as safetensors names them ("BF16", "F8_E4M3", ...).
enum class Dtype : uint8_t {
  kBool,
  kU8,
  kI8,
  kF8_E4M3,
  kF8_E5M2,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kI64,
  kU64,
  kF64
};

// Bytes per element.
size_t DtypeSize(Dtype dtype);
// "BF16", ... as safetensors spells it.
std::string_view DtypeName(Dtype dtype);
// INVALID_ARGUMENT naming the unknown dtype. Names are case-sensitive.
Result<Dtype> ParseDtype(std::string_view name);

// Bytes of a tensor of `shape` x `dtype`; INVALID_ARGUMENT when the element
// count or the byte count overflows uint64. An empty shape is a scalar.
Result<uint64_t> TensorByteSize(Dtype dtype, std::span<const uint64_t> shape);

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::kU8;
  std::vector<uint64_t> shape;
  // ABSOLUTE file offsets, [begin, end): data_start + data_offsets.
  uint64_t begin = 0;
  uint64_t end = 0;

  bool operator==(const TensorInfo&) const = default;
};

struct SafetensorsHeader {
  uint64_t header_len = 0;          // N, the JSON length
  uint64_t data_start = 0;          // 8 + N
  std::vector<TensorInfo> tensors;  // sorted by begin (then end, then name)
  // "__metadata__", sorted by key.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Same cap as the reference implementation.
inline constexpr uint64_t kMaxSafetensorsHeader = 100 << 20;

// Reads N from the first 8 bytes. CORRUPTION when N is 0, N exceeds
// kMaxSafetensorsHeader, or 8 + N exceeds file_size (or the file is shorter
// than 8 bytes); INVALID_ARGUMENT when `first8` holds fewer than 8 bytes of a
// file that has them.
Result<uint64_t> SafetensorsHeaderLength(ByteSpan first8, uint64_t file_size);

// file_size for a file whose size is not known yet (a checkpoint still being
// written): tensors must still tile the data region from its start without
// gaps or overlaps, but may end anywhere.
inline constexpr uint64_t kUnknownSafetensorsFileSize = ~uint64_t{0};

// Parses and validates a whole header. `prefix` holds at least the first 8 + N
// bytes of the file (more is fine and ignored); file_size is the file's final
// total size, which the last tensor must end at exactly (or
// kUnknownSafetensorsFileSize). JSON objects with duplicate keys and nesting
// deeper than a valid header needs are rejected.
Result<SafetensorsHeader> ParseSafetensorsHeader(ByteSpan prefix, uint64_t file_size);

// model.safetensors.index.json of a sharded checkpoint:
//   {"metadata": {...}, "weight_map": {tensor: shard file, ...}}
// "metadata" is optional and ignored; other top-level keys are ignored.
// weight_map must be a non-empty object of string -> string. Shard names must
// be plain file names in the index's folder: not empty, not "." or "..", no
// '/', '\\' or NUL (so a hostile index cannot point outside the checkpoint).
struct SafetensorsIndex {
  std::vector<std::pair<std::string, std::string>> weight_map;  // sorted by tensor
  std::vector<std::string> shards;                              // distinct, sorted
};
Result<SafetensorsIndex> ParseSafetensorsIndex(std::string_view json);

// What BuildSafetensorsHeader lays out: offsets follow from the order.
struct TensorSpec {
  std::string name;
  Dtype dtype = Dtype::kU8;
  std::vector<uint64_t> shape;
};

// Header bytes (u64 LE N + JSON) for `tensors` stored back to back in the
// given order from the start of the data region; the JSON is padded with
// spaces so the data starts 8-aligned. The caller writes the returned bytes,
// then each tensor's TensorByteSize bytes in the same order; the file is then
// exactly what ParseSafetensorsHeader accepts. INVALID_ARGUMENT on an empty,
// duplicate, reserved ("__metadata__") or non-UTF-8 name, a duplicate metadata
// key, or a shape whose size overflows.
Result<std::string> BuildSafetensorsHeader(
    std::span<const TensorSpec> tensors,
    std::span<const std::pair<std::string, std::string>> metadata = {});

}  // namespace granary
