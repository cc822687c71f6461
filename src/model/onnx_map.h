#pragma once
// An ONNX graph (onnx_read) as gradflow's network: a chain of dense layers from the graph's one
// input to its one output, each a Gemm or MatMul (+ Add of a bias) with the activation after it
// (none: identity); the last linear layer is the head, whose output the loss reads. Anything
// else is refused, naming the node, its op type and what is supported; never skipped.
#include <string>

#include "core/given_network.h"
#include "model/onnx_graph.h"

namespace gf {

// "Gemm, MatMul (+ Add: its bias), Relu, ...": every op type map_onnx reads.
std::string supported_onnx_ops();

// `path` names the file in messages. Throws UsageError.
GivenNetwork map_onnx(const OnnxGraph& g, const std::string& path);

}  // namespace gf
