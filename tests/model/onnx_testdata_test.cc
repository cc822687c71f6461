// Every model in Debian's libonnx-testdata (ONNX's own backend test suite: 1,072 graphs of
// single operators, PyTorch conversions and small models) through read_onnx_file and map_onnx:
// each maps, or is refused with a UsageError that names the node or the fault; never a crash,
// another exception or a silent skip. The dense ones are single layers, which gradflow reads and
// refuses for having no hidden layer.
#include <doctest/doctest.h>
#include <filesystem>
#include <map>

#include "model/onnx_map.h"
#include "model/onnx_read.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

const std::string kTestData = "/usr/share/libonnx-testdata/data";

// "" if the model maps, else the refusal.
std::string outcome(const std::string& path) {
  return error_of([&] { map_onnx(read_onnx_file(path), path); });
}

}  // namespace

TEST_CASE("libonnx-testdata: every model maps or is refused by name") {
  REQUIRE_MESSAGE(std::filesystem::is_directory(kTestData),
                  "libonnx-testdata is missing: .ci/setup --tests installs the Debian package 'libonnx-testdata'");
  std::map<std::string, std::string> refused;
  int models = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(kTestData)) {
    if (e.path().extension() != ".onnx") continue;
    ++models;
    const std::string path = e.path().string();
    const std::string why = outcome(path);
    CAPTURE(path);
    CAPTURE(why);
    REQUIRE(!why.empty());  // none is a dense net with a hidden layer (a mapped one needs a check of its own)
    CHECK(why.rfind("--model: '" + path + "': ", 0) == 0);
    refused[e.path().parent_path().filename().string()] = why;
  }
  CHECK(models > 1000);
  MESSAGE(models << " models, each refused with its cause");

  // The dense ones reach the mapper: a single Gemm (PyTorch's Linear) is read, and has no hidden
  // layer; its form without a bias multiplies by a Transpose of the weight, which is computed.
  CHECK(refused["test_Linear"].find("the model has one linear layer only") != std::string::npos);
  CHECK(refused["test_Linear_no_bias"].find("(unnamed): input 2 is not an initializer") != std::string::npos);
  // Unsupported operators are named with the supported list.
  CHECK(refused["test_Conv2d"].find("the Conv node writing '3' (unnamed) is not supported; gradflow reads dense networks: Gemm") !=
        std::string::npos);
  // An activation with no linear layer before it, as gradflow reads networks.
  CHECK(refused["test_Tanh"].find("follows no Gemm or MatMul") != std::string::npos);
}
