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

// A run holds about this many bytes per byte of an f32 model at its peak: the file's bytes,
// protobuf's copy of them, the weights in f64 twice (as read, and as mapped to layers), then the
// engine's own copy (measured: 5.8 x for a 16 MB model, 2000 x 2000 x 3, batch 4).
inline constexpr std::uint64_t kReadBytesPerByte = 6;

// External data files are read from the model's directory (model/external_data.h). A file (with
// its external data) that would need more than `max_memory` to read is refused before it is read.
OnnxGraph read_onnx_file(const std::string& path, std::uint64_t max_memory = ~std::uint64_t{0});
// The same on bytes in memory; `path` only names the file in messages, and external data is read
// from `data_dir` ("" refuses it: bytes from a fuzzer or a pipe have no directory), at most
// `external_limit` bytes of it.
OnnxGraph parse_onnx(std::string_view bytes, const std::string& path, const std::string& data_dir = "",
                     std::uint64_t external_limit = kMaxModelBytes);

}  // namespace gf
