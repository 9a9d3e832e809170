// Key files, the method table and the frame MAC, without sockets.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "common/net/cluster_key.h"
#include "common/net/frame_mac.h"
#include "common/net/method_access.h"
#include "common/proto/auth.pb.h"
#include "common/proto/granary.pb.h"

namespace granary::net {
namespace {

const std::string kHex64(64, 'a');  // 32 bytes of 0xaa

TEST(KeyRing, ParsesHexAndBase64AndComments) {
  auto ring = KeyRing::Parse(
      "# id role secret\n"
      "\n"
      "daemons cluster " + kHex64 + "  # trailing comment\n"
      "trainers rw base64:" + std::string(44, 'A') + "\n",
      "keys");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  ASSERT_EQ(ring->keys().size(), 2u);
  EXPECT_EQ(ring->First()->id, "daemons");
  EXPECT_EQ(ring->Find("daemons")->secret, std::string(32, '\xaa'));
  EXPECT_EQ(ring->Find("trainers")->role, KeyRole::kReadWrite);
  EXPECT_EQ(ring->Find("trainers")->secret.size(), 33u);  // 44 chars, no padding
  auto daemon = ring->DaemonKey();
  ASSERT_TRUE(daemon.ok());
  EXPECT_EQ((*daemon)->id, "daemons");
}

TEST(KeyRing, RefusesBadLines) {
  auto fails = [](const std::string& text, std::string_view why) {
    auto r = KeyRing::Parse(text, "k");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().ToString();
  };
  fails("a cluster " + std::string(62, 'a') + "\n", "31 bytes");  // too short
  fails("a admin " + kHex64 + "\n", "role 'admin'");
  fails("a cluster " + kHex64 + " extra\n", "three fields");
  fails("a/b cluster " + kHex64 + "\n", "key id");
  fails("a ro " + kHex64 + "\na rw " + kHex64 + "\n", "appears twice");
  fails("a ro " + std::string(63, 'a') + "z\n", "neither hex");
  fails("# nothing\n", "holds no key");
  auto ro_only = KeyRing::Parse("a ro " + kHex64 + "\n", "k");
  ASSERT_TRUE(ro_only.ok());
  EXPECT_FALSE(ro_only->DaemonKey().ok());
}

TEST(KeyRing, LoadRefusesFilesOthersCanRead) {
  char path[] = "/tmp/granary-keyXXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto key = GenerateClusterKey("k1", KeyRole::kCluster);
  ASSERT_TRUE(key.ok());
  std::ofstream(path) << FormatKeyLine(*key);
  ::chmod(path, 0644);
  auto r = KeyRing::Load(path);
  ASSERT_EQ(r.status().code(), proto::PERMISSION_DENIED) << r.status().ToString();
  EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos);
  ::chmod(path, 0600);
  r = KeyRing::Load(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->First()->secret, key->secret);
  ::unlink(path);
  EXPECT_EQ(KeyRing::Load(path).status().code(), proto::NOT_FOUND);
}

TEST(KeyRing, GeneratedKeysDiffer) {
  auto a = GenerateClusterKey("a", KeyRole::kReadOnly);
  auto b = GenerateClusterKey("a", KeyRole::kReadOnly);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->secret.size(), 32u);
  EXPECT_NE(a->secret, b->secret);
  EXPECT_FALSE(GenerateClusterKey("a", KeyRole::kReadOnly, 16).ok());
}

TEST(MethodAccess, EveryMethodIsClassified) {
  const auto* d = proto::Method_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    EXPECT_TRUE(AccessOf(static_cast<uint16_t>(d->value(i)->number())).has_value())
        << d->value(i)->name() << " has no entry in method_access.cc";
  }
  EXPECT_FALSE(AccessOf(9999).has_value());
}

