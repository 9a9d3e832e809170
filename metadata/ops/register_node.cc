// RegisterNode: a chunk server announces (or re-announces) itself.

#include <fmt/format.h>

#include <charconv>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

Status ValidateAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (address.size() > 300 || colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument(
        fmt::format("node.address '{}' is not host:port", address.substr(0, 300)));
  }
  std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Status::InvalidArgument(
        fmt::format("node.address '{}' has no valid port (1-65535)", address));
  }
  return Status::Ok();
}

}  // namespace

Status RegisterNode(MetaState& s, const proto::RegisterNodeRequest& req,
                    proto::RegisterNodeResponse* resp) {
  const proto::NodeInfo& node = req.node();
  RETURN_IF_ERROR(ValidateNodeId(node.node_id(), "node.node_id"));
  RETURN_IF_ERROR(ValidateAddress(node.address()));
  if (node.failure_domain().size() > 255) {
    return Status::InvalidArgument("node.failure_domain exceeds 255 bytes");
  }
  RETURN_IF_ERROR(s.nodes().Register(node));
  resp->set_heartbeat_interval_ms(static_cast<uint64_t>(s.options().heartbeat_interval_ms));
  return Status::Ok();
}

}  // namespace granary::metadata
