// load_and_compare META CLUSTER_PATH LOCAL_FILE: loads a safetensors
// checkpoint from the cluster into host memory through the installed
// libgranary.so and compares every tensor with the local copy of the file.
#include <granary/client.h>
#include <granary/loader.h>
#include <granary/safetensors.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: load_and_compare META CLUSTER_PATH LOCAL_FILE\n");
    return 2;
  }
  std::ifstream in(argv[3], std::ios::binary);
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), {});
  auto header = granary::ParseSafetensorsHeader(file, file.size());
  if (!header.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[3], header.status().ToString().c_str());
    return 1;
  }
  auto client = granary::Client::Connect({.meta_address = argv[1]});
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto loaded = granary::LoadCheckpoint(**client, argv[2], granary::LoadOptions{});
  if (!loaded.ok()) {
    std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  if (loaded->tensors().size() != header->tensors.size()) {
    std::fprintf(stderr, "%zu tensors loaded, the file has %zu\n", loaded->tensors().size(),
                 header->tensors.size());
    return 1;
  }
  for (size_t i = 0; i < header->tensors.size(); ++i) {
    const granary::LoadedTensor& t = loaded->tensors()[i];
    const granary::TensorInfo& h = header->tensors[i];
    if (t.name != h.name || t.bytes != h.end - h.begin ||
        std::memcmp(t.data, file.data() + h.begin, t.bytes) != 0) {
      std::fprintf(stderr, "tensor %s differs from the file\n", h.name.c_str());
      return 1;
    }
  }
  std::printf("%zu tensors match\n", header->tensors.size());
  return 0;
}
