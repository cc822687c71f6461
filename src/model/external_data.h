#pragma once
// An initializer stored outside the model file (ONNX's external data: `location`, `offset`,
// `length` beside the tensor, written by onnx.save(..., save_as_external_data=True) for models
// past protobuf's 2 GiB). The location is untrusted: it must name a regular file inside the model's
// directory (no absolute path, no "..", no symlink leading out), and the bytes must all be there.
#include <cstdint>
#include <string>

namespace gf {

struct ExternalDataRef {
  std::string location;       // relative to the model's directory
  std::string offset = "0";   // decimal, as ONNX stores it
  std::string length;         // decimal; "" = what the tensor's shape needs
};

// Reads the `bytes` bytes the tensor needs. `total` counts the bytes read for this model so far,
// refused past `limit`. Throws UsageError naming the model, the initializer and the fault.
std::string read_external_data(const std::string& model_path, const std::string& model_dir, const std::string& name,
                               const ExternalDataRef& ref, std::uint64_t bytes, std::uint64_t& total,
                               std::uint64_t limit);

}  // namespace gf
