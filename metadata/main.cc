// granary-metad: the Granary metadata server. Options: metad_options.h.
#include <cstdio>

#include "common/process.h"
#include "common/log.h"
#include "metadata/metad_options.h"
#include "metadata/service/metad.h"

int main(int argc, char** argv) {
  granary::InitProcess();
  granary::metadata::MetadArgs args = granary::metadata::ParseMetadArgs(argc, argv);
  if (!args.options) {
    std::fprintf(args.exit_code == 0 ? stdout : stderr, "%s\n", args.message.c_str());
    return args.exit_code;
  }
  const granary::metadata::MetadOptions& o = *args.options;
  granary::Status st = granary::InitLogging("metad", o.log_level, o.log_file);
  if (!st.ok()) {
    std::fprintf(stderr, "log_level/log_file: %s\n", st.message().c_str());
    return 2;
  }
  try {
    return granary::metadata::RunMetad(o);
  } catch (const std::exception& e) {
    LOG_ERROR("fatal: {}", e.what());
    return 1;
  }
}
