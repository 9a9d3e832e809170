#pragma once
// Synthetic safetensors checkpoints for tests (real weights are measured by
// bench/codec_bench and checked by tests/integration/weights_test.cc).

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "granary/safetensors.h"

namespace granary::testutil {

// A synthetic checkpoint: bf16 and fp32 weights (normal, std 0.02), an int32
// tensor of random ids, and a tiny bias: several dtypes share blocks.
inline std::vector<uint8_t> SyntheticCheckpoint(size_t bf16_elems) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const std::vector<TensorSpec> specs = {
      {"embed.weight", Dtype::kBF16, {bf16_elems / 1024, 1024}},
      {"ids", Dtype::kI32, {3001}},
      {"norm.bias", Dtype::kF32, {7}},
      {"proj.weight", Dtype::kF32, {bf16_elems / 4}},
  };
  Result<std::string> header = BuildSafetensorsHeader(specs);
  EXPECT_TRUE(header.ok()) << header.status().ToString();
  std::vector<uint8_t> out(header->begin(), header->end());
  auto f32 = [&](float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    return u;
  };
  for (size_t i = 0; i < bf16_elems / 1024 * 1024; ++i) {
    const uint32_t u = f32(normal(rng));
    const uint16_t b = static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    out.push_back(static_cast<uint8_t>(b));
    out.push_back(static_cast<uint8_t>(b >> 8));
  }
  for (int i = 0; i < 3001; ++i) {
    const uint32_t id = rng();
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(id >> (8 * k)));
  }
  for (size_t i = 0; i < 7 + bf16_elems / 4; ++i) {
    const uint32_t u = f32(normal(rng));
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(u >> (8 * k)));
  }
  return out;
}

}  // namespace granary::testutil
