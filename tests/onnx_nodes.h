#pragma once
// Hand-built ONNX graphs for the mapping tests: an initializer and a node in one call each.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/onnx_graph.h"

namespace gf::test {

inline OnnxTensor tensor(std::vector<std::int64_t> dims, std::vector<double> v) {
  return {std::move(dims), std::move(v)};
}

// A node with one output and no attributes.
inline OnnxNode node(std::string name, std::string op, std::vector<std::string> in,
                     std::string out) {
  return {std::move(name), std::move(op), std::move(in), {std::move(out)}, {}};
}

}  // namespace gf::test
