#pragma once
// RawExchange: speaks to a Granary daemon without the RPC layer, for tests of
// what a daemon does with bytes that are not well-formed frames.

#include <asio.hpp>
#include <string>

#include "common/net/rpc_client.h"

namespace granary::testutil {

// Connects to "host:port", writes `bytes`, half-closes, and returns whatever
// the peer sends until it closes the connection.
inline std::string RawExchange(const std::string& address, const std::string& bytes) {
  auto hp = net::SplitHostPort(address);
  if (!hp.ok()) return {};
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address(hp->first), hp->second});
  asio::write(s, asio::buffer(bytes));
  s.shutdown(asio::ip::tcp::socket::shutdown_send);
  std::string got;
  char buf[4096];
  asio::error_code ec;
  while (true) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  return got;
}

}  // namespace granary::testutil
