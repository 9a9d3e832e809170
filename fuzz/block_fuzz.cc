// Fuzz target: the block decoder (common/codec/block.h, planes.h) on
// arbitrary bytes, as a chunk server or a client reading a damaged or
// hostile replica would see them. Any input must give a clean error or a
// decode of exactly raw_len bytes; never a crash or an out-of-bounds access.
//
// The same input is also treated as raw data to encode (one policy) and
// decode again, which must round-trip exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/codec/block.h"
#include "common/codec/planes.h"

using namespace granary;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  // 1. Decode as an encoded block.
  Result<codec::BlockHeader> h = codec::ParseBlockHeader(in);
  if (h.ok() && h->encoded_size() <= size) {
    ByteSpan stored(data + codec::kBlockHeaderSize, h->stored_len);
    (void)codec::VerifyStored(*h, stored);
    std::vector<uint8_t> out(h->raw_len);
    (void)codec::DecodeBlock(*h, stored, out);
  }
  // 2. Decode as the stored bytes of a planes block of a guessed raw size.
  if (size >= 4) {
    uint32_t raw_len = 0;
    std::memcpy(&raw_len, data, 4);
    raw_len %= (64u << 10);  // small outputs keep each run cheap
    std::vector<uint8_t> out(raw_len);
    (void)codec::DecodePlanes(in.subspan(4), out);
  }
  // 3. Encode as raw data with one policy (picked by the last byte, so each
  // input costs one encode); the result must round-trip.
  if (size <= codec::kMaxBlockSize) {
    const uint8_t p = size ? data[size - 1] % 6 : 0;
    {
      codec::EncodeOptions o;
      o.policy = static_cast<codec::CodecPolicy>(p);
      // Typed ranges from the first bytes, to exercise region building.
      std::vector<codec::TypedRange> ranges;
      for (size_t i = 0; i + 3 <= std::min<size_t>(size, 24); i += 3) {
        const uint32_t off = static_cast<uint32_t>(data[i] * size / 256);
        const uint32_t len = static_cast<uint32_t>(data[i + 1] * size / 64);
        ranges.push_back({off, len, static_cast<codec::ElementType>(data[i + 2] % 4)});
        if (!ranges.empty() && ranges.size() > 1 && ranges.back().offset <
            ranges[ranges.size() - 2].offset) {
          ranges.pop_back();  // types must be sorted
        }
      }
      if (p == 0) o.types = ranges;
      std::vector<uint8_t> enc(codec::MaxEncodedSize(size));
      Result<size_t> n = codec::EncodeBlock(in, o, enc);
      if (!n.ok()) abort();
      Result<codec::BlockHeader> eh = codec::ParseBlockHeader(ByteSpan(enc.data(), *n));
      if (!eh.ok()) abort();
      std::vector<uint8_t> back(size);
      Status st = codec::DecodeBlock(*eh, ByteSpan(enc.data() + codec::kBlockHeaderSize,
                                                   eh->stored_len), back);
      if (!st.ok() || (size > 0 && std::memcmp(back.data(), data, size) != 0)) abort();
    }
  }
  return 0;
}
