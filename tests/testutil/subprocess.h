#pragma once
// Runs a program to completion and captures what it printed: for tests of
// the `granary` command line and of the daemons' own command lines.

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace granary::testutil {

struct Command {
  // argv[0] is the program's path (no PATH search).
  std::vector<std::string> argv;
  std::string cwd;         // empty: inherit
  std::string stdin_data;  // fed on stdin (otherwise /dev/null)
  // "NAME=value" added to (or replacing in) the inherited environment.
  std::vector<std::string> set_env;
  // Names removed from the inherited environment (e.g. GRANARY_META).
  std::vector<std::string> unset_env;
  // The program is killed (SIGKILL) after this long; then timed_out is set.
  std::chrono::milliseconds timeout{120000};
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Error only when the program could not be started at all.
Result<CommandResult> RunCommand(const Command& command);

}  // namespace granary::testutil
