#include "tools/table.h"

#include <fmt/format.h>

#include <algorithm>

#include "tools/cli_util.h"

namespace granary::tools {

Table::Table(std::vector<std::string> header, std::vector<bool> right_aligned)
    : right_(std::move(right_aligned)) {
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

std::string Table::Render() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      bool right = i < right_.size() && right_[i];
      size_t pad = width[i] - row[i].size();
      if (right) line.append(pad, ' ');
      line += row[i];
      if (!right && i + 1 < row.size()) line.append(pad, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string RenderNodeTable(const std::vector<NodeStatus>& nodes) {
  Table t({"NODE", "ADDRESS", "DOMAIN", "STATE", "CAPACITY", "USED", "FREE", "CHUNKS"},
          {false, false, false, false, true, true, true, true});
  uint64_t capacity = 0, used = 0, free = 0, chunks = 0;
  size_t up = 0;
  for (const NodeStatus& n : nodes) {
    const std::string state = std::string(n.up ? "up" : "down") + (n.draining ? ", draining" : "");
    t.AddRow({n.node_id, n.address, n.failure_domain, state,
              FormatBytes(n.capacity_bytes), FormatBytes(n.used_bytes), FormatBytes(n.free_bytes),
              std::to_string(n.chunk_count)});
    capacity += n.capacity_bytes;
    used += n.used_bytes;
    free += n.free_bytes;
    chunks += n.chunk_count;
    up += n.up;
  }
  t.AddRow({"total", "", "", fmt::format("{}/{} up", up, nodes.size()), FormatBytes(capacity),
            FormatBytes(used), FormatBytes(free), std::to_string(chunks)});
  return t.Render();
}

}  // namespace granary::tools
