#pragma once
// An initializer stored outside the model file (ONNX's external data: `location`, `offset`,
// `length` beside the tensor, written by onnx.save(..., save_as_external_data=True) for models
// past protobuf's 2 GiB). The location is untrusted: it must name a regular file inside the model's
// directory (no absolute path, no "..", no symlink leading out), and the bytes must all be there.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/fnv1a.h"

namespace gf {

struct ExternalDataRef {
  std::string location;       // relative to the model's directory
  std::string offset = "0";   // decimal, as ONNX stores it
  std::string length;         // decimal; "" = what the tensor's shape needs
};

// The external data files of one model as it is read: each file opened and read whole once, by
// its first tensor, and every tensor cut from those bytes; `hash` goes on over each file's bytes
// as they are read, so the model's hash (OnnxGraph::content_fnv1a64) is of the very bytes its
// weights came from.
struct ExternalData {
  std::string model_dir;          // "" : none can be read (bytes from a fuzzer or a pipe)
  std::uint64_t limit = 0;        // the most the tensors, and the files held, may take
  std::uint64_t tensor_bytes = 0;  // taken by the tensors so far
  std::uint64_t file_bytes = 0;    // held by the files read so far
  std::map<std::string, std::string> bytes;  // model_dir / location -> the file's bytes
  std::vector<std::string> files;            // the same paths, in first-read order
  Fnv1a64 hash;                              // started by the caller (the model's own bytes)
};

// The `bytes` bytes the tensor needs, from `data` (its file read there on first use). Throws
// UsageError naming the model, the initializer and the fault.
std::string read_external_data(const std::string& model_path, const std::string& name, const ExternalDataRef& ref,
                               std::uint64_t bytes, ExternalData& data);

}  // namespace gf
