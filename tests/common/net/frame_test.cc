#include "common/net/frame.h"

#include <gtest/gtest.h>

#include <cstring>

namespace granary::net {
namespace {

TEST(Frame, RoundTrip) {
  FrameHeader h;
  h.kind = FrameKind::kResponse;
  h.method = 201;
  h.request_id = 0x1122334455667788ull;
  h.status = 2000;
  h.message_len = 17;
  h.payload_len = 1 << 20;
  uint8_t raw[kFrameHeaderSize];
  EncodeFrameHeader(h, raw);
  auto d = DecodeFrameHeader(raw, FrameLimits{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, FrameKind::kResponse);
  EXPECT_EQ(d->method, 201);
  EXPECT_EQ(d->request_id, h.request_id);
  EXPECT_EQ(d->status, 2000u);
  EXPECT_EQ(d->message_len, 17u);
  EXPECT_EQ(d->payload_len, 1u << 20);
}

// Bytes 16..19 carry the trace id in a request and the status in a response.
TEST(Frame, RequestCarriesTraceResponseCarriesStatus) {
  FrameHeader req;
  req.kind = FrameKind::kRequest;
  req.method = 200;
  req.request_id = 7;
  req.trace = 0x884a55c8;
  uint8_t raw[kFrameHeaderSize];
  EncodeFrameHeader(req, raw);
  auto d = DecodeFrameHeader(raw, FrameLimits{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->trace, 0x884a55c8u);
  EXPECT_EQ(d->status, 0u);  // a request's trace is never read as an error

  FrameHeader resp;
  resp.kind = FrameKind::kResponse;
  resp.request_id = 7;
  resp.status = 2001;
  resp.trace = 0xdeadbeef;  // not sent: responses carry no trace
  EncodeFrameHeader(resp, raw);
  d = DecodeFrameHeader(raw, FrameLimits{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->status, 2001u);
  EXPECT_EQ(d->trace, 0u);
}

TEST(Frame, RejectsGarbage) {
  uint8_t raw[kFrameHeaderSize];
  std::memset(raw, 'A', sizeof raw);
  auto d = DecodeFrameHeader(raw, FrameLimits{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), proto::PROTOCOL_ERROR);
  EXPECT_NE(d.status().message().find("magic"), std::string::npos);
}

TEST(Frame, RejectsFlippedBit) {
  FrameHeader h;
  h.method = 100;
  uint8_t raw[kFrameHeaderSize];
  for (size_t byte = 4; byte < kFrameHeaderSize; ++byte) {
    EncodeFrameHeader(h, raw);
    raw[byte] ^= 0x10;
    auto d = DecodeFrameHeader(raw, FrameLimits{});
    EXPECT_FALSE(d.ok()) << "flip in byte " << byte << " went unnoticed";
  }
}

TEST(Frame, RejectsOversizedLengths) {
  FrameLimits limits;
  limits.max_message_bytes = 1000;
  limits.max_payload_bytes = 5000;
  FrameHeader h;
  uint8_t raw[kFrameHeaderSize];
  h.message_len = 1001;
  EncodeFrameHeader(h, raw);
  auto d = DecodeFrameHeader(raw, limits);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("exceeds"), std::string::npos);
  h.message_len = 1000;
  h.payload_len = 5001;
  EncodeFrameHeader(h, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, limits).ok());
  h.payload_len = 5000;
  EncodeFrameHeader(h, raw);
  EXPECT_TRUE(DecodeFrameHeader(raw, limits).ok());
}

TEST(Frame, RejectsUnknownVersionAndKind) {
  FrameHeader h;
  uint8_t raw[kFrameHeaderSize];
  h.kind = static_cast<FrameKind>(9);
  EncodeFrameHeader(h, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, FrameLimits{}).ok());
}

}  // namespace
}  // namespace granary::net
