#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>

namespace granary {

Status InitLogging(std::string_view process_name, std::string_view level, std::string_view file) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                   "' (use trace, debug, info, warn, error or off)");
  }
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (file.empty()) {
      logger = spdlog::stderr_logger_mt(std::string(process_name));
    } else {
      logger = spdlog::basic_logger_mt(std::string(process_name), std::string(file));
    }
  } catch (const std::exception& e) {
    return Status::IoError(std::string("cannot open log ") + std::string(file) + ": " + e.what());
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ %n[%t] %v");
  logger->set_level(lvl);
  // Warnings and info lines reach the file at once; at debug level so does
  // every line, so someone following a request (trace=...) sees it as it
  // happens rather than when a buffer fills.
  logger->flush_on(std::min(lvl, spdlog::level::info));
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  return Status::Ok();
}

}  // namespace granary
