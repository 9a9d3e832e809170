#pragma once
// Plain-text tables for terminal output: columns padded to their widest cell.

#include <string>
#include <vector>

#include "granary/client.h"

namespace granary::tools {

class Table {
 public:
  // `right_aligned[i]` right-aligns column i (numbers); missing = left.
  explicit Table(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void AddRow(std::vector<std::string> row);
  // Rows joined by '\n', with a trailing newline; columns two spaces apart.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
  std::vector<bool> right_;
};

// The node table of `cluster status` and `dev status`, with a totals line.
std::string RenderNodeTable(const std::vector<NodeStatus>& nodes);

}  // namespace granary::tools
