#pragma once
// Reading an ONNX model file (untrusted input) into an OnnxGraph: protobuf parsed with size
// limits, initializers decoded from raw_data or the typed fields (f32, f64) with their size
// checked against their shape,
// external data files confined to the model's directory. Every fault is a UsageError naming the file and what is wrong.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/onnx_graph.h"

namespace gf {

// Largest model file read (protobuf's own limit is 2 GiB).
inline constexpr std::uint64_t kMaxModelBytes = std::uint64_t{1} << 30;
// Largest initializer, in elements.
inline constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 28;

// External data files are read from the model's directory (model/external_data.h).
OnnxGraph read_onnx_file(const std::string& path);
// The same on bytes in memory; `path` only names the file in messages, and external data is read
// from `data_dir` ("" refuses it: bytes from a fuzzer or a pipe have no directory).
OnnxGraph parse_onnx(std::string_view bytes, const std::string& path, const std::string& data_dir = "");

}  // namespace gf
