#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

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
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  return Status::Ok();
}

}  // namespace granary
