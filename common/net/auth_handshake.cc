#include "common/net/auth_handshake.h"

#include <openssl/rand.h>

#include <fmt/format.h>

#include "common/net/hmac.h"
#include "common/proto/auth.pb.h"
#include "common/proto/granary.pb.h"

namespace granary::net {
namespace {

// Labels keep the four MACs of one transcript apart: a proof can never be
// replayed as the other side's proof or used as a session key.
constexpr std::string_view kClientProof = "granary-auth-v1 client proof";
constexpr std::string_view kServerProof = "granary-auth-v1 server proof";
constexpr std::string_view kClientToServer = "granary-auth-v1 client to server";
constexpr std::string_view kServerToClient = "granary-auth-v1 server to client";

// Every refusal of a key is PERMISSION_DENIED: not retryable, the same key
// gets the same answer.
Status Refused(std::string msg) { return Status::PermissionDenied(std::move(msg)); }

constexpr uint16_t kHello = proto::AUTH_HELLO;
constexpr uint16_t kProve = proto::AUTH_PROVE;

// HMAC(K, label || 0 || u8 len(id) || id || client nonce || server nonce).
std::string Derive(const std::string& secret, std::string_view label, const std::string& id,
                   const std::string& nc, const std::string& ns) {
  HmacSha256 mac(secret);
  mac.Update(label);
  const uint8_t sep[2] = {0, static_cast<uint8_t>(id.size())};
  mac.Update(std::span<const uint8_t>(sep, 2));
  mac.Update(id);
  mac.Update(nc);
  mac.Update(ns);
  MacTag t = mac.Final();
  return std::string(reinterpret_cast<const char*>(t.data()), t.size());
}

Result<std::string> Nonce() {
  std::string n(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(n.data()), kNonceBytes) != 1) {
    return Status::Internal("RAND_bytes failed: no secure randomness for a nonce");
  }
  return n;
}

bool SameBytes(const std::string& a, const std::string& b) {
  return TagsEqual(std::span(reinterpret_cast<const uint8_t*>(a.data()), a.size()),
                   std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
}

// Closes the connection if the handshake is still running at the deadline.
class Deadline {
 public:
  Deadline(FrameConnection& conn, Millis timeout) : timer_(conn.strand()) {
    timer_.expires_after(timeout);
    timer_.async_wait([c = conn.shared_from_this(), fired = fired_](const asio::error_code& ec) {
      if (ec) return;
      *fired = true;
      c->Close();
    });
  }
  ~Deadline() { timer_.cancel(); }
  bool fired() const { return *fired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> fired_ = std::make_shared<bool>(false);
};

// Reads one handshake frame of `kind`, expecting `method`. For any other
// method returns the header alone (*other = true) without reading further.
Awaitable<Result<InFrame>> ReadAuthFrame(FrameConnection& conn, FrameKind kind, bool* other,
                                         uint16_t method) {
  auto h = co_await conn.ReadHeader();
  if (!h.ok()) co_return h.status();
  if (h->kind != kind || h->method != method) {
    *other = true;
    InFrame f;
    f.header = *h;
    co_return f;
  }
  if (h->message_len > kMaxAuthMessageBytes || h->payload_len != 0) {
    co_return Status::Protocol(fmt::format("handshake frame from {} too large ({} + {} bytes)",
                                           conn.peer(), h->message_len, h->payload_len));
  }
  co_return co_await conn.ReadBody(*h);
}

Awaitable<Status> Reply(FrameConnection& conn, const FrameHeader& req, const Status& st,
                        const google::protobuf::Message* msg) {
  OutFrame out;
  out.header.kind = FrameKind::kResponse;
  out.header.method = req.method;
  out.header.request_id = req.request_id;
  if (!st.ok()) {
    out.header.status = static_cast<uint32_t>(st.code());
    out.message = st.message();
  } else if (!msg->SerializeToString(&out.message)) {
    co_return Status::Internal("cannot serialize handshake reply");
  }
  co_return co_await conn.WriteFrameNow(std::move(out));
}

Awaitable<Result<AuthSession>> ServerSteps(FrameConnection& conn, const KeyRing& keys) {
  // 1. AUTH_HELLO, or a peer without a key.
  bool other = false;
  auto hello = co_await ReadAuthFrame(conn, FrameKind::kRequest, &other, kHello);
  if (!hello.ok()) co_return hello.status();
  if (other) {
    Status refuse = Refused(
        "cluster requires a key: this server refuses connections without one "
        "(give the client --key-file or GRANARY_KEY_FILE)");
    // Request id 0: a refusal of the connection, which the client gives to
    // every call waiting on it (rpc_client.cc), not only to this one.
    FrameHeader whole;
    (void)co_await Reply(conn, whole, refuse, nullptr);
    co_return Refused("peer sent a request without a cluster key");
  }
  proto::AuthHelloRequest req;
  if (!req.ParseFromString(hello->message) || req.client_nonce().size() != kNonceBytes) {
    co_return Status::Protocol("malformed AUTH_HELLO");
  }
  if (req.version() != kAuthVersion) {
    Status refuse = Refused(
        fmt::format("handshake version {} is not supported (this server speaks {})",
                    req.version(), kAuthVersion));
    (void)co_await Reply(conn, hello->header, refuse, nullptr);
    co_return refuse;
  }
  const ClusterKey* key = keys.Find(req.key_id());
  if (key == nullptr) {
    // The id is bounded by the message limit; cut to the longest valid id for the log.
    Status refuse =
        Refused(fmt::format("wrong cluster key: key id '{}' is unknown to this server",
                                    req.key_id().substr(0, kMaxKeyIdBytes)));
    (void)co_await Reply(conn, hello->header, refuse, nullptr);
    co_return refuse;
  }
  CO_ASSIGN_OR_RETURN(std::string ns, Nonce());
  proto::AuthHelloResponse hello_resp;
  hello_resp.set_server_nonce(ns);
  CO_RETURN_IF_ERROR(co_await Reply(conn, hello->header, Status::Ok(), &hello_resp));

  // 2. AUTH_PROVE: the client proves it holds the key first, so that a
  // client with a wrong secret is named in this server's log.
  auto prove = co_await ReadAuthFrame(conn, FrameKind::kRequest, &other, kProve);
  if (!prove.ok()) co_return prove.status();
  if (other) co_return Status::Protocol("expected AUTH_PROVE");
  proto::AuthProveRequest proof;
  if (!proof.ParseFromString(prove->message)) co_return Status::Protocol("malformed AUTH_PROVE");
  const std::string& nc = req.client_nonce();
  if (!SameBytes(proof.client_proof(), Derive(key->secret, kClientProof, key->id, nc, ns))) {
    Status refuse = Refused(fmt::format(
        "wrong cluster key: the secret of key '{}' differs from this server's", key->id));
    (void)co_await Reply(conn, prove->header, refuse, nullptr);
    co_return refuse;
  }
  proto::AuthProveResponse done;
  done.set_server_proof(Derive(key->secret, kServerProof, key->id, nc, ns));
  done.set_role(std::string(KeyRoleName(key->role)));
  CO_RETURN_IF_ERROR(co_await Reply(conn, prove->header, Status::Ok(), &done));
  AuthSession s;
  s.key_id = key->id;
  s.role = key->role;
  s.keys.send = Derive(key->secret, kServerToClient, key->id, nc, ns);
  s.keys.recv = Derive(key->secret, kClientToServer, key->id, nc, ns);
  co_return s;
}

// Reads the server's answer to a handshake request; a refusal comes back as
// the server's status and message.
Awaitable<Result<InFrame>> ReadAnswer(FrameConnection& conn, const std::string& address,
                                      uint16_t method) {
  auto h = co_await conn.ReadHeader();
  if (!h.ok()) co_return h.status();
  if (h->kind != FrameKind::kResponse || h->message_len > kMaxAuthMessageBytes * 4 ||
      h->payload_len != 0) {
    co_return Status::Protocol("unexpected handshake answer from " + address);
  }
  auto f = co_await conn.ReadBody(*h);
  if (!f.ok()) co_return f.status();
  if (f->header.status == proto::UNKNOWN_METHOD) {
    co_return Refused("server " + address + " does not support cluster keys");
  }
  if (f->header.status != 0) {
    // Never retryable: the same key gets the same answer.
    co_return Status(static_cast<ErrorCode>(f->header.status), "server " + address + ": " +
                                                                   f->message);
  }
  if (f->header.method != method) co_return Status::Protocol("handshake answer out of order");
  co_return f;
}

Awaitable<Result<AuthSession>> ClientSteps(FrameConnection& conn, const ClusterKey& key,
                                           const std::string& address) {
  CO_ASSIGN_OR_RETURN(std::string nc, Nonce());
  proto::AuthHelloRequest hello;
  hello.set_version(kAuthVersion);
  hello.set_key_id(key.id);
  hello.set_client_nonce(nc);
  OutFrame out;
  out.header.method = kHello;
  out.header.request_id = 1;
  hello.SerializeToString(&out.message);
  CO_RETURN_IF_ERROR(co_await conn.WriteFrameNow(std::move(out)));
  auto a1 = co_await ReadAnswer(conn, address, kHello);
  if (!a1.ok()) co_return a1.status();
  proto::AuthHelloResponse hr;
  if (!hr.ParseFromString(a1->message) || hr.server_nonce().size() != kNonceBytes) {
    co_return Status::Protocol("malformed AUTH_HELLO answer from " + address);
  }
  const std::string& ns = hr.server_nonce();

  proto::AuthProveRequest prove;
  prove.set_client_proof(Derive(key.secret, kClientProof, key.id, nc, ns));
  OutFrame out2;
  out2.header.method = kProve;
  out2.header.request_id = 2;
  prove.SerializeToString(&out2.message);
  CO_RETURN_IF_ERROR(co_await conn.WriteFrameNow(std::move(out2)));
  auto a2 = co_await ReadAnswer(conn, address, kProve);
  if (!a2.ok()) co_return a2.status();
  proto::AuthProveResponse pr;
  if (!pr.ParseFromString(a2->message)) {
    co_return Status::Protocol("malformed AUTH_PROVE answer from " + address);
  }
  // Mutual: a server that does not hold the key cannot make this proof.
  if (!SameBytes(pr.server_proof(), Derive(key.secret, kServerProof, key.id, nc, ns))) {
    co_return Refused(fmt::format(
        "wrong cluster key: server {} could not prove it holds key '{}'", address, key.id));
  }
  auto role = ParseKeyRole(pr.role());
  if (!role.ok()) co_return Status::Protocol("server " + address + ": " + role.status().message());
  AuthSession s;
  s.key_id = key.id;
  s.role = *role;
  s.keys.send = Derive(key.secret, kClientToServer, key.id, nc, ns);
  s.keys.recv = Derive(key.secret, kServerToClient, key.id, nc, ns);
  co_return s;
}

}  // namespace

Awaitable<Result<AuthSession>> ServerHandshake(FrameConnection& conn, const KeyRing& keys,
                                               Millis timeout) {
  Deadline deadline(conn, timeout);
  auto r = co_await ServerSteps(conn, keys);
  if (!r.ok() && deadline.fired()) {
    co_return Status::Timeout(fmt::format("no handshake within {} ms", timeout.count()));
  }
  co_return r;
}

Awaitable<Result<AuthSession>> ClientHandshake(FrameConnection& conn, const ClusterKey& key,
                                               const std::string& address, Millis timeout) {
  Deadline deadline(conn, timeout);
  auto r = co_await ClientSteps(conn, key, address);
  if (!r.ok() && deadline.fired()) {
    co_return Status::Timeout(fmt::format("handshake with {} timed out after {} ms", address,
                                          timeout.count()));
  }
  if (!r.ok() && r.status().code() == proto::UNAVAILABLE) {
    // A server that closes during the handshake without an answer.
    co_return r.status().WithContext("handshake with " + address);
  }
  co_return r;
}

Status NoClusterKeyStatus() {
  return Refused(
      "this server has no cluster key configured: connect without a key file "
      "(or configure cluster_key_file on the server)");
}

}  // namespace granary::net
