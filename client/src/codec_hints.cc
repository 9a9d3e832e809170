#include "client/src/codec_hints.h"

#include <algorithm>

#include "granary/safetensors.h"

namespace granary {
namespace {

codec::ElementType ElementTypeOf(Dtype d) {
  switch (d) {
    case Dtype::kBF16: return codec::ElementType::kBf16;
    case Dtype::kF16: return codec::ElementType::kF16;
    case Dtype::kF32: return codec::ElementType::kF32;
    // Integers, fp8 and fp64 have no plane layout (yet): plain bytes.
    default: return codec::ElementType::kBytes;
  }
}

// Headers past this are left to sampling: a writer would otherwise hold up
// to the format's 100 MiB cap in memory for a file that only looks like
// safetensors. Real headers are far smaller (about 100 bytes per tensor).
constexpr uint64_t kMaxHintedHeader = 16u << 20;

}  // namespace

CodecHints::CodecHints(uint32_t codec_hint) {
  if (codec_hint <= static_cast<uint32_t>(codec::CodecPolicy::kF32)) {
    base_.policy = static_cast<codec::CodecPolicy>(codec_hint);
  }
  // A forced codec needs no header.
  decided_ = base_.policy != codec::CodecPolicy::kAuto;
}

void CodecHints::Observe(uint64_t offset, ByteSpan data) {
  if (decided_) return;
  if (offset != prefix_.size()) {
    // Not the next bytes of the prefix (a write elsewhere first): a header
    // cannot be read in order, so give up on hints for this file.
    if (offset > prefix_.size()) decided_ = true;
    if (offset + data.size() <= prefix_.size()) return;
    if (decided_) return;
    data = data.subspan(prefix_.size() - offset);
  }
  const size_t want = 8 + kMaxHintedHeader - prefix_.size();
  prefix_.append(reinterpret_cast<const char*>(data.data()), std::min(want, data.size()));
  TryParse();
}

void CodecHints::TryParse() {
  if (prefix_.size() < 9) return;
  const auto* p = reinterpret_cast<const uint8_t*>(prefix_.data());
  Result<uint64_t> n = SafetensorsHeaderLength(ByteSpan(p, 8), ~uint64_t{0});
  // A safetensors header is a JSON object right after its length.
  if (!n.ok() || *n > kMaxHintedHeader || prefix_[8] != '{') {
    decided_ = true;
    prefix_.clear();
    return;
  }
  if (prefix_.size() < 8 + *n) return;  // the rest of the header is still to come
  decided_ = true;
  Result<SafetensorsHeader> h =
      ParseSafetensorsHeader(ByteSpan(p, prefix_.size()), kUnknownSafetensorsFileSize);
  prefix_.clear();
  prefix_.shrink_to_fit();
  if (!h.ok()) return;  // not a valid header: sampling decides
  for (const TensorInfo& t : h->tensors) {
    const codec::ElementType type = ElementTypeOf(t.dtype);
    if (type != codec::ElementType::kBytes && t.end > t.begin) {
      tensors_.push_back({t.begin, t.end, type});
    }
  }
}

codec::EncodeOptions CodecHints::ForBlock(uint64_t offset, uint32_t length,
                                          std::vector<codec::TypedRange>* ranges) const {
  codec::EncodeOptions o = base_;
  ranges->clear();
  if (tensors_.empty() || base_.policy != codec::CodecPolicy::kAuto) return o;
  const uint64_t end = offset + length;
  auto it = std::upper_bound(tensors_.begin(), tensors_.end(), offset,
                             [](uint64_t off, const Typed& t) { return off < t.end; });
  for (; it != tensors_.end() && it->begin < end; ++it) {
    // Ranges start on an element boundary of their tensor.
    const uint32_t w = codec::ElementWidth(it->type);
    uint64_t b = std::max(it->begin, offset);
    b += (w - (b - it->begin) % w) % w;
    const uint64_t e = std::min(it->end, end);
    if (e <= b) continue;
    ranges->push_back({static_cast<uint32_t>(b - offset), static_cast<uint32_t>(e - b), it->type});
  }
  // Bytes outside every tensor (the header itself, integer tensors) are
  // plain bytes; a block that holds only those is left to sampling.
  if (!ranges->empty()) o.types = *ranges;
  return o;
}

}  // namespace granary
