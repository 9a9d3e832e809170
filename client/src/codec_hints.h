#pragma once
// CodecHints: what the encoder is told about the blocks of one file.
//
// A safetensors file says what every byte range holds: its header names each
// tensor's dtype. The writer shows this object the file's first bytes; when
// they are a valid safetensors header, each tensor's dtype becomes the
// element type of its range (bf16, fp16 and fp32 tensors get byte planes,
// everything else plain bytes), so the encoder needs no guessing. Files of
// any name are recognised by content. Other files, and blocks written before
// a header was complete, are left to the encoder's sampling.
//
// Also carries the file's codec policy (Inode.codec_hint: a per-file or
// per-folder setting that forces a codec).
//
// Not thread-safe: used from the writing thread, which hands each block's
// ranges to the encoder along with the block.

#include <cstdint>
#include <string>
#include <vector>

#include "common/buffer.h"
#include "common/codec/block.h"

namespace granary {

class CodecHints {
 public:
  explicit CodecHints(uint32_t codec_hint);

  // Bytes written at file offset `offset`. Only the first bytes of a file
  // (its header, up to 16 MiB) are kept, until a header has been
  // recognised or ruled out.
  void Observe(uint64_t offset, ByteSpan data);

  // Encoder options for the block at file offset `offset` of `length` bytes.
  // `ranges` receives the typed ranges that the returned options point to:
  // keep it alive while the options are used.
  codec::EncodeOptions ForBlock(uint64_t offset, uint32_t length,
                                std::vector<codec::TypedRange>* ranges) const;

  const codec::EncodeOptions& base() const { return base_; }
  codec::EncodeOptions& base() { return base_; }
  bool has_tensors() const { return !tensors_.empty(); }

 private:
  void TryParse();

  struct Typed {
    uint64_t begin, end;  // absolute file offsets
    codec::ElementType type;
  };
  codec::EncodeOptions base_;
  bool decided_ = false;  // a header was recognised or ruled out
  std::string prefix_;    // the file's first bytes, while undecided
  std::vector<Typed> tensors_;  // sorted by begin
};

}  // namespace granary
