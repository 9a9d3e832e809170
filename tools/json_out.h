#pragma once
// Machine-readable output for `--json`: one JSON document on stdout per
// command, field names in snake_case, sizes in bytes, times in unix ms.

#include <nlohmann/json.hpp>
#include <vector>

#include "granary/client.h"

namespace granary::tools {

nlohmann::json ToJson(const NodeStatus& n);
nlohmann::json ToJson(const std::vector<NodeStatus>& nodes);
nlohmann::json ToJson(const FsStats& s);
nlohmann::json ToJson(const RepairStatusInfo& r);
nlohmann::json ToJson(const QuotaStatus& q);

// Prints `doc` indented, with a newline.
void PrintJson(const nlohmann::json& doc);

}  // namespace granary::tools
