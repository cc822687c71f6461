#pragma once
// An ONNX graph as plain data: what onnx_read takes out of the protobuf (and checks), and what
// onnx_map turns into gradflow's layer ops. Nothing here depends on protobuf, so the mapping is
// tested on hand-made graphs and the protobuf headers stay in one file.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gf {

// A tensor's dims and its values in double (from f32 or f64 storage).
struct OnnxTensor {
  std::vector<std::int64_t> dims;
  std::vector<double> values;  // dims' product of them, row-major
};

struct OnnxAttribute {
  std::optional<double> f;
  std::optional<std::int64_t> i;
  std::vector<std::int64_t> ints;
  std::string s;
  std::optional<OnnxTensor> t;  // Constant's value (only f32, f64 and int64 tensors are read)
};

struct OnnxNode {
  std::string name, op_type;
  std::vector<std::string> inputs, outputs;  // "" for an omitted optional input
  std::map<std::string, OnnxAttribute> attributes;
};

struct OnnxValue {
  std::string name;
  std::vector<std::int64_t> dims;  // -1 where symbolic or unknown
};

struct OnnxGraph {
  std::vector<OnnxValue> inputs;  // the graph's inputs that are not initializers
  std::vector<std::string> outputs;
  std::vector<OnnxNode> nodes;
  std::map<std::string, OnnxTensor> initializers;
  std::vector<std::string> external_files;  // the external data files read, each once, in first-read order
  // FNV-1a 64 of the bytes parsed (read_onnx_file's: the very bytes the graph came from, so a
  // model's recorded hash can never be of a file that changed after it was read).
  std::uint64_t bytes_fnv1a64 = 0;
  // The same over the model's bytes and then each external data file's, whole, in first-read
  // order: the model's content (--model's recorded model-fnv1a64), of the very bytes its weights
  // were cut from (model/external_data.h). Equal to bytes_fnv1a64 without external data.
  std::uint64_t content_fnv1a64 = 0;
};

}  // namespace gf