TEST(MethodAccess, RolesGetWhatTheyShould) {
  EXPECT_TRUE(Authorize(KeyRole::kReadOnly, "r", proto::CHUNK_READ).ok());
  EXPECT_TRUE(Authorize(KeyRole::kReadOnly, "r", proto::META_READDIR).ok());
  Status st = Authorize(KeyRole::kReadOnly, "r", proto::CHUNK_WRITE);
  EXPECT_EQ(st.code(), proto::PERMISSION_DENIED);
  EXPECT_NE(st.message().find("read-only key 'r'"), std::string::npos) << st.message();
  EXPECT_EQ(Authorize(KeyRole::kReadOnly, "r", proto::META_CREATE).code(),
            proto::PERMISSION_DENIED);
  EXPECT_TRUE(Authorize(KeyRole::kReadWrite, "w", proto::META_CREATE).ok());
  EXPECT_EQ(Authorize(KeyRole::kReadWrite, "w", proto::META_HEARTBEAT).code(),
            proto::PERMISSION_DENIED);
  EXPECT_EQ(Authorize(KeyRole::kReadWrite, "w", proto::CHUNK_REPLICATE).code(),
            proto::PERMISSION_DENIED);
  EXPECT_TRUE(Authorize(KeyRole::kCluster, "c", proto::CHUNK_REPLICATE).ok());
  EXPECT_EQ(Authorize(KeyRole::kCluster, "c", proto::AUTH_HELLO).code(),
            proto::PERMISSION_DENIED);
  EXPECT_EQ(Authorize(KeyRole::kCluster, "c", 9999).code(), proto::OK);  // then UNKNOWN_METHOD
  EXPECT_EQ(Authorize(KeyRole::kReadWrite, "w", 9999).code(), proto::PERMISSION_DENIED);
}

// One direction: a sender's and a receiver's FrameMac with the same key.
struct MacPair {
  FrameMac tx{std::string(32, 'k')};
  FrameMac rx{std::string(32, 'k')};
};

struct TestFrame {
  uint8_t header[kFrameHeaderSize];
  std::string message = "message";
  std::string payload = std::string(100000, 'p');
  MacTag tag;
  explicit TestFrame(uint64_t id) {
    FrameHeader h;
    h.method = proto::CHUNK_WRITE;
    h.request_id = id;
    h.message_len = 7;
    h.payload_len = 100000;
    EncodeFrameHeader(h, header);
  }
  std::span<const uint8_t> pay() const {
    return {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()};
  }
};

TEST(FrameMac, VerifiesInOrderFrames) {
  MacPair p;
  for (uint64_t i = 1; i <= 3; ++i) {
    TestFrame f(i);
    f.tag = p.tx.Sign(f.header, f.message, f.pay());
    EXPECT_TRUE(p.rx.Verify(f.header, f.message, f.pay(), f.tag).ok());
  }
  EXPECT_EQ(p.rx.sequence(), 3u);
}

TEST(FrameMac, RejectsTamperedFrames) {
  MacPair p;
  TestFrame f(1);
  f.tag = p.tx.Sign(f.header, f.message, f.pay());
  TestFrame g = f;
  g.payload[54321] ^= 1;  // one bit of the payload
  EXPECT_EQ(p.rx.Verify(g.header, g.message, g.pay(), g.tag).code(), proto::PERMISSION_DENIED);
  g = f;
  g.header[8] ^= 1;  // the request id
  EXPECT_FALSE(p.rx.Verify(g.header, g.message, g.pay(), g.tag).ok());
  g = f;
  g.message[0] = 'M';
  EXPECT_FALSE(p.rx.Verify(g.header, g.message, g.pay(), g.tag).ok());
  g = f;
  g.tag[31] ^= 0x80;
  EXPECT_FALSE(p.rx.Verify(g.header, g.message, g.pay(), g.tag).ok());
  // The untouched frame still verifies: failures do not advance the sequence.
  EXPECT_TRUE(p.rx.Verify(f.header, f.message, f.pay(), f.tag).ok());
}

TEST(FrameMac, RejectsReplayedAndReorderedFrames) {
  MacPair p;
  TestFrame a(1), b(2);
  a.tag = p.tx.Sign(a.header, a.message, a.pay());
  b.tag = p.tx.Sign(b.header, b.message, b.pay());
  // Reordered: b arrives first.
  EXPECT_FALSE(p.rx.Verify(b.header, b.message, b.pay(), b.tag).ok());
  ASSERT_TRUE(p.rx.Verify(a.header, a.message, a.pay(), a.tag).ok());
  // Replayed: a again.
  EXPECT_FALSE(p.rx.Verify(a.header, a.message, a.pay(), a.tag).ok());
  EXPECT_TRUE(p.rx.Verify(b.header, b.message, b.pay(), b.tag).ok());
}

TEST(FrameMac, WrongKeyFails) {
  FrameMac tx{std::string(32, 'k')}, rx{std::string(32, 'j')};
  TestFrame f(1);
  f.tag = tx.Sign(f.header, f.message, f.pay());
  EXPECT_FALSE(rx.Verify(f.header, f.message, f.pay(), f.tag).ok());
}

}  // namespace
}  // namespace granary::net
