// libFuzzer entry of the ONNX importer (--model) (tests/fuzz_targets.h); built by tests/fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::fuzz::onnx(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
