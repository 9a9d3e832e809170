#pragma once
// Logging: spdlog with one process-wide logger, set up once in main().

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace granary {

// level: trace, debug, info, warn, error. `file` empty = stderr.
Status InitLogging(std::string_view process_name, std::string_view level,
                   std::string_view file = {});

}  // namespace granary

#define LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
