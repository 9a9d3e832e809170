#pragma once
// Starting, watching and stopping daemon processes by pid, for `granary dev`
// and the integration-test TestCluster.
//
// Processes are only ever signalled by the pid recorded when they were
// started, and only after /proc/PID/cmdline shows the expected binary, so a
// recycled pid is never killed by mistake. Nothing here matches by name.
//
// SpawnProcess is safe to call from a multi-threaded process: everything the
// child needs is prepared before fork(), and the child only makes
// async-signal-safe calls before exec.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace granary::dev {

struct SpawnOptions {
  // argv[0] must be a path to the binary (it is exec'd as is, no PATH search).
  std::vector<std::string> argv{};
  // stdout and stderr are appended to this file (created 0644). Empty: inherit.
  std::string output_file{};
  // setsid() in the child: it outlives the caller and its terminal.
  bool new_session = false;
  // The child gets SIGKILL when the calling thread exits (PR_SET_PDEATHSIG).
  // For tests, so a crashed test leaves no daemons behind.
  bool die_with_parent = false;
};

// Forks and execs. Fails (and reaps the child) when exec fails, e.g. for a
// missing binary, so the error is reported here and not in a log file.
Result<pid_t> SpawnProcess(const SpawnOptions& options);

// True while `pid` exists and is not a zombie. Reaps `pid` if it is an exited
// child of this process.
bool ProcessAlive(pid_t pid);

// True when `pid` is alive and its argv[0] is `binary`.
bool ProcessMatches(pid_t pid, std::string_view binary);

// Sends `signal` to `pid` after checking ProcessMatches (NOT_FOUND when it
// does not match, i.e. the process is gone or the pid was reused).
Status SignalProcess(pid_t pid, std::string_view binary, int signal);

// Polls (every 20 ms) until `pid` is gone. TIMEOUT when it is still alive.
Status WaitForExit(pid_t pid, std::chrono::milliseconds timeout);

// SIGTERM, wait up to `grace`, then SIGKILL and wait up to 5 s more. OK when
// the process is gone, including when it was already gone before the call.
// `killed` (optional) is set when SIGKILL was needed.
Status StopProcess(pid_t pid, std::string_view binary, std::chrono::milliseconds grace,
                   bool* killed = nullptr);

// Reads a daemon's --port-file. UNAVAILABLE until the file holds one complete
// "host:port\n" line; returns "host:port".
Result<std::string> ReadPortFile(const std::string& path);

// The metrics address a daemon started with --metrics-address added to its
// port file as the line "metrics host:port". NOT_FOUND when the file has no
// such line (metrics off), UNAVAILABLE while the file is missing.
Result<std::string> ReadMetricsAddress(const std::string& port_file);

// The last `lines` lines of a text file ("" when it cannot be read).
std::string TailFile(const std::string& path, size_t lines);

// Absolute path of a daemon binary: next to the running executable
// (/proc/self/exe) first, then on $PATH. NOT_FOUND names both places.
Result<std::string> FindDaemonBinary(std::string_view name);

}  // namespace granary::dev
