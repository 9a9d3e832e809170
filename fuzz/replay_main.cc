// Replays fuzz inputs without libFuzzer: every file named on the command line,
// and every file in every folder named, goes once through the target's
// LLVMFuzzerTestOneInput. Built with the normal compiler and registered as a
// test, it keeps the seed corpus and every past crash reproducer passing in
// CI without clang; a crash or an abort() in the target fails the test.
//
//   fuzz_replay_<target> fuzz/corpus/<target> [more files or folders]

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

bool RunOne(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // An exact-size heap copy, as libFuzzer passes it, so a sanitizer build
  // catches a read one byte past the input.
  auto data = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), data.get());
  std::fprintf(stderr, "  %s (%zu bytes)\n", path.filename().c_str(), bytes.size());
  LLVMFuzzerTestOneInput(data.get(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
  }
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    fs::path arg(argv[i]);
    std::vector<fs::path> files;
    if (fs::is_directory(arg, ec)) {
      for (const auto& e : fs::directory_iterator(arg, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());  // a stable order to read logs by
    } else {
      files.push_back(arg);
    }
    for (const auto& f : files) {
      if (!RunOne(f)) return 1;
      ++count;
    }
  }
  // An empty run would pass without testing anything: a wrong path, say.
  if (count == 0) {
    std::fprintf(stderr, "no inputs found\n");
    return 1;
  }
  std::printf("replayed %zu inputs without a crash\n", count);
  return 0;
}
