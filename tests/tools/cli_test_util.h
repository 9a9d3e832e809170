#pragma once
// Helpers for tests that run the `granary` binary: invoking it, and building
// and comparing local folder trees.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/testutil/subprocess.h"

namespace granary::testutil {

inline std::string GranaryBinary() { return std::string(GRANARY_BIN_DIR) + "/granary"; }

// Runs `granary ARGS...` with GRANARY_META removed from the environment.
inline CommandResult RunGranary(std::vector<std::string> args, std::string cwd = "",
                                std::string stdin_data = "") {
  Command c;
  c.argv = {GranaryBinary()};
  c.argv.insert(c.argv.end(), args.begin(), args.end());
  c.cwd = std::move(cwd);
  c.stdin_data = std::move(stdin_data);
  c.unset_env = {"GRANARY_META"};
  auto r = RunCommand(c);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CommandResult{};
}

// A fresh folder under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string templ = ::testing::TempDir() + "granary-cli-XXXXXX";
    path_ = mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteLocal(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

inline std::string RandomData(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// relative path -> contents ("<dir>" for folders), for comparing trees.
inline std::map<std::string, std::string> ReadTree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string rel = e.path().lexically_relative(root).string();
    if (e.is_directory()) {
      out[rel] = "<dir>";
    } else {
      std::ifstream in(e.path(), std::ios::binary);
      out[rel] = std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  return out;
}

}  // namespace granary::testutil
