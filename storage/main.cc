// granary-chunkd: the chunk server. Options: storage/chunkd_options.h.
#include <iostream>

#include "common/process.h"
#include "common/log.h"
#include "storage/chunkd.h"

int main(int argc, char** argv) {
  granary::InitProcess();
  int code = 0;
  auto options = granary::storage::ParseChunkdFlags(argc, argv, &code);
  if (!options) return code;
  granary::Status st = granary::InitLogging("chunkd", options->log_level, options->log_file);
  if (!st.ok()) {
    std::cerr << "granary-chunkd: " << st.message() << "\n";
    return 2;
  }
  return granary::storage::RunChunkd(*options);
}
